//! Bucket configuration sub-resources: `?acl` (Get/PutBucketAcl), `?policy`
//! (Put/Get/DeleteBucketPolicy), `?cors` (Put/Get/DeleteBucketCors) and `?referer`
//! (Put/GetBucketReferer).

use axum::body::Body;
use rolestack_core::oss::cors::CorsConfiguration;
use rolestack_core::oss::referer::RefererConfiguration;
use rolestack_core::oss::{OssError, OssResult};

use super::super::headers;
use super::super::respond::Reply;
use super::super::xml::{self, to_xml};
use super::{read_document, Ctx};

pub async fn get_bucket_acl(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let b = cx.call(|oss, call| oss.bucket(call)).await?;
    let acl = xml::AccessControlPolicy {
        owner: xml::Owner::of(&b.owner),
        access_control_list: xml::AccessControlList { grant: b.acl.as_str().into() },
    };
    Ok(Reply::xml(to_xml("AccessControlPolicy", &acl)))
}

pub async fn put_bucket_acl(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let acl = headers::required_acl(&cx.req, "x-oss-acl", false)?;
    cx.call(move |oss, call| oss.put_bucket_acl(call, acl)).await?;
    Ok(Reply::empty(200))
}

pub async fn put_bucket_policy(cx: Ctx, body: Body) -> OssResult<Reply> {
    let body = read_document(&cx.req, body).await?;
    let text = String::from_utf8(body).map_err(|_| OssError::InvalidPolicyDocument("the policy is not UTF-8".into()))?;
    cx.call(move |oss, call| oss.put_bucket_policy(call, &text)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_policy(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let text = cx.call(|oss, call| oss.get_bucket_policy(call)).await?;
    Ok(Reply { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: Body::from(text) })
}

pub async fn delete_bucket_policy(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket_policy(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn put_bucket_cors(cx: Ctx, body: Body) -> OssResult<Reply> {
    let cors: CorsConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    cx.call(move |oss, call| oss.put_bucket_cors(call, cors)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_cors(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let cors = cx.call(|oss, call| oss.get_bucket_cors(call)).await?;
    Ok(Reply::xml(to_xml("CORSConfiguration", &cors)))
}

pub async fn delete_bucket_cors(cx: Ctx, _body: Body) -> OssResult<Reply> {
    cx.call(|oss, call| oss.delete_bucket_cors(call)).await?;
    Ok(Reply::empty(204))
}

pub async fn put_bucket_referer(cx: Ctx, body: Body) -> OssResult<Reply> {
    let referer: RefererConfiguration = xml::parse(&read_document(&cx.req, body).await?)?;
    cx.call(move |oss, call| oss.put_bucket_referer(call, referer)).await?;
    Ok(Reply::empty(200))
}

pub async fn get_bucket_referer(cx: Ctx, _body: Body) -> OssResult<Reply> {
    let referer = cx.call(|oss, call| oss.get_bucket_referer(call)).await?;
    Ok(Reply::xml(to_xml("RefererConfiguration", &referer)))
}
