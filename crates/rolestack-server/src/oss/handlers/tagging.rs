//! Tags: Put/Get/DeleteObjectTagging (`?tagging` on an object) and Put/Get/DeleteBucketTags
//! (`?tagging` on a bucket). `x-oss-tagging` on writes is read in [`super::super::headers`].

use axum::body::Body;
use rolestack_core::oss::OssResult;

use super::super::respond::Reply;
use super::super::xml::{self, to_xml};
use super::{named_version, read_document, Ctx};

async fn read_tags(cx: &Ctx, body: Body) -> OssResult<Vec<(String, String)>> {
    let doc: xml::Tagging = xml::parse(&read_document(&cx.req, body).await?)?;
    Ok(doc.into_tags())
}

pub async fn put_object_tagging(cx: Ctx, body: Body) -> OssResult<Reply> {
    let tags = read_tags(&cx, body).await?;
    cx.call(move |oss, call| oss.put_object_tagging(call, tags)).await?;
    Ok(named_version(Reply::empty(200), &cx))
}

pub async fn get_object_tagging(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let tags = cx.call(|oss, call| oss.object_tags(call)).await?;
    Ok(named_version(Reply::xml(to_xml("Tagging", &xml::Tagging::of(&tags))), &cx))
}

pub async fn delete_object_tagging(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_object_tagging(call)).await?;
    Ok(named_version(Reply::empty(204), &cx))
}

pub async fn put_bucket_tags(cx: Ctx, body: Body) -> OssResult<Reply> {
    let tags = read_tags(&cx, body).await?;
    cx.call(move |oss, call| oss.put_bucket_tags(call, tags)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_tags(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let bucket = cx.call(|oss, call| oss.bucket(call)).await?;
    Ok(Reply::xml(to_xml("Tagging", &xml::Tagging::of(&bucket.tags))))
}

pub async fn delete_bucket_tags(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let keys = cx.req.param("tagging").filter(|v| !v.is_empty()).map(|v| v.split(',').map(str::to_string).collect::<Vec<_>>());
    cx.call(move |oss, call| oss.delete_bucket_tags(call, keys)).await?;
    Ok(Reply::empty(204))
}
