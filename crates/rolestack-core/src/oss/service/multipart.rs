//! Multipart uploads: InitiateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts and ListMultipartUploads.

use md5::{Digest as _, Md5};
use time::OffsetDateTime;

use super::object::authorize_write_in;
use super::{
    authorize_encrypt, decode, encode, load_bucket, load_upload, new_object, now, refuse_overwrite, with_bucket_defaults, Body, Call,
    CopySource, Oss, WriteTicket, MAX_PART_NUMBER, MIN_PART_SIZE,
};
use crate::oss::access::{authorize, OssAction, Target};
use crate::oss::blob::{crc64_combine, hex_upper, Digests, Segment};
use crate::oss::error::{OssError, OssResult, EC_FILE_EXISTS_MULTIPART};
use crate::oss::kms::{KmsKey, Sse};
use crate::oss::model::{Bucket, Object, ObjectSettings, ObjectType, Part, Upload};
use crate::oss::request::CopyRange;

/// ListMultipartUploads' page.
#[derive(Debug, Clone, Default)]
pub struct UploadListing {
    pub uploads: Vec<Upload>,
    pub common_prefixes: Vec<String>,
    pub truncated: bool,
    pub next_key_marker: String,
    pub next_upload_id_marker: String,
}

/// What ListMultipartUploads asks for.
#[derive(Debug, Clone, Default)]
pub struct UploadQuery {
    pub prefix: String,
    pub delimiter: String,
    pub key_marker: String,
    pub upload_id_marker: String,
    pub max_uploads: usize,
}

/// ListParts' page.
#[derive(Debug, Clone)]
pub struct PartListing {
    pub upload: Upload,
    pub parts: Vec<Part>,
    pub truncated: bool,
    pub next_marker: u32,
}

impl Oss {
    /// InitiateMultipartUpload, authorized (as a write of the key: with the ACL of its current
    /// object) in the transaction that records it. With `forbid_overwrite`
    /// (`x-oss-forbid-overwrite: true`) a key that has an object is `FileAlreadyExists` at once,
    /// before any part is sent (the Complete checks again; docs/oss.md, "multipart").
    pub fn initiate_upload(&self, call: Call<'_>, settings: ObjectSettings, forbid_overwrite: bool) -> OssResult<Upload> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let ticket = authorize_write_in(&mut *tx, call)?;
            let nanos = OffsetDateTime::now_utc().unix_timestamp_nanos();
            let upload_id = format!("{:016X}{}", (nanos as u128 & 0xFFFF_FFFF_FFFF_FFFF), hex_upper(&rand::random::<[u8; 8]>()));
            let upload = Upload {
                bucket: call.bucket.into(),
                key: ticket.key,
                upload_id: upload_id.clone(),
                initiated: now(),
                settings: settings.clone(),
            };
            refuse_overwrite(&mut *tx, &ticket.bucket, call.key, forbid_overwrite, EC_FILE_EXISTS_MULTIPART)?;
            tx.oss_upload_insert(call.bucket, call.key, &upload_id, &encode(&upload)?)?;
            tx.commit()?;
            Ok(upload)
        })
    }

    /// Authorizes an UploadPart (or UploadPartCopy) and checks the upload exists. A part of an
    /// upload encrypted with KMS needs the `kms:` actions on its key ([`upload_kms_key`]).
    pub fn authorize_part(&self, call: Call<'_>, upload_id: &str, number: u32) -> OssResult<WriteTicket> {
        check_part_number(number)?;
        let ticket = self.authorize_write(call)?;
        let mut tx = self.read_tx()?;
        let upload = load_upload(&mut *tx, call.bucket, call.key, upload_id)?;
        authorize_encrypt(&mut *tx, call.who, &ticket.bucket, upload_kms_key(&upload, &ticket.bucket))?;
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
        Self::check_md5(&body, content_md5)?;
        let part = Part { number, segment: body.segment(), etag: body.digests.etag(), crc64: body.digests.crc64, last_modified: now() };
        let (bucket, key, upload) = (ticket.bucket.name.clone(), ticket.key.clone(), upload_id.to_string());
        let record = encode(&part)?;
        let old = self.commits.write(move |tx| {
            load_upload(tx, &bucket, &key, &upload)?;
            Ok(tx.oss_part_put(&upload, number, &record)?)
        })?;
        body.keep();
        self.discard_records::<Part>("part", old)?;
        Ok(part)
    }

    /// UploadPartCopy: a part copied from (a range of) another object, read as `oss:GetObject`.
    pub fn upload_part_copy(
        &self,
        call: Call<'_>,
        upload_id: &str,
        number: u32,
        source: &CopySource,
        range: Option<CopyRange>,
    ) -> OssResult<Part> {
        let ticket = self.authorize_part(call, upload_id, number)?;
        let opened = self.open_source(call.who, source, range)?;
        let body = self.copy_body(opened.reader)?;
        self.put_part(&ticket, upload_id, number, body, None)
    }

    /// CompleteMultipartUpload of the listed parts (number, ETag), or of every uploaded part
    /// (`None`: `x-oss-complete-all`, which lists the parts and so also needs `oss:ListParts`),
    /// authorized (as a write of the key: with the ACL of the object it replaces) in the
    /// transaction that writes the object.
    /// With `forbid_overwrite` (`x-oss-forbid-overwrite: true`) an existing object is
    /// `FileAlreadyExists` and the upload stays as it was.
    pub fn complete_upload(
        &self,
        call: Call<'_>,
        upload_id: &str,
        requested: Option<&[(u32, String)]>,
        forbid_overwrite: bool,
    ) -> OssResult<Object> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let ticket = authorize_write_in(&mut *tx, call)?;
            let (bucket, key) = (call.bucket, call.key);
            if requested.is_none() {
                authorize(&mut *tx, call.who, OssAction::ListParts, Target::object(&ticket.bucket, key))?;
            }
            let upload = load_upload(&mut *tx, bucket, key, upload_id)?;
            authorize_encrypt(&mut *tx, call.who, &ticket.bucket, upload_kms_key(&upload, &ticket.bucket))?;
            let stored: Vec<Part> =
                tx.oss_part_list(upload_id, 0, usize::MAX)?.iter().map(|d| decode("part", d)).collect::<OssResult<_>>()?;
            let all: Vec<(u32, String)>;
            let requested = match requested {
                Some(r) => r,
                None => {
                    all = stored.iter().map(|p| (p.number, p.etag.clone())).collect();
                    &all
                }
            };
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
            let totals = Digests { md5: [0; 16], crc64: crc, size };
            let mut object = new_object(key, segments, &totals, ObjectType::Multipart, upload.settings.clone());
            object.etag = etag;
            let b = &ticket.bucket;
            refuse_overwrite(&mut *tx, b, key, forbid_overwrite, EC_FILE_EXISTS_MULTIPART)?;
            let (object, gone) = super::versions::make_current(&mut *tx, b, with_bucket_defaults(object, b), self.now())?;
            tx.oss_parts_delete(upload_id)?;
            tx.oss_upload_delete(bucket, upload_id)?;
            tx.commit()?;
            self.discard(unused);
            self.discard(gone.into_iter().flat_map(|o| o.segments));
            Ok(object)
        })
    }

    pub fn abort_upload(&self, call: Call<'_>, upload_id: &str) -> OssResult<()> {
        // Run again while it conflicts with another node's transaction (a shared store).
        crate::store::retry(|| {
            let mut tx = self.tx()?;
            let b = load_bucket(&mut *tx, call.bucket)?;
            call.authorize(&mut *tx, Target::object(&b, call.key))?;
            load_upload(&mut *tx, call.bucket, call.key, upload_id)?;
            let parts = tx.oss_parts_delete(upload_id)?;
            tx.oss_upload_delete(call.bucket, upload_id)?;
            tx.commit()?;
            self.discard_records::<Part>("part", parts)
        })
    }

    pub fn list_parts(&self, call: Call<'_>, upload_id: &str, marker: u32, max_parts: usize) -> OssResult<PartListing> {
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, call.bucket)?;
        call.authorize(&mut *tx, Target::object(&b, call.key))?;
        let upload = load_upload(&mut *tx, call.bucket, call.key, upload_id)?;
        let mut parts: Vec<Part> =
            tx.oss_part_list(upload_id, marker, max_parts + 1)?.iter().map(|d| decode("part", d)).collect::<OssResult<_>>()?;
        let truncated = parts.len() > max_parts;
        parts.truncate(max_parts);
        let next_marker = parts.last().map_or(marker, |p| p.number);
        Ok(PartListing { upload, parts, truncated, next_marker })
    }

    /// ListMultipartUploads: uploads in (key, upload id) order; with a delimiter, keys that
    /// continue past it under `prefix` are rolled up into common prefixes.
    pub fn list_uploads(&self, call: Call<'_>, q: &UploadQuery) -> OssResult<UploadListing> {
        /// Sorts after every key that starts with the string it is appended to.
        const PAST: char = '\u{10FFFF}';
        let (bucket, prefix, delimiter) = (call.bucket, q.prefix.as_str(), q.delimiter.as_str());
        let mut tx = self.read_tx()?;
        let b = load_bucket(&mut *tx, bucket)?;
        call.authorize(&mut *tx, Target::bucket(&b))?;
        let common_prefix = |key: &str| -> Option<String> {
            if delimiter.is_empty() || !key.starts_with(prefix) {
                return None;
            }
            key[prefix.len()..].find(delimiter).map(|i| key[..prefix.len() + i + delimiter.len()].to_string())
        };
        let mut key_marker = q.key_marker.clone();
        // Without an upload-id marker, the key marker excludes every upload of that key.
        let mut id_marker =
            if q.upload_id_marker.is_empty() && !key_marker.is_empty() { PAST.to_string() } else { q.upload_id_marker.clone() };
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
                if count == q.max_uploads {
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

/// The KMS key an upload's object is encrypted with: the one it was initiated with, else (none
/// named) the bucket's default, which CompleteMultipartUpload gives the object.
fn upload_kms_key(upload: &Upload, bucket: &Bucket) -> Option<KmsKey> {
    Sse::recorded(&upload.settings.headers).kms_key(bucket.encryption.as_ref())
}

fn check_part_number(number: u32) -> OssResult<()> {
    if (1..=MAX_PART_NUMBER).contains(&number) {
        Ok(())
    } else {
        Err(OssError::InvalidPartNumber { value: number.to_string() })
    }
}
