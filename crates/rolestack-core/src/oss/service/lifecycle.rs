//! Running the buckets' lifecycle rules at the server clock's now: objects expired (deleted) or
//! moved to a colder storage class, incomplete multipart uploads aborted. Each change is its own
//! transaction that first checks the record is still the one judged, so a write racing the run
//! wins.

use super::{decode, encode, Oss};
use crate::oss::error::OssResult;
use crate::oss::lifecycle::{abort_due, due, Action, Judged};
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
                    self.apply(&b.name, &o, action, run)?;
                }
            }
            match page.last() {
                Some((key, _)) if page.len() == BATCH => after = key.as_bytes().to_vec(),
                _ => break,
            }
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

    /// Expires or transitions one object, unless it changed since it was judged.
    fn apply(&self, bucket: &str, judged: &Object, action: Action, run: &mut LifecycleRun) -> OssResult<()> {
        let mut tx = self.tx()?;
        let current: Option<Object> = tx.oss_object_get(bucket, &judged.key)?.map(|d| decode("object", &d)).transpose()?;
        let Some(mut current) = current.filter(|c| c.etag == judged.etag && c.last_modified == judged.last_modified) else {
            return Ok(());
        };
        match action {
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
