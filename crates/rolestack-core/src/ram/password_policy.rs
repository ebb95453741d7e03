//! An account's password policy and security preference: GetPasswordPolicy, SetPasswordPolicy,
//! GetSecurityPreference, SetSecurityPreference — and ChangePassword, by which a RAM user changes
//! its own console password.
//!
//! Both settings live in one [`AccountSecurity`] record per account; an account that never set
//! them has RAM's defaults. Where RAM enforces them, rolestack does:
//! - the password policy on every new console password: CreateLoginProfile, UpdateLoginProfile,
//!   ChangePassword and the console's own change-password form (length, character classes,
//!   reuse of the last N passwords), and at console sign-in (`MaxPasswordAge`, `HardExpiry`,
//!   `MaxLoginAttemps` per hour);
//! - the security preference at console sign-in (`LoginNetworkMasks`, `LoginSessionDuration`)
//!   and as self-service grants (see [`self_service_policy`]): a RAM user may change its own
//!   password, manage its own MFA device and, when allowed, its own AccessKeys without a policy
//!   that allows it. An explicit `Deny` still wins.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::login_profiles::{hash_password, verify_password, PASSWORD_MAX};
use super::ok;
use crate::caller::Principal;
use crate::clock::format_date;
use crate::handler::Ctx;
use crate::model::{Record, User};
use crate::params::Params;
use crate::store::{Kind, Tx};
use crate::{Error, Result};

/// The name of the one [`AccountSecurity`] record in an account's scope.
const RECORD: &str = "security";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub minimum_password_length: u32,
    pub require_lowercase_characters: bool,
    pub require_uppercase_characters: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// Days a password stays valid; 0: forever.
    pub max_password_age: u32,
    /// With `max_password_age`: an expired password can no longer sign in at all (an
    /// administrator must reset it) instead of being changed at sign-in.
    pub hard_expiry: bool,
    /// How many earlier passwords may not be used again; 0: no check.
    pub password_reuse_prevention: u32,
    /// Failed console sign-ins per hour before the logon name is locked; 0: no limit.
    pub max_login_attemps: u32,
}

impl Default for PasswordPolicy {
    /// RAM's default policy (SetPasswordPolicy page; `MaxLoginAttemps` 5 is UNVERIFIED).
    fn default() -> Self {
        PasswordPolicy {
            minimum_password_length: 8,
            require_lowercase_characters: false,
            require_uppercase_characters: false,
            require_numbers: false,
            require_symbols: false,
            max_password_age: 0,
            hard_expiry: false,
            password_reuse_prevention: 0,
            max_login_attemps: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityPreference {
    pub allow_user_to_change_password: bool,
    pub allow_user_to_manage_access_keys: bool,
    pub allow_user_to_manage_mfa_devices: bool,
    pub allow_user_to_manage_public_keys: bool,
    pub enable_save_mfa_ticket: bool,
    /// `;`-separated CIDR blocks console password sign-in is allowed from; empty: anywhere.
    pub login_network_masks: String,
    /// Hours a RAM user's console session lasts.
    pub login_session_duration: u32,
}

impl Default for SecurityPreference {
    /// RAM's defaults (SetSecurityPreference parameter descriptions).
    fn default() -> Self {
        SecurityPreference {
            allow_user_to_change_password: true,
            allow_user_to_manage_access_keys: false,
            allow_user_to_manage_mfa_devices: true,
            allow_user_to_manage_public_keys: false,
            enable_save_mfa_ticket: false,
            login_network_masks: String::new(),
            login_session_duration: 6,
        }
    }
}

/// One account's password policy and security preference.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AccountSecurity {
    pub password_policy: PasswordPolicy,
    pub security_preference: SecurityPreference,
}

impl Record for AccountSecurity {
    const KIND: Kind = Kind::AccountSecurity;
}

/// The account's settings (RAM's defaults when never set).
pub fn load(tx: &mut dyn Tx, account: &str) -> Result<AccountSecurity> {
    Ok(tx.get_rec::<AccountSecurity>(account, RECORD)?.unwrap_or_default())
}

fn save(tx: &mut dyn Tx, account: &str, s: &AccountSecurity) -> Result<()> {
    if !tx.update_rec(account, RECORD, s)? {
        tx.insert_rec(account, RECORD, s)?;
    }
    Ok(())
}

fn too_weak(why: impl std::fmt::Display) -> Error {
    Error::invalid(
        "InvalidParameter.Password.TooWeak",
        format!("The parameter - \"Password\" is not compliant with the password policy: {why}."),
    )
}

/// Checks a new password against `policy` (and, when `previous` hashes are given, against reuse).
pub fn check(policy: &PasswordPolicy, password: &str, previous: &[String]) -> Result<()> {
    let n = password.chars().count();
    if n > PASSWORD_MAX {
        return Err(Error::invalid(
            "InvalidParameter.Password.Length",
            format!("The parameter - \"Password\" beyond the length limit ({PASSWORD_MAX} characters)."),
        ));
    }
    if password.chars().any(char::is_control) {
        return Err(Error::invalid(
            "InvalidParameter.Password.InvalidChars",
            "The parameter - \"Password\" contains invalid chars: control characters are not allowed.",
        ));
    }
    let min = policy.minimum_password_length as usize;
    if n < min {
        return Err(too_weak(format_args!("it must have at least {min} characters, it has {n}")));
    }
    let classes = [
        (policy.require_lowercase_characters, "a lower-case letter", password.chars().any(|c| c.is_ascii_lowercase())),
        (policy.require_uppercase_characters, "an upper-case letter", password.chars().any(|c| c.is_ascii_uppercase())),
        (policy.require_numbers, "a digit", password.chars().any(|c| c.is_ascii_digit())),
        (policy.require_symbols, "a symbol", password.chars().any(|c| !c.is_ascii_alphanumeric())),
    ];
    if let Some((_, what, _)) = classes.iter().find(|(required, _, has)| *required && !has) {
        return Err(too_weak(format_args!("it must contain {what}")));
    }
    let reuse = policy.password_reuse_prevention as usize;
    if previous.iter().take(reuse).any(|h| verify_password(h, password)) {
        return Err(too_weak(format_args!("it must differ from the last {reuse} passwords")));
    }
    Ok(())
}

/// The account's policy check for a new password of a user whose earlier hashes are `previous`.
pub fn check_new_password(tx: &mut dyn Tx, account: &str, password: &str, previous: &[String]) -> Result<()> {
    check(&load(tx, account)?.password_policy, password, previous)
}

/// The hashes to remember after `current` is replaced (newest first, as many as any policy keeps).
pub fn remember(current: &str, previous: &[String]) -> Vec<String> {
    std::iter::once(current.to_string()).chain(previous.iter().cloned()).take(24).collect()
}

fn render_policy(p: &PasswordPolicy) -> Value {
    json!({ "PasswordPolicy": {
        "MinimumPasswordLength": p.minimum_password_length,
        "RequireLowercaseCharacters": p.require_lowercase_characters,
        "RequireUppercaseCharacters": p.require_uppercase_characters,
        "RequireNumbers": p.require_numbers,
        "RequireSymbols": p.require_symbols,
        "HardExpiry": p.hard_expiry,
        "MaxPasswordAge": p.max_password_age,
        "PasswordReusePrevention": p.password_reuse_prevention,
        "MaxLoginAttemps": p.max_login_attemps,
    } })
}

fn render_preference(s: &SecurityPreference) -> Value {
    json!({ "SecurityPreference": {
        "LoginProfilePreference": {
            "AllowUserToChangePassword": s.allow_user_to_change_password,
            "EnableSaveMFATicket": s.enable_save_mfa_ticket,
            "LoginNetworkMasks": s.login_network_masks,
            "LoginSessionDuration": s.login_session_duration,
        },
        "AccessKeyPreference": { "AllowUserToManageAccessKeys": s.allow_user_to_manage_access_keys },
        "MFAPreference": { "AllowUserToManageMFADevices": s.allow_user_to_manage_mfa_devices },
        "PublicKeyPreference": { "AllowUserToManagePublicKeys": s.allow_user_to_manage_public_keys },
    } })
}

pub fn get_password_policy(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    Ok(render_policy(&load(ctx.tx, &account)?.password_policy))
}

pub fn set_password_policy(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let mut s = load(ctx.tx, &account)?;
    let pp = &mut s.password_policy;
    if let Some(v) = p.optional("MinimumPasswordLength") {
        match v.parse::<u32>() {
            Ok(n) if (8..=32).contains(&n) => pp.minimum_password_length = n,
            _ => {
                return Err(Error::invalid(
                    "InvalidParameter.MinimumPasswordLength.Range",
                    format!("The parameter - \"MinimumPasswordLength\" MUST be in the range of 8 and 32, got \"{v}\"."),
                ))
            }
        }
    }
    for (name, field) in [
        ("RequireLowercaseCharacters", &mut pp.require_lowercase_characters),
        ("RequireUppercaseCharacters", &mut pp.require_uppercase_characters),
        ("RequireNumbers", &mut pp.require_numbers),
        ("RequireSymbols", &mut pp.require_symbols),
        ("HardExpiry", &mut pp.hard_expiry),
    ] {
        if let Some(b) = p.bool(name)? {
            *field = b;
        }
    }
    for (name, max, field) in [
        ("MaxPasswordAge", 1095, &mut pp.max_password_age),
        ("PasswordReusePrevention", 24, &mut pp.password_reuse_prevention),
        ("MaxLoginAttemps", 32, &mut pp.max_login_attemps),
    ] {
        if let Some(n) = p.int(name, 0, max)? {
            *field = n as u32;
        }
    }
    save(ctx.tx, &account, &s)?;
    Ok(render_policy(&s.password_policy))
}

pub fn get_security_preference(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    Ok(render_preference(&load(ctx.tx, &account)?.security_preference))
}

/// `LoginNetworkMasks`: up to 40 `;`-separated CIDR blocks (or addresses), 512 characters at most.
fn network_masks(v: &str) -> Result<String> {
    let bad = |why: String| {
        Error::invalid("InvalidParameter.LoginNetworkMasks", format!("The parameter \"LoginNetworkMasks\" is not valid: {why}."))
    };
    if v.len() > 512 {
        return Err(bad("it is longer than 512 characters".into()));
    }
    let masks: Vec<&str> = v.split(';').map(str::trim).filter(|m| !m.is_empty()).collect();
    if masks.len() > 40 {
        return Err(bad("it names more than 40 networks".into()));
    }
    for m in &masks {
        if parse_network(m).is_none() {
            return Err(bad(format!("\"{m}\" is not an IP address or CIDR block such as 192.168.0.0/16")));
        }
    }
    Ok(masks.join(";"))
}

/// One network of `LoginNetworkMasks`: `a.b.c.d/n` or a single address.
fn parse_network(m: &str) -> Option<(std::net::IpAddr, u8)> {
    let (addr, len) = match m.split_once('/') {
        Some((a, l)) => (a.parse::<std::net::IpAddr>().ok()?, l.parse::<u8>().ok()?),
        None => {
            let a = m.parse::<std::net::IpAddr>().ok()?;
            (a, if a.is_ipv4() { 32 } else { 128 })
        }
    };
    (len <= if addr.is_ipv4() { 32 } else { 128 }).then_some((addr, len))
}

/// Whether `ip` may sign in to the console under `masks` (empty: from anywhere).
pub fn login_allowed_from(masks: &str, ip: Option<std::net::IpAddr>) -> bool {
    let nets: Vec<(std::net::IpAddr, u8)> = masks.split(';').filter_map(|m| parse_network(m.trim())).collect();
    if nets.is_empty() {
        return true;
    }
    let Some(ip) = ip.map(|ip| match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    }) else {
        return false;
    };
    nets.iter().any(|(net, len)| match (net, ip) {
        (std::net::IpAddr::V4(n), std::net::IpAddr::V4(a)) => {
            let mask = if *len == 0 { 0 } else { u32::MAX << (32 - u32::from(*len)) };
            u32::from(*n) & mask == u32::from(a) & mask
        }
        (std::net::IpAddr::V6(n), std::net::IpAddr::V6(a)) => {
            let mask = if *len == 0 { 0 } else { u128::MAX << (128 - u32::from(*len)) };
            u128::from(*n) & mask == u128::from(a) & mask
        }
        _ => false,
    })
}

pub fn set_security_preference(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let mut s = load(ctx.tx, &account)?;
    let sp = &mut s.security_preference;
    for (name, field) in [
        ("AllowUserToChangePassword", &mut sp.allow_user_to_change_password),
        ("AllowUserToManageAccessKeys", &mut sp.allow_user_to_manage_access_keys),
        ("AllowUserToManageMFADevices", &mut sp.allow_user_to_manage_mfa_devices),
        ("AllowUserToManagePublicKeys", &mut sp.allow_user_to_manage_public_keys),
        ("EnableSaveMFATicket", &mut sp.enable_save_mfa_ticket),
    ] {
        if let Some(b) = p.bool(name)? {
            *field = b;
        }
    }
    if let Some(v) = p.get("LoginNetworkMasks") {
        sp.login_network_masks = network_masks(v)?;
    }
    if let Some(n) = p.int("LoginSessionDuration", 1, 24)? {
        sp.login_session_duration = n as u32;
    }
    save(ctx.tx, &account, &s)?;
    Ok(render_preference(&s.security_preference))
}

/// The self-service grants of the security preference for a RAM user, as a policy document
/// evaluated with the user's own policies (so an explicit `Deny` still wins): its own password
/// (ChangePassword), its own MFA device (a virtual device named after the user, bound to it)
/// and, when the preference allows, its own AccessKeys. `None` when nothing is granted.
pub fn self_service_policy(s: &SecurityPreference, account: &str, user: &str) -> Option<String> {
    let me = format!("acs:ram:*:{account}:user/{user}");
    let mut statements = Vec::new();
    if s.allow_user_to_change_password {
        statements.push(json!({ "Effect": "Allow", "Action": "ram:ChangePassword", "Resource": me }));
    }
    if s.allow_user_to_manage_mfa_devices {
        statements.push(json!({ "Effect": "Allow",
            "Action": ["ram:BindMFADevice", "ram:UnbindMFADevice", "ram:GetUserMFAInfo"], "Resource": me }));
        statements.push(json!({ "Effect": "Allow",
            "Action": ["ram:CreateVirtualMFADevice", "ram:DeleteVirtualMFADevice"],
            "Resource": format!("acs:ram:*:{account}:mfa/{user}") }));
    }
    if s.allow_user_to_manage_access_keys {
        statements.push(json!({ "Effect": "Allow",
            "Action": ["ram:CreateAccessKey", "ram:UpdateAccessKey", "ram:DeleteAccessKey", "ram:ListAccessKeys", "ram:GetAccessKeyLastUsed"],
            "Resource": me }));
    }
    (!statements.is_empty()).then(|| json!({ "Version": "1", "Statement": statements }).to_string())
}

/// ChangePassword: the calling RAM user changes its own console password, proving the old one.
pub fn change_password(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let old = p.required("OldPassword")?;
    let new = p.required("NewPassword")?;
    let Principal::User { name, .. } = &ctx.caller.principal else {
        return Err(Error::not_exist("User", "ChangePassword changes the calling RAM user's own password; the caller is not a RAM user."));
    };
    let (account, name) = (ctx.account().to_string(), name.clone());
    let now = ctx.clock.now();
    change_user_password(ctx.tx, &account, &name, old, new, now).map(|_| ())?;
    ok()
}

/// Replaces a user's console password after checking the old one and the policy (ChangePassword
/// and the console's form). Clears `PasswordResetRequired`; returns the new password epoch.
pub fn change_user_password(
    tx: &mut dyn Tx,
    account: &str,
    user_name: &str,
    old: &str,
    new: &str,
    now: time::OffsetDateTime,
) -> Result<String> {
    let mut user = tx
        .get_rec::<User>(account, user_name)?
        .ok_or_else(|| Error::not_exist("User", format!("The user does not exist: {user_name}.")))?;
    let Some(profile) = user.login_profile.as_mut() else {
        return Err(Error::not_exist("User.LoginProfile", format!("The user login profile does not exist: {user_name}.")));
    };
    if !verify_password(&profile.password_hash, old) {
        return Err(Error::service(400, "InvalidParameter.OldPassword", "The current password is incorrect."));
    }
    if old == new {
        return Err(too_weak("the new password must differ from the current one"));
    }
    let mut previous = vec![profile.password_hash.clone()];
    previous.extend(profile.previous_hashes.iter().cloned());
    check_new_password(tx, account, new, &previous)?;
    let profile = user.login_profile.as_mut().expect("checked above");
    profile.previous_hashes = remember(&profile.password_hash, &profile.previous_hashes);
    profile.password_hash = hash_password(new)?;
    profile.password_epoch = crate::ids::alnum(16);
    profile.password_reset_required = false;
    profile.password_set = Some(format_date(now));
    profile.updated = format_date(now);
    let epoch = profile.password_epoch.clone();
    tx.update_rec(account, &user.name.clone(), &user)?;
    Ok(epoch)
}

/// Whether a profile's password is past the policy's `MaxPasswordAge` at `now`.
pub fn password_expired(policy: &PasswordPolicy, profile: &crate::model::LoginProfile, now: time::OffsetDateTime) -> bool {
    if policy.max_password_age == 0 {
        return false;
    }
    let set = profile.password_set.as_deref().unwrap_or(&profile.updated);
    crate::clock::parse_date(set).is_some_and(|t| now - t > time::Duration::days(i64::from(policy.max_password_age)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_checks() {
        let mut p = PasswordPolicy::default();
        assert!(check(&p, "abcdefgh", &[]).is_ok());
        assert_eq!(check(&p, "abc", &[]).unwrap_err().code(), "InvalidParameter.Password.TooWeak");
        p.require_uppercase_characters = true;
        p.require_numbers = true;
        p.require_symbols = true;
        assert_eq!(check(&p, "abcdefgh", &[]).unwrap_err().code(), "InvalidParameter.Password.TooWeak");
        assert!(check(&p, "Abcdefg1!", &[]).is_ok());
        p.password_reuse_prevention = 1;
        let old = hash_password("Abcdefg1!").unwrap();
        assert_eq!(check(&p, "Abcdefg1!", &[old]).unwrap_err().code(), "InvalidParameter.Password.TooWeak");
    }

    #[test]
    fn network_masks_parse_and_match() {
        assert_eq!(network_masks("10.0.0.0/8; 192.168.1.1").unwrap(), "10.0.0.0/8;192.168.1.1");
        assert!(network_masks("10.0.0.0/33").is_err());
        assert!(network_masks("nope").is_err());
        assert!(login_allowed_from("", None));
        assert!(login_allowed_from("10.0.0.0/8", Some("10.1.2.3".parse().unwrap())));
        assert!(login_allowed_from("10.0.0.0/8", Some("::ffff:10.1.2.3".parse().unwrap())));
        assert!(!login_allowed_from("10.0.0.0/8", Some("127.0.0.1".parse().unwrap())));
        assert!(!login_allowed_from("10.0.0.0/8", None));
    }

    #[test]
    fn self_service_grants_follow_the_preference() {
        let mut s = SecurityPreference::default();
        let doc = self_service_policy(&s, "1", "alice").unwrap();
        assert!(doc.contains("ram:ChangePassword") && doc.contains("mfa/alice") && !doc.contains("ram:CreateAccessKey"));
        assert!(rolestack_policy::Policy::parse(&doc).is_ok());
        s.allow_user_to_change_password = false;
        s.allow_user_to_manage_mfa_devices = false;
        assert_eq!(self_service_policy(&s, "1", "alice"), None);
    }
}
