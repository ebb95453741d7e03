//! Objects: PutObject, PostObject, GetObject / HeadObject, GetObjectMeta, DeleteObject,
//! DeleteMultipleObjects, CopyObject, AppendObject, Get/PutObjectAcl.

use axum::body::Body;
use axum::http::Method;
use rolestack_core::oss::access::Requester;
use rolestack_core::oss::archive::{RestoreOutcome, RestoreRequest, RestoreState};
use rolestack_core::oss::model::{Object, ObjectType};
use rolestack_core::oss::service::{Call, CopyTarget, MetadataDirective};
use rolestack_core::oss::{Oss, OssError, OssResult};

use rolestack_sign::encoding::encode;

use super::super::respond::{self, Reply};
use super::super::xml::{self, iso8601, quoted, to_xml};
use super::super::{compress, headers};
use super::{call_back, enc, http_time, named_version, read_document, version_header, write_body, write_reply, Ctx};

/// Keys per DeleteMultipleObjects.
const MAX_DELETE_KEYS: usize = 1000;

pub async fn put_object(cx: Ctx, body: Body) -> OssResult<Reply> {
    let callback = headers::callback(&cx.req)?;
    let (object, digests) = write_object(&cx, body, |_| Ok(())).await?;
    let reply = version_header(write_reply(&object.etag, Some(&digests), object.crc64), &object);
    call_back(&cx, callback, &object, Some(&digests), reply).await
}

/// PostObject: the form's file written as PutObject writes a body (the request carries the
/// form's key and fields as headers, see [`crate::oss::post`]), its size checked against the
/// policy before the object is committed; answered as `success_action_redirect` /
/// `success_action_status` ask.
pub async fn post_object(cx: Ctx, body: Body) -> OssResult<Reply> {
    let form = cx.req.post_form.clone().ok_or_else(|| OssError::Internal("PostObject without its form".into()))?;
    let callback = headers::callback(&cx.req)?;
    let limits = form.clone();
    let written = write_object(&cx, body, move |size| limits.check_size(size)).await;
    let (object, digests) = written.map_err(|e| form.body_error(e))?;
    let reply = version_header(write_reply(&object.etag, Some(&digests), object.crc64), &object);
    let reply = form.answer(reply, &cx.req, &object.etag);
    call_back(&cx, callback, &object, Some(&digests), reply).await
}

/// The write of PutObject (and PostObject): the request's object settings, authorization,
/// the body streamed to a blob, `check` on its size, then the commit.
async fn write_object(
    cx: &Ctx,
    body: Body,
    check: impl FnOnce(u64) -> OssResult<()> + Send + 'static,
) -> OssResult<(Object, rolestack_core::oss::blob::Digests)> {
    let settings = headers::settings_with_tags(&cx.req)?;
    let md5 = headers::content_md5(&cx.req)?;
    let forbid = headers::forbid_overwrite(&cx.req)?;
    let started = std::time::Instant::now();
    let ticket = cx.read(|oss, call| oss.authorize_write(call)).await?;
    let authorized = started.elapsed();
    let written = write_body(&cx.oss, body, move |oss, stored| {
        check(stored.digests.size)?; // dropping `stored` removes its blob
        oss.put_object(&ticket, stored, settings, md5, forbid)
    })
    .await?;
    // Where a PUT's time goes (ROLESTACK_LOG=rolestack_server::oss=debug), in µs from its start;
    // the body's own steps are logged as "oss body stored".
    tracing::debug!(request_id = %cx.request_id, authorized = authorized.as_micros(),
        committed = started.elapsed().as_micros(), "oss put timings");
    Ok(written)
}

/// `x-oss-restore` of an archived object at `now`: `ongoing-request="true"` while it is being
/// restored, `ongoing-request="false", expiry-date="<HTTP date>"` while it is readable.
pub fn restore_info(o: &Object, now: i64) -> Option<String> {
    match o.restore.as_ref()?.state(now)? {
        RestoreState::Ongoing => Some("ongoing-request=\"true\"".into()),
        RestoreState::Restored { expires_at } => Some(format!("ongoing-request=\"false\", expiry-date=\"{}\"", http_time(expires_at))),
    }
}

/// The metadata headers of GET / HEAD.
fn object_headers(mut r: Reply, o: &Object, now: i64) -> Reply {
    r = r
        .header("etag", quoted(&o.etag))
        .header("last-modified", http_time(o.last_modified))
        .header("x-oss-object-type", o.object_type.as_str())
        .header("x-oss-storage-class", o.storage_class.clone())
        .header("x-oss-hash-crc64ecma", o.crc64.to_string())
        .header("accept-ranges", "bytes");
    if o.object_type == ObjectType::Appendable {
        r = r.header("x-oss-next-append-position", o.size.to_string());
    }
    if !o.tags.is_empty() {
        r = r.header("x-oss-tagging-count", o.tags.len().to_string());
    }
    if let Some(info) = restore_info(o, now) {
        r = r.header("x-oss-restore", info);
    }
    for (k, v) in &o.user_meta {
        r = r.header(&format!("x-oss-meta-{k}"), v.clone());
    }
    for (k, v) in &o.headers {
        r = r.header(k, v.clone());
    }
    version_header(r, o)
}

/// The `response-*` parameters that override a GET's response headers, with the header each sets.
const RESPONSE_OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
];

/// Whether a browser would show a body of this `Content-Type` as a page that runs scripts: HTML,
/// XHTML, SVG and every XML type (XML documents may carry XHTML scripts), and a missing or
/// malformed type (which browsers sniff).
fn renders_as_page(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let Some((kind, sub)) = essence.split_once('/') else { return true };
    kind.is_empty()
        || sub.is_empty()
        || essence == "text/html"
        || essence == "multipart/x-mixed-replace"
        || sub == "xml"
        || sub.ends_with("+xml")
        || sub == "xsl"
}

/// OSS's default domain forces web pages to download (`Content-Disposition: attachment`,
/// `x-oss-force-download: true`) so that a stored page cannot run in the service's origin — here
/// the console's origin too, whose session a stored page could otherwise use (docs/oss.md,
/// "Objects served to browsers"). `nosniff` keeps other types from being read as pages.
fn force_download_of_pages(mut reply: Reply) -> Reply {
    let content_type = reply.headers.iter().find(|(k, _)| k == "content-type").map(|(_, v)| v.as_str()).unwrap_or("");
    if renders_as_page(content_type) {
        let attachment =
            reply.headers.iter().any(|(k, v)| k == "content-disposition" && v.trim_start().to_ascii_lowercase().starts_with("attachment"));
        if !attachment {
            reply.headers.retain(|(k, _)| k != "content-disposition");
            reply = reply.header("content-disposition", "attachment");
        }
        reply = reply.header("x-oss-force-download", "true");
    }
    reply.header("x-content-type-options", "nosniff")
}

/// GetObject and HeadObject.
pub async fn get_object(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = cx.req.clone();
    // OSS sets no response header for an anonymous GET (docs/oss.md, "objects"): an unsigned
    // request may not make a public object answer as HTML. UNVERIFIED: code and EC.
    if matches!(*cx.who, Requester::Anonymous(_)) {
        if let Some((param, _)) = RESPONSE_OVERRIDES.iter().find(|(param, _)| req.has(param)) {
            return Err(OssError::InvalidRequest(format!("{param}: response headers cannot be overridden by an anonymous request.")));
        }
    }
    let (conditions, range) = (headers::get_conditions(&req), headers::range(&req));
    let plan = move |object: &Object| {
        conditions.check(object)?;
        range.resolve(object.size)
    };
    // The body is opened before anything is answered (see `Oss::open`); HEAD opens none. Both
    // run here when they wait on nothing but the store; a body not in memory yet is opened on
    // a blocking thread (which reads it in).
    let (object, range, reader) = if req.method == Method::HEAD {
        let head = move |oss: &Oss, call: Call<'_>| {
            let object = oss.head_object(call)?;
            let range = plan(&object)?;
            Ok((object, range, None))
        };
        cx.read(head).await?
    } else {
        let in_memory = if cx.reads_here() { cx.call_here(|oss, call| oss.open_cached(call, &plan))? } else { None };
        let opened = match in_memory {
            Some(opened) => opened,
            None => cx.call(move |oss, call| oss.open(call, plan)).await?,
        };
        (opened.object, opened.range, Some(opened.reader))
    };
    let (status, len) = match range {
        Some((first, last)) => (206, last - first + 1),
        None => (200, object.size),
    };
    let mut reply = Reply::empty(status).header("content-type", object.content_type.clone()).header("content-length", len.to_string());
    reply = object_headers(reply, &object, cx.oss.now());
    if let Some((first, last)) = range {
        reply = reply.header("content-range", format!("bytes {first}-{last}/{}", object.size));
    }
    for (param, header) in RESPONSE_OVERRIDES {
        if let Some(v) = req.param(param) {
            reply.headers.retain(|(k, _)| k != header);
            reply = reply.header(header, v);
        }
    }
    reply = force_download_of_pages(reply);
    if let Some(reader) = reader.filter(|_| len > 0) {
        reply.body = respond::stream(reader);
    }
    if compress::wanted(&req, &object, range.is_some()) {
        reply = compress::gzip(reply, req.method == Method::HEAD);
    }
    Ok(reply)
}

pub async fn get_object_meta(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let o = cx.call(|oss, call| oss.head_object(call)).await?;
    Ok(version_header(Reply::empty(200), &o)
        .header("etag", quoted(&o.etag))
        .header("content-length", o.size.to_string())
        .header("last-modified", http_time(o.last_modified))
        .header("x-oss-last-access-time", http_time(o.last_modified))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string()))
}

pub async fn delete_object(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let deletion = cx.call(|oss, call| oss.delete_object(call)).await?;
    let mut reply = Reply::empty(204);
    if deletion.delete_marker {
        reply = reply.header("x-oss-delete-marker", "true");
    }
    match deletion.version_id.or(deletion.delete_marker_version_id) {
        Some(v) => Ok(reply.header("x-oss-version-id", v)),
        None => Ok(reply),
    }
}

/// DeleteMultipleObjects. OSS requires `Content-MD5` (the S3-compatible dialect keeps S3's
/// leniency: newer S3 clients send a checksum header instead), `Quiet` to be `true` or `false`,
/// and every `Object` to name a `Key`; each refusal has its own EC (docs/oss.md, "objects").
pub async fn delete_objects(cx: Ctx, body: Body) -> OssResult<Reply> {
    let body = read_document(&cx.req, body).await?;
    if !cx.req.s3 && cx.req.header("content-md5").is_none() {
        return Err(OssError::DeleteWithoutContentMd5);
    }
    let doc: xml::Delete = xml::parse(&body)?;
    let malformed = |message: &str, ec| OssError::MalformedDelete { message: message.to_string(), ec };
    if doc.objects.is_empty() {
        return Err(malformed("a Delete request names at least one Object", "0016-00000615"));
    }
    if doc.objects.len() > MAX_DELETE_KEYS {
        return Err(OssError::MalformedXml(format!("a Delete request names 1 to {MAX_DELETE_KEYS} objects")));
    }
    let quiet = match doc.quiet.as_deref().map(str::trim) {
        None => false,
        Some(q) if q.eq_ignore_ascii_case("true") => true,
        Some(q) if q.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(malformed("Quiet is true or false", "0016-00000610")),
    };
    let mut targets: Vec<(String, Option<String>)> = Vec::with_capacity(doc.objects.len());
    for o in doc.objects {
        match o.key {
            None => return Err(malformed("every Object names its Key", "0016-00000613")),
            Some(k) if k.is_empty() => return Err(malformed("an Object's Key is empty", "0016-00000611")),
            Some(k) => targets.push((k, o.version_id)),
        }
    }
    let url = cx.req.url_encoding()?;
    let deleted = cx.call(move |oss, call| oss.delete_objects(call, &targets)).await?;
    let result = xml::DeleteResult {
        encoding_type: url.then(|| "url".into()),
        deleted: if quiet {
            Vec::new()
        } else {
            deleted
                .into_iter()
                .map(|d| xml::Deleted {
                    key: enc(&d.key, url),
                    version_id: d.version_id,
                    delete_marker: d.delete_marker.then_some(true),
                    delete_marker_version_id: d.delete_marker_version_id,
                })
                .collect()
        },
    };
    Ok(Reply::xml(to_xml("DeleteResult", &result)))
}

pub async fn copy_object(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let req = &cx.req;
    let source = headers::copy_source(req)?;
    let directive = match req.header("x-oss-metadata-directive").map(str::to_ascii_uppercase).as_deref() {
        None | Some("COPY") => MetadataDirective::Copy,
        Some("REPLACE") => MetadataDirective::Replace(headers::settings(req)?),
        Some(other) => return Err(OssError::InvalidArgument(format!("x-oss-metadata-directive {other:?} is not COPY or REPLACE."))),
    };
    let target = CopyTarget {
        directive,
        acl: headers::acl(req, "x-oss-object-acl", true)?,
        forbid_overwrite: headers::forbid_overwrite(req)?,
        tagging: headers::copy_tagging(req)?,
        storage_class: headers::storage_class(req)?,
        encryption: headers::encryption(req)?,
    };
    let source_version = source.version_id.clone();
    let object = cx.call(move |oss, call| oss.copy_object(call, &source, target)).await?;
    let result = xml::CopyObjectResult { etag: quoted(&object.etag), last_modified: iso8601(object.last_modified) };
    let mut reply = Reply::xml(to_xml("CopyObjectResult", &result))
        .header("etag", quoted(&object.etag))
        .header("x-oss-hash-crc64ecma", object.crc64.to_string());
    if let Some(v) = source_version {
        reply = reply.header("x-oss-copy-source-version-id", v);
    }
    Ok(version_header(reply, &object))
}

pub async fn append_object(cx: Ctx, body: Body) -> OssResult<Reply> {
    let position: u64 = cx
        .req
        .param("position")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| OssError::InvalidArgument("AppendObject needs position=<bytes>.".into()))?;
    // Only the append that creates the object sets its tags; later ones' `x-oss-tagging` is ignored.
    let settings = if position == 0 { headers::settings_with_tags(&cx.req)? } else { headers::settings(&cx.req)? };
    let md5 = headers::content_md5(&cx.req)?;
    let ticket = cx.read(move |oss, call| oss.authorize_append(call, position)).await?;
    let (object, digests) =
        write_body(&cx.oss, body, move |oss, stored| oss.append_object(&ticket, position, stored, settings, md5)).await?;
    let reply = write_reply(&object.etag, Some(&digests), object.crc64).header("x-oss-next-append-position", object.size.to_string());
    Ok(version_header(reply, &object))
}

pub async fn put_symlink(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let target = headers::symlink_target(&cx.req)?;
    let settings = headers::settings_with_tags(&cx.req)?;
    let forbid = headers::forbid_overwrite(&cx.req)?;
    let object = cx.call(move |oss, call| oss.put_symlink(call, &target, settings, forbid)).await?;
    Ok(version_header(Reply::empty(200).header("etag", quoted(&object.etag)), &object))
}

pub async fn get_symlink(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let (target, link) = cx.call(|oss, call| oss.get_symlink(call)).await?;
    Ok(version_header(Reply::empty(200).header("x-oss-symlink-target", encode(&target)), &link))
}

/// `GET ?x-oss-process` and ProcessObject (`POST ?x-oss-process`): authorized and the object
/// looked up like a read, then refused with OSS's answer to an unsupported processing action —
/// rolestack runs no image, video or document processing.
pub async fn process_object(cx: Ctx, body: Body) -> OssResult<Reply> {
    let process = match cx.req.param("x-oss-process").filter(|p| !p.is_empty()) {
        Some(p) => p.to_string(),
        // ProcessObject sends `x-oss-process=<action>` as its body.
        None => {
            let body = String::from_utf8_lossy(&read_document(&cx.req, body).await?).into_owned();
            body.strip_prefix("x-oss-process=").unwrap_or(&body).to_string()
        }
    };
    cx.call(|oss, call| oss.get_object(call)).await?;
    let action = process.split([',', '|', '/']).take(2).collect::<Vec<_>>().join("/");
    Err(OssError::ProcessNotSupported(action))
}

pub async fn restore_object(cx: Ctx, body: Body) -> OssResult<Reply> {
    let body = read_document(&cx.req, body).await?;
    let doc: xml::RestoreRequest = if body.iter().all(u8::is_ascii_whitespace) { Default::default() } else { xml::parse(&body)? };
    let req = RestoreRequest { days: doc.days, tier: doc.job_parameters.and_then(|j| j.tier) };
    let outcome = cx.call(move |oss, call| oss.restore_object(call, &req)).await?;
    Ok(named_version(
        match outcome {
            RestoreOutcome::Started(r) => {
                let reply = Reply::empty(202);
                match r.tier {
                    Some(tier) => reply.header("x-oss-object-restore-priority", tier),
                    None => reply,
                }
            }
            RestoreOutcome::Extended(_) => Reply::empty(200),
        },
        &cx,
    ))
}

pub async fn get_object_acl(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let (o, owner) = cx
        .call(|oss, call| {
            let o = oss.get_object(call)?;
            Ok((o, oss.owner_of(call.bucket)?))
        })
        .await?;
    let acl = xml::AccessControlPolicy {
        owner: xml::Owner::of(&owner),
        access_control_list: xml::AccessControlList { grant: o.acl.as_str().into() },
    };
    Ok(version_header(Reply::xml(to_xml("AccessControlPolicy", &acl)), &o))
}

pub async fn put_object_acl(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let acl = headers::required_acl(&cx.req, "x-oss-object-acl", true)?;
    cx.call(move |oss, call| oss.put_object_acl(call, acl)).await?;
    Ok(named_version(Reply::empty(200), &cx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_html_xml_svg_and_unknown_types() {
        for page in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "application/xhtml+xml",
            "image/svg+xml",
            "text/xml",
            "application/xml",
            "application/rss+xml",
            "text/xsl",
            "multipart/x-mixed-replace; boundary=x",
            "",
            "html",
            "text/",
            "/html",
        ] {
            assert!(renders_as_page(page), "{page:?}");
        }
        for other in [
            "text/plain",
            "application/octet-stream",
            "image/png",
            "application/json",
            "application/javascript",
            "video/mp4",
            "application/pdf",
            "text/css",
        ] {
            assert!(!renders_as_page(other), "{other:?}");
        }
    }

    #[test]
    fn a_page_is_forced_to_download_keeping_its_file_name() {
        let header = |r: &Reply, name: &str| r.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let page = force_download_of_pages(Reply::empty(200).header("content-type", "text/html").header("content-disposition", "inline"));
        assert_eq!(header(&page, "content-disposition").as_deref(), Some("attachment"));
        assert_eq!(header(&page, "x-oss-force-download").as_deref(), Some("true"));
        let named = force_download_of_pages(
            Reply::empty(200).header("content-type", "text/html").header("content-disposition", "attachment; filename=\"a.html\""),
        );
        assert_eq!(header(&named, "content-disposition").as_deref(), Some("attachment; filename=\"a.html\""));
        let png = force_download_of_pages(Reply::empty(200).header("content-type", "image/png").header("content-disposition", "inline"));
        assert_eq!(header(&png, "content-disposition").as_deref(), Some("inline"));
        assert_eq!(header(&png, "x-oss-force-download"), None);
        assert_eq!(header(&png, "x-content-type-options").as_deref(), Some("nosniff"));
    }
}
