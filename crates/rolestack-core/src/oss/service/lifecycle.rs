//! Running the buckets' lifecycle rules at the server clock's now: objects expired (deleted, or
//! on a versioned bucket given a delete marker) or moved to a colder storage class, noncurrent
//! versions expired or moved, delete markers left alone removed, incomplete multipart uploads
//! aborted. Each change is its own transaction that first checks the record is still the one
//! judged, so a write racing the run wins.

use super::versions;
use super::{decode, encode, Oss};
use crate::oss::error::OssResult;
use crate::oss::lifecycle::{abort_due, due, expired_marker_due, noncurrent_due, Action, Judged};
use crate::oss::model::{Bucket, Object, Part, Upload};

/// Rows per store page.
const BATCH: usize = 1000;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleRun {
    pub expired: usize,
    pub transitioned: usize,
    pub aborted: usize,
}

impl Oss {
    /// Applies every bucket's enabled rules once.
    pub fn run_lifecycle(&self) -> OssResult<LifecycleRun> {
        let now = self.now();
        let mut run = LifecycleRun::default();
        let mut after = String::new();
        loop {
            let buckets: Vec<Bucket> = {
                let mut tx = self.read_tx()?;
                tx.oss_buckets_scan(&after, BATCH)?.iter().map(|d| decode("bucket", d)).collect::<OssResult<_>>()?
            };
            for b in &buckets {
                if b.lifecycle.as_ref().is_some_and(|r| r.iter().any(|r| r.enabled)) {
                    self.run_bucket(b, now, &mut run)?;
                }
            }
            match buckets.last() {
                Some(last) if buckets.len() == BATCH => after = last.name.clone(),
                _ => return Ok(run),
            }
        }
    }

    fn run_bucket(&self, b: &Bucket, now: i64, run: &mut LifecycleRun) -> OssResult<()> {
        let rules = b.lifecycle.as_deref().unwrap_or_default();
        let mut after: Vec<u8> = Vec::new();
        loop {
            let page = self.read_tx()?.oss_object_list(&b.name, "", &after, BATCH)?;
            for (key, data) in &page {
                let o: Object = decode("object", data)?;
                let judged = Judged { key, tags: &o.tags, size: o.size, last_modified: o.last_modified, storage_class: &o.storage_class };
                if let Some(action) = due(rules, judged, now) {
                    self.apply(b, &o, action, now, run)?;
                }
            }
            match page.last() {
                Some((key, _)) if page.len() == BATCH => after = key.as_bytes().to_vec(),
                _ => break,
            }
        }
        if b.versioning.is_some() {
            self.run_versions(b, now, run)?;
        }
        let (mut key_marker, mut id_marker) = (String::new(), String::new());
        loop {
            let page = self.read_tx()?.oss_upload_list(&b.name, "", &key_marker, &id_marker, BATCH)?;
            for data in &page {
                let u: Upload = decode("upload", data)?;
                if abort_due(rules, &u.key, u.initiated, now) {
                    let mut tx = self.tx()?;
                    if tx.oss_upload_delete(&b.name, &u.upload_id)? {
                        let parts = tx.oss_parts_delete(&u.upload_id)?;
                        tx.commit()?;
                        self.discard_records::<Part>("part", parts)?;
                        run.aborted += 1;
                    }
                }
                (key_marker, id_marker) = (u.key, u.upload_id);
            }
            if page.len() < BATCH {
                return Ok(());
            }
        }
    }

    /// The stored (noncurrent) versions and delete markers of a versioned bucket.
    fn run_versions(&self, b: &Bucket, now: i64, run: &mut LifecycleRun) -> OssResult<()> {
        let rules = b.lifecycle.as_deref().unwrap_or_default();
        let (mut after_key, mut after_ord): (Vec<u8>, Option<String>) = (Vec::new(), None);
        loop {
            let page = self.read_tx()?.oss_version_list(&b.name, "", &after_key, after_ord.as_deref(), BATCH)?;
            for (key, ord, data) in &page {
                if ord.is_empty() {
                    continue; // the current version: judged above
                }
                let v: Object = decode("object", data)?;
                if v.delete_marker {
                    if expired_marker_due(rules, key) {
                        self.remove_lone_marker(&b.name, &v, run)?;
                    }
                } else if let Some(action) = noncurrent_due(
                    rules,
                    Judged {
                        key,
                        tags: &v.tags,
                        size: v.size,
                        last_modified: v.noncurrent_since.unwrap_or(v.last_modified),
                        storage_class: &v.storage_class,
                    },
                    now,
                ) {
                    self.apply_noncurrent(&b.name, &v, action, run)?;
                }
            }
            match page.last() {
                Some((key, ord, _)) if page.len() == BATCH => (after_key, after_ord) = (key.as_bytes().to_vec(), Some(ord.clone())),
                _ => return Ok(()),
            }
        }
    }

    /// Expires or transitions one noncurrent version, unless it changed since it was judged.
    fn apply_noncurrent(&self, bucket: &str, judged: &Object, action: Action, run: &mut LifecycleRun) -> OssResult<()> {
        let mut tx = self.tx()?;
        let stored: Option<Object> =
            tx.oss_version_get(bucket, &judged.key, judged.version())?.map(|(_, d)| decode("object", &d)).transpose()?;
        let Some(mut stored) = stored.filter(|s| s.storage_class == judged.storage_class && s.etag == judged.etag) else {
            return Ok(());
        };
        match action {
            Action::Expire => {
                let deleted = versions::delete_version(&mut *tx, bucket, &judged.key, judged.version())?;
                tx.commit()?;
                self.discard(deleted.into_iter().flat_map(|o| o.segments));
                run.expired += 1;
            }
            Action::Transition(class) => {
                stored.storage_class = class;
                versions::store_version(&mut *tx, bucket, &stored)?;
                tx.commit()?;
                run.transitioned += 1;
            }
        }
        Ok(())
    }

    /// Removes a delete marker that is its key's only version.
    fn remove_lone_marker(&self, bucket: &str, marker: &Object, run: &mut LifecycleRun) -> OssResult<()> {
        let mut tx = self.tx()?;
        let versions = tx.oss_version_list(bucket, &marker.key, marker.key.as_bytes(), Some(""), 2)?;
        let lone = tx.oss_object_get(bucket, &marker.key)?.is_none()
            && versions.iter().filter(|(k, _, _)| *k == marker.key).count() == 1
            && tx.oss_version_get(bucket, &marker.key, marker.version())?.is_some();
        if lone {
            versions::delete_version(&mut *tx, bucket, &marker.key, marker.version())?;
            tx.commit()?;
            run.expired += 1;
        }
        Ok(())
    }

    /// Expires or transitions one object, unless it changed since it was judged. On a
    /// versioned bucket, expiring makes a delete marker (the object stays as noncurrent).
    fn apply(&self, b: &Bucket, judged: &Object, action: Action, now: i64, run: &mut LifecycleRun) -> OssResult<()> {
        let bucket = b.name.as_str();
        let mut tx = self.tx()?;
        let current: Option<Object> = tx.oss_object_get(bucket, &judged.key)?.map(|d| decode("object", &d)).transpose()?;
        let Some(mut current) = current.filter(|c| c.etag == judged.etag && c.last_modified == judged.last_modified) else {
            return Ok(());
        };
        match action {
            Action::Expire if b.versioning.is_some() => {
                let (_, gone) = versions::add_delete_marker(&mut *tx, b, &judged.key, now)?;
                tx.commit()?;
                self.discard(gone.into_iter().flat_map(|o| o.segments));
                run.expired += 1;
            }
            Action::Expire => {
                let old = tx.oss_object_delete(bucket, &judged.key)?;
                tx.commit()?;
                self.discard_records::<Object>("object", old)?;
                run.expired += 1;
            }
            Action::Transition(class) => {
                current.storage_class = class;
                tx.oss_object_put(bucket, &judged.key, &encode(&current)?)?;
                tx.commit()?;
                run.transitioned += 1;
            }
        }
        Ok(())
    }
}
