//! Gives instances (and `rolestack exec`'s workstation) a network presence, so unmodified programs
//! find the metadata service at 100.100.100.200 and Alibaba Cloud's service names exactly where
//! they hard-code them, over HTTP or HTTPS.
//!
//! Two ways, both made on demand (`PrepareInstanceEnvironment`, `PrepareWorkstationEnvironment`):
//! - **A network namespace** (when running as root with `ip` available): `rs-<instance-id>` (or
//!   `rs-ws-<api port>` for the workstation), whose own `lo` carries 127.0.0.1 and, for an instance,
//!   100.100.100.200/32. A helper thread `setns`es into it, binds the sockets and hands them back;
//!   the server accepts on them from its normal runtime:
//!   - 100.100.100.200:80: the instance's metadata service (the socket is its identity);
//!   - 127.0.0.1:80 and 127.0.0.1:<api port>: the API; 127.0.0.1:443: the API over TLS, with
//!     certificates of the local CA for every service name ([`crate::tls`]);
//!   - 127.0.0.1:53 (UDP and TCP): the resolver that answers service names with 127.0.0.1 and
//!     everything else with NXDOMAIN ([`crate::dns`]).
//!
//!   There is no route out of the namespace: no packet ever leaves its loopback, so nothing can
//!   reach a real 100.100.100.200 or a real Alibaba Cloud host. `rolestack instance exec` / `exec`
//!   point the command's resolver and CA bundle at these (a private mount namespace, see the CLI).
//! - **A loopback proxy port** on the host (always, no privilege): as `HTTP_PROXY`/`HTTPS_PROXY`
//!   it answers as the instance's metadata service for `http://100.100.100.200/...`, as the API
//!   for requests to service names, and for `CONNECT` to a service name it terminates TLS itself
//!   with a certificate of the local CA and serves the API inside the tunnel. It never forwards
//!   anything anywhere: a `CONNECT` to any other name is refused.
//!
//! An instance's environment exists only while it runs: `PrepareInstanceEnvironment` refuses an
//! instance that is not `Running`, and StopInstance / RebootInstance / DeleteInstance take it down
//! ([`InstanceNetwork::release`]) and end the programs in its namespace ([`crate::power_off`]).

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener, UdpSocket as StdUdp};
use std::os::fd::AsFd;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rolestack_core::network::{InstanceEndpoints, InstanceNetwork, PowerOff};
use rolestack_core::service::Rolestack;

use crate::connections::{serve_stream, Connections, Transport};
use crate::dns::Resolver;
use crate::metadata::{self, InstanceMetadata};
use crate::power_off::{self, HeldNamespace};
use crate::tls::LabCa;

/// The metadata address of every Alibaba Cloud instance.
pub const METADATA_IP: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

/// The network namespace a request came in through (a request extension on the API served
/// inside an instance's namespace): what "loopback" means for that request's upload callbacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace(pub String);

/// Connects to `addr` from inside the network namespace `name` (a thread joins it, connects, and
/// ends; no thread of the runtime or the blocking pool ever changes namespace).
pub async fn connect_in_namespace(name: &str, addr: SocketAddr, timeout: std::time::Duration) -> std::io::Result<tokio::net::TcpStream> {
    let path = format!("/run/netns/{name}");
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let connected = std::fs::File::open(&path)
            .and_then(|ns| nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(std::io::Error::from))
            .and_then(|()| std::net::TcpStream::connect_timeout(&addr, timeout))
            .and_then(|s| s.set_nonblocking(true).map(|()| s));
        let _ = tx.send(connected);
    });
    let stream = rx.await.map_err(|_| std::io::Error::other("the namespace thread ended"))??;
    tokio::net::TcpStream::from_std(stream)
}

/// Whether to make network namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamespaceMode {
    /// When running as root and `ip` exists.
    Auto,
    On,
    Off,
}

pub struct HostNetwork {
    runtime: tokio::runtime::Handle,
    /// The server's connection bounds, shared with its other listeners.
    connections: Connections,
    /// The host API port, reused inside namespaces so `ROLESTACK_ENDPOINT` looks the same.
    api_port: u16,
    namespaces: bool,
    /// With `On`, a namespace that cannot be made is an error; with `Auto`, the proxy alone serves.
    required: bool,
    ca: Arc<LabCa>,
    tls: Arc<rustls::ServerConfig>,
    rs: OnceLock<Rolestack>,
    prepared: Mutex<HashMap<Environment, Prepared>>,
}

/// What an environment stands for: an instance, or a workstation (no metadata service).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Environment {
    Instance(String),
    Workstation,
}

/// An environment's endpoints and the tasks serving them.
struct Prepared {
    endpoints: InstanceEndpoints,
    tasks: Vec<tokio::task::AbortHandle>,
}

/// A socket to bind inside a namespace.
enum Bind {
    Tcp(SocketAddr),
    Udp(SocketAddr),
}

enum Bound {
    Tcp(StdListener),
    Udp(StdUdp),
}

impl HostNetwork {
    pub fn new(
        runtime: tokio::runtime::Handle,
        connections: Connections,
        ca: Arc<LabCa>,
        tls: Arc<rustls::ServerConfig>,
        api_port: u16,
        mode: NamespaceMode,
    ) -> Arc<Self> {
        let namespaces = match mode {
            NamespaceMode::On => true,
            NamespaceMode::Off => false,
            NamespaceMode::Auto => nix::unistd::geteuid().is_root() && on_path("ip"),
        };
        Arc::new(HostNetwork {
            runtime,
            connections,
            api_port,
            namespaces,
            required: mode == NamespaceMode::On,
            ca,
            tls,
            rs: OnceLock::new(),
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// Completes the two-way link: the network serves the state that holds it.
    pub fn attach(&self, rs: Rolestack) {
        let _ = self.rs.set(rs);
    }

    /// The instances whose network this host serves now.
    pub fn prepared_instances(&self) -> Vec<String> {
        let prepared = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        prepared
            .keys()
            .filter_map(|env| match env {
                Environment::Instance(id) => Some(id.clone()),
                Environment::Workstation => None,
            })
            .collect()
    }

    pub fn namespaces_enabled(&self) -> bool {
        self.namespaces
    }

    /// Deletes every namespace this server made (on shutdown).
    pub fn shutdown(&self) {
        let mut prepared = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        for (_, p) in prepared.drain() {
            Self::tear_down(p);
        }
    }

    fn tear_down(p: Prepared) {
        for task in p.tasks {
            task.abort();
        }
        if let Some(ns) = &p.endpoints.namespace {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }

    fn tokio_listener(&self, listener: StdListener) -> Result<tokio::net::TcpListener, String> {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let _guard = self.runtime.enter();
        tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())
    }

    fn serve(&self, listener: StdListener, app: Router) -> Result<tokio::task::AbortHandle, String> {
        let listener = self.tokio_listener(listener)?;
        let connections = self.connections.clone();
        Ok(self.runtime.spawn(async move { connections.serve(listener, app).await }).abort_handle())
    }

    fn serve_tls(&self, listener: StdListener, app: Router) -> Result<tokio::task::AbortHandle, String> {
        let listener = self.tokio_listener(listener)?;
        let (connections, tls) = (self.connections.clone(), self.tls.clone());
        Ok(self.runtime.spawn(async move { connections.serve_tls(listener, app, tls).await }).abort_handle())
    }

    fn serve_dns(&self, udp: StdUdp, tcp: StdListener) -> Result<tokio::task::AbortHandle, String> {
        udp.set_nonblocking(true).map_err(|e| e.to_string())?;
        let tcp = self.tokio_listener(tcp)?;
        let _guard = self.runtime.enter();
        let udp = tokio::net::UdpSocket::from_std(udp).map_err(|e| e.to_string())?;
        let resolver = Resolver { address: Ipv4Addr::LOCALHOST };
        Ok(self.runtime.spawn(resolver.serve(udp, tcp)).abort_handle())
    }

    fn make_namespace(&self, name: &str, metadata: bool) -> Result<(), String> {
        let ip = |args: &[&str]| -> Result<(), String> {
            let out = Command::new("ip").args(args).output().map_err(|e| format!("running ip: {e}"))?;
            if out.status.success() {
                Ok(())
            } else {
                Err(format!("ip {}: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
            }
        };
        // A namespace left by an earlier run of this server holds dead sockets: start afresh.
        let _ = Command::new("ip").args(["netns", "del", name]).output();
        ip(&["netns", "add", name])?;
        ip(&["-n", name, "link", "set", "lo", "up"])?;
        if metadata {
            ip(&["-n", name, "addr", "add", &format!("{METADATA_IP}/32"), "dev", "lo"])?;
        }
        Ok(())
    }

    /// Binds sockets inside the namespace from a thread that joins it, then hands them back.
    fn bind_in_namespace(name: &str, binds: Vec<Bind>) -> Result<Vec<Bound>, String> {
        let path = format!("/run/netns/{name}");
        std::thread::spawn(move || -> Result<Vec<Bound>, String> {
            let ns = std::fs::File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {path}: {e}"))?;
            binds
                .iter()
                .map(|b| match b {
                    Bind::Tcp(a) => StdListener::bind(a).map(Bound::Tcp).map_err(|e| format!("binding tcp {a} in {path}: {e}")),
                    Bind::Udp(a) => StdUdp::bind(a).map(Bound::Udp).map_err(|e| format!("binding udp {a} in {path}: {e}")),
                })
                .collect()
        })
        .join()
        .map_err(|_| "namespace thread panicked".to_string())?
    }

    /// Makes (or returns) the endpoints of an environment.
    fn environment(&self, env: Environment, account_id: &str) -> Result<InstanceEndpoints, String> {
        let mut prepared = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = prepared.get(&env) {
            return Ok(p.endpoints.clone());
        }
        let rs = self.rs.get().ok_or("the instance network is not attached to a server")?.clone();
        let identity = match &env {
            Environment::Instance(id) => Some(Arc::new(InstanceMetadata::new(rs.clone(), account_id, id.clone()))),
            Environment::Workstation => None,
        };
        let proxy = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
        let proxy_addr = proxy.local_addr().map_err(|e| e.to_string())?;
        let gateway = Gateway { rs: rs.clone(), identity: identity.clone(), tls: self.tls.clone(), connections: self.connections.clone() };
        let mut tasks = vec![self.serve(proxy, proxy_app(gateway))?];
        let mut ep = InstanceEndpoints {
            namespace: None,
            api_in_namespace: None,
            proxy: proxy_addr.to_string(),
            ca_certificate: self.ca.certificate_pem().to_string(),
        };
        if self.namespaces {
            let name = match &env {
                Environment::Instance(id) => format!("rs-{id}"),
                Environment::Workstation => format!("rs-ws-{}", self.api_port),
            };
            match self.namespace_for(&name, identity, rs) {
                Ok((api, served)) => {
                    ep.namespace = Some(name);
                    ep.api_in_namespace = Some(api);
                    tasks.extend(served);
                }
                Err(e) if self.required => {
                    Self::tear_down(Prepared { endpoints: ep, tasks });
                    return Err(e);
                }
                Err(e) => tracing::warn!(namespace = name, error = %e, "no network namespace; the loopback proxy alone serves"),
            }
        }
        prepared.insert(env, Prepared { endpoints: ep.clone(), tasks });
        Ok(ep)
    }

    /// Makes a namespace and serves metadata (for an instance), the API, HTTPS and DNS inside it.
    fn namespace_for(
        &self,
        name: &str,
        identity: Option<Arc<InstanceMetadata>>,
        rs: Rolestack,
    ) -> Result<(String, Vec<tokio::task::AbortHandle>), String> {
        self.make_namespace(name, identity.is_some())?;
        let api_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.api_port));
        let mut binds = vec![
            Bind::Tcp(api_addr),
            Bind::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 443))),
            Bind::Udp(SocketAddr::from((Ipv4Addr::LOCALHOST, 53))),
            Bind::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 53))),
        ];
        if self.api_port != 80 {
            binds.push(Bind::Tcp(SocketAddr::from((Ipv4Addr::LOCALHOST, 80))));
        }
        if identity.is_some() {
            binds.push(Bind::Tcp(SocketAddr::from((METADATA_IP, 80))));
        }
        let mut sockets = Self::bind_in_namespace(name, binds)?.into_iter();
        let (api, https, dns_udp, dns_tcp) = (tcp(&mut sockets)?, tcp(&mut sockets)?, udp(&mut sockets)?, tcp(&mut sockets)?);
        let app = || crate::app(rs.clone()).layer(axum::Extension(Namespace(name.to_string())));
        let mut served = vec![self.serve(api, app())?, self.serve_tls(https, app())?, self.serve_dns(dns_udp, dns_tcp)?];
        if self.api_port != 80 {
            served.push(self.serve(tcp(&mut sockets)?, app())?);
        }
        if let Some(identity) = identity {
            served.push(self.serve(tcp(&mut sockets)?, metadata::app(InstanceMetadata::clone(&identity)))?);
        }
        Ok((api_addr.to_string(), served))
    }
}

/// Whether an executable `name` is on `PATH` (looked up, not run: starting costs no process).
fn on_path(name: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path)
            .any(|dir| std::fs::metadata(dir.join(name)).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
    })
}

fn tcp(sockets: &mut impl Iterator<Item = Bound>) -> Result<StdListener, String> {
    match sockets.next() {
        Some(Bound::Tcp(l)) => Ok(l),
        _ => Err("binding in the namespace returned the wrong sockets".into()),
    }
}

fn udp(sockets: &mut impl Iterator<Item = Bound>) -> Result<StdUdp, String> {
    match sockets.next() {
        Some(Bound::Udp(u)) => Ok(u),
        _ => Err("binding in the namespace returned the wrong sockets".into()),
    }
}

impl InstanceNetwork for HostNetwork {
    fn prepare(&self, account_id: &str, instance_id: &str) -> Result<InstanceEndpoints, String> {
        self.environment(Environment::Instance(instance_id.to_string()), account_id)
    }

    fn prepare_workstation(&self, account_id: &str) -> Result<InstanceEndpoints, String> {
        self.environment(Environment::Workstation, account_id)
    }

    fn release(&self, instance_id: &str, how: PowerOff) {
        let removed = self.prepared.lock().unwrap_or_else(|p| p.into_inner()).remove(&Environment::Instance(instance_id.to_string()));
        let Some(p) = removed else { return };
        // The namespace, held before its file goes: its processes are the instance's programs.
        let namespace = p.endpoints.namespace.as_deref().and_then(|ns| HeldNamespace::open(Path::new(&format!("/run/netns/{ns}"))));
        // Listeners first, so nothing a program does while it ends reaches the instance's
        // metadata service or the API any more (refused: nothing listens in its namespace).
        let listeners = p.tasks.clone();
        Self::tear_down(p);
        if let Some(held) = namespace {
            let instance = instance_id.to_string();
            let ended = std::thread::Builder::new().name("power-off".into()).spawn(move || {
                // An aborted task ends (and drops its socket) when the runtime next polls it.
                power_off::wait_until(|| listeners.iter().all(|t| t.is_finished()));
                let signalled = power_off::end_programs(&held, how);
                tracing::info!(instance, signalled, ?how, "instance powered off: its programs ended");
            });
            if let Err(e) = ended {
                tracing::error!(instance = instance_id, error = %e, "could not start the thread that ends the instance's programs");
            }
        }
    }
}

/// What the loopback proxy of one environment answers as.
#[derive(Clone)]
struct Gateway {
    rs: Rolestack,
    /// The instance, for the metadata service; `None` for the workstation.
    identity: Option<Arc<InstanceMetadata>>,
    tls: Arc<rustls::ServerConfig>,
    connections: Connections,
}

/// The loopback proxy of one environment.
fn proxy_app(gateway: Gateway) -> Router {
    Router::new().fallback(proxy).with_state(Arc::new(gateway))
}

async fn proxy(State(gw): State<Arc<Gateway>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    if req.method() == Method::CONNECT {
        return tunnel(gw, peer, req);
    }
    let host =
        req.uri().host().map(str::to_string).or_else(|| {
            req.headers().get("host").and_then(|h| h.to_str().ok()).map(|h| rolestack_core::endpoints::strip_port(h).to_string())
        });
    let for_metadata =
        host.as_deref() == Some("100.100.100.200") || rolestack_core::metadata::canonical_path(req.uri().path()).starts_with("/latest");
    match (&gw.identity, for_metadata) {
        (Some(identity), true) => metadata::serve(State(identity.clone()), req).await,
        (None, true) => (StatusCode::BAD_GATEWAY, "this environment has no instance metadata service\n").into_response(),
        _ => crate::dispatch(gw.rs.clone(), peer, req).await,
    }
}

/// `CONNECT host:port`: for a service name, answer 200 and serve the API inside the tunnel (over
/// TLS with a certificate of the local CA for port 443, plain otherwise). Nothing is forwarded.
fn tunnel(gw: Arc<Gateway>, peer: SocketAddr, req: Request) -> Response {
    let Some(authority) = req.uri().authority().cloned() else {
        return (StatusCode::BAD_REQUEST, "CONNECT needs host:port\n").into_response();
    };
    if rolestack_core::endpoints::classify(authority.host()).is_none() {
        return (StatusCode::FORBIDDEN, format!("rolestack serves only Alibaba Cloud service names, not {}\n", authority.host()))
            .into_response();
    }
    let tls = authority.port_u16() == Some(443);
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(u) => hyper_util::rt::TokioIo::new(u),
            Err(e) => return tracing::debug!(%peer, error = %e, "CONNECT upgrade failed"),
        };
        let app = crate::app(gw.rs.clone());
        let limits = gw.connections.limits().clone();
        if tls {
            let acceptor = tokio_rustls::TlsAcceptor::from(gw.tls.clone());
            match tokio::time::timeout(limits.header_timeout, acceptor.accept(upgraded)).await {
                Ok(Ok(stream)) => {
                    let sni = stream.get_ref().1.server_name().map(str::to_string);
                    serve_stream(stream, Transport::Tls { server_name: sni }, peer, app, &limits).await
                }
                _ => tracing::debug!(%peer, "TLS handshake in a CONNECT tunnel failed"),
            }
        } else {
            serve_stream(upgraded, Transport::Plain, peer, app, &limits).await
        }
    });
    // A 2xx to CONNECT carries no body framing headers (hyper refuses a Content-Length here), so
    // its body must be one of unknown size: axum sets Content-Length from an exact size hint.
    let empty = futures_util::stream::empty::<Result<axum::body::Bytes, std::io::Error>>();
    (StatusCode::OK, axum::body::Body::from_stream(empty)).into_response()
}
