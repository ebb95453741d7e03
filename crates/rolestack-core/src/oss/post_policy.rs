//! The policy of a PostObject (browser form upload): the base64 JSON document a backend signs
//! and hands to the browser with the form. Parsed and checked here, without IO: `expiration`
//! (ISO 8601; past it the policy is refused) and `conditions`, each an exact-match object
//! (`{"key": "a.txt"}`), `["eq" | "starts-with", "$field", value]`,
//! `["in" | "not-in", "$field", [values]]` or `["content-length-range", min, max]`.
//! Field names are matched case-insensitively, with or without the `$`. What OSS documents and
//! what rolestack assumes is written in docs/oss.md, "PostObject".

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// ECs of the policy document's errors (docs/oss.md, "PostObject").
pub mod ec {
    pub const NOT_JSON: &str = "0006-00000201";
    pub const UNKNOWN_MEMBER: &str = "0006-00000206";
    pub const NO_CONDITIONS: &str = "0006-00000207";
    pub const NO_EXPIRATION: &str = "0006-00000208";
    pub const NO_MEMBERS: &str = "0006-00000209";
    pub const EXPIRATION_TYPE: &str = "0006-00000210";
    pub const EXPIRATION_EMPTY: &str = "0006-00000211";
    /// UNVERIFIED: an expiration that is a string but no ISO 8601 time.
    pub const EXPIRATION_FORMAT: &str = "0006-00000212";
    pub const EXPIRED: &str = "0006-00000213";
    /// UNVERIFIED: `conditions` that is not a list.
    pub const CONDITIONS_TYPE: &str = "0006-00000214";
    pub const CONDITIONS_EMPTY: &str = "0006-00000215";
    pub const NO_MATCH_MODE: &str = "0006-00000216";
    pub const RANGE_ORDER: &str = "0006-00000219";
    /// A match mode given a value of the wrong type (`not-in` with a string, `eq` with a list).
    pub const VALUE_TYPE: &str = "0006-00000224";
    pub const RANGE_VALUE: &str = "0006-00000221";
    pub const CONDITION_TYPE: &str = "0006-00000222";
    pub const FIELD_MISSING: &str = "0006-00000226";
    pub const CONDITION_FAILED: &str = "0006-00000227";
    pub const TOO_LARGE: &str = "0006-00000003";
    pub const TOO_SMALL: &str = "0006-00000004";
}

/// Why a policy, or a form under it, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostPolicyError {
    /// The document is not a policy (`InvalidPolicyDocument`).
    #[error("{message}")]
    Invalid { message: String, ec: &'static str },
    /// Past its `expiration`.
    #[error("Invalid according to Policy: Policy expired.")]
    Expired,
    /// A condition the form does not meet (the condition as the policy wrote it); `missing`
    /// when the form lacks the field.
    #[error("Invalid according to Policy: Policy Condition failed: {condition}")]
    ConditionFailed { condition: String, missing: bool },
    #[error("Your proposed upload exceeds the maximum allowed size.")]
    TooLarge,
    #[error("Your proposed upload is smaller than the minimum allowed size.")]
    TooSmall,
}

fn invalid(ec: &'static str, message: impl Into<String>) -> PostPolicyError {
    PostPolicyError::Invalid { message: message.into(), ec }
}

/// How a condition matches a field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Match {
    Eq(String),
    StartsWith(String),
    In(Vec<String>),
    NotIn(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Condition {
    /// `field` lower-cased, without `$`; `text` is the condition as written (for the message).
    Field {
        field: String,
        matches: Match,
        text: String,
    },
    Length {
        min: u64,
        max: u64,
    },
}

/// A parsed policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    /// Unix seconds.
    pub expiration: i64,
    conditions: Vec<Condition>,
}

impl PostPolicy {
    /// Parses the `policy` form field (base64 of UTF-8 JSON).
    pub fn parse(encoded: &str) -> Result<Self, PostPolicyError> {
        let bytes = BASE64.decode(encoded.trim()).map_err(|_| invalid(ec::NOT_JSON, "Invalid Policy: the policy is not base64."))?;
        let doc: Value =
            serde_json::from_slice(&bytes).map_err(|e| invalid(ec::NOT_JSON, format!("Invalid Policy: Invalid JSON: {e}.")))?;
        let Value::Object(members) = doc else { return Err(invalid(ec::NOT_JSON, "Invalid Policy: the policy is not a JSON object.")) };
        if let Some(other) = members.keys().find(|k| *k != "expiration" && *k != "conditions") {
            return Err(invalid(ec::UNKNOWN_MEMBER, format!("Invalid Policy: Unsupported member {other:?}.")));
        }
        let expiration = match (members.get("expiration"), members.get("conditions")) {
            (None, None) => return Err(invalid(ec::NO_MEMBERS, "Invalid Policy: expiration and conditions are required.")),
            (None, _) => return Err(invalid(ec::NO_EXPIRATION, "Invalid Policy: Policy missing expiration.")),
            (_, None) => return Err(invalid(ec::NO_CONDITIONS, "Invalid Policy: Policy missing conditions.")),
            (Some(e), Some(_)) => e,
        };
        let expiration = match expiration {
            Value::String(s) if s.is_empty() => return Err(invalid(ec::EXPIRATION_EMPTY, "Invalid Policy: expiration is empty.")),
            Value::String(s) => OffsetDateTime::parse(s, &Rfc3339)
                .map_err(|_| invalid(ec::EXPIRATION_FORMAT, format!("Invalid Policy: Invalid 'expiration' value: {s:?}.")))?
                .unix_timestamp(),
            _ => return Err(invalid(ec::EXPIRATION_TYPE, "Invalid Policy: expiration is not an ISO 8601 string.")),
        };
        let Some(Value::Array(items)) = members.get("conditions") else {
            return Err(invalid(ec::CONDITIONS_TYPE, "Invalid Policy: conditions is not a list."));
        };
        if items.is_empty() {
            return Err(invalid(ec::CONDITIONS_EMPTY, "Invalid Policy: conditions is empty."));
        }
        let mut conditions = Vec::new();
        for item in items {
            match item {
                Value::Object(map) => {
                    for (field, value) in map {
                        let Value::String(v) = value else {
                            return Err(invalid(ec::CONDITION_TYPE, format!("Invalid Policy: the value of {field:?} is not a string.")));
                        };
                        conditions.push(Condition::Field {
                            field: field_name(field),
                            matches: Match::Eq(v.clone()),
                            text: Value::Object([(field.clone(), value.clone())].into_iter().collect()).to_string(),
                        });
                    }
                }
                Value::Array(list) => conditions.push(list_condition(list)?),
                _ => return Err(invalid(ec::CONDITION_TYPE, "Invalid Policy: a condition is neither a map nor a list.")),
            }
        }
        Ok(PostPolicy { expiration, conditions })
    }

    /// Refuses the policy past its expiration (`now` in Unix seconds).
    pub fn check_expiration(&self, now: i64) -> Result<(), PostPolicyError> {
        if now > self.expiration {
            Err(PostPolicyError::Expired)
        } else {
            Ok(())
        }
    }

    /// Whether some condition names `field` (`x-oss-credential`, … which V4 requires).
    pub fn names(&self, field: &str) -> bool {
        let field = field_name(field);
        self.conditions.iter().any(|c| matches!(c, Condition::Field { field: f, .. } if *f == field))
    }

    /// Checks every field condition against the form; `lookup` answers a field by its lower-case
    /// name (the bucket as `bucket`).
    pub fn check_fields<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Result<(), PostPolicyError> {
        for c in &self.conditions {
            let Condition::Field { field, matches, text } = c else { continue };
            let Some(value) = lookup(field) else {
                return Err(PostPolicyError::ConditionFailed { condition: text.clone(), missing: true });
            };
            let ok = match matches {
                Match::Eq(v) => value == v,
                Match::StartsWith(p) => value.starts_with(p.as_str()),
                Match::In(vs) => vs.iter().any(|v| v == value),
                Match::NotIn(vs) => vs.iter().all(|v| v != value),
            };
            if !ok {
                return Err(PostPolicyError::ConditionFailed { condition: text.clone(), missing: false });
            }
        }
        Ok(())
    }

    /// The size every `content-length-range` allows, as one range (`None`: no such condition).
    pub fn size_range(&self) -> Option<(u64, u64)> {
        self.conditions.iter().fold(None, |acc, c| match (c, acc) {
            (Condition::Length { min, max }, None) => Some((*min, *max)),
            (Condition::Length { min, max }, Some((lo, hi))) => Some((lo.max(*min), hi.min(*max))),
            (_, acc) => acc,
        })
    }

    /// Checks an upload's size against the policy's `content-length-range`.
    pub fn check_size(&self, size: u64) -> Result<(), PostPolicyError> {
        match self.size_range() {
            Some((_, max)) if size > max => Err(PostPolicyError::TooLarge),
            Some((min, _)) if size < min => Err(PostPolicyError::TooSmall),
            _ => Ok(()),
        }
    }
}

/// A condition's field name as forms are matched: lower case, without the `$`.
fn field_name(raw: &str) -> String {
    raw.strip_prefix('$').unwrap_or(raw).to_ascii_lowercase()
}

fn list_condition(list: &[Value]) -> Result<Condition, PostPolicyError> {
    let text = Value::Array(list.to_vec()).to_string();
    let no_mode = || invalid(ec::NO_MATCH_MODE, format!("Invalid Policy: Invalid Simple-Condition: {text}."));
    let Some(Value::String(op)) = list.first() else { return Err(no_mode()) };
    if op.eq_ignore_ascii_case("content-length-range") {
        let [_, min, max] = list else {
            return Err(invalid(ec::RANGE_VALUE, format!("Invalid Policy: Invalid content-length-range: {text}.")));
        };
        let bound = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
        let (Some(min), Some(max)) = (bound(min), bound(max)) else {
            return Err(invalid(ec::RANGE_VALUE, format!("Invalid Policy: Invalid content-length-range: {text}.")));
        };
        if max < min {
            return Err(invalid(ec::RANGE_ORDER, format!("Invalid Policy: content-length-range maximum is below its minimum: {text}.")));
        }
        return Ok(Condition::Length { min, max });
    }
    let [_, Value::String(field), value] = list else { return Err(no_mode()) };
    let wrong_type = || invalid(ec::VALUE_TYPE, format!("Invalid Policy: the value of {text} is not of its match mode's type."));
    let string = |v: &Value| v.as_str().map(str::to_string).ok_or_else(wrong_type);
    let strings = |v: &Value| -> Result<Vec<String>, PostPolicyError> {
        match v {
            Value::Array(vs) => vs.iter().map(string).collect(),
            _ => Err(wrong_type()),
        }
    };
    let matches = match op.to_ascii_lowercase().as_str() {
        "eq" => Match::Eq(string(value)?),
        "starts-with" => Match::StartsWith(string(value)?),
        "in" => Match::In(strings(value)?),
        "not-in" => Match::NotIn(strings(value)?),
        _ => return Err(no_mode()),
    };
    Ok(Condition::Field { field: field_name(field), matches, text })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(json: &str) -> Result<PostPolicy, PostPolicyError> {
        PostPolicy::parse(&BASE64.encode(json))
    }

    fn form<'a>(fields: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    const EXP: &str = "\"expiration\": \"2030-01-01T00:00:00.000Z\"";

    #[test]
    fn parses_every_condition_form() {
        let p = policy(&format!(
            r#"{{{EXP}, "conditions": [{{"bucket": "b"}}, ["eq", "$success_action_status", "201"],
                ["starts-with", "$key", "user/"], ["in", "$content-type", ["image/png", "image/jpg"]],
                ["not-in", "$cache-control", ["no-cache"]], ["content-length-range", 1, 10]]}}"#
        ))
        .unwrap();
        assert_eq!(p.expiration, 1_893_456_000);
        assert_eq!(p.size_range(), Some((1, 10)));
        let ok = [
            ("bucket", "b"),
            ("success_action_status", "201"),
            ("key", "user/a"),
            ("Content-Type", "image/png"),
            ("cache-control", "max-age=1"),
        ];
        assert_eq!(p.check_fields(form(&ok)), Ok(()));
        let outside =
            [("bucket", "b"), ("success_action_status", "201"), ("key", "other/a"), ("content-type", "image/png"), ("cache-control", "x")];
        assert!(
            matches!(p.check_fields(form(&outside)), Err(PostPolicyError::ConditionFailed { condition, missing: false }) if condition.contains("starts-with"))
        );
        let banned = [
            ("bucket", "b"),
            ("success_action_status", "201"),
            ("key", "user/a"),
            ("content-type", "image/png"),
            ("cache-control", "no-cache"),
        ];
        assert!(matches!(p.check_fields(form(&banned)), Err(PostPolicyError::ConditionFailed { .. })));
        let not_in =
            [("bucket", "b"), ("success_action_status", "201"), ("key", "user/a"), ("content-type", "text/html"), ("cache-control", "x")];
        assert!(matches!(p.check_fields(form(&not_in)), Err(PostPolicyError::ConditionFailed { .. })));
        let missing = [("bucket", "b"), ("key", "user/a")];
        assert!(matches!(p.check_fields(form(&missing)), Err(PostPolicyError::ConditionFailed { missing: true, .. })));
    }

    #[test]
    fn field_names_ignore_case_and_dollar() {
        let p = policy(&format!(r#"{{{EXP}, "conditions": [["eq", "Success_Action_Status", "200"], {{"KEY": "k"}}]}}"#)).unwrap();
        assert!(p.names("success_action_status") && p.names("$key") && !p.names("policy"));
        assert_eq!(p.check_fields(form(&[("success_action_status", "200"), ("key", "k")])), Ok(()));
    }

    #[test]
    fn size_range() {
        let p = policy(&format!(r#"{{{EXP}, "conditions": [["content-length-range", 2, 4]]}}"#)).unwrap();
        assert_eq!(p.check_size(1), Err(PostPolicyError::TooSmall));
        assert_eq!(p.check_size(2), Ok(()));
        assert_eq!(p.check_size(4), Ok(()));
        assert_eq!(p.check_size(5), Err(PostPolicyError::TooLarge));
        let none = policy(&format!(r#"{{{EXP}, "conditions": [{{"key": "k"}}]}}"#)).unwrap();
        assert_eq!(none.check_size(u64::MAX), Ok(()));
    }

    #[test]
    fn expiration() {
        let p = policy(&format!(r#"{{{EXP}, "conditions": [{{"key": "k"}}]}}"#)).unwrap();
        assert_eq!(p.check_expiration(1_893_456_000), Ok(()));
        assert_eq!(p.check_expiration(1_893_456_001), Err(PostPolicyError::Expired));
    }

    #[test]
    fn malformed_documents_name_their_ec() {
        let ec_of = |json: &str| match policy(json) {
            Err(PostPolicyError::Invalid { ec, .. }) => ec,
            other => panic!("{json}: {other:?}"),
        };
        assert_eq!(PostPolicy::parse("%%%").unwrap_err(), invalid(ec::NOT_JSON, "Invalid Policy: the policy is not base64."));
        assert_eq!(ec_of("not json"), ec::NOT_JSON);
        assert_eq!(ec_of("[]"), ec::NOT_JSON);
        assert_eq!(ec_of("{}"), ec::NO_MEMBERS);
        assert_eq!(ec_of(r#"{"conditions": [{"key": "k"}]}"#), ec::NO_EXPIRATION);
        assert_eq!(ec_of(&format!("{{{EXP}}}")), ec::NO_CONDITIONS);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [{{"key": "k"}}], "test": 1}}"#)), ec::UNKNOWN_MEMBER);
        assert_eq!(ec_of(r#"{"expiration": 123, "conditions": [{"key": "k"}]}"#), ec::EXPIRATION_TYPE);
        assert_eq!(ec_of(r#"{"expiration": "", "conditions": [{"key": "k"}]}"#), ec::EXPIRATION_EMPTY);
        assert_eq!(ec_of(r#"{"expiration": "tomorrow", "conditions": [{"key": "k"}]}"#), ec::EXPIRATION_FORMAT);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": {{}}}}"#)), ec::CONDITIONS_TYPE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": []}}"#)), ec::CONDITIONS_EMPTY);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [123]}}"#)), ec::CONDITION_TYPE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["$key"]]}}"#)), ec::NO_MATCH_MODE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["matches", "$key", "k"]]}}"#)), ec::NO_MATCH_MODE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["not-in", "cache-control", "no-cache"]]}}"#)), ec::VALUE_TYPE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["eq", "$key", ["k"]]]}}"#)), ec::VALUE_TYPE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["in", "$key", ["k", 1]]]}}"#)), ec::VALUE_TYPE);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["content-length-range", 20, 10]]}}"#)), ec::RANGE_ORDER);
        assert_eq!(ec_of(&format!(r#"{{{EXP}, "conditions": [["content-length-range", 10, "test"]]}}"#)), ec::RANGE_VALUE);
    }

    proptest::proptest! {
        #[test]
        fn starts_with_and_eq_agree_with_str(key in "[a-z/]{0,12}", prefix in "[a-z/]{0,4}") {
            let p = policy(&format!(r#"{{{EXP}, "conditions": [["starts-with", "$key", {prefix:?}]]}}"#)).unwrap();
            let fields = [("key", key.as_str())];
            proptest::prop_assert_eq!(p.check_fields(form(&fields)).is_ok(), key.starts_with(&prefix));
            let eq = policy(&format!(r#"{{{EXP}, "conditions": [{{"key": {prefix:?}}}]}}"#)).unwrap();
            proptest::prop_assert_eq!(eq.check_fields(form(&fields)).is_ok(), key == prefix);
        }

        #[test]
        fn sizes_inside_every_range_pass(a in 0u64..100, b in 0u64..100, c in 0u64..100, d in 0u64..100, size in 0u64..120) {
            let (lo1, hi1, lo2, hi2) = (a.min(b), a.max(b), c.min(d), c.max(d));
            let p = policy(&format!(
                r#"{{{EXP}, "conditions": [["content-length-range", {lo1}, {hi1}], ["content-length-range", {lo2}, {hi2}]]}}"#
            )).unwrap();
            let inside = (lo1..=hi1).contains(&size) && (lo2..=hi2).contains(&size);
            proptest::prop_assert_eq!(p.check_size(size).is_ok(), inside);
        }
    }
}
