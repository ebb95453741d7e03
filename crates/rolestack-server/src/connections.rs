//! Serving HTTP connections with bounds, so that slow or idle clients cannot use up the server.
//!
//! Every listener rolestack opens (the API, and each instance's metadata, API and proxy sockets)
//! is served here rather than by `axum::serve`, which has no timeouts: a client that opens a
//! connection and sends nothing, or half a request, would hold its file descriptor forever, and
//! enough of them stop the server answering anyone (`/health` included).
//!
//! - **Header timeout**: a request's head must arrive within [`Limits::header_timeout`].
//! - **Idle timeout**: a connection on which no byte moves either way for
//!   [`Limits::idle_timeout`] is closed: an idle keep-alive connection, a half-sent body, a
//!   client that stopped reading a response.
//! - **Connection limit**: at most [`Limits::max_connections`] connections at once, shared by
//!   all listeners of one server; beyond it new connections are closed at once, which keeps file
//!   descriptors for the connections being served. [`raise_fd_limit`] lifts the soft limit on
//!   open files to the hard one at start, and the default connection limit stays below it.
//! - **Graceful shutdown**: when the shutdown future resolves, listeners stop accepting and the
//!   connections finish their in-flight requests (up to [`Limits::drain_timeout`]).
//! - **Unread request bodies**: a request answered without reading its whole body (refused from
//!   its headers: a bad signature, too many tags, access denied, …) leaves the client still
//!   sending. Closing the connection then would make the kernel answer those bytes with a reset,
//!   and the client would lose the answer (a dropped connection instead of the error). So the
//!   rest of such a body is read and discarded while the answer is written, up to
//!   [`Limits::unread_body_limit`] bytes, and the connection stays usable; a body declared
//!   larger than that is not read, its answer says `Connection: close` and the connection is
//!   closed after it (see [`RequestBody`]). The idle timeout bounds a client that stops sending.
//! - **TLS**: a listener may be served over TLS ([`Transport::Tls`]); the handshake must finish
//!   within the header timeout. Each request carries a [`Transport`] extension, so handlers know
//!   whether it came over TLS (`acs:SecureTransport`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::sendfile::SendfileTcp;

/// The bounds every connection is served within.
#[derive(Debug, Clone)]
pub struct Limits {
    pub header_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub drain_timeout: Duration,
    /// At most this many bytes of a request body the application did not read are read (and
    /// discarded) so that the client can read the answer (see [`RequestBody`]).
    pub unread_body_limit: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            max_connections: 16_384,
            drain_timeout: Duration::from_secs(10),
            unread_body_limit: 16 * 1024 * 1024,
        }
    }
}

/// The connection slots shared by every listener of one server, and the shutdown signal.
#[derive(Clone)]
pub struct Connections {
    limits: Arc<Limits>,
    slots: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
}

/// Ends every [`Connections::serve`] loop of its [`Connections`] gracefully when triggered.
pub struct Shutdown(watch::Sender<bool>);

impl Shutdown {
    pub fn trigger(&self) {
        let _ = self.0.send(true);
    }
}

impl Connections {
    pub fn new(limits: Limits) -> (Self, Shutdown) {
        let (tx, rx) = watch::channel(false);
        let slots = Arc::new(Semaphore::new(limits.max_connections));
        (Connections { limits: Arc::new(limits), slots, shutdown: rx }, Shutdown(tx))
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Accepts connections on `listener` and serves `app` on each until shutdown; then waits
    /// for the connections it accepted to finish (bounded by the drain timeout).
    pub async fn serve(&self, listener: TcpListener, app: Router) {
        self.serve_with(listener, app, None).await
    }

    /// [`Connections::serve`] over TLS.
    pub async fn serve_tls(&self, listener: TcpListener, app: Router, tls: Arc<rustls::ServerConfig>) {
        self.serve_with(listener, app, Some(TlsAcceptor::from(tls))).await
    }

    async fn serve_with(&self, listener: TcpListener, app: Router, tls: Option<TlsAcceptor>) {
        let mut shutdown = self.shutdown.clone();
        let mut served = tokio::task::JoinSet::new();
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = wait_for(&mut shutdown) => break,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE/ENFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                tracing::warn!(%peer, max = self.limits.max_connections, "connection limit reached; closing a new connection");
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let (limits, app, shutdown, tls) = (self.limits.clone(), app.clone(), self.shutdown.clone(), tls.clone());
            served.spawn(async move {
                let activity = Arc::new(Activity::new());
                let stream = Watched { inner: SendfileTcp(stream), activity: activity.clone() };
                match tls {
                    None => serve_one(stream, Transport::Plain, peer, app, &limits, activity, shutdown).await,
                    Some(acceptor) => match tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let sni = stream.get_ref().1.server_name().map(str::to_string);
                            serve_one(stream, Transport::Tls { server_name: sni }, peer, app, &limits, activity, shutdown).await
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    },
                }
                drop(permit);
            });
            // Reap finished connections so the set does not grow with the server's lifetime.
            while served.try_join_next().is_some() {}
        }
        drop(listener);
        let drain = async { while served.join_next().await.is_some() {} };
        if tokio::time::timeout(self.limits.drain_timeout, drain).await.is_err() {
            tracing::warn!(left = served.len(), "connections still open after the drain timeout; closing them");
            served.abort_all();
        }
    }
}

async fn wait_for(shutdown: &mut watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            // The sender is gone: nobody can ask for shutdown any more.
            std::future::pending::<()>().await;
        }
    }
}

/// How a request reached the server: each request carries it as an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Plain,
    /// Over TLS, with the name the client asked for (SNI), if any.
    Tls {
        server_name: Option<String>,
    },
}

impl Transport {
    pub fn is_secure(&self) -> bool {
        matches!(self, Transport::Tls { .. })
    }

    /// The transport of a request (plain when nothing says otherwise, e.g. in tests).
    pub fn of<B>(req: &axum::http::Request<B>) -> Transport {
        req.extensions().get::<Transport>().cloned().unwrap_or(Transport::Plain)
    }
}

/// Serves HTTP over an already established stream (e.g. a proxy's TLS tunnel); it ends with the
/// stream or after `limits.idle_timeout` without a byte moving.
/// A response carrying this extension is not sent: the connection is closed instead (the
/// metadata service's injected `Reset` / `Timeout` faults).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("connection aborted on purpose (an injected fault)")]
pub struct AbortConnection;

pub async fn serve_stream<S>(stream: S, transport: Transport, peer: SocketAddr, app: Router, limits: &Limits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let activity = Arc::new(Activity::new());
    let stream = Activated { inner: stream, activity: activity.clone() };
    let (_never, shutdown) = watch::channel(false);
    serve_one(stream, transport, peer, app, limits, activity, shutdown).await
}

async fn serve_one<S>(
    stream: S,
    transport: Transport,
    peer: SocketAddr,
    app: Router,
    limits: &Limits,
    activity: Arc<Activity>,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(stream);
    let unread_body_limit = limits.unread_body_limit;
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(transport.clone());
        let closes = Arc::new(AtomicBool::new(false));
        let expects_continue = req.headers().get(hyper::header::EXPECT).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
        let req = req.map(|incoming| {
            axum::body::Body::new(RequestBody {
                inner: Some(incoming),
                polled: false,
                expects_continue,
                limit: unread_body_limit,
                closes: closes.clone(),
            })
        });
        let answer = app.clone().oneshot(req);
        async move {
            let mut response = match answer.await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            // A service error makes hyper drop the connection without writing a response.
            if response.extensions().get::<AbortConnection>().is_some() {
                return Err(AbortConnection);
            }
            if closes.load(Ordering::Relaxed) {
                response.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
            }
            Ok(response)
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    let idle = limits.idle_timeout;
    let mut draining = false;
    loop {
        let check_in = idle.saturating_sub(activity.since()).max(Duration::from_millis(100));
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = tokio::time::sleep(check_in) => {
                if activity.since() >= idle {
                    tracing::debug!(%peer, ?idle, "closing an idle connection");
                    return;
                }
            }
            _ = wait_for(&mut shutdown), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A request body as the application sees it. Dropped before its end (the request was answered
/// without reading it all), the rest is read and discarded in the background while hyper writes
/// the answer, so that the client can finish sending and read that answer on a connection that
/// stays usable; hyper itself would only read what already arrived and then close the
/// connection, which the client sees as a reset. Bounded: at most `limit` bytes are discarded; a
/// body whose declared rest is larger is not read at all and the answer gets `Connection: close`
/// (`closes`), as is a body the client has not sent yet because it waits for `100 Continue`
/// (it is never asked for).
struct RequestBody {
    inner: Option<Incoming>,
    polled: bool,
    expects_continue: bool,
    limit: u64,
    closes: Arc<AtomicBool>,
}

impl hyper::body::Body for RequestBody {
    type Data = hyper::body::Bytes;
    type Error = hyper::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        self.polled = true;
        match self.inner.as_mut() {
            Some(inner) => Pin::new(inner).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.as_ref().map(|b| b.size_hint()).unwrap_or_else(|| hyper::body::SizeHint::with_exact(0))
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        use http_body_util::BodyExt as _;
        use hyper::body::Body as _;
        let Some(mut rest) = self.inner.take() else { return };
        if rest.is_end_stream() {
            return;
        }
        let unsent = self.expects_continue && !self.polled;
        let too_large = rest.size_hint().upper().is_some_and(|n| n > self.limit);
        if unsent || too_large {
            // hyper reads what already arrived and closes the connection after the answer.
            self.closes.store(true, Ordering::Relaxed);
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let mut left = self.limit;
        runtime.spawn(async move {
            while let Some(Ok(frame)) = rest.frame().await {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                match left.checked_sub(n) {
                    Some(l) => left = l,
                    // Beyond the bound: dropping the rest makes hyper close the connection.
                    None => return,
                }
            }
        });
    }
}

/// When a byte last moved on a connection.
struct Activity {
    start: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Activity { start: Instant::now(), last_ms: AtomicU64::new(0) }
    }
    fn touch(&self) {
        self.last_ms.store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
    fn since(&self) -> Duration {
        self.start.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A TCP stream that records when bytes last moved through it (and sends mapped blob bytes
/// with sendfile: [`SendfileTcp`]).
type Watched = Activated<SendfileTcp>;

/// A stream that records when bytes last moved through it.
struct Activated<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Activated<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(poll, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Activated<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }
    fn poll_write_vectored(mut self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        poll
    }
    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to the hard limit; returns the limit now in force.
pub fn raise_fd_limit() -> io::Result<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(io::Error::from)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard).map_err(io::Error::from)?;
    }
    Ok(hard.max(soft))
}

/// The default connection limit for an open-file limit: what the limit leaves after a reserve
/// for the database, blobs being read and written, and instance listeners.
pub fn connections_for_fd_limit(fd_limit: u64) -> usize {
    const RESERVE: u64 = 1024;
    usize::try_from(fd_limit.saturating_sub(RESERVE).max(64)).unwrap_or(usize::MAX).min(65_536)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_limit_stays_below_the_fd_limit() {
        assert_eq!(connections_for_fd_limit(20_000), 18_976);
        assert_eq!(connections_for_fd_limit(1024), 64);
        assert_eq!(connections_for_fd_limit(1 << 20), 65_536);
    }

    #[test]
    fn activity_is_measured_from_the_last_byte() {
        let a = Activity::new();
        std::thread::sleep(Duration::from_millis(30));
        assert!(a.since() >= Duration::from_millis(30));
        a.touch();
        assert!(a.since() < Duration::from_millis(30));
    }
}
