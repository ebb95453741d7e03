//! The `Action`/`NotAction` and `Resource`/`NotResource` elements: validation of each entry and
//! the compiled pattern lists a statement matches requests against.
//!
//! Rules (from the RAM "policy elements" page; the strictness is ours, to fail closed):
//! * An action is `*` or `<service>:<ActionName>`. The service is letters, digits and `-`; the
//!   name is letters, digits, `_`, `-`, `.` and the wildcards `*`/`?`. Whitespace anywhere is an
//!   error (a doc sample has `"ecs: CreateInstance"`, which RAM would never match). Matching is
//!   ASCII-case-insensitive (`ecs:DetachInstanceRAMRole` appears in an official sample).
//! * A resource is `*` or `acs:<service>:<region>:<account-id>:<relative-id>`; region and account
//!   may be empty (`acs:ram::123:role/x`) or wildcards; an empty region matches any, as `*` does. AWS `arn:` names are rejected with a hint.
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
}

impl PatternList {
    pub(crate) fn matches_with(&self, text: &str, fold_all: bool) -> bool {
        self.any || self.globs.iter().any(|g| g.matches_with(text, fold_all))
    }

    pub(crate) fn patterns(&self) -> impl Iterator<Item = &str> {
        self.globs.iter().map(Glob::as_str)
    }

    pub(crate) fn from_globs(globs: Vec<Glob>) -> Self {
        PatternList { any: globs.iter().any(Glob::matches_everything), globs }
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
        match self {
            Target::Listed(list) => list.matches_with(text, fold_all),
            Target::AllExcept(list) => !list.matches_with(text, fold_all),
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
    let globs = string_list(value, location, "a resource", |s, at| {
        let fold = validate_resource(s, at)?;
        Ok(Glob::new(&any_region(s), Case::InsensitivePrefix(fold)))
    })?;
    Ok(PatternList::from_globs(globs))
}

/// A resource pattern with an empty region (`acs:ram::123:role/x`, the form RAM prints its own
/// ARNs in, and Alibaba's published policies use) matches every region, as `*` does: requests name
/// global resources with `*` there (`acs:ram:*:123:role/x`), and a `Deny` written the first way
/// must not miss them.
fn any_region(pattern: &str) -> std::borrow::Cow<'_, str> {
    let mut parts = pattern.splitn(4, ':');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(acs), Some(service), Some(""), Some(rest)) if acs.eq_ignore_ascii_case("acs") => {
            std::borrow::Cow::Owned(format!("{acs}:{service}:*:{rest}"))
        }
        _ => std::borrow::Cow::Borrowed(pattern),
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
            list.matches_with("oss:GetObject", false)
                && list.matches_with("OSS:listobjects", false)
                && !list.matches_with("oss:PutObject", false)
        );
        let e = action_list(&Json::Array(vec![]), &Location::root().key("Action")).unwrap_err().to_string();
        assert_eq!(e, "Action: expected an action (a string or a non-empty list of strings), found an empty list");
        let e = action_list(&Json::Array(vec![Json::Bool(true)]), &Location::root().key("Action")).unwrap_err().to_string();
        assert_eq!(e, "Action[0]: expected an action as a string, found a boolean (true)");
    }
}
