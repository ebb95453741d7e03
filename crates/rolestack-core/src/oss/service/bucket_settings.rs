//! Bucket settings (see [`crate::oss::bucket_config`]): Put/Get/DeleteBucketEncryption,
//! Put/Get/DeleteBucketLogging, GetBucketStat, Put/GetBucketStorageCapacity and
//! Put/GetBucketResourceGroup.

use super::{load_bucket, Call, Oss};
use crate::oss::bucket_config::{resource_group_id, storage_capacity, Encryption, Logging};
use crate::oss::error::{OssError, OssResult};
use crate::oss::model::Bucket;

/// GetBucketStat's figures, counted from the store's records.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketStat {
    /// Bytes of all objects.
    pub storage: u64,
    pub object_count: u64,
    pub multipart_upload_count: u64,
    pub multipart_part_count: u64,
    /// Always 0: rolestack serves no live channels.
    pub live_channel_count: u64,
    /// When the figures were counted (Unix seconds, the server's clock): OSS's
    /// `LastModifiedTime` is the time its statistics were last brought up to date.
    pub last_modified: i64,
    /// `(class, bytes, objects)` for Standard, IA, Archive, ColdArchive and DeepColdArchive, in
    /// that order (every class, zeros included).
    pub classes: Vec<(&'static str, u64, u64)>,
    /// Delete markers among the bucket's versions (noncurrent versions count as objects).
    pub delete_marker_count: u64,
}

impl BucketStat {
    /// `(bytes, objects)` of one storage class.
    pub fn class(&self, name: &str) -> (u64, u64) {
        self.classes.iter().find(|(c, _, _)| *c == name).map_or((0, 0), |(_, bytes, n)| (*bytes, *n))
    }
}

/// The storage classes GetBucketStat reports, in its order.
pub const STAT_CLASSES: [&str; 5] = ["Standard", "IA", "Archive", "ColdArchive", "DeepColdArchive"];

impl Oss {
    pub fn put_bucket_encryption(&self, call: Call<'_>, encryption: Encryption) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.encryption = Some(encryption.clone());
            Ok(())
        })
    }

    pub fn get_bucket_encryption(&self, call: Call<'_>) -> OssResult<Encryption> {
        self.bucket(call)?.encryption.ok_or(OssError::NoSuchServerSideEncryptionRule)
    }

    pub fn delete_bucket_encryption(&self, call: Call<'_>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.encryption = None;
            Ok(())
        })
    }

    /// PutBucketLogging: `None` (a `BucketLoggingStatus` without `LoggingEnabled`) turns logging
    /// off. The target bucket must exist, belong to the bucket's owner and be in its region.
    pub fn put_bucket_logging(&self, call: Call<'_>, logging: Option<Logging>) -> OssResult<()> {
        self.update_bucket_with(call, |tx, b| {
            if let Some(l) = &logging {
                let target = match load_bucket(tx, &l.target_bucket) {
                    Ok(t) => t,
                    Err(OssError::NoSuchBucket { .. }) => {
                        return Err(OssError::InvalidTargetBucketForLogging(format!(
                            "The target bucket {:?} for logging does not exist.",
                            l.target_bucket
                        )))
                    }
                    Err(e) => return Err(e),
                };
                if target.owner != b.owner || target.region != b.region {
                    return Err(OssError::InvalidTargetBucketForLogging(format!(
                        "The target bucket {:?} for logging must belong to the bucket's owner and be in its region ({}).",
                        l.target_bucket,
                        b.location()
                    )));
                }
            }
            b.logging = logging.clone();
            Ok(())
        })
    }

    /// GetBucketLogging: the target, or `None` when logging is off.
    pub fn get_bucket_logging(&self, call: Call<'_>) -> OssResult<Option<Logging>> {
        Ok(self.bucket(call)?.logging)
    }

    pub fn delete_bucket_logging(&self, call: Call<'_>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.logging = None;
            Ok(())
        })
    }

    /// GetBucketStat: the bucket's objects per storage class, its uploads and parts, counted by
    /// the store in the same snapshot as the authorization.
    pub fn bucket_stat(&self, call: Call<'_>) -> OssResult<BucketStat> {
        let mut tx = self.read_tx()?;
        let bucket = load_bucket(&mut *tx, call.bucket)?;
        call.authorize(&mut *tx, crate::oss::access::Target::bucket(&bucket))?;
        let usage = tx.oss_bucket_usage(call.bucket)?;
        let class = |name: &str| usage.classes.iter().find(|(c, _, _)| c == name).map_or((0, 0), |(_, n, bytes)| (*bytes, *n));
        Ok(BucketStat {
            storage: usage.classes.iter().map(|(_, _, bytes)| bytes).sum(),
            object_count: usage.classes.iter().map(|(_, n, _)| n).sum(),
            multipart_upload_count: usage.uploads,
            multipart_part_count: usage.parts,
            live_channel_count: 0,
            last_modified: self.now(),
            classes: STAT_CLASSES
                .iter()
                .map(|c| {
                    let (bytes, n) = class(c);
                    (*c, bytes, n)
                })
                .collect(),
            delete_marker_count: usage.delete_markers,
        })
    }

    /// PutBucketStorageCapacity: GB, `-1` for no limit.
    pub fn put_bucket_storage_capacity(&self, call: Call<'_>, gb: i64) -> OssResult<()> {
        let gb = storage_capacity(gb)?;
        self.update_bucket(call, |b| {
            b.storage_capacity_gb = (gb >= 0).then_some(gb);
            Ok(())
        })
    }

    pub fn get_bucket_storage_capacity(&self, call: Call<'_>) -> OssResult<i64> {
        Ok(self.bucket(call)?.storage_capacity_gb.unwrap_or(-1))
    }

    pub fn put_bucket_resource_group(&self, call: Call<'_>, id: &str) -> OssResult<()> {
        let id = resource_group_id(id)?;
        self.update_bucket(call, |b: &mut Bucket| {
            b.set_resource_group(Some(id.clone()));
            Ok(())
        })
    }

    pub fn get_bucket_resource_group(&self, call: Call<'_>) -> OssResult<String> {
        Ok(self.bucket(call)?.resource_group())
    }
}
