//! Versioning: Put/GetBucketVersioning (`?versioning`) and ListObjectVersions (`?versions`).
//! The `versionId` of object requests is read once, into the core call (see [`Ctx::call`]).

use axum::body::Body;
use rolestack_core::oss::listing::{parse_max_keys, VersionQuery};
use rolestack_core::oss::versioning::{validate_version_id, VersioningStatus};
use rolestack_core::oss::{OssError, OssResult};

use super::super::respond::Reply;
use super::super::xml::{self, iso8601, quoted, to_xml};
use super::{enc, read_document, Ctx};

/// Longest prefix, key marker and delimiter of ListObjectVersions (bytes).
const MAX_MARKER: usize = 1024;

pub async fn put_bucket_versioning(cx: Ctx, body: Body) -> OssResult<Reply> {
    let doc: xml::VersioningConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    let status = VersioningStatus::parse(doc.status.as_deref())?;
    cx.call(move |oss, call| oss.put_bucket_versioning(call, status)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_versioning(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let bucket = cx.call(|oss, call| oss.bucket(call)).await?;
    let doc = xml::VersioningConfiguration { status: bucket.versioning.map(|v| v.as_str().to_string()) };
    Ok(Reply::xml(to_xml("VersioningConfiguration", &doc)))
}

pub async fn list_object_versions(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    let url = req.url_encoding()?;
    let param = |name: &str| req.param(name).unwrap_or_default().to_string();
    let (prefix, delimiter, key_marker, version_id_marker) =
        (param("prefix"), param("delimiter"), param("key-marker"), param("version-id-marker"));
    for (name, value) in [("prefix", &prefix), ("key-marker", &key_marker), ("delimiter", &delimiter)] {
        if value.len() > MAX_MARKER {
            let message = format!("Argument {name} is longer than {MAX_MARKER} bytes.");
            // OSS documents the EC of a long prefix; the others keep the generic one.
            return Err(match name {
                "prefix" => OssError::InvalidArgumentEc { message, ec: "0012-00000103" },
                _ => OssError::InvalidArgument(message),
            });
        }
    }
    if !version_id_marker.is_empty() {
        validate_version_id(&version_id_marker)?;
    }
    let max_keys = parse_max_keys(req.param("max-keys"), (!req.s3).then_some("0012-00000102"))?;
    let query = VersionQuery {
        prefix: prefix.clone(),
        delimiter: delimiter.clone(),
        key_marker: key_marker.clone(),
        version_id_marker: version_id_marker.clone(),
        max_keys,
    };
    let (owner, listing) = cx.call(move |oss, call| oss.list_object_versions(call, &query)).await?;
    let now = cx.oss.now();
    let entries = listing
        .versions
        .iter()
        .map(|v| {
            let o = &v.object;
            if o.delete_marker {
                xml::VersionEntry::DeleteMarker(xml::ListedDeleteMarker {
                    key: enc(&o.key, url),
                    version_id: o.version().to_string(),
                    is_latest: v.is_latest,
                    last_modified: iso8601(o.last_modified),
                    owner: xml::Owner::of(&owner),
                })
            } else {
                xml::VersionEntry::Version(xml::ListedVersion {
                    key: enc(&o.key, url),
                    version_id: o.version().to_string(),
                    is_latest: v.is_latest,
                    last_modified: iso8601(o.last_modified),
                    etag: quoted(&o.etag),
                    object_type: o.object_type.as_str().into(),
                    size: o.size,
                    storage_class: o.storage_class.clone(),
                    owner: xml::Owner::of(&owner),
                    restore_info: super::object::restore_info(o, now),
                })
            }
        })
        .collect();
    let result = xml::ListVersionsResult {
        name: req.bucket().to_string(),
        prefix: enc(&prefix, url),
        key_marker: enc(&key_marker, url),
        version_id_marker,
        max_keys,
        delimiter: enc(&delimiter, url),
        encoding_type: url.then(|| "url".into()),
        is_truncated: listing.truncated,
        next_key_marker: listing.next.as_ref().map(|(k, _)| enc(k, url)),
        next_version_id_marker: listing.next.map(|(_, v)| v),
        entries,
        common_prefixes: listing.common_prefixes.iter().map(|p| xml::CommonPrefix { prefix: enc(p, url) }).collect(),
    };
    Ok(Reply::xml(to_xml("ListVersionsResult", &result)))
}
