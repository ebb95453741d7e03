//! The `Action`/`NotAction` and `Resource`/`NotResource` elements: validation of each entry and
//! the compiled pattern lists a statement matches requests against.
//!
//! Rules (from the RAM "policy elements" page; the strictness is ours, to fail closed):
//! * An action is `*` or `<service>:<ActionName>`. The service is letters, digits and `-`; the
//!   name is letters, digits, `_`, `-`, `.` and the wildcards `*`/`?`. Whitespace anywhere is an
//!   error (a doc sample has `"ecs: CreateInstance"`, which RAM would never match). Matching is
//!   ASCII-case-insensitive (`ecs:DetachInstanceRAMRole` appears in an official sample).
//! * A resource is `*` or `acs:<service>:<region>:<account-id>:<relative-id>`; region and account
//!   may be empty (`acs:ram::123:role/x`) or wildcards. An empty region has two readings: any
//!   region, as `*`, or only the global `*` that requests to RAM and STS carry; an empty account
//!   either any account or none. A `Deny` takes the wider reading, an `Allow` the narrower (see
//!   `Statement::covers`). AWS `arn:` names are rejected with a hint.
//!   Matching is case-sensitive except for the `acs:<service>:` prefix; whitespace is allowed only
//!   inside the relative id (OSS object keys may contain spaces).

use crate::error::{Location, PolicyError};
use crate::glob::{Case, Glob};
use crate::json::Json;

/// A list of compiled patterns; `any` short-cuts lists that contain `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PatternList {
    any: bool,
    globs: Vec<Glob>,
    /// For each glob, what it left empty (compiled as `*`).
    empty: Vec<Empty>,
}

/// How a resource pattern is read where RAM leaves the reading open; a statement weighs every
/// reading that applies (`Statement::covers`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Compare every literal without ASCII case (names RAM may compare either way).
    pub(crate) fold_all: bool,
    /// An empty region matches only a request's global `*` region, not a named one, and an
    /// empty account matches no account.
    pub(crate) narrow_regions: bool,
}

/// The parts of a resource pattern written empty (`acs:ram::123:...`, `acs:ecs:*::...`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Empty {
    region: bool,
    account: bool,
}

impl PatternList {
    pub(crate) fn matches_reading(&self, text: &str, reading: Reading) -> bool {
        let global = || text.split(':').nth(2) == Some("*");
        let narrowed_out = |empty: &Empty| reading.narrow_regions && (empty.account || (empty.region && !global()));
        self.any || self.globs.iter().zip(&self.empty).any(|(g, empty)| !narrowed_out(empty) && g.matches_with(text, reading.fold_all))
    }

    /// Whether a pattern was written with an empty region or account (so it has a narrower reading).
    pub(crate) fn has_empty_parts(&self) -> bool {
        self.empty.iter().any(|e| e.region || e.account)
    }

    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.globs.iter().map(Glob::as_str)
    }

    pub(crate) fn from_globs(globs: Vec<Glob>) -> Self {
        let empty = vec![Empty::default(); globs.len()];
        PatternList { any: globs.iter().any(Glob::matches_everything), globs, empty }
    }
}

/// `Action` (match any listed) or `NotAction` (match anything not listed); same for resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Listed(PatternList),
    AllExcept(PatternList),
}

impl Target {
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.matches_with(text, false)
    }

    pub(crate) fn matches_with(&self, text: &str, fold_all: bool) -> bool {
        self.matches_reading(text, Reading { fold_all, narrow_regions: false })
    }

    pub(crate) fn matches_reading(&self, text: &str, reading: Reading) -> bool {
        match self {
            Target::Listed(list) => list.matches_reading(text, reading),
            Target::AllExcept(list) => !list.matches_reading(text, reading),
        }
    }

    pub(crate) fn list(&self) -> &PatternList {
        match self {
            Target::Listed(list) | Target::AllExcept(list) => list,
        }
    }
}

/// Reads a string or a non-empty list of strings, validating each with `item`.
pub(crate) fn string_list<T>(
    value: &Json,
    location: &Location,
    what: &str,
    mut item: impl FnMut(&str, &Location) -> Result<T, PolicyError>,
) -> Result<Vec<T>, PolicyError> {
    match value {
        Json::String(s) => Ok(vec![item(s, location)?]),
        Json::Array(items) if items.is_empty() => Err(PolicyError::WrongType {
            location: location.clone(),
            expected: format!("{what} (a string or a non-empty list of strings)"),
            found: value.describe(),
        }),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let at = location.index(i);
                match v {
                    Json::String(s) => item(s, &at),
                    other => Err(PolicyError::WrongType { location: at, expected: format!("{what} as a string"), found: other.describe() }),
                }
            })
            .collect(),
        other => Err(PolicyError::WrongType {
            location: location.clone(),
            expected: format!("{what} (a string or a non-empty list of strings)"),
            found: other.describe(),
        }),
    }
}

pub(crate) fn action_list(value: &Json, location: &Location) -> Result<PatternList, PolicyError> {
    let globs = string_list(value, location, "an action", |s, at| {
        validate_action(s, at)?;
        Ok(Glob::new(s, Case::Insensitive))
    })?;
    Ok(PatternList::from_globs(globs))
}

pub(crate) fn resource_list(value: &Json, location: &Location) -> Result<PatternList, PolicyError> {
    let compiled = string_list(value, location, "a resource", |s, at| {
        let fold = validate_resource(s, at)?;
        let (widened, empty) = widen_empty_parts(s);
        Ok((Glob::new(widened.as_deref().unwrap_or(s), Case::InsensitivePrefix(fold)), empty))
    })?;
    let (globs, empty): (Vec<Glob>, Vec<Empty>) = compiled.into_iter().unzip();
    Ok(PatternList { empty, ..PatternList::from_globs(globs) })
}

/// A resource pattern with an empty region or account, widened to `*` there (`None` when neither
/// is empty). An empty region is the form RAM prints its own ARNs in (`acs:ram::123:role/x`) and
/// Alibaba's published policies use; requests name global resources with `*` there
/// (`acs:ram:*:123:role/x`), and a `Deny` written the first way must not miss them. Whether RAM
/// reads an empty region as every named region (`cn-hangzhou` for ECS), or an empty account as
/// every account, is not documented, so only a `Deny` reads them so.
fn widen_empty_parts(pattern: &str) -> (Option<String>, Empty) {
    let mut parts = pattern.splitn(5, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(acs), Some(service), Some(region), Some(account), Some(rest))
            if acs.eq_ignore_ascii_case("acs") && (region.is_empty() || account.is_empty()) =>
        {
            let or_any = |part: &str| if part.is_empty() { "*".to_string() } else { part.to_string() };
            let empty = Empty { region: region.is_empty(), account: account.is_empty() };
            (Some(format!("{acs}:{service}:{}:{}:{rest}", or_any(region), or_any(account))), empty)
        }
        _ => (None, Empty::default()),
    }
}

const ACTION_FORMAT: &str = "expected \"<service>:<ActionName>\" such as \"oss:GetObject\" or \"ecs:Describe*\", or \"*\" for every action";

pub(crate) fn validate_action(action: &str, at: &Location) -> Result<(), PolicyError> {
    if action.is_empty() {
        return Err(PolicyError::invalid(at, action, format!("an action must not be empty; {ACTION_FORMAT}")));
    }
    if action.chars().any(char::is_whitespace) {
        let squeezed: String = action.chars().filter(|c| !c.is_whitespace()).collect();
        let mut expected =
            format!("an action must not contain whitespace ({}), or it never matches a request", crate::hint::describe_whitespace(action));
        if !squeezed.is_empty() && validate_action(&squeezed, at).is_ok() {
            expected.push_str(&format!("; did you mean {squeezed:?}?"));
        }
        return Err(PolicyError::invalid(at, action, expected));
    }
    if action.chars().all(|c| c == '*') {
        return Ok(());
    }
    let Some((service, name)) = action.split_once(':') else {
        return Err(PolicyError::invalid(at, action, format!("the service prefix is missing; {ACTION_FORMAT}")));
    };
    if service.is_empty() {
        return Err(PolicyError::invalid(at, action, format!("the service prefix before ':' is empty; {ACTION_FORMAT}")));
    }
    if let Some(bad) = service.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-')) {
        return Err(PolicyError::invalid(
            at,
            action,
            format!("the service prefix {service:?} may contain only letters, digits and '-' (found {bad:?}); {ACTION_FORMAT}"),
        ));
    }
    if name.is_empty() {
        return Err(PolicyError::invalid(
            at,
            action,
            format!("the action name after \"{service}:\" is empty; use \"{service}:*\" for every {service} action"),
        ));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "*?_-.".contains(*c))) {
        let extra = if bad == ':' { " (an action has exactly one ':')" } else { "" };
        return Err(PolicyError::invalid(
            at,
            action,
            format!(
                "the action name {name:?} may contain only letters, digits, '_', '-', '.' and the wildcards '*' and '?' (found {bad:?}){extra}"
            ),
        ));
    }
    Ok(())
}

const RESOURCE_FORMAT: &str = "expected \"*\" or \"acs:<service>:<region>:<account-id>:<relative-id>\" such as \"acs:oss:*:*:mybucket/*\"";

/// Validates a resource pattern; returns the byte length of its case-insensitive
/// `acs:<service>:` prefix (stopping early at a wildcard).
pub(crate) fn validate_resource(resource: &str, at: &Location) -> Result<usize, PolicyError> {
    if resource.is_empty() {
        return Err(PolicyError::invalid(at, resource, format!("a resource must not be empty; {RESOURCE_FORMAT}")));
    }
    if resource.trim() != resource {
        return Err(PolicyError::invalid(
            at,
            resource,
            format!(
                "a resource must not start or end with whitespace ({}); did you mean {:?}?",
                crate::hint::describe_whitespace(resource),
                resource.trim()
            ),
        ));
    }
    if resource.chars().all(|c| c == '*') {
        return Ok(0);
    }
    if resource.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("arn:")) {
        return Err(PolicyError::invalid(
            at,
            resource,
            format!("this is an AWS ARN; RAM resources start with \"acs:\"; {RESOURCE_FORMAT}"),
        ));
    }
    let parts: Vec<&str> = resource.splitn(5, ':').collect();
    if !parts[0].eq_ignore_ascii_case("acs") || parts.len() < 5 {
        return Err(PolicyError::invalid(at, resource, RESOURCE_FORMAT));
    }
    let (service, region, account) = (parts[1], parts[2], parts[3]);
    if service.is_empty() {
        return Err(PolicyError::invalid(at, resource, format!("the service name is empty; {RESOURCE_FORMAT}")));
    }
    for (field, text) in [("service name", service), ("region", region), ("account id", account)] {
        if let Some(bad) = text.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_*?".contains(*c))) {
            return Err(PolicyError::invalid(at, resource, format!("the {field} {text:?} contains {bad:?}; {RESOURCE_FORMAT}")));
        }
    }
    if parts[4].is_empty() {
        return Err(PolicyError::invalid(
            at,
            resource,
            format!("the relative id after the account is empty; use \"*\" to mean every {service} resource"),
        ));
    }
    let prefix = 4 + service.len() + 1;
    Ok(resource.find(['*', '?']).map_or(prefix, |w| w.min(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action_err(a: &str) -> String {
        validate_action(a, &Location::root()).unwrap_err().to_string()
    }

    fn resource_err(r: &str) -> String {
        validate_resource(r, &Location::root()).unwrap_err().to_string()
    }

    #[test]
    fn valid_actions() {
        for a in ["*", "oss:GetObject", "oss:Get*", "ecs:Describe?nstances", "oss:*", "ram:PassRole", "cms:*", "log-x:A_b.c-d"] {
            validate_action(a, &Location::root()).unwrap();
        }
    }

    #[test]
    fn invalid_actions_say_why() {
        let e = action_err("ecs: CreateInstance");
        assert!(e.contains("must not contain whitespace"), "{e}");
        assert!(e.contains("did you mean \"ecs:CreateInstance\"?"), "{e}");
        assert!(action_err("").contains("empty"));
        assert!(action_err("GetObject").contains("service prefix is missing"));
        assert!(action_err(":GetObject").contains("empty"));
        assert!(action_err("oss:").contains("\"oss:*\""));
        assert!(action_err("o$s:Get").contains("only letters, digits and '-'"));
        assert!(action_err("oss:Get:Object").contains("exactly one ':'"));
        assert!(action_err("ecs:[ECS RAM Action]").contains("whitespace"));
        assert!(action_err("ecs:[Action]").contains("found '['"));
    }

    #[test]
    fn resources() {
        assert_eq!(validate_resource("*", &Location::root()).unwrap(), 0);
        assert_eq!(validate_resource("acs:oss:*:*:bkt/*", &Location::root()).unwrap(), 8);
        assert_eq!(validate_resource("acs:ram::123:role/x", &Location::root()).unwrap(), 8);
        assert_eq!(validate_resource("acs:o*:*:*:x", &Location::root()).unwrap(), 5);
        validate_resource("acs:oss:*:*:my bucket/a file.txt", &Location::root()).unwrap();
        assert!(resource_err("arn:aws:s3:::bkt/*").contains("AWS ARN"));
        assert!(resource_err("acs:oss:*:*").contains("expected \"*\""));
        assert!(resource_err("acs:oss:*:*:").contains("relative id"));
        assert!(resource_err(" *").contains("did you mean \"*\""));
        assert!(resource_err("acs:oss: *:*:x").contains("region"));
        assert!(resource_err("").contains("empty"));
        assert!(resource_err("bucket/key").contains("expected"));
    }

    #[test]
    fn lists() {
        let list =
            action_list(&Json::Array(vec![Json::String("oss:Get*".into()), Json::String("oss:List*".into())]), &Location::root()).unwrap();
        assert!(
            list.matches_reading("oss:GetObject", Reading::default())
                && list.matches_reading("OSS:listobjects", Reading::default())
                && !list.matches_reading("oss:PutObject", Reading::default())
        );
        let e = action_list(&Json::Array(vec![]), &Location::root().key("Action")).unwrap_err().to_string();
        assert_eq!(e, "Action: expected an action (a string or a non-empty list of strings), found an empty list");
        let e = action_list(&Json::Array(vec![Json::Bool(true)]), &Location::root().key("Action")).unwrap_err().to_string();
        assert_eq!(e, "Action[0]: expected an action as a string, found a boolean (true)");
    }
}
