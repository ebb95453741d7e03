//! RAM users and their AccessKeys. A key that is set Inactive or deleted stops working at once,
//! because every request looks its key up in the store (see the RPC gateway).

use serde_json::{json, Value};

use super::policies::has_attachments;
use super::{check_length, check_name, insert_within_quota, ok, page, paged, NameRule, USER_QUOTA};
use crate::caller::Principal;
use crate::handler::Ctx;
use crate::ids;
use crate::model::{AccessKey, KeyOwner, KeyStatus, User};
use crate::params::Params;
use crate::store::{Kind, Relation, Tx, GLOBAL};
use crate::{Error, Result};

/// RAM allows two AccessKeys per user.
pub const MAX_KEYS_PER_USER: usize = 2;

/// The purpose string AccessKey secrets are sealed under.
pub const SECRET_PURPOSE: &str = "access-key-secret";

pub(crate) fn user_name<'p>(p: &'p Params, param: &str) -> Result<&'p str> {
    let name = p.required(param)?;
    check_name(param, name, 64, NameRule::User)?;
    Ok(name)
}

pub fn load(tx: &mut dyn Tx, account: &str, name: &str) -> Result<User> {
    tx.get_rec::<User>(account, name)?.ok_or_else(|| Error::not_exist("User", format!("The user does not exist: {name}.")))
}

fn render(u: &User, full: bool) -> Value {
    let mut v = json!({
        "UserId": u.id,
        "UserName": u.name,
        "DisplayName": u.display_name,
        "MobilePhone": u.mobile_phone,
        "Email": u.email,
        "Comments": u.comments,
        "CreateDate": u.created,
        "UpdateDate": u.updated,
    });
    if full {
        if let Some(l) = &u.last_login {
            v["LastLoginDate"] = json!(l);
        }
    }
    v
}

fn check_profile(p: &Params, prefix: &str) -> Result<()> {
    check_length(&format!("{prefix}DisplayName"), p.optional(&format!("{prefix}DisplayName")), 128)?;
    check_length(&format!("{prefix}Comments"), p.optional(&format!("{prefix}Comments")), 128)?;
    let email = format!("{prefix}Email");
    check_length(&email, p.optional(&email), 128)?;
    check_format(&email, p.optional(&email), is_email)?;
    let phone = format!("{prefix}MobilePhone");
    check_length(&phone, p.optional(&phone), 32)?;
    check_format(&phone, p.optional(&phone), is_mobile_phone)
}

fn check_format(param: &str, value: Option<&str>, valid: fn(&str) -> bool) -> Result<()> {
    match value {
        Some(v) if !valid(v) => Err(Error::invalid(
            format!("InvalidParameter.{param}.Format"),
            format!("The format of the parameter - \"{param}\" is incorrect: {v:?}."),
        )),
        _ => Ok(()),
    }
}

/// `<country code>-<number>`, digits only, such as `86-18600008888` (docs/ram-errors.md).
fn is_mobile_phone(v: &str) -> bool {
    let digits = |s: &str, max: usize| !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit());
    v.split_once('-').is_some_and(|(country, number)| digits(country, 4) && digits(number, 20))
}

/// `local@domain.tld`: one `@`, no spaces or control characters, a dot inside the domain.
fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.split('.').count() >= 2
        && domain.split('.').all(|label| !label.is_empty())
}

pub fn create_user(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = user_name(p, "UserName")?;
    check_profile(p, "")?;
    let now = ctx.now();
    let user = User {
        id: ids::entity_id(),
        name: name.into(),
        display_name: p.optional("DisplayName").unwrap_or(name).into(),
        mobile_phone: p.optional("MobilePhone").unwrap_or_default().into(),
        email: p.optional("Email").unwrap_or_default().into(),
        comments: p.optional("Comments").unwrap_or_default().into(),
        created: now.clone(),
        updated: now,
        last_login: None,
        login_profile: None,
    };
    let account = ctx.account().to_string();
    if !insert_within_quota(ctx.tx, &account, name, &user, USER_QUOTA)? {
        return Err(Error::already_exists("User", format!("The user already exists: {name}.")));
    }
    Ok(json!({ "User": render(&user, false) }))
}

pub fn get_user(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let user = load(ctx.tx, &account, user_name(p, "UserName")?)?;
    Ok(json!({ "User": render(&user, true) }))
}

pub fn list_users(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let pg = page(p, 1000)?;
    let account = ctx.account().to_string();
    let users = ctx.tx.list_rec::<User>(&account, "", pg.after.as_deref(), pg.max + 1)?;
    let (users, mut body) = paged(users, pg.max, |u| u.name.clone());
    body.insert("Users".into(), json!({ "User": users.iter().map(|u| render(u, false)).collect::<Vec<_>>() }));
    Ok(Value::Object(body))
}

/// Moves every relation whose left side is `old` to `new` (a rename keeps attachments, groups, keys).
pub(crate) fn relink(tx: &mut dyn Tx, account: &str, rel: Relation, old: &str, new: &str) -> Result<()> {
    for link in tx.links_from(rel, account, old)? {
        tx.unlink(rel, account, old, &link.right)?;
        tx.link(rel, account, new, &link.right, &link.created)?;
    }
    Ok(())
}

/// Stores `rec` under its new name `new` in place of `old`: `false` when another entity of the
/// kind has that name. Names are compared without case (GetUser `zeta-m` finds `Zeta-m`), so a
/// rename that changes only the case replaces the record under the same key.
pub(crate) fn rename_rec<T: crate::ram::Record>(tx: &mut dyn Tx, account: &str, old: &str, new: &str, rec: &T) -> Result<bool> {
    if new.eq_ignore_ascii_case(old) {
        tx.delete(T::KIND, account, old)?;
        return tx.insert_rec(account, new, rec);
    }
    if !tx.insert_rec(account, new, rec)? {
        return Ok(false);
    }
    tx.delete(T::KIND, account, old)?;
    Ok(true)
}

pub fn update_user(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let name = user_name(p, "UserName")?;
    check_profile(p, "New")?;
    if let Some(new) = p.optional("NewUserName") {
        check_name("NewUserName", new, 64, NameRule::User)?;
    }
    let account = ctx.account().to_string();
    let mut user = load(ctx.tx, &account, name)?;
    let old = user.name.clone();
    if let Some(v) = p.get("NewDisplayName") {
        user.display_name = v.into();
    }
    if let Some(v) = p.get("NewMobilePhone") {
        user.mobile_phone = v.into();
    }
    if let Some(v) = p.get("NewEmail") {
        user.email = v.into();
    }
    if let Some(v) = p.get("NewComments") {
        user.comments = v.into();
    }
    user.updated = ctx.now();
    match p.optional("NewUserName") {
        Some(new) if new != old => {
            user.name = new.into();
            if !rename_rec(ctx.tx, &account, &old, new, &user)? {
                return Err(Error::already_exists("User", format!("The user already exists: {new}.")));
            }
            relink(ctx.tx, &account, Relation::Attachment, &format!("user/{old}"), &format!("user/{new}"))?;
            relink(ctx.tx, &account, Relation::Membership, &old, new)?;
            for link in ctx.tx.links_from(Relation::UserKey, &account, &old)? {
                if let Some(mut key) = ctx.tx.get_rec::<AccessKey>(GLOBAL, &link.right)? {
                    key.owner = KeyOwner::User(new.into());
                    ctx.tx.update_rec(GLOBAL, &key.id.clone(), &key)?;
                }
            }
            relink(ctx.tx, &account, Relation::UserKey, &old, new)?;
            relink(ctx.tx, &account, Relation::UserMfa, &old, new)?;
        }
        _ => {
            ctx.tx.update_rec(&account, &old, &user)?;
        }
    }
    Ok(json!({ "User": render(&user, false) }))
}

pub fn delete_user(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let account = ctx.account().to_string();
    let user = load(ctx.tx, &account, user_name(p, "UserName")?)?;
    if has_attachments(ctx.tx, &account, &format!("user/{}", user.name))? {
        return Err(Error::delete_conflict(
            "User.Policy",
            "The user cannot have any attached policies when you delete it. Detach them first (DetachPolicyFromUser).",
        ));
    }
    if !ctx.tx.links_from(Relation::UserKey, &account, &user.name)?.is_empty() {
        return Err(Error::delete_conflict(
            "User.AccessKey",
            "The user cannot have any AccessKey when you delete it. Delete them first (DeleteAccessKey).",
        ));
    }
    if !ctx.tx.links_from(Relation::Membership, &account, &user.name)?.is_empty() {
        return Err(Error::delete_conflict(
            "User.Group",
            "The user cannot belong to any group when you delete it. Remove it first (RemoveUserFromGroup).",
        ));
    }
    if !ctx.tx.links_from(Relation::UserMfa, &account, &user.name)?.is_empty() {
        return Err(Error::delete_conflict(
            "User.MFADevice",
            "The user CAN NOT has any mfa device while deleting the user. Unbind it first (UnbindMFADevice).",
        ));
    }
    if user.login_profile.is_some() {
        return Err(Error::delete_conflict(
            "User.LoginProfile",
            "The user cannot have a console login profile when you delete it. Delete it first (DeleteLoginProfile).",
        ));
    }
    ctx.tx.delete(Kind::User, &account, &user.name)?;
    ok()
}

/// Whose keys a key call is about: the named user, or (no `UserName`) the caller itself.
fn key_owner(ctx: &mut Ctx, p: &Params) -> Result<KeyOwner> {
    match p.optional("UserName") {
        Some(_) => {
            let account = ctx.account().to_string();
            Ok(KeyOwner::User(load(ctx.tx, &account, user_name(p, "UserName")?)?.name))
        }
        None => match &ctx.caller.principal {
            Principal::Root => Ok(KeyOwner::Root),
            Principal::User { name, .. } => Ok(KeyOwner::User(name.clone())),
            // A role session owns no AccessKeys; it must name the user.
            Principal::RoleSession { .. } => Err(Error::MissingParameter("UserName".into())),
        },
    }
}

/// Creates and stores a new AccessKey; returns it with its plaintext secret (shown once).
pub fn issue_key(tx: &mut dyn Tx, key: &crate::seal::ServerKey, account: &str, owner: KeyOwner, now: &str) -> Result<(AccessKey, String)> {
    let secret = ids::access_key_secret();
    let ak = AccessKey {
        id: ids::access_key_id(),
        account_id: account.into(),
        owner: owner.clone(),
        sealed_secret: key.seal(SECRET_PURPOSE, secret.as_bytes()),
        status: KeyStatus::Active,
        created: now.into(),
        last_used: None,
    };
    tx.insert_rec(GLOBAL, &ak.id, &ak)?;
    if let KeyOwner::User(name) = &owner {
        tx.link(Relation::UserKey, account, name, &ak.id, now)?;
    }
    Ok((ak, secret))
}

pub fn create_access_key(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let owner = key_owner(ctx, p)?;
    let account = ctx.account().to_string();
    if let KeyOwner::User(name) = &owner {
        if ctx.tx.links_from(Relation::UserKey, &account, name)?.len() >= MAX_KEYS_PER_USER {
            return Err(Error::limit(
                "User.AccessKey",
                format!("A user can have at most {MAX_KEYS_PER_USER} AccessKeys. Delete one first."),
            ));
        }
    }
    let now = ctx.now();
    let (ak, secret) = issue_key(ctx.tx, ctx.key, &account, owner, &now)?;
    Ok(json!({ "AccessKey": {
        "AccessKeyId": ak.id, "AccessKeySecret": secret, "Status": ak.status.as_str(), "CreateDate": ak.created,
    } }))
}

fn owned_key(ctx: &mut Ctx, p: &Params) -> Result<AccessKey> {
    let id = p.required("UserAccessKeyId")?;
    let owner = key_owner(ctx, p)?;
    let account = ctx.account().to_string();
    match ctx.tx.get_rec::<AccessKey>(GLOBAL, id)? {
        Some(k) if k.account_id == account && k.owner == owner => Ok(k),
        _ => Err(Error::not_exist("User.AccessKey", format!("The AccessKey does not exist: {id}."))),
    }
}

pub fn update_access_key(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let status = match p.required("Status")? {
        "Active" => KeyStatus::Active,
        "Inactive" => KeyStatus::Inactive,
        other => {
            return Err(Error::invalid(
                "InvalidParameter.Status",
                format!("The parameter \"Status\" must be Active or Inactive, got \"{other}\"."),
            ))
        }
    };
    let mut key = owned_key(ctx, p)?;
    key.status = status;
    ctx.tx.update_rec(GLOBAL, &key.id.clone(), &key)?;
    ok()
}

pub fn delete_access_key(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let key = owned_key(ctx, p)?;
    let account = ctx.account().to_string();
    ctx.tx.delete(Kind::AccessKey, GLOBAL, &key.id)?;
    if let KeyOwner::User(name) = &key.owner {
        ctx.tx.unlink(Relation::UserKey, &account, name, &key.id)?;
    }
    ok()
}

pub fn list_access_keys(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let owner = key_owner(ctx, p)?;
    let account = ctx.account().to_string();
    let mut keys = Vec::new();
    match &owner {
        KeyOwner::User(name) => {
            for link in ctx.tx.links_from(Relation::UserKey, &account, name)? {
                keys.extend(ctx.tx.get_rec::<AccessKey>(GLOBAL, &link.right)?);
            }
        }
        // The account's own keys (ListAccessKeys "queries the AccessKey pairs of an Alibaba
        // Cloud account or a RAM user") have no link to follow: every key is read, a page at a time.
        KeyOwner::Root => {
            let mut after: Option<String> = None;
            loop {
                let page = ctx.tx.list_rec::<AccessKey>(GLOBAL, "", after.as_deref(), 500)?;
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                keys.extend(page.into_iter().filter(|k| k.account_id == account && k.owner == KeyOwner::Root));
            }
        }
    }
    let items: Vec<Value> =
        keys.iter().map(|k| json!({ "AccessKeyId": k.id, "Status": k.status.as_str(), "CreateDate": k.created })).collect();
    Ok(json!({ "AccessKeys": { "AccessKey": items } }))
}

/// GetAccessKeyLastUsed: when the key last signed a request (recorded to the minute; a key never
/// used has no `LastUsedDate`).
pub fn get_access_key_last_used(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let key = owned_key(ctx, p)?;
    let mut used = json!({});
    if let Some(t) = &key.last_used {
        used["LastUsedDate"] = json!(t);
    }
    Ok(json!({ "AccessKeyLastUsed": used }))
}

/// How long a recorded last use stays fresh: a key is written at most once per this many seconds.
pub const LAST_USED_GRANULARITY_SECONDS: i64 = 60;

/// Records that `key` signed a request at `now`, unless it was recorded less than a minute ago
/// (so the hot path writes at most once a minute per key). Returns whether it wrote.
pub fn record_last_used(tx: &mut dyn Tx, key: &mut AccessKey, now: time::OffsetDateTime) -> Result<bool> {
    let fresh = key
        .last_used
        .as_deref()
        .and_then(crate::clock::parse_date)
        .is_some_and(|t| (now - t).whole_seconds() < LAST_USED_GRANULARITY_SECONDS);
    if fresh {
        return Ok(false);
    }
    key.last_used = Some(crate::clock::format_date(now));
    tx.update_rec(GLOBAL, &key.id.clone(), key)?;
    Ok(true)
}

/// When each AccessKey's last use was last written (Unix seconds), in this process: the check
/// that keeps [`note_key_used`] from touching the store more than once a minute per key.
static LAST_WRITTEN: std::sync::Mutex<Option<std::collections::HashMap<String, i64>>> = std::sync::Mutex::new(None);

/// Notes that a (non-STS) AccessKey signed a verified request: at most one store write per key
/// per minute, and none at all between writes. Failures are logged by the caller, never fatal.
pub fn note_key_used(rs: &crate::service::Rolestack, access_key_id: &str) -> Result<()> {
    if access_key_id.starts_with("STS.") {
        return Ok(());
    }
    let now = rs.clock.now();
    {
        let mut guard = LAST_WRITTEN.lock().unwrap_or_else(|e| e.into_inner());
        let map = guard.get_or_insert_with(Default::default);
        if map.get(access_key_id).is_some_and(|t| now.unix_timestamp() - t < LAST_USED_GRANULARITY_SECONDS) {
            return Ok(());
        }
        if map.len() > 100_000 {
            map.clear();
        }
        map.insert(access_key_id.to_string(), now.unix_timestamp());
    }
    crate::store::retry(|| {
        let mut tx = rs.store.begin()?;
        if let Some(mut key) = tx.get_rec::<AccessKey>(GLOBAL, access_key_id)? {
            if record_last_used(&mut *tx, &mut key, now)? {
                tx.commit()?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::{is_email, is_mobile_phone};

    #[test]
    fn profile_formats() {
        for ok in ["86-18600008888", "1-5551234", "852-12345678"] {
            assert!(is_mobile_phone(ok), "{ok}");
        }
        for bad in ["18600008888", "+86-186", "86-", "-186", "86-186-0", "86 186", "12345-1"] {
            assert!(!is_mobile_phone(bad), "{bad}");
        }
        for ok in ["alice@example.com", "a.b+c@mail.example.cn"] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in ["notanemail", "@example.com", "alice@example", "alice@@example.com", "a b@example.com", "alice@example..com"] {
            assert!(!is_email(bad), "{bad}");
        }
    }
}
