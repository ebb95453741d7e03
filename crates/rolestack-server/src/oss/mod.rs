//! The OSS REST front-end: every request on the API listener that is not an RPC call. One
//! request goes through these steps, each in one place:
//!
//! 1. [`request`]: the addressing resolved (path style or virtual-hosted), query and headers.
//! 2. [`auth`]: who sent it (signature V1 / V4, header or presigned, or anonymous); a browser
//!    form upload (PostObject) is signed in its form, read and checked first by [`post`].
//! 3. [`operation`]: the [`Operation`] and its handler, from method + sub-resources.
//! 4. [`handlers`]: one file per family; typed header values come from [`headers`]; the core's
//!    [`rolestack_core::oss::Oss`] runs the operation (authorized with the action the core's
//!    operation table gives) on a blocking thread.
//! 5. [`respond`]: errors rendered as OSS's XML, then every response — success or error —
//!    finished in [`respond::finish`] (common headers; the one place to decorate responses).
//!
//! Object bodies stream both ways in fixed-size chunks; see [`handlers`].

pub mod auth;
pub mod compress;
pub mod digests;
pub mod handlers;
pub mod headers;
pub mod operation;
pub mod post;
pub mod request;
pub mod respond;
pub mod rules;
pub mod xml;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use rolestack_core::audit::{CallRecord, EventType};
use rolestack_core::endpoints;
use rolestack_core::oss::model::DEFAULT_REGION;
use rolestack_core::oss::{Operation, OssError, OssResult, Requester};
use rolestack_core::service::Rolestack;

pub use request::OssHttpRequest;
use respond::Reply;

/// Serves one OSS request.
pub async fn handle(rs: Rolestack, peer: SocketAddr, req: Request) -> Response {
    let started = std::time::Instant::now();
    let request_id = respond::request_id();
    let (parts, mut body) = req.into_parts();
    let mut req = OssHttpRequest::from_parts(&parts, peer);
    // The S3 dialect is authenticated before the request is shared: once its signature holds, its
    // headers become OSS's and its body is checked against what the signature promised.
    let s3_auth = match req.s3 {
        true => Some(crate::s3::prepare(&rs, &mut req, &mut body).await),
        false => None,
    };
    let post_auth = match !req.s3 && post::is_form_upload(&req) {
        true => Some(post::prepare(&rs, &mut req, &mut body).await),
        false => None,
    };
    let req = Arc::new(req);
    let head = req.method == Method::HEAD;
    // The bucket's browser rules, when the request needs them (preflight, Origin, referer).
    let bucket_rules = rules::load(&rs, &req).await;
    if req.method == Method::OPTIONS {
        let reply = bucket_rules
            .and_then(|r| rules::preflight(&req, r.as_ref()))
            .unwrap_or_else(|e| respond::error(&e, &request_id, &req.host_id(), false, &rs.key));
        crate::telemetry::request_done("oss", "Options", reply.status, started);
        return respond::finish(reply, &req, &request_id);
    }
    let bucket_rules = bucket_rules.ok().flatten();
    let mut seen: Option<(Arc<Requester>, Operation)> = None;
    let authenticated = match s3_auth.or(post_auth) {
        Some(result) => result,
        None => auth::authenticate_request(&rs, &req).await,
    };
    let authenticated = req.check_path_utf8().and(authenticated);
    let authenticated = authenticated.and_then(|who| rules::check_referer(&req, bucket_rules.as_ref()).map(|()| who));
    let result = match authenticated {
        Ok(who) => match operation::resolve(&req) {
            Ok(route) => {
                let who = Arc::new(who);
                seen = Some((who.clone(), route.op));
                let cx = handlers::Ctx {
                    oss: rs.oss(),
                    who,
                    req: req.clone(),
                    op: route.op,
                    request_id: Arc::from(request_id.as_str()),
                    server_key: rs.key.clone(),
                };
                (route.handler)(cx, body).await
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    if let Some((who, op)) = &seen {
        record(&rs, &req, who, *op, &result, &request_id);
    }
    let op_name = seen.as_ref().map_or("-", |(_, op)| op.name());
    let reply = match result {
        Ok(reply) => {
            tracing::debug!(request_id, method = %req.method, bucket = req.bucket(), key = req.key, status = reply.status, "oss");
            reply
        }
        Err(e) => {
            if e.is_internal() {
                tracing::error!(request_id, error = ?e, "oss internal error");
            } else {
                tracing::info!(request_id, method = %req.method, bucket = req.bucket(), key = req.key, code = e.code(), "oss error");
            }
            respond::error(&e, &request_id, &req.host_id(), head, &rs.key)
        }
    };
    crate::telemetry::request_done("oss", op_name, reply.status, started);
    let reply = rules::decorate(reply, &req, bucket_rules.as_ref());
    respond::finish(reply, &req, &request_id)
}

/// Records the ActionTrail event of a signed request (anonymous ones name no account).
fn record(rs: &Rolestack, req: &OssHttpRequest, who: &Requester, op: Operation, result: &OssResult<Reply>, request_id: &str) {
    let Requester::Caller(caller) = who else { return };
    let mut resources = Vec::new();
    if let Some(b) = &req.bucket {
        resources.push(("ACS::OSS::Bucket".to_string(), b.clone()));
        if !req.key.is_empty() {
            resources.push(("ACS::OSS::Object".to_string(), format!("{b}/{}", req.key)));
        }
    }
    let mut parameters = serde_json::Map::new();
    if let Some(b) = &req.bucket {
        parameters.insert("BucketName".into(), serde_json::json!(b));
    }
    if !req.key.is_empty() {
        parameters.insert("ObjectName".into(), serde_json::json!(req.key));
    }
    let region = req.region.unwrap_or(DEFAULT_REGION);
    rs.record(&CallRecord {
        caller: Some(caller),
        access_key_id: None,
        service_name: "Oss",
        event_source: &endpoints::oss_endpoint_name(region, false),
        event_name: op.name(),
        event_type: EventType::ApiCall,
        read: op.is_read(),
        api_version: None,
        request_id,
        source_ip: Some(req.peer.ip().to_string()),
        user_agent: req.header("user-agent"),
        region,
        request_parameters: serde_json::Value::Object(parameters),
        response_elements: None,
        additional_event_data: None,
        resources,
        error: result.as_ref().err().filter(|e| !matches!(e, OssError::NotModified { .. })).map(|e| (e.code().to_string(), e.to_string())),
        account: None,
        acting_service: None,
    });
}
