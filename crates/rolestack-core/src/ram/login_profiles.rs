//! Console logon profiles: CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
//! DeleteLoginProfile — and the password check the web console's RAM-user sign-in runs.
//!
//! A profile lives inside its [`User`] record (so a rename keeps it). The password is stored only as
//! an argon2id hash (PHC string with its own random salt); the API never returns it. New
//! passwords follow the account's password policy (see [`password_policy`]).

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde_json::{json, Value};

use super::ok;
use super::password_policy;
use super::users::{load, user_name};
use crate::caller::Principal;
use crate::clock::format_date;
use crate::handler::Ctx;
use crate::model::{Account, LoginProfile, User};
use crate::params::Params;
use crate::service::Rolestack;
use crate::store::{Tx, GLOBAL};
use crate::{Error, Result};

/// The longest password accepted.
pub const PASSWORD_MAX: usize = 32;

/// Checks a new password against RAM's default password policy (accounts may set a stricter one:
/// [`password_policy::check_new_password`]).
pub fn check_password(password: &str) -> Result<()> {
    password_policy::check(&password_policy::PasswordPolicy::default(), password, &[])
}

/// An argon2id PHC hash of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Store(format!("hashing a password: {e}")))
}

/// Whether `password` matches a stored PHC hash (constant-time inside argon2).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

fn epoch() -> String {
    crate::ids::alnum(16)
}

fn render(user: &User, p: &LoginProfile) -> Value {
    json!({
        "UserName": user.name,
        "PasswordResetRequired": p.password_reset_required,
        "MFABindRequired": p.mfa_bind_required,
        "CreateDate": p.created,
    })
}

fn no_profile(name: &str) -> Error {
    Error::not_exist("User.LoginProfile", format!("The user login profile does not exist: {name}."))
}

pub fn create_login_profile(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = user_name(p, "UserName")?;
    let password = p.required("Password")?;
    let reset = p.bool("PasswordResetRequired")?.unwrap_or(false);
    let mfa = p.bool("MFABindRequired")?.unwrap_or(false);
    let account = ctx.account().to_string();
    password_policy::check_new_password(ctx.tx, &account, password, &[])?;
    let mut user = load(ctx.tx, &account, name)?;
    if user.login_profile.is_some() {
        return Err(Error::already_exists("User.LoginProfile", format!("The user login profile does already EXIST: {}.", user.name)));
    }
    let now = ctx.now();
    let profile = LoginProfile {
        password_hash: hash_password(password)?,
        password_reset_required: reset,
        mfa_bind_required: mfa,
        password_epoch: epoch(),
        created: now.clone(),
        updated: now.clone(),
        password_set: Some(now),
        previous_hashes: Vec::new(),
    };
    let body = json!({ "LoginProfile": render(&user, &profile) });
    user.login_profile = Some(profile);
    ctx.tx.update_rec(&account, &user.name.clone(), &user)?;
    Ok(body)
}

pub fn get_login_profile(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let user = load(ctx.tx, &account, user_name(p, "UserName")?)?;
    let profile = user.login_profile.as_ref().ok_or_else(|| no_profile(&user.name))?;
    Ok(json!({ "LoginProfile": render(&user, profile) }))
}

pub fn update_login_profile(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = user_name(p, "UserName")?;
    let password = p.optional("Password");
    let reset = p.bool("PasswordResetRequired")?;
    let mfa = p.bool("MFABindRequired")?;
    let account = ctx.account().to_string();
    let mut user = load(ctx.tx, &account, name)?;
    let now = ctx.now();
    if let (Some(pw), Some(profile)) = (password, user.login_profile.as_ref()) {
        let previous: Vec<String> = std::iter::once(profile.password_hash.clone()).chain(profile.previous_hashes.iter().cloned()).collect();
        password_policy::check_new_password(ctx.tx, &account, pw, &previous)?;
    }
    let profile = user.login_profile.as_mut().ok_or_else(|| no_profile(name))?;
    if let Some(pw) = password {
        profile.previous_hashes = password_policy::remember(&profile.password_hash, &profile.previous_hashes);
        profile.password_hash = hash_password(pw)?;
        profile.password_epoch = epoch();
        profile.password_set = Some(now.clone());
    }
    if let Some(r) = reset {
        profile.password_reset_required = r;
    }
    if let Some(m) = mfa {
        profile.mfa_bind_required = m;
    }
    profile.updated = now;
    ctx.tx.update_rec(&account, &user.name.clone(), &user)?;
    ok()
}

pub fn delete_login_profile(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let mut user = load(ctx.tx, &account, user_name(p, "UserName")?)?;
    if user.login_profile.take().is_none() {
        return Err(no_profile(&user.name));
    }
    ctx.tx.update_rec(&account, &user.name.clone(), &user)?;
    ok()
}

// --- console sign-in -------------------------------------------------------------------

/// A RAM user signed in to the console with its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub account_id: String,
    pub principal: Principal,
    /// The logon name as RAM shows it: `<UserName>@<AccountAlias or AccountId>`.
    pub logon_name: String,
    pub password_reset_required: bool,
    /// The profile's password epoch at sign-in: a later password change ends the session.
    pub password_epoch: String,
    /// What MFA the sign-in still needs before the session starts.
    pub mfa: MfaStep,
    /// How long the console session may last (the security preference's `LoginSessionDuration`).
    pub session_hours: u32,
}

/// The MFA step of a console sign-in, after the password checked out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaStep {
    /// The user has no MFA device and need not bind one.
    None,
    /// The user has a device: a current code is required.
    Code,
    /// The login profile says `MFABindRequired` and the user has no device: bind one now.
    Bind,
}

/// The one answer for every failed sign-in (unknown account, unknown user, no profile, wrong
/// password), so the form does not tell which names exist.
pub fn sign_in_refused() -> Error {
    Error::service(401, "InvalidLogonCredentials", "The logon name or password is incorrect.")
}

/// A hash to verify against when the user does not exist, so both failures take as long.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password("rolestack-no-such-user").unwrap_or_default())
}

/// Finds an account by id or alias (case-insensitive).
fn find_account(tx: &mut dyn Tx, reference: &str) -> Result<Option<Account>> {
    if let Some(a) = tx.get_rec::<Account>(GLOBAL, reference)? {
        return Ok(Some(a));
    }
    let mut after: Option<String> = None;
    loop {
        let page = tx.list_rec::<Account>(GLOBAL, "", after.as_deref(), 500)?;
        let done = page.len() < 500;
        after = page.last().map(|a| a.id.clone());
        if let Some(a) = page.into_iter().find(|a| a.alias.as_deref().is_some_and(|al| al.eq_ignore_ascii_case(reference))) {
            return Ok(Some(a));
        }
        if done {
            return Ok(None);
        }
    }
}

/// Splits `<UserName>@<AccountAlias or AccountId>[.onaliyun.com]` at its last `@`.
pub fn parse_logon_name(login: &str) -> Option<(&str, &str)> {
    let (user, account) = login.trim().rsplit_once('@')?;
    let account = account.strip_suffix(".onaliyun.com").unwrap_or(account);
    (!user.is_empty() && !account.is_empty()).then_some((user, account))
}

/// The account's failed-sign-in limit for a logon name (`MaxLoginAttemps`; `None` when the
/// account is unknown or the policy sets no limit).
pub fn login_attempt_limit(rs: &Rolestack, login: &str) -> Result<Option<u32>> {
    let Some((_, account_ref)) = parse_logon_name(login) else { return Ok(None) };
    let mut tx = rs.store.begin_read()?;
    let Some(account) = find_account(&mut *tx, account_ref)? else { return Ok(None) };
    let limit = password_policy::load(&mut *tx, &account.id)?.password_policy.max_login_attemps;
    Ok((limit > 0).then_some(limit))
}

/// Checks a RAM user's console password, then the account's rules for sign-in: the security
/// preference's `LoginNetworkMasks` (the address signing in) and the password policy's
/// `MaxPasswordAge` (`HardExpiry`: refused; otherwise the password must be changed at once).
/// Success records `LastLoginDate` on the user and says which MFA step remains.
pub fn console_sign_in(rs: &Rolestack, login: &str, password: &str, source_ip: Option<std::net::IpAddr>) -> Result<ConsoleUser> {
    crate::store::retry(|| sign_in_once(rs, login, password, source_ip))
}

/// The account and user a logon name names, if both exist.
fn find_logon(tx: &mut dyn Tx, login: &str) -> Result<Option<(Account, User)>> {
    let Some((user_name, account_ref)) = parse_logon_name(login) else { return Ok(None) };
    Ok(match find_account(tx, account_ref)? {
        Some(account) => tx.get_rec::<User>(&account.id, user_name)?.map(|u| (account, u)),
        None => None,
    })
}

/// Who a sign-in attempt under a logon name was made as — the account and the RAM user, when
/// both exist — so a refused attempt can be recorded in that account's ActionTrail.
pub fn logon_subject(rs: &Rolestack, login: &str) -> Result<Option<(String, Principal)>> {
    let mut tx = rs.store.begin_read()?;
    Ok(find_logon(&mut *tx, login)?.map(|(account, user)| (account.id, Principal::User { name: user.name, id: user.id })))
}

fn sign_in_once(rs: &Rolestack, login: &str, password: &str, source_ip: Option<std::net::IpAddr>) -> Result<ConsoleUser> {
    let mut tx = rs.store.begin()?;
    let Some((account, mut user)) = find_logon(&mut *tx, login)? else {
        verify_password(dummy_hash(), password);
        return Err(sign_in_refused());
    };
    let Some(profile) = user.login_profile.clone() else {
        verify_password(dummy_hash(), password);
        return Err(sign_in_refused());
    };
    if !verify_password(&profile.password_hash, password) {
        return Err(sign_in_refused());
    }
    let security = password_policy::load(&mut *tx, &account.id)?;
    if !password_policy::login_allowed_from(&security.security_preference.login_network_masks, source_ip) {
        return Err(Error::service(
            403,
            "LoginNetworkMasks.Denied",
            "Console sign-in from this address is not allowed by the account's security preference (LoginNetworkMasks).",
        ));
    }
    let now = rs.clock.now();
    let expired = password_policy::password_expired(&security.password_policy, &profile, now);
    if expired && security.password_policy.hard_expiry {
        return Err(Error::service(
            403,
            "PasswordExpired",
            "Your password has expired and the password policy does not let you change it yourself (HardExpiry). Ask an administrator to reset it.",
        ));
    }
    let mfa = if crate::ram::mfa::device_of(&mut *tx, &account.id, &user.name)?.is_some() {
        MfaStep::Code
    } else if profile.mfa_bind_required {
        MfaStep::Bind
    } else {
        MfaStep::None
    };
    user.last_login = Some(format_date(now));
    tx.update_rec(&account.id, &user.name.clone(), &user)?;
    tx.commit()?;
    Ok(ConsoleUser {
        logon_name: format!("{}@{}", user.name, account.alias.as_deref().unwrap_or(&account.id)),
        account_id: account.id,
        principal: Principal::User { name: user.name, id: user.id },
        password_reset_required: profile.password_reset_required || expired,
        password_epoch: profile.password_epoch,
        mfa,
        session_hours: security.security_preference.login_session_duration,
    })
}

/// The console's MFA step for a signed-in-by-password user: checks a code of the bound device
/// (`seed_to_bind` `None`) or binds a new device whose seed the page showed, with two consecutive
/// codes. `Ok(false)`: the code(s) were wrong.
pub fn console_mfa(
    rs: &Rolestack,
    account_id: &str,
    user_name: &str,
    seed_to_bind: Option<&str>,
    code1: &str,
    code2: &str,
) -> Result<bool> {
    crate::store::retry(|| {
        let mut tx = rs.store.begin()?;
        let now = rs.clock.now();
        let ok = match seed_to_bind {
            None => crate::ram::mfa::check_user_code(&mut *tx, &rs.key, account_id, user_name, code1.trim(), now)?,
            Some(seed) => {
                crate::ram::mfa::bind_at_sign_in(&mut *tx, &rs.key, account_id, user_name, seed, [code1.trim(), code2.trim()], now)?
            }
        };
        if ok {
            tx.commit()?;
        }
        Ok(ok)
    })
}

/// Whether a RAM user's console session may go on: the user still exists (by id, so a user
/// deleted and created again under the same name does not inherit sessions) with a login profile
/// whose password has not changed since `epoch`. The user is looked up by the name the session
/// signed in with, so a rename ends the session too. Returns the user's name.
pub fn console_session_valid(rs: &Rolestack, account_id: &str, user_id: &str, user_name: &str, epoch: &str) -> Result<Option<String>> {
    let mut tx = rs.store.begin_read()?;
    let user = tx.get_rec::<User>(account_id, user_name)?;
    Ok(user.filter(|u| u.id == user_id).filter(|u| u.login_profile.as_ref().is_some_and(|p| p.password_epoch == epoch)).map(|u| u.name))
}

/// The password epoch of the user `user_id` while its console password is `password`, else `None`.
/// After a console session's user changed its password with ChangePassword, the session carries on
/// under the new epoch — unless someone changed the password again in between (then it ends).
pub fn epoch_of_password(rs: &Rolestack, account_id: &str, user_id: &str, user_name: &str, password: &str) -> Result<Option<String>> {
    let mut tx = rs.store.begin_read()?;
    let user = tx.get_rec::<User>(account_id, user_name)?.filter(|u| u.id == user_id);
    Ok(user.and_then(|u| u.login_profile).filter(|p| verify_password(&p.password_hash, password)).map(|p| p.password_epoch))
}

/// Changes the signed-in user's own password as the forced step of a sign-in (`PasswordResetRequired`
/// or an expired password): checks the old one, applies the password policy, clears the flag.
/// Returns the new password epoch, or `None` — changing nothing — when `user_name` is no longer
/// the user `user_id` at the password epoch `epoch` the session signed in with (the user was
/// renamed or deleted, perhaps with another user now under the name, or its password changed):
/// that session must end, as [`console_session_valid`] would end it. (A change the user chooses
/// to make is the ChangePassword action, with its authorization: the security preference's
/// AllowUserToChangePassword, an explicit Deny.)
pub fn change_own_password(
    rs: &Rolestack,
    account_id: &str,
    user_id: &str,
    user_name: &str,
    epoch: &str,
    old: &str,
    new: &str,
) -> Result<Option<String>> {
    crate::store::retry(|| {
        let mut tx = rs.store.begin()?;
        // Checked in the transaction that changes the password, so no rename can slip in between.
        let same_user = tx
            .get_rec::<User>(account_id, user_name)?
            .is_some_and(|u| u.id == user_id && u.login_profile.as_ref().is_some_and(|p| p.password_epoch == epoch));
        if !same_user {
            return Ok(None);
        }
        let epoch =
            password_policy::change_user_password(&mut *tx, account_id, user_name, old, new, rs.clock.now()).map_err(|e| match e {
                Error::EntityNotExist { .. } => sign_in_refused(),
                other => other,
            })?;
        tx.commit()?;
        Ok(Some(epoch))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash_password("Passw0rd!x").unwrap();
        let b = hash_password("Passw0rd!x").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(verify_password(&a, "Passw0rd!x"));
        assert!(!verify_password(&a, "Passw0rd!y"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn password_policy() {
        assert_eq!(check_password("short").unwrap_err().code(), "InvalidParameter.Password.TooWeak");
        assert_eq!(check_password(&"x".repeat(33)).unwrap_err().code(), "InvalidParameter.Password.Length");
        assert_eq!(check_password("abc\ndefgh").unwrap_err().code(), "InvalidParameter.Password.InvalidChars");
        assert!(check_password("eight ch").is_ok());
    }

    #[test]
    fn logon_names() {
        assert_eq!(parse_logon_name("alice@1234"), Some(("alice", "1234")));
        assert_eq!(parse_logon_name("alice@corp.onaliyun.com"), Some(("alice", "corp")));
        assert_eq!(parse_logon_name("a@b@corp"), Some(("a@b", "corp")));
        assert_eq!(parse_logon_name("alice"), None);
        assert_eq!(parse_logon_name("@corp"), None);
    }
}
