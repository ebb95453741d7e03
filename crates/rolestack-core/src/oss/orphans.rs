//! Orphan collection: removing object bodies that no object, stored version or part refers to.
//!
//! A body becomes durable (fsync, rename) *before* the record that refers to it is committed,
//! and a replaced body is removed only *after* the commit that replaced it; so a process killed in
//! between leaves a blob nobody refers to, never a record without its body. Such blobs are
//! collected here, at start-up and in the background while the server already serves.
//!
//! Why this is safe while requests run: only blobs committed *before this process started* are
//! candidates ([`BlobStore::committed_before`]); every blob this process writes is newer. An old
//! blob that is unreferenced can never become referenced again (every write makes new blobs), so
//! the only race left is a reference moving between tables while the scan pages through them:
//! CompleteMultipartUpload moves part bodies into an object, and on a versioned bucket a write
//! or delete moves the current version into the stored versions (a permanent delete moves the
//! newest stored version back). So the tables are scanned in the order bodies move: parts,
//! stored versions, objects, stored versions again — a moved body is seen in one of them.

use std::collections::HashSet;
use std::time::SystemTime;

use super::blob::{BlobId, BlobStore, Segment};
use super::error::{OssError, OssResult};
use super::model::{Object, Part};
use crate::store::Store;

/// Records read per transaction while scanning.
const PAGE: usize = 1000;

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Collected {
    /// Blobs older than the process that were looked at.
    pub candidates: usize,
    /// The blobs removed because nothing refers to them.
    pub removed: Vec<BlobId>,
}

/// Removes every blob committed before `started` that no stored part or object refers to.
pub fn collect(store: &dyn Store, blobs: &dyn BlobStore, started: SystemTime) -> OssResult<Collected> {
    let candidates = blobs.committed_before(started)?;
    if candidates.is_empty() {
        return Ok(Collected::default());
    }
    let mut unreferenced: HashSet<BlobId> = candidates.iter().cloned().collect();
    let mut forget = |segments: &mut dyn Iterator<Item = Segment>| {
        for s in segments {
            unreferenced.remove(&s.blob);
        }
    };
    // Parts first, then objects: see the module docs.
    let mut after: Option<(String, u32)> = None;
    loop {
        let page = store.begin()?.oss_parts_scan(after.as_ref().map(|(u, n)| (u.as_str(), *n)), PAGE)?;
        for (_, _, data) in &page {
            let part: Part = decode("part", data)?;
            forget(&mut std::iter::once(part.segment));
        }
        match page.last() {
            Some((upload, number, _)) if page.len() == PAGE => after = Some((upload.clone(), *number)),
            _ => break,
        }
    }
    scan_versions(store, &mut forget)?;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = store.begin()?.oss_objects_scan(after.as_ref().map(|(b, k)| (b.as_str(), k.as_str())), PAGE)?;
        for (_, _, data) in &page {
            let object: Object = decode("object", data)?;
            forget(&mut object.segments.into_iter());
        }
        match page.last() {
            Some((bucket, key, _)) if page.len() == PAGE => after = Some((bucket.clone(), key.clone())),
            _ => break,
        }
    }
    scan_versions(store, &mut forget)?;
    let mut removed: Vec<BlobId> = unreferenced.into_iter().collect();
    removed.sort_by(|a, b| a.0.cmp(&b.0));
    for id in &removed {
        blobs.remove(id)?;
    }
    Ok(Collected { candidates: candidates.len(), removed })
}

/// Pages through every stored version (noncurrent versions keep their bodies).
fn scan_versions(store: &dyn Store, forget: &mut dyn FnMut(&mut dyn Iterator<Item = Segment>)) -> OssResult<()> {
    let mut after: Option<(String, String, String)> = None;
    loop {
        let page = store.begin()?.oss_versions_scan(after.as_ref().map(|(b, k, o)| (b.as_str(), k.as_str(), o.as_str())), PAGE)?;
        for (_, _, _, data) in &page {
            let object: Object = decode("object", data)?;
            forget(&mut object.segments.into_iter());
        }
        match page.last() {
            Some((bucket, key, ord, _)) if page.len() == PAGE => after = Some((bucket.clone(), key.clone(), ord.clone())),
            _ => return Ok(()),
        }
    }
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, data: &str) -> OssResult<T> {
    serde_json::from_str(data).map_err(|e| OssError::Internal(format!("corrupt {what} record: {e}")))
}
