//! Listing objects from the store's key-ordered index: prefix, delimiter (common prefixes),
//! marker / start-after / continuation token and max-keys, in bounded batches so memory does
//! not grow with the bucket. A common prefix is skipped in one index seek (`prefix ‖ 0xFF`),
//! not by walking the keys under it.

use super::error::{OssError, OssResult};
use super::model::Object;
use crate::store::Tx;

/// Default and largest `max-keys`.
pub const DEFAULT_MAX_KEYS: usize = 100;
pub const MAX_MAX_KEYS: usize = 1000;
/// Rows fetched per index query.
const BATCH: usize = 1000;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: String,
    /// List keys strictly after this one (v1 `marker`; v2 the later of `start-after` and the
    /// continuation token).
    pub after: String,
    pub max_keys: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    pub objects: Vec<Object>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// The last key or common prefix returned, when truncated.
    pub next_marker: Option<String>,
}

impl Listing {
    /// Objects plus common prefixes (ListObjectsV2 `KeyCount`).
    pub fn key_count(&self) -> usize {
        self.objects.len() + self.common_prefixes.len()
    }
}

/// Parses `max-keys`: absent → 100. OSS requests (`oss_ec` is the listing's EC) take 1..=1000,
/// else `InvalidArgument` with that EC; the S3-compatible dialect (`None`) keeps S3's 0..=1000
/// (0 lists nothing). See docs/oss.md, "listing".
pub fn parse_max_keys(value: Option<&str>, oss_ec: Option<&'static str>) -> OssResult<usize> {
    let min = usize::from(oss_ec.is_some());
    match value.filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_MAX_KEYS),
        Some(v) => v.parse::<usize>().ok().filter(|n| (min..=MAX_MAX_KEYS).contains(n)).ok_or_else(|| {
            let message = format!("Argument max-keys must be an integer between {min} and {MAX_MAX_KEYS}; got {v:?}.");
            match oss_ec {
                // UNVERIFIED: OSS documents the range and the EC, not the code; InvalidArgument is used.
                Some(ec) => OssError::InvalidArgumentEc { message, ec },
                None => OssError::InvalidArgument(message),
            }
        }),
    }
}

/// Where a listing starts after `marker`: a marker that is itself a common prefix (a NextMarker
/// we returned) skips that whole prefix (`‖ 0xFF`).
fn start_after(marker: &str, prefix: &str, delimiter: &str) -> Vec<u8> {
    let mut after = marker.as_bytes().to_vec();
    if common_prefix(marker, prefix, delimiter).is_some_and(|cp| cp.len() == marker.len()) {
        after.push(0xFF);
    }
    after
}

/// The common prefix `key` rolls up into: `prefix` and what follows up to and including the
/// first `delimiter` (none without a delimiter, or when `key` has no delimiter after `prefix`).
fn common_prefix(key: &str, prefix: &str, delimiter: &str) -> Option<String> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = key.strip_prefix(prefix)?;
    rest.find(delimiter).map(|i| key[..prefix.len() + i + delimiter.len()].to_string())
}

fn decode_object(key: &str, data: &str) -> OssResult<Object> {
    serde_json::from_str(data).map_err(|e| OssError::Internal(format!("corrupt object record {key:?}: {e}")))
}

/// Lists one page of `bucket`.
pub fn list(tx: &mut dyn Tx, bucket: &str, q: &ListQuery) -> OssResult<Listing> {
    let mut out = Listing::default();
    let mut after = start_after(&q.after, &q.prefix, &q.delimiter);
    let mut count = 0;
    'scan: loop {
        // One row more than the page still needs tells whether it is truncated.
        let want = BATCH.min(q.max_keys - count + 1);
        let batch = tx.oss_object_list(bucket, &q.prefix, &after, want)?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() == want;
        for (key, data) in batch {
            let common = common_prefix(&key, &q.prefix, &q.delimiter);
            if count == q.max_keys {
                out.truncated = true;
                break 'scan;
            }
            count += 1;
            match common {
                Some(cp) => {
                    after = cp.as_bytes().to_vec();
                    after.push(0xFF);
                    out.next_marker = Some(cp.clone());
                    out.common_prefixes.push(cp);
                    continue 'scan;
                }
                None => {
                    let object = decode_object(&key, &data)?;
                    after = key.as_bytes().to_vec();
                    out.next_marker = Some(key);
                    out.objects.push(object);
                }
            }
        }
        if !full {
            break;
        }
    }
    if !out.truncated {
        out.next_marker = None;
    }
    Ok(out)
}

/// What ListObjectVersions lists.
#[derive(Debug, Clone, Default)]
pub struct VersionQuery {
    pub prefix: String,
    pub delimiter: String,
    /// `key-marker`: list after this key (after its version `version_id_marker` when given).
    pub key_marker: String,
    pub version_id_marker: String,
    pub max_keys: usize,
}

/// One version in a version listing.
#[derive(Debug, Clone)]
pub struct ListedVersion {
    pub object: Object,
    pub is_latest: bool,
}

/// One page of ListObjectVersions: versions and delete markers in (key, newest first) order.
#[derive(Debug, Clone, Default)]
pub struct VersionListing {
    pub versions: Vec<ListedVersion>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    /// Where the next page starts, when truncated: `(NextKeyMarker, NextVersionIdMarker)`.
    pub next: Option<(String, String)>,
}

/// Lists one page of the versions of `bucket` (the store pages them: constant memory). A
/// common prefix counts as one entry, as in ListObjects.
pub fn list_versions(tx: &mut dyn Tx, bucket: &str, q: &VersionQuery) -> OssResult<VersionListing> {
    let mut out = VersionListing::default();
    let mut after_key: Vec<u8> = q.key_marker.as_bytes().to_vec();
    let mut after_ord: Option<String> = None;
    // The marker key's current version when it is older than the marker (the marker's version,
    // once current, was deleted since: the next one became current): it comes first on this page.
    let mut current_first: Option<Object> = None;
    if !q.version_id_marker.is_empty() && !q.key_marker.is_empty() {
        let current = tx.oss_object_get(bucket, &q.key_marker)?.map(|data| decode_object(&q.key_marker, &data)).transpose()?;
        after_ord = version_ord(tx, bucket, current.as_ref(), &q.key_marker, &q.version_id_marker)?;
        if let (Some(marker), Some(current)) = (after_ord.as_deref().filter(|o| !o.is_empty()), current) {
            if current.version_ord().as_str() > marker {
                current_first = Some(current);
            }
        }
    } else {
        after_key = start_after(&q.key_marker, &q.prefix, &q.delimiter);
    }
    // The key whose newer versions were on an earlier page.
    let mut previous: Option<String> = after_ord.as_ref().map(|_| q.key_marker.clone());
    let mut count = 0;
    if let Some(object) = current_first {
        if q.max_keys == 0 {
            out.truncated = true;
            return Ok(out);
        }
        count += 1;
        out.next = Some((q.key_marker.clone(), object.version().to_string()));
        out.versions.push(ListedVersion { object, is_latest: true });
    }
    'scan: loop {
        let want = BATCH.min(q.max_keys - count + 1);
        let batch = tx.oss_version_list(bucket, &q.prefix, &after_key, after_ord.as_deref(), want)?;
        if batch.is_empty() {
            break;
        }
        let full = batch.len() == want;
        for (key, ord, data) in batch {
            let common = common_prefix(&key, &q.prefix, &q.delimiter);
            if count == q.max_keys {
                out.truncated = true;
                break 'scan;
            }
            count += 1;
            match common {
                Some(cp) => {
                    after_key = cp.as_bytes().to_vec();
                    after_key.push(0xFF);
                    after_ord = None;
                    out.next = Some((cp.clone(), String::new()));
                    out.common_prefixes.push(cp);
                    continue 'scan;
                }
                None => {
                    let object = decode_object(&key, &data)?;
                    let is_latest = ord.is_empty() || previous.as_deref() != Some(key.as_str());
                    out.next = Some((key.clone(), object.version().to_string()));
                    after_key = key.as_bytes().to_vec();
                    after_ord = Some(ord);
                    previous = Some(key);
                    out.versions.push(ListedVersion { object, is_latest });
                }
            }
        }
        if !full {
            break;
        }
    }
    if !out.truncated {
        out.next = None;
    }
    Ok(out)
}

/// The store order of `key`'s version `version_id` (`Some("")` for `current`, the key's current
/// version). A version deleted since the marker was handed out still has its place, which its id
/// carries (a listing that deletes what each page shows must not skip the rest of the key);
/// `None` only for an id that carries none (`null`): the listing then starts after the whole key.
fn version_ord(tx: &mut dyn Tx, bucket: &str, current: Option<&Object>, key: &str, version_id: &str) -> OssResult<Option<String>> {
    if current.is_some_and(|c| c.version() == version_id) {
        return Ok(Some(String::new()));
    }
    match tx.oss_version_get(bucket, key, version_id)? {
        Some((ord, _)) => Ok(Some(ord)),
        None => Ok(super::versioning::sequence_of(version_id).map(super::versioning::ord)),
    }
}
