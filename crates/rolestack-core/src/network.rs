//! The port through which the core asks its host to give an instance a network presence: the
//! metadata service at 100.100.100.200 and the API, reachable from code running "inside" the
//! instance. The server implements it (network namespaces when it may, loopback proxies always);
//! the core only asks and reports, so it stays free of sockets.

/// Where code "inside" an instance reaches rolestack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceEndpoints {
    /// The network namespace made for the instance (`ip netns` name), when the host can make one.
    /// Inside it, 100.100.100.200:80 is the metadata service and `api_in_namespace` the API.
    pub namespace: Option<String>,
    /// The API address inside the namespace (`127.0.0.1:<port>`).
    pub api_in_namespace: Option<String>,
    /// A loopback address on the host that answers as the instance without any privilege: as an HTTP
    /// proxy for `http://100.100.100.200/...` (set `HTTP_PROXY`), for `/latest/...` paths directly,
    /// and as the API for everything else; `CONNECT` to a service name is answered over TLS.
    pub proxy: String,
    /// The local CA's certificate (PEM): what the environment's programs must trust.
    pub ca_certificate: String,
}

pub trait InstanceNetwork: Send + Sync {
    /// Makes (or returns the existing) endpoints for an instance.
    fn prepare(&self, account_id: &str, instance_id: &str) -> Result<InstanceEndpoints, String>;
    /// Makes (or returns) the endpoints of a workstation: the same service names and trust as an
    /// instance, without an instance identity or metadata service (`rolestack exec`).
    fn prepare_workstation(&self, account_id: &str) -> Result<InstanceEndpoints, String>;
    /// Powers an instance's environment off, as when it stops, reboots or is deleted: its
    /// endpoints go down (listeners and namespace, so its metadata service answers nothing) and
    /// the programs running inside it end (`how`). Nothing happens for an instance that was never
    /// prepared. See docs/instances.md "Stopping an instance".
    fn release(&self, instance_id: &str, how: PowerOff);
}

/// How the programs inside an instance end when it powers off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerOff {
    /// A normal stop (StopInstance without `ForceStop`): the programs are asked to end
    /// (`SIGTERM`), and those still running after a grace period are killed.
    Graceful,
    /// A forced stop (`ForceStop=true`, DeleteInstance with `Force`): killed at once, like
    /// pulling the power.
    Forced,
}

impl PowerOff {
    /// `Forced` when `force` (the action's `ForceStop` / `Force`), else `Graceful`.
    pub fn forced_if(force: bool) -> Self {
        if force {
            PowerOff::Forced
        } else {
            PowerOff::Graceful
        }
    }
}

/// A host that cannot give instances a network presence (tests of the core, library use).
pub struct NoNetwork;

impl InstanceNetwork for NoNetwork {
    fn prepare(&self, _account_id: &str, _instance_id: &str) -> Result<InstanceEndpoints, String> {
        Err("this rolestack host does not serve instance networks".into())
    }
    fn prepare_workstation(&self, _account_id: &str) -> Result<InstanceEndpoints, String> {
        Err("this rolestack host does not serve workstation networks".into())
    }
    fn release(&self, _instance_id: &str, _how: PowerOff) {}
}
