//! Bucket lifecycle rules (docs/oss.md, "Lifecycle"): what a rule may say, and what is due for
//! an object or an upload at a moment of the server's clock. Pure: the service applies the
//! decisions ([`super::service::Oss::run_lifecycle`]) and the server runs that on a timer.
//!
//! A rule selects objects by key prefix and, optionally, tags and a [`Filter`] (keys and tags it
//! excludes, object sizes). Its actions: expiration (delete),
//! transitions to colder storage classes, and aborting incomplete multipart uploads — each after
//! a number of days since the object's last modification (the upload's initiation), or for
//! objects modified before a date. On a versioned bucket, expiration makes a delete marker, and
//! the noncurrent-version actions expire or transition versions some days after they stopped
//! being current; `ExpiredObjectDeleteMarker` removes a delete marker left as a key's only
//! version.

use serde::{Deserialize, Serialize};

use super::archive::storage_class;
use super::error::{OssError, OssResult};

/// Rules per bucket.
pub const MAX_RULES: usize = 1000;
const DAY: i64 = 86_400;

/// When an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum When {
    /// This many days after the last modification (or initiation).
    Days(u32),
    /// To what was last modified (initiated) before this Unix second (`CreatedBeforeDate`).
    Before(i64),
    /// The same, written as an expiration `Date`.
    Date(i64),
}

impl When {
    fn due(self, since: i64, now: i64) -> bool {
        match self {
            When::Days(d) => since + i64::from(d) * DAY <= now,
            When::Before(t) | When::Date(t) => since < t && t <= now,
        }
    }
}

/// A transition to `storage_class`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub when: When,
    pub storage_class: String,
}

/// A noncurrent-version transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoncurrentTransition {
    pub days: u32,
    pub storage_class: String,
}

/// One lifecycle rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: String,
    pub prefix: String,
    pub enabled: bool,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(default)]
    pub expiration: Option<When>,
    #[serde(default)]
    pub transitions: Vec<Transition>,
    #[serde(default)]
    pub abort_multipart_upload: Option<When>,
    #[serde(default)]
    pub noncurrent_expiration_days: Option<u32>,
    #[serde(default)]
    pub noncurrent_transitions: Vec<NoncurrentTransition>,
    /// `<Expiration><ExpiredObjectDeleteMarker>true`.
    #[serde(default)]
    pub expired_object_delete_marker: bool,
    /// `Filter`: exclusions and object sizes, on top of the prefix and tags.
    #[serde(default)]
    pub filter: Filter,
}

/// A rule's `Filter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    /// `Not`: objects it matches are left alone (OSS allows one).
    #[serde(default)]
    pub not: Vec<Not>,
    /// `ObjectSizeGreaterThan`: only objects larger than this many bytes.
    #[serde(default)]
    pub object_size_greater_than: Option<i64>,
    /// `ObjectSizeLessThan`: only objects smaller than this many bytes.
    #[serde(default)]
    pub object_size_less_than: Option<i64>,
}

/// `Filter/Not`: the objects under `prefix` (that also carry `tag`, when given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Not {
    pub prefix: String,
    #[serde(default)]
    pub tag: Option<(String, String)>,
}

/// The largest object size a filter may name (48.8 TB, OSS's largest object).
pub const MAX_FILTER_SIZE: i64 = 48_800_000_000_000;

impl Filter {
    fn has_sizes(&self) -> bool {
        self.object_size_greater_than.is_some() || self.object_size_less_than.is_some()
    }

    /// Whether the filter lets an object of `key`, `tags` and `size` through (`None`: an
    /// upload, which has no size yet; rules that filter by size never reach uploads).
    fn admits(&self, key: &str, tags: &[(String, String)], size: Option<u64>) -> bool {
        let excluded = self.not.iter().any(|n| key.starts_with(&n.prefix) && n.tag.as_ref().is_none_or(|t| tags.contains(t)));
        let size = size.map(|s| i64::try_from(s).unwrap_or(i64::MAX));
        let sized = match size {
            None => !self.has_sizes(),
            Some(s) => self.object_size_greater_than.is_none_or(|g| s > g) && self.object_size_less_than.is_none_or(|l| s < l),
        };
        !excluded && sized
    }

    fn validate(&self, rule: &Rule) -> OssResult<()> {
        if self.not.len() > 1 {
            return Err(invalid(format!("Rule {:?} has more than one Not in its Filter.", rule.id)));
        }
        for n in &self.not {
            if !n.prefix.starts_with(&rule.prefix) || (n.prefix == rule.prefix && n.tag.is_none()) {
                return Err(invalid(format!(
                    "In rule {:?}, the Not prefix {:?} must start with the rule's prefix {:?} and exclude less than the whole rule.",
                    rule.id, n.prefix, rule.prefix
                )));
            }
            if let Some((k, v)) = &n.tag {
                if k.is_empty() || !k.chars().chain(v.chars()).all(super::tagging::allowed) {
                    return Err(invalid(format!("The Not tag {k:?}={v:?} of rule {:?} is not a valid tag.", rule.id)));
                }
                if rule.abort_multipart_upload.is_some() {
                    return Err(invalid(format!("Rule {:?} filters by tag; it cannot abort multipart uploads.", rule.id)));
                }
            }
        }
        let size_ok = |v: Option<i64>| v.is_none_or(|v| (0..=MAX_FILTER_SIZE).contains(&v));
        if !size_ok(self.object_size_greater_than) || !size_ok(self.object_size_less_than) {
            return Err(invalid(format!("The object sizes of rule {:?} are 0 to {MAX_FILTER_SIZE} bytes.", rule.id)));
        }
        if let (Some(g), Some(l)) = (self.object_size_greater_than, self.object_size_less_than) {
            if g >= l {
                return Err(invalid(format!(
                    "In rule {:?}, ObjectSizeGreaterThan ({g}) must be less than ObjectSizeLessThan ({l}).",
                    rule.id
                )));
            }
        }
        if self.has_sizes() && rule.abort_multipart_upload.is_some() {
            return Err(invalid(format!("Rule {:?} filters by object size; it cannot abort multipart uploads.", rule.id)));
        }
        Ok(())
    }
}

/// What is due for an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Expire,
    Transition(String),
}

/// The order of the classes, warmest first: a transition only ever goes colder.
fn coldness(class: &str) -> usize {
    ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"].iter().position(|c| *c == class).unwrap_or(0)
}

fn invalid(message: String) -> OssError {
    OssError::InvalidArgument(message)
}

/// Checks a rule set (and names rules without an ID, as OSS does).
pub fn validate(rules: &mut [Rule]) -> OssResult<()> {
    if rules.is_empty() || rules.len() > MAX_RULES {
        return Err(OssError::MalformedXml(format!("a lifecycle configuration has 1 to {MAX_RULES} rules")));
    }
    for (i, rule) in rules.iter_mut().enumerate() {
        if rule.id.is_empty() {
            rule.id = format!("rule-{}", i + 1);
        }
        if rule.id.len() > 255 {
            return Err(invalid(format!("The rule ID {:?} is longer than 255 characters.", rule.id)));
        }
        let acts = rule.expiration.is_some()
            || !rule.transitions.is_empty()
            || rule.abort_multipart_upload.is_some()
            || rule.noncurrent_expiration_days.is_some()
            || !rule.noncurrent_transitions.is_empty()
            || rule.expired_object_delete_marker;
        if !acts {
            return Err(invalid(format!("Rule {:?} has no action.", rule.id)));
        }
        let days = |w: &Option<When>| matches!(w, Some(When::Days(0)));
        if days(&rule.expiration) || days(&rule.abort_multipart_upload) || rule.transitions.iter().any(|t| t.when == When::Days(0)) {
            return Err(invalid(format!("Days in rule {:?} must be a positive integer.", rule.id)));
        }
        for t in rule.transitions.iter_mut() {
            t.storage_class = storage_class(&t.storage_class)?;
            if coldness(&t.storage_class) == 0 {
                return Err(invalid(format!("Rule {:?} cannot transition objects to {}.", rule.id, t.storage_class)));
            }
            if let (Some(When::Days(e)), When::Days(d)) = (rule.expiration, t.when) {
                if d >= e {
                    return Err(invalid(format!(
                        "In rule {:?}, the transition after {d} days must come before the expiration after {e} days.",
                        rule.id
                    )));
                }
            }
        }
        if rule.expired_object_delete_marker && rule.expiration.is_some() {
            return Err(invalid(format!("Rule {:?}: ExpiredObjectDeleteMarker cannot be combined with Days or a date.", rule.id)));
        }
        for t in rule.noncurrent_transitions.iter_mut() {
            t.storage_class = storage_class(&t.storage_class)?;
            if coldness(&t.storage_class) == 0 || t.days == 0 {
                return Err(invalid(format!("Rule {:?} has an invalid noncurrent version transition.", rule.id)));
            }
            if rule.noncurrent_expiration_days.is_some_and(|e| t.days >= e) {
                return Err(invalid(format!(
                    "In rule {:?}, the noncurrent transition after {} days must come before the noncurrent expiration.",
                    rule.id, t.days
                )));
            }
        }
        if rule.noncurrent_expiration_days == Some(0) {
            return Err(invalid(format!("NoncurrentDays in rule {:?} must be a positive integer.", rule.id)));
        }
        for (i, t) in rule.noncurrent_transitions.iter().enumerate() {
            for u in &rule.noncurrent_transitions[..i] {
                let (warm, cold) = if coldness(&t.storage_class) > coldness(&u.storage_class) { (u, t) } else { (t, u) };
                if cold.days <= warm.days {
                    return Err(invalid(format!(
                        "In rule {:?}, the noncurrent transition to {} must come after the one to {}.",
                        rule.id, cold.storage_class, warm.storage_class
                    )));
                }
            }
        }
        if let Some((k, v)) = rule.tags.iter().find(|(k, v)| !k.chars().chain(v.chars()).all(super::tagging::allowed)) {
            return Err(invalid(format!("The tag {k:?}={v:?} of rule {:?} has a character tags may not have.", rule.id)));
        }
        let by_days = |w: &When| matches!(w, When::Days(_));
        let times: Vec<bool> = rule.expiration.iter().chain(rule.transitions.iter().map(|t| &t.when)).map(by_days).collect();
        if times.windows(2).any(|w| w[0] != w[1]) {
            return Err(OssError::InvalidRequest(format!(
                "Rule {:?} mixes days and dates: its expiration and transitions use one or the other.",
                rule.id
            )));
        }
        for (i, t) in rule.transitions.iter().enumerate() {
            for u in &rule.transitions[..i] {
                let (warm, cold) = if coldness(&t.storage_class) > coldness(&u.storage_class) { (u, t) } else { (t, u) };
                if let (When::Days(w), When::Days(c)) = (warm.when, cold.when) {
                    if c <= w {
                        return Err(invalid(format!(
                            "In rule {:?}, the transition to {} must come after the one to {}.",
                            rule.id, cold.storage_class, warm.storage_class
                        )));
                    }
                }
            }
        }
        if !rule.tags.is_empty() && rule.abort_multipart_upload.is_some() {
            return Err(invalid(format!("Rule {:?} filters by tag; it cannot abort multipart uploads.", rule.id)));
        }
        rule.filter.validate(rule)?;
    }
    for (i, rule) in rules.iter().enumerate() {
        if rules[..i].iter().any(|r| r.id == rule.id) {
            return Err(invalid(format!("The rule ID {:?} is used twice.", rule.id)));
        }
    }
    Ok(())
}

fn applies(rule: &Rule, key: &str, tags: &[(String, String)], size: Option<u64>) -> bool {
    rule.enabled && key.starts_with(&rule.prefix) && rule.tags.iter().all(|t| tags.contains(t)) && rule.filter.admits(key, tags, size)
}

/// An object as the rules judge it.
#[derive(Debug, Clone, Copy)]
pub struct Judged<'a> {
    pub key: &'a str,
    pub tags: &'a [(String, String)],
    pub size: u64,
    pub last_modified: i64,
    pub storage_class: &'a str,
}

/// What the rules want done with an object at `now`: expiration wins; otherwise the coldest due
/// transition that is colder than the object's class.
pub fn due(rules: &[Rule], o: Judged<'_>, now: i64) -> Option<Action> {
    let since = o.last_modified;
    decide(
        rules,
        o,
        |r| r.expiration.is_some_and(|w| w.due(since, now)),
        |r| r.transitions.iter().filter(move |t| t.when.due(since, now)).map(|t| t.storage_class.as_str()),
    )
}

/// What the rules want done with a noncurrent version (`o.last_modified`: when it stopped being
/// current): expiration wins; otherwise the coldest due transition colder than its class.
pub fn noncurrent_due(rules: &[Rule], o: Judged<'_>, now: i64) -> Option<Action> {
    let since = o.last_modified;
    decide(
        rules,
        o,
        |r| r.noncurrent_expiration_days.is_some_and(|d| When::Days(d).due(since, now)),
        |r| r.noncurrent_transitions.iter().filter(move |t| When::Days(t.days).due(since, now)).map(|t| t.storage_class.as_str()),
    )
}

/// The decision `due` and `noncurrent_due` share: among the rules that apply to `o`, an
/// expiration that `expires` finds due wins; otherwise the coldest class `due_classes` names that
/// is colder than the object's own.
fn decide<'r, C: Iterator<Item = &'r str>>(
    rules: &'r [Rule],
    o: Judged<'_>,
    expires: impl Fn(&Rule) -> bool,
    due_classes: impl Fn(&'r Rule) -> C,
) -> Option<Action> {
    let mut colder: Option<&str> = None;
    for rule in rules.iter().filter(|r| applies(r, o.key, o.tags, Some(o.size))) {
        if expires(rule) {
            return Some(Action::Expire);
        }
        for class in due_classes(rule) {
            if coldness(class) > coldness(colder.unwrap_or(o.storage_class)) {
                colder = Some(class);
            }
        }
    }
    colder.map(|c| Action::Transition(c.to_string()))
}

/// Whether a delete marker of `key` that is the key's only version is to be removed.
pub fn expired_marker_due(rules: &[Rule], key: &str) -> bool {
    rules.iter().filter(|r| applies(r, key, &[], None)).any(|r| r.expired_object_delete_marker)
}

/// Whether an upload of `key` initiated at `initiated` is to be aborted at `now`.
pub fn abort_due(rules: &[Rule], key: &str, initiated: i64, now: i64) -> bool {
    rules.iter().filter(|r| applies(r, key, &[], None)).any(|r| r.abort_multipart_upload.is_some_and(|w| w.due(initiated, now)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`super::due`] for an object of size 0.
    fn due(rules: &[Rule], key: &str, tags: &[(String, String)], last_modified: i64, class: &str, now: i64) -> Option<Action> {
        super::due(rules, Judged { key, tags, size: 0, last_modified, storage_class: class }, now)
    }

    #[test]
    fn filter_not_and_sizes() {
        let tag = ("k".to_string(), "v".to_string());
        let mut rules = vec![Rule {
            expiration: Some(When::Days(1)),
            filter: Filter {
                not: vec![Not { prefix: "logs/keep/".into(), tag: Some(tag.clone()) }],
                object_size_greater_than: Some(10),
                object_size_less_than: Some(100),
            },
            ..rule("logs/")
        }];
        validate(&mut rules).unwrap();
        let judge = |key, tags: &[(String, String)], size| {
            super::due(&rules, Judged { key, tags, size, last_modified: 0, storage_class: "Standard" }, DAY)
        };
        assert_eq!(judge("logs/a", &[], 50), Some(Action::Expire));
        assert_eq!(judge("logs/a", &[], 10), None, "not larger than 10");
        assert_eq!(judge("logs/a", &[], 100), None, "not smaller than 100");
        assert_eq!(judge("logs/keep/a", std::slice::from_ref(&tag), 50), None, "excluded by Not (prefix and tag)");
        assert_eq!(judge("logs/keep/a", &[], 50), Some(Action::Expire), "Not needs its tag too");
        for bad in [
            Filter { object_size_greater_than: Some(100), object_size_less_than: Some(100), ..Filter::default() },
            Filter { object_size_greater_than: Some(-1), ..Filter::default() },
            Filter { not: vec![Not { prefix: "other/".into(), tag: None }], ..Filter::default() },
            Filter { not: vec![Not { prefix: "logs/".into(), tag: None }], ..Filter::default() },
            Filter {
                not: vec![Not { prefix: "logs/a".into(), tag: None }, Not { prefix: "logs/b".into(), tag: None }],
                ..Filter::default()
            },
        ] {
            let mut r = vec![Rule { expiration: Some(When::Days(1)), filter: bad, ..rule("logs/") }];
            assert!(validate(&mut r).is_err(), "{r:?}");
        }
        let mut sized_abort = vec![Rule {
            abort_multipart_upload: Some(When::Days(1)),
            filter: Filter { object_size_less_than: Some(5), ..Filter::default() },
            ..rule("")
        }];
        assert!(validate(&mut sized_abort).is_err(), "object sizes cannot select uploads");
        let mut not_prefix_abort = vec![Rule {
            abort_multipart_upload: Some(When::Days(1)),
            filter: Filter { not: vec![Not { prefix: "a/skip".into(), tag: None }], ..Filter::default() },
            ..rule("a/")
        }];
        validate(&mut not_prefix_abort).unwrap();
        assert!(abort_due(&not_prefix_abort, "a/x", 0, DAY) && !abort_due(&not_prefix_abort, "a/skip/x", 0, DAY));
    }

    fn rule(prefix: &str) -> Rule {
        Rule {
            id: String::new(),
            prefix: prefix.into(),
            enabled: true,
            tags: Vec::new(),
            expiration: None,
            transitions: Vec::new(),
            abort_multipart_upload: None,
            noncurrent_expiration_days: None,
            noncurrent_transitions: Vec::new(),
            expired_object_delete_marker: false,
            filter: Filter::default(),
        }
    }

    #[test]
    fn noncurrent_versions_and_markers() {
        let mut rules = vec![Rule {
            noncurrent_expiration_days: Some(30),
            noncurrent_transitions: vec![
                NoncurrentTransition { days: 12, storage_class: "IA".into() },
                NoncurrentTransition { days: 20, storage_class: "Archive".into() },
            ],
            expired_object_delete_marker: true,
            ..rule("v/")
        }];
        validate(&mut rules).unwrap();
        let at = |days: i64| {
            noncurrent_due(&rules, Judged { key: "v/a", tags: &[], size: 0, last_modified: 0, storage_class: "Standard" }, days * DAY)
        };
        assert_eq!(at(11), None);
        assert_eq!(at(12), Some(Action::Transition("IA".into())));
        assert_eq!(at(20), Some(Action::Transition("Archive".into())));
        assert_eq!(at(30), Some(Action::Expire));
        assert!(expired_marker_due(&rules, "v/a") && !expired_marker_due(&rules, "w/a"));
        assert_eq!(due(&rules, "v/a", &[], 0, "Standard", 40 * DAY), None, "current versions are not noncurrent");
        rules[0].noncurrent_transitions.swap(0, 1);
        rules[0].noncurrent_transitions[0].days = 20;
        rules[0].noncurrent_transitions[1].days = 12;
        rules[0].noncurrent_transitions[0].storage_class = "IA".into();
        rules[0].noncurrent_transitions[1].storage_class = "Archive".into();
        assert!(validate(&mut rules).is_err(), "the colder class must come later");
    }

    #[test]
    fn expiration_transition_abort() {
        let mut rules = vec![Rule {
            expiration: Some(When::Days(30)),
            transitions: vec![
                Transition { when: When::Days(10), storage_class: "ia".into() },
                Transition { when: When::Days(20), storage_class: "Archive".into() },
            ],
            abort_multipart_upload: Some(When::Days(1)),
            ..rule("logs/")
        }];
        validate(&mut rules).unwrap();
        assert_eq!(rules[0].id, "rule-1");
        assert_eq!(rules[0].transitions[0].storage_class, "IA");
        let at = |days: i64| due(&rules, "logs/a", &[], 0, "Standard", days * DAY);
        assert_eq!(at(9), None);
        assert_eq!(at(10), Some(Action::Transition("IA".into())));
        assert_eq!(at(25), Some(Action::Transition("Archive".into())));
        assert_eq!(due(&rules, "logs/a", &[], 0, "Archive", 25 * DAY), None, "never back to a warmer class");
        assert_eq!(at(30), Some(Action::Expire));
        assert_eq!(due(&rules, "data/a", &[], 0, "Standard", 40 * DAY), None, "outside the prefix");
        assert!(!abort_due(&rules, "logs/u", 0, DAY - 1) && abort_due(&rules, "logs/u", 0, DAY));
        rules[0].enabled = false;
        assert_eq!(due(&rules, "logs/a", &[], 0, "Standard", 40 * DAY), None, "a disabled rule does nothing");
    }

    #[test]
    fn dates_and_tags() {
        let mut rules = vec![Rule { expiration: Some(When::Before(1000)), tags: vec![("k".into(), "v".into())], ..rule("") }];
        validate(&mut rules).unwrap();
        let tagged = [("k".to_string(), "v".to_string())];
        assert_eq!(due(&rules, "a", &tagged, 999, "Standard", 1000), Some(Action::Expire));
        assert_eq!(due(&rules, "a", &tagged, 999, "Standard", 999), None, "not before the date");
        assert_eq!(due(&rules, "a", &tagged, 1000, "Standard", 5000), None, "modified on or after the date");
        assert_eq!(due(&rules, "a", &[], 999, "Standard", 5000), None, "without the tag");
    }

    #[test]
    fn invalid_rules() {
        for mut rules in [
            vec![rule("a")],
            vec![Rule { expiration: Some(When::Days(0)), ..rule("a") }],
            vec![Rule {
                expiration: Some(When::Days(5)),
                transitions: vec![Transition { when: When::Days(5), storage_class: "IA".into() }],
                ..rule("")
            }],
            vec![Rule { transitions: vec![Transition { when: When::Days(5), storage_class: "Standard".into() }], ..rule("") }],
            vec![
                Rule { id: "x".into(), expiration: Some(When::Days(1)), ..rule("a") },
                Rule { id: "x".into(), expiration: Some(When::Days(1)), ..rule("b") },
            ],
            Vec::new(),
            vec![Rule { tags: vec![("k".into(), ")%".into())], expiration: Some(When::Days(1)), ..rule("") }],
            vec![Rule {
                expiration: Some(When::Before(100)),
                transitions: vec![Transition { when: When::Days(5), storage_class: "IA".into() }],
                ..rule("")
            }],
            vec![Rule {
                expiration: Some(When::Days(9)),
                transitions: vec![
                    Transition { when: When::Days(5), storage_class: "IA".into() },
                    Transition { when: When::Days(2), storage_class: "Archive".into() },
                ],
                ..rule("")
            }],
        ] {
            assert!(validate(&mut rules).is_err(), "{rules:?}");
        }
    }
}
