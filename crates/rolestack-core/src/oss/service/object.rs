//! Objects: listing, PutObject, GetObject / HeadObject / GetObjectMeta, DeleteObject(s),
//! CopyObject, AppendObject and the object ACL.

use md5::{Digest as _, Md5};

use super::versions::{self, Deletion};
use super::{
    acl_in_force, authorize_encrypt, encode, load_bucket, load_object, new_object, now, object_acl, refuse_overwrite, still_granted,
    with_bucket_defaults, Body, Call, Oss, WriteTicket, MAX_APPEND_SIZE,
};
use crate::oss::access::Target;
use crate::oss::archive::{restore, RestoreOutcome, RestoreRequest};
use crate::oss::blob::{crc64_combine, hex_upper};
use crate::oss::error::{OssError, OssResult, EC_FILE_EXISTS};
use crate::oss::kms::Sse;
use crate::oss::listing::{self, ListQuery, Listing};
use crate::oss::model::{validate_key, Acl, Object, ObjectSettings, ObjectType};
use crate::oss::request::Conditions;
use crate::oss::tagging::{validate_object_tags, Tags};

/// CopyObject's `x-oss-metadata-directive`.
#[derive(Debug, Clone)]
pub enum MetadataDirective {
    /// Keep the source's content type, user metadata and headers.
    Copy,
    /// Use the request's.
    Replace(ObjectSettings),
}

/// The object a copy reads (`x-oss-copy-source`) and its `x-oss-copy-source-if-*` conditions.
#[derive(Debug, Clone)]
pub struct CopySource {
    pub bucket: String,
    pub key: String,
    /// `?versionId=` of `x-oss-copy-source`.
    pub version_id: Option<String>,
    pub conditions: Conditions,
}

/// What CopyObject writes besides the bytes.
#[derive(Debug, Clone)]
pub struct CopyTarget {
    pub directive: MetadataDirective,
    /// `x-oss-object-acl`.
    pub acl: Option<Acl>,
    /// `x-oss-forbid-overwrite: true`.
    pub forbid_overwrite: bool,
    /// `x-oss-tagging-directive: Replace` with these tags; `None` copies the source's.
    pub tagging: Option<Tags>,
    /// `x-oss-storage-class`; `None`: the target bucket's.
    pub storage_class: Option<String>,
    /// `x-oss-server-side-encryption*`; `None`: the target bucket's default, if any. Encryption
    /// is not metadata: a copy never takes the source's.
    pub encryption: Option<crate::oss::bucket_config::Encryption>,
}

impl Oss {
    /// One page of a bucket's objects, with the bucket owner (who owns every object).
    pub fn list_objects(&self, call: Call<'_>, q: &ListQuery) -> OssResult<(String, Listing)> {
        let mut tx = self.read_tx()?;
        let b = authorize_listing(&mut *tx, call, &q.prefix, &q.delimiter)?;
        Ok((b.owner, listing::list(&mut *tx, call.bucket, q)?))
    }

    /// Authorizes a write of the call's key (PutObject, AppendObject, multipart, copy targets):
    /// see [`authorize_write_in`].
    pub fn authorize_write(&self, call: Call<'_>) -> OssResult<WriteTicket> {
        let mut tx = self.read_tx()?;
        authorize_write_in(&mut *tx, call)
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
        Self::check_md5(&body, content_md5)?;
        let object = new_object(&ticket.key, vec![body.segment()], &body.digests, ObjectType::Normal, settings);
        let stored = self.store_object(ticket, object, forbid_overwrite)?;
        body.keep();
        Ok(stored)
    }

    /// Writes an object's metadata as the key's current version: a previous version is
    /// replaced (and its body then discarded) or kept, as the bucket's versioning says. The
    /// ticket's grant is checked again against the object replaced ([`still_granted`]).
    fn store_object(&self, ticket: &WriteTicket, object: Object, forbid_overwrite: bool) -> OssResult<Object> {
        let (bucket, grant) = (ticket.bucket.name.clone(), ticket.grant.clone());
        let clock = self.now();
        let (object, gone) = self.commits.write(move |tx| {
            let b = load_bucket(tx, &bucket)?;
            still_granted(&grant, tx, &b, &object.key)?;
            let object = with_bucket_defaults(object.clone(), &b);
            refuse_overwrite(tx, &b, &object.key, forbid_overwrite, EC_FILE_EXISTS)?;
            versions::make_current(tx, &b, object, clock)
        })?;
        self.discard(gone.into_iter().flat_map(|o| o.segments));
        Ok(object)
    }

    /// An object for GetObjectAcl, tags, GetSymlink (the call's action), as stored.
    pub fn get_object(&self, call: Call<'_>) -> OssResult<Object> {
        self.object_for(call.who, (call.bucket, call.key, call.version), call.action())
    }

    /// An object for HeadObject / GetObjectMeta: a symlink answers with its target's body
    /// facts (see [`Oss::resolve_symlink`]).
    pub fn head_object(&self, call: Call<'_>) -> OssResult<Object> {
        let object = self.get_object(call)?;
        self.resolve_symlink(call.who, call.bucket, object)
    }

    /// PutSymlink: an object naming `target` in the same bucket (which need not exist yet).
    pub fn put_symlink(&self, call: Call<'_>, target: &str, settings: ObjectSettings, forbid_overwrite: bool) -> OssResult<Object> {
        validate_key(target)?;
        let ticket = self.authorize_write(call)?;
        let digests = crate::oss::blob::Digests { md5: Md5::digest(target.as_bytes()).into(), crc64: 0, size: 0 };
        let mut object = new_object(&ticket.key, Vec::new(), &digests, ObjectType::Symlink, settings);
        object.symlink_target = Some(target.to_string());
        self.store_object(&ticket, object, forbid_overwrite)
    }

    /// GetSymlink: the target key (`NotSymlink` for any other object) and the link.
    pub fn get_symlink(&self, call: Call<'_>) -> OssResult<(String, Object)> {
        let link = self.get_object(call)?;
        Ok((link.symlink_target.clone().ok_or(OssError::NotSymlink)?, link))
    }

    /// DeleteObject: without a version, removes the object (unversioned bucket) or adds a
    /// delete marker; with one (`oss:DeleteObjectVersion`), removes that version for good.
    pub fn delete_object(&self, call: Call<'_>) -> OssResult<Deletion> {
        let key = call.key.to_string();
        let version = call.version.map(str::to_string);
        Ok(self.delete_objects(call, &[(key, version)])?.remove(0))
    }

    /// DeleteMultipleObjects (and DeleteObject): every (key, version) must be allowed — as
    /// `oss:DeleteObjectVersion` when it names a version — else `AccessDenied` for the request.
    /// An ACL decides with the ACL of what is deleted (the current object, or the version named),
    /// in the transaction that deletes it. Missing keys and versions count as deleted, as in OSS.
    pub fn delete_objects(&self, call: Call<'_>, targets: &[(String, Option<String>)]) -> OssResult<Vec<Deletion>> {
        for (_, version) in targets {
            if let Some(v) = version {
                crate::oss::versioning::validate_version_id(v)?;
            }
        }
        let clock = self.now();
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let b = load_bucket(&mut *tx, call.bucket)?;
            for (key, version) in targets {
                let existing = versions::addressed(&mut *tx, call.bucket, key, version.as_deref())?;
                let tags = existing.as_ref().map_or(&[][..], |o| o.tags.as_slice());
                let action = call.op.action_for(version.is_some());
                let target = Target { object_acl: object_acl(existing.as_ref()), object_tags: tags, ..Target::object(&b, key) };
                crate::oss::access::authorize(&mut *tx, call.who, action, target)?;
            }
            let mut gone = Vec::new();
            let mut done = Vec::with_capacity(targets.len());
            for (key, version) in targets {
                let mut deletion = Deletion { key: key.clone(), version_id: version.clone(), ..Deletion::default() };
                match (version, b.versioning) {
                    (Some(v), _) => {
                        if let Some(deleted) = versions::delete_version(&mut *tx, call.bucket, key, v)? {
                            if deleted.delete_marker {
                                deletion.delete_marker = true;
                                deletion.delete_marker_version_id = Some(v.clone());
                            }
                            gone.push(deleted);
                        }
                    }
                    (None, Some(_)) => {
                        let (marker, retired) = versions::add_delete_marker(&mut *tx, &b, key, clock)?;
                        deletion.delete_marker = true;
                        deletion.delete_marker_version_id = Some(marker.version().to_string());
                        gone.extend(retired);
                    }
                    (None, None) => {
                        if let Some(old) = tx.oss_object_delete(call.bucket, key)? {
                            gone.push(super::decode("object", &old)?);
                        }
                    }
                }
                done.push(deletion);
            }
            tx.commit()?;
            self.discard(gone.into_iter().flat_map(|o| o.segments));
            Ok(done)
        })
    }

    /// CopyObject (also the metadata update of an object copied onto itself): the source is read
    /// as `oss:GetObject`, the target written as the call's action.
    pub fn copy_object(&self, call: Call<'_>, source: &CopySource, target: CopyTarget) -> OssResult<Object> {
        validate_key(call.key)?;
        let opened = self.open_source(call.who, source, None)?;
        let src = opened.object;
        let ticket = self.authorize_write(call)?;
        let body = self.copy_body(opened.reader)?;
        let settings = match target.directive {
            MetadataDirective::Copy => ObjectSettings {
                content_type: Some(src.content_type.clone()),
                user_meta: src.user_meta.clone(),
                headers: src
                    .headers
                    .iter()
                    .filter(|(n, _)| !n.starts_with("x-oss-server-side-"))
                    .cloned()
                    .chain(target.encryption.iter().flat_map(super::encryption_headers))
                    .collect(),
                acl: target.acl.unwrap_or(Acl::Default),
                tags: Vec::new(),
                storage_class: None,
            },
            MetadataDirective::Replace(mut s) => {
                if let Some(acl) = target.acl {
                    s.acl = acl;
                }
                s
            }
        };
        let mut settings = settings;
        settings.tags = target.tagging.unwrap_or_else(|| src.tags.clone());
        settings.storage_class = target.storage_class;
        let mut object = new_object(call.key, vec![body.segment()], &body.digests, ObjectType::Normal, settings);
        object.etag = src.etag.clone();
        let stored = self.store_object(&ticket, object, target.forbid_overwrite)?;
        body.keep();
        Ok(stored)
    }

    /// Authorizes an AppendObject at `position` and checks the position against the object. The
    /// append encrypts as the object was first written: the existing object's KMS key, or for a
    /// new one the key the call asks for, else the bucket's default.
    pub fn authorize_append(&self, call: Call<'_>, position: u64) -> OssResult<WriteTicket> {
        let ticket = self.authorize_write(call)?;
        let mut tx = self.read_tx()?;
        let existing = load_object(&mut *tx, call.bucket, call.key)?;
        check_append(existing.as_ref(), position)?;
        let key = match &existing {
            Some(o) => Sse::recorded(&o.headers).kms_key(None),
            None => call.encryption.kms_key(ticket.bucket.encryption.as_ref()),
        };
        authorize_encrypt(&mut *tx, call.who, &ticket.bucket, key)?;
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
        // Run again while it conflicts with another node's transaction (a shared store).
        let object = crate::store::retry(|| {
            Self::check_md5(&body, content_md5)?;
            let mut tx = self.tx()?;
            let (bucket, key) = (&ticket.bucket.name, &ticket.key);
            let b = load_bucket(&mut *tx, bucket)?;
            let existing = load_object(&mut *tx, bucket, key)?;
            ticket.grant.holds_under(acl_in_force(&b, existing.as_ref()))?;
            check_append(existing.as_ref(), position)?;
            if position + body.digests.size > MAX_APPEND_SIZE {
                return Err(OssError::InvalidArgument("An appendable object may not grow beyond 5 GiB.".into()));
            }
            let object = match existing {
                None => {
                    let first = new_object(key, vec![body.segment()], &body.digests, ObjectType::Appendable, settings.clone());
                    let (object, _) = versions::make_current(&mut *tx, &b, with_bucket_defaults(first, &b), self.now())?;
                    tx.commit()?;
                    return Ok(object);
                }
                Some(mut o) => {
                    o.crc64 = crc64_combine(o.crc64, body.digests.crc64, body.digests.size);
                    o.size += body.digests.size;
                    o.segments.push(body.segment());
                    o.last_modified = now();
                    // Appendable objects' ETags are not MD5s of the content.
                    o.etag = hex_upper(&Md5::digest(format!("{}:{}:{}", o.key, o.size, o.crc64).as_bytes()));
                    // Appending to the current version keeps its version id.
                    versions::shown(&b, o)
                }
            };
            tx.oss_object_put(bucket, key, &encode(&object)?)?;
            tx.commit()?;
            Ok(object)
        })?;
        body.keep();
        Ok(object)
    }

    /// Changes an existing object's record in place (ACL, tags, restore) — the current version
    /// or the version the call names: authorized with the object's tags as
    /// `oss:ExistingObjectTag/*`.
    fn update_object<T>(&self, call: Call<'_>, change: impl Fn(&mut Object) -> OssResult<T>) -> OssResult<T> {
        if let Some(v) = call.version {
            crate::oss::versioning::validate_version_id(v)?;
        }
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let b = load_bucket(&mut *tx, call.bucket)?;
            let object = versions::addressed(&mut *tx, call.bucket, call.key, call.version)?;
            let tags = object.as_ref().map_or(&[][..], |o| o.tags.as_slice());
            call.authorize(&mut *tx, Target { object_tags: tags, ..Target::object(&b, call.key) })?;
            let mut object = versions::found(&mut *tx, &b, call.key, call.version, object)?;
            let result = change(&mut object)?;
            versions::store_version(&mut *tx, call.bucket, &object)?;
            tx.commit()?;
            Ok(result)
        })
    }

    pub fn put_object_acl(&self, call: Call<'_>, acl: Acl) -> OssResult<()> {
        self.update_object(call, |o| {
            o.acl = acl;
            Ok(())
        })
    }

    /// GetObjectTagging.
    pub fn object_tags(&self, call: Call<'_>) -> OssResult<Tags> {
        Ok(self.get_object(call)?.tags)
    }

    /// PutObjectTagging: replaces the object's tags (its Last-Modified stays).
    pub fn put_object_tagging(&self, call: Call<'_>, tags: Tags) -> OssResult<()> {
        validate_object_tags(&tags)?;
        self.update_object(call, |o| {
            o.tags = tags.clone();
            Ok(())
        })
    }

    pub fn delete_object_tagging(&self, call: Call<'_>) -> OssResult<()> {
        self.update_object(call, |o| {
            o.tags.clear();
            Ok(())
        })
    }

    /// RestoreObject at the server clock's now: a restore starts (`Started`, 202) or a restored
    /// object's days are extended (`Extended`, 200).
    pub fn restore_object(&self, call: Call<'_>, req: &RestoreRequest) -> OssResult<RestoreOutcome> {
        let now = self.now();
        self.update_object(call, |o| {
            let outcome = restore(&o.storage_class, o.restore.as_ref(), req, now)?;
            o.restore = Some(match &outcome {
                RestoreOutcome::Started(r) | RestoreOutcome::Extended(r) => r.clone(),
            });
            Ok(outcome)
        })
    }
}

/// Authorizes, in `tx`, a write of the call's key as the call's action: an ACL decides with the
/// ACL of the key's current object (none: the bucket's; docs/oss.md, "Authorization"). A write
/// that makes a new object encrypted with KMS — the encryption it asks for, else the bucket's
/// default — needs the `kms:` actions on the key too (PutObject, PostObject, CopyObject,
/// InitiateMultipartUpload; AppendObject and the parts of an upload are checked against the
/// object or upload they add to, see [`Oss::authorize_append`] and [`Oss::authorize_part`]).
pub(super) fn authorize_write_in(tx: &mut dyn crate::store::Tx, call: Call<'_>) -> OssResult<WriteTicket> {
    use crate::oss::Operation::*;
    validate_key(call.key)?;
    let b = load_bucket(tx, call.bucket)?;
    let existing = load_object(tx, call.bucket, call.key)?;
    let grant = call.authorize(tx, Target { object_acl: object_acl(existing.as_ref()), ..Target::object(&b, call.key) })?;
    if matches!(call.op, PutObject | PostObject | CopyObject | InitiateMultipartUpload) {
        authorize_encrypt(tx, call.who, &b, call.encryption.kms_key(b.encryption.as_ref()))?;
    }
    Ok(WriteTicket { bucket: b, key: call.key.to_string(), grant })
}

/// Authorizes a listing of the call's bucket, with its `oss:Prefix` and `oss:Delimiter`.
pub(super) fn authorize_listing(
    tx: &mut dyn crate::store::Tx,
    call: Call<'_>,
    prefix: &str,
    delimiter: &str,
) -> OssResult<crate::oss::model::Bucket> {
    let b = load_bucket(tx, call.bucket)?;
    let keys = [("oss:Prefix", prefix), ("oss:Delimiter", delimiter)];
    call.authorize(tx, Target { condition_keys: &keys, ..Target::bucket(&b) })?;
    Ok(b)
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
