//! Faults injected on purpose into one instance's metadata service (`rolestack instance fault`,
//! admin action `InjectInstanceFault`), so programs can be tested against what the real service
//! and STS do to them: slow or failing answers, throttling, credential documents that are stale or
//! whose credentials STS already refuses. See docs/faults.md.
//!
//! This module is the pure part: what a fault is, which request it applies to (a path wildcard),
//! when it ends by itself (`until` by the server clock, or a number of uses), and the token bucket
//! of a throttle. No IO: the metadata service (`crate::metadata`) reads the faults from the store
//! and applies what [`select`] picks.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The longest delay a fault may add (and the longest a `Timeout` fault holds a request).
pub const MAX_DELAY_MS: u64 = 120_000;
/// The most faults one instance may have at once.
pub const MAX_FAULTS_PER_INSTANCE: usize = 20;

/// What a fault does to a request it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Kind")]
pub enum FaultKind {
    /// Answers normally after waiting this long.
    Delay {
        #[serde(rename = "Milliseconds")]
        millis: u64,
    },
    /// Answers with this HTTP status (and the service's plain-text body for it).
    Status {
        #[serde(rename = "Code")]
        code: u16,
    },
    /// Closes the connection without an answer.
    Reset,
    /// Holds the request without answering (until the fault ends, at most [`MAX_DELAY_MS`]),
    /// then closes the connection.
    Timeout,
    /// Lets this many requests per second through and answers the rest with 429.
    Throttle {
        #[serde(rename = "PerSecond")]
        per_second: u32,
    },
    /// The credential document's `Expiration` is already past (the credentials themselves work).
    StaleCredentials,
    /// The served credentials were expired when the fault was injected (STS and OSS refuse them)
    /// and the document keeps serving them, with that expiry, while the fault lasts.
    ExpireCredentials,
}

/// A fault as stored: what it does and the paths it applies to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultSpec {
    #[serde(flatten)]
    pub kind: FaultKind,
    #[serde(rename = "Path")]
    pub path: String,
}

/// Why a fault description is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault {0:?}: one of Delay, Status, Reset, Timeout, Throttle, StaleCredentials, ExpireCredentials")]
    UnknownKind(String),
    #[error("the fault {0} needs a Value")]
    MissingValue(&'static str),
    #[error("the Delay must be 1 to {MAX_DELAY_MS} milliseconds")]
    DelayOutOfRange,
    #[error("the Status must be an HTTP error status from 400 to 599")]
    StatusOutOfRange,
    #[error("the Throttle rate must be 1 to 10000 requests per second")]
    RateOutOfRange,
    #[error("the fault {0} takes no Value")]
    UnexpectedValue(&'static str),
}

impl FaultKind {
    /// A fault from its API name and value (`Delay` milliseconds, `Status` code, `Throttle`
    /// requests per second; the others take none).
    pub fn parse(name: &str, value: Option<i64>) -> Result<FaultKind, FaultError> {
        let kind = match name.to_ascii_lowercase().as_str() {
            "delay" => {
                let v = value.ok_or(FaultError::MissingValue("Delay"))?;
                let ms = u64::try_from(v).ok().filter(|v| (1..=MAX_DELAY_MS).contains(v)).ok_or(FaultError::DelayOutOfRange)?;
                return Ok(FaultKind::Delay { millis: ms });
            }
            "status" => {
                let v = value.ok_or(FaultError::MissingValue("Status"))?;
                let code = u16::try_from(v).ok().filter(|c| (400..=599).contains(c)).ok_or(FaultError::StatusOutOfRange)?;
                return Ok(FaultKind::Status { code });
            }
            "throttle" => {
                let v = value.ok_or(FaultError::MissingValue("Throttle"))?;
                let per_second = u32::try_from(v).ok().filter(|r| (1..=10_000).contains(r)).ok_or(FaultError::RateOutOfRange)?;
                return Ok(FaultKind::Throttle { per_second });
            }
            "reset" => FaultKind::Reset,
            "timeout" => FaultKind::Timeout,
            "stalecredentials" => FaultKind::StaleCredentials,
            "expirecredentials" => FaultKind::ExpireCredentials,
            _ => return Err(FaultError::UnknownKind(name.to_string())),
        };
        match value {
            Some(_) => Err(FaultError::UnexpectedValue(kind.name())),
            None => Ok(kind),
        }
    }

    /// The API name.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Delay { .. } => "Delay",
            FaultKind::Status { .. } => "Status",
            FaultKind::Reset => "Reset",
            FaultKind::Timeout => "Timeout",
            FaultKind::Throttle { .. } => "Throttle",
            FaultKind::StaleCredentials => "StaleCredentials",
            FaultKind::ExpireCredentials => "ExpireCredentials",
        }
    }

    /// Whether the fault concerns only the credential document (not the rest of the tree, not
    /// token requests).
    pub fn credentials_only(&self) -> bool {
        matches!(self, FaultKind::StaleCredentials | FaultKind::ExpireCredentials)
    }
}

/// One injected fault, as stored for its instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub id: String,
    pub kind: FaultKind,
    /// Wildcard over the request path (`*` any run, `?` one character, ASCII case ignored).
    pub path: String,
    /// Unix milliseconds by the server clock.
    pub created_ms: i64,
    /// Ends at this instant (Unix milliseconds, server clock), if given.
    pub until_ms: Option<i64>,
    /// Ends after this many more requests it applied to, if given.
    pub remaining: Option<i64>,
}

/// A request as fault matching sees it.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The request path (`/latest/meta-data/...`, `/latest/api/token`).
    pub path: &'a str,
    /// The request reads the credential document.
    pub credential_document: bool,
}

impl Fault {
    /// Whether the fault still lasts at `now_ms`.
    pub fn active(&self, now_ms: i64) -> bool {
        self.until_ms.is_none_or(|u| now_ms < u) && self.remaining.is_none_or(|r| r > 0)
    }

    /// Whether the fault concerns this request (leaving time and uses aside).
    pub fn applies_to(&self, target: Target<'_>) -> bool {
        (!self.kind.credentials_only() || target.credential_document) && rolestack_policy::wildcard_match(&self.path, target.path)
    }
}

/// A token bucket: `per_second` tokens a second, holding at most one second's worth.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    per_second: u32,
    tokens: f64,
    last_ms: i64,
}

impl TokenBucket {
    /// A full bucket at `now_ms`.
    pub fn new(per_second: u32, now_ms: i64) -> Self {
        TokenBucket { per_second, tokens: f64::from(per_second), last_ms: now_ms }
    }

    /// Takes a token at `now_ms` if there is one. Time going backwards adds nothing.
    pub fn take(&mut self, now_ms: i64) -> bool {
        let rate = f64::from(self.per_second);
        if now_ms > self.last_ms {
            self.tokens = (self.tokens + (now_ms - self.last_ms) as f64 * rate / 1000.0).min(rate);
            self.last_ms = now_ms;
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The throttles' buckets of one instance, by fault id (kept in the memory of each server: a
/// throttle's rate holds per server).
#[derive(Debug, Default)]
pub struct Buckets(HashMap<String, TokenBucket>);

impl Buckets {
    /// Drops the buckets of faults no longer in `faults`.
    pub fn retain(&mut self, faults: &[Fault]) {
        self.0.retain(|id, _| faults.iter().any(|f| &f.id == id));
    }
}

/// The fault that decides this request, if any: the newest active fault that applies, where a
/// throttle that still has a token lets the request through to the next one. Takes the token.
pub fn select<'a>(faults: &'a [Fault], target: Target<'_>, now_ms: i64, buckets: &mut Buckets) -> Option<&'a Fault> {
    let mut newest_first: Vec<&Fault> = faults.iter().filter(|f| f.active(now_ms) && f.applies_to(target)).collect();
    newest_first.sort_by(|a, b| b.created_ms.cmp(&a.created_ms).then_with(|| b.id.cmp(&a.id)));
    for fault in newest_first {
        if let FaultKind::Throttle { per_second } = fault.kind {
            let bucket = buckets.0.entry(fault.id.clone()).or_insert_with(|| TokenBucket::new(per_second, now_ms));
            if bucket.take(now_ms) {
                continue;
            }
        }
        return Some(fault);
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn fault(id: &str, kind: FaultKind, path: &str, created_ms: i64) -> Fault {
        Fault { id: id.into(), kind, path: path.into(), created_ms, until_ms: None, remaining: None }
    }

    const DOC: Target<'static> = Target { path: "/latest/meta-data/ram/security-credentials/EcsRole", credential_document: true };
    const TOKEN: Target<'static> = Target { path: "/latest/api/token", credential_document: false };

    #[test]
    fn parses_kinds_and_values() {
        assert_eq!(FaultKind::parse("Delay", Some(2000)), Ok(FaultKind::Delay { millis: 2000 }));
        assert_eq!(FaultKind::parse("status", Some(500)), Ok(FaultKind::Status { code: 500 }));
        assert_eq!(FaultKind::parse("Throttle", Some(5)), Ok(FaultKind::Throttle { per_second: 5 }));
        assert_eq!(FaultKind::parse("StaleCredentials", None), Ok(FaultKind::StaleCredentials));
        assert_eq!(FaultKind::parse("Delay", None), Err(FaultError::MissingValue("Delay")));
        assert_eq!(FaultKind::parse("Delay", Some(0)), Err(FaultError::DelayOutOfRange));
        assert_eq!(FaultKind::parse("Status", Some(200)), Err(FaultError::StatusOutOfRange));
        assert_eq!(FaultKind::parse("Reset", Some(1)), Err(FaultError::UnexpectedValue("Reset")));
        assert!(matches!(FaultKind::parse("Explode", None), Err(FaultError::UnknownKind(_))));
    }

    #[test]
    fn kinds_serialize_with_their_api_names() {
        let k = FaultKind::Delay { millis: 5 };
        assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"Kind":"Delay","Milliseconds":5}"#);
        assert_eq!(serde_json::from_str::<FaultKind>(r#"{"Kind":"Reset"}"#).unwrap(), FaultKind::Reset);
    }

    #[test]
    fn specs_round_trip() {
        let spec = FaultSpec { kind: FaultKind::Throttle { per_second: 3 }, path: "/latest/*".into() };
        let text = serde_json::to_string(&spec).unwrap();
        assert_eq!(text, r#"{"Kind":"Throttle","PerSecond":3,"Path":"/latest/*"}"#);
        assert_eq!(serde_json::from_str::<FaultSpec>(&text).unwrap(), spec);
    }

    #[test]
    fn paths_match_by_wildcard_ignoring_case() {
        let f = fault("a", FaultKind::Reset, "/latest/meta-data/ram/*", 0);
        assert!(f.applies_to(DOC));
        assert!(!f.applies_to(TOKEN));
        assert!(fault("b", FaultKind::Reset, "*", 0).applies_to(TOKEN));
        assert!(fault("c", FaultKind::Reset, "/LATEST/api/token", 0).applies_to(TOKEN));
        assert!(fault("d", FaultKind::Reset, "/latest/?pi/*", 0).applies_to(TOKEN));
    }

    #[test]
    fn credential_faults_only_touch_the_document() {
        let stale = fault("s", FaultKind::StaleCredentials, "*", 0);
        assert!(stale.applies_to(DOC));
        assert!(!stale.applies_to(TOKEN));
        assert!(!stale.applies_to(Target { path: "/latest/meta-data/instance-id", credential_document: false }));
    }

    #[test]
    fn faults_end_by_time_or_count() {
        let mut f = fault("a", FaultKind::Reset, "*", 0);
        assert!(f.active(i64::MAX));
        f.until_ms = Some(1000);
        assert!(f.active(999));
        assert!(!f.active(1000));
        f.until_ms = None;
        f.remaining = Some(1);
        assert!(f.active(5));
        f.remaining = Some(0);
        assert!(!f.active(5));
    }

    #[test]
    fn newest_applicable_fault_wins_and_throttles_pass_with_a_token() {
        let faults = vec![
            fault("old", FaultKind::Status { code: 500 }, "*", 1),
            fault("new", FaultKind::Throttle { per_second: 2 }, "*", 2),
            fault("other-path", FaultKind::Reset, "/latest/dynamic/*", 3),
        ];
        let mut buckets = Buckets::default();
        // Two tokens: the throttle lets two requests on to the older 500.
        assert_eq!(select(&faults, DOC, 10, &mut buckets).unwrap().id, "old");
        assert_eq!(select(&faults, DOC, 10, &mut buckets).unwrap().id, "old");
        assert_eq!(select(&faults, DOC, 10, &mut buckets).unwrap().id, "new");
        // Half a second later one token is back.
        assert_eq!(select(&faults, DOC, 510, &mut buckets).unwrap().id, "old");
        assert_eq!(select(&faults, DOC, 510, &mut buckets).unwrap().id, "new");
        let ended = vec![Fault { until_ms: Some(5), ..faults[0].clone() }];
        assert!(select(&ended, DOC, 5, &mut buckets).is_none());
        buckets.retain(&ended);
        assert!(buckets.0.is_empty());
    }

    proptest! {
        /// Over any second, a bucket lets through at most its rate plus what it held at the start.
        #[test]
        fn bucket_never_exceeds_its_rate(rate in 1u32..50, steps in prop::collection::vec(0i64..200, 1..300)) {
            let mut bucket = TokenBucket::new(rate, 0);
            let mut now = 0;
            let mut taken: Vec<i64> = Vec::new();
            for step in steps {
                now += step;
                if bucket.take(now) {
                    taken.push(now);
                }
            }
            for (i, &t) in taken.iter().enumerate() {
                let in_window = taken[i..].iter().take_while(|&&u| u < t + 1000).count();
                prop_assert!(in_window as u32 <= 2 * rate, "{in_window} in a second at rate {rate}");
            }
        }

        /// A bucket given time always has a token again.
        #[test]
        fn bucket_refills(rate in 1u32..1000, drained in 0u32..2000) {
            let mut bucket = TokenBucket::new(rate, 0);
            for _ in 0..drained { bucket.take(0); }
            prop_assert!(bucket.take(1000));
        }

        /// A counted fault is active exactly while uses remain; a timed one exactly before its end.
        #[test]
        fn end_conditions(remaining in -3i64..5, until in 0i64..10_000, now in 0i64..10_000) {
            let f = Fault { remaining: Some(remaining), ..fault("x", FaultKind::Reset, "*", 0) };
            prop_assert_eq!(f.active(now), remaining > 0);
            let f = Fault { until_ms: Some(until), ..fault("x", FaultKind::Reset, "*", 0) };
            prop_assert_eq!(f.active(now), now < until);
        }

        /// `*` matches every path, and a literal path matches itself in any case.
        #[test]
        fn wildcards(path in "/[a-zA-Z0-9/_.-]{0,40}") {
            let target = Target { path: &path, credential_document: false };
            let everything = fault("x", FaultKind::Reset, "*", 0).applies_to(target);
            prop_assert!(everything);
            let upper = path.to_ascii_uppercase();
            let itself = fault("x", FaultKind::Reset, &upper, 0).applies_to(target);
            prop_assert!(itself);
        }
    }
}
