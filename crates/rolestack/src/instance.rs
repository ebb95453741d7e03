//! `rolestack instance exec`: runs a command as code on an instance would run. In the instance's
//! network namespace (when the server made one and we are root) 100.100.100.200 is its metadata
//! service, Alibaba Cloud's service names resolve to rolestack and `ROLESTACK_ENDPOINT` is the API;
//! otherwise the instance's loopback proxy stands in, through `HTTP_PROXY`/`HTTPS_PROXY` (see
//! [`crate::environment`]). Either way the command starts with no AccessKey in its environment, as
//! on a fresh instance, so the SDKs' default credential chains reach the metadata service. When
//! the instance stops, the command ends (the server ends what is in the namespace; through the
//! proxy this process stays to do it, [`crate::supervise`]).
//! `rolestack exec` does the same for a workstation, with the caller's AccessKey.

use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::Context;

use crate::client::ClientArgs;
use crate::environment::{self, Environment, Way};

/// Variables that would make an SDK skip the metadata service, or route around it.
fn scrub(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        let upper = k.to_ascii_uppercase();
        if upper.starts_with("ALIBABA_CLOUD_")
            || upper.starts_with("ALIYUN_")
            || upper.starts_with("OSS_")
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY")
        {
            cmd.env_remove(&k);
        }
    }
}

pub fn exec(client: &ClientArgs, instance_id: &str, force_proxy: bool, argv: &[String]) -> anyhow::Result<()> {
    let args = [format!("InstanceId={instance_id}")];
    let mut env = client.call_ok("rolestack", "PrepareInstanceEnvironment", &args)?;
    // On a cluster the instance lives on one node: ask that one (docs/scale-out.md).
    if let Some(endpoint) = env["RedirectEndpoint"].as_str() {
        let owner = ClientArgs { endpoint: endpoint.to_string(), ..client.clone() };
        env = owner.call_ok("rolestack", "PrepareInstanceEnvironment", &args)?;
    }
    let env = Environment::from_response(&env)?;
    let (program, args) = argv.split_first().context("no command given")?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    scrub(&mut cmd);
    cmd.env("ROLESTACK_INSTANCE_ID", instance_id);
    match environment::set_up(&env, !force_proxy, &mut cmd, "ROLESTACK_ENDPOINT")? {
        // In the namespace the command is the instance's: the server ends it when the instance stops.
        Way::Namespace(_) => {
            let err = cmd.exec();
            anyhow::bail!("running {:?}: {err}", cmd.get_program())
        }
        // On the host only this process knows it: it stays, and ends it when the instance stops.
        Way::Proxy(proxy) => crate::supervise::run(cmd, &proxy),
    }
}

/// `rolestack exec`: runs a command "as a workstation" — Alibaba Cloud's service names reach
/// rolestack, its CA is trusted — with the caller's AccessKey (or the account root's) in the
/// usual variables (`ALIBABA_CLOUD_ACCESS_KEY_*`, and `OSS_ACCESS_KEY_*` unless those are set), so
/// an application written for the real cloud runs with its default endpoints.
pub fn exec_workstation(client: &ClientArgs, force_proxy: bool, argv: &[String]) -> anyhow::Result<()> {
    let env = client.call_ok("rolestack", "PrepareWorkstationEnvironment", &[])?;
    let env = Environment::from_response(&env)?;
    let (program, args) = argv.split_first().context("no command given")?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    let (id, secret) = client.credentials()?;
    // The OSS SDKs' environment provider reads OSS_ACCESS_KEY_*: the same key, unless set apart.
    if std::env::var_os("OSS_ACCESS_KEY_ID").is_none() {
        cmd.env("OSS_ACCESS_KEY_ID", &id);
        cmd.env("OSS_ACCESS_KEY_SECRET", &secret);
    }
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_ID", id);
    cmd.env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret);
    environment::exec(&env, !force_proxy, cmd, "ROLESTACK_ENDPOINT", true)
}

/// Prints one line per instance: id, status, network type, VPC, private IP, RAM role.
pub fn list(client: &ClientArgs, region: &str) -> anyhow::Result<()> {
    let described = client.call_ok("ecs", "DescribeInstances", &[format!("RegionId={region}"), "PageSize=100".into()])?;
    let instances = described["Instances"]["Instance"].as_array().cloned().unwrap_or_default();
    println!("{:<24} {:<9} {:<8} {:<26} {:<16} RAM role", "InstanceId", "Status", "Network", "VPC", "PrivateIp");
    for inst in instances {
        let id = inst["InstanceId"].as_str().unwrap_or_default();
        let role = client.call_ok("ecs", "DescribeInstanceRamRole", &[format!("RegionId={region}"), format!("InstanceIds=[\"{id}\"]")])?;
        let role = role["InstanceRamRoleSets"]["InstanceRamRoleSet"]
            .as_array()
            .and_then(|sets| sets.iter().find_map(|s| s["RamRoleName"].as_str().filter(|r| !r.is_empty()).map(str::to_string)))
            .unwrap_or_else(|| "-".into());
        let vpc = inst["VpcAttributes"]["VpcId"].as_str().filter(|v| !v.is_empty()).unwrap_or("-");
        let ip = inst["VpcAttributes"]["PrivateIpAddress"]["IpAddress"][0]
            .as_str()
            .or_else(|| inst["InnerIpAddress"]["IpAddress"][0].as_str())
            .unwrap_or("-");
        println!(
            "{:<24} {:<9} {:<8} {:<26} {:<16} {role}",
            id,
            inst["Status"].as_str().unwrap_or("-"),
            inst["InstanceNetworkType"].as_str().unwrap_or("-"),
            vpc,
            ip
        );
    }
    Ok(())
}

/// The fault of `rolestack instance fault`, as its flags give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultArg {
    Delay(std::time::Duration),
    Status(u16),
    /// `N/s` (or just `N`).
    Throttle(String),
    /// A fault without a value (`Reset`, `Timeout`, `StaleCredentials`, `ExpireCredentials`).
    Plain(&'static str),
}

/// The parameters of InjectInstanceFault for a fault and its limits.
pub fn fault_params(
    fault: &FaultArg,
    path: Option<&str>,
    for_: Option<std::time::Duration>,
    count: Option<u64>,
) -> anyhow::Result<Vec<String>> {
    let mut params = match fault {
        FaultArg::Delay(d) => {
            let ms = d.as_millis();
            anyhow::ensure!(ms >= 1, "--delay must be at least 1ms");
            vec!["Fault=Delay".to_string(), format!("Value={ms}")]
        }
        FaultArg::Status(code) => vec!["Fault=Status".to_string(), format!("Value={code}")],
        FaultArg::Throttle(rate) => {
            let n = rate.trim().trim_end_matches("/s").trim();
            let n: u32 = n.parse().map_err(|_| anyhow::anyhow!("--throttle takes N/s, e.g. 5/s (got {rate:?})"))?;
            vec!["Fault=Throttle".to_string(), format!("Value={n}")]
        }
        FaultArg::Plain(name) => vec![format!("Fault={name}")],
    };
    if let Some(p) = path {
        params.push(format!("Path={p}"));
    }
    if let Some(d) = for_ {
        anyhow::ensure!(d.as_secs() >= 1, "--for must be at least 1s");
        params.push(format!("DurationSeconds={}", d.as_secs()));
    }
    if let Some(n) = count {
        params.push(format!("Count={n}"));
    }
    Ok(params)
}

#[cfg(test)]
mod fault_tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn fault_flags_become_parameters() {
        let p = fault_params(&FaultArg::Delay(Duration::from_secs(2)), Some("/latest/*"), None, Some(3)).unwrap();
        assert_eq!(p, ["Fault=Delay", "Value=2000", "Path=/latest/*", "Count=3"]);
        let p = fault_params(&FaultArg::Throttle("5/s".into()), None, Some(Duration::from_secs(30)), None).unwrap();
        assert_eq!(p, ["Fault=Throttle", "Value=5", "DurationSeconds=30"]);
        assert_eq!(fault_params(&FaultArg::Plain("Reset"), None, None, None).unwrap(), ["Fault=Reset"]);
        assert!(fault_params(&FaultArg::Throttle("fast".into()), None, None, None).is_err());
        assert!(fault_params(&FaultArg::Plain("Reset"), None, Some(Duration::from_millis(10)), None).is_err());
    }
}
