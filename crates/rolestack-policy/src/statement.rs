//! Statements and the document envelope (`Version`, `Statement`) shared by permission policies
//! and trust policies.
//!
//! Validation choices (RAM documents the grammar, not its error behaviour; ours fails closed):
//! * Keys are case-sensitive and exact: `"Resource "` (trailing space, from a real doc sample) is
//!   an unknown key, reported with a "did you mean" hint. Duplicate keys are errors.
//! * `Version` is required and must be the string `"1"`. Date-style versions (`"2016-10-17"` from
//!   an Alibaba doc sample, AWS's `"2012-10-17"`) are rejected with an explanation.
//! * `Statement` is a list; a single statement object is tolerated. An empty list is accepted
//!   (it allows nothing).
//! * `Sid` is optional and free text; it only labels the statement in errors and explanations.
//! * `Effect` is exactly `"Allow"` or `"Deny"`.
//! * Exactly one of `Action`/`NotAction`. Permission statements need exactly one of
//!   `Resource`/`NotResource` and may not have `Principal`; trust statements need `Principal`,
//!   may not have `Resource`/`NotResource`/`NotAction`, and their actions must be
//!   `sts:AssumeRole`, `sts:AssumeRoleWithSAML` or `sts:AssumeRoleWithOIDC` (wildcards that cover
//!   one of them, such as `sts:*`, are accepted).

use crate::condition::Condition;
use crate::context::{Context, Request};
use crate::error::{Location, PolicyError};
use crate::glob::{Case, Glob};
use crate::hint::{closest, describe_whitespace, near_miss, Miss};
use crate::json::{self, reject_duplicates, Json};
use crate::pattern::{action_list, resource_list, string_list, validate_action, PatternList, Reading, Target};
use crate::trust::{Principal, PrincipalSet, ASSUME_ACTIONS};

/// Whether a statement grants or forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// One parsed statement, with its patterns compiled for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    sid: Option<String>,
    effect: Effect,
    action: Target,
    resource: Option<Target>,
    principal: Option<PrincipalSet>,
    condition: Option<Condition>,
}

impl Statement {
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The `Action` (or, if [`Statement::is_not_action`], `NotAction`) patterns as written.
    pub fn actions(&self) -> impl Iterator<Item = &str> {
        self.action.list().patterns()
    }

    pub fn is_not_action(&self) -> bool {
        matches!(self.action, Target::AllExcept(_))
    }

    /// The `Resource`/`NotResource` patterns as written; empty for trust statements.
    pub fn resources(&self) -> impl Iterator<Item = &str> {
        self.resource.iter().flat_map(|r| r.list().patterns())
    }

    pub fn is_not_resource(&self) -> bool {
        matches!(self.resource, Some(Target::AllExcept(_)))
    }

    pub fn has_condition(&self) -> bool {
        self.condition.is_some()
    }

    pub(crate) fn principal(&self) -> Option<&PrincipalSet> {
        self.principal.as_ref()
    }

    /// Does this (permission) statement cover the request? Cheapest checks first.
    pub(crate) fn applies_to(&self, request: &Request<'_>) -> bool {
        self.action.matches(request.action)
            && self.resource.as_ref().map_or(true, |r| self.covers(r, request))
            && self.condition_holds(request.context)
    }

    /// Resource coverage. Where a pattern has more than one reading — the resource's names may be
    /// compared either with or without case ([`Request::names_ignore_case`]), an empty region may
    /// mean every region or only the global one, an empty account every account or none
    /// ([`Reading`]) — take the reading that denies more:
    /// a `Deny` covers what any reading covers, an `Allow` only what every reading does.
    fn covers(&self, resource: &Target, request: &Request<'_>) -> bool {
        let folds: &[bool] = if request.names_ignore_case { &[false, true] } else { &[false] };
        let narrows: &[bool] = if resource.list().has_empty_parts() { &[false, true] } else { &[false] };
        let mut readings =
            folds.iter().flat_map(|&fold_all| narrows.iter().map(move |&narrow_regions| Reading { fold_all, narrow_regions }));
        let mut covered = |r: Reading| resource.matches_reading(request.resource, r);
        match self.effect {
            Effect::Deny => readings.any(&mut covered),
            Effect::Allow => readings.all(&mut covered),
        }
    }

    /// Does this (trust) statement cover `principal` performing `action`?
    pub(crate) fn applies_to_principal(&self, action: &str, principal: &Principal, context: &Context) -> bool {
        self.action.matches(action) && self.principal.as_ref().is_some_and(|p| p.matches(principal)) && self.condition_holds(context)
    }

    /// Whether the action and resource match, and each condition clause evaluated (explanations).
    pub(crate) fn trace(&self, request: &Request<'_>) -> (bool, bool, Vec<crate::condition::ConditionTrace>) {
        let action = self.action.matches(request.action);
        let resource = self.resource.as_ref().map_or(true, |r| self.covers(r, request));
        let conditions = self.condition.as_ref().map_or_else(Vec::new, |c| c.trace(request.context));
        (action, resource, conditions)
    }

    fn condition_holds(&self, context: &Context) -> bool {
        self.condition.as_ref().map_or(true, |c| c.holds(context))
    }
}

/// Which kind of document is being read; they share the grammar but not the allowed keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Permission,
    Trust,
}

const TOP_KEYS: &[&str] = &["Version", "Statement"];
const PERMISSION_KEYS: &[&str] = &["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const TRUST_KEYS: &[&str] = &["Sid", "Effect", "Action", "Principal", "Condition"];

/// Parses a whole document into its statements.
pub(crate) fn parse_document(text: &str, kind: Kind) -> Result<Vec<Statement>, PolicyError> {
    let root = Location::root();
    let document = json::parse(text)?;
    let Json::Object(entries) = &document else {
        return Err(PolicyError::WrongType {
            location: root,
            expected: "a JSON object with \"Version\" and \"Statement\"".to_owned(),
            found: document.describe(),
        });
    };
    reject_duplicates(entries, &root, false)?;
    for (key, _) in entries {
        if !TOP_KEYS.contains(&key.as_str()) {
            return Err(PolicyError::UnknownKey { location: root, key: key.clone(), hint: near_miss(key, TOP_KEYS, "keys") });
        }
    }
    let get = |name: &str| entries.iter().find(|(k, _)| k == name).map(|(_, v)| v);
    match get("Version") {
        Some(version) => check_version(version, &root.key("Version"))?,
        None => {
            return Err(PolicyError::MissingKey {
                location: root,
                key: "Version".to_owned(),
                hint: "; RAM policies must declare \"Version\": \"1\"".to_owned(),
            })
        }
    }
    let Some(statements) = get("Statement") else {
        return Err(PolicyError::MissingKey {
            location: root,
            key: "Statement".to_owned(),
            hint: "; add \"Statement\": [ ... ] with the policy's statements".to_owned(),
        });
    };
    match statements {
        Json::Array(items) => items.iter().enumerate().map(|(i, s)| parse_statement(s, i, true, kind)).collect(),
        Json::Object(_) => Ok(vec![parse_statement(statements, 0, false, kind)?]),
        other => Err(PolicyError::WrongType {
            location: root.key("Statement"),
            expected: "a list of statement objects".to_owned(),
            found: other.describe(),
        }),
    }
}

fn check_version(version: &Json, at: &Location) -> Result<(), PolicyError> {
    const ONLY: &str = "RAM policies only accept \"Version\": \"1\"";
    match version {
        Json::String(v) if v == "1" => Ok(()),
        Json::String(v) if v.trim() == "1" => {
            Err(PolicyError::invalid(at, v, format!("{ONLY} ({}); did you mean \"1\"?", describe_whitespace(v))))
        }
        Json::String(v) if v == "2012-10-17" || v == "2008-10-17" => {
            Err(PolicyError::invalid(at, v, format!("{ONLY}; {v:?} is the AWS IAM policy-language version, which RAM does not use")))
        }
        Json::String(v) if v.contains('-') => Err(PolicyError::invalid(
            at,
            v,
            format!("{ONLY}; date-style versions such as {v:?} appear in some documentation samples but are not valid RAM policy versions"),
        )),
        Json::String(v) => Err(PolicyError::invalid(at, v, ONLY)),
        Json::Number(n) if n.as_u64() == Some(1) => Err(PolicyError::InvalidValue {
            location: at.clone(),
            found: n.to_string(),
            expected: format!("{ONLY}: the version is the string \"1\", in quotes"),
        }),
        other => Err(PolicyError::WrongType { location: at.clone(), expected: "the string \"1\"".to_owned(), found: other.describe() }),
    }
}

fn parse_statement(value: &Json, index: usize, in_list: bool, kind: Kind) -> Result<Statement, PolicyError> {
    let Json::Object(entries) = value else {
        let at = if in_list { Location::root().key("Statement").index(index) } else { Location::root().key("Statement") };
        return Err(PolicyError::WrongType {
            location: at,
            expected: "a statement object such as {\"Effect\": \"Allow\", \"Action\": ..., \"Resource\": ...}".to_owned(),
            found: value.describe(),
        });
    };
    let sid = entries.iter().find_map(|(k, v)| match (k.as_str(), v) {
        ("Sid", Json::String(s)) => Some(s.clone()),
        _ => None,
    });
    let at = Location::statement(index, in_list, sid.clone());
    reject_duplicates(entries, &at, false)?;

    let mut effect = None;
    let mut action: Option<(&str, Target)> = None;
    let mut resource: Option<(&str, Target)> = None;
    let mut principal = None;
    let mut condition = None;
    let allowed = match kind {
        Kind::Permission => PERMISSION_KEYS,
        Kind::Trust => TRUST_KEYS,
    };
    for (key, value) in entries {
        let key = key.as_str();
        let value_at = at.key(key);
        if !allowed.contains(&key) {
            return Err(PolicyError::UnknownKey { location: at, key: key.to_owned(), hint: statement_key_hint(key, kind) });
        }
        match key {
            "Sid" => {
                if !matches!(value, Json::String(_)) {
                    return Err(PolicyError::WrongType { location: value_at, expected: "a string".to_owned(), found: value.describe() });
                }
            }
            "Effect" => effect = Some(parse_effect(value, &value_at)?),
            "Action" | "NotAction" => {
                let list = match kind {
                    Kind::Permission => action_list(value, &value_at)?,
                    Kind::Trust => trust_action_list(value, &value_at)?,
                };
                let target = if key == "Action" { Target::Listed(list) } else { Target::AllExcept(list) };
                if let Some((first, _)) = action.replace((key, target)) {
                    return Err(PolicyError::ConflictingKeys { location: at, first: first.to_owned(), second: key.to_owned() });
                }
            }
            "Resource" | "NotResource" => {
                let list = resource_list(value, &value_at)?;
                let target = if key == "Resource" { Target::Listed(list) } else { Target::AllExcept(list) };
                if let Some((first, _)) = resource.replace((key, target)) {
                    return Err(PolicyError::ConflictingKeys { location: at, first: first.to_owned(), second: key.to_owned() });
                }
            }
            "Principal" => principal = Some(PrincipalSet::parse(value, &value_at)?),
            "Condition" => condition = Some(Condition::parse(value, &value_at)?),
            _ => unreachable!("key {key} was checked against the allowed list"),
        }
    }

    let Some(effect) = effect else {
        return Err(PolicyError::MissingKey {
            location: at,
            key: "Effect".to_owned(),
            hint: "; add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"".to_owned(),
        });
    };
    let Some((_, action)) = action else {
        let hint = match kind {
            Kind::Permission => "; every statement needs \"Action\" (or \"NotAction\"), such as \"Action\": \"oss:GetObject\"",
            Kind::Trust => "; a trust policy statement needs \"Action\": \"sts:AssumeRole\"",
        };
        return Err(PolicyError::MissingKey { location: at, key: "Action".to_owned(), hint: hint.to_owned() });
    };
    let resource = match (kind, resource) {
        (Kind::Permission, None) => return Err(PolicyError::MissingKey {
            location: at,
            key: "Resource".to_owned(),
            hint: "; a permission policy statement needs \"Resource\" (or \"NotResource\"); use \"Resource\": \"*\" to mean every resource"
                .to_owned(),
        }),
        (_, resource) => resource.map(|(_, r)| r),
    };
    if kind == Kind::Trust && principal.is_none() {
        return Err(PolicyError::MissingKey {
            location: at,
            key: "Principal".to_owned(),
            hint: "; a trust policy statement names who may assume the role, such as \"Principal\": {\"Service\": [\"ecs.aliyuncs.com\"]} or {\"RAM\": [\"acs:ram::<account-id>:root\"]}".to_owned(),
        });
    }
    Ok(Statement { sid, effect, action, resource, principal, condition })
}

fn parse_effect(value: &Json, at: &Location) -> Result<Effect, PolicyError> {
    const EFFECTS: &[&str] = &["Allow", "Deny"];
    match value {
        Json::String(s) if s == "Allow" => Ok(Effect::Allow),
        Json::String(s) if s == "Deny" => Ok(Effect::Deny),
        Json::String(s) => {
            let hint = match closest(s, EFFECTS) {
                Some((c, Miss::Whitespace)) => {
                    format!(" ({}); did you mean {c:?}?", describe_whitespace(s))
                }
                Some((c, Miss::Case)) => {
                    format!(" (the value is case-sensitive); did you mean {c:?}?")
                }
                Some((c, Miss::Typo)) => format!("; did you mean {c:?}?"),
                None => String::new(),
            };
            Err(PolicyError::invalid(at, s, format!("expected \"Allow\" or \"Deny\"{hint}")))
        }
        other => {
            Err(PolicyError::WrongType { location: at.clone(), expected: "\"Allow\" or \"Deny\"".to_owned(), found: other.describe() })
        }
    }
}

fn trust_action_list(value: &Json, at: &Location) -> Result<PatternList, PolicyError> {
    let globs = string_list(value, at, "an action", |s, at| {
        validate_action(s, at)?;
        let glob = Glob::new(s, Case::Insensitive);
        let is_sts = s.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("sts:"));
        if !is_sts || !ASSUME_ACTIONS.iter().any(|a| glob.matches(a)) {
            return Err(PolicyError::invalid(
                at,
                s,
                "a trust policy only grants \"sts:AssumeRole\" (or \"sts:AssumeRoleWithSAML\" / \"sts:AssumeRoleWithOIDC\" for federated principals); permissions belong in the role's permission policies",
            ));
        }
        Ok(glob)
    })?;
    Ok(PatternList::from_globs(globs))
}

/// Keys that exist in the other kind of document get a note saying so instead of a spelling hint.
fn statement_key_hint(key: &str, kind: Kind) -> String {
    let squeezed: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    let foreign: &[(&str, &str)] = match kind {
        Kind::Permission => &[
            ("Principal", "\"Principal\" is only used in trust policies (a role's AssumeRolePolicyDocument); a permission policy applies to whoever it is attached to and names what they may access with \"Resource\""),
            ("NotPrincipal", "RAM permission policies do not use \"NotPrincipal\""),
        ],
        Kind::Trust => &[
            ("Resource", "a trust policy has no \"Resource\" (the role itself is the resource); remove it"),
            ("NotResource", "a trust policy has no \"NotResource\" (the role itself is the resource); remove it"),
            ("NotAction", "a trust policy must use \"Action\": \"sts:AssumeRole\""),
        ],
    };
    if let Some((name, note)) = foreign.iter().find(|(name, _)| name.eq_ignore_ascii_case(&squeezed)) {
        return if key == *name {
            format!("; {note}")
        } else if squeezed == *name {
            format!(" ({}); {note}", describe_whitespace(key))
        } else {
            format!(" (keys are case-sensitive: {name:?}); {note}")
        };
    }
    let allowed = match kind {
        Kind::Permission => PERMISSION_KEYS,
        Kind::Trust => TRUST_KEYS,
    };
    near_miss(key, allowed, "keys")
}
