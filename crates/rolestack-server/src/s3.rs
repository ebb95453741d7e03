//! The S3 dialect of the OSS front-end (docs/s3-compatible.md): a request signed with an AWS
//! signature (SigV4 / SigV2, header or presigned) is authenticated here, its `x-amz-*` headers are
//! turned into their `x-oss-*` equivalents, its body is checked against what the signature
//! promised (payload SHA-256, signed `aws-chunked` chunks and their announced trailer,
//! `x-amz-checksum-*`), and the answer's headers are given their `x-amz-*` names. Everything
//! else — operations, authorization, errors — is the OSS front-end's.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_util::StreamExt as _;
use rolestack_core::caller::RequestFacts;
use rolestack_core::oss::error::{EC_S3_CHUNK_SIGNATURE_MISMATCH, EC_S3_SIGNATURE_MISMATCH};
use rolestack_core::oss::{Operation, OssError, OssResult, Requester};
use rolestack_core::service::Rolestack;
use rolestack_sign::aws_chunked::ChunkDecoder;
use rolestack_sign::aws_v4::{self, Payload};
use rolestack_sign::s3::{security_token, AwsAuth, BodyCheck, S3Request};
use rolestack_sign::{aws_v2, SignatureError};
use sha2::{Digest, Sha256};

use crate::oss::{auth, operation, OssHttpRequest};

/// Whether a request speaks the S3 dialect (carries an AWS signature).
pub fn is_s3(headers: &[(String, String)], query: &[(String, String)]) -> bool {
    rolestack_sign::s3::is_aws_signed(headers, query)
}

/// Who sent an AWS-signed request, and what its body must still satisfy.
pub struct S3Identity {
    pub requester: Requester,
    pub body: BodyCheck,
    /// The SigV4 signed header names (lower-case); empty for SigV2.
    pub signed_headers: Vec<String>,
}

/// Authenticates an AWS-signed request: the signature, the clock skew of header-signed
/// requests, the AccessKey or STS token; `bucket_in_host` is the bucket of a virtual-hosted
/// request (SigV2 signs it).
pub fn authenticate(rs: &Rolestack, request: &S3Request<'_>, bucket_in_host: Option<&str>, facts: RequestFacts) -> OssResult<S3Identity> {
    let auth = AwsAuth::from_request(request)
        .map_err(|e| signature_error(e, "", ""))?
        .ok_or_else(|| OssError::access_denied("The request carries no AWS signature."))?;
    let now = rs.clock.real_now().unix_timestamp();
    match &auth {
        AwsAuth::V4Header(_) => {
            let date = aws_v4::request_date_time(request).map_err(|e| signature_error(e, "", ""))?;
            auth::check_skew(aws_v4::parse_date_time(date).unwrap_or(0), now)?;
        }
        AwsAuth::V2Header(_) => {
            let date = aws_v2::request_date(request).ok_or_else(|| OssError::access_denied("The request carries no Date header."))?;
            // RFC 1123 with `GMT`; rclone writes `UTC`, others `+0000`, which name the same zone.
            let gmt = date.strip_suffix(" UTC").or_else(|| date.strip_suffix(" +0000")).map(|d| format!("{d} GMT"));
            let t = httpdate::parse_http_date(gmt.as_deref().unwrap_or(date))
                .map_err(|_| OssError::access_denied(format!("The Date header {date:?} is not an RFC 1123 date.")))?;
            auth::check_skew(t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0), now)?;
        }
        // A presigned URL dated in the future is not valid yet (beyond the allowed skew).
        AwsAuth::V4Query(q) => {
            if aws_v4::parse_date_time(&q.date_time).is_some_and(|t| t - now > auth::MAX_SKEW_SECONDS) {
                return Err(OssError::access_denied("Request is not valid yet."));
            }
        }
        AwsAuth::V2Query(_) => {}
    }
    let signed_headers = match &auth {
        AwsAuth::V4Header(a) => a.signed_headers.clone(),
        AwsAuth::V4Query(a) => a.signed_headers.clone(),
        _ => Vec::new(),
    };
    let access_key_id = auth.access_key_id().to_string();
    let who = auth::lookup(rs, &access_key_id, security_token(request))?;
    let body = auth.verify(&who.secret, request, bucket_in_host, now).map_err(|e| signature_error(e, &access_key_id, auth.signature()))?;
    Ok(S3Identity { requester: Requester::Caller(auth::caller(rs, who, access_key_id, facts)), body, signed_headers })
}

/// Authenticates an S3-dialect request (in place, or on a blocking thread when the store is a
/// shared server's), then gives the handlers OSS's headers and a body wrapped in the checks the
/// signature promised. CompleteMultipartUpload's `x-amz-checksum-*` headers are the whole
/// object's checksum, not its XML body's (docs/s3-compatible.md), and are not checked against it.
pub async fn prepare(rs: &Rolestack, req: &mut OssHttpRequest, body: &mut Body) -> OssResult<Requester> {
    let identity = if rs.store.shared() {
        let (rs2, req2) = (rs.clone(), req.clone());
        crate::oss::handlers::blocking(move || {
            // The clock is read from the shared store (it may block): here, not on the runtime.
            let facts = auth::refreshed_facts(&rs2, &req2);
            authenticate(&rs2, &req2.s3_view(), req2.bucket_in_host(), facts)
        })
        .await?
    } else {
        authenticate(rs, &req.s3_view(), req.bucket_in_host(), auth::facts(rs, req))?
    };
    let translated = translate_request_headers(&req.headers, &identity.signed_headers, !req.key.is_empty());
    let sent = std::mem::replace(&mut req.headers, translated);
    let completes = operation::resolve(req).is_ok_and(|route| route.op == Operation::CompleteMultipartUpload);
    *body = checked_body(std::mem::take(body), &identity.body, &sent, if completes { BodyChecksums::Object } else { BodyChecksums::Body })?;
    Ok(identity.requester)
}

/// Signature failures of the AWS schemes, with OSS's EC for S3 signatures.
fn signature_error(e: SignatureError, access_key_id: &str, provided: &str) -> OssError {
    auth::signature_error(e, access_key_id, provided, EC_S3_SIGNATURE_MISMATCH)
}

/// OSS's name for an S3 storage class.
fn storage_class(s3: &str) -> &str {
    match s3 {
        "STANDARD" => "Standard",
        "STANDARD_IA" | "ONEZONE_IA" => "IA",
        "GLACIER" | "GLACIER_IR" => "Archive",
        "DEEP_ARCHIVE" => "ColdArchive",
        other => other,
    }
}

/// The request's headers as the OSS handlers read them: `x-amz-*` renamed to `x-oss-*`, auth
/// headers dropped, and `x-oss-*` headers kept only when SigV4 signed them (nothing may add OSS
/// semantics to an S3 request the signature does not cover). `object` selects `x-oss-object-acl`
/// over `x-oss-acl` for `x-amz-acl`.
pub fn translate_request_headers(headers: &[(String, String)], signed: &[String], object: bool) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("x-oss-") {
            if signed.contains(&lower) {
                out.push((lower, value.clone()));
            }
            continue;
        }
        let Some(rest) = lower.strip_prefix("x-amz-") else {
            if lower == "content-encoding" {
                // `aws-chunked` names the upload's framing, not the object's encoding: S3 stores
                // the object without it (`gzip,aws-chunked` is stored as `gzip`).
                let kept: Vec<&str> =
                    value.split(',').map(str::trim).filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked")).collect();
                if !kept.is_empty() {
                    out.push((name.clone(), kept.join(",")));
                }
                continue;
            }
            out.push((name.clone(), value.clone()));
            continue;
        };
        let mapped = match rest {
            "acl" if object => Some(("x-oss-object-acl".to_string(), value.clone())),
            "acl" => Some(("x-oss-acl".to_string(), value.clone())),
            "copy-source" => {
                let v = value.trim();
                Some(("x-oss-copy-source".to_string(), if v.starts_with('/') { v.to_string() } else { format!("/{v}") }))
            }
            "storage-class" => Some(("x-oss-storage-class".to_string(), storage_class(value.trim()).to_string())),
            "copy-source-range"
            | "copy-source-if-match"
            | "copy-source-if-none-match"
            | "copy-source-if-modified-since"
            | "copy-source-if-unmodified-since"
            | "metadata-directive"
            | "tagging"
            | "tagging-directive"
            | "server-side-encryption-key-id" => Some((format!("x-oss-{rest}"), value.clone())),
            // S3 names KMS `aws:kms`; OSS's value is `KMS`.
            "server-side-encryption" => {
                Some(("x-oss-server-side-encryption".to_string(), if value == "aws:kms" { "KMS".into() } else { value.clone() }))
            }
            meta if meta.starts_with("meta-") => Some((format!("x-oss-{meta}"), value.clone())),
            _ => None,
        };
        out.extend(mapped);
    }
    out
}

/// Gives an answer to an S3 request its `x-amz-*` headers: user metadata as `x-amz-meta-*`,
/// `x-amz-request-id`, `x-amz-version-id`.
pub fn translate_response_headers(headers: &mut HeaderMap) {
    let mut added: Vec<(HeaderName, HeaderValue)> = Vec::new();
    for (name, value) in headers.iter() {
        let s = name.as_str();
        let renamed = if let Some(meta) = s.strip_prefix("x-oss-meta-") {
            Some(format!("x-amz-meta-{meta}"))
        } else {
            match s {
                "x-oss-request-id" => Some("x-amz-request-id".to_string()),
                "x-oss-version-id" => Some("x-amz-version-id".to_string()),
                "x-oss-delete-marker" => Some("x-amz-delete-marker".to_string()),
                "x-oss-copy-source-version-id" => Some("x-amz-copy-source-version-id".to_string()),
                _ => None,
            }
        };
        if let Some(n) = renamed.and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok()) {
            added.push((n, value.clone()));
        }
    }
    for (n, v) in added {
        headers.append(n, v);
    }
}

/// Why an S3 request's body was refused; travels inside the body stream's error and is mapped
/// to the OSS error by [`body_error`].
#[derive(Debug, thiserror::Error)]
pub enum BodyRejected {
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    Sha256Mismatch,
    #[error("{0}")]
    Chunk(SignatureError),
    #[error("The {0} you specified did not match the calculated checksum.")]
    Checksum(&'static str),
    #[error("You did not provide the number of bytes specified by the x-amz-decoded-content-length header.")]
    Incomplete,
    /// The `aws-chunked` trailer is not the one `x-amz-trailer` announced.
    #[error("The request contained trailing data that was not well-formed or did not conform to our published schema.")]
    MalformedTrailer,
}

/// The OSS error of a refused body.
pub fn body_error(e: &BodyRejected) -> OssError {
    match e {
        BodyRejected::Sha256Mismatch => OssError::XAmzContentSha256Mismatch,
        BodyRejected::Chunk(e) => auth::signature_error(e.clone(), "", "", EC_S3_CHUNK_SIGNATURE_MISMATCH),
        BodyRejected::Checksum(_) => OssError::BadDigest(e.to_string()),
        BodyRejected::Incomplete => OssError::IncompleteBody(e.to_string()),
        BodyRejected::MalformedTrailer => OssError::MalformedTrailer,
    }
}

/// A declared `x-amz-checksum-*` and its running digest.
enum Running {
    Crc32(crc::Digest<'static, u32>, &'static str),
    Crc32c(crc::Digest<'static, u32>, &'static str),
    Sha1(sha1::Sha1),
    Sha256(Sha256),
}

static CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
static CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

impl Running {
    fn of(algorithm: &str) -> Option<Running> {
        Some(match algorithm {
            "crc32" => Running::Crc32(CRC32.digest(), "CRC32"),
            "crc32c" => Running::Crc32c(CRC32C.digest(), "CRC32C"),
            "sha1" => Running::Sha1(sha1::Sha1::default()),
            "sha256" => Running::Sha256(Sha256::new()),
            _ => return None,
        })
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Running::Crc32(d, _) | Running::Crc32c(d, _) => d.update(data),
            Running::Sha1(h) => sha1::Digest::update(h, data),
            Running::Sha256(h) => h.update(data),
        }
    }

    fn finish(self) -> (String, &'static str) {
        match self {
            Running::Crc32(d, n) | Running::Crc32c(d, n) => (BASE64.encode(d.finalize().to_be_bytes()), n),
            Running::Sha1(h) => (BASE64.encode(sha1::Digest::finalize(h)), "SHA1"),
            Running::Sha256(h) => (BASE64.encode(h.finalize()), "SHA256"),
        }
    }
}

/// The body checks one request needs, fed as the bytes arrive.
struct Checker {
    decoder: Option<ChunkDecoder>,
    sha256: Option<(Sha256, String)>,
    /// Checksums declared in headers (algorithm, expected, digest).
    declared: Vec<(String, Running)>,
    /// The trailer `x-amz-trailer` announced (lower-case) and, when rolestack checks its
    /// algorithm, its running digest.
    trailer: Option<(String, Option<Running>)>,
    decoded_length: Option<u64>,
    seen: u64,
}

impl Checker {
    fn feed(&mut self, input: &[u8]) -> Result<Bytes, BodyRejected> {
        let data = match &mut self.decoder {
            Some(d) => {
                let mut out = Vec::with_capacity(input.len());
                d.push(input, &mut out).map_err(BodyRejected::Chunk)?;
                Bytes::from(out)
            }
            None => Bytes::copy_from_slice(input),
        };
        if let Some((h, _)) = &mut self.sha256 {
            h.update(&data);
        }
        for (_, r) in &mut self.declared {
            r.update(&data);
        }
        if let Some((_, Some(r))) = &mut self.trailer {
            r.update(&data);
        }
        self.seen += data.len() as u64;
        Ok(data)
    }

    fn finish(&mut self) -> Result<(), BodyRejected> {
        if let Some(d) = &self.decoder {
            d.finish().map_err(BodyRejected::Chunk)?;
        }
        if let Some((h, expected)) = self.sha256.take() {
            if hex::encode(h.finalize()) != *expected {
                return Err(BodyRejected::Sha256Mismatch);
            }
        }
        if self.decoded_length.is_some_and(|n| n != self.seen) {
            return Err(BodyRejected::Incomplete);
        }
        for (expected, r) in std::mem::take(&mut self.declared) {
            let (got, name) = r.finish();
            if got != expected.trim() {
                return Err(BodyRejected::Checksum(name));
            }
        }
        let announced = self.trailer.take();
        let sent = self.decoder.as_ref().map_or(&[][..], |d| d.trailers());
        // Every trailer is the announced one, and the announced one came (the last of its name counts).
        if sent.iter().any(|(n, _)| announced.as_ref().is_none_or(|(a, _)| a != n)) {
            return Err(BodyRejected::MalformedTrailer);
        }
        if let Some((name, digest)) = announced {
            let value = sent.iter().rev().find(|(n, _)| *n == name).map(|(_, v)| v).ok_or(BodyRejected::MalformedTrailer)?;
            if let Some(r) = digest {
                let (got, label) = r.finish();
                if value.trim() != got {
                    return Err(BodyRejected::Checksum(label));
                }
            }
        }
        Ok(())
    }
}

/// What a request's `x-amz-checksum-*` headers describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyChecksums {
    /// The request's body: checked against it.
    Body,
    /// The object a CompleteMultipartUpload assembles (`FULL_OBJECT` or `COMPOSITE`), not its XML
    /// body: not checked (rolestack keeps no part checksums to combine).
    Object,
}

/// The checksum algorithms an `x-amz-trailer` may announce; `crc64nvme` is accepted and not checked.
const TRAILER_ALGORITHMS: [&str; 5] = ["crc32", "crc32c", "sha1", "sha256", "crc64nvme"];

/// The trailer an `x-amz-trailer` value announces (lower-case), with its running digest when
/// rolestack checks that algorithm. One `x-amz-checksum-*` name, trailing commas allowed; anything
/// else is `InvalidRequest` (docs/s3-compatible.md).
fn announced_trailer(value: &str) -> OssResult<(String, Option<Running>)> {
    let name = value.trim().trim_end_matches([',', ' ']).to_ascii_lowercase();
    match name.strip_prefix("x-amz-checksum-") {
        Some(algorithm) if TRAILER_ALGORITHMS.contains(&algorithm) => {
            let digest = Running::of(algorithm);
            Ok((name, digest))
        }
        _ => Err(OssError::InvalidRequest("The value specified in the x-amz-trailer header is not supported".into())),
    }
}

/// Wraps an S3 request's body so that it yields the decoded bytes and fails (with a
/// [`BodyRejected`] inside the error) when the body is not what the signature promised. A
/// handler that stores the body commits nothing when its stream fails. A trailer is read only
/// from a `STREAMING-*-TRAILER` body, and must then be the one `x-amz-trailer` announces.
pub fn checked_body(body: Body, check: &BodyCheck, headers: &[(String, String)], checksums: BodyChecksums) -> OssResult<Body> {
    let header = |n: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.trim().to_string());
    let mut checker = Checker { decoder: None, sha256: None, declared: Vec::new(), trailer: None, decoded_length: None, seen: 0 };
    if let BodyCheck::V4(verified) = check {
        match &verified.payload {
            Payload::Unsigned => {}
            Payload::Sha256(hash) => checker.sha256 = Some((Sha256::new(), hash.clone())),
            Payload::Streaming { signed, trailer } => {
                checker.decoder = Some(ChunkDecoder::new(verified, *signed, *trailer));
                checker.decoded_length = match header("x-amz-decoded-content-length") {
                    Some(v) => {
                        Some(v.parse().map_err(|_| OssError::InvalidArgument("x-amz-decoded-content-length is not a number.".into()))?)
                    }
                    None => None,
                };
                if *trailer {
                    checker.trailer = header("x-amz-trailer").map(|v| announced_trailer(&v)).transpose()?;
                }
            }
        }
    }
    // An announced trailer that no trailer-carrying body can bring.
    if checker.trailer.is_none() && header("x-amz-trailer").is_some() {
        return Err(OssError::MalformedTrailer);
    }
    for (name, value) in headers.iter().filter(|_| checksums == BodyChecksums::Body) {
        let lower = name.to_ascii_lowercase();
        if let Some(r) = lower.strip_prefix("x-amz-checksum-").and_then(Running::of) {
            checker.declared.push((value.clone(), r));
        }
    }
    if checker.decoder.is_none() && checker.sha256.is_none() && checker.declared.is_empty() {
        return Ok(body);
    }
    let stream = futures_util::stream::unfold((body.into_data_stream(), checker, false), |(mut inner, mut checker, done)| async move {
        if done {
            return None;
        }
        loop {
            match inner.next().await {
                Some(Ok(bytes)) => match checker.feed(&bytes) {
                    Ok(data) if data.is_empty() => continue,
                    Ok(data) => return Some((Ok(data), (inner, checker, false))),
                    Err(e) => return Some((Err(axum::Error::new(e)), (inner, checker, true))),
                },
                Some(Err(e)) => return Some((Err(e), (inner, checker, true))),
                None => {
                    return match checker.finish() {
                        Ok(()) => None,
                        Err(e) => Some((Err(axum::Error::new(e)), (inner, checker, true))),
                    }
                }
            }
        }
    });
    Ok(Body::from_stream(stream))
}

/// The [`BodyRejected`] inside a body stream's error, if that is why it failed.
pub fn rejected<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyRejected> {
    let mut source: Option<&'a (dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(r) = err.downcast_ref::<BodyRejected>() {
            return Some(r);
        }
        source = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn request_headers() {
        let h = owned(&[
            ("X-Amz-Meta-Color", "blue"),
            ("x-amz-acl", "public-read"),
            ("x-amz-copy-source", "b/k%20x"),
            ("x-amz-storage-class", "STANDARD_IA"),
            ("x-amz-date", "20240101T000000Z"),
            ("x-oss-forbid-overwrite", "true"),
            ("x-oss-meta-signed", "1"),
            ("Content-Type", "text/plain"),
        ]);
        let out = translate_request_headers(&h, &["x-oss-meta-signed".to_string()], true);
        assert_eq!(
            out,
            owned(&[
                ("x-oss-meta-color", "blue"),
                ("x-oss-object-acl", "public-read"),
                ("x-oss-copy-source", "/b/k%20x"),
                ("x-oss-storage-class", "IA"),
                ("x-oss-meta-signed", "1"),
                ("Content-Type", "text/plain"),
            ])
        );
        assert_eq!(translate_request_headers(&h[1..2], &[], false), owned(&[("x-oss-acl", "public-read")]));
        // aws-chunked is the upload's framing, not stored as the object's encoding
        let chunked = owned(&[("Content-Encoding", "gzip, aws-chunked")]);
        assert_eq!(translate_request_headers(&chunked, &[], true), owned(&[("Content-Encoding", "gzip")]));
        assert!(translate_request_headers(&owned(&[("content-encoding", "aws-chunked")]), &[], true).is_empty());
    }

    #[test]
    fn response_headers() {
        let mut h = HeaderMap::new();
        h.insert("x-oss-meta-color", HeaderValue::from_static("blue"));
        h.insert("x-oss-request-id", HeaderValue::from_static("0123"));
        translate_response_headers(&mut h);
        assert_eq!(h["x-amz-meta-color"], "blue");
        assert_eq!(h["x-amz-request-id"], "0123");
        assert_eq!(h["x-oss-meta-color"], "blue");
    }

    #[test]
    fn announced_trailers() {
        let (name, digest) = announced_trailer(" X-Amz-Checksum-CRC32, ").unwrap();
        assert_eq!(name, "x-amz-checksum-crc32");
        assert!(digest.is_some());
        let (name, digest) = announced_trailer("x-amz-checksum-crc64nvme").unwrap();
        assert_eq!((name.as_str(), digest.is_none()), ("x-amz-checksum-crc64nvme", true));
        for bad in ["x-amz-meta-a", "x-amz-checksum-md4", "x-amz-checksum-crc32, x-amz-checksum-sha256", ""] {
            assert!(matches!(announced_trailer(bad), Err(OssError::InvalidRequest(_))), "{bad}");
        }
    }

    #[test]
    fn checksums() {
        let mut r = Running::of("crc32").unwrap();
        r.update(b"hello world");
        assert_eq!(r.finish().0, "DUoRhQ==");
        let mut r = Running::of("sha256").unwrap();
        r.update(b"");
        assert_eq!(r.finish().0, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }
}
