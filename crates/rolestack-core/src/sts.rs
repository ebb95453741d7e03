//! STS (version 2015-04-01): AssumeRole and GetCallerIdentity, and the sealed security tokens behind
//! every temporary credential. A token is the session itself — account, role, session name, the
//! temporary AccessKey pair, expiry and session policy — sealed with the server key, so any node
//! holding the key can verify a request without a lookup. Only revocation needs the store: a role
//! records the instant before which its sessions no longer count (`Role::sessions_revoked_before`,
//! or per session name `Role::session_cutoffs`).

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::{Duration, OffsetDateTime};

use crate::authz::{conditions_of, matched_policies, outcome_name, request_context};
use crate::caller::{Caller, Principal};
use crate::clock::format_date;
use crate::diagnostics::{AccessDeniedDetail, PolicyKind, PolicySource, PrincipalView, Verdict};
use crate::documents::validate_permission_policy;
use crate::handler::Ctx;
use crate::ids;
use crate::model::Role;
use crate::params::Params;
use crate::ram::roles;
use crate::seal::ServerKey;
use crate::{Error, Result};

/// The purpose sealed tokens are bound to.
const TOKEN_PURPOSE: &str = "sts-security-token";
/// Real STS tokens start with this; clients treat the rest as opaque.
const TOKEN_PREFIX: &str = "CAIS";
pub const MIN_DURATION: i64 = 900;
pub const DEFAULT_DURATION: i64 = 3600;

/// Everything a role session is, sealed inside its SecurityToken.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SealedToken {
    pub account_id: String,
    pub role_name: String,
    pub role_id: String,
    pub session_name: String,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// Unix seconds.
    pub issued: i64,
    pub expires: i64,
    /// The issue instant in Unix milliseconds, compared with a role's revocation cut-off.
    pub issued_ms: i64,
    /// The session policy (AssumeRole `Policy`, AttachInstanceRamRole `Policy`), if any.
    pub session_policy: Option<String>,
    /// AssumeRole's `SourceIdentity`: set once, at the start of a role chain, and carried unchanged
    /// by every session assumed from this one (docs/sts-errors.md, "SourceIdentity"). Tokens sealed
    /// before the field existed open without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
}

/// Temporary credentials as the APIs and the metadata service return them.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: String,
    pub expiration: OffsetDateTime,
}

impl SealedToken {
    pub fn seal(&self, key: &ServerKey) -> String {
        let payload = serde_json::to_vec(self).expect("a token always serializes");
        format!("{TOKEN_PREFIX}{}", key.seal(TOKEN_PURPOSE, &payload))
    }

    /// Opens a SecurityToken: `InvalidSecurityToken.Malformed` if it was not sealed by this server.
    pub fn open(key: &ServerKey, token: &str) -> Result<SealedToken> {
        let malformed = || Error::service(400, "InvalidSecurityToken.Malformed", "Specified SecurityToken is malformed.");
        let body = token.strip_prefix(TOKEN_PREFIX).ok_or_else(malformed)?;
        let payload = key.open(TOKEN_PURPOSE, body).map_err(|_| malformed())?;
        serde_json::from_slice(&payload).map_err(|_| malformed())
    }

    pub fn credentials(&self, key: &ServerKey) -> Credentials {
        self.credentials_sealed(self.seal(key))
    }

    /// The credentials with `security_token`, this token sealed before (each sealing differs:
    /// the metadata service hands out the one it stored, so every read shows the same token).
    pub fn credentials_sealed(&self, security_token: String) -> Credentials {
        Credentials {
            access_key_id: self.access_key_id.clone(),
            access_key_secret: self.access_key_secret.clone(),
            security_token,
            expiration: OffsetDateTime::from_unix_timestamp(self.expires).unwrap_or(OffsetDateTime::UNIX_EPOCH),
        }
    }
}

/// Mints a session for `role` lasting `duration`, starting `now`.
pub fn mint(
    account_id: &str,
    role: &Role,
    session_name: &str,
    session_policy: Option<String>,
    now: OffsetDateTime,
    duration: Duration,
) -> SealedToken {
    SealedToken {
        account_id: account_id.into(),
        role_name: role.name.clone(),
        role_id: role.id.clone(),
        session_name: session_name.into(),
        access_key_id: format!("STS.{}", ids::alnum(24)),
        access_key_secret: ids::alnum(44),
        issued: now.unix_timestamp(),
        expires: (now + duration).unix_timestamp(),
        issued_ms: unix_ms(now),
        session_policy,
        source_identity: None,
    }
}

/// Checks a presented token against the request's AccessKeyId, the clock and the role's revocation
/// mark; returns the live role.
pub fn check_session(tx: &mut dyn crate::store::Tx, token: &SealedToken, access_key_id: &str, now: OffsetDateTime) -> Result<Role> {
    check_token(token, access_key_id, now)?;
    let role = tx.get_rec::<Role>(&token.account_id, &token.role_name)?;
    match role {
        Some(r) if r.id == token.role_id && !revoked(&r, token) => Ok(r),
        _ => Err(Error::service(
            400,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired: its role was deleted or its sessions were revoked.",
        )),
    }
}

/// The checks of [`check_session`] that need no store: the token belongs to the AccessKey and
/// has not expired.
pub fn check_token(token: &SealedToken, access_key_id: &str, now: OffsetDateTime) -> Result<()> {
    if token.access_key_id != access_key_id {
        return Err(Error::service(
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        ));
    }
    if now.unix_timestamp() >= token.expires {
        return Err(Error::service(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."));
    }
    Ok(())
}

/// Whether the role's sessions were revoked after this token was issued.
pub fn revoked(role: &Role, token: &SealedToken) -> bool {
    role.sessions_revoked_before.is_some_and(|cutoff| token.issued_ms < cutoff)
        || role.session_cutoffs.get(&token.session_name.to_ascii_lowercase()).is_some_and(|&cutoff| token.issued_ms < cutoff)
}

/// Unix milliseconds of an instant.
pub fn unix_ms(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn session_name(p: &Params) -> Result<&str> {
    let name = p.required("RoleSessionName")?;
    let ok = (2..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '_' | '-'));
    if !ok {
        return Err(Error::invalid(
            "InvalidParameter.RoleSessionName",
            format!("The parameter RoleSessionName is wrongly formed: \"{name}\" must be 2 to 64 characters of letters, digits, '.', '@', '_' and '-'."),
        ));
    }
    Ok(name)
}

/// Splits `acs:ram::<account>:role/<name>` into account and role name.
pub fn parse_role_arn(arn: &str) -> Result<(&str, &str)> {
    let bad = || {
        Error::invalid(
            "InvalidParameter.RoleArn",
            format!("The parameter RoleArn is wrongly formed: \"{arn}\"; expected acs:ram::<account-id>:role/<role-name>."),
        )
    };
    let rest = arn.strip_prefix("acs:ram:").ok_or_else(bad)?;
    let (_region, rest) = rest.split_once(':').ok_or_else(bad)?;
    let (account, resource) = rest.split_once(':').ok_or_else(bad)?;
    let name = resource.strip_prefix("role/").ok_or_else(bad)?;
    if account.is_empty() || name.is_empty() {
        return Err(bad());
    }
    Ok((account, name))
}

pub fn assume_role(ctx: &mut Ctx, p: &Params) -> Result<Value> {
    let (account, role_name) = parse_role_arn(p.required("RoleArn")?)?;
    let session = session_name(p)?;
    let policy = session_policy(p)?;
    let external_id = external_id(p)?;
    refuse_root(ctx, account, role_name)?;
    let source_identity = source_identity(ctx.caller, p.optional("SourceIdentity"))?;
    if account != ctx.account() {
        return Err(Error::not_exist("Role", format!("The specified Role not exists: {account} is not this server's account.")));
    }
    let role = roles::load(ctx, role_name).map_err(|_| Error::not_exist("Role", format!("The specified Role not exists: {role_name}.")))?;
    let duration = session_duration(p, &role)?;
    // The caller's own policies were checked by the gateway (sts:AssumeRole on this role); the role
    // must also trust the caller.
    let trust = role.trust()?;
    let principal = rolestack_policy::Principal::ram(ctx.account(), ctx.caller.arn());
    let mut context = request_context(ctx.caller);
    if let Some(id) = external_id {
        context.set(rolestack_policy::keys::EXTERNAL_ID, id);
    }
    let trust_decision = trust.evaluate(rolestack_policy::ASSUME_ROLE, &principal, &context);
    if !trust_decision.is_allowed() {
        let source = PolicySource::inline(PolicyKind::AssumeRolePolicy, &format!("trust policy of role {}", role.name));
        let verdict = Verdict {
            account: ctx.account().to_string(),
            principal: PrincipalView::of(ctx.caller),
            action: "sts:AssumeRole".into(),
            resource: crate::ram::role_arn(ctx.account(), &role.name),
            outcome: outcome_name(trust_decision.outcome).into(),
            policy_kind: PolicyKind::AssumeRolePolicy,
            matched: matched_policies(&trust_decision, &[&source]),
            conditions: conditions_of(&context),
        };
        return Err(Error::no_permission(
            AccessDeniedDetail::new(verdict, ctx.key),
            "No permission perform sts:AssumeRole on this Role. Maybe you are not a trusted entity of the role's trust policy.",
        ));
    }
    let now = ctx.clock.now();
    let mut token = mint(ctx.account(), &role, session, policy, now, Duration::seconds(duration));
    token.source_identity = source_identity.clone();
    let creds = token.credentials(ctx.key);
    let mut body = json!({
        "AssumedRoleUser": assumed_role_user(ctx.account(), &role, session),
        "Credentials": render_credentials(&creds),
    });
    if let Some(si) = source_identity {
        body["SourceIdentity"] = json!(si);
    }
    Ok(body)
}

/// The `SourceIdentity` of a new session. A caller whose own session carries one passes it on: the
/// value is fixed at the start of a role chain, so asking for another is refused (`NoPermission`,
/// code UNVERIFIED) and leaving the parameter out keeps it. Otherwise the parameter, if given, starts
/// the chain (docs/sts-errors.md, "SourceIdentity").
fn source_identity(caller: &Caller, requested: Option<&str>) -> Result<Option<String>> {
    let inherited = match &caller.principal {
        Principal::RoleSession { source_identity, .. } => source_identity.as_deref(),
        _ => None,
    };
    match (inherited, requested) {
        (Some(kept), Some(asked)) if kept != asked => Err(Error::service(
            403,
            "NoPermission",
            format!(
                "The SourceIdentity of a role chain cannot be changed: this session carries \"{kept}\", the request asked for \"{asked}\"."
            ),
        )),
        (Some(kept), _) => Ok(Some(kept.to_string())),
        (None, asked) => Ok(asked.map(str::to_string)),
    }
}

/// AssumeRole's `ExternalId`: 2 to 1224 characters of letters, digits and `_ + = , . @ : / -`
/// (docs/sts-errors.md). A trust policy sees it as the condition key `sts:ExternalId`.
fn external_id(p: &Params) -> Result<Option<&str>> {
    let Some(id) = p.optional("ExternalId") else { return Ok(None) };
    let ok = (2..=1224).contains(&id.len())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '=' | ',' | '.' | '@' | ':' | '/' | '-'));
    if !ok {
        return Err(Error::invalid(
            "InvalidParameter.ExternalId",
            format!("The parameter ExternalId is wrongly formed: \"{id}\" must be 2 to 1224 characters of letters, digits and _+=,.@:/-."),
        ));
    }
    Ok(Some(id))
}

/// An account's root may not assume roles: STS refuses AssumeRole signed with the account's own
/// AccessKey, whatever the trust policy says (docs/sts-errors.md). Only RAM users and role
/// sessions assume roles.
fn refuse_root(ctx: &Ctx, account: &str, role_name: &str) -> Result<()> {
    if !matches!(ctx.caller.principal, Principal::Root) {
        return Ok(());
    }
    let verdict = Verdict {
        account: ctx.account().to_string(),
        principal: PrincipalView::of(ctx.caller),
        action: "sts:AssumeRole".into(),
        resource: crate::ram::role_arn(account, role_name),
        outcome: "ImplicitDeny".into(),
        policy_kind: PolicyKind::AccountLevelIdentityBasedPolicy,
        matched: Vec::new(),
        conditions: conditions_of(&request_context(ctx.caller)),
    };
    Err(Error::no_permission(AccessDeniedDetail::new(verdict, ctx.key), "Roles may not be assumed by root accounts."))
}

/// The `Policy` parameter of the AssumeRole family: a session policy of at most 2048 characters.
pub(crate) fn session_policy(p: &Params) -> Result<Option<String>> {
    match p.optional("Policy") {
        Some(doc) if doc.chars().count() > 2048 => Err(Error::invalid(
            "InvalidParameter.PolicyGrammar",
            "The parameter Policy has not passed grammar check: it is longer than 2048 characters.",
        )),
        Some(doc) => {
            validate_permission_policy("Policy", doc).map_err(|e| {
                Error::invalid(
                    "InvalidParameter.PolicyGrammar",
                    format!("The parameter Policy has not passed grammar check: {}", e.public_message()),
                )
            })?;
            Ok(Some(doc.to_string()))
        }
        None => Ok(None),
    }
}

/// `DurationSeconds`: 900 up to the role's MaxSessionDuration, 3600 by default.
/// A value that is not a whole number gets the same answer as one out of range.
pub(crate) fn session_duration(p: &Params, role: &Role) -> Result<i64> {
    let Some(given) = p.optional("DurationSeconds") else { return Ok(DEFAULT_DURATION) };
    let max = i64::from(role.max_session_duration);
    given.parse::<i64>().ok().filter(|d| (MIN_DURATION..=max).contains(d)).ok_or_else(|| {
        Error::invalid(
            "InvalidParameter.DurationSeconds",
            format!("The Min/Max value of DurationSeconds is 15min/{max}s (the role's MaxSessionDuration); got {given:?}."),
        )
    })
}

/// The `AssumedRoleUser` of a new session.
pub(crate) fn assumed_role_user(account: &str, role: &Role, session: &str) -> Value {
    json!({
        "Arn": format!("acs:ram::{account}:role/{}/{session}", role.name.to_ascii_lowercase()),
        "AssumedRoleId": format!("{}:{session}", role.id),
    })
}

pub fn render_credentials(c: &Credentials) -> Value {
    json!({
        "AccessKeyId": c.access_key_id,
        "AccessKeySecret": c.access_key_secret,
        "SecurityToken": c.security_token,
        "Expiration": format_date(c.expiration),
    })
}

pub fn get_caller_identity(ctx: &mut Ctx, _p: &Params) -> Result<Value> {
    let c: &Caller = ctx.caller;
    Ok(match &c.principal {
        Principal::Root => json!({
            "IdentityType": "Account", "AccountId": c.account_id, "UserId": c.account_id,
            "PrincipalId": c.account_id, "Arn": c.arn(),
        }),
        Principal::User { id, .. } => json!({
            "IdentityType": "RAMUser", "AccountId": c.account_id, "UserId": id, "PrincipalId": id, "Arn": c.arn(),
        }),
        Principal::RoleSession { role_id, session_name, .. } => json!({
            "IdentityType": "AssumedRoleUser", "AccountId": c.account_id, "RoleId": role_id,
            "PrincipalId": format!("{role_id}:{session_name}"), "Arn": c.arn(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let key = ServerKey::from_bytes(&ServerKey::generate());
        let role = Role {
            id: "1".into(),
            name: "r".into(),
            description: String::new(),
            trust_policy: String::new(),
            max_session_duration: 3600,
            created: String::new(),
            updated: String::new(),
            sessions_revoked_before: None,
            session_cutoffs: Default::default(),
            tags: Vec::new(),
            service_linked: None,
        };
        let t = mint("123", &role, "s", None, OffsetDateTime::now_utc(), Duration::hours(1));
        let sealed = t.seal(&key);
        assert!(sealed.starts_with("CAIS"));
        assert_eq!(SealedToken::open(&key, &sealed).unwrap(), t);
        let mut forged = sealed.clone();
        forged.push('A');
        assert!(SealedToken::open(&key, &forged).is_err());
        assert!(SealedToken::open(&ServerKey::from_bytes(&ServerKey::generate()), &sealed).is_err());
    }

    #[test]
    fn source_identity_is_fixed_along_a_chain() {
        let caller = |source_identity: Option<&str>| Caller {
            account_id: "123".into(),
            principal: Principal::RoleSession {
                role_name: "r".into(),
                role_id: "1".into(),
                session_name: "s".into(),
                session_policy: None,
                source_identity: source_identity.map(str::to_string),
            },
            access_key_id: "STS.x".into(),
            facts: crate::caller::RequestFacts::at(OffsetDateTime::UNIX_EPOCH),
            mfa_at: None,
        };
        assert_eq!(source_identity(&caller(None), None).unwrap(), None);
        assert_eq!(source_identity(&caller(None), Some("alice")).unwrap().as_deref(), Some("alice"));
        assert_eq!(source_identity(&caller(Some("alice")), None).unwrap().as_deref(), Some("alice"));
        assert_eq!(source_identity(&caller(Some("alice")), Some("alice")).unwrap().as_deref(), Some("alice"));
        assert_eq!(source_identity(&caller(Some("alice")), Some("bob")).unwrap_err().code(), "NoPermission");
        // a token sealed before the field existed opens without it
        let key = ServerKey::from_bytes(&ServerKey::generate());
        let mut old: serde_json::Value = serde_json::to_value(SealedToken {
            account_id: "1".into(),
            role_name: "r".into(),
            role_id: "1".into(),
            session_name: "s".into(),
            access_key_id: "STS.a".into(),
            access_key_secret: "b".into(),
            issued: 0,
            expires: 1,
            issued_ms: 0,
            session_policy: None,
            source_identity: None,
        })
        .unwrap();
        assert!(old.get("source_identity").is_none());
        old["session_policy"] = Value::Null;
        let sealed = format!("{TOKEN_PREFIX}{}", key.seal(TOKEN_PURPOSE, &serde_json::to_vec(&old).unwrap()));
        assert_eq!(SealedToken::open(&key, &sealed).unwrap().source_identity, None);
    }

    #[test]
    fn role_arns() {
        assert_eq!(parse_role_arn("acs:ram::123:role/EcsRole").unwrap(), ("123", "EcsRole"));
        assert!(parse_role_arn("acs:ram::123:user/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::123:role/x").is_err());
    }
}
