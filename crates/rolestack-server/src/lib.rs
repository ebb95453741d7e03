//! rolestack-server: the HTTP front-ends over [`rolestack_core`]: the RPC gateway that serves RAM,
//! STS, ECS and the admin API on one listener (plus `/health`), and the instance metadata service
//! with the host network that places it at 100.100.100.200 ([`metadata`], [`network`]). Each front-end parses bytes, verifies
//! signatures with `rolestack-sign`, hands a typed call to the core and renders the answer in the
//! wire format the client asked for; none of them touches the store directly.

pub mod callback;
pub mod connections;
pub mod console;
pub mod dns;
pub mod metadata;
pub mod network;
pub mod oss;
pub mod power_off;
pub mod rpc;
pub mod s3;
pub mod sendfile;
pub mod telemetry;
pub mod tls;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rolestack_core::service::Rolestack;

/// Builds the HTTP application: `/health` (liveness: the process answers), then every other
/// request goes through [`front_door`] (which answers an unsigned `GET /ready` itself).
pub fn app(state: Rolestack) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(rolestack_core::oidc::DISCOVERY_PATH, get(oidc_discovery))
        .route(rolestack_core::oidc::JWKS_PATH, get(oidc_jwks))
        .route(rolestack_core::oss::callback_key::PUBLIC_KEY_PATH, get(callback_public_key))
        .merge(console::router(state.clone())) // the web console at /console/ (see console/mod.rs)
        .fallback(front_door)
        .with_state(state)
}

/// The local OIDC issuer's discovery document and key set (see `rolestack_core::oidc`).
async fn oidc_document(rs: Rolestack, jwks: bool) -> Response {
    use axum::response::IntoResponse;
    let found = tokio::task::spawn_blocking(move || {
        let mut tx = rs.store.begin()?;
        rolestack_core::oidc::local_issuer(&mut *tx)
    })
    .await;
    match found {
        Ok(Ok(Some(issuer))) => {
            let body = if jwks { rolestack_core::oidc::jwks(&issuer) } else { rolestack_core::oidc::discovery(&issuer) };
            ([(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
        }
        Ok(Ok(None)) => (axum::http::StatusCode::NOT_FOUND, "this server has no local OIDC issuer").into_response(),
        _ => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "reading the local OIDC issuer failed").into_response(),
    }
}

async fn oidc_discovery(State(rs): State<Rolestack>) -> Response {
    oidc_document(rs, false).await
}

async fn oidc_jwks(State(rs): State<Rolestack>) -> Response {
    oidc_document(rs, true).await
}

/// The public key upload callbacks are signed with (see `rolestack_core::oss::callback_key`).
async fn callback_public_key(State(rs): State<Rolestack>) -> Response {
    use axum::response::IntoResponse;
    let key = rs.key.clone();
    match tokio::task::spawn_blocking(move || rolestack_core::oss::callback_key::ensure(&*rs.store, &key)).await {
        Ok(Ok(k)) => ([(axum::http::header::CONTENT_TYPE, "application/x-pem-file")], k.public_pem).into_response(),
        _ => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "reading the callback key failed").into_response(),
    }
}

async fn front_door(State(rs): State<Rolestack>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    if is_metrics_scrape(&req) {
        if let Some(text) = telemetry::render_when_built().await {
            rs.audit_gauges();
            let mut resp = axum::response::IntoResponse::into_response(text);
            resp.headers_mut().insert(axum::http::header::CONTENT_TYPE, axum::http::HeaderValue::from_static("text/plain; version=0.0.4"));
            return resp;
        }
    }
    if is_unsigned_get(&req, "/ready") {
        return ready(rs).await;
    }
    dispatch(rs, peer, req).await
}

/// Readiness for a load balancer: 200 when the store and the blob store both answer, else 503
/// naming the one that does not (`Rolestack::readiness`; the error itself is logged). An unsigned `GET /ready` only: a signed one is OSS
/// (a path-style listing of a bucket named `ready`).
async fn ready(rs: Rolestack) -> Response {
    use axum::response::IntoResponse;
    match tokio::task::spawn_blocking(move || rs.readiness()).await {
        Ok(Ok(())) => "ready".into_response(),
        Ok(Err(why)) => {
            // The detail may name hosts and buckets: it goes to the log, not to the caller.
            tracing::warn!(unreachable = why.unreachable, detail = %why.detail, "not ready");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {} unreachable", why.unreachable)).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "the readiness check failed");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "not ready: the check failed").into_response()
        }
    }
}

/// `GET /metrics` without credentials is a Prometheus scrape; a signed `GET /metrics` is OSS
/// (a path-style listing of a bucket named `metrics`).
fn is_metrics_scrape(req: &Request) -> bool {
    is_unsigned_get(req, "/metrics")
}

/// A `GET` of `path` with no credentials in the header or the query.
fn is_unsigned_get(req: &Request, path: &str) -> bool {
    req.method() == axum::http::Method::GET
        && req.uri().path() == path
        && !req.headers().contains_key(axum::http::header::AUTHORIZATION)
        && !req.uri().query().is_some_and(|q| q.contains("Signature") || q.contains("OSSAccessKeyId") || q.contains("x-oss-signature"))
}

/// One listener serves every product: RPC calls (they name an `Action`, in the query, an
/// `x-acs-action` header or a form body) go to the RPC gateway, everything else is OSS.
pub async fn dispatch(rs: Rolestack, peer: SocketAddr, req: Request) -> Response {
    // A request to a service name goes to that service's front-end whatever it looks like.
    let host = req.headers().get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).or_else(|| req.uri().host());
    match host.and_then(rolestack_core::endpoints::classify) {
        Some(h) if h.service.is_rpc() => return rpc::gateway(rs, peer, req).await,
        Some(_) => return oss::handle(rs, peer, req).await,
        None => {}
    }
    if rpc::is_rpc(&req) {
        return rpc::gateway(rs, peer, req).await;
    }
    match rpc::form_rpc(req).await {
        Ok(rpc) => rpc::gateway(rs, peer, rpc).await,
        Err(other) => oss::handle(rs, peer, other).await,
    }
}

/// Serves the API on `listener` (and over TLS on `tls`, when given) within the bounds of
/// `connections` until it is shut down, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<(tokio::net::TcpListener, std::sync::Arc<rustls::ServerConfig>)>,
    state: Rolestack,
    connections: connections::Connections,
) {
    let app = app(state);
    let plain = connections.serve(listener, app.clone());
    match tls {
        Some((listener, config)) => {
            tokio::join!(plain, connections.serve_tls(listener, app, config));
        }
        None => plain.await,
    }
}
