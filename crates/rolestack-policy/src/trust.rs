//! Trust policies (a role's `AssumeRolePolicyDocument`): who may assume the role.
//!
//! A trust statement has `Effect`, `Action` (`sts:AssumeRole`, or `sts:AssumeRoleWithSAML` /
//! `sts:AssumeRoleWithOIDC`), `Principal` and optionally `Condition`; no `Resource`, because the
//! role itself is the resource. `Principal` is an object with any of:
//! * `Service`: cloud services, such as `ecs.aliyuncs.com` (ECS instance roles) or, for a
//!   service acting for another account, `<account-id>@ecs.aliyuncs.com`. Compared
//!   case-insensitively.
//! * `RAM`: an account id (`1234567890123456`, the same as `acs:ram::1234567890123456:root`),
//!   which trusts every RAM identity of that account, or a specific `user/<name>` or
//!   `role/<name>` ARN. A role ARN also matches sessions of that role
//!   (`assumed-role/<role>/<session>`). Names are compared case-insensitively, because RAM
//!   treats user and role names case-insensitively (UNVERIFIED; it avoids false denials if an
//!   ARN is rendered in a different case than the trust policy was written in).
//! * `Federated`: `acs:ram::<account-id>:saml-provider/<name>` or `.../oidc-provider/<name>`.
//!
//! Wildcards are not accepted in principals (RAM documents none; failing closed). As in
//! permission policies, an explicit `Deny` statement that matches wins over any `Allow`.
//!
//! Note that a trust policy is only half of `AssumeRole` for RAM identities: the caller's own
//! permission policies must also allow `sts:AssumeRole` on the role (the caller checks that
//! with [`crate::evaluate`]).

use crate::context::Context;
use crate::decision::{decide, Decision};
use crate::error::{Location, PolicyError};
use crate::hint::{describe_whitespace, near_miss};
use crate::json::{reject_duplicates, Json};
use crate::pattern::string_list;
use crate::statement::{parse_document, Effect, Kind, Statement};

pub const ASSUME_ROLE: &str = "sts:AssumeRole";
pub const ASSUME_ROLE_WITH_SAML: &str = "sts:AssumeRoleWithSAML";
pub const ASSUME_ROLE_WITH_OIDC: &str = "sts:AssumeRoleWithOIDC";
pub(crate) const ASSUME_ACTIONS: [&str; 3] = [ASSUME_ROLE, ASSUME_ROLE_WITH_SAML, ASSUME_ROLE_WITH_OIDC];

/// Who is asking to assume a role.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A cloud service, such as `ecs.aliyuncs.com` when ECS fetches credentials for an instance.
    Service(String),
    /// A RAM identity: its account id and its ARN (`acs:ram::<account>:root`,
    /// `...:user/<name>`, `...:role/<name>` or `...:assumed-role/<role>/<session>`).
    Ram { account_id: String, arn: String },
    /// A SAML or OIDC identity provider ARN.
    Federated(String),
}

impl Principal {
    pub fn service(name: impl Into<String>) -> Self {
        Principal::Service(name.into())
    }

    pub fn ram(account_id: impl Into<String>, arn: impl Into<String>) -> Self {
        Principal::Ram { account_id: account_id.into(), arn: arn.into() }
    }

    /// A RAM principal from its ARN alone, taking the account id from the ARN; `None` if the
    /// text is not an `acs:ram::<account-id>:...` ARN.
    pub fn from_ram_arn(arn: &str) -> Option<Self> {
        let parsed = RamArn::parse(arn)?;
        Some(Principal::ram(parsed.account, arn))
    }

    /// The STS action this principal uses to assume a role.
    pub fn assume_action(&self) -> &'static str {
        match self {
            Principal::Federated(arn) if arn.to_ascii_lowercase().contains(":oidc-provider/") => ASSUME_ROLE_WITH_OIDC,
            Principal::Federated(_) => ASSUME_ROLE_WITH_SAML,
            _ => ASSUME_ROLE,
        }
    }
}

/// `acs:ram::<account>:<resource>` split into its parts.
struct RamArn<'a> {
    account: &'a str,
    resource: &'a str,
}

impl<'a> RamArn<'a> {
    fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(5, ':');
        let (acs, ram, region, account, resource) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let ok = acs.eq_ignore_ascii_case("acs")
            && ram.eq_ignore_ascii_case("ram")
            && (region.is_empty() || region == "*")
            && is_account_id(account)
            && !resource.is_empty();
        ok.then_some(RamArn { account, resource })
    }

    /// `(kind, name)` for `kind/name` resources; the name may contain further `/`.
    fn typed(&self) -> Option<(&'a str, &'a str)> {
        self.resource.split_once('/').filter(|(_, name)| !name.is_empty())
    }
}

fn is_account_id(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// One trusted entity from a `Principal` element.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Trusted {
    /// Service name as written (compared case-insensitively).
    Service(String),
    /// Every RAM identity of this account.
    Account(String),
    User {
        account: String,
        name: String,
    },
    Role {
        account: String,
        name: String,
    },
    Federated(String),
}

impl Trusted {
    fn matches(&self, principal: &Principal) -> bool {
        match (self, principal) {
            (Trusted::Service(s), Principal::Service(p)) => s.eq_ignore_ascii_case(p),
            (Trusted::Account(a), Principal::Ram { account_id, .. }) => a == account_id,
            (Trusted::User { account, name }, Principal::Ram { arn, .. }) => {
                let Some(parsed) = RamArn::parse(arn) else {
                    return false;
                };
                parsed.account == account
                    && matches!(parsed.typed(), Some((kind, n)) if kind.eq_ignore_ascii_case("user") && n.eq_ignore_ascii_case(name))
            }
            (Trusted::Role { account, name }, Principal::Ram { arn, .. }) => {
                let Some(parsed) = RamArn::parse(arn) else {
                    return false;
                };
                if parsed.account != account {
                    return false;
                }
                match parsed.typed() {
                    Some((kind, n)) if kind.eq_ignore_ascii_case("role") => n.eq_ignore_ascii_case(name),
                    Some((kind, rest)) if kind.eq_ignore_ascii_case("assumed-role") => {
                        rest.split_once('/').is_some_and(|(role, _session)| role.eq_ignore_ascii_case(name))
                    }
                    _ => false,
                }
            }
            (Trusted::Federated(f), Principal::Federated(p)) => f.eq_ignore_ascii_case(p),
            _ => false,
        }
    }
}

/// The parsed `Principal` element of a trust statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    trusted: Vec<Trusted>,
}

const PRINCIPAL_KEYS: &[&str] = &["Service", "RAM", "Federated"];
const PRINCIPAL_EXAMPLE: &str = "an object such as {\"Service\": [\"ecs.aliyuncs.com\"]} or {\"RAM\": [\"acs:ram::<account-id>:root\"]}";

impl PrincipalSet {
    pub(crate) fn matches(&self, principal: &Principal) -> bool {
        self.trusted.iter().any(|t| t.matches(principal))
    }

    fn services(&self) -> impl Iterator<Item = &str> {
        self.trusted.iter().filter_map(|t| match t {
            Trusted::Service(s) => Some(s.as_str()),
            _ => None,
        })
    }

    pub(crate) fn parse(value: &Json, at: &Location) -> Result<PrincipalSet, PolicyError> {
        let entries = match value {
            Json::Object(entries) if !entries.is_empty() => entries,
            other => {
                return Err(PolicyError::WrongType {
                    location: at.clone(),
                    expected: PRINCIPAL_EXAMPLE.to_owned(),
                    found: other.describe(),
                })
            }
        };
        reject_duplicates(entries, at, false)?;
        let mut trusted = Vec::new();
        for (key, value) in entries {
            let value_at = at.key(key);
            let parsed = match key.as_str() {
                "Service" => string_list(value, &value_at, "a service name", parse_service)?,
                "RAM" => string_list(value, &value_at, "a RAM account id or ARN", parse_ram)?,
                "Federated" => string_list(value, &value_at, "an identity provider ARN", parse_federated)?,
                _ => {
                    return Err(PolicyError::UnknownKey {
                        location: at.clone(),
                        key: key.clone(),
                        hint: near_miss(key, PRINCIPAL_KEYS, "keys"),
                    })
                }
            };
            trusted.extend(parsed);
        }
        Ok(PrincipalSet { trusted })
    }
}

fn no_surrounding_space(s: &str, at: &Location) -> Result<(), PolicyError> {
    if s.trim() != s || s.is_empty() {
        let did_you_mean = if s.trim().is_empty() { String::new() } else { format!("; did you mean {:?}?", s.trim()) };
        let what = if s.trim().is_empty() { "it is empty".to_owned() } else { describe_whitespace(s) };
        return Err(PolicyError::invalid(at, s, format!("a principal must not be empty or padded with whitespace ({what}){did_you_mean}")));
    }
    Ok(())
}

fn parse_service(s: &str, at: &Location) -> Result<Trusted, PolicyError> {
    no_surrounding_space(s, at)?;
    let name = match s.split_once('@') {
        Some((account, name)) if is_account_id(account) => name,
        Some(_) => {
            return Err(PolicyError::invalid(
                at,
                s,
                "a service principal is \"<service>.aliyuncs.com\" or \"<account-id>@<service>.aliyuncs.com\"",
            ))
        }
        None => s,
    };
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !valid_chars || name.starts_with('.') || name.ends_with('.') {
        return Err(PolicyError::invalid(at, s, "a service principal is a domain name such as \"ecs.aliyuncs.com\""));
    }
    if !name.contains('.') {
        return Err(PolicyError::invalid(
            at,
            s,
            format!("a service principal is a full domain name; did you mean \"{}.aliyuncs.com\"?", name.to_ascii_lowercase()),
        ));
    }
    Ok(Trusted::Service(s.to_owned()))
}

fn parse_ram(s: &str, at: &Location) -> Result<Trusted, PolicyError> {
    no_surrounding_space(s, at)?;
    const FORMS: &str = "a RAM principal is an account id such as \"1234567890123456\" (meaning every identity in that account) or an ARN such as \"acs:ram::<account-id>:root\", \"acs:ram::<account-id>:user/<name>\" or \"acs:ram::<account-id>:role/<name>\"";
    let wildcard_note = if s.contains(['*', '?']) { "; wildcards are not allowed in principals" } else { "" };
    if is_account_id(s) {
        return Ok(Trusted::Account(s.to_owned()));
    }
    let invalid = || PolicyError::invalid(at, s, format!("{FORMS}{wildcard_note}"));
    let arn = RamArn::parse(s).ok_or_else(invalid)?;
    if s.contains(['*', '?']) {
        return Err(invalid());
    }
    let account = arn.account.to_owned();
    if arn.resource.eq_ignore_ascii_case("root") {
        return Ok(Trusted::Account(account));
    }
    match arn.typed() {
        Some((kind, name)) if kind.eq_ignore_ascii_case("user") => Ok(Trusted::User { account, name: name.to_owned() }),
        Some((kind, name)) if kind.eq_ignore_ascii_case("role") => Ok(Trusted::Role { account, name: name.to_owned() }),
        _ => Err(invalid()),
    }
}

fn parse_federated(s: &str, at: &Location) -> Result<Trusted, PolicyError> {
    no_surrounding_space(s, at)?;
    let ok = RamArn::parse(s)
        .and_then(|arn| arn.typed())
        .is_some_and(|(kind, _)| kind.eq_ignore_ascii_case("saml-provider") || kind.eq_ignore_ascii_case("oidc-provider"));
    if !ok || s.contains(['*', '?']) {
        return Err(PolicyError::invalid(
            at,
            s,
            "a federated principal is \"acs:ram::<account-id>:saml-provider/<name>\" or \"acs:ram::<account-id>:oidc-provider/<name>\"",
        ));
    }
    Ok(Trusted::Federated(s.to_owned()))
}

/// A parsed trust policy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustPolicy {
    statements: Vec<Statement>,
}

impl TrustPolicy {
    /// Parses and validates a trust policy document (see the module docs for the rules).
    pub fn parse(text: &str) -> Result<TrustPolicy, PolicyError> {
        Ok(TrustPolicy { statements: parse_document(text, Kind::Trust)? })
    }

    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }

    /// May `principal` assume the role, using the STS action that fits the principal
    /// (`sts:AssumeRole` for services and RAM identities)?
    pub fn allows(&self, principal: &Principal, context: &Context) -> bool {
        self.evaluate(principal.assume_action(), principal, context).is_allowed()
    }

    /// The full decision, with the deciding statement, for `principal` performing `action`.
    pub fn evaluate(&self, action: &str, principal: &Principal, context: &Context) -> Decision {
        decide([("trust policy", self.statements.as_slice())], |s| s.applies_to_principal(action, principal, context))
    }

    /// The services named in `Allow` statements, in document order without duplicates (for the
    /// ECS check "does this role trust ecs.aliyuncs.com?", see [`TrustPolicy::trusts_service`]).
    pub fn trusted_services(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for statement in self.statements.iter().filter(|s| s.effect() == Effect::Allow) {
            for service in statement.principal().into_iter().flat_map(PrincipalSet::services) {
                if !out.iter().any(|s| s.eq_ignore_ascii_case(service)) {
                    out.push(service);
                }
            }
        }
        out
    }

    /// True if an `Allow` statement names `service` (case-insensitive), whatever its conditions.
    /// This is the static check ECS makes when a role is attached to an instance.
    pub fn trusts_service(&self, service: &str) -> bool {
        self.trusted_services().iter().any(|s| s.eq_ignore_ascii_case(service))
    }
}

impl std::str::FromStr for TrustPolicy {
    type Err = PolicyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TrustPolicy::parse(text)
    }
}
