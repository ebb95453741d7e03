//! The one place OSS request headers become typed values: object settings (`Content-Type`,
//! `x-oss-meta-*`, stored standard headers, `x-oss-object-acl`, server-side encryption), the
//! one byte range (`Range`, `x-oss-copy-source-range`), the one set of preconditions (`If-*`,
//! `x-oss-copy-source-if-*`), `Content-MD5`, the copy source and the write flags. Handlers never
//! read a header by name for its meaning; they ask here.

use rolestack_core::oss::archive;
use rolestack_core::oss::bucket_config::Encryption;
use rolestack_core::oss::callback::Callback;
use rolestack_core::oss::kms::KEY_ID_HEADER;
use rolestack_core::oss::model::{validate_user_meta, validate_user_meta_names, Acl, ObjectSettings};
use rolestack_core::oss::request::{ByteRange, Conditions, CopyRange, RangeRequest};
use rolestack_core::oss::service::{encryption_headers, parse_content_md5, CopySource, SSE_HEADER};
use rolestack_core::oss::tagging::{self, Tags};
use rolestack_core::oss::{OssError, OssResult};
use rolestack_sign::encoding::decode_path;

use super::request::{decode_key, OssHttpRequest};

/// Standard headers an object keeps and returns on GET/HEAD.
const STORED: [&str; 5] = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];

/// The upload callback a write asks for: `x-oss-callback` / `x-oss-callback-var`, or the
/// `callback` / `callback-var` query parameters of a presigned URL (`InvalidArgument` when
/// malformed, before anything is stored).
pub fn callback(req: &OssHttpRequest) -> OssResult<Option<Callback>> {
    let Some(cb) = req.header("x-oss-callback").or_else(|| req.param("callback")) else { return Ok(None) };
    let vars = req.header("x-oss-callback-var").or_else(|| req.param("callback-var"));
    Callback::parse(cb, vars).map(Some)
}

/// `Content-MD5`, decoded (`InvalidDigest`, EC 0017-00000502, when it is not base64 of 16 bytes).
pub fn content_md5(req: &OssHttpRequest) -> OssResult<Option<[u8; 16]>> {
    req.header("content-md5").map(parse_content_md5).transpose()
}

/// A canned ACL header (`x-oss-acl`, `x-oss-object-acl`); `default` only for objects.
pub fn acl(req: &OssHttpRequest, name: &str, allow_default: bool) -> OssResult<Option<Acl>> {
    req.header(name).map(|a| Acl::parse(a, allow_default)).transpose()
}

/// A canned ACL header the operation requires.
pub fn required_acl(req: &OssHttpRequest, name: &str, allow_default: bool) -> OssResult<Acl> {
    acl(req, name, allow_default)?.ok_or_else(|| OssError::InvalidArgument(format!("{name} is required.")))
}

/// Content type, `x-oss-meta-*`, standard headers and ACL of a write.
pub fn settings(req: &OssHttpRequest) -> OssResult<ObjectSettings> {
    let mut s =
        ObjectSettings { content_type: req.header("content-type").filter(|c| !c.is_empty()).map(str::to_string), ..Default::default() };
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if let Some(meta) = lower.strip_prefix("x-oss-meta-") {
            s.user_meta.push((meta.to_string(), value.clone()));
        } else if STORED.contains(&lower.as_str()) {
            s.headers.push((lower, value.clone()));
        }
    }
    if !req.s3 {
        validate_user_meta_names(&s.user_meta)?;
    }
    validate_user_meta(&s.user_meta)?;
    if let Some(acl) = acl(req, "x-oss-object-acl", true)? {
        s.acl = acl;
    }
    s.storage_class = storage_class(req)?;
    // Server-side encryption is recorded and echoed, not performed (bodies are stored as sent).
    if let Some(e) = encryption(req)? {
        s.headers.extend(encryption_headers(&e));
    }
    Ok(s)
}

/// `x-oss-server-side-encryption` with `-key-id` and `x-oss-server-side-data-encryption`
/// (PutBucket's default encryption; an object's own), checked as OSS checks them.
pub fn encryption(req: &OssHttpRequest) -> OssResult<Option<Encryption>> {
    let Some(algorithm) = req.header(SSE_HEADER) else { return Ok(None) };
    Encryption::new(algorithm, req.header(KEY_ID_HEADER), req.header("x-oss-server-side-data-encryption")).map(Some)
}

/// `x-oss-tagging` (`k1=v1&k2=v2`, URL-encoded parts), checked against the object tag limits.
pub fn tagging(req: &OssHttpRequest) -> OssResult<Tags> {
    req.header("x-oss-tagging").map_or(Ok(Tags::new()), |v| tagging::parse_header(v, decode_path))
}

/// The object settings of a new object with its `x-oss-tagging` tags (PutObject, the first
/// AppendObject, InitiateMultipartUpload).
pub fn settings_with_tags(req: &OssHttpRequest) -> OssResult<ObjectSettings> {
    Ok(ObjectSettings { tags: tagging(req)?, ..settings(req)? })
}

/// CopyObject's tags: `x-oss-tagging-directive: Replace` takes `x-oss-tagging`; otherwise
/// (`Copy`, the default) `None`, the source's.
pub fn copy_tagging(req: &OssHttpRequest) -> OssResult<Option<Tags>> {
    match req.header("x-oss-tagging-directive").map(str::to_ascii_uppercase).as_deref() {
        None | Some("COPY") => Ok(None),
        Some("REPLACE") => Ok(Some(tagging(req)?)),
        Some(other) => Err(OssError::InvalidArgument(format!("x-oss-tagging-directive {other:?} is not Copy or Replace."))),
    }
}

/// `x-oss-storage-class` (any letter case), canonical.
pub fn storage_class(req: &OssHttpRequest) -> OssResult<Option<String>> {
    req.header("x-oss-storage-class").map(archive::storage_class).transpose()
}

/// PutSymlink's `x-oss-symlink-target` (URL-encoded key), required.
pub fn symlink_target(req: &OssHttpRequest) -> OssResult<String> {
    req.header("x-oss-symlink-target")
        .map(|t| decode_key("x-oss-symlink-target", t))
        .transpose()?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OssError::InvalidArgument("PutSymlink needs x-oss-symlink-target.".into()))
}

/// `x-oss-forbid-overwrite`: `true` or `false` (any letter case); absent is `false`, any other
/// value `InvalidArgument` (EC `0017-00000279`; docs/oss.md, "objects").
pub fn forbid_overwrite(req: &OssHttpRequest) -> OssResult<bool> {
    match req.header("x-oss-forbid-overwrite") {
        None => Ok(false),
        Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
        Some(v) => Err(OssError::InvalidArgumentEc {
            message: format!("x-oss-forbid-overwrite {v:?} is invalid: it can only be true or false."),
            ec: "0017-00000279",
        }),
    }
}

fn http_date(req: &OssHttpRequest, name: &str) -> Option<i64> {
    let v = req.header(name)?;
    httpdate::parse_http_date(v).ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64)
}

/// The preconditions under `prefix` (`""` for GET/HEAD's `If-*`, `x-oss-copy-source-` for copies).
fn conditions(req: &OssHttpRequest, prefix: &str) -> Conditions {
    let h = |n: &str| req.header(&format!("{prefix}{n}")).map(str::to_string);
    Conditions {
        if_match: h("if-match"),
        if_none_match: h("if-none-match"),
        if_modified_since: http_date(req, &format!("{prefix}if-modified-since")),
        if_unmodified_since: http_date(req, &format!("{prefix}if-unmodified-since")),
    }
}

/// GET / HEAD's `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`.
pub fn get_conditions(req: &OssHttpRequest) -> Conditions {
    conditions(req, "")
}

/// GET's `Range` with `x-oss-range-behavior` (the S3-compatible dialect always follows HTTP's
/// range rules, as S3 does).
pub fn range(req: &OssHttpRequest) -> RangeRequest {
    let standard = req.s3 || req.header("x-oss-range-behavior") == Some("standard");
    RangeRequest { range: req.header("range").and_then(ByteRange::parse), standard }
}

/// `x-oss-copy-source: /<bucket>/<url-encoded key>[?versionId=...]` with its
/// `x-oss-copy-source-if-*` conditions.
pub fn copy_source(req: &OssHttpRequest) -> OssResult<CopySource> {
    let raw = req.header("x-oss-copy-source").unwrap_or_default();
    let (raw, query) = raw.split_once('?').map_or((raw, None), |(p, q)| (p, Some(q)));
    // `?versionId=<id>` names a version of the source.
    let version_id = match query {
        None => None,
        Some(q) => match q.strip_prefix("versionId=") {
            Some(v) if !v.contains('&') => Some(decode_path(v)),
            _ => return Err(OssError::InvalidArgument(format!("x-oss-copy-source's query {q:?} is not versionId=<id>."))),
        },
    };
    let decoded = decode_key("x-oss-copy-source", raw.strip_prefix('/').unwrap_or(raw))?;
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => {
            Ok(CopySource { bucket: b.to_string(), key: k.to_string(), version_id, conditions: conditions(req, "x-oss-copy-source-") })
        }
        _ => Err(OssError::InvalidArgument(format!("x-oss-copy-source {raw:?} is not /<bucket>/<key>."))),
    }
}

/// UploadPartCopy's `x-oss-copy-source-range: bytes=<first>-[<last>]` (a suffix range is not
/// accepted here); the S3 dialect's must lie inside the source ([`CopyRange`]).
pub fn copy_source_range(req: &OssHttpRequest) -> OssResult<Option<CopyRange>> {
    match req.header("x-oss-copy-source-range") {
        None => Ok(None),
        Some(spec) => match ByteRange::parse(spec) {
            Some(range @ ByteRange::From { .. }) => Ok(Some(CopyRange { range, inside: req.s3 })),
            _ => Err(OssError::InvalidArgument(format!("x-oss-copy-source-range {spec:?} is not bytes=<first>-<last>."))),
        },
    }
}

/// `x-oss-complete-all: yes`.
pub fn complete_all(req: &OssHttpRequest) -> bool {
    req.header("x-oss-complete-all").is_some_and(|v| v.eq_ignore_ascii_case("yes"))
}
