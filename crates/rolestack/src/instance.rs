//! `rolestack instance exec`: runs a command as code on an instance would run. In the instance's
//! network namespace (when the server made one and we are root) 100.100.100.200 is its metadata
//! service and `ROLESTACK_ENDPOINT` the API; otherwise the instance's loopback proxy stands in,
//! through `HTTP_PROXY`. Either way the command starts with no AccessKey in its environment, as on a
//! fresh instance, so the SDKs' default credential chains reach the metadata service.

use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

use anyhow::{bail, Context};

use crate::client::ClientArgs;

/// Variables that would make an SDK skip the metadata service, or route around it.
fn scrub(cmd: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        let upper = k.to_ascii_uppercase();
        if upper.starts_with("ALIBABA_CLOUD_") || upper.starts_with("ALIYUN_") || upper.starts_with("OSS_")
            || matches!(upper.as_str(), "HTTP_PROXY" | "HTTPS_PROXY" | "ALL_PROXY" | "NO_PROXY")
        {
            cmd.env_remove(&k);
        }
    }
}

pub fn exec(client: &ClientArgs, instance_id: &str, force_proxy: bool, argv: &[String]) -> anyhow::Result<()> {
    let env = client.call_ok("rolestack", "PrepareInstanceEnvironment", &[format!("InstanceId={instance_id}")])?;
    let (program, args) = argv.split_first().context("no command given")?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    scrub(&mut cmd);
    cmd.env("ROLESTACK_INSTANCE_ID", instance_id);
    let namespace = env["Namespace"].as_str().filter(|_| !force_proxy && nix::unistd::geteuid().is_root());
    match namespace {
        Some(ns) => {
            let api = env["ApiEndpointInNamespace"].as_str().context("the server reported a namespace without an API address")?;
            cmd.env("ROLESTACK_ENDPOINT", format!("http://{api}"));
            let path = format!("/run/netns/{ns}");
            let file = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).with_context(|| format!("entering {path}"))?;
        }
        None => {
            let proxy = env["Proxy"].as_str().context("the server reported no proxy address")?;
            let url = format!("http://{proxy}");
            for var in ["HTTP_PROXY", "http_proxy"] {
                cmd.env(var, &url);
            }
            cmd.env("ROLESTACK_ENDPOINT", &url);
        }
    }
    let err = cmd.exec();
    bail!("running {program}: {err}")
}
