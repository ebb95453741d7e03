//! The HTTP front of the ECS instance metadata service ([`InstanceMetadata`] in core), as code
//! inside an instance sees it at `http://100.100.100.200/latest/...`. One instance per listener:
//! the socket a request arrived on is the instance's identity. Paths match case-insensitively
//! (the seeds write `Ram/security-credentials/...`).
//!
//! A read the service can answer from memory is answered on the spot; one that needs the store
//! (the first read, a read after a change, a due rotation) goes to a blocking thread.
//!
//! Injected faults (`rolestack instance fault`, docs/faults.md) come first, token PUTs included:
//! core decides which applies ([`InstanceMetadata::disruption`]); here a delay is waited, a
//! status answered, and a reset or timeout closes the connection without an answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use rolestack_core::metadata::{canonical_path, Disruption, MetadataAnswer, TOKEN_HEADER, TOKEN_TTL_HEADER};

use crate::connections::AbortConnection;

pub use rolestack_core::metadata::InstanceMetadata;

pub fn app(instance: InstanceMetadata) -> Router {
    Router::new().fallback(serve).with_state(Arc::new(instance))
}

fn respond(answer: MetadataAnswer) -> Response {
    if answer.is_powered_off() {
        return abort();
    }
    let content_type = if answer.json { "application/json" } else { "text/plain" };
    let mut r = Response::new(Body::from(answer.body));
    *r.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn plain(status: StatusCode, body: String) -> Response {
    respond(MetadataAnswer { status: status.as_u16(), json: false, body: body.into() })
}

/// A response that is never sent: the connection closes instead.
fn abort() -> Response {
    let mut r = Response::new(Body::empty());
    r.extensions_mut().insert(AbortConnection);
    r
}

/// The disruption an injected fault makes of a request to `path`, if any.
async fn disruption(md: &Arc<InstanceMetadata>, path: &str) -> Option<Disruption> {
    if let Some(decided) = md.disruption_remembered(path) {
        return decided;
    }
    let (instance, path) = (md.clone(), path.to_string());
    match tokio::task::spawn_blocking(move || instance.disruption(&path)).await {
        Ok(Ok(d)) => d,
        Ok(Err(e)) => {
            tracing::error!(instance = md.instance_id(), error = %e, "reading the metadata faults failed");
            None
        }
        Err(_) => None,
    }
}

/// Handles one metadata request (also used by the loopback proxy for `100.100.100.200` requests).
/// `/2016-01-01/...` is the same tree as `/latest/...` ([`canonical_path`]).
pub async fn serve(State(md): State<Arc<InstanceMetadata>>, req: Request) -> Response {
    let mut credential_fault = None;
    let path = canonical_path(req.uri().path()).into_owned();
    match disruption(&md, &path).await {
        None => {}
        Some(Disruption::Delay(wait)) => tokio::time::sleep(wait).await,
        Some(Disruption::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return plain(status, format!("{} - {}", status.as_u16(), status.canonical_reason().unwrap_or("Error")));
        }
        Some(Disruption::Reset) => return abort(),
        Some(Disruption::Hang(wait)) => {
            tokio::time::sleep(wait).await;
            return abort();
        }
        Some(d @ (Disruption::Stale | Disruption::Expired)) => credential_fault = Some(d),
    }
    let token_path = path.eq_ignore_ascii_case("/latest/api/token");
    if req.method() == Method::PUT && token_path {
        let ttl = req.headers().get(TOKEN_TTL_HEADER).and_then(|v| v.to_str().ok()).map(str::to_string);
        let forwarded = req.headers().contains_key("x-forwarded-for");
        if let Some(answer) = md.issue_token_remembered(ttl.as_deref(), forwarded) {
            return respond(answer);
        }
        let instance = md.clone();
        return answered(&md, tokio::task::spawn_blocking(move || instance.issue_token(ttl.as_deref(), forwarded)).await);
    }
    let (path, token) = {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        // The token path answers PUT only (a GET there is 405 too, not the tree's 404).
        if token_path || (req.method() != Method::GET && req.method() != Method::HEAD) {
            let mut refused = plain(StatusCode::METHOD_NOT_ALLOWED, "405 - Method Not Allowed".into());
            let allow = if token_path { "PUT" } else { "GET, HEAD" };
            refused.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            return refused;
        }
        if credential_fault.is_none() {
            if let Some(answer) = md.answer_remembered(&path, header(TOKEN_HEADER)) {
                return respond(answer);
            }
        }
        (path, header(TOKEN_HEADER).map(str::to_string))
    };
    drop(req);
    let instance = md.clone();
    let answer = tokio::task::spawn_blocking(move || match credential_fault {
        Some(d) => instance.answer_disrupted(&path, token.as_deref(), &d),
        None => instance.answer(&path, token.as_deref()),
    });
    answered(&md, answer.await)
}

/// The response for what a blocking thread answered.
fn answered(md: &InstanceMetadata, answer: Result<rolestack_core::Result<MetadataAnswer>, tokio::task::JoinError>) -> Response {
    match answer {
        Ok(Ok(answer)) => respond(answer),
        Ok(Err(e)) => {
            tracing::error!(instance = md.instance_id(), error = %e, "metadata request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "500 - Internal Server Error".into())
        }
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("500 - Internal Server Error: {e}")),
    }
}
