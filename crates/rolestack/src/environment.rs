//! Running a command inside an environment the server prepared — an instance (`rolestack instance
//! exec`) or a workstation (`rolestack exec`) — so that a program written for the real cloud runs
//! unchanged: Alibaba Cloud's service names reach rolestack and its local CA is trusted.
//!
//! Two ways:
//! - **Namespace** (root, and the server made one): the command joins the environment's network
//!   namespace and gets a private mount namespace in which `/etc/resolv.conf` names the resolver
//!   inside the namespace (127.0.0.1), `/etc/hosts` holds only loopback names, and the system CA
//!   bundle (Debian's and Red Hat's standard paths) is the system's plus the local CA. The host's
//!   own files and mounts are untouched: the mounts exist only in the command's mount namespace
//!   (made private first, so nothing propagates back).
//! - **Proxy** (no privilege): `HTTP_PROXY`/`HTTPS_PROXY` name the environment's loopback proxy,
//!   which answers service names itself (TLS included) and forwards nothing. Programs that ignore
//!   proxy variables do not reach rolestack this way.
//!
//! Either way the CA bundle is also named by `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`,
//! `CURL_CA_BUNDLE`, `NODE_EXTRA_CA_CERTS` and `ALIBABA_CLOUD_CA_BUNDLE`.

use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};
use nix::mount::{mount, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

/// Where distributions keep the system CA bundle; each one that exists gets the local CA added.
const SYSTEM_BUNDLES: &[&str] = &["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"];
/// The directory the private files are mounted from (a tmpfs inside the command's mount namespace).
const SCRATCH: &str = "/run/rolestack-exec";

/// What the server answered for the environment (`Prepare*Environment`).
pub struct Environment {
    pub namespace: Option<String>,
    pub api_in_namespace: Option<String>,
    pub proxy: String,
    pub ca_certificate: String,
}

impl Environment {
    pub fn from_response(v: &serde_json::Value) -> anyhow::Result<Environment> {
        Ok(Environment {
            namespace: v["Namespace"].as_str().map(str::to_string),
            api_in_namespace: v["ApiEndpointInNamespace"].as_str().map(str::to_string),
            proxy: v["Proxy"].as_str().context("the server reported no proxy address")?.to_string(),
            ca_certificate: v["CaCertificate"].as_str().unwrap_or_default().to_string(),
        })
    }
}

/// Which way a command was set up.
pub enum Way {
    Namespace(String),
    Proxy(String),
}

impl std::fmt::Display for Way {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Way::Namespace(ns) => write!(
                f,
                "network namespace {ns}: Alibaba Cloud service names resolve to rolestack, other names do not resolve, the local CA is trusted"
            ),
            Way::Proxy(p) => write!(
                f,
                "no namespace (not root, or the server has none): HTTP_PROXY/HTTPS_PROXY=http://{p} answer service names; programs that ignore proxy variables will not reach rolestack"
            ),
        }
    }
}

/// The system CA bundle (the first standard path that exists) followed by the local CA.
fn bundle(ca_pem: &str) -> String {
    let system = SYSTEM_BUNDLES.iter().find_map(|p| std::fs::read_to_string(p).ok()).unwrap_or_default();
    let mut out = system;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("# rolestack local CA\n");
    out.push_str(ca_pem);
    out
}

fn set_ca_variables(cmd: &mut Command, bundle: &Path) {
    for var in ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "ALIBABA_CLOUD_CA_BUNDLE"] {
        cmd.env(var, bundle);
    }
}

/// Sets the command up in `env` (namespace when `namespace_ok`, else proxy) and replaces this
/// process with it. `api_var` receives the API endpoint as seen by the command.
pub fn exec(env: &Environment, namespace_ok: bool, mut cmd: Command, api_var: &str, announce: bool) -> anyhow::Result<()> {
    let way = set_up(env, namespace_ok, &mut cmd, api_var)?;
    if announce {
        eprintln!("rolestack: {way}");
    }
    let err = cmd.exec();
    bail!("running {:?}: {err}", cmd.get_program())
}

/// Sets the command up in `env` (namespace when `namespace_ok`, else proxy): after this the
/// command runs inside it. Joins the namespace (this process) for the namespace way.
pub fn set_up(env: &Environment, namespace_ok: bool, cmd: &mut Command, api_var: &str) -> anyhow::Result<Way> {
    let namespace = env.namespace.as_deref().filter(|_| namespace_ok && nix::unistd::geteuid().is_root());
    let way = match namespace {
        Some(ns) => {
            let api = env.api_in_namespace.as_deref().context("the server reported a namespace without an API address")?;
            cmd.env(api_var, format!("http://{api}"));
            for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy", "no_proxy"] {
                cmd.env_remove(var);
            }
            enter_namespace(ns, &env.ca_certificate, cmd)?;
            Way::Namespace(ns.to_string())
        }
        None => {
            let url = format!("http://{}", env.proxy);
            for var in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
                cmd.env(var, &url);
            }
            for var in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] {
                cmd.env_remove(var);
            }
            cmd.env(api_var, &url);
            let path = private_bundle_file(&env.ca_certificate)?;
            set_ca_variables(cmd, &path);
            Way::Proxy(env.proxy.clone())
        }
    };
    Ok(way)
}

/// Joins the network namespace, then a private mount namespace with our resolver, hosts file and
/// CA bundle mounted over the system's.
fn enter_namespace(ns: &str, ca_pem: &str, cmd: &mut Command) -> anyhow::Result<()> {
    let path = format!("/run/netns/{ns}");
    let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
    setns(file.as_fd(), CloneFlags::CLONE_NEWNET).with_context(|| format!("entering {path}"))?;
    unshare(CloneFlags::CLONE_NEWNS).context("making a private mount namespace")?;
    // Nothing mounted from here on may propagate back to the host.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>).context("making mounts private")?;
    std::fs::create_dir_all(SCRATCH).with_context(|| format!("creating {SCRATCH}"))?;
    mount(Some("tmpfs"), SCRATCH, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some("mode=0755,size=8m"))
        .with_context(|| format!("mounting a tmpfs on {SCRATCH}"))?;
    let scratch = PathBuf::from(SCRATCH);
    let write = |name: &str, contents: &str| -> anyhow::Result<PathBuf> {
        let p = scratch.join(name);
        std::fs::write(&p, contents).with_context(|| format!("writing {}", p.display()))?;
        Ok(p)
    };
    let resolv = write("resolv.conf", "# rolestack: the resolver of this environment answers Alibaba Cloud service names only\nnameserver 127.0.0.1\noptions timeout:1 attempts:1\n")?;
    let host = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_default();
    let hosts = write("hosts", &format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{host}\n"))?;
    let ca_bundle = write("ca-certificates.crt", &bundle(ca_pem))?;
    bind_over(&resolv, Path::new("/etc/resolv.conf"));
    bind_over(&hosts, Path::new("/etc/hosts"));
    let mut trusted = ca_bundle.clone();
    for system in SYSTEM_BUNDLES {
        if bind_over(&ca_bundle, Path::new(system)) && trusted == ca_bundle {
            trusted = PathBuf::from(system);
        }
    }
    set_ca_variables(cmd, &trusted);
    Ok(())
}

/// Bind-mounts `source` over `target` when `target` exists (following a symlink to its file);
/// `false` when there is nothing to cover. Without `/etc/resolv.conf` the C library asks
/// 127.0.0.1 anyway, which is this environment's resolver.
fn bind_over(source: &Path, target: &Path) -> bool {
    if !target.exists() {
        return false;
    }
    mount(Some(source), target, None::<&str>, MsFlags::MS_BIND, None::<&str>).is_ok()
}

/// Without privilege: the bundle in a directory of the user's own.
fn private_bundle_file(ca_pem: &str) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let uid = nix::unistd::geteuid();
    let dir = std::env::temp_dir().join(format!("rolestack-{uid}"));
    match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e).with_context(|| format!("creating {}", dir.display())),
        _ => {}
    }
    // A directory someone else made (or loosened) could hand us their CA bundle: refuse it.
    let meta = std::fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid.as_raw() || meta.mode() & 0o077 != 0 {
        bail!("{} is not a private directory of this user; remove it and retry", dir.display());
    }
    let path = dir.join("ca-bundle.pem");
    std::fs::write(&path, bundle(ca_pem)).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
