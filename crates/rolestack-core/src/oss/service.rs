//! The OSS operations. Each one authorizes the request (see [`super::access`]) and reads or
//! writes the store in one transaction. Bodies go through the [`BlobStore`]: a write streams into
//! a new blob first ([`Oss::new_body`]), and the object's metadata is committed only after the blob
//! is durable; blobs an operation replaces are removed after the commit.
//!
//! Writes are split in two so the HTTP front-end can stream: `authorize_*` checks the caller and
//! returns a [`WriteTicket`], the body is written, then `put_object` / `append_object` /
//! `put_part` commit it.

use std::io;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use md5::{Digest as _, Md5};
use time::OffsetDateTime;

use super::access::{authorize, OssAction, Requester, Target};
use super::blob::{crc64_combine, hex_upper, BlobId, BlobStore, DigestingWriter, Digests, Segment, SegmentReader};
use super::bucket_policy::BucketPolicy;
use super::error::{OssError, OssResult};
use super::listing::{self, ListQuery, Listing};
use super::model::{validate_bucket_name, validate_key, Acl, Bucket, Object, ObjectSettings, ObjectType, Part, Upload};
use crate::group_commit::GroupCommit;
use crate::store::{Store, Tx};

/// Smallest part (all but the last) a multipart upload may complete with.
pub const MIN_PART_SIZE: u64 = 100 * 1024;
/// Part numbers run 1..=10000.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Largest appendable object.
pub const MAX_APPEND_SIZE: u64 = 5 * 1024 * 1024 * 1024;

/// The OSS service over the shared store and blob store.
#[derive(Clone)]
pub struct Oss {
    store: Arc<dyn Store>,
    blobs: Arc<dyn BlobStore>,
    /// Object and part records of concurrent writes, committed together.
    commits: Arc<GroupCommit<OssError>>,
}

/// Proof that a write was authorized, with the bucket it goes to.
#[derive(Debug, Clone)]
pub struct WriteTicket {
    pub bucket: Bucket,
    pub key: String,
}

/// A body written to a new blob, not yet part of any object.
#[derive(Debug)]
pub struct Body {
    pub blob: BlobId,
    pub digests: Digests,
}

/// `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since` (GET/HEAD and the
/// `x-oss-copy-source-if-*` of CopyObject).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<i64>,
    pub if_unmodified_since: Option<i64>,
}

impl Conditions {
    /// Checks the object against the conditions: `PreconditionFailed` (412) or `NotModified` (304).
    pub fn check(&self, object: &Object) -> OssResult<()> {
        let same = |tag: &str| tag.trim().trim_matches('"').eq_ignore_ascii_case(&object.etag) || tag.trim() == "*";
        if let Some(tag) = &self.if_match {
            if !same(tag) {
                return Err(OssError::PreconditionFailed);
            }
        }
        if let Some(t) = self.if_unmodified_since {
            if object.last_modified > t {
                return Err(OssError::PreconditionFailed);
            }
        }
        if let Some(tag) = &self.if_none_match {
            if same(tag) {
                return Err(OssError::NotModified);
            }
        }
        if let Some(t) = self.if_modified_since {
            if object.last_modified <= t {
                return Err(OssError::NotModified);
            }
        }
        Ok(())
    }
}

/// CopyObject's `x-oss-metadata-directive`.
#[derive(Debug, Clone)]
pub enum MetadataDirective {
    /// Keep the source's content type, user metadata and headers.
    Copy,
    /// Use the request's.
    Replace(ObjectSettings),
}

/// An object with the byte range to read (`None`: all of it) and that range opened.
pub struct OpenedObject {
    pub object: Object,
    pub range: Option<(u64, u64)>,
    pub reader: SegmentReader,
}

/// ListBuckets' page.
#[derive(Debug, Clone)]
pub struct BucketListing {
    pub owner: String,
    pub buckets: Vec<Bucket>,
    pub truncated: bool,
    pub next_marker: Option<String>,
}

/// ListMultipartUploads' page.
#[derive(Debug, Clone, Default)]
pub struct UploadListing {
    pub uploads: Vec<Upload>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    pub next_key_marker: String,
    pub next_upload_id_marker: String,
}

/// ListParts' page.
#[derive(Debug, Clone)]
pub struct PartListing {
    pub upload: Upload,
    pub parts: Vec<Part>,
    pub truncated: bool,
    pub next_marker: u32,
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn decode<T: serde::de::DeserializeOwned>(what: &str, data: &str) -> OssResult<T> {
    serde_json::from_str(data).map_err(|e| OssError::Internal(format!("corrupt {what} record: {e}")))
}

fn encode<T: serde::Serialize>(rec: &T) -> OssResult<String> {
    serde_json::to_string(rec).map_err(|e| OssError::Internal(e.to_string()))
}

/// Decodes a `Content-MD5` header (base64 of 16 bytes).
pub fn parse_content_md5(value: &str) -> OssResult<[u8; 16]> {
    BASE64.decode(value.trim()).ok().and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()).ok_or(OssError::InvalidDigest)
}

fn load_bucket(tx: &mut dyn Tx, name: &str) -> OssResult<Bucket> {
    match tx.oss_bucket_get(name)? {
        Some(data) => decode("bucket", &data),
        None => Err(OssError::NoSuchBucket { bucket: name.to_string() }),
    }
}

fn load_object(tx: &mut dyn Tx, bucket: &str, key: &str) -> OssResult<Option<Object>> {
    tx.oss_object_get(bucket, key)?.map(|d| decode("object", &d)).transpose()
}

fn load_upload(tx: &mut dyn Tx, bucket: &str, key: &str, upload_id: &str) -> OssResult<Upload> {
    let upload: Option<Upload> = tx.oss_upload_get(bucket, upload_id)?.map(|d| decode("upload", &d)).transpose()?;
    upload.filter(|u| u.key == key).ok_or_else(|| OssError::NoSuchUpload { upload_id: upload_id.to_string() })
}

fn new_object(
    key: &str,
    segments: Vec<Segment>,
    size: u64,
    etag: String,
    crc64: u64,
    object_type: ObjectType,
    settings: ObjectSettings,
) -> Object {
    Object {
        key: key.to_string(),
        segments,
        size,
        etag,
        crc64,
        last_modified: now(),
        object_type,
        acl: settings.acl,
        storage_class: "Standard".into(),
        content_type: settings.content_type.unwrap_or_else(|| "application/octet-stream".into()),
        user_meta: settings.user_meta,
        headers: settings.headers,
    }
}

impl Oss {
    pub fn new(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> Self {
        let commits = Arc::new(GroupCommit::new(store.clone()));
        Oss { store, blobs, commits }
    }

    /// An `Oss` whose record writes are grouped with those of every other sharing `commits`.
    pub fn sharing(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>, commits: Arc<GroupCommit<OssError>>) -> Self {
        Oss { store, blobs, commits }
    }

    fn tx(&self) -> OssResult<Box<dyn Tx + '_>> {
        Ok(self.store.begin()?)
    }

    /// A transaction for an operation that only reads: it never waits for writers.
    fn read_tx(&self) -> OssResult<Box<dyn Tx + '_>> {
        Ok(self.store.begin_read()?)
    }

    /// Removes blobs that no object references any more (after a commit, or after a failure).
    fn discard(&self, segments: impl IntoIterator<Item = Segment>) {
        for s in segments {
            if let Err(e) = self.blobs.remove(&s.blob) {
                tracing_free_log(&format!("could not remove blob {}: {e}", s.blob.0));
            }
        }
    }

    // -- bodies ---------------------------------------------------------------------------

    /// Starts writing a body to a new blob.
    pub fn new_body(&self) -> OssResult<DigestingWriter> {
        Ok(DigestingWriter::new(self.blobs.create()?))
    }

    /// Commits a written body.
    pub fn finish_body(&self, writer: DigestingWriter) -> OssResult<Body> {
        let (blob, digests) = writer.finish()?;
        Ok(Body { blob, digests })
    }

    /// Removes a body that will not be used.
    pub fn discard_body(&self, body: Body) {
        self.discard([Segment { blob: body.blob, size: body.digests.size }]);
    }

    /// Opens `len` bytes of `object` from `offset` (every blob opened now; see [`SegmentReader`]).
    pub fn reader(&self, object: &Object, offset: u64, len: u64) -> OssResult<SegmentReader> {
        Ok(SegmentReader::open(self.blobs.as_ref(), &object.segments, offset, len)?)
    }

    /// Reads an object for `action` (GetObject, or the source of a copy): authorizes, lets `plan`
    /// check the object (conditions) and pick the byte range to read (`None`: all of it), and
    /// opens that range before returning, so nothing is answered until the body is secured. An
    /// object overwritten or deleted between the lookup and the opening is looked up again.
    pub fn open_object(
        &self,
        who: &Requester,
        bucket: &str,
        key: &str,
        action: OssAction,
        plan: impl Fn(&Object) -> OssResult<Option<(u64, u64)>>,
    ) -> OssResult<OpenedObject> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let object = self.object_for(who, bucket, key, action)?;
            let range = plan(&object)?;
            let (offset, len) = match range {
                Some((first, last)) => (first, last - first + 1),
                None => (0, object.size),
            };
            match SegmentReader::open(self.blobs.as_ref(), &object.segments, offset, len) {
                Ok(reader) => return Ok(OpenedObject { object, range, reader }),
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    // -- buckets ----------------------------------------------------------------------------

    pub fn list_buckets(&self, who: &Requester, prefix: &str, marker: &str, max_keys: usize) -> OssResult<BucketListing> {
        let mut tx = self.read_tx()?;
        authorize(&mut *tx, who, OssAction::ListBuckets, Target::service())?;
        let owner = who.account_id().unwrap_or_default().to_string();
        let rows = tx.oss_bucket_list(&owner, prefix, marker, max_keys + 1)?;
        let mut buckets = rows.iter().map(|d| decode::<Bucket>("bucket", d)).collect::<OssResult<Vec<_>>>()?;
        let truncated = buckets.len() > max_keys;
        buckets.truncate(max_keys);
        let next_marker = if truncated { buckets.last().map(|b| b.name.clone()) } else { None };
        Ok(BucketListing { owner, buckets, truncated, next_marker })
    }

    /// PutBucket in `region` (already checked to be one rolestack serves).
    pub fn put_bucket(&self, who: &Requester, name: &str, region: &str, acl: Option<Acl>, storage_class: Option<String>) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.put_bucket_once(who, name, region, acl, storage_class.clone()))
    }

    fn put_bucket_once(&self, who: &Requester, name: &str, region: &str, acl: Option<Acl>, storage_class: Option<String>) -> OssResult<()> {
        validate_bucket_name(name)?;
        let mut tx = self.tx()?;
        let existing = tx.oss_bucket_get(name)?.map(|d| decode::<Bucket>("bucket", &d)).transpose()?;
        let target = match &existing {
            Some(b) => Target::bucket(b),
            None => Target { bucket_name: Some(name), ..Target::service() },
        };
        authorize(&mut *tx, who, OssAction::PutBucket, target)?;
        let owner = who.account_id().unwrap_or_default().to_string();
        match existing {
            Some(b) if b.owner == owner => {
                if let Some(acl) = acl {
                    let updated = Bucket { acl, ..b };
                    tx.oss_bucket_update(name, &encode(&updated)?)?;
                    tx.commit()?;
                }
                Ok(())
            }
            Some(_) => Err(OssError::BucketAlreadyExists { bucket: name.into() }),
            None => {
                let bucket = Bucket {
                    name: name.into(),
                    owner: owner.clone(),
                    created: now(),
                    acl: acl.unwrap_or(Acl::Private),
                    storage_class: storage_class.unwrap_or_else(|| "Standard".into()),
                    policy: None,
                    region: region.to_string(),
                };
                if !tx.oss_bucket_insert(name, &owner, &encode(&bucket)?)? {
                    return Err(OssError::BucketAlreadyExists { bucket: name.into() });
                }
                tx.commit()?;
                Ok(())
            }
        }
    }

    pub fn delete_bucket(&self, who: &Requester, name: &str) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.delete_bucket_once(who, name))
    }

    fn delete_bucket_once(&self, who: &Requester, name: &str) -> OssResult<()> {
        let mut tx = self.tx()?;
        let bucket = load_bucket(&mut *tx, name)?;
        authorize(&mut *tx, who, OssAction::DeleteBucket, Target::bucket(&bucket))?;
        if !tx.oss_object_list(name, "", b"", 1)?.is_empty() || !tx.oss_upload_list(name, "", "", "", 1)?.is_empty() {
            return Err(OssError::BucketNotEmpty { bucket: name.into() });
        }
        tx.oss_bucket_delete(name)?;
        tx.commit()?;
        Ok(())
    }

    /// A bucket, for a read-only bucket operation (`GetBucketInfo`, `GetBucketLocation`,
    /// `GetBucketAcl`).
    pub fn bucket(&self, who: &Requester, name: &str, action: OssAction) -> OssResult<Bucket> {
        let mut tx = self.read_tx()?;
        let bucket = load_bucket(&mut *tx, name)?;
        authorize(&mut *tx, who, action, Target::bucket(&bucket))?;
        Ok(bucket)
    }

    fn update_bucket(
        &self,
        who: &Requester,
        name: &str,
        action: OssAction,
        change: impl Fn(&mut Bucket) -> OssResult<()>,
    ) -> OssResult<()> {
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let mut bucket = load_bucket(&mut *tx, name)?;
            authorize(&mut *tx, who, action, Target::bucket(&bucket))?;
            change(&mut bucket)?;
            tx.oss_bucket_update(name, &encode(&bucket)?)?;
            tx.commit()?;
            Ok(())
        })
    }

    pub fn put_bucket_acl(&self, who: &Requester, name: &str, acl: Acl) -> OssResult<()> {
        self.update_bucket(who, name, OssAction::PutBucketAcl, |b| {
            b.acl = acl;
            Ok(())
        })
    }

    pub fn put_bucket_policy(&self, who: &Requester, name: &str, text: &str) -> OssResult<()> {
        BucketPolicy::parse(text)?;
        self.update_bucket(who, name, OssAction::PutBucketPolicy, |b| {
            b.policy = Some(text.to_string());
            Ok(())
        })
    }

    pub fn get_bucket_policy(&self, who: &Requester, name: &str) -> OssResult<String> {
        self.bucket(who, name, OssAction::GetBucketPolicy)?.policy.ok_or(OssError::NoSuchBucketPolicy)
    }

    pub fn delete_bucket_policy(&self, who: &Requester, name: &str) -> OssResult<()> {
        self.update_bucket(who, name, OssAction::DeleteBucketPolicy, |b| {
            b.policy = None;
            Ok(())
        })
    }

    // -- objects ------------------------------------------------------------------------------

    /// One page of a bucket's objects, with the bucket owner (who owns every object).
    pub fn list_objects(&self, who: &Requester, bucket: &str, q: &ListQuery) -> OssResult<(String, Listing)> {
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        let keys = [("oss:Prefix", q.prefix.as_str()), ("oss:Delimiter", q.delimiter.as_str())];
        authorize(&mut *tx, who, OssAction::ListObjects, Target { condition_keys: &keys, ..Target::bucket(&b) })?;
        Ok((b.owner, listing::list(&mut *tx, bucket, q)?))
    }

    /// The account that owns a bucket (for rendering; no authorization).
    pub fn owner_of(&self, bucket: &str) -> OssResult<String> {
        let mut tx = self.read_tx()?;
        Ok(load_bucket(&mut *tx, bucket)?.owner)
    }

    /// Authorizes a write of `key` (PutObject, AppendObject, UploadPart).
    pub fn authorize_write(&self, who: &Requester, bucket: &str, key: &str) -> OssResult<WriteTicket> {
        validate_key(key)?;
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::PutObject, Target::object(&b, key))?;
        Ok(WriteTicket { bucket: b, key: key.to_string() })
    }

    fn check_md5(&self, body: &Body, content_md5: Option<[u8; 16]>) -> OssResult<()> {
        match content_md5 {
            Some(md5) if md5 != body.digests.md5 => Err(OssError::InvalidDigest),
            _ => Ok(()),
        }
    }

    /// Commits a PutObject whose body was written.
    pub fn put_object(
        &self,
        ticket: &WriteTicket,
        body: Body,
        settings: ObjectSettings,
        content_md5: Option<[u8; 16]>,
        forbid_overwrite: bool,
    ) -> OssResult<Object> {
        let result = self.check_md5(&body, content_md5).and_then(|_| {
            let segment = Segment { blob: body.blob.clone(), size: body.digests.size };
            let object = new_object(
                &ticket.key,
                vec![segment],
                body.digests.size,
                body.digests.etag(),
                body.digests.crc64,
                ObjectType::Normal,
                settings,
            );
            self.store_object(&ticket.bucket.name, object, forbid_overwrite)
        });
        if result.is_err() {
            self.discard_body(body);
        }
        result
    }

    /// Writes an object's metadata, replacing (and then discarding) any previous version.
    fn store_object(&self, bucket: &str, object: Object, forbid_overwrite: bool) -> OssResult<Object> {
        let bucket = bucket.to_string();
        let (object, old) = self.commits.write(move |tx| {
            let mut object = object.clone();
            object.storage_class = load_bucket(tx, &bucket)?.storage_class;
            if forbid_overwrite && tx.oss_object_get(&bucket, &object.key)?.is_some() {
                return Err(OssError::FileAlreadyExists);
            }
            let old = tx.oss_object_put(&bucket, &object.key, &encode(&object)?)?;
            Ok((object, old))
        })?;
        if let Some(old) = old {
            let old: Object = decode("object", &old)?;
            self.discard(old.segments);
        }
        Ok(object)
    }

    /// An object for GetObject / HeadObject / GetObjectMeta.
    pub fn get_object(&self, who: &Requester, bucket: &str, key: &str) -> OssResult<Object> {
        self.object_for(who, bucket, key, OssAction::GetObject)
    }

    fn object_for(&self, who: &Requester, bucket: &str, key: &str, action: OssAction) -> OssResult<Object> {
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        let object = load_object(&mut *tx, bucket, key)?;
        let acl = object.as_ref().map_or(Acl::Default, |o| o.acl);
        authorize(&mut *tx, who, action, Target { object_acl: acl, ..Target::object(&b, key) })?;
        object.ok_or_else(|| OssError::NoSuchKey { key: key.to_string() })
    }

    pub fn delete_object(&self, who: &Requester, bucket: &str, key: &str) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.delete_object_once(who, bucket, key))
    }

    fn delete_object_once(&self, who: &Requester, bucket: &str, key: &str) -> OssResult<()> {
        let mut tx = self.tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::DeleteObject, Target::object(&b, key))?;
        let old = tx.oss_object_delete(bucket, key)?;
        tx.commit()?;
        if let Some(old) = old {
            self.discard(decode::<Object>("object", &old)?.segments);
        }
        Ok(())
    }

    /// DeleteMultipleObjects: every key must be allowed (else `AccessDenied` for the request).
    /// Returns the keys deleted (missing keys count as deleted, as in OSS).
    pub fn delete_objects(&self, who: &Requester, bucket: &str, keys: &[String]) -> OssResult<Vec<String>> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.delete_objects_once(who, bucket, keys))
    }

    fn delete_objects_once(&self, who: &Requester, bucket: &str, keys: &[String]) -> OssResult<Vec<String>> {
        let mut tx = self.tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        for key in keys {
            authorize(&mut *tx, who, OssAction::DeleteObject, Target::object(&b, key))?;
        }
        let mut removed = Vec::new();
        for key in keys {
            if let Some(old) = tx.oss_object_delete(bucket, key)? {
                removed.push(decode::<Object>("object", &old)?);
            }
        }
        tx.commit()?;
        for o in removed {
            self.discard(o.segments);
        }
        Ok(keys.to_vec())
    }

    /// Copies `len` bytes from `offset` of `source` into a new body.
    fn copy_body(&self, mut reader: SegmentReader) -> OssResult<Body> {
        let mut writer = self.new_body()?;
        io::copy(&mut reader, &mut writer)?;
        self.finish_body(writer)
    }

    /// CopyObject (also the metadata update of an object copied onto itself).
    #[allow(clippy::too_many_arguments)]
    pub fn copy_object(
        &self,
        who: &Requester,
        source: (&str, &str),
        target: (&str, &str),
        conditions: &Conditions,
        directive: MetadataDirective,
        acl: Option<Acl>,
        forbid_overwrite: bool,
    ) -> OssResult<Object> {
        validate_key(target.1)?;
        let OpenedObject { object: src, reader, .. } = self.open_object(who, source.0, source.1, OssAction::GetObject, |src| {
            copy_conditions(conditions, src)?;
            Ok(None)
        })?;
        self.authorize_write(who, target.0, target.1)?;
        let body = self.copy_body(reader)?;
        let settings = match directive {
            MetadataDirective::Copy => ObjectSettings {
                content_type: Some(src.content_type.clone()),
                user_meta: src.user_meta.clone(),
                headers: src.headers.clone(),
                acl: acl.unwrap_or(Acl::Default),
            },
            MetadataDirective::Replace(mut s) => {
                if let Some(acl) = acl {
                    s.acl = acl;
                }
                s
            }
        };
        let segment = Segment { blob: body.blob.clone(), size: body.digests.size };
        let mut object =
            new_object(target.1, vec![segment], src.size, body.digests.etag(), body.digests.crc64, ObjectType::Normal, settings);
        object.etag = src.etag.clone();
        let stored = self.store_object(target.0, object, forbid_overwrite);
        if stored.is_err() {
            self.discard_body(body);
        }
        stored
    }

    /// Authorizes an AppendObject at `position` and checks the position against the object.
    pub fn authorize_append(&self, who: &Requester, bucket: &str, key: &str, position: u64) -> OssResult<WriteTicket> {
        let ticket = self.authorize_write(who, bucket, key)?;
        let mut tx = self.read_tx()?;
        check_append(load_object(&mut *tx, bucket, key)?.as_ref(), position)?;
        Ok(ticket)
    }

    /// Commits an AppendObject: a new segment on the object (created on position 0).
    pub fn append_object(
        &self,
        ticket: &WriteTicket,
        position: u64,
        body: Body,
        settings: ObjectSettings,
        content_md5: Option<[u8; 16]>,
    ) -> OssResult<Object> {
        // The record is run again while it conflicts with another node's transaction.
        let result = self.check_md5(&body, content_md5).and_then(|_| {
            crate::store::retry(|| {
                let mut tx = self.tx()?;
                let (bucket, key) = (&ticket.bucket.name, &ticket.key);
                let storage_class = load_bucket(&mut *tx, bucket)?.storage_class;
                let existing = load_object(&mut *tx, bucket, key)?;
                check_append(existing.as_ref(), position)?;
                if position + body.digests.size > MAX_APPEND_SIZE {
                    return Err(OssError::InvalidArgument("An appendable object may not grow beyond 5 GiB.".into()));
                }
                let segment = Segment { blob: body.blob.clone(), size: body.digests.size };
                let object = match existing {
                    None => {
                        let mut o = new_object(
                            key,
                            vec![segment],
                            body.digests.size,
                            body.digests.etag(),
                            body.digests.crc64,
                            ObjectType::Appendable,
                            settings.clone(),
                        );
                        o.storage_class = storage_class;
                        o
                    }
                    Some(mut o) => {
                        o.crc64 = crc64_combine(o.crc64, body.digests.crc64, body.digests.size);
                        o.size += body.digests.size;
                        o.segments.push(segment);
                        o.last_modified = now();
                        // Appendable objects' ETags are not MD5s of the content.
                        o.etag = hex_upper(&Md5::digest(format!("{}:{}:{}", o.key, o.size, o.crc64).as_bytes()));
                        o
                    }
                };
                tx.oss_object_put(bucket, key, &encode(&object)?)?;
                tx.commit()?;
                Ok(object)
            })
        });
        if result.is_err() {
            self.discard_body(body);
        }
        result
    }

    pub fn object_acl(&self, who: &Requester, bucket: &str, key: &str) -> OssResult<Object> {
        self.object_for(who, bucket, key, OssAction::GetObjectAcl)
    }

    pub fn put_object_acl(&self, who: &Requester, bucket: &str, key: &str, acl: Acl) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.put_object_acl_once(who, bucket, key, acl))
    }

    fn put_object_acl_once(&self, who: &Requester, bucket: &str, key: &str, acl: Acl) -> OssResult<()> {
        let mut tx = self.tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::PutObjectAcl, Target::object(&b, key))?;
        let mut object = load_object(&mut *tx, bucket, key)?.ok_or_else(|| OssError::NoSuchKey { key: key.to_string() })?;
        object.acl = acl;
        tx.oss_object_put(bucket, key, &encode(&object)?)?;
        tx.commit()?;
        Ok(())
    }

    // -- multipart -----------------------------------------------------------------------------

    pub fn initiate_upload(&self, who: &Requester, bucket: &str, key: &str, settings: ObjectSettings) -> OssResult<Upload> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.initiate_upload_once(who, bucket, key, settings.clone()))
    }

    fn initiate_upload_once(&self, who: &Requester, bucket: &str, key: &str, settings: ObjectSettings) -> OssResult<Upload> {
        let ticket = self.authorize_write(who, bucket, key)?;
        let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
        let upload_id = format!("{:016X}{}", (nanos as u128 & 0xFFFF_FFFF_FFFF_FFFF), hex_upper(&rand::random::<[u8; 8]>()));
        let upload = Upload { bucket: bucket.into(), key: ticket.key, upload_id: upload_id.clone(), initiated: now(), settings };
        let mut tx = self.tx()?;
        load_bucket(&mut *tx, bucket)?;
        tx.oss_upload_insert(bucket, key, &upload_id, &encode(&upload)?)?;
        tx.commit()?;
        Ok(upload)
    }

    /// Authorizes an UploadPart and checks the upload exists.
    pub fn authorize_part(&self, who: &Requester, bucket: &str, key: &str, upload_id: &str, number: u32) -> OssResult<WriteTicket> {
        check_part_number(number)?;
        let ticket = self.authorize_write(who, bucket, key)?;
        let mut tx = self.read_tx()?;
        load_upload(&mut *tx, bucket, key, upload_id)?;
        Ok(ticket)
    }

    /// Commits an uploaded part (replacing an earlier upload of the same number).
    pub fn put_part(
        &self,
        ticket: &WriteTicket,
        upload_id: &str,
        number: u32,
        body: Body,
        content_md5: Option<[u8; 16]>,
    ) -> OssResult<Part> {
        let result = self.check_md5(&body, content_md5).and_then(|_| {
            let part = Part {
                number,
                segment: Segment { blob: body.blob.clone(), size: body.digests.size },
                etag: body.digests.etag(),
                crc64: body.digests.crc64,
                last_modified: now(),
            };
            let (bucket, key, upload) = (ticket.bucket.name.clone(), ticket.key.clone(), upload_id.to_string());
            let record = encode(&part)?;
            let old = self.commits.write(move |tx| {
                load_upload(tx, &bucket, &key, &upload)?;
                Ok(tx.oss_part_put(&upload, number, &record)?)
            })?;
            if let Some(old) = old {
                self.discard([decode::<Part>("part", &old)?.segment]);
            }
            Ok(part)
        });
        if result.is_err() {
            self.discard_body(body);
        }
        result
    }

    /// UploadPartCopy: a part copied from (a range of) another object.
    #[allow(clippy::too_many_arguments)]
    pub fn upload_part_copy(
        &self,
        who: &Requester,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        source: (&str, &str),
        range: Option<(u64, u64)>,
        conditions: &Conditions,
    ) -> OssResult<Part> {
        let ticket = self.authorize_part(who, bucket, key, upload_id, number)?;
        let OpenedObject { reader, .. } = self.open_object(who, source.0, source.1, OssAction::GetObject, |src| {
            copy_conditions(conditions, src)?;
            match range {
                Some((first, last)) if first <= last && first < src.size => Ok(Some((first, last.min(src.size - 1)))),
                Some(_) => Err(OssError::InvalidRange),
                None => Ok(None),
            }
        })?;
        let body = self.copy_body(reader)?;
        self.put_part(&ticket, upload_id, number, body, None)
    }

    pub fn complete_upload(
        &self,
        who: &Requester,
        bucket: &str,
        key: &str,
        upload_id: &str,
        requested: &[(u32, String)],
    ) -> OssResult<Object> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            self.authorize_write(who, bucket, key)?;
            let mut tx = self.tx()?;
            let upload = load_upload(&mut *tx, bucket, key, upload_id)?;
            let stored: Vec<Part> =
                tx.oss_part_list(upload_id, 0, usize::MAX)?.iter().map(|d| decode("part", d)).collect::<OssResult<_>>()?;
            if requested.is_empty() {
                return Err(OssError::MalformedXml("CompleteMultipartUpload lists no part".into()));
            }
            let mut chosen: Vec<&Part> = Vec::with_capacity(requested.len());
            for (i, (number, etag)) in requested.iter().enumerate() {
                if i > 0 && *number <= requested[i - 1].0 {
                    return Err(OssError::InvalidPartOrder);
                }
                let part = stored.iter().find(|p| p.number == *number).ok_or(OssError::InvalidPart)?;
                if !etag.trim().trim_matches('"').eq_ignore_ascii_case(&part.etag) {
                    return Err(OssError::InvalidPart);
                }
                chosen.push(part);
            }
            if chosen[..chosen.len() - 1].iter().any(|p| p.segment.size < MIN_PART_SIZE) {
                return Err(OssError::EntityTooSmall);
            }
            let mut md5 = Md5::new();
            let (mut size, mut crc) = (0u64, 0u64);
            for (i, p) in chosen.iter().enumerate() {
                md5.update(hex::decode(&p.etag).map_err(|e| OssError::Internal(format!("part ETag: {e}")))?);
                crc = if i == 0 { p.crc64 } else { crc64_combine(crc, p.crc64, p.segment.size) };
                size += p.segment.size;
            }
            let etag = format!("{}-{}", hex_upper(&md5.finalize()), chosen.len());
            let segments: Vec<Segment> = chosen.iter().map(|p| p.segment.clone()).collect();
            let unused: Vec<Segment> =
                stored.iter().filter(|p| !requested.iter().any(|(n, _)| *n == p.number)).map(|p| p.segment.clone()).collect();
            let mut object = new_object(key, segments, size, etag, crc, ObjectType::Multipart, upload.settings.clone());
            object.storage_class = load_bucket(&mut *tx, bucket)?.storage_class;
            let old = tx.oss_object_put(bucket, key, &encode(&object)?)?;
            tx.oss_parts_delete(upload_id)?;
            tx.oss_upload_delete(bucket, upload_id)?;
            tx.commit()?;
            self.discard(unused);
            if let Some(old) = old {
                self.discard(decode::<Object>("object", &old)?.segments);
            }
            Ok(object)
        })
    }

    pub fn abort_upload(&self, who: &Requester, bucket: &str, key: &str, upload_id: &str) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| self.abort_upload_once(who, bucket, key, upload_id))
    }

    fn abort_upload_once(&self, who: &Requester, bucket: &str, key: &str, upload_id: &str) -> OssResult<()> {
        let mut tx = self.tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::AbortMultipartUpload, Target::object(&b, key))?;
        load_upload(&mut *tx, bucket, key, upload_id)?;
        let parts = tx.oss_parts_delete(upload_id)?;
        tx.oss_upload_delete(bucket, upload_id)?;
        tx.commit()?;
        let segments = parts.iter().map(|d| decode::<Part>("part", d).map(|p| p.segment)).collect::<OssResult<Vec<_>>>()?;
        self.discard(segments);
        Ok(())
    }

    pub fn list_parts(
        &self,
        who: &Requester,
        bucket: &str,
        key: &str,
        upload_id: &str,
        marker: u32,
        max_parts: usize,
    ) -> OssResult<PartListing> {
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::ListParts, Target::object(&b, key))?;
        let upload = load_upload(&mut *tx, bucket, key, upload_id)?;
        let mut parts: Vec<Part> =
            tx.oss_part_list(upload_id, marker, max_parts + 1)?.iter().map(|d| decode("part", d)).collect::<OssResult<_>>()?;
        let truncated = parts.len() > max_parts;
        parts.truncate(max_parts);
        let next_marker = parts.last().map_or(marker, |p| p.number);
        Ok(PartListing { upload, parts, truncated, next_marker })
    }

    /// ListMultipartUploads: uploads in (key, upload id) order; with a delimiter, keys that
    /// continue past it under `prefix` are rolled up into common prefixes.
    #[allow(clippy::too_many_arguments)]
    pub fn list_uploads(
        &self,
        who: &Requester,
        bucket: &str,
        prefix: &str,
        delimiter: &str,
        key_marker: &str,
        upload_id_marker: &str,
        max_uploads: usize,
    ) -> OssResult<UploadListing> {
        /// Sorts after every key that starts with the string it is appended to.
        const PAST: char = '\u{10FFFF}';
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        authorize(&mut *tx, who, OssAction::ListMultipartUploads, Target::bucket(&b))?;
        let common_prefix = |key: &str| -> Option<String> {
            if delimiter.is_empty() || !key.starts_with(prefix) {
                return None;
            }
            key[prefix.len()..].find(delimiter).map(|i| key[..prefix.len() + i + delimiter.len()].to_string())
        };
        let mut key_marker = key_marker.to_string();
        // Without an upload-id marker, the key marker excludes every upload of that key.
        let mut id_marker =
            if upload_id_marker.is_empty() && !key_marker.is_empty() { PAST.to_string() } else { upload_id_marker.to_string() };
        // A key marker that is a common prefix (our NextKeyMarker) skips that prefix.
        if common_prefix(&key_marker).is_some_and(|cp| cp == key_marker) {
            key_marker.push(PAST);
        }
        let mut out = UploadListing::default();
        let mut count = 0;
        'scan: loop {
            let batch = tx.oss_upload_list(bucket, prefix, &key_marker, &id_marker, 1000)?;
            let full = batch.len() == 1000;
            if batch.is_empty() {
                break;
            }
            for data in batch {
                let upload: Upload = decode("upload", &data)?;
                if count == max_uploads {
                    out.truncated = true;
                    break 'scan;
                }
                count += 1;
                match common_prefix(&upload.key) {
                    Some(cp) => {
                        key_marker = format!("{cp}{PAST}");
                        id_marker = PAST.to_string();
                        out.next_key_marker = cp.clone();
                        out.next_upload_id_marker = String::new();
                        out.common_prefixes.push(cp);
                        continue 'scan;
                    }
                    None => {
                        key_marker = upload.key.clone();
                        id_marker = upload.upload_id.clone();
                        out.next_key_marker = upload.key.clone();
                        out.next_upload_id_marker = upload.upload_id.clone();
                        out.uploads.push(upload);
                    }
                }
            }
            if !full {
                break;
            }
        }
        if !out.truncated {
            out.next_key_marker.clear();
            out.next_upload_id_marker.clear();
        }
        Ok(out)
    }
}

/// The `x-oss-copy-source-if-*` conditions: a failed one is always `PreconditionFailed`.
fn copy_conditions(conditions: &Conditions, src: &Object) -> OssResult<()> {
    conditions.check(src).map_err(|e| match e {
        OssError::NotModified => OssError::PreconditionFailed,
        other => other,
    })
}

fn check_part_number(number: u32) -> OssResult<()> {
    if (1..=MAX_PART_NUMBER).contains(&number) {
        Ok(())
    } else {
        Err(OssError::InvalidArgument(format!("Part number must be an integer between 1 and {MAX_PART_NUMBER}; got {number}.")))
    }
}

fn check_append(existing: Option<&Object>, position: u64) -> OssResult<()> {
    match existing {
        None if position == 0 => Ok(()),
        None => Err(OssError::PositionNotEqualToLength { next_position: 0 }),
        Some(o) if o.object_type != ObjectType::Appendable => Err(OssError::ObjectNotAppendable),
        Some(o) if o.size != position => Err(OssError::PositionNotEqualToLength { next_position: o.size }),
        Some(_) => Ok(()),
    }
}

/// Blob-removal failures only leave an unreferenced file behind; they are reported on stderr
/// rather than failing a request that has already committed.
fn tracing_free_log(message: &str) {
    eprintln!("rolestack oss: {message}");
}
