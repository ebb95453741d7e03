//! The OSS operations. Each one is a [`Call`] (who asks, which [`Operation`], which bucket and
//! key): it is authorized with the RAM action the operation table gives (see
//! [`super::operation`] and [`super::access`]) and reads or writes the store in one transaction.
//! Bodies go through the [`BlobStore`]: a write streams into a new blob first ([`Oss::new_body`]),
//! and the object's metadata is committed only after the blob is durable; blobs an operation
//! replaces are removed after the commit. A written [`Body`] that no committed record ends up
//! naming is removed when it is dropped.
//!
//! Writes are split in two so the HTTP front-end can stream: `authorize_*` checks the caller and
//! returns a [`WriteTicket`], the body is written, then `put_object` / `append_object` /
//! `put_part` commit it.
//!
//! - [`bucket`]: buckets and their configuration (ACL, policy).
//! - [`bucket_settings`]: encryption, logging, statistics, storage capacity, resource group.
//! - [`object`]: objects (put, get, copy, append, delete, ACL) and listing.
//! - [`multipart`]: multipart uploads.
//! - [`lifecycle`]: running the buckets' lifecycle rules.
//! - [`live_channel`]: LiveChannel configurations.

mod bucket;
mod bucket_rules;
mod bucket_settings;
pub use bucket_rules::BucketRules;
pub use bucket_settings::{BucketStat, STAT_CLASSES};
mod lifecycle;
mod live_channel;
mod multipart;
mod object;
mod versions;

use std::io;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use time::OffsetDateTime;

use super::access::{authorize, authorize_kms, Grant, OssAction, Requester, Target};
use super::archive::check_readable;
use super::blob::{BlobId, BlobSink, BlobStore, DigestingWriter, Digests, Segment, SegmentReader, Waits};
use super::error::{OssError, OssResult};
use super::kms::{KeyUse, KmsKey, Sse};
use super::model::{Acl, Bucket, Object, ObjectSettings, ObjectType, Part, Upload};
use super::operation::Operation;
use crate::clock::Clock;
use crate::group_commit::GroupCommit;
use crate::service::Caches;
use crate::store::{Store, Tx};

pub use bucket::{BucketListing, BucketQuery, NewBucket};
pub use lifecycle::LifecycleRun;
pub use multipart::{PartListing, UploadListing, UploadQuery};
pub use object::{CopySource, CopyTarget, MetadataDirective};
pub use versions::Deletion;

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
    /// The server's clock: restores finish and end by it.
    clock: Clock,
    /// What reads reuse while the store has not changed (buckets).
    caches: Arc<Caches>,
}

/// One request to the service: who asks, the operation (its RAM action comes from the
/// operation table) and the bucket and key it addresses (empty when it addresses none).
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    pub who: &'a Requester,
    pub op: Operation,
    pub bucket: &'a str,
    pub key: &'a str,
    /// The version the request names (`versionId`), as given.
    pub version: Option<&'a str>,
    /// The canned ACL the request asks for: `x-oss-acl` of a bucket write, `x-oss-object-acl` of
    /// an object write (also a PostObject form's field), as given.
    pub acl: Option<&'a str>,
    /// The write sets the new object's tags (`x-oss-tagging`; on CopyObject with
    /// `x-oss-tagging-directive: Replace`): it needs `oss:PutObjectTagging` besides its own action.
    pub tagging: bool,
    /// The server-side encryption the request asks for the object it writes
    /// (`x-oss-server-side-encryption`, `-key-id`), as given: a KMS one (or none, in a bucket
    /// whose default is KMS) needs the `kms:` actions on the key ([`crate::oss::kms`]).
    pub encryption: Sse<'a>,
}

impl<'a> Call<'a> {
    pub fn new(who: &'a Requester, op: Operation, bucket: &'a str, key: &'a str) -> Self {
        Call { who, op, bucket, key, version: None, acl: None, tagging: false, encryption: Sse::default() }
    }

    /// The call naming a version (`versionId`).
    pub fn with_version(self, version: Option<&'a str>) -> Self {
        Call { version, ..self }
    }

    /// The call asking for a canned ACL (see [`Call::acl`]).
    pub fn with_acl(self, acl: Option<&'a str>) -> Self {
        Call { acl, ..self }
    }

    /// The call setting the new object's tags (see [`Call::tagging`]).
    pub fn with_tagging(self, tagging: bool) -> Self {
        Call { tagging, ..self }
    }

    /// The call asking for server-side encryption (see [`Call::encryption`]).
    pub fn with_encryption(self, encryption: Sse<'a>) -> Self {
        Call { encryption, ..self }
    }

    /// The ACL condition key of the call's operation and its value: `oss:x-oss-acl` for PutBucket
    /// (`private` when none is asked for) and PutBucketAcl, `oss:x-oss-object-acl` for the object
    /// writes that take an ACL (`default` when none is asked for), as OSS's condition keys are
    /// documented (docs/authorization.md).
    fn acl_condition(&self) -> Option<(&'static str, &'a str)> {
        use Operation::*;
        match self.op {
            PutBucket => Some(("oss:x-oss-acl", self.acl.unwrap_or("private"))),
            PutBucketAcl => self.acl.map(|acl| ("oss:x-oss-acl", acl)),
            PutObject | PostObject | CopyObject | AppendObject | InitiateMultipartUpload | PutSymlink | PutObjectAcl => {
                Some(("oss:x-oss-object-acl", self.acl.unwrap_or("default")))
            }
            _ => None,
        }
    }

    /// The call's action: the operation's, or its version action when a version is named.
    fn action(&self) -> OssAction {
        self.op.action_for(self.version.is_some())
    }

    /// Authorizes the call's own action on `target` (with the ACL it asks for as a condition key)
    /// and, when a write sets the new object's tags, `oss:PutObjectTagging` too: OSS lets only
    /// those allowed PutObjectTagging tag an object, also while uploading or copying it. Returns
    /// what allowed the call's own action.
    fn authorize(&self, tx: &mut dyn Tx, target: Target<'_>) -> OssResult<Grant> {
        use Operation::*;
        let grant = match self.acl_condition() {
            None => authorize(tx, self.who, self.action(), target)?,
            Some(acl) => {
                let keys: Vec<(&str, &str)> = target.condition_keys.iter().copied().chain(std::iter::once(acl)).collect();
                authorize(tx, self.who, self.action(), Target { condition_keys: &keys, ..target })?
            }
        };
        if self.tagging && matches!(self.op, PutObject | PostObject | AppendObject | InitiateMultipartUpload | CopyObject) {
            authorize(tx, self.who, OssAction::PutObjectTagging, target)?;
        }
        Ok(grant)
    }
}

/// Proof that a write was authorized, with the bucket it goes to.
#[derive(Debug, Clone)]
pub struct WriteTicket {
    pub bucket: Bucket,
    pub key: String,
    /// What allowed it: an ACL grant is checked again when the write commits ([`still_granted`]).
    pub grant: Grant,
}

/// In the transaction that commits a write of `key`, with the bucket as it reads there: whether
/// the write's grant still holds against the object the key has now. A write only an ACL allowed
/// is refused when that object (or, without one, the bucket) no longer grants it — the object may
/// have been written or had its ACL changed while the body streamed.
fn still_granted(grant: &Grant, tx: &mut dyn Tx, bucket: &Bucket, key: &str) -> OssResult<()> {
    match grant {
        Grant::Policy => Ok(()),
        Grant::Acl { .. } => grant.holds_under(acl_in_force(bucket, load_object(tx, &bucket.name, key)?.as_ref())),
    }
}

/// An object's own ACL for a decision: `default` (the bucket's) when the key has none.
fn object_acl(object: Option<&Object>) -> Acl {
    object.map_or(Acl::Default, |o| o.acl)
}

/// The ACL that decides for `object` (the key's current object, if any) in `bucket`: the
/// object's own unless it is `default`, else the bucket's.
fn acl_in_force(bucket: &Bucket, object: Option<&Object>) -> Acl {
    object_acl(object).over(bucket.acl)
}

/// A body written to a new blob that no committed record names yet. Dropping it removes the
/// blob; [`Body::keep`], called once the record naming it is committed, makes it permanent. So
/// every failure path — a bad `Content-MD5`, a refused write, a lost race, a panic — cleans up.
pub struct Body {
    blob: Option<BlobId>,
    pub digests: Digests,
    blobs: Arc<dyn BlobStore>,
}

impl Body {
    /// The blob as an object segment.
    pub fn segment(&self) -> Segment {
        Segment { blob: self.blob.clone().expect("a body is kept only once"), size: self.digests.size }
    }

    /// The blob is now referenced by a committed record: keep it.
    pub fn keep(mut self) {
        self.blob = None;
    }
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Some(blob) = self.blob.take() {
            if let Err(e) = self.blobs.remove(&blob) {
                tracing_free_log(&format!("could not remove unused blob {}: {e}", blob.0));
            }
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Body").field("blob", &self.blob).field("digests", &self.digests).finish()
    }
}

/// An object with the byte range to read (`None`: all of it) and that range opened.
pub struct OpenedObject {
    pub object: Object,
    pub range: Option<(u64, u64)>,
    pub reader: SegmentReader,
}

/// What a read that may wait opened (it always opens something).
fn opened(o: Option<OpenedObject>) -> OssResult<OpenedObject> {
    o.ok_or_else(|| OssError::Internal("a read that may wait always opens".into()))
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
    BASE64.decode(value.trim()).ok().and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()).ok_or(OssError::MalformedDigest)
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

/// `x-oss-forbid-overwrite: true` on a write: `FileAlreadyExists` (with the write's `ec`) while
/// the key has a current object. On a versioned (or suspended) bucket nothing is overwritten (the
/// old version stays), and OSS ignores the header there.
fn refuse_overwrite(tx: &mut dyn Tx, bucket: &Bucket, key: &str, forbid_overwrite: bool, ec: &'static str) -> OssResult<()> {
    if forbid_overwrite && bucket.versioning.is_none() && tx.oss_object_get(&bucket.name, key)?.is_some() {
        return Err(OssError::FileAlreadyExists { ec });
    }
    Ok(())
}

fn load_upload(tx: &mut dyn Tx, bucket: &str, key: &str, upload_id: &str) -> OssResult<Upload> {
    let upload: Option<Upload> = tx.oss_upload_get(bucket, upload_id)?.map(|d| decode("upload", &d)).transpose()?;
    upload.filter(|u| u.key == key).ok_or_else(|| OssError::NoSuchUpload { upload_id: upload_id.to_string() })
}

fn new_object(key: &str, segments: Vec<Segment>, digests: &Digests, object_type: ObjectType, settings: ObjectSettings) -> Object {
    Object {
        key: key.to_string(),
        segments,
        size: digests.size,
        etag: digests.etag(),
        crc64: digests.crc64,
        last_modified: now(),
        object_type,
        acl: settings.acl,
        // Empty: the bucket's, filled in when the record is written (`with_bucket_defaults`).
        storage_class: settings.storage_class.unwrap_or_default(),
        content_type: settings.content_type.unwrap_or_else(|| "application/octet-stream".into()),
        user_meta: settings.user_meta,
        headers: settings.headers,
        tags: settings.tags,
        restore: None,
        symlink_target: None,
        version_id: None,
        version_sequence: 0,
        delete_marker: false,
        noncurrent_since: None,
    }
}

/// The bucket's defaults for a new object: written without `x-oss-storage-class` it takes the
/// bucket's class, without `x-oss-server-side-encryption` the bucket's default encryption (as
/// recorded headers: bodies are stored as sent, see docs/oss.md).
fn with_bucket_defaults(mut object: Object, bucket: &Bucket) -> Object {
    if object.storage_class.is_empty() {
        object.storage_class = bucket.storage_class.clone();
    }
    if let Some(e) = &bucket.encryption {
        if !object.headers.iter().any(|(n, _)| n == SSE_HEADER) {
            object.headers.extend(encryption_headers(e));
        }
    }
    object
}

/// A write of an object encrypted with `key` (when it is encrypted with KMS) needs
/// `kms:GenerateDataKey` and `kms:Decrypt` on it ([`KeyUse::Encrypt`]).
fn authorize_encrypt(tx: &mut dyn Tx, who: &Requester, bucket: &Bucket, key: Option<KmsKey>) -> OssResult<()> {
    match key {
        Some(key) => authorize_kms(tx, who, bucket, &key, KeyUse::Encrypt),
        None => Ok(()),
    }
}

/// `x-oss-server-side-encryption`.
pub const SSE_HEADER: &str = "x-oss-server-side-encryption";

/// The headers an object encrypted with `e` is answered with. A KMS object without a key id
/// names the account's default key, as OSS does.
pub fn encryption_headers(e: &super::bucket_config::Encryption) -> Vec<(String, String)> {
    let mut h = vec![(SSE_HEADER.to_string(), e.algorithm.clone())];
    if e.algorithm == "KMS" {
        let key = e.kms_master_key_id.clone().unwrap_or_else(|| super::bucket_config::DEFAULT_KMS_KEY.to_string());
        h.push((super::kms::KEY_ID_HEADER.into(), key));
    }
    if let Some(d) = &e.kms_data_encryption {
        h.push(("x-oss-server-side-data-encryption".into(), d.clone()));
    }
    h
}

impl Oss {
    pub fn new(store: Arc<dyn Store>, blobs: Arc<dyn BlobStore>) -> Self {
        let commits = Arc::new(GroupCommit::new(store.clone()));
        Oss { store, blobs, commits, clock: Clock::default(), caches: Arc::default() }
    }

    /// An `Oss` whose record writes are grouped with those of every other sharing `commits`,
    /// whose reads share `caches`, on the server's `clock`.
    pub fn sharing(
        store: Arc<dyn Store>,
        blobs: Arc<dyn BlobStore>,
        commits: Arc<GroupCommit<OssError>>,
        caches: Arc<Caches>,
        clock: Clock,
    ) -> Self {
        Oss { store, blobs, commits, clock, caches }
    }

    /// Whether the store is a shared server's: its reads are network round trips (so they run
    /// on blocking threads) and buckets are not cached (asking its version is one more).
    pub fn shared_store(&self) -> bool {
        self.store.shared()
    }

    /// The store's version to cache buckets at, taken before a read begins (`None`: no caching).
    fn bucket_version(&self) -> Option<u64> {
        if self.store.shared() {
            None
        } else {
            self.store.version()
        }
    }

    /// `name`'s record for a read (`NoSuchBucket` when there is none): the one kept at the
    /// store's current version (see `crate::cache`), else read with `tx` and kept. `version` is
    /// [`Oss::bucket_version`], taken before `tx` began.
    fn read_bucket(&self, tx: &mut dyn Tx, version: Option<u64>, name: &str) -> OssResult<Arc<Bucket>> {
        self.caches.oss_buckets.get_or_read(name.to_string(), version, || load_bucket(tx, name).map(Arc::new))
    }

    /// Now by the server's clock (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now().unix_timestamp()
    }

    /// The key upload callbacks are signed with (made on first use; see [`super::callback_key`]).
    pub fn callback_key(&self, key: &crate::seal::ServerKey) -> OssResult<super::callback_key::CallbackKey> {
        Ok(super::callback_key::ensure(&*self.store, key)?)
    }

    fn tx(&self) -> OssResult<Box<dyn Tx + '_>> {
        Ok(self.store.begin()?)
    }

    /// A transaction for an operation that only reads: it never waits for writers.
    fn read_tx(&self) -> OssResult<Box<dyn Tx + '_>> {
        Ok(self.store.begin_read()?)
    }

    /// Removes blobs that no object references any more (after a commit).
    fn discard(&self, segments: impl IntoIterator<Item = Segment>) {
        for s in segments {
            if let Err(e) = self.blobs.remove(&s.blob) {
                tracing_free_log(&format!("could not remove blob {}: {e}", s.blob.0));
            }
        }
    }

    /// Removes the blobs of records a commit replaced or deleted.
    fn discard_records<T: serde::de::DeserializeOwned + HasSegments>(
        &self,
        what: &str,
        records: impl IntoIterator<Item = String>,
    ) -> OssResult<()> {
        for data in records {
            self.discard(decode::<T>(what, &data)?.into_segments());
        }
        Ok(())
    }

    // -- bodies ---------------------------------------------------------------------------

    /// Starts writing a body to a new blob.
    pub fn new_body(&self) -> OssResult<DigestingWriter> {
        Ok(DigestingWriter::new(self.blobs.create()?))
    }

    /// Commits a written body (the blob; no record names it yet, see [`Body`]).
    pub fn finish_body(&self, writer: DigestingWriter) -> OssResult<Body> {
        let (blob, digests) = writer.finish()?;
        Ok(self.body(blob, digests))
    }

    /// Starts a new blob whose bytes are digested apart from it (a [`Digester`] on another
    /// thread, so the blob's fsync need not wait for the digest); [`Oss::body`] joins the two.
    /// `size`: how long the body says it is (its Content-Length), if it says.
    ///
    /// [`Digester`]: super::blob::Digester
    pub fn new_blob(&self, size: Option<u64>) -> OssResult<Box<dyn BlobSink>> {
        Ok(self.blobs.create_sized(size)?)
    }

    /// A committed blob and the digests of its bytes as a [`Body`] (removed when dropped unless
    /// a committed record comes to name it).
    pub fn body(&self, blob: BlobId, digests: Digests) -> Body {
        Body { blob: Some(blob), digests, blobs: self.blobs.clone() }
    }

    /// Copies what `reader` reads into a new body.
    fn copy_body(&self, mut reader: SegmentReader) -> OssResult<Body> {
        let mut writer = self.new_body()?;
        io::copy(&mut reader, &mut writer)?;
        self.finish_body(writer)
    }

    fn check_md5(body: &Body, content_md5: Option<[u8; 16]>) -> OssResult<()> {
        match content_md5 {
            Some(md5) if md5 != body.digests.md5 => Err(OssError::InvalidDigest),
            _ => Ok(()),
        }
    }

    /// Opens `len` bytes of `object` from `offset` (every blob opened now; see [`SegmentReader`]).
    pub fn reader(&self, object: &Object, offset: u64, len: u64) -> OssResult<SegmentReader> {
        Ok(SegmentReader::open(self.blobs.as_ref(), &object.segments, offset, len)?)
    }

    /// Reads an object for `action` (GetObject, or the source of a copy): authorizes, lets `plan`
    /// check the object (conditions) and pick the byte range to read (`None`: all of it), and
    /// opens that range before returning, so nothing is answered until the body is secured. An
    /// object overwritten or deleted between the lookup and the opening is looked up again.
    fn open_object(
        &self,
        who: &Requester,
        (bucket, key, version): (&str, &str, Option<&str>),
        action: OssAction,
        plan: impl Fn(&Object) -> OssResult<Option<(u64, u64)>>,
        waits: Waits,
    ) -> OssResult<Option<OpenedObject>> {
        const ATTEMPTS: usize = 8;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let object = self.object_for(who, (bucket, key, version), action)?;
            let object = self.resolve_symlink(who, bucket, object)?;
            self.authorize_decrypt(who, bucket, &object)?;
            check_readable(&object.storage_class, object.restore.as_ref(), self.now())?;
            let range = plan(&object)?;
            let (offset, len) = match range {
                Some((first, last)) => (first, last - first + 1),
                None => (0, object.size),
            };
            let opened = match waits {
                Waits::Allowed => SegmentReader::open(self.blobs.as_ref(), &object.segments, offset, len).map(Some),
                Waits::Refused => SegmentReader::open_cached(self.blobs.as_ref(), &object.segments, offset, len),
            };
            match opened {
                Ok(reader) => return Ok(reader.map(|reader| OpenedObject { object, range, reader })),
                Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < ATTEMPTS => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Reading the body of a KMS object (a symlink's: its target's) needs `kms:Decrypt` on its
    /// key, besides the read's own action; HEAD and GetObjectMeta answer metadata and do not
    /// (docs/oss.md, "Authorization").
    fn authorize_decrypt(&self, who: &Requester, bucket: &str, object: &Object) -> OssResult<()> {
        let Some(key) = Sse::recorded(&object.headers).kms_key(None) else { return Ok(()) };
        let at = self.bucket_version();
        let mut tx = self.read_tx()?;
        let b = self.read_bucket(&mut *tx, at, bucket)?;
        authorize_kms(&mut *tx, who, &b, &key, KeyUse::Decrypt)
    }

    /// GetObject: the object, checked by `plan` (conditions, range), with its range opened.
    pub fn open(&self, call: Call<'_>, plan: impl Fn(&Object) -> OssResult<Option<(u64, u64)>>) -> OssResult<OpenedObject> {
        self.open_object(call.who, (call.bucket, call.key, call.version), call.action(), plan, Waits::Allowed).and_then(opened)
    }

    /// [`Oss::open`] without waiting on the object's bytes (they are all in memory), for an
    /// async thread: `None` when they are not, after the same checks (then [`Oss::open`] on a
    /// blocking thread). It reads the store as the RPC gateway's reads do.
    pub fn open_cached(&self, call: Call<'_>, plan: impl Fn(&Object) -> OssResult<Option<(u64, u64)>>) -> OssResult<Option<OpenedObject>> {
        self.open_object(call.who, (call.bucket, call.key, call.version), call.action(), plan, Waits::Refused)
    }

    /// A copy's source (`oss:GetObject` on it, `oss:GetObjectVersion` for a version), checked against the `x-oss-copy-source-if-*`
    /// conditions, with `range` of it opened. A delete marker named by its version id (found
    /// only once the read is authorized) is `InvalidArgument` 400 with OSS's EC `0016-00000307`
    /// (docs/oss.md, "versioning"), not a read's `MethodNotAllowed`; a missing version is
    /// `NoSuchVersion` with the copy source's EC `0012-00000203`.
    fn open_source(&self, who: &Requester, source: &CopySource, range: Option<super::request::CopyRange>) -> OssResult<OpenedObject> {
        let action = super::operation::copy_source_action(source.version_id.is_some());
        self.open_object(
            who,
            (&source.bucket, &source.key, source.version_id.as_deref()),
            action,
            |src| {
                source.conditions.check_copy_source(src)?;
                match range {
                    None => Ok(None),
                    Some(r) => r.resolve(src.size).map(Some),
                }
            },
            Waits::Allowed,
        )
        .and_then(opened)
        .map_err(|e| match e {
            // UNVERIFIED: OSS documents 400 and the EC, not the code; InvalidArgument is used.
            OssError::DeleteMarkerRead { version_id } => OssError::InvalidArgumentEc {
                message: format!("The copy source version {version_id} is a delete marker; a delete marker cannot be copied."),
                ec: "0016-00000307",
            },
            OssError::NoSuchVersion { key, version_id, .. } => OssError::NoSuchVersion { key, version_id, ec: "0012-00000203" },
            e => e,
        })
    }

    /// What reading a symlink reads: its target in the same bucket (read as `oss:GetObject`,
    /// authorized on the target too), presented under the symlink's key, type, user metadata
    /// and tags. Other objects come back as they are. A missing target (or one that is itself
    /// a symlink) is `SymlinkTargetNotExist`.
    fn resolve_symlink(&self, who: &Requester, bucket: &str, link: Object) -> OssResult<Object> {
        let Some(target_key) = link.symlink_target.clone() else { return Ok(link) };
        let target = match self.object_for(who, (bucket, &target_key, None), OssAction::GetObject) {
            Ok(t) if t.symlink_target.is_none() => t,
            Ok(_) | Err(OssError::NoSuchKey { .. } | OssError::DeleteMarkerCurrent { .. }) => {
                return Err(OssError::SymlinkTargetNotExist { key: target_key })
            }
            Err(e) => return Err(e),
        };
        Ok(Object {
            key: link.key,
            object_type: ObjectType::Symlink,
            user_meta: link.user_meta,
            tags: link.tags,
            acl: link.acl,
            symlink_target: link.symlink_target,
            version_id: link.version_id,
            version_sequence: link.version_sequence,
            ..target
        })
    }

    /// An object (the current version, or the version named) for `action`, authorized with its
    /// own ACL and tags. A delete marker reads as `NoSuchKey` (current) or `MethodNotAllowed`
    /// (named), with the marker's headers.
    fn object_for(&self, who: &Requester, (bucket, key, version): (&str, &str, Option<&str>), action: OssAction) -> OssResult<Object> {
        if let Some(v) = version {
            super::versioning::validate_version_id(v)?;
        }
        let at = self.bucket_version();
        let mut tx = self.read_tx()?;
        let b = self.read_bucket(&mut *tx, at, bucket)?;
        let object = versions::addressed(&mut *tx, bucket, key, version)?;
        let tags = object.as_ref().map_or(&[][..], |o| o.tags.as_slice());
        authorize(&mut *tx, who, action, Target { object_acl: object_acl(object.as_ref()), object_tags: tags, ..Target::object(&b, key) })?;
        versions::found(&mut *tx, &b, key, version, object)
    }
}

/// Records that own blobs.
trait HasSegments {
    fn into_segments(self) -> Vec<Segment>;
}

impl HasSegments for Object {
    fn into_segments(self) -> Vec<Segment> {
        self.segments
    }
}

impl HasSegments for Part {
    fn into_segments(self) -> Vec<Segment> {
        vec![self.segment]
    }
}

/// Blob-removal failures only leave an unreferenced file behind; they are reported on stderr
/// rather than failing a request that has already committed.
fn tracing_free_log(message: &str) {
    eprintln!("rolestack oss: {message}");
}
