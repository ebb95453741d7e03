//! The `Condition` element: operators, condition keys, their values, and how a block is checked
//! against a request [`Context`].
//!
//! Semantics (RAM "conditional operators" page; where RAM is silent, AWS IAM's documented rules,
//! which RAM's grammar copies):
//! * All operators in a block AND; all keys under one operator AND; the values listed for one key
//!   OR. A negated operator (`StringNotEquals`, `StringNotEqualsIgnoreCase`, `StringNotLike`,
//!   `NumericNotEquals`, `DateNotEquals`, `NotIpAddress`) holds when *no* value matches (NOR).
//! * If the request has several values for a key, a positive operator holds when any of them
//!   matches any policy value; a negated one when none does.
//! * A key missing from the request makes a positive operator false. A negated operator is then
//!   *true* ("no value matches"; AWS documents exactly this, and it is the fail-closed choice
//!   for the common `Deny` + `NotIpAddress` pattern). An `...IfExists` operator is true when the
//!   key is missing and otherwise behaves like the operator without the suffix.
//! * A request value that does not parse for the operator (an IP operator given `"abc"`) matches
//!   no policy value.
//! * Operator names are case-sensitive; condition key names are not.
//!
//! Everything is validated when the policy is parsed — unknown operators, unknown global `acs:`
//! keys, dates, numbers, booleans, IP addresses and CIDR blocks — so evaluation cannot meet a
//! value it does not understand, and nothing is ever silently ignored.

use std::net::IpAddr;

use ipnet::IpNet;
use time::OffsetDateTime;

use crate::context::{canonical_ip, parse_bool, parse_date, parse_number, Context, ContextValue};
use crate::error::{Location, PolicyError};
use crate::glob::{Case, Glob};
use crate::hint::{closest, describe_whitespace, Miss};
use crate::json::{reject_duplicates, Json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    String,
    StringIgnoreCase,
    StringLike,
    Numeric,
    Date,
    Bool,
    Ip,
}

/// How a request value compares to a policy value for numeric and date operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// A condition operator without its `IfExists` suffix: (name, family, comparison, negated).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Operator {
    name: &'static str,
    family: Family,
    cmp: Cmp,
    negated: bool,
}

const fn op(name: &'static str, family: Family, cmp: Cmp, negated: bool) -> Operator {
    Operator { name, family, cmp, negated }
}

const OPERATORS: [Operator; 21] = [
    op("StringEquals", Family::String, Cmp::Eq, false),
    op("StringNotEquals", Family::String, Cmp::Eq, true),
    op("StringEqualsIgnoreCase", Family::StringIgnoreCase, Cmp::Eq, false),
    op("StringNotEqualsIgnoreCase", Family::StringIgnoreCase, Cmp::Eq, true),
    op("StringLike", Family::StringLike, Cmp::Eq, false),
    op("StringNotLike", Family::StringLike, Cmp::Eq, true),
    op("NumericEquals", Family::Numeric, Cmp::Eq, false),
    op("NumericNotEquals", Family::Numeric, Cmp::Eq, true),
    op("NumericLessThan", Family::Numeric, Cmp::Lt, false),
    op("NumericLessThanEquals", Family::Numeric, Cmp::Le, false),
    op("NumericGreaterThan", Family::Numeric, Cmp::Gt, false),
    op("NumericGreaterThanEquals", Family::Numeric, Cmp::Ge, false),
    op("DateEquals", Family::Date, Cmp::Eq, false),
    op("DateNotEquals", Family::Date, Cmp::Eq, true),
    op("DateLessThan", Family::Date, Cmp::Lt, false),
    op("DateLessThanEquals", Family::Date, Cmp::Le, false),
    op("DateGreaterThan", Family::Date, Cmp::Gt, false),
    op("DateGreaterThanEquals", Family::Date, Cmp::Ge, false),
    op("Bool", Family::Bool, Cmp::Eq, false),
    op("IpAddress", Family::Ip, Cmp::Eq, false),
    op("NotIpAddress", Family::Ip, Cmp::Eq, true),
];

/// Every operator name RAM accepts, with and without `IfExists` (for hints and docs).
pub fn operator_names() -> impl Iterator<Item = String> {
    OPERATORS.iter().flat_map(|o| [o.name.to_owned(), format!("{}IfExists", o.name)])
}

fn lookup_operator(name: &str) -> Option<(Operator, bool)> {
    let (base, if_exists) = match name.strip_suffix("IfExists") {
        Some(base) => (base, true),
        None => (name, false),
    };
    OPERATORS.iter().find(|o| o.name == base).map(|o| (*o, if_exists))
}

const OPERATOR_SUMMARY: &str = "RAM supports StringEquals, StringNotEquals, StringEqualsIgnoreCase, \
StringNotEqualsIgnoreCase, StringLike, StringNotLike, Numeric{Equals,NotEquals,LessThan,LessThanEquals,\
GreaterThan,GreaterThanEquals}, Date{Equals,NotEquals,LessThan,LessThanEquals,GreaterThan,GreaterThanEquals}, \
Bool, IpAddress and NotIpAddress, each optionally with the IfExists suffix";

const AWS_ONLY_OPERATORS: &[&str] = &["Null", "ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "BinaryEquals"];

fn operator_hint(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("foranyvalue:") || lower.starts_with("forallvalues:") {
        return format!("; the set qualifiers ForAnyValue: and ForAllValues: are AWS IAM features; {OPERATOR_SUMMARY}");
    }
    let base = name.strip_suffix("IfExists").unwrap_or(name);
    if AWS_ONLY_OPERATORS.contains(&base) {
        return format!("; {base} is an AWS IAM operator; {OPERATOR_SUMMARY}");
    }
    let names: Vec<String> = operator_names().collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match closest(name, &names) {
        Some((c, Miss::Whitespace)) => {
            format!(" ({}); did you mean {c:?}?", describe_whitespace(name))
        }
        Some((c, Miss::Case)) => {
            format!(" (operator names are case-sensitive); did you mean {c:?}?")
        }
        Some((c, Miss::Typo)) => format!("; did you mean {c:?}?"),
        None => format!("; {OPERATOR_SUMMARY}"),
    }
}

/// Global `acs:` condition keys accepted in policies. The first nine are documented for RAM;
/// the others appear in RAM documentation for newer features (UNVERIFIED as a complete list).
const GLOBAL_KEYS: &[&str] = &[
    "acs:SourceIp",
    "acs:CurrentTime",
    "acs:SecureTransport",
    "acs:UserAgent",
    "acs:MFAPresent",
    "acs:SourceVpc",
    "acs:AccessId",
    "acs:PrincipalARN",
    "acs:SourceVpcIp",
    "acs:PrincipalAccount",
    "acs:PrincipalRDId",
    "acs:PrincipalRDPath",
    "acs:RequestedRegion",
    // Seconds since an MFA code was given (rolestack sets it with acs:MFAPresent; UNVERIFIED).
    "acs:MFAPresentDuration",
];
const TAG_PREFIXES: &[&str] = &["acs:ResourceTag/", "acs:RequestTag/"];

const KEY_FORMAT: &str =
    "condition keys are global keys such as \"acs:SourceIp\" or \"acs:ResourceTag/<tag-key>\", or service keys \"<service>:<key>\" such as \"oss:Prefix\"";

fn validate_key(key: &str, at: &Location) -> Result<(), PolicyError> {
    let unknown = |hint: String| PolicyError::UnknownConditionKey { location: at.clone(), key: key.to_owned(), hint };
    let before_tag = key.split('/').next().unwrap_or(key);
    if key.trim() != key || before_tag.chars().any(char::is_whitespace) {
        let squeezed: String = before_tag.chars().filter(|c| !c.is_whitespace()).collect();
        let fixed = format!("{squeezed}{}", key[before_tag.len()..].trim_end());
        return Err(unknown(format!(" ({}); did you mean {fixed:?}?", describe_whitespace(key))));
    }
    let Some((service, name)) = key.split_once(':') else {
        return Err(unknown(format!("; {KEY_FORMAT}")));
    };
    if service.eq_ignore_ascii_case("acs") {
        if GLOBAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return Ok(());
        }
        for prefix in TAG_PREFIXES {
            if key.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)) {
                if key.len() == prefix.len() {
                    return Err(unknown(format!("; the tag key is missing: write \"{prefix}<tag-key>\"")));
                }
                return Ok(());
            }
            if key.eq_ignore_ascii_case(&prefix[..prefix.len() - 1]) {
                return Err(unknown(format!("; the tag key is missing: write \"{prefix}<tag-key>\"")));
            }
        }
        let mut candidates: Vec<&str> = GLOBAL_KEYS.to_vec();
        candidates.extend(TAG_PREFIXES.iter().map(|p| &p[..p.len() - 1]));
        return Err(unknown(match closest(key, &candidates) {
            Some((c, _)) => format!("; did you mean {c:?}?"),
            None => format!(
                "; the global keys are {}, \"acs:ResourceTag/<tag-key>\" and \"acs:RequestTag/<tag-key>\"",
                crate::hint::one_of(GLOBAL_KEYS).trim_start_matches("one of ")
            ),
        }));
    }
    if service.is_empty() || !service.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') || name.is_empty() {
        return Err(unknown(format!("; {KEY_FORMAT}")));
    }
    // OSS's per-tag key names the tag after a slash.
    if service.eq_ignore_ascii_case("oss")
        && (name.eq_ignore_ascii_case("ExistingObjectTag") || name.eq_ignore_ascii_case("ExistingObjectTag/"))
    {
        return Err(unknown("; the tag key is missing: write \"oss:ExistingObjectTag/<tag-key>\"".into()));
    }
    Ok(())
}

/// The policy-side values of one clause, parsed for its operator family.
#[derive(Debug, Clone, PartialEq)]
enum Values {
    Exact(Vec<String>),
    /// Stored lower-cased (Unicode), compared against the lower-cased request value.
    IgnoreCase(Vec<String>),
    Like(Vec<Glob>),
    Numbers(Vec<f64>),
    Dates(Vec<OffsetDateTime>),
    Bools(Vec<bool>),
    Networks(Vec<IpNet>),
}

/// `Operator: { key: values }` for one key.
#[derive(Debug, Clone, PartialEq)]
struct Clause {
    operator: Operator,
    if_exists: bool,
    key: String,
    values: Values,
    /// The values as the policy wrote them (for explanations).
    written: Vec<String>,
}

impl Clause {
    fn holds(&self, context: &Context) -> bool {
        let request_values = context.lookup(&self.key);
        if request_values.is_empty() {
            return self.if_exists || self.operator.negated;
        }
        let any = request_values.iter().any(|v| self.matches(v));
        any != self.operator.negated
    }

    fn matches(&self, value: &ContextValue) -> bool {
        let cmp = self.operator.cmp;
        match &self.values {
            Values::Exact(list) => list.contains(&value.text),
            Values::IgnoreCase(list) => list.iter().any(|p| fold_case(&value.text).eq(p.chars())),
            Values::Like(globs) => globs.iter().any(|g| g.matches(&value.text)),
            Values::Numbers(list) => value.number().is_some_and(|n| list.iter().any(|p| cmp.holds(n, *p))),
            Values::Dates(list) => value.time().is_some_and(|t| list.iter().any(|p| cmp.holds(t, *p))),
            Values::Bools(list) => value.boolean().is_some_and(|b| list.contains(&b)),
            Values::Networks(nets) => value.ip().is_some_and(|ip| nets.iter().any(|n| n.contains(&ip))),
        }
    }
}

/// A parsed `Condition` block: a conjunction of clauses.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Condition {
    clauses: Vec<Clause>,
}

impl Condition {
    pub(crate) fn holds(&self, context: &Context) -> bool {
        self.clauses.iter().all(|c| c.holds(context))
    }

    /// How each clause (one operator and one key) fared against `context`.
    pub(crate) fn trace(&self, context: &Context) -> Vec<ConditionTrace> {
        self.clauses
            .iter()
            .map(|c| ConditionTrace {
                operator: format!("{}{}", c.operator.name, if c.if_exists { "IfExists" } else { "" }),
                key: c.key.clone(),
                values: c.written.clone(),
                request_values: context.lookup(&c.key).iter().map(|v| v.text.clone()).collect(),
                holds: c.holds(context),
            })
            .collect()
    }

    pub(crate) fn parse(value: &Json, at: &Location) -> Result<Condition, PolicyError> {
        let Json::Object(operators) = value else {
            return Err(PolicyError::WrongType {
                location: at.clone(),
                expected: "an object such as {\"IpAddress\": {\"acs:SourceIp\": [\"10.0.0.0/8\"]}}".to_owned(),
                found: value.describe(),
            });
        };
        reject_duplicates(operators, at, false)?;
        let mut clauses = Vec::new();
        for (name, block) in operators {
            let op_at = at.key(name);
            let Some((operator, if_exists)) = lookup_operator(name) else {
                return Err(PolicyError::UnknownOperator { location: at.clone(), operator: name.clone(), hint: operator_hint(name) });
            };
            let keys = match block {
                Json::Object(keys) if !keys.is_empty() => keys,
                other => {
                    return Err(PolicyError::WrongType {
                        location: op_at,
                        expected: "a non-empty object mapping condition keys to values, such as {\"acs:SourceIp\": \"10.0.0.0/8\"} (an operator with no keys would constrain nothing)".to_owned(),
                        found: other.describe(),
                    })
                }
            };
            reject_duplicates(keys, &op_at, true)?;
            for (key, values) in keys {
                validate_key(key, &op_at)?;
                let written = written_values(values);
                let values = parse_values(operator, values, &op_at.key(key))?;
                clauses.push(Clause { operator, if_exists, key: key.clone(), values, written });
            }
        }
        Ok(Condition { clauses })
    }
}

/// One condition clause of a statement, evaluated: the operator and key, the policy's values, the
/// request's values for that key, and whether the clause held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionTrace {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    pub request_values: Vec<String>,
    pub holds: bool,
}

/// The values of a clause as text, as the policy wrote them.
fn written_values(value: &Json) -> Vec<String> {
    let one = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.render(),
    };
    match value {
        Json::Array(items) => items.iter().map(one).collect(),
        other => vec![one(other)],
    }
}

/// Reads `"v"` or `["v1", "v2"]` (strings, numbers or booleans) and parses each for `operator`.
fn parse_values(operator: Operator, value: &Json, at: &Location) -> Result<Values, PolicyError> {
    let items: Vec<(&Json, Location)> = match value {
        Json::Array(items) if !items.is_empty() => items.iter().enumerate().map(|(i, v)| (v, at.index(i))).collect(),
        Json::String(_) | Json::Number(_) | Json::Bool(_) => vec![(value, at.clone())],
        other => {
            return Err(PolicyError::WrongType {
                location: at.clone(),
                expected: "a value or a non-empty list of values".to_owned(),
                found: other.describe(),
            })
        }
    };
    for (item, item_at) in &items {
        if !matches!(item, Json::String(_) | Json::Number(_) | Json::Bool(_)) {
            return Err(PolicyError::WrongType {
                location: item_at.clone(),
                expected: "a string, number or boolean".to_owned(),
                found: item.describe(),
            });
        }
    }
    let text = |v: &Json| match v {
        Json::String(s) => s.clone(),
        other => other.render(),
    };
    let invalid =
        |v: &Json, at: &Location, expected: String| PolicyError::InvalidValue { location: at.clone(), found: v.render(), expected };
    let name = operator.name;
    Ok(match operator.family {
        Family::String => Values::Exact(items.iter().map(|(v, _)| text(v)).collect()),
        Family::StringIgnoreCase => Values::IgnoreCase(items.iter().map(|(v, _)| fold_case(&text(v)).collect()).collect()),
        Family::StringLike => Values::Like(items.iter().map(|(v, _)| Glob::new(&text(v), Case::Sensitive)).collect()),
        Family::Numeric => Values::Numbers(
            items
                .iter()
                .map(|(v, at)| {
                    let n = match v {
                        Json::Number(n) => n.as_f64(),
                        Json::String(s) => parse_number(s),
                        _ => None,
                    };
                    n.ok_or_else(|| invalid(v, at, format!("{name} needs a number such as 10 or \"10\"")))
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Date => Values::Dates(
            items
                .iter()
                .map(|(v, at)| {
                    let t = match v {
                        Json::String(s) => parse_date(s),
                        Json::Number(n) => n.as_i64().and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()),
                        _ => None,
                    };
                    t.ok_or_else(|| {
                        invalid(
                            v,
                            at,
                            format!("{name} needs an ISO-8601 date-time with its time zone, such as \"2019-08-12T17:00:00+08:00\" or \"2019-08-12T09:00:00Z\""),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Bool => Values::Bools(
            items
                .iter()
                .map(|(v, at)| {
                    let b = match v {
                        Json::Bool(b) => Some(*b),
                        Json::String(s) => parse_bool(s),
                        _ => None,
                    };
                    b.ok_or_else(|| invalid(v, at, format!("{name} needs true or false (or \"true\"/\"false\")")))
                })
                .collect::<Result<_, _>>()?,
        ),
        Family::Ip => Values::Networks(
            items
                .iter()
                .map(|(v, at)| {
                    let net = match v {
                        Json::String(s) => parse_network(s),
                        _ => None,
                    };
                    net.ok_or_else(|| {
                        invalid(
                            v,
                            at,
                            format!(
                                "{name} needs an IP address or CIDR block such as \"192.168.0.1\", \"10.0.0.0/8\" or \"2001:db8::/32\""
                            ),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn parse_network(text: &str) -> Option<IpNet> {
    let t = text.trim();
    if let Ok(net) = t.parse::<IpNet>() {
        return Some(match net {
            // `::ffff:10.0.0.0/104` is the mapped form of 10.0.0.0/8; request IPs are canonicalized
            // to IPv4, so the network must be as well.
            IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                Some(v4) => IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).ok()?,
                None => net,
            },
            _ => net,
        });
    }
    t.parse::<IpAddr>().ok().map(|ip| IpNet::from(canonical_ip(ip)))
}

/// The one case folding both sides of a `…IgnoreCase` comparison go through, a character at a
/// time: lower case, with the final sigma `ς` read as `σ` (so `ΟΔΟΣ`, `οδος` and `οδοσ` are one
/// word). Folding the policy's value as a whole string and the request's per character differed
/// on a final `Σ`, and a Deny on a value identical to the request's did not bind.
fn fold_case(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase).map(|c| if c == 'ς' { 'σ' } else { c })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both sides of an `…IgnoreCase` comparison fold alike: a value identical to the policy's
    /// matches, a final capital sigma included (it lower-cases to `ς` in a whole string and to `σ`
    /// alone), and the three spellings of a final sigma are one.
    #[test]
    fn ignore_case_folds_both_sides_alike() {
        for value in ["ΟΔΟΣ", "οδος", "οδοσ", "ΣΟΦΟΣ"] {
            let policy = fold_case(value).collect::<String>();
            assert!(fold_case(value).eq(policy.chars()), "{value}");
        }
        assert!(fold_case("ΟΔΟΣ").eq(fold_case("οδος")));
        assert!(fold_case("ABC").eq("abc".chars()));
        assert!(!fold_case("ABD").eq("abc".chars()));
    }

    fn condition(json: &str) -> Condition {
        Condition::parse(&crate::json::parse(json).unwrap(), &Location::root().key("Condition")).unwrap()
    }

    fn error(json: &str) -> String {
        Condition::parse(&crate::json::parse(json).unwrap(), &Location::root().key("Condition")).unwrap_err().to_string()
    }

    fn ctx(pairs: &[(&str, &str)]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.insert(*k, *v);
        }
        c
    }

    fn holds(cond: &str, pairs: &[(&str, &str)]) -> bool {
        condition(cond).holds(&ctx(pairs))
    }

    #[test]
    fn existing_object_tags() {
        let c = r#"{"StringEquals": {"oss:ExistingObjectTag/team": "blue"}}"#;
        assert!(holds(c, &[("oss:ExistingObjectTag/team", "blue")]));
        assert!(!holds(c, &[("oss:ExistingObjectTag/team", "red")]));
        assert!(!holds(c, &[]), "an object without the tag does not match");
        let e = error(r#"{"StringEquals": {"oss:ExistingObjectTag": "blue"}}"#);
        assert!(e.contains("oss:ExistingObjectTag/<tag-key>"), "{e}");
    }

    #[test]
    fn string_operators() {
        let c = r#"{"StringEquals": {"oss:Prefix": ["a/", "b/"]}}"#;
        assert!(holds(c, &[("oss:Prefix", "a/")]));
        assert!(holds(c, &[("OSS:PREFIX", "b/")]), "keys are case-insensitive");
        assert!(!holds(c, &[("oss:Prefix", "A/")]), "values are case-sensitive");
        assert!(!holds(c, &[]));
        let c = r#"{"StringNotEquals": {"oss:Prefix": ["a/", "b/"]}}"#;
        assert!(!holds(c, &[("oss:Prefix", "a/")]));
        assert!(!holds(c, &[("oss:Prefix", "b/")]), "NOR over the values");
        assert!(holds(c, &[("oss:Prefix", "c/")]));
        assert!(holds(c, &[]), "negated operator with the key missing is true");
        let c = r#"{"StringEqualsIgnoreCase": {"acs:UserAgent": "Aliyun-CLI"}}"#;
        assert!(holds(c, &[("acs:UserAgent", "ALIYUN-cli")]));
        assert!(!holds(c, &[("acs:UserAgent", "curl")]));
        let c = r#"{"StringEqualsIgnoreCase": {"acs:ResourceTag/team": "ÄRGER"}}"#;
        assert!(holds(c, &[("acs:ResourceTag/team", "ärger")]), "Unicode case folding");
        let c = r#"{"StringNotEqualsIgnoreCase": {"acs:UserAgent": ["a", "B"]}}"#;
        assert!(!holds(c, &[("acs:UserAgent", "b")]));
        assert!(holds(c, &[("acs:UserAgent", "c")]));
        let c = r#"{"StringLike": {"oss:Prefix": ["hangzhou/2015/*", "x?z"]}}"#;
        assert!(holds(c, &[("oss:Prefix", "hangzhou/2015/photos/")]));
        assert!(holds(c, &[("oss:Prefix", "xyz")]));
        assert!(!holds(c, &[("oss:Prefix", "Hangzhou/2015/")]), "StringLike is case-sensitive");
        assert!(!holds(c, &[("oss:Prefix", "xz")]));
        let c = r#"{"StringNotLike": {"oss:Prefix": ["private/*", "secret*"]}}"#;
        assert!(holds(c, &[("oss:Prefix", "public/")]));
        assert!(!holds(c, &[("oss:Prefix", "secret-stuff")]));
        assert!(!holds(c, &[("oss:Prefix", "private/x")]));
    }

    #[test]
    fn numbers_and_non_string_values_as_strings() {
        let c = r#"{"NumericLessThanEquals": {"oss:MaxKeys": 100}}"#;
        assert!(holds(c, &[("oss:MaxKeys", "100")]));
        assert!(holds(c, &[("oss:MaxKeys", "5")]));
        assert!(!holds(c, &[("oss:MaxKeys", "101")]));
        assert!(!holds(c, &[("oss:MaxKeys", "many")]), "unparseable request value matches nothing");
        assert!(!holds(c, &[]));
        for (op, yes, no) in [
            ("NumericEquals", "10", "11"),
            ("NumericNotEquals", "11", "10"),
            ("NumericLessThan", "9.5", "10"),
            ("NumericGreaterThan", "10.5", "10"),
            ("NumericGreaterThanEquals", "10", "9"),
        ] {
            let c = format!(r#"{{"{op}": {{"oss:MaxKeys": "10"}}}}"#);
            assert!(holds(&c, &[("oss:MaxKeys", yes)]), "{op} {yes}");
            assert!(!holds(&c, &[("oss:MaxKeys", no)]), "{op} {no}");
        }
        let c = r#"{"NumericNotEquals": {"oss:MaxKeys": [1, 2]}}"#;
        assert!(!holds(c, &[("oss:MaxKeys", "2")]));
        assert!(holds(c, &[("oss:MaxKeys", "3")]));
        let c = r#"{"StringEquals": {"ecs:Count": 3}}"#;
        assert!(holds(c, &[("ecs:Count", "3")]), "numbers are compared as their text");
    }

    #[test]
    fn dates() {
        let c = r#"{"DateLessThan": {"acs:CurrentTime": "2019-08-12T17:00:00+08:00"}}"#;
        assert!(holds(c, &[("acs:CurrentTime", "2019-08-12T08:59:59Z")]));
        assert!(!holds(c, &[("acs:CurrentTime", "2019-08-12T09:00:00Z")]));
        let mut ctx = Context::new();
        ctx.set_current_time(time::macros::datetime!(2019-08-12 08:00 UTC));
        assert!(condition(c).holds(&ctx));
        for (op, yes, no) in [
            ("DateEquals", "2019-08-12T09:00:00Z", "2019-08-12T09:00:01Z"),
            ("DateNotEquals", "2019-08-12T09:00:01Z", "2019-08-12T17:00:00+08:00"),
            ("DateLessThanEquals", "2019-08-12T09:00:00Z", "2019-08-12T09:00:01Z"),
            ("DateGreaterThan", "2019-08-12T09:00:01Z", "2019-08-12T09:00:00Z"),
            ("DateGreaterThanEquals", "2019-08-12T09:00:00Z", "2019-08-12T08:59:59Z"),
        ] {
            let c = format!(r#"{{"{op}": {{"acs:CurrentTime": "2019-08-12T17:00:00+08:00"}}}}"#);
            assert!(holds(&c, &[("acs:CurrentTime", yes)]), "{op} {yes}");
            assert!(!holds(&c, &[("acs:CurrentTime", no)]), "{op} {no}");
        }
        let c = r#"{"DateGreaterThan": {"acs:CurrentTime": 1565600400}}"#;
        assert!(holds(c, &[("acs:CurrentTime", "2019-08-12T09:00:01Z")]), "epoch seconds");
        // A time window: both operators must hold.
        let c = r#"{"DateGreaterThan": {"acs:CurrentTime": "2019-08-12T00:00:00Z"},
                    "DateLessThan": {"acs:CurrentTime": "2019-08-13T00:00:00Z"}}"#;
        assert!(holds(c, &[("acs:CurrentTime", "2019-08-12T12:00:00Z")]));
        assert!(!holds(c, &[("acs:CurrentTime", "2019-08-14T12:00:00Z")]));
    }

    #[test]
    fn booleans() {
        let c = r#"{"Bool": {"acs:SecureTransport": "true"}}"#;
        let mut https = Context::new();
        https.set_secure_transport(true);
        let mut http = Context::new();
        http.set_secure_transport(false);
        assert!(condition(c).holds(&https));
        assert!(!condition(c).holds(&http));
        assert!(!condition(c).holds(&Context::new()), "missing key makes Bool false");
        assert!(holds(r#"{"Bool": {"acs:MFAPresent": false}}"#, &[("acs:MFAPresent", "FALSE")]));
        assert!(!holds(r#"{"Bool": {"acs:MFAPresent": false}}"#, &[("acs:MFAPresent", "maybe")]));
    }

    #[test]
    fn ip_addresses() {
        let c = r#"{"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]}}"#;
        assert!(holds(c, &[("acs:SourceIp", "10.20.30.40")]));
        assert!(holds(c, &[("acs:SourceIp", "192.168.1.7")]));
        assert!(!holds(c, &[("acs:SourceIp", "192.168.1.8")]));
        assert!(holds(c, &[("acs:SourceIp", "2001:db8:1::5")]));
        assert!(!holds(c, &[("acs:SourceIp", "2001:db9::5")]));
        assert!(holds(c, &[("acs:SourceIp", "::ffff:10.1.1.1")]), "IPv4-mapped IPv6");
        assert!(!holds(c, &[("acs:SourceIp", "not-an-ip")]));
        assert!(!holds(c, &[]));
        let c = r#"{"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8", "172.16.0.0/12"]}}"#;
        assert!(!holds(c, &[("acs:SourceIp", "10.0.0.1")]));
        assert!(!holds(c, &[("acs:SourceIp", "172.16.5.5")]));
        assert!(holds(c, &[("acs:SourceIp", "8.8.8.8")]));
        assert!(holds(c, &[]), "negated: missing key is true");
        let c = r#"{"IpAddress": {"acs:SourceIp": "::ffff:10.0.0.0/104"}}"#;
        assert!(holds(c, &[("acs:SourceIp", "10.9.9.9")]));
    }

    #[test]
    fn if_exists() {
        let c = r#"{"IpAddressIfExists": {"acs:SourceIp": "10.0.0.0/8"}}"#;
        assert!(holds(c, &[]), "missing key: true");
        assert!(holds(c, &[("acs:SourceIp", "10.1.1.1")]));
        assert!(!holds(c, &[("acs:SourceIp", "11.1.1.1")]));
        let c = r#"{"StringNotEqualsIfExists": {"acs:SourceVpc": "vpc-1"}}"#;
        assert!(holds(c, &[]));
        assert!(!holds(c, &[("acs:SourceVpc", "vpc-1")]));
        assert!(holds(c, &[("acs:SourceVpc", "vpc-2")]));
        for name in operator_names() {
            assert!(lookup_operator(&name).is_some(), "{name}");
        }
        assert_eq!(operator_names().count(), 42);
    }

    #[test]
    fn and_or_semantics() {
        let c = r#"{"StringEquals": {"oss:Prefix": "a", "oss:Delimiter": "/"},
                    "IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}"#;
        let all = [("oss:Prefix", "a"), ("oss:Delimiter", "/"), ("acs:SourceIp", "10.0.0.1")];
        assert!(holds(c, &all));
        assert!(!holds(c, &all[..2]), "operators AND");
        assert!(!holds(c, &[all[0], all[2]]), "keys AND");
        // Several request values: any one matching is enough for a positive operator...
        assert!(holds(
            r#"{"StringEquals": {"acs:ResourceTag/env": "prod"}}"#,
            &[("acs:ResourceTag/env", "dev"), ("acs:ResourceTag/env", "prod")]
        ));
        // ...and disqualifies a negated one.
        assert!(!holds(
            r#"{"StringNotEquals": {"acs:ResourceTag/env": "prod"}}"#,
            &[("acs:ResourceTag/env", "dev"), ("acs:ResourceTag/env", "prod")]
        ));
        assert!(condition("{}").holds(&Context::new()), "an empty Condition constrains nothing");
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            error(r#"{"StringEqual": {"oss:Prefix": "a"}}"#),
            r#"Condition: unknown condition operator "StringEqual"; did you mean "StringEquals"?"#
        );
        assert!(error(r#"{"stringequals": {"oss:Prefix": "a"}}"#).contains("case-sensitive); did you mean \"StringEquals\"?"));
        assert!(error(r#"{"StringLikeIfExist": {"oss:Prefix": "a"}}"#).contains("did you mean \"StringLikeIfExists\"?"));
        assert!(error(r#"{"Null": {"oss:Prefix": "true"}}"#).contains("Null is an AWS IAM operator"));
        assert!(error(r#"{"ForAnyValue:StringEquals": {"oss:Prefix": "a"}}"#).contains("ForAnyValue"));
        assert!(error(r#"{"Frobnicate": {"oss:Prefix": "a"}}"#).contains("RAM supports StringEquals"));
        assert_eq!(
            error(r#"{"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "10.0.0.300"]}}"#),
            r#"Condition.IpAddress."acs:SourceIp"[1]: invalid value "10.0.0.300"; IpAddress needs an IP address or CIDR block such as "192.168.0.1", "10.0.0.0/8" or "2001:db8::/32""#
        );
        assert!(error(r#"{"IpAddress": {"acs:SourceIp": 10}}"#).contains("invalid value 10"));
        assert!(error(r#"{"DateLessThan": {"acs:CurrentTime": "tomorrow"}}"#).contains("ISO-8601"));
        assert!(error(r#"{"DateLessThan": {"acs:CurrentTime": true}}"#).contains("ISO-8601"));
        assert!(error(r#"{"NumericLessThan": {"oss:MaxKeys": "ten"}}"#).contains("needs a number"));
        assert!(error(r#"{"Bool": {"acs:SecureTransport": "yes"}}"#).contains("true or false"));
        assert!(error(r#"{"StringEquals": {}}"#).contains("non-empty object"));
        assert!(error(r#"{"StringEquals": "x"}"#).contains("found a string"));
        assert!(error(r#"{"StringEquals": {"oss:Prefix": []}}"#).contains("non-empty list"));
        assert!(error(r#"{"StringEquals": {"oss:Prefix": [["a"]]}}"#).contains("[0]: expected a string, number or boolean, found a list"));
        assert!(error(r#"{"StringEquals": {"oss:Prefix": null}}"#).contains("found null"));
        assert!(error(r#"{"StringEquals": {"oss:Prefix": "a", "OSS:PREFIX": "b"}}"#).contains("appears more than once"));
        assert!(error(r#"{"StringEquals": {"a": "1"}, "StringEquals": {"b": "1"}}"#).contains("appears more than once"));
        assert!(error(r#"["StringEquals"]"#).contains("expected an object"));
    }

    #[test]
    fn condition_keys() {
        for key in [
            "acs:SourceIp",
            "ACS:SOURCEIP",
            "acs:CurrentTime",
            "acs:ResourceTag/team",
            "acs:RequestTag/cost center",
            "oss:Prefix",
            "ram:x",
            "sts:ExternalId",
            "log-x:y",
        ] {
            let c = format!(r#"{{"StringEquals": {{"{key}": "v"}}}}"#);
            Condition::parse(&crate::json::parse(&c).unwrap(), &Location::root()).unwrap_or_else(|e| panic!("{key}: {e}"));
        }
        assert_eq!(
            error(r#"{"StringEquals": {"acs:SoureIp": "v"}}"#),
            r#"Condition.StringEquals: unknown condition key "acs:SoureIp"; did you mean "acs:SourceIp"?"#
        );
        assert!(error(r#"{"StringEquals": {"acs:SourceIp ": "v"}}"#).contains("(note the trailing space); did you mean \"acs:SourceIp\"?"));
        assert!(error(r#"{"StringEquals": {"oss: Prefix": "v"}}"#).contains("did you mean \"oss:Prefix\"?"));
        assert!(error(r#"{"StringEquals": {"acs:ResourceTag": "v"}}"#).contains("tag key is missing"));
        assert!(error(r#"{"StringEquals": {"acs:ResourceTag/": "v"}}"#).contains("tag key is missing"));
        assert!(error(r#"{"StringEquals": {"SourceIp": "v"}}"#).contains("global keys such as"));
        assert!(error(r#"{"StringEquals": {"acs:Banana": "v"}}"#).contains("the global keys are \"acs:SourceIp\""));
        assert!(error(r#"{"StringEquals": {"acs:Banana": "v"}}"#).ends_with("\"acs:RequestTag/<tag-key>\""));
        assert!(error(r#"{"StringEquals": {"oss:": "v"}}"#).contains("service keys"));
    }
}
