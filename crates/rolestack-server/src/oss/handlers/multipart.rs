//! Multipart uploads: InitiateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload (ListParts and ListMultipartUploads are
//! listings, in [`super::listing`]).

use axum::body::Body;
use rolestack_core::oss::{OssError, OssResult};
use rolestack_sign::encoding::encode;

use super::super::headers;
use super::super::request::OssHttpRequest;
use super::super::respond::Reply;
use super::super::xml::{self, iso8601, quoted, to_xml};
use super::{call_back, enc, read_document, version_header, write_body, write_reply, Ctx};

fn part_number(req: &OssHttpRequest) -> OssResult<u32> {
    let raw = req.param("partNumber").unwrap_or_default();
    raw.parse().map_err(|_| OssError::InvalidPartNumber { value: raw.to_string() })
}

fn upload_id(req: &OssHttpRequest) -> String {
    req.param("uploadId").unwrap_or_default().to_string()
}

pub async fn initiate_upload(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let settings = headers::settings_with_tags(&cx.req)?;
    let url = cx.req.url_encoding()?;
    let forbid = headers::forbid_overwrite(&cx.req)?;
    let upload = cx.call(move |oss, call| oss.initiate_upload(call, settings, forbid)).await?;
    let result = xml::InitiateMultipartUploadResult {
        bucket: upload.bucket.clone(),
        key: enc(&upload.key, url),
        upload_id: upload.upload_id.clone(),
        encoding_type: url.then(|| "url".into()),
    };
    Ok(Reply::xml(to_xml("InitiateMultipartUploadResult", &result)))
}

pub async fn upload_part(cx: Ctx, body: Body) -> OssResult<Reply> {
    let number = part_number(&cx.req)?;
    let upload_id = upload_id(&cx.req);
    let md5 = headers::content_md5(&cx.req)?;
    let ticket = {
        let u = upload_id.clone();
        cx.read(move |oss, call| oss.authorize_part(call, &u, number)).await?
    };
    let (part, digests) = write_body(&cx.oss, body, move |oss, stored| oss.put_part(&ticket, &upload_id, number, stored, md5)).await?;
    Ok(write_reply(&part.etag, Some(&digests), part.crc64))
}

pub async fn upload_part_copy(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let number = part_number(&cx.req)?;
    let source = headers::copy_source(&cx.req)?;
    let range = headers::copy_source_range(&cx.req)?;
    let upload_id = upload_id(&cx.req);
    let part = cx.call(move |oss, call| oss.upload_part_copy(call, &upload_id, number, &source, range)).await?;
    let result = xml::CopyPartResult { last_modified: iso8601(part.last_modified), etag: quoted(&part.etag) };
    Ok(Reply::xml(to_xml("CopyPartResult", &result))
        .header("etag", quoted(&part.etag))
        .header("x-oss-hash-crc64ecma", part.crc64.to_string()))
}

pub async fn complete_upload(cx: Ctx, body: Body) -> OssResult<Reply> {
    let callback = headers::callback(&cx.req)?;
    let body = read_document(&cx.req, body).await?;
    let upload_id = upload_id(&cx.req);
    let requested: Option<Vec<(u32, String)>> = if headers::complete_all(&cx.req) {
        // OSS lists the parts itself then, and refuses a part list beside it (UNVERIFIED: OSS
        // documents the EC, not the code; InvalidArgument is used).
        if !body.iter().all(u8::is_ascii_whitespace) {
            return Err(OssError::InvalidArgumentEc {
                message: "CompleteMultipartUpload with x-oss-complete-all: yes takes no request body.".into(),
                ec: "0042-00000216",
            });
        }
        None
    } else {
        let doc: xml::CompleteMultipartUpload = xml::parse(&body)?;
        Some(doc.parts.into_iter().map(|p| (p.number, p.etag)).collect())
    };
    let url = cx.req.url_encoding()?;
    let forbid = headers::forbid_overwrite(&cx.req)?;
    let object = cx.call(move |oss, call| oss.complete_upload(call, &upload_id, requested.as_deref(), forbid)).await?;
    let req = &cx.req;
    let result = xml::CompleteMultipartUploadResult {
        encoding_type: url.then(|| "url".into()),
        location: format!("http://{}/{}/{}", req.endpoint, req.bucket(), encode(&object.key)),
        bucket: req.bucket().to_string(),
        key: enc(&object.key, url),
        etag: quoted(&object.etag),
    };
    let reply = Reply::xml(to_xml("CompleteMultipartUploadResult", &result))
        .header("etag", quoted(&object.etag))
        .header("x-oss-hash-crc64ecma", object.crc64.to_string());
    let reply = version_header(reply, &object);
    call_back(&cx, callback, &object, None, reply).await
}

pub async fn abort_upload(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let upload_id = upload_id(&cx.req);
    cx.call(move |oss, call| oss.abort_upload(call, &upload_id)).await?;
    Ok(Reply::empty(204))
}
