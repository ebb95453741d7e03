//! Buckets and their configuration: ListBuckets, PutBucket, DeleteBucket, the read-only bucket
//! operations, the bucket ACL and the bucket policy.

use super::{decode, encode, load_bucket, now, Call, Oss};
use crate::oss::access::Target;
use crate::oss::archive::storage_class;
use crate::oss::bucket_policy::BucketPolicy;
use crate::oss::error::{OssError, OssResult};
use crate::oss::lifecycle::{validate as validate_rules, Rule};
use crate::oss::model::{validate_bucket_name, Acl, Bucket};
use crate::oss::tagging::{validate_bucket_tags, Tags};

/// ListBuckets' page.
#[derive(Debug, Clone)]
pub struct BucketListing {
    pub owner: String,
    pub buckets: Vec<Bucket>,
    pub truncated: bool,
    pub next_marker: Option<String>,
}

/// What ListBuckets asks for.
#[derive(Debug, Clone, Default)]
pub struct BucketQuery {
    pub prefix: String,
    pub marker: String,
    pub max_keys: usize,
    /// `tag-key` (and `tag-value`): only buckets with that tag.
    pub tag: Option<(String, Option<String>)>,
    /// `x-oss-resource-group-id`: only buckets in that resource group.
    pub resource_group: Option<String>,
}

/// What PutBucket creates.
#[derive(Debug, Clone, Default)]
pub struct NewBucket {
    /// The region (already checked to be one rolestack serves).
    pub region: String,
    pub acl: Option<Acl>,
    pub storage_class: Option<String>,
    /// Default server-side encryption (`x-oss-server-side-encryption*`).
    pub encryption: Option<crate::oss::bucket_config::Encryption>,
    /// `x-oss-resource-group-id` (already checked).
    pub resource_group_id: Option<String>,
}

impl Oss {
    pub fn list_buckets(&self, call: Call<'_>, q: &BucketQuery) -> OssResult<BucketListing> {
        const BATCH: usize = 1000;
        let mut tx = self.read_tx()?;
        call.authorize(&mut *tx, Target::service())?;
        let owner = call.who.account_id().unwrap_or_default().to_string();
        let wanted = |b: &Bucket| {
            let tagged = match &q.tag {
                None => true,
                Some((k, v)) => b.tags.iter().any(|(tk, tv)| tk == k && v.as_ref().is_none_or(|v| v == tv)),
            };
            tagged && q.resource_group.as_ref().is_none_or(|g| *g == b.resource_group())
        };
        let (mut buckets, mut marker, mut truncated) = (Vec::new(), q.marker.clone(), false);
        loop {
            let rows = tx.oss_bucket_list(&owner, &q.prefix, &marker, BATCH)?;
            let full = rows.len() == BATCH;
            for data in &rows {
                let b: Bucket = decode("bucket", data)?;
                marker = b.name.clone();
                if !wanted(&b) {
                    continue;
                }
                if buckets.len() == q.max_keys {
                    truncated = true;
                    break;
                }
                buckets.push(b);
            }
            if truncated || !full {
                break;
            }
        }
        let next_marker = if truncated { buckets.last().map(|b| b.name.clone()) } else { None };
        Ok(BucketListing { owner, buckets, truncated, next_marker })
    }

    /// PutBucket: creates the bucket, or (its owner asking again) updates its ACL; the owner
    /// asking again for another storage class is refused (`BucketAlreadyExists`, as OSS does).
    pub fn put_bucket(&self, call: Call<'_>, new: NewBucket) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let name = call.bucket;
            validate_bucket_name(name)?;
            let mut tx = self.tx()?;
            let existing = tx.oss_bucket_get(name)?.map(|d| decode::<Bucket>("bucket", &d)).transpose()?;
            let target = match &existing {
                Some(b) => Target::bucket(b),
                None => Target { bucket_name: Some(name), ..Target::service() },
            };
            call.authorize(&mut *tx, target)?;
            let owner = call.who.account_id().unwrap_or_default().to_string();
            match existing {
                Some(b) if b.owner == owner => {
                    if let Some(asked) = new.storage_class.as_deref() {
                        if storage_class(asked)? != b.storage_class {
                            return Err(OssError::BucketStorageClassFixed { bucket: name.into() });
                        }
                    }
                    if let Some(acl) = new.acl {
                        let updated = Bucket { acl, ..b };
                        tx.oss_bucket_update(name, &encode(&updated)?)?;
                        tx.commit()?;
                    }
                    Ok(())
                }
                Some(_) => Err(OssError::BucketAlreadyExists { bucket: name.into() }),
                None => {
                    let mut bucket = Bucket {
                        name: name.into(),
                        owner: owner.clone(),
                        created: now(),
                        acl: new.acl.unwrap_or(Acl::Private),
                        storage_class: new.storage_class.as_deref().map_or(Ok("Standard".to_string()), storage_class)?,
                        policy: None,
                        region: new.region.clone(),
                        cors: None,
                        referer: None,
                        tags: Vec::new(),
                        lifecycle: None,
                        versioning: None,
                        encryption: new.encryption.clone(),
                        logging: None,
                        storage_capacity_gb: None,
                        resource_group_id: None,
                    };
                    bucket.set_resource_group(new.resource_group_id.clone());
                    if !tx.oss_bucket_insert(name, &owner, &encode(&bucket)?)? {
                        return Err(OssError::BucketAlreadyExists { bucket: name.into() });
                    }
                    tx.commit()?;
                    Ok(())
                }
            }
        })
    }

    pub fn delete_bucket(&self, call: Call<'_>) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let name = call.bucket;
            let mut tx = self.tx()?;
            let bucket = load_bucket(&mut *tx, name)?;
            call.authorize(&mut *tx, Target::bucket(&bucket))?;
            // Noncurrent versions and delete markers keep a bucket too.
            if !tx.oss_version_list(name, "", b"", None, 1)?.is_empty()
                || !tx.oss_upload_list(name, "", "", "", 1)?.is_empty()
                || super::live_channel::has_channels(&mut *tx, name)?
            {
                return Err(OssError::BucketNotEmpty { bucket: name.into() });
            }
            tx.oss_bucket_delete(name)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The bucket, for a read-only bucket operation (HeadBucket, GetBucketInfo,
    /// GetBucketLocation, GetBucketAcl, ...).
    pub fn bucket(&self, call: Call<'_>) -> OssResult<Bucket> {
        let mut tx = self.read_tx()?;
        let bucket = load_bucket(&mut *tx, call.bucket)?;
        call.authorize(&mut *tx, Target::bucket(&bucket))?;
        Ok(bucket)
    }

    /// Changes the bucket record (a bucket-configuration write).
    pub(super) fn update_bucket(&self, call: Call<'_>, change: impl Fn(&mut Bucket) -> OssResult<()>) -> OssResult<()> {
        self.update_bucket_with(call, |_, b| change(b))
    }

    /// [`Oss::update_bucket`] for a change that also reads the store (in the same transaction).
    pub(super) fn update_bucket_with(
        &self,
        call: Call<'_>,
        change: impl Fn(&mut dyn crate::store::Tx, &mut Bucket) -> OssResult<()>,
    ) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let mut bucket = load_bucket(&mut *tx, call.bucket)?;
            call.authorize(&mut *tx, Target::bucket(&bucket))?;
            change(&mut *tx, &mut bucket)?;
            tx.oss_bucket_update(call.bucket, &encode(&bucket)?)?;
            tx.commit()?;
            Ok(())
        })
    }

    /// The account that owns a bucket (for rendering; no authorization).
    pub fn owner_of(&self, bucket: &str) -> OssResult<String> {
        let mut tx = self.read_tx()?;
        Ok(load_bucket(&mut *tx, bucket)?.owner)
    }

    pub fn put_bucket_acl(&self, call: Call<'_>, acl: Acl) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.acl = acl;
            Ok(())
        })
    }

    pub fn put_bucket_policy(&self, call: Call<'_>, text: &str) -> OssResult<()> {
        BucketPolicy::parse(text)?;
        self.update_bucket(call, |b| {
            b.policy = Some(text.to_string());
            Ok(())
        })
    }

    pub fn get_bucket_policy(&self, call: Call<'_>) -> OssResult<String> {
        self.bucket(call)?.policy.ok_or(OssError::NoSuchBucketPolicy)
    }

    /// PutBucketTags: replaces the bucket's tags.
    pub fn put_bucket_tags(&self, call: Call<'_>, tags: Tags) -> OssResult<()> {
        validate_bucket_tags(&tags)?;
        self.update_bucket(call, |b| {
            b.tags = tags.clone();
            Ok(())
        })
    }

    /// DeleteBucketTags: all tags, or only those with the given keys (`?tagging=k1,k2`).
    pub fn delete_bucket_tags(&self, call: Call<'_>, keys: Option<Vec<String>>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            match &keys {
                None => b.tags.clear(),
                Some(keys) => b.tags.retain(|(k, _)| !keys.contains(k)),
            }
            Ok(())
        })
    }

    /// PutBucketLifecycle: replaces the bucket's rules.
    pub fn put_bucket_lifecycle(&self, call: Call<'_>, mut rules: Vec<Rule>) -> OssResult<()> {
        validate_rules(&mut rules)?;
        self.update_bucket(call, |b| {
            b.lifecycle = Some(rules.clone());
            Ok(())
        })
    }

    pub fn get_bucket_lifecycle(&self, call: Call<'_>) -> OssResult<Vec<Rule>> {
        self.bucket(call)?.lifecycle.ok_or(OssError::NoSuchLifecycle)
    }

    pub fn delete_bucket_lifecycle(&self, call: Call<'_>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.lifecycle = None;
            Ok(())
        })
    }

    pub fn delete_bucket_policy(&self, call: Call<'_>) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.policy = None;
            Ok(())
        })
    }
}
