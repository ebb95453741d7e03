//! RAM policy documents for rolestack: parsing with precise diagnostics, and evaluation.
//!
//! Pure: no IO, no async, no clock. Everything a decision depends on is in its arguments.
//!
//! # Public API at a glance
//!
//! ```text
//! Policy::parse(&str) -> Result<Policy, PolicyError>            permission / session policies
//! TrustPolicy::parse(&str) -> Result<TrustPolicy, PolicyError>   AssumeRolePolicyDocument
//!
//! evaluate(&[(&str, &Policy)], &Request) -> Decision             labelled policies, deny wins
//! PolicySet::new().with("label", &policy).evaluate(&Request) -> Decision
//! Policy::evaluate(&self, &Request) -> Decision                  one policy
//! explain(&[(&str, &Policy)], &Request) -> Vec<StatementTrace>  every statement, every condition clause
//! Decision::intersect(self, Decision) -> Decision                role policies ∩ session policy
//! Decision { outcome: Outcome::{Allow, ExplicitDeny, ImplicitDeny}, decided_by, .. }
//!     .is_allowed(), .is_explicit_deny(), Display = human explanation
//!
//! Request::new(action, resource_arn, &Context)
//! Context::new() / .insert(key, value) / .set(key, value) / .with(key, value)
//!     .set_source_ip(IpAddr) .set_current_time(OffsetDateTime) .set_secure_transport(bool)
//!     .set_mfa_present(bool) .set_bool(key, bool)              keys case-insensitive, multi-valued
//!
//! TrustPolicy::allows(&Principal, &Context) -> bool               sts:AssumeRole (SAML/OIDC for Federated)
//! TrustPolicy::evaluate(action, &Principal, &Context) -> Decision
//! TrustPolicy::trusted_services() -> Vec<&str>; trusts_service("ecs.aliyuncs.com") -> bool
//! Principal::{Service(name), Ram { account_id, arn }, Federated(arn)}
//!     Principal::service(..), Principal::ram(account, arn), Principal::from_ram_arn(arn)
//!
//! PolicyError (thiserror): Syntax, WrongType, UnknownKey, DuplicateKey, MissingKey,
//!     ConflictingKeys, InvalidValue, UnknownOperator, UnknownConditionKey;
//!     .location() -> Option<&Location> (path, statement index, Sid); Display is the message.
//! ```
//!
//! # Example
//!
//! ```
//! use rolestack_policy::{evaluate, Context, Policy, Request};
//!
//! let read_only = Policy::parse(r#"{"Version": "1", "Statement": [
//!     {"Effect": "Allow", "Action": ["oss:Get*", "oss:List*"], "Resource": "*"}]}"#).unwrap();
//! let office_only = Policy::parse(r#"{"Version": "1", "Statement": [
//!     {"Sid": "OfficeOnly", "Effect": "Deny", "Action": "*", "Resource": "*",
//!      "Condition": {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}}]}"#).unwrap();
//!
//! let mut context = Context::new();
//! context.set_source_ip("10.1.2.3".parse().unwrap());
//! let request = Request::new("oss:GetObject", "acs:oss:*:1234567890123456:bucket/key", &context);
//! let decision = evaluate(&[("AliyunOSSReadOnlyAccess", &read_only), ("office", &office_only)], &request);
//! assert!(decision.is_allowed());
//! assert_eq!(decision.to_string(), r#"allowed by statement 0 of policy "AliyunOSSReadOnlyAccess""#);
//!
//! // Errors say where, what was found, and what was expected.
//! let err = Policy::parse(r#"{"Version": "1", "Statement": [
//!     {"Effect": "Allow", "Action": "oss:Get*", "Resource ": "*"}]}"#).unwrap_err();
//! assert_eq!(err.to_string(),
//!     r#"Statement[0]: unknown key "Resource " (note the trailing space); did you mean "Resource"?"#);
//! ```
//!
//! # Semantics in one place
//!
//! * Deny wins over Allow; nothing matching means implicit deny (module `decision`).
//! * Session policies restrict: evaluate role policies and the session policy separately and
//!   combine with [`Decision::intersect`] — both must Allow, a Deny in either denies.
//! * Actions match case-insensitively; resources case-sensitively except the `acs:<service>:`
//!   prefix; `*` and `?` wildcards in both and in `StringLike` (modules `pattern`, `glob`).
//! * Conditions: operators AND, keys AND, values OR; negated operators NOR; missing key makes a
//!   positive operator false and a negated one true; `...IfExists` is true when the key is
//!   missing (module `condition`).
//! * Parsing is fail-closed: unknown keys, operators and global condition keys are errors, with
//!   "did you mean" hints for wrong case and stray whitespace (module `statement`).
//! * The caller sets `acs:CurrentTime`, `acs:SourceIp`, `acs:SecureTransport` etc. in the
//!   [`Context`]; this crate never reads the clock or the network.

mod condition;
mod context;
mod decision;
mod error;
mod explain;
mod glob;
mod hint;
mod json;
mod pattern;
mod policy;
mod statement;
mod trust;

pub use condition::operator_names;
pub use condition::ConditionTrace;
pub use context::{keys, Context, Request};
pub use decision::{evaluate, DecidingStatement, Decision, Outcome, PolicySet};
pub use error::{Location, PolicyError};
pub use explain::{explain, StatementTrace};
pub use glob::wildcard_match;
pub use json::reject_duplicate_keys;
pub use policy::Policy;
pub use statement::{Effect, Statement};
pub use trust::{Principal, TrustPolicy, ASSUME_ROLE, ASSUME_ROLE_WITH_OIDC, ASSUME_ROLE_WITH_SAML};

#[cfg(test)]
mod tests;
