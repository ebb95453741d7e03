//! The RAM API (version 2015-05-01): roles, policies and their versions, users, groups, AccessKeys,
//! attachments and the account alias. Each handler validates its parameters with RAM's own limits
//! and error codes, works inside the call's transaction, and returns the response body the SDKs parse.

pub mod account;
pub mod diagnostics;
pub mod groups;
pub mod login_profiles;
pub mod mfa;
pub mod password_policy;
pub mod policies;
pub mod roles;
pub mod service_linked_roles;
pub mod system_policies;
pub mod tags;
pub mod users;

use serde_json::{json, Map, Value};

use crate::model::Record;
use crate::params::Params;
use crate::store::Tx;
use crate::{Error, Result};

/// Character classes RAM allows in names.
#[derive(Clone, Copy)]
pub(crate) enum NameRule {
    /// Roles: letters, digits, `.` and `-`.
    Role,
    /// Users: letters, digits, `.`, `_`, `-`, `@`.
    User,
    /// Groups: letters, digits, `.`, `_`, `-`.
    Group,
    /// Policies: letters, digits, `-`.
    Policy,
}

/// An account-wide quota on one kind of RAM entity (docs/ram-errors.md, "Account-wide quotas").
#[derive(Clone, Copy, Debug)]
pub struct Quota {
    /// The most entities of this kind one account may hold.
    pub max: usize,
    /// The entity in the error code (`LimitExceeded.<entity>`).
    pub entity: &'static str,
    /// RAM's message for the error.
    pub message: &'static str,
}

pub const ROLE_QUOTA: Quota = Quota { max: 1000, entity: "Role", message: "The count of roles beyond the current limits." };
pub const USER_QUOTA: Quota = Quota { max: 5000, entity: "User", message: "The count of users beyond the current limits." };
pub const GROUP_QUOTA: Quota = Quota { max: 300, entity: "Group", message: "The count of groups beyond the current limits." };
pub const CUSTOM_POLICY_QUOTA: Quota = Quota { max: 1500, entity: "Policy", message: "The count of policy beyond the current limits." };

/// Inserts a new entity of an account unless the account already holds `quota.max` of its kind
/// (`LimitExceeded.<entity>`, 409). `Ok(false)`: the name is taken (that answer wins over the quota).
/// The count and the insert share the call's transaction, so concurrent creates cannot pass the quota
/// together: SQLite writers take turns, and of two PostgreSQL (serializable) writers that both counted
/// the last free place one is aborted and runs again.
pub(crate) fn insert_within_quota<T: Record>(tx: &mut dyn Tx, account: &str, name: &str, rec: &T, quota: Quota) -> Result<bool> {
    if tx.count(T::KIND, account, "")? >= quota.max {
        if tx.get(T::KIND, account, name)?.is_some() {
            return Ok(false);
        }
        return Err(Error::limit(quota.entity, quota.message));
    }
    tx.insert_rec(account, name, rec)
}

/// Checks a name parameter, with RAM's `InvalidParameter.<Name>.Length` / `.InvalidChars` errors.
pub(crate) fn check_name(param: &str, value: &str, max: usize, rule: NameRule) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}.Length"),
            format!("The parameter - \"{param}\" beyond the length limit (1 to {max} characters)."),
        ));
    }
    let ok = |c: char| {
        c.is_ascii_alphanumeric()
            || match rule {
                NameRule::Role => c == '.' || c == '-',
                NameRule::User => matches!(c, '.' | '_' | '-' | '@'),
                NameRule::Group => matches!(c, '.' | '_' | '-'),
                NameRule::Policy => c == '-',
            }
    };
    if let Some(bad) = value.chars().find(|c| !ok(*c)) {
        return Err(Error::invalid(
            format!("InvalidParameter.{param}.InvalidChars"),
            format!("The parameter - \"{param}\" contains invalid chars: '{bad}'."),
        ));
    }
    Ok(())
}

/// Checks an optional free-text parameter's length.
pub(crate) fn check_length(param: &str, value: Option<&str>, max: usize) -> Result<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(Error::invalid(
            format!("InvalidParameter.{param}.Length"),
            format!("The parameter - \"{param}\" beyond the length limit ({max} characters)."),
        )),
        _ => Ok(()),
    }
}

/// `Marker`/`MaxItems` paging as RAM does it: `MaxItems` 1..`limit` (1000 for ListUsers, ListRoles,
/// ListPolicies, ListUsersForGroup; 100 for ListGroups and the IMS provider lists), default 100.
/// The marker is opaque, as RAM's are: it stands for the name of the last item of the previous page,
/// and one this server did not hand out is `InvalidParameter.Marker` (docs/ram-errors.md).
pub(crate) struct Page {
    pub after: Option<String>,
    pub max: usize,
}

pub(crate) fn page(p: &Params, limit: i64) -> Result<Page> {
    let max = p.int("MaxItems", 1, limit)?.unwrap_or(100) as usize;
    let after = p.optional("Marker").map(marker_name).transpose()?;
    Ok(Page { after, max })
}

/// What every marker starts with once decoded: a forged or mistyped one almost never does.
const MARKER_TAG: &str = "rsm1:";

fn marker_of(name: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{MARKER_TAG}{name}"))
}

fn marker_name(marker: &str) -> Result<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(marker)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .and_then(|text| text.strip_prefix(MARKER_TAG).map(str::to_string))
        .ok_or_else(|| {
            Error::invalid(
                "InvalidParameter.Marker",
                format!("The parameter - Marker is invalid: {marker:?} is not a marker this service returned."),
            )
        })
}

/// Renders a page: fetches one extra item to know whether the list is truncated.
pub(crate) fn paged<T>(mut items: Vec<T>, max: usize, name: impl Fn(&T) -> String) -> (Vec<T>, Map<String, Value>) {
    let mut meta = Map::new();
    let truncated = items.len() > max;
    items.truncate(max);
    meta.insert("IsTruncated".into(), json!(truncated));
    if truncated {
        if let Some(last) = items.last() {
            meta.insert("Marker".into(), json!(marker_of(&name(last))));
        }
    }
    (items, meta)
}

/// The empty success body (`{}`; the front-end adds `RequestId`).
pub(crate) fn ok() -> Result<Value> {
    Ok(json!({}))
}

pub(crate) fn role_arn(account: &str, role: &str) -> String {
    format!("acs:ram::{account}:role/{role}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_opaque_and_only_ours_are_taken() {
        let items: Vec<String> = ["a", "B", "c/d"].iter().map(|s| s.to_string()).collect();
        let (_, meta) = paged(items.clone(), 2, |s| s.clone());
        let marker = meta["Marker"].as_str().unwrap();
        assert!(!marker.contains('B'), "the marker does not spell the name out: {marker}");
        assert_eq!(marker_name(marker).unwrap(), "B");
        assert_eq!(marker_name(&marker_of("c/d")).unwrap(), "c/d");
        for forged in ["B", "bogus", "zzzz", "", "YWJj", "cnNtMQ"] {
            let e = marker_name(forged).unwrap_err();
            assert_eq!(e.code(), "InvalidParameter.Marker", "{forged:?}");
        }
        let (_, last) = paged(items, 3, |s| s.clone());
        assert!(!last.contains_key("Marker") && last["IsTruncated"] == json!(false));
    }
}
