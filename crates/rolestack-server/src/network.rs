//! Gives instances a network presence, so unmodified SDKs "inside" an instance find the metadata
//! service at 100.100.100.200 exactly where they hard-code it.
//!
//! Two ways, both per instance, made on demand (`PrepareInstanceEnvironment`):
//! - **A network namespace** (when running as root with `ip` available): `rs-<instance-id>`, whose
//!   own `lo` carries 127.0.0.1 and 100.100.100.200/32. A helper thread `setns`es into it, binds
//!   100.100.100.200:80 (metadata) and 127.0.0.1:<api port> (the API), and hands the sockets back;
//!   the server accepts on them from its normal runtime. The socket a request arrives on is the
//!   instance's identity, and no packet ever leaves that namespace's loopback — there is no route
//!   out, so nothing can reach a real 100.100.100.200.
//! - **A loopback proxy port** on the host (always, no privilege): it answers as the instance's
//!   metadata service for requests addressed to `http://100.100.100.200/...` (set `HTTP_PROXY` to
//!   it) or for `/latest/...` paths, and as the API for everything else.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdListener};
use std::os::fd::AsFd;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::Router;
use rolestack_core::network::{InstanceEndpoints, InstanceNetwork};
use rolestack_core::service::Rolestack;

use crate::connections::Connections;
use crate::metadata::{self, InstanceIdentity};

/// The metadata address of every Alibaba Cloud instance.
pub const METADATA_IP: Ipv4Addr = Ipv4Addr::new(100, 100, 100, 200);

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
    rs: OnceLock<Rolestack>,
    prepared: Mutex<HashMap<String, Prepared>>,
}

/// An instance's endpoints and the tasks serving them.
struct Prepared {
    endpoints: InstanceEndpoints,
    tasks: Vec<tokio::task::AbortHandle>,
}

impl HostNetwork {
    pub fn new(runtime: tokio::runtime::Handle, connections: Connections, api_port: u16, mode: NamespaceMode) -> Arc<Self> {
        let namespaces = match mode {
            NamespaceMode::On => true,
            NamespaceMode::Off => false,
            NamespaceMode::Auto => {
                nix::unistd::geteuid().is_root() && Command::new("ip").arg("-V").output().is_ok_and(|o| o.status.success())
            }
        };
        Arc::new(HostNetwork {
            runtime,
            connections,
            api_port,
            namespaces,
            required: mode == NamespaceMode::On,
            rs: OnceLock::new(),
            prepared: Mutex::new(HashMap::new()),
        })
    }

    /// Completes the two-way link: the network serves the state that holds it.
    pub fn attach(&self, rs: Rolestack) {
        let _ = self.rs.set(rs);
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

    fn serve(&self, listener: StdListener, app: Router) -> Result<tokio::task::AbortHandle, String> {
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let _guard = self.runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
        let connections = self.connections.clone();
        let task = self.runtime.spawn(async move { connections.serve(listener, app).await });
        Ok(task.abort_handle())
    }

    fn make_namespace(&self, name: &str) -> Result<(), String> {
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
        ip(&["-n", name, "addr", "add", &format!("{METADATA_IP}/32"), "dev", "lo"])?;
        Ok(())
    }

    /// Binds sockets inside the namespace from a thread that joins it, then hands them back.
    fn bind_in_namespace(name: &str, addrs: Vec<SocketAddr>) -> Result<Vec<StdListener>, String> {
        let path = format!("/run/netns/{name}");
        std::thread::spawn(move || -> Result<Vec<StdListener>, String> {
            let ns = std::fs::File::open(&path).map_err(|e| format!("opening {path}: {e}"))?;
            nix::sched::setns(ns.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| format!("setns {path}: {e}"))?;
            addrs.iter().map(|a| StdListener::bind(a).map_err(|e| format!("binding {a} in {path}: {e}"))).collect()
        })
        .join()
        .map_err(|_| "namespace thread panicked".to_string())?
    }
}

impl InstanceNetwork for HostNetwork {
    fn prepare(&self, account_id: &str, instance_id: &str) -> Result<InstanceEndpoints, String> {
        let mut prepared = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(p) = prepared.get(instance_id) {
            return Ok(p.endpoints.clone());
        }
        let rs = self.rs.get().ok_or("the instance network is not attached to a server")?.clone();
        let identity = InstanceIdentity { rs: rs.clone(), account_id: account_id.into(), instance_id: instance_id.into() };

        let proxy = StdListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
        let proxy_addr = proxy.local_addr().map_err(|e| e.to_string())?;
        let mut tasks = vec![self.serve(proxy, proxy_app(identity.clone()))?];
        let mut ep = InstanceEndpoints { namespace: None, api_in_namespace: None, proxy: proxy_addr.to_string() };

        if self.namespaces {
            match self.namespace_for(instance_id, identity, rs) {
                Ok((name, api, served)) => {
                    ep.namespace = Some(name);
                    ep.api_in_namespace = Some(api);
                    tasks.extend(served);
                }
                Err(e) if self.required => {
                    Self::tear_down(Prepared { endpoints: ep, tasks });
                    return Err(e);
                }
                Err(e) => {
                    tracing::warn!(instance = instance_id, error = %e, "no network namespace; the loopback proxy alone serves this instance")
                }
            }
        }
        prepared.insert(instance_id.to_string(), Prepared { endpoints: ep.clone(), tasks });
        Ok(ep)
    }

    fn release(&self, instance_id: &str) {
        let removed = self.prepared.lock().unwrap_or_else(|p| p.into_inner()).remove(instance_id);
        if let Some(p) = removed {
            Self::tear_down(p);
        }
    }
}

impl HostNetwork {
    /// Makes the instance's namespace and serves metadata and the API inside it.
    fn namespace_for(
        &self,
        instance_id: &str,
        identity: InstanceIdentity,
        rs: Rolestack,
    ) -> Result<(String, String, Vec<tokio::task::AbortHandle>), String> {
        let name = format!("rs-{instance_id}");
        self.make_namespace(&name)?;
        let api_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.api_port));
        let mut sockets = Self::bind_in_namespace(&name, vec![SocketAddr::from((METADATA_IP, 80)), api_addr])?.into_iter();
        let (Some(md), Some(api)) = (sockets.next(), sockets.next()) else {
            return Err("binding in the namespace returned too few sockets".into());
        };
        let served = vec![self.serve(md, metadata::app(identity))?, self.serve(api, crate::app(rs))?];
        Ok((name, api_addr.to_string(), served))
    }
}

/// The loopback proxy of one instance: metadata for `100.100.100.200` and `/latest/...`, the API
/// for everything else.
fn proxy_app(identity: InstanceIdentity) -> Router {
    Router::new().fallback(proxy).with_state(Arc::new(identity))
}

async fn proxy(State(id): State<Arc<InstanceIdentity>>, ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request) -> Response {
    let host = req
        .uri()
        .host()
        .map(str::to_string)
        .or_else(|| req.headers().get("host").and_then(|h| h.to_str().ok()).map(|h| h.split(':').next().unwrap_or(h).to_string()));
    let for_metadata = host.as_deref() == Some("100.100.100.200") || req.uri().path().starts_with("/latest");
    if for_metadata {
        metadata::serve(State(id), req).await
    } else {
        crate::dispatch(id.rs.clone(), peer, req).await
    }
}
