//! The HTTP front of the ECS instance metadata service ([`InstanceMetadata`] in core), as code
//! inside an instance sees it at `http://100.100.100.200/latest/...`. One instance per listener:
//! the socket a request arrived on is the instance's identity. Paths match case-insensitively
//! (the seeds write `Ram/security-credentials/...`).
//!
//! A read the service can answer from memory is answered on the spot; one that needs the store
//! (the first read, a read after a change, a due rotation) goes to a blocking thread.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::Router;
use rolestack_core::metadata::{MetadataAnswer, TOKEN_HEADER, TOKEN_TTL_HEADER};

pub use rolestack_core::metadata::InstanceMetadata;

pub fn app(instance: InstanceMetadata) -> Router {
    Router::new().fallback(serve).with_state(Arc::new(instance))
}

fn respond(answer: MetadataAnswer) -> Response {
    let content_type = if answer.json { "application/json" } else { "text/plain" };
    let mut r = Response::new(Body::from(answer.body));
    *r.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn plain(status: StatusCode, body: String) -> Response {
    respond(MetadataAnswer { status: status.as_u16(), json: false, body: body.into() })
}

/// Handles one metadata request (also used by the loopback proxy for `100.100.100.200` requests).
pub async fn serve(State(md): State<Arc<InstanceMetadata>>, req: Request) -> Response {
    let (path, token) = {
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        if req.method() == Method::PUT && req.uri().path().eq_ignore_ascii_case("/latest/api/token") {
            return respond(md.issue_token(header(TOKEN_TTL_HEADER), req.headers().contains_key("x-forwarded-for")));
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "405 - Method Not Allowed".into());
        }
        if let Some(answer) = md.answer_remembered(req.uri().path(), header(TOKEN_HEADER)) {
            return respond(answer);
        }
        (req.uri().path().to_string(), header(TOKEN_HEADER).map(str::to_string))
    };
    drop(req);
    let instance = md.clone();
    match tokio::task::spawn_blocking(move || instance.answer(&path, token.as_deref())).await {
        Ok(Ok(answer)) => respond(answer),
        Ok(Err(e)) => {
            tracing::error!(instance = md.instance_id(), error = %e, "metadata request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "500 - Internal Server Error".into())
        }
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("500 - Internal Server Error: {e}")),
    }
}
