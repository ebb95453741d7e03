//! The bucket's rules for browsers, applied around a request: the CORS preflight (`OPTIONS`,
//! answered without a signature), the CORS headers of ordinary answers, and the referer check of
//! anonymous requests and presigned URLs. The rules themselves are the core's
//! ([`rolestack_core::oss::cors`], [`rolestack_core::oss::referer`]); see docs/oss.md.

use std::sync::Arc;

use rolestack_core::oss::cors::requested_headers;
use rolestack_core::oss::service::BucketRules;
use rolestack_core::oss::{OssError, OssResult};
use rolestack_core::service::Rolestack;

use super::request::OssHttpRequest;
use super::respond::Reply;

/// Whether the request needs its bucket's rules: a preflight, an `Origin` to answer, or a
/// request not signed in a header (anonymous or presigned: the referer check).
pub fn needed(req: &OssHttpRequest) -> bool {
    req.bucket.is_some() && (req.header("origin").is_some() || req.header("authorization").is_none())
}

/// The bucket's rules (`None`: no such bucket, or nothing needs them). A read, in place unless
/// the store is a shared server's.
pub async fn load(rs: &Rolestack, req: &Arc<OssHttpRequest>) -> OssResult<Option<BucketRules>> {
    if !needed(req) {
        return Ok(None);
    }
    let bucket = req.bucket().to_string();
    if rs.store.shared() {
        let rs = rs.clone();
        super::handlers::blocking(move || rs.oss().bucket_rules(&bucket)).await
    } else {
        rs.oss().bucket_rules(&bucket)
    }
}

/// Answers a preflight from the bucket's CORS rules: 200 with the `Access-Control-*` headers of
/// the first matching rule, else `AccessForbidden`.
pub fn preflight(req: &OssHttpRequest, rules: Option<&BucketRules>) -> OssResult<Reply> {
    let (Some(origin), Some(method)) = (req.header("origin"), req.header("access-control-request-method")) else {
        return Err(OssError::AccessForbidden);
    };
    let requested = req.header("access-control-request-headers");
    let cors = rules.and_then(|r| r.cors.as_ref()).ok_or(OssError::AccessForbidden)?;
    let rule = cors.matching_rule(origin, method.trim(), &requested_headers(requested)).ok_or(OssError::AccessForbidden)?;
    let mut reply = Reply::empty(200);
    for (name, value) in rule.response_headers(origin, requested) {
        reply = reply.header(name, value);
    }
    if cors.vary() {
        reply = reply.header("vary", "Origin");
    }
    Ok(reply)
}

/// Adds the CORS headers an ordinary request's answer carries when its `Origin` and method
/// match a rule (success or error alike).
pub fn decorate(mut reply: Reply, req: &OssHttpRequest, rules: Option<&BucketRules>) -> Reply {
    let (Some(origin), Some(cors)) = (req.header("origin"), rules.and_then(|r| r.cors.as_ref())) else {
        return reply;
    };
    if let Some(rule) = cors.matching_rule(origin, req.method.as_str(), &[]) {
        for (name, value) in rule.response_headers(origin, None) {
            reply = reply.header(name, value);
        }
    }
    if cors.vary() {
        reply = reply.header("vary", "Origin");
    }
    reply
}

/// The referer check: only for requests not signed in a header (anonymous, presigned URLs).
pub fn check_referer(req: &OssHttpRequest, rules: Option<&BucketRules>) -> OssResult<()> {
    if req.header("authorization").is_some() {
        return Ok(());
    }
    match rules.and_then(|r| r.referer.as_ref()) {
        Some(referer) => referer.check(req.header("referer")),
        None => Ok(()),
    }
}
