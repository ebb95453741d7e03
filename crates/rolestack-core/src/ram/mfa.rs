//! Virtual MFA devices: CreateVirtualMFADevice, DeleteVirtualMFADevice, ListVirtualMFADevices,
//! BindMFADevice, UnbindMFADevice, GetUserMFAInfo — and the code check the console runs at
//! sign-in.
//!
//! A device is a TOTP seed (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, as every
//! authenticator app expects), shown once at creation as Base32 text and as a QR code, and stored
//! only sealed with the server key. Binding proves possession with two consecutive codes. A code
//! is accepted once: the device remembers the last time step it accepted, so a code seen on the
//! wire cannot be replayed. Steps are read from the server's [`Clock`](crate::clock::Clock), so a
//! moved clock (`serve --fake-clock`) moves the codes with it.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};

use super::users::{load, user_name};
use super::{check_name, ok, NameRule};
use crate::caller::Principal;
use crate::clock::format_date;
use crate::handler::Ctx;
use crate::model::{Record, User};
use crate::params::Params;
use crate::seal::ServerKey;
use crate::store::{Kind, Relation, Tx};
use crate::{Error, Result};

/// The purpose MFA seeds are sealed under.
const SEED_PURPOSE: &str = "virtual-mfa-seed";
/// Seed length in bytes (160 bits, RFC 4226's recommendation).
const SEED_LEN: usize = 20;
pub const STEP_SECONDS: i64 = 30;
/// Devices per account (UNVERIFIED: the error table names a limit of 100 for older accounts; one
/// device per user fits the 1000-user limit).
pub const MAX_DEVICES: usize = 1000;
/// How many steps a code may be off the server's clock either way (phones drift).
const SKEW_STEPS: i64 = 1;

/// A virtual MFA device. Bound to at most one user ([`Relation::UserMfa`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VirtualMfaDevice {
    pub name: String,
    pub serial_number: String,
    /// The TOTP seed, sealed with the server key.
    pub sealed_seed: String,
    pub created: String,
    /// When it was bound (`ActivateDate`).
    #[serde(default)]
    pub activated: Option<String>,
    /// The last time step whose code was accepted: older and equal steps are refused.
    #[serde(default)]
    pub last_step: Option<i64>,
}

impl Record for VirtualMfaDevice {
    const KIND: Kind = Kind::VirtualMfaDevice;
}

pub fn serial_number(account: &str, name: &str) -> String {
    format!("acs:ram::{account}:mfa/{name}")
}

/// The device name a serial number names in `account`, if it is this account's form.
pub fn device_name<'s>(account: &str, serial: &'s str) -> Option<&'s str> {
    serial.strip_prefix(&format!("acs:ram::{account}:mfa/")).filter(|n| !n.is_empty())
}

fn totp(seed: &[u8]) -> TOTP {
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECONDS as u64, seed.to_vec())
}

/// The code of `seed` at time step `step` (what an authenticator app shows).
pub fn code_at(seed: &[u8], step: i64) -> String {
    totp(seed).generate((step.max(0) * STEP_SECONDS) as u64)
}

/// Whether a code of `step` was not spent yet (steps up to the last accepted one are spent).
fn unspent(last_step: Option<i64>, step: i64) -> bool {
    last_step < Some(step)
}

fn step_of(ctx_now: time::OffsetDateTime) -> i64 {
    ctx_now.unix_timestamp().div_euclid(STEP_SECONDS)
}

fn no_device(what: &str) -> Error {
    Error::not_exist("VirtualMFADevice", format!("The virtual mfa device does not exist: {what}."))
}

fn no_user_device(user: &str) -> Error {
    Error::not_exist("User.MFADevice", format!("The user has not bound any MFA device: {user}."))
}

fn load_device(tx: &mut dyn Tx, account: &str, name: &str) -> Result<Option<VirtualMfaDevice>> {
    tx.get_rec::<VirtualMfaDevice>(account, name)
}

fn open_seed(key: &ServerKey, d: &VirtualMfaDevice) -> Result<Vec<u8>> {
    key.open(SEED_PURPOSE, &d.sealed_seed).map_err(|e| Error::Store(format!("MFA device {}: {e}", d.name)))
}

/// The device bound to a user, if any.
pub fn device_of(tx: &mut dyn Tx, account: &str, user: &str) -> Result<Option<VirtualMfaDevice>> {
    match tx.links_from(Relation::UserMfa, account, user)?.first() {
        Some(link) => load_device(tx, account, &link.right),
        None => Ok(None),
    }
}

/// Whose MFA a call is about: the named user, or (no `UserName`) the calling RAM user itself.
fn target_user(ctx: &mut Ctx, p: &Params) -> Result<User> {
    let account = ctx.account().to_string();
    match p.optional("UserName") {
        Some(_) => load(ctx.tx, &account, user_name(p, "UserName")?),
        None => match &ctx.caller.principal {
            Principal::User { name, .. } => load(ctx.tx, &account, &name.clone()),
            Principal::Root | Principal::RoleSession { .. } => Err(Error::MissingParameter("UserName".into())),
        },
    }
}

/// A PNG of the QR code for `text` (black modules on white, a four-module quiet zone).
fn qr_png(text: &str) -> Result<Vec<u8>> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| Error::Store(format!("QR code: {e}")))?;
    let (modules, scale, quiet) = (code.width(), 4usize, 4usize);
    let colors = code.to_colors();
    let size = (modules + 2 * quiet) * scale;
    let mut pixels = vec![255u8; size * size];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (x, y) = (i % modules + quiet, i / modules + quiet);
            for dy in 0..scale {
                let row = (y * scale + dy) * size;
                pixels[row + x * scale..row + x * scale + scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, size as u32, size as u32);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| Error::Store(format!("PNG: {e}")))?;
        w.write_image_data(&pixels).map_err(|e| Error::Store(format!("PNG: {e}")))?;
    }
    Ok(out)
}

pub fn create_virtual_mfa_device(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = p.required("VirtualMFADeviceName")?;
    check_name("VirtualMFADeviceName", name, 64, NameRule::Role)?;
    let account = ctx.account().to_string();
    if ctx.tx.count(Kind::VirtualMfaDevice, &account, "")? >= MAX_DEVICES {
        return Err(Error::limit(
            "VirtualMFADevice",
            format!("The count of virtual mfa devices beyond the current limits ({MAX_DEVICES})."),
        ));
    }
    let mut seed = [0u8; SEED_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let base32 = Secret::Raw(seed.to_vec()).to_encoded().to_string();
    let device = VirtualMfaDevice {
        name: name.to_string(),
        serial_number: serial_number(&account, name),
        sealed_seed: ctx.key.seal(SEED_PURPOSE, &seed),
        created: ctx.now(),
        activated: None,
        last_step: None,
    };
    if !ctx.tx.insert_rec(&account, name, &device)? {
        return Err(Error::already_exists("VirtualMFADevice", format!("The virtual mfa device does already EXIST: {name}.")));
    }
    let uri = format!("otpauth://totp/rolestack:{name}@{account}?secret={base32}&issuer=rolestack&digits=6&period={STEP_SECONDS}");
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.encode(qr_png(&uri)?);
    Ok(json!({ "VirtualMFADevice": {
        "SerialNumber": device.serial_number, "Base32StringSeed": base32, "QRCodePNG": png,
    } }))
}

fn device_by_serial(ctx: &mut Ctx, p: &Params) -> Result<VirtualMfaDevice> {
    let serial = p.required("SerialNumber")?;
    let account = ctx.account().to_string();
    let name = device_name(&account, serial).ok_or_else(|| no_device(serial))?;
    load_device(ctx.tx, &account, name)?.ok_or_else(|| no_device(serial))
}

fn bound_user(tx: &mut dyn Tx, account: &str, device: &str) -> Result<Option<String>> {
    Ok(tx.links_to(Relation::UserMfa, account, device)?.into_iter().next().map(|l| l.left))
}

pub fn delete_virtual_mfa_device(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let device = device_by_serial(ctx, p)?;
    let account = ctx.account().to_string();
    if let Some(user) = bound_user(ctx.tx, &account, &device.name)? {
        return Err(Error::delete_conflict(
            "VirtualMFADevice.User",
            format!("The virtual mfa device CAN NOT been bound to any user while deleting it: it is bound to {user}. Unbind it first (UnbindMFADevice)."),
        ));
    }
    ctx.tx.delete(Kind::VirtualMfaDevice, &account, &device.name)?;
    ok()
}

pub fn list_virtual_mfa_devices(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let devices = ctx.tx.list_rec::<VirtualMfaDevice>(&account, "", None, MAX_DEVICES)?;
    let mut items = Vec::with_capacity(devices.len());
    for d in devices {
        let mut v = json!({ "SerialNumber": d.serial_number });
        if let Some(name) = bound_user(ctx.tx, &account, &d.name)? {
            if let Some(u) = ctx.tx.get_rec::<User>(&account, &name)? {
                v["User"] = json!({ "UserId": u.id, "UserName": u.name, "DisplayName": u.display_name });
            }
            if let Some(a) = &d.activated {
                v["ActivateDate"] = json!(a);
            }
        }
        items.push(v);
    }
    Ok(json!({ "VirtualMFADevices": { "VirtualMFADevice": items } }))
}

fn authentication_code<'p>(p: &'p Params, name: &str) -> Result<&'p str> {
    let code = p.required(name)?;
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            "InvalidParameter.AuthenticationCode.Format",
            format!("The parameter - \"AuthenticationCode\" MUST be 6 numbers ({name})."),
        ));
    }
    Ok(code)
}

/// RAM's refusal of a wrong MFA code (also what a console sign-in's wrong code is recorded as).
pub fn code_refused() -> Error {
    Error::service(403, "CheckAuthenticationCodeFail", "The parameter - \"AuthenticationCode\" is incorrect.")
}

pub fn bind_mfa_device(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let code1 = authentication_code(p, "AuthenticationCode1")?;
    let code2 = authentication_code(p, "AuthenticationCode2")?;
    let user = target_user(ctx, p)?;
    let mut device = device_by_serial(ctx, p)?;
    let account = ctx.account().to_string();
    if let Some(current) = device_of(ctx.tx, &account, &user.name)? {
        return Err(Error::already_exists(
            "User.MFADevice",
            format!("The user has already bound a MFA device: {} has {}.", user.name, current.serial_number),
        ));
    }
    if let Some(other) = bound_user(ctx.tx, &account, &device.name)? {
        return Err(Error::already_exists(
            "VirtualMFADevice.User",
            format!("The virtual mfa device does already been bound to a user ({other})."),
        ));
    }
    // Two consecutive codes: code1 at step s, code2 at step s+1, with s+1 near now.
    let seed = open_seed(ctx.key, &device)?;
    let now = step_of(ctx.clock.now());
    let matched = (now - 1 - SKEW_STEPS..=now - 1 + SKEW_STEPS)
        .find(|s| code_at(&seed, *s) == code1 && code_at(&seed, s + 1) == code2 && unspent(device.last_step, *s));
    let Some(step) = matched else { return Err(code_refused()) };
    let date = ctx.now();
    device.activated = Some(date.clone());
    device.last_step = Some(step + 1);
    ctx.tx.update_rec(&account, &device.name.clone(), &device)?;
    ctx.tx.link(Relation::UserMfa, &account, &user.name, &device.name, &date)?;
    ok()
}

pub fn unbind_mfa_device(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let user = target_user(ctx, p)?;
    let account = ctx.account().to_string();
    let mut device = device_of(ctx.tx, &account, &user.name)?.ok_or_else(|| no_user_device(&user.name))?;
    ctx.tx.unlink(Relation::UserMfa, &account, &user.name, &device.name)?;
    device.activated = None;
    ctx.tx.update_rec(&account, &device.name.clone(), &device)?;
    Ok(json!({ "MFADevice": { "SerialNumber": device.serial_number } }))
}

pub fn get_user_mfa_info(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let user = target_user(ctx, p)?;
    let account = ctx.account().to_string();
    let device = device_of(ctx.tx, &account, &user.name)?.ok_or_else(|| no_user_device(&user.name))?;
    Ok(json!({ "MFADevice": { "SerialNumber": device.serial_number, "Type": "VMFA" } }))
}

/// Checks one code of the device bound to `user` (console sign-in) and spends it: `Ok(false)` for
/// a wrong, stale or replayed code. The caller commits `tx`.
pub fn check_user_code(tx: &mut dyn Tx, key: &ServerKey, account: &str, user: &str, code: &str, now: time::OffsetDateTime) -> Result<bool> {
    let Some(mut device) = device_of(tx, account, user)? else { return Ok(false) };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let seed = open_seed(key, &device)?;
    let now = step_of(now);
    let Some(step) = (now - SKEW_STEPS..=now + SKEW_STEPS).find(|s| code_at(&seed, *s) == code && unspent(device.last_step, *s)) else {
        return Ok(false);
    };
    device.last_step = Some(step);
    tx.update_rec(account, &device.name.clone(), &device)?;
    Ok(true)
}

/// Binds a new device to `user` during console sign-in (`MFABindRequired`): the device is named
/// after the user, created when missing (and unbound), and bound once two consecutive codes of
/// `seed` check out. Returns `Ok(false)` when the codes are wrong.
pub fn bind_at_sign_in(
    tx: &mut dyn Tx,
    key: &ServerKey,
    account: &str,
    user: &str,
    seed_base32: &str,
    [code1, code2]: [&str; 2],
    now: time::OffsetDateTime,
) -> Result<bool> {
    let Ok(seed) = Secret::Encoded(seed_base32.to_string()).to_bytes() else { return Ok(false) };
    let step = step_of(now);
    let Some(s) = (step - 1 - SKEW_STEPS..=step - 1 + SKEW_STEPS).find(|s| code_at(&seed, *s) == code1 && code_at(&seed, s + 1) == code2)
    else {
        return Ok(false);
    };
    if device_of(tx, account, user)?.is_some() {
        return Ok(true);
    }
    let date = format_date(now);
    let mut name = user.to_string();
    let mut n = 1;
    while load_device(tx, account, &name)?.is_some() {
        n += 1;
        name = format!("{user}-{n}");
    }
    let device = VirtualMfaDevice {
        serial_number: serial_number(account, &name),
        name: name.clone(),
        sealed_seed: key.seal(SEED_PURPOSE, &seed),
        created: date.clone(),
        activated: Some(date.clone()),
        last_step: Some(s + 1),
    };
    tx.insert_rec(account, &name, &device)?;
    tx.link(Relation::UserMfa, account, user, &name, &date)?;
    Ok(true)
}

/// A fresh Base32 seed for a device that console sign-in will bind ([`bind_at_sign_in`]).
pub fn new_seed_base32() -> String {
    let mut seed = [0u8; SEED_LEN];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    Secret::Raw(seed.to_vec()).to_encoded().to_string()
}

/// The `otpauth://` URI and its QR code (base64 PNG) for a seed, as authenticator apps scan it.
pub fn provisioning(label: &str, seed_base32: &str) -> Result<(String, String)> {
    use base64::Engine;
    let uri = format!("otpauth://totp/rolestack:{label}?secret={seed_base32}&issuer=rolestack&digits=6&period={STEP_SECONDS}");
    let png = base64::engine::general_purpose::STANDARD.encode(qr_png(&uri)?);
    Ok((uri, png))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits there; the low 6 digits here).
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        assert_eq!(code_at(seed, 59 / 30), "287082");
        assert_eq!(code_at(seed, 1111111109 / 30), "081804");
        assert_eq!(code_at(seed, 2000000000 / 30), "279037");
    }

    #[test]
    fn serials_name_devices_of_one_account() {
        assert_eq!(serial_number("123", "dev"), "acs:ram::123:mfa/dev");
        assert_eq!(device_name("123", "acs:ram::123:mfa/dev"), Some("dev"));
        assert_eq!(device_name("123", "acs:ram::999:mfa/dev"), None);
        assert_eq!(device_name("123", "acs:ram::123:mfa/"), None);
    }

    #[test]
    fn qr_code_is_a_png() {
        let png = qr_png("otpauth://totp/x?secret=ABC").unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
