//! rolestack-server: the HTTP front-ends over [`rolestack_core`]. Today: the RPC gateway that serves
//! RAM (and later STS and ECS) on one listener, plus `/health`. Each front-end parses bytes, verifies
//! signatures with `rolestack-sign`, hands a typed call to the core and renders the answer in the
//! wire format the client asked for; none of them touches the store directly.

pub mod rpc;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use rolestack_core::service::Rolestack;

/// Builds the HTTP application: `/health`, then every other request goes through [`front_door`].
pub fn app(state: Rolestack) -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .fallback(front_door)
        .with_state(state)
}

/// One listener serves every product: RPC calls (they name an `Action`) go to the RPC gateway.
async fn front_door(State(rs): State<Rolestack>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    rpc::gateway(rs, peer, req).await
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Rolestack,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
