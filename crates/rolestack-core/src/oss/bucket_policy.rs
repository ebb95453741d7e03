//! Bucket policies: RAM policy statements with a `Principal` list, stored on the bucket.
//!
//! Each statement is validated with the RAM policy engine (the same grammar, conditions and
//! wildcards as identity policies) once its `Principal` is taken out. An empty `Principal` list
//! means the same as `["*"]` (OSS's "authorization syntax and elements" page; docs/authorization.md).
//! That page also calls `Principal` required in a bucket policy, yet OSS accepts a statement
//! without one (oss2's own test suite, run against OSS, stores such a policy): it is accepted
//! and applies to every signed request, not to anonymous ones. `Principal` is a list of:
//! * `*` (or the empty list) — everyone, including anonymous requests;
//! * an account UID — that account's root, and every RAM identity of that account when it is not
//!   the bucket owner's (cross-account grant; those identities still need their own RAM Allow);
//! * a RAM user id — that user;
//! * `arn:sts::<account>:assumed-role/<role>/<session>` (wildcards allowed) or
//!   `<role-id>:<session>` — role sessions;
//! * `acs:ram::<account>:user/<name>` / `acs:ram::<account>:role/<name>` — a user / any session
//!   of a role.

use rolestack_policy::{evaluate, Decision, Effect, Policy, Request};
use serde_json::{Map, Value};

use super::error::{OssError, OssResult};
use crate::caller::{Caller, Principal};

/// Largest bucket policy accepted, in bytes (OSS's limit).
pub const MAX_POLICY_BYTES: usize = 16 * 1024;

/// A parsed bucket policy.
#[derive(Debug, Clone)]
pub struct BucketPolicy {
    statements: Vec<(Principals, Policy, String)>,
}

/// Whom a statement names.
#[derive(Debug, Clone)]
enum Principals {
    /// `["*"]` or `[]`: every request, anonymous ones included.
    Everyone,
    /// The entries as written (see the module doc).
    Listed(Vec<String>),
    /// No `Principal` at all (OSS accepts such statements; what they mean there is not
    /// documented): every signed request.
    Unstated,
}

/// Who is asking, as a bucket policy sees it.
#[derive(Debug, Clone, Copy)]
pub enum Who<'a> {
    Anonymous,
    Caller(&'a Caller),
}

impl BucketPolicy {
    /// Parses and validates a policy document.
    pub fn parse(text: &str) -> OssResult<BucketPolicy> {
        let invalid = |m: String| OssError::InvalidPolicyDocument(m);
        if text.len() > MAX_POLICY_BYTES {
            return Err(invalid(format!("the policy has {} bytes; the limit is {MAX_POLICY_BYTES}", text.len())));
        }
        // (serde_json keeps one of two equal keys: `"Effect":"Deny", …, "Effect":"Allow"` would
        // quietly be an Allow, while GetBucketPolicy shows the Deny)
        rolestack_policy::reject_duplicate_keys(text).map_err(|e| invalid(e.to_string()))?;
        let doc: Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Value::Object(top) = doc else {
            return Err(invalid("expected a JSON object with \"Version\" and \"Statement\"".into()));
        };
        let version = top.get("Version").cloned().unwrap_or(Value::Null);
        let statements = match top.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(obj @ Value::Object(_)) => vec![obj.clone()],
            _ => return Err(invalid("\"Statement\" must be a list of statements".into())),
        };
        let mut out = Vec::new();
        for (i, statement) in statements.into_iter().enumerate() {
            let Value::Object(mut fields) = statement else {
                return Err(invalid(format!("Statement[{i}] is not an object")));
            };
            let had_principal = fields.contains_key("Principal");
            let principals = match fields.remove("Principal") {
                Some(Value::String(s)) => vec![s],
                Some(Value::Array(items)) => items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(s) if !s.is_empty() => Ok(s),
                        other => Err(invalid(format!("Statement[{i}].Principal: expected strings, found {other}"))),
                    })
                    .collect::<OssResult<Vec<_>>>()?,
                Some(other) => {
                    return Err(invalid(format!("Statement[{i}].Principal: expected a list of strings such as [\"*\"], found {other}")))
                }
                None => Vec::new(),
            };
            let principals = match principals {
                _ if !had_principal => Principals::Unstated,
                listed if listed.is_empty() || listed.iter().any(|p| p == "*") => Principals::Everyone,
                listed => Principals::Listed(listed),
            };
            let mut one = Map::new();
            one.insert("Version".into(), version.clone());
            one.insert("Statement".into(), Value::Array(vec![Value::Object(fields)]));
            let policy = Policy::parse(&Value::Object(one).to_string()).map_err(|e| {
                invalid(format!(
                    "Statement[{i}]: {}",
                    e.to_string().trim_start_matches("Statement[0]: ").trim_start_matches("Statement[0].")
                ))
            })?;
            out.push((principals, policy, format!("bucket policy statement {i}")));
        }
        Ok(BucketPolicy { statements: out })
    }

    /// The decision of the statements that bind the bucket owner's own root: those for everyone
    /// (`*`) that carry a `Condition` (OSS: a statement for everyone without one applies only to
    /// others than the owner; with one, to the owner too — so a conditional Deny can lock the
    /// owner out, as on OSS).
    pub fn decide_for_owner(&self, request: &Request<'_>) -> Decision {
        self.decide_among(request, |principals, policy| {
            matches!(principals, Principals::Everyone) && policy.statements().iter().any(|s| s.has_condition())
        })
    }

    /// The decision of the statements that name `who`, deny wins. RAM compares user and role
    /// names without case, so a principal spelled in another case names the caller for a `Deny`
    /// (either reading denies) but not for an `Allow` (only the exact spelling grants).
    pub fn decide(&self, who: Who<'_>, bucket_owner: &str, request: &Request<'_>) -> Decision {
        self.decide_among(request, |principals, policy| {
            let deny = policy.statements().iter().any(|s| s.effect() == Effect::Deny);
            match principals {
                Principals::Everyone => true,
                Principals::Unstated => matches!(who, Who::Caller(_)),
                Principals::Listed(listed) => {
                    listed.iter().any(|p| names(p, who, bucket_owner, false) || (deny && names(p, who, bucket_owner, true)))
                }
            }
        })
    }

    /// The decision of the statements `applies` keeps, deny wins.
    fn decide_among(&self, request: &Request<'_>, applies: impl Fn(&Principals, &Policy) -> bool) -> Decision {
        let applicable: Vec<(&str, &Policy)> = self
            .statements
            .iter()
            .filter(|(principals, policy, _)| applies(principals, policy))
            .map(|(_, policy, label)| (label.as_str(), policy))
            .collect();
        evaluate(&applicable, request)
    }
}

/// Does principal entry `p` name `who`? With `fold`, user and role names compare without case.
fn names(p: &str, who: Who<'_>, bucket_owner: &str, fold: bool) -> bool {
    let Who::Caller(caller) = who else { return false };
    if p == caller.account_id {
        return caller.principal == Principal::Root || caller.account_id != bucket_owner;
    }
    let account = &caller.account_id;
    let same = |a: &str, b: &str| if fold { a.eq_ignore_ascii_case(b) } else { a == b };
    match &caller.principal {
        Principal::Root => false,
        Principal::User { name, id } => p == id || same(p, &format!("acs:ram::{account}:user/{name}")),
        Principal::RoleSession { role_name, role_id, session_name, .. } => {
            let sts_arn = format!("arn:sts::{account}:assumed-role/{role_name}/{session_name}");
            p == format!("{role_id}:{session_name}")
                || p == format!("{role_id}:*")
                || same(p, &format!("acs:ram::{account}:role/{role_name}"))
                || if fold { glob(&p.to_ascii_lowercase(), &sts_arn.to_ascii_lowercase()) } else { glob(p, &sts_arn) }
        }
    }
}

/// `*` and `?` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caller::RequestFacts;
    use rolestack_policy::Context;

    fn caller(principal: Principal) -> Caller {
        Caller {
            account_id: "111".into(),
            principal,
            access_key_id: "k".into(),
            facts: RequestFacts::at(time::OffsetDateTime::UNIX_EPOCH),
            mfa_at: None,
        }
    }

    #[test]
    fn principals_and_deny() {
        let p = BucketPolicy::parse(
            r#"{"Version":"1","Statement":[
              {"Effect":"Allow","Action":["oss:GetObject"],"Principal":["*"],"Resource":["acs:oss:*:111:b/pub/*"]},
              {"Effect":"Deny","Action":["oss:*"],"Principal":["222"],"Resource":["acs:oss:*:111:b/*"]},
              {"Effect":"Allow","Action":["oss:PutObject"],"Principal":["arn:sts::111:assumed-role/writer/*"],"Resource":["acs:oss:*:111:b/*"]}]}"#,
        )
        .unwrap();
        let ctx = Context::new();
        let get_pub = Request::new("oss:GetObject", "acs:oss:*:111:b/pub/x", &ctx);
        assert!(p.decide(Who::Anonymous, "111", &get_pub).is_allowed());
        let put = Request::new("oss:PutObject", "acs:oss:*:111:b/x", &ctx);
        assert!(!p.decide(Who::Anonymous, "111", &put).is_allowed());
        let session = caller(Principal::RoleSession {
            role_name: "writer".into(),
            role_id: "9".into(),
            session_name: "s".into(),
            session_policy: None,
            source_identity: None,
        });
        assert!(p.decide(Who::Caller(&session), "111", &put).is_allowed());
        let mut other = caller(Principal::Root);
        other.account_id = "222".into();
        assert!(p.decide(Who::Caller(&other), "111", &get_pub).is_explicit_deny());
    }

    /// One key twice anywhere in the document is refused, as RAM refuses it in its own policies:
    /// a JSON reading keeping the last would make `"Effect":"Deny", …, "Effect":"Allow"` an Allow.
    #[test]
    fn duplicate_keys_are_refused() {
        let statement = |extra: &str| {
            format!(
                r#"{{"Version":"1","Statement":[{{"Effect":"Deny","Principal":["*"],"Action":["oss:GetObject"],"Resource":["acs:oss:*:111:b/*"]{extra}}}]}}"#
            )
        };
        assert!(BucketPolicy::parse(&statement("")).is_ok());
        for extra in [
            r#","Effect":"Allow""#,
            r#","Principal":["222"]"#,
            r#","Condition":{"IpAddress":{"acs:SourceIp":["1.1.1.1"],"acs:SourceIp":["0.0.0.0/0"]}}"#,
        ] {
            let e = BucketPolicy::parse(&statement(extra)).unwrap_err();
            assert!(matches!(e, OssError::InvalidPolicyDocument(_)), "{extra}: {e:?}");
        }
        let top =
            r#"{"Version":"1","Statement":[],"Statement":[{"Effect":"Allow","Principal":["*"],"Action":["oss:*"],"Resource":["*"]}]}"#;
        assert!(BucketPolicy::parse(top).is_err());
    }

    #[test]
    fn principal_case_denies_but_does_not_grant() {
        let p = BucketPolicy::parse(
            r#"{"Version":"1","Statement":[
              {"Effect":"Allow","Action":["oss:*"],"Principal":["acs:ram::111:user/ALICE"],"Resource":["acs:oss:*:111:b/*"]},
              {"Effect":"Deny","Action":["oss:DeleteObject"],"Principal":["arn:sts::111:assumed-role/WRITER/*"],"Resource":["acs:oss:*:111:b/*"]},
              {"Effect":"Allow","Action":["oss:*"],"Principal":["arn:sts::111:assumed-role/writer/*"],"Resource":["acs:oss:*:111:b/*"]}]}"#,
        )
        .unwrap();
        let ctx = Context::new();
        let get = Request::new("oss:GetObject", "acs:oss:*:111:b/x", &ctx);
        let delete = Request::new("oss:DeleteObject", "acs:oss:*:111:b/x", &ctx);
        let alice = caller(Principal::User { name: "alice".into(), id: "7".into() });
        assert!(!p.decide(Who::Caller(&alice), "111", &get).is_allowed(), "an Allow names only the exact spelling");
        let writer = caller(Principal::RoleSession {
            role_name: "writer".into(),
            role_id: "9".into(),
            session_name: "s".into(),
            session_policy: None,
            source_identity: None,
        });
        assert!(p.decide(Who::Caller(&writer), "111", &get).is_allowed());
        assert!(p.decide(Who::Caller(&writer), "111", &delete).is_explicit_deny(), "a Deny names every spelling");
    }

    #[test]
    fn empty_principal_is_everyone_and_no_principal_is_every_signed_caller() {
        let p = BucketPolicy::parse(
            r#"{"Version":"1","Statement":[
              {"Effect":"Deny","Action":["oss:GetObject"],"Principal":[],"Resource":["acs:oss:*:111:b/secret/*"]},
              {"Effect":"Deny","Action":["oss:DeleteObject"],"Principal":["*"],"Resource":["acs:oss:*:111:b/*"],
               "Condition":{"Bool":{"acs:SecureTransport":["false"]}}},
              {"Effect":"Deny","Action":["oss:PutObject"],"Principal":["*"],"Resource":["acs:oss:*:111:b/*"]}]}"#,
        )
        .unwrap();
        let mut plain = Context::new();
        plain.set("acs:SecureTransport", "false");
        let secret = Request::new("oss:GetObject", "acs:oss:*:111:b/secret/s", &plain);
        assert!(p.decide(Who::Anonymous, "111", &secret).is_explicit_deny(), "[] is everyone, anonymous included");
        let user = caller(Principal::User { name: "u".into(), id: "7".into() });
        assert!(p.decide(Who::Caller(&user), "111", &secret).is_explicit_deny());
        // The owner's root is bound only by statements for everyone that carry a condition.
        let delete = Request::new("oss:DeleteObject", "acs:oss:*:111:b/k", &plain);
        let put = Request::new("oss:PutObject", "acs:oss:*:111:b/k", &plain);
        assert!(p.decide_for_owner(&delete).is_explicit_deny());
        assert!(!p.decide_for_owner(&put).is_explicit_deny());
        assert!(!p.decide_for_owner(&secret).is_explicit_deny());
        let unstated = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:GetObject"],"Resource":["acs:oss:*:111:b/*"]}]}"#;
        let stored = BucketPolicy::parse(unstated).unwrap();
        let get = Request::new("oss:GetObject", "acs:oss:*:111:b/k", &plain);
        assert!(stored.decide(Who::Caller(&user), "111", &get).is_allowed());
        assert!(!stored.decide(Who::Anonymous, "111", &get).is_allowed());
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [
            "not json",
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":{"RAM":"x"},"Resource":"*"}]}"#,
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["*"]}]}"#,
            r#"{"Version":"2","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Principal":["*"],"Resource":"*"}]}"#,
        ] {
            assert!(matches!(BucketPolicy::parse(bad), Err(OssError::InvalidPolicyDocument(_))), "{bad}");
        }
    }

    #[test]
    fn globbing() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "abbc"));
        assert!(glob("*", ""));
    }
}
