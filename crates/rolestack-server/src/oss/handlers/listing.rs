//! Listings: ListObjects (v1 and v2), ListMultipartUploads, ListParts.

use axum::body::Body;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rolestack_core::oss::listing::{parse_max_keys, ListQuery};
use rolestack_core::oss::service::UploadQuery;
use rolestack_core::oss::{Operation, OssError, OssResult};

use super::super::respond::Reply;
use super::super::xml::{self, iso8601, quoted, to_xml};
use super::{enc, Ctx};

/// Shortest `prefix`, `marker` and `start-after` of ListObjects (v1, v2) OSS refuses (bytes):
/// no key is that long.
const LIST_ARGUMENT_LIMIT: usize = 1024;

/// `prefix`, `marker` and `start-after` shorter than [`LIST_ARGUMENT_LIMIT`], else
/// `InvalidArgument` with OSS's EC for the argument (see docs/oss.md, "listing").
fn check_list_argument(name: &str, value: &str) -> OssResult<()> {
    if value.len() < LIST_ARGUMENT_LIMIT {
        return Ok(());
    }
    let ec = if name == "prefix" { "0015-00000403" } else { "0015-00000405" };
    Err(OssError::InvalidArgumentEc {
        message: format!("Argument {name} must be shorter than {LIST_ARGUMENT_LIMIT} bytes; it has {}.", value.len()),
        ec,
    })
}

pub async fn list_objects(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    let v2 = cx.op == Operation::ListObjectsV2;
    // OSS lists by V2 for `list-type=2` and refuses any other value (UNVERIFIED: OSS documents the
    // EC, not the code); the S3-compatible dialect keeps S3's leniency.
    match req.param("list-type") {
        Some(t) if t != "2" && !req.s3 => {
            return Err(OssError::InvalidArgumentEc {
                message: format!("The list-type parameter only accepts 2, not {t:?}."),
                ec: "0015-00000401",
            })
        }
        _ => {}
    }
    let url = req.url_encoding()?;
    let prefix = req.param("prefix").unwrap_or_default().to_string();
    let delimiter = req.param("delimiter").unwrap_or_default().to_string();
    let max_keys = parse_max_keys(req.param("max-keys"), (!req.s3).then_some("0015-00000402"))?;
    let marker = req.param("marker").unwrap_or_default().to_string();
    for name in ["prefix", "marker", "start-after"] {
        check_list_argument(name, req.param(name).unwrap_or_default())?;
    }
    // OSS groups by one character; the S3 dialect keeps S3's longer delimiters.
    if !req.s3 && delimiter.chars().count() > 1 {
        return Err(OssError::InvalidArgumentEc {
            message: format!("Argument delimiter {delimiter:?} must be one character."),
            ec: "0015-00000406",
        });
    }
    let token = req.param("continuation-token").filter(|t| !t.is_empty()).map(str::to_string);
    let start_after = req.param("start-after").unwrap_or_default().to_string();
    let after = if v2 {
        match &token {
            Some(t) => {
                let raw = URL_SAFE_NO_PAD.decode(t).ok().and_then(|b| String::from_utf8(b).ok());
                raw.ok_or_else(|| OssError::InvalidArgument("The continuation-token is not valid.".into()))?
            }
            None => start_after.clone(),
        }
    } else {
        marker.clone()
    };
    let query = ListQuery { prefix: prefix.clone(), delimiter: delimiter.clone(), after, max_keys };
    let (bucket_owner, listing) = cx.call(move |oss, call| oss.list_objects(call, &query)).await?;
    let fetch_owner = !v2 || req.param("fetch-owner") == Some("true");
    let now = cx.oss.now();
    let contents = listing
        .objects
        .iter()
        .map(|o| xml::Contents {
            key: enc(&o.key, url),
            last_modified: iso8601(o.last_modified),
            etag: quoted(&o.etag),
            object_type: o.object_type.as_str().into(),
            size: o.size,
            storage_class: o.storage_class.clone(),
            owner: fetch_owner.then(|| xml::Owner::of(&bucket_owner)),
            restore_info: super::object::restore_info(o, now),
        })
        .collect();
    let common_prefixes = listing.common_prefixes.iter().map(|p| xml::CommonPrefix { prefix: enc(p, url) }).collect();
    let next = listing.next_marker.as_deref();
    let result = xml::ListBucketResult {
        name: req.bucket().to_string(),
        prefix: enc(&prefix, url),
        marker: (!v2).then(|| enc(&marker, url)),
        continuation_token: if v2 { token } else { None },
        start_after: (v2 && !start_after.is_empty()).then(|| enc(&start_after, url)),
        max_keys,
        delimiter: enc(&delimiter, url),
        encoding_type: url.then(|| "url".into()),
        is_truncated: listing.truncated,
        next_marker: if v2 { None } else { next.map(|n| enc(n, url)) },
        next_continuation_token: if v2 { next.map(|n| URL_SAFE_NO_PAD.encode(n)) } else { None },
        key_count: v2.then(|| listing.key_count()),
        contents,
        common_prefixes,
    };
    Ok(Reply::xml(to_xml("ListBucketResult", &result)))
}

/// A `max-parts` / `max-uploads` / `max-keys` style limit: 1 to 1000, `default` when absent.
pub(super) fn limit(value: Option<&str>, name: &str, default: usize) -> OssResult<usize> {
    match value.filter(|m| !m.is_empty()) {
        None => Ok(default),
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| OssError::InvalidArgument(format!("{name} {m:?} is not between 1 and 1000."))),
    }
}

pub async fn list_parts(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    let marker: u32 = req
        .param("part-number-marker")
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), |m| m.parse().map_err(|_| OssError::InvalidArgument(format!("part-number-marker {m:?} is not a number."))))?;
    let max_parts = limit(req.param("max-parts"), "max-parts", 1000)?;
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let listing = cx.call(move |oss, call| oss.list_parts(call, &upload_id, marker, max_parts)).await?;
    let result = xml::ListPartsResult {
        bucket: req.bucket().to_string(),
        key: listing.upload.key.clone(),
        upload_id: listing.upload.upload_id.clone(),
        part_number_marker: marker,
        next_part_number_marker: listing.next_marker,
        max_parts,
        is_truncated: listing.truncated,
        part: listing
            .parts
            .iter()
            .map(|p| xml::PartEntry {
                part_number: p.number,
                last_modified: iso8601(p.last_modified),
                etag: quoted(&p.etag),
                hash_crc64ecma: p.crc64.to_string(),
                size: p.segment.size,
            })
            .collect(),
    };
    Ok(Reply::xml(to_xml("ListPartsResult", &result)))
}

pub async fn list_uploads(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    let url = req.url_encoding()?;
    let p = |n: &str| req.param(n).unwrap_or_default().to_string();
    let query = UploadQuery {
        prefix: p("prefix"),
        delimiter: p("delimiter"),
        key_marker: p("key-marker"),
        upload_id_marker: p("upload-id-marker"),
        max_uploads: limit(req.param("max-uploads"), "max-uploads", 1000)?,
    };
    let max_uploads = query.max_uploads;
    let listing = cx.call(move |oss, call| oss.list_uploads(call, &query)).await?;
    let result = xml::ListMultipartUploadsResult {
        bucket: req.bucket().to_string(),
        encoding_type: url.then(|| "url".into()),
        key_marker: enc(&p("key-marker"), url),
        upload_id_marker: p("upload-id-marker"),
        next_key_marker: enc(&listing.next_key_marker, url),
        next_upload_id_marker: listing.next_upload_id_marker.clone(),
        delimiter: enc(&p("delimiter"), url),
        prefix: enc(&p("prefix"), url),
        max_uploads,
        is_truncated: listing.truncated,
        upload: listing
            .uploads
            .iter()
            .map(|u| xml::UploadEntry {
                key: enc(&u.key, url),
                upload_id: u.upload_id.clone(),
                storage_class: u.settings.storage_class.clone().unwrap_or_else(|| "Standard".into()),
                initiated: iso8601(u.initiated),
            })
            .collect(),
        common_prefixes: listing.common_prefixes.iter().map(|p| xml::CommonPrefix { prefix: enc(p, url) }).collect(),
    };
    Ok(Reply::xml(to_xml("ListMultipartUploadsResult", &result)))
}
