//! Storage classes and the restore of archived objects (docs/oss.md, "Storage classes and
//! restore"). Objects of the Archive, ColdArchive and DeepColdArchive classes can be listed and
//! HEADed but not read until a RestoreObject has finished; the restored copy then stays readable
//! for the requested number of days. Both moments are read from the server's clock
//! (`core::clock::Clock`), so `rolestack clock advance` finishes a restore and ends it.

use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};

/// The storage classes, as OSS spells them.
pub const STORAGE_CLASSES: [&str; 5] = ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"];

/// The canonical spelling of a storage class (OSS accepts any letter case), or `InvalidArgument`.
pub fn storage_class(value: &str) -> OssResult<String> {
    STORAGE_CLASSES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(value.trim()))
        .map(|c| c.to_string())
        .ok_or_else(|| OssError::InvalidArgument(format!("Invalid storage class {value:?}: use one of {}.", STORAGE_CLASSES.join(", "))))
}

/// Whether objects of the class must be restored before they are read.
pub fn is_archive(class: &str) -> bool {
    matches!(class, "Archive" | "ColdArchive" | "DeepColdArchive")
}

/// A restore of an archived object: readable from `ready_at` until `expires_at` (Unix seconds).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Restore {
    pub ready_at: i64,
    pub expires_at: i64,
    /// The `Tier` asked for (Cold Archive and Deep Cold Archive).
    #[serde(default)]
    pub tier: Option<String>,
}

/// Where a restore stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestoreState {
    /// Requested, not finished.
    Ongoing,
    /// Readable until this Unix second.
    Restored { expires_at: i64 },
}

impl Restore {
    pub fn state(&self, now: i64) -> Option<RestoreState> {
        if now < self.ready_at {
            Some(RestoreState::Ongoing)
        } else if now < self.expires_at {
            Some(RestoreState::Restored { expires_at: self.expires_at })
        } else {
            None
        }
    }
}

/// `Tier` values, fastest first.
pub const TIERS: [&str; 3] = ["Expedited", "Standard", "Bulk"];

/// How long a restore of `class` at `tier` takes, in seconds: the longest time OSS documents for
/// it (Archive about a minute; Cold Archive Expedited 1 h, Standard 5 h, Bulk 12 h; Deep Cold
/// Archive Expedited 12 h, Standard 48 h).
fn restore_seconds(class: &str, tier: Option<&str>) -> i64 {
    match (class, tier.unwrap_or("Standard")) {
        ("ColdArchive", "Expedited") => 3600,
        ("ColdArchive", "Bulk") => 12 * 3600,
        ("ColdArchive", _) => 5 * 3600,
        ("DeepColdArchive", "Expedited") => 12 * 3600,
        ("DeepColdArchive", _) => 48 * 3600,
        _ => 60,
    }
}

/// A RestoreObject request: `Days` (default 1) and, for the cold classes, `JobParameters/Tier`.
#[derive(Debug, Clone, Default)]
pub struct RestoreRequest {
    pub days: Option<i64>,
    pub tier: Option<String>,
}

/// The effect of a RestoreObject on an object of `class` whose current restore is `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreOutcome {
    /// A restore starts (202).
    Started(Restore),
    /// The object is already restored: its restored time is extended (200).
    Extended(Restore),
}

/// Decides a RestoreObject at `now`.
pub fn restore(class: &str, current: Option<&Restore>, req: &RestoreRequest, now: i64) -> OssResult<RestoreOutcome> {
    if !is_archive(class) {
        return Err(OssError::NotArchived(format!(
            "{class} objects are not archived; only Archive, ColdArchive and DeepColdArchive objects are restored."
        )));
    }
    let cold = class != "Archive";
    if req.tier.is_some() && !cold {
        return Err(OssError::MalformedXml("JobParameters applies to ColdArchive and DeepColdArchive objects only".into()));
    }
    if let Some(t) = &req.tier {
        let allowed: &[&str] = if class == "DeepColdArchive" { &TIERS[..2] } else { &TIERS };
        if !allowed.contains(&t.as_str()) {
            return Err(OssError::InvalidArgument(format!("Tier {t:?} is not one of {} for {class} objects.", allowed.join(", "))));
        }
    }
    let max_days = if cold { 365 } else { 7 };
    let days = req.days.unwrap_or(1);
    if !(1..=max_days).contains(&days) {
        return Err(OssError::InvalidArgument(format!("Days {days} is not between 1 and {max_days} for {class} objects.")));
    }
    match current.and_then(|r| r.state(now)) {
        Some(RestoreState::Ongoing) => Err(OssError::RestoreAlreadyInProgress),
        Some(RestoreState::Restored { .. }) => {
            let r = current.cloned().expect("a restored object has a restore");
            Ok(RestoreOutcome::Extended(Restore { expires_at: now + days * 86_400, ..r }))
        }
        None => {
            let ready_at = now + restore_seconds(class, req.tier.as_deref());
            Ok(RestoreOutcome::Started(Restore { ready_at, expires_at: ready_at + days * 86_400, tier: req.tier.clone() }))
        }
    }
}

/// Refuses to read an archived object that is not restored at `now` (`InvalidObjectState`, 403).
pub fn check_readable(class: &str, restore: Option<&Restore>, now: i64) -> OssResult<()> {
    if !is_archive(class) || matches!(restore.and_then(|r| r.state(now)), Some(RestoreState::Restored { .. })) {
        Ok(())
    } else {
        Err(OssError::InvalidObjectState)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert_eq!(storage_class("coldarchive").unwrap(), "ColdArchive");
        assert!(storage_class("Glacier").is_err());
        assert!(is_archive("Archive") && !is_archive("IA"));
    }

    #[test]
    fn restore_lifecycle() {
        let req = RestoreRequest { days: Some(2), tier: None };
        let RestoreOutcome::Started(r) = restore("Archive", None, &req, 1000).unwrap() else { panic!() };
        assert_eq!((r.ready_at, r.expires_at), (1060, 1060 + 2 * 86_400));
        assert!(matches!(check_readable("Archive", Some(&r), 1059), Err(OssError::InvalidObjectState)));
        assert!(matches!(restore("Archive", Some(&r), &req, 1059), Err(OssError::RestoreAlreadyInProgress)));
        assert!(check_readable("Archive", Some(&r), 1060).is_ok());
        assert!(matches!(restore("Archive", Some(&r), &req, 2000), Ok(RestoreOutcome::Extended(_))));
        assert!(check_readable("Archive", Some(&r), r.expires_at).is_err(), "frozen again once the days are over");
        assert!(check_readable("Standard", None, 0).is_ok());
    }

    #[test]
    fn restore_requests() {
        let tier = |t: &str| RestoreRequest { days: Some(5), tier: Some(t.into()) };
        assert!(matches!(restore("Archive", None, &tier("Bulk"), 0), Err(OssError::MalformedXml(_))));
        assert!(matches!(restore("ColdArchive", None, &tier("wrong-tier"), 0), Err(OssError::InvalidArgument(_))));
        assert!(matches!(restore("DeepColdArchive", None, &tier("Bulk"), 0), Err(OssError::InvalidArgument(_))));
        let RestoreOutcome::Started(r) = restore("ColdArchive", None, &tier("Expedited"), 0).unwrap() else { panic!() };
        assert_eq!(r.ready_at, 3600);
        let err = restore("Standard", None, &RestoreRequest::default(), 0).unwrap_err();
        assert_eq!((err.code(), err.http_status(), err.ec()), ("OperationNotSupported", 400, "0016-00000702"));
        assert!(matches!(restore("Archive", None, &RestoreRequest { days: Some(8), tier: None }, 0), Err(OssError::InvalidArgument(_))));
    }
}
