//! Versions: Put/GetBucketVersioning, ListObjectVersions, and the record moves every write and
//! delete on a versioned bucket makes (see docs/oss.md, "Versioning"). The current version of a
//! key is its object record; when a newer version (or a delete marker) arrives it moves to the
//! stored versions, keeping its body until that version itself is deleted. A key's object
//! record exists exactly when its newest version is not a delete marker.

use super::{decode, encode, load_object, new_object, now, Call, Oss};
use crate::oss::blob::Digests;
use crate::oss::error::{OssError, OssResult};
use crate::oss::listing::{self, VersionListing, VersionQuery};
use crate::oss::model::{Bucket, Object, ObjectSettings, ObjectType};
use crate::oss::versioning::{new_version_id, next_sequence, VersioningStatus, NULL_VERSION};
use crate::store::Tx;

/// What a delete did (DeleteObject's headers, a `<Deleted>` of DeleteMultipleObjects).
#[derive(Debug, Clone, Default)]
pub struct Deletion {
    pub key: String,
    /// The version the request named.
    pub version_id: Option<String>,
    /// A delete marker was made, or the version deleted was one.
    pub delete_marker: bool,
    /// That marker's version id.
    pub delete_marker_version_id: Option<String>,
}

impl Oss {
    /// PutBucketVersioning: `Enabled` or `Suspended` (a bucket never becomes unversioned again).
    pub fn put_bucket_versioning(&self, call: Call<'_>, status: VersioningStatus) -> OssResult<()> {
        self.update_bucket(call, |b| {
            b.versioning = Some(status);
            Ok(())
        })
    }

    /// ListObjectVersions: one page, with the bucket owner (who owns every version).
    pub fn list_object_versions(&self, call: Call<'_>, q: &VersionQuery) -> OssResult<(String, VersionListing)> {
        let mut tx = self.read_tx()?;
        let b = super::object::authorize_listing(&mut *tx, call, &q.prefix, &q.delimiter)?;
        Ok((b.owner, listing::list_versions(&mut *tx, call.bucket, q)?))
    }
}

/// Makes `object` the current version of its key, as the bucket's versioning says: replacing
/// the current one (unversioned), keeping it as noncurrent (Enabled), or replacing the `null`
/// version wherever it is (Suspended). Returns the object as stored and the records no version
/// names any more (their bodies go after the commit). `now`: the server clock.
pub(super) fn make_current(tx: &mut dyn Tx, bucket: &Bucket, mut object: Object, now: i64) -> OssResult<(Object, Vec<Object>)> {
    let sequence = next_sequence();
    object.version_sequence = sequence;
    object.noncurrent_since = None;
    let Some(status) = bucket.versioning else {
        object.version_id = None;
        let old = tx.oss_object_put(&bucket.name, &object.key, &encode(&object)?)?;
        return Ok((object, old.map(|d| decode("object", &d)).transpose()?.into_iter().collect()));
    };
    object.version_id = Some(match status {
        VersioningStatus::Enabled => new_version_id(sequence),
        VersioningStatus::Suspended => NULL_VERSION.to_string(),
    });
    let gone = retire_current(tx, bucket, &object.key, status, now)?;
    tx.oss_object_put(&bucket.name, &object.key, &encode(&object)?)?;
    Ok((object, gone))
}

/// DeleteObject without a version on a versioned bucket: the current version becomes
/// noncurrent and a delete marker becomes the newest version. Returns the marker and the
/// records no version names any more.
pub(super) fn add_delete_marker(tx: &mut dyn Tx, bucket: &Bucket, key: &str, now_clock: i64) -> OssResult<(Object, Vec<Object>)> {
    let status = bucket.versioning.unwrap_or(VersioningStatus::Enabled);
    let gone = retire_current(tx, bucket, key, status, now_clock)?;
    let sequence = next_sequence();
    let mut marker =
        new_object(key, Vec::new(), &Digests { md5: [0; 16], crc64: 0, size: 0 }, ObjectType::Normal, ObjectSettings::default());
    marker.etag = String::new();
    marker.storage_class = bucket.storage_class.clone();
    marker.last_modified = now();
    marker.delete_marker = true;
    marker.version_sequence = sequence;
    marker.version_id = Some(match status {
        VersioningStatus::Enabled => new_version_id(sequence),
        VersioningStatus::Suspended => NULL_VERSION.to_string(),
    });
    tx.oss_version_put(&bucket.name, key, &marker.version_ord(), marker.version(), &encode(&marker)?)?;
    Ok((marker, gone))
}

/// Before a new version of `key`: the current version moves to the stored versions — unless
/// the bucket is suspended and it is the `null` version, which is replaced; a suspended
/// bucket's stored `null` version is replaced too.
fn retire_current(tx: &mut dyn Tx, bucket: &Bucket, key: &str, status: VersioningStatus, now: i64) -> OssResult<Vec<Object>> {
    let mut gone = Vec::new();
    if let Some(data) = tx.oss_object_delete(&bucket.name, key)? {
        let mut old: Object = decode("object", &data)?;
        if status == VersioningStatus::Suspended && old.version() == NULL_VERSION {
            gone.push(old);
        } else {
            old.version_id = Some(old.version().to_string());
            old.noncurrent_since = Some(now);
            tx.oss_version_put(&bucket.name, key, &old.version_ord(), old.version(), &encode(&old)?)?;
        }
    }
    if status == VersioningStatus::Suspended {
        if let Some((ord, _)) = tx.oss_version_get(&bucket.name, key, NULL_VERSION)? {
            gone.extend(tx.oss_version_delete(&bucket.name, key, &ord)?.map(|d| decode("object", &d)).transpose()?);
        }
    }
    Ok(gone)
}

/// Deletes one version for good; the newest remaining version becomes current unless it is a
/// delete marker. Returns the deleted record (`None`: no such version).
pub(super) fn delete_version(tx: &mut dyn Tx, bucket: &str, key: &str, version_id: &str) -> OssResult<Option<Object>> {
    if let Some(current) = load_object(tx, bucket, key)? {
        if current.version() == version_id {
            tx.oss_object_delete(bucket, key)?;
            promote(tx, bucket, key)?;
            return Ok(Some(current));
        }
    }
    let Some((ord, _)) = tx.oss_version_get(bucket, key, version_id)? else { return Ok(None) };
    let deleted = tx.oss_version_delete(bucket, key, &ord)?.map(|d| decode::<Object>("object", &d)).transpose()?;
    promote(tx, bucket, key)?;
    Ok(deleted)
}

/// A key without a current version gets its newest stored version back as current, unless
/// that is a delete marker.
fn promote(tx: &mut dyn Tx, bucket: &str, key: &str) -> OssResult<()> {
    if tx.oss_object_get(bucket, key)?.is_some() {
        return Ok(());
    }
    if let Some((ord, data)) = tx.oss_version_latest(bucket, key)? {
        let mut newest: Object = decode("object", &data)?;
        if !newest.delete_marker {
            tx.oss_version_delete(bucket, key, &ord)?;
            newest.noncurrent_since = None;
            tx.oss_object_put(bucket, key, &encode(&newest)?)?;
        }
    }
    Ok(())
}

/// A version of `key` by id: the current one or a stored one.
pub(super) fn load_version(tx: &mut dyn Tx, bucket: &str, key: &str, version_id: &str) -> OssResult<Option<Object>> {
    if let Some(current) = load_object(tx, bucket, key)? {
        if current.version() == version_id {
            return Ok(Some(current));
        }
    }
    tx.oss_version_get(bucket, key, version_id)?.map(|(_, d)| decode("object", &d)).transpose()
}

/// The version a request addresses: the current one, or the one it names (`versionId`).
pub(super) fn addressed(tx: &mut dyn Tx, bucket: &str, key: &str, version: Option<&str>) -> OssResult<Option<Object>> {
    match version {
        None => load_object(tx, bucket, key),
        Some(v) => load_version(tx, bucket, key, v),
    }
}

/// What a request that addressed `key` (and `version`) found, or OSS's error for what it found
/// instead: a delete marker named by its id is `MethodNotAllowed`, a missing named version
/// `NoSuchVersion`, a key without a current version `NoSuchKey` (with the marker's headers when
/// its newest version is one).
pub(super) fn found(tx: &mut dyn Tx, bucket: &Bucket, key: &str, version: Option<&str>, object: Option<Object>) -> OssResult<Object> {
    match (object, version) {
        (Some(o), _) if o.delete_marker => Err(OssError::DeleteMarkerRead { version_id: o.version().to_string() }),
        (Some(o), _) => Ok(shown(bucket, o)),
        (None, Some(v)) => Err(OssError::NoSuchVersion {
            key: key.to_string(),
            version_id: v.to_string(),
            // UNVERIFIED: OSS documents the code, not a read's EC; NoSuchKey's is used.
            ec: "0026-00000001",
        }),
        (None, None) => Err(missing(tx, bucket, key)?),
    }
}

/// Writes back a changed version (ACL, tags, restore) where it lives.
pub(super) fn store_version(tx: &mut dyn Tx, bucket: &str, object: &Object) -> OssResult<()> {
    let is_current = load_object(tx, bucket, &object.key)?.is_some_and(|c| c.version() == object.version());
    if is_current {
        tx.oss_object_put(bucket, &object.key, &encode(object)?)?;
    } else {
        // Where it is stored (a version never moves within its key's order).
        let ord = tx.oss_version_get(bucket, &object.key, object.version())?.map_or_else(|| object.version_ord(), |(ord, _)| ord);
        tx.oss_version_put(bucket, &object.key, &ord, object.version(), &encode(object)?)?;
    }
    Ok(())
}

/// The error of a read (without a version) of a key that has no current version: `NoSuchKey`,
/// with the delete marker's headers when the newest version is one.
fn missing(tx: &mut dyn Tx, bucket: &Bucket, key: &str) -> OssResult<OssError> {
    if bucket.versioning.is_some() {
        if let Some((_, data)) = tx.oss_version_latest(&bucket.name, key)? {
            let newest: Object = decode("object", &data)?;
            if newest.delete_marker {
                return Ok(OssError::DeleteMarkerCurrent { key: key.to_string(), version_id: newest.version().to_string() });
            }
        }
    }
    Ok(OssError::NoSuchKey { key: key.to_string() })
}

/// An object as a versioned bucket shows it: the `null` version says so.
pub(super) fn shown(bucket: &Bucket, mut object: Object) -> Object {
    if bucket.versioning.is_some() && object.version_id.is_none() {
        object.version_id = Some(NULL_VERSION.to_string());
    }
    object
}
