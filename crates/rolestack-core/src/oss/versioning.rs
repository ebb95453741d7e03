//! Bucket versioning, the pure part: the bucket's state (`Enabled`, `Suspended`; never back to
//! unversioned), version ids and the order of a key's versions. How versions are kept — the
//! current one among the objects, noncurrent ones and delete markers beside them — is described
//! in docs/oss.md ("Versioning"); the service moves records between the two
//! (`service::versions`).

use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};

/// The version id of what an unversioned or suspended bucket writes.
pub const NULL_VERSION: &str = "null";

/// A bucket's versioning state (`<VersioningConfiguration><Status>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersioningStatus {
    Enabled,
    Suspended,
}

impl VersioningStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VersioningStatus::Enabled => "Enabled",
            VersioningStatus::Suspended => "Suspended",
        }
    }

    /// A `<Status>` as PutBucketVersioning sends it; anything else (`Disabled`, nothing) is
    /// `MalformedXML`, as in OSS.
    pub fn parse(status: Option<&str>) -> OssResult<Self> {
        match status.map(str::trim) {
            Some("Enabled") => Ok(VersioningStatus::Enabled),
            Some("Suspended") => Ok(VersioningStatus::Suspended),
            Some(other) => Err(OssError::MalformedXml(format!("the versioning status {other:?} is not Enabled or Suspended"))),
            None => Err(OssError::MalformedXml("a VersioningConfiguration needs a Status".into())),
        }
    }
}

/// A number that grows with every version this process makes: nanoseconds since the epoch,
/// moved on by one where two writes fall in the same nanosecond (or the clock steps back).
pub fn next_sequence() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

/// The sequence of a record stored before versions had one: its Last-Modified (seconds).
pub fn legacy_sequence(last_modified: i64) -> u64 {
    (last_modified.max(0) as u64).saturating_mul(1_000_000_000)
}

/// The store's order of a key's versions: 16 hex digits that sort newest (largest sequence)
/// first.
pub fn ord(sequence: u64) -> String {
    format!("{:016x}", u64::MAX - sequence)
}

/// A new version id, shaped like OSS's (base64 of a small binary record: a `CAEQ` prefix, the
/// sequence, 16 random bytes in hex).
pub fn new_version_id(sequence: u64) -> String {
    let mut bytes = vec![0x08, 0x01, 0x10, 0x26, 0x18];
    let mut n = sequence;
    loop {
        let byte = (n & 0x7F) as u8;
        n >>= 7;
        if n == 0 {
            bytes.push(byte);
            break;
        }
        bytes.push(byte | 0x80);
    }
    bytes.extend_from_slice(b"\x22\x20");
    bytes.extend_from_slice(uuid::Uuid::new_v4().simple().to_string().as_bytes());
    BASE64.encode(bytes)
}

/// The sequence a version id made by [`new_version_id`] carries (`None` for `null` and ids of
/// another shape): where the version stands among its key's versions, even once it is deleted.
pub fn sequence_of(id: &str) -> Option<u64> {
    let bytes = BASE64.decode(id).ok()?;
    let rest = bytes.strip_prefix(&[0x08, 0x01, 0x10, 0x26, 0x18][..])?;
    let mut n: u64 = 0;
    for (i, byte) in rest.iter().take(10).enumerate() {
        n |= u64::from(byte & 0x7F).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// Checks a `versionId` a request names: `null`, or an id of the shape OSS gives (anything else
/// — empty, `IllegalVersion`, `234` — is `InvalidArgument`, as in OSS).
pub fn validate_version_id(id: &str) -> OssResult<()> {
    if id == NULL_VERSION {
        return Ok(());
    }
    match BASE64.decode(id) {
        Ok(bytes) if bytes.len() > 4 && bytes.starts_with(&[0x08, 0x01]) => Ok(()),
        _ => Err(OssError::InvalidArgument(format!("Invalid version id specified: {id:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_and_ords_sort_newest_first() {
        let (a, b) = (next_sequence(), next_sequence());
        assert!(b > a);
        assert!(ord(b) < ord(a));
        assert!(ord(legacy_sequence(1_700_000_000)) > ord(a));
        let id = new_version_id(a);
        assert!(id.starts_with("CAEQ"), "{id}");
        assert_eq!(sequence_of(&id), Some(a));
        assert_eq!(sequence_of(&new_version_id(legacy_sequence(1_700_000_000))), Some(legacy_sequence(1_700_000_000)));
        assert_eq!(sequence_of("null"), None);
        validate_version_id(&id).unwrap();
        validate_version_id("null").unwrap();
        validate_version_id("CAEQJhiBgIDVmYrr1RYiIGE5ZmUxMjViZDIwYjQwY2I5ODA1YWIxNmIyNDNjYjk4").unwrap();
        for bad in ["", "IllegalVersion", "234", "NotExistVersionID"] {
            assert!(validate_version_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(VersioningStatus::parse(Some("Enabled")).unwrap(), VersioningStatus::Enabled);
        assert_eq!(VersioningStatus::parse(Some("Suspended")).unwrap(), VersioningStatus::Suspended);
        assert!(matches!(VersioningStatus::parse(Some("Disabled")), Err(OssError::MalformedXml(_))));
        assert!(matches!(VersioningStatus::parse(None), Err(OssError::MalformedXml(_))));
    }
}
