//! Why a request was refused, told the way Alibaba Cloud tells it.
//!
//! Every authorization decision produces one [`Verdict`]: who asked, for which action on which
//! resource, the outcome, the kind of policy that decided (`AccountLevelIdentityBasedPolicy`,
//! `SessionPolicy`, `AssumeRolePolicy`, `BucketPolicy`), the policies and statements that matched,
//! and the condition keys of the request. Everything that explains a decision reads this one
//! record, so they cannot disagree:
//! - the `AccessDeniedDetail` object of a refusal (RAM/STS/ECS JSON, OSS XML), whose
//!   `EncodedDiagnosticMessage` is the verdict sealed with the server key — opaque and
//!   tamper-evident, readable only through RAM `DecodeDiagnosticMessage` by the same account;
//! - ActionTrail events of refused calls, the metrics' allow / implicit / explicit counters, and
//!   the policy simulator.
//!
//! Field names and values follow RAM's DecodeDiagnosticMessage reference and the tea SDKs'
//! models; see docs/diagnostics.md.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::caller::{Caller, Principal};
use crate::seal::ServerKey;
use crate::{Error, Result};

/// The purpose the encoded message is sealed under.
const PURPOSE: &str = "diagnostic-message";

/// The kind of policy that decided (RAM's `NoPermissionPolicyType` / OSS's `PolicyType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Policies attached to the user, its groups, or the role (account-level grants).
    AccountLevelIdentityBasedPolicy,
    /// The session policy of an STS token (AssumeRole `Policy`, AttachInstanceRamRole `Policy`).
    SessionPolicy,
    /// A role's trust policy (AssumeRole by a principal it does not name).
    AssumeRolePolicy,
    /// An OSS bucket policy.
    BucketPolicy,
}

impl PolicyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::AccountLevelIdentityBasedPolicy => "AccountLevelIdentityBasedPolicy",
            PolicyKind::SessionPolicy => "SessionPolicy",
            PolicyKind::AssumeRolePolicy => "AssumeRolePolicy",
            PolicyKind::BucketPolicy => "BucketPolicy",
        }
    }
}

/// Where a policy in force comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySource {
    /// The policy's name (for inline documents: what they are, e.g. `session policy`).
    pub name: String,
    /// `System` or `Custom` for managed policies; `SessionPolicy`, `AssumeRolePolicy` or
    /// `BucketPolicy` for inline documents.
    pub policy_type: String,
    /// A custom policy's default version (system policies have none).
    pub version: Option<String>,
    /// What it is attached to: `RamUser`, `RamUserGroup` or `RamRole`, and that entity's name.
    pub attached: Option<(String, String)>,
}

impl PolicySource {
    pub fn inline(kind: PolicyKind, name: &str) -> Self {
        PolicySource { name: name.to_string(), policy_type: kind.as_str().to_string(), version: None, attached: None }
    }

    /// The label explanations use: `Custom policy deny-admins (v2)`.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} policy {} ({v})", self.policy_type, self.name),
            None => format!("{} policy {}", self.policy_type, self.name),
        }
    }
}

/// A policy statement that took part in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedPolicy {
    pub source: PolicySource,
    /// `Allow` or `Deny`.
    pub effect: String,
    pub statement_index: usize,
    pub sid: Option<String>,
}

/// Who was refused, as RAM names principals in diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalView {
    /// `SubUser`, `AssumedRoleUser`, `Account` (a root) or `Anonymous`.
    pub principal_type: String,
    /// The account the principal belongs to (empty for anonymous requests).
    pub owner_id: String,
    /// A RAM user's id; `<role name>:<session name>` for a role session; the account id for a root.
    pub display_name: String,
}

impl PrincipalView {
    pub fn of(caller: &Caller) -> Self {
        let (principal_type, display_name) = match &caller.principal {
            Principal::Root => ("Account", caller.account_id.clone()),
            Principal::User { id, .. } => ("SubUser", id.clone()),
            Principal::RoleSession { role_name, session_name, .. } => ("AssumedRoleUser", format!("{role_name}:{session_name}")),
        };
        PrincipalView { principal_type: principal_type.into(), owner_id: caller.account_id.clone(), display_name }
    }

    pub fn anonymous() -> Self {
        PrincipalView { principal_type: "Anonymous".into(), owner_id: String::new(), display_name: String::new() }
    }
}

/// One authorization decision and everything that explains it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The account whose policies decided (the caller's; for an anonymous OSS request, the
    /// bucket owner's): only its callers may decode the message.
    pub account: String,
    pub principal: PrincipalView,
    pub action: String,
    pub resource: String,
    /// `Allow`, `ImplicitDeny` or `ExplicitDeny`.
    pub outcome: String,
    /// The kind of policy that decided.
    pub policy_kind: PolicyKind,
    /// The deciding statements: the Deny that refused, or the Allow(s) that granted; empty for
    /// an implicit deny.
    pub matched: Vec<MatchedPolicy>,
    /// The request's condition keys and their values.
    pub conditions: Vec<(String, Vec<String>)>,
}

impl Verdict {
    pub fn is_explicit_deny(&self) -> bool {
        self.outcome == "ExplicitDeny"
    }

    /// The verdict sealed with the server key: RAM's `EncodedDiagnosticMessage`.
    pub fn encode(&self, key: &ServerKey) -> String {
        let json = serde_json::to_vec(self).expect("a verdict serializes");
        key.seal(PURPOSE, &json)
    }

    /// Opens an `EncodedDiagnosticMessage`; a tampered, truncated or foreign one is refused.
    pub fn decode(key: &ServerKey, encoded: &str) -> Result<Verdict> {
        let bytes = key.open(PURPOSE, encoded.trim()).map_err(|_| Verdict::decode_refusal())?;
        serde_json::from_slice(&bytes).map_err(|_| Verdict::decode_refusal())
    }

    /// The one answer to a message that cannot be decoded (altered, another service's, or
    /// another account's), so the answer reveals nothing more.
    pub fn decode_refusal() -> Error {
        Error::invalid(
            "InvalidParameter.EncodedDiagnosticMessage",
            "The specified EncodedDiagnosticMessage is invalid: it was not issued to this account by this service, or it was altered.",
        )
    }

    /// The `AccessDeniedDetail` object a refusal carries (RAM/STS/ECS error bodies; OSS renders
    /// the same fields as XML).
    pub fn access_denied_detail(&self, encoded: &str) -> Value {
        json!({
            "PolicyType": self.policy_kind.as_str(),
            "AuthPrincipalOwnerId": self.principal.owner_id,
            "AuthPrincipalType": self.principal.principal_type,
            "AuthPrincipalDisplayName": self.principal.display_name,
            "NoPermissionType": self.outcome,
            "AuthAction": self.action,
            "EncodedDiagnosticMessage": encoded,
        })
    }

    /// `DecodeDiagnosticMessage`'s `DecodedDiagnosticMessage`.
    pub fn decoded(&self) -> Value {
        json!({
            "ExplicitDeny": self.is_explicit_deny(),
            "NoPermissionPolicyType": self.policy_kind.as_str(),
            "AuthAction": self.action,
            "AuthResource": self.resource,
            "AuthPrincipal": {
                "AuthPrincipalType": self.principal.principal_type,
                "AuthPrincipalOwnerId": self.principal.owner_id,
                "AuthPrincipalDisplayName": self.principal.display_name,
            },
            "AuthConditions": self.conditions.iter().map(|(k, v)| json!({"ConditionKey": k, "ConditionValues": v})).collect::<Vec<_>>(),
            "MatchedPolicies": self.matched.iter().map(|m| json!({
                "PolicyIdentifier": m.source.name,
                "PolicyType": m.source.policy_type,
                "PolicyVersion": m.source.version.clone().unwrap_or_default(),
                "Effect": m.effect,
                "AttachedEntityType": m.source.attached.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
                "AttachedScope": m.source.attached.as_ref().map(|a| a.1.clone()).unwrap_or_default(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// A refusal with its verdict and the encoded message (what error bodies carry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessDeniedDetail {
    pub verdict: Verdict,
    pub encoded: String,
}

impl AccessDeniedDetail {
    pub fn new(verdict: Verdict, key: &ServerKey) -> Self {
        let encoded = verdict.encode(key);
        AccessDeniedDetail { verdict, encoded }
    }

    pub fn to_json(&self) -> Value {
        self.verdict.access_denied_detail(&self.encoded)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict() -> Verdict {
        Verdict {
            account: "123".into(),
            principal: PrincipalView { principal_type: "SubUser".into(), owner_id: "123".into(), display_name: "2000".into() },
            action: "ram:CreateRole".into(),
            resource: "acs:ram:*:123:role/r".into(),
            outcome: "ExplicitDeny".into(),
            policy_kind: PolicyKind::AccountLevelIdentityBasedPolicy,
            matched: vec![MatchedPolicy {
                source: PolicySource {
                    name: "deny-roles".into(),
                    policy_type: "Custom".into(),
                    version: Some("v1".into()),
                    attached: Some(("RamUser".into(), "alice".into())),
                },
                effect: "Deny".into(),
                statement_index: 0,
                sid: None,
            }],
            conditions: vec![("acs:SourceIp".into(), vec!["127.0.0.1".into()])],
        }
    }

    #[test]
    fn sealed_and_opened_only_with_the_key() {
        let key = ServerKey::from_bytes(&[7; 32]);
        let other = ServerKey::from_bytes(&[8; 32]);
        let v = verdict();
        let encoded = v.encode(&key);
        assert!(!encoded.contains("deny-roles"), "the message is not readable without the API");
        assert_eq!(Verdict::decode(&key, &encoded).unwrap(), v);
        assert_eq!(Verdict::decode(&other, &encoded).unwrap_err().code(), "InvalidParameter.EncodedDiagnosticMessage");
        let mut tampered = encoded.clone().into_bytes();
        let mid = tampered.len() / 2;
        tampered[mid] = if tampered[mid] == b'A' { b'B' } else { b'A' };
        assert!(Verdict::decode(&key, std::str::from_utf8(&tampered).unwrap()).is_err());
    }

    #[test]
    fn wire_shapes() {
        let v = verdict();
        let d = v.access_denied_detail("ENC");
        assert_eq!(d["NoPermissionType"], "ExplicitDeny");
        assert_eq!(d["PolicyType"], "AccountLevelIdentityBasedPolicy");
        assert_eq!(d["EncodedDiagnosticMessage"], "ENC");
        let decoded = v.decoded();
        assert_eq!(decoded["ExplicitDeny"], true);
        assert_eq!(decoded["MatchedPolicies"][0]["PolicyIdentifier"], "deny-roles");
        assert_eq!(decoded["MatchedPolicies"][0]["AttachedEntityType"], "RamUser");
        assert_eq!(decoded["AuthConditions"][0]["ConditionKey"], "acs:SourceIp");
    }
}
