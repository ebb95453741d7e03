//! A minimal RPC client for the CLI: signs requests with signature V1 (HMAC-SHA1) exactly as
//! aliyun-python-sdk-core does, so the CLI exercises the same gateway path as the SDKs.

use std::path::PathBuf;

use anyhow::{bail, Context};
use rolestack_sign::{encoding, rpc_v1};

use crate::data_dir::{self, DataDir};

/// Where the server is and who calls it: `--access-key-id`/`--access-key-secret` (or the usual
/// `ALIBABA_CLOUD_ACCESS_KEY_*` variables), else the root key saved in the data directory.
#[derive(clap::Args, Clone)]
pub struct ClientArgs {
    /// The server's API endpoint.
    #[arg(long, env = "ROLESTACK_ENDPOINT", default_value = "http://127.0.0.1:8960")]
    pub endpoint: String,
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    #[arg(long, env = "ALIBABA_CLOUD_ACCESS_KEY_SECRET", hide_env_values = true)]
    pub access_key_secret: Option<String>,
    /// Used for the root key when no AccessKey is given.
    #[arg(long, env = "ROLESTACK_DATA_DIR", default_value_os_t = data_dir::default_path())]
    pub data_dir: PathBuf,
}

fn version_of(product: &str) -> anyhow::Result<&'static str> {
    match rolestack_core::product::Product::from_name(product) {
        Some(p) => Ok(p.spec().version),
        None => {
            let names: Vec<&str> = rolestack_core::product::PRODUCTS.iter().map(|s| s.name).collect();
            bail!("unknown product {product}: use one of {}", names.join(", "))
        }
    }
}

impl ClientArgs {
    /// The AccessKey the CLI signs with: the one given, else the account root's from the data dir.
    pub fn credentials(&self) -> anyhow::Result<(String, String)> {
        match (&self.access_key_id, &self.access_key_secret) {
            (Some(id), Some(secret)) => Ok((id.clone(), secret.clone())),
            _ => {
                let root = DataDir::new(self.data_dir.clone())
                    .read_root_credentials()
                    .context("no AccessKey given (--access-key-id/--access-key-secret or ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET)")?;
                Ok((root.access_key_id, root.access_key_secret))
            }
        }
    }

    /// Calls `action`; returns whether it succeeded and the response body.
    pub fn call(&self, product: &str, action: &str, args: &[String]) -> anyhow::Result<(bool, String)> {
        let (id, secret) = self.credentials()?;
        let now = time::OffsetDateTime::now_utc();
        let mut params: Vec<(String, String)> = vec![
            ("Action".into(), action.into()),
            ("Version".into(), version_of(product)?.into()),
            ("AccessKeyId".into(), id),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), uuid::Uuid::new_v4().simple().to_string()),
            ("Timestamp".into(), rolestack_core::clock::format_date(now)),
        ];
        if !args.iter().any(|a| a.starts_with("Format=")) {
            params.push(("Format".into(), "JSON".into()));
        }
        for arg in args {
            let (k, v) = arg.split_once('=').with_context(|| format!("parameter {arg:?} is not Name=Value"))?;
            let v = match v.strip_prefix('@') {
                Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
                None => v.to_string(),
            };
            params.push((k.to_string(), v));
        }
        let signature = rpc_v1::sign(&secret, "POST", &params);
        params.push(("Signature".into(), signature));
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encoding::encode(k), encoding::encode(v))).collect();
        let url = format!("{}/?{}", self.endpoint.trim_end_matches('/'), query.join("&"));
        match ureq::post(&url).call() {
            Ok(resp) => Ok((true, resp.into_string()?)),
            Err(ureq::Error::Status(_, resp)) => Ok((false, resp.into_string()?)),
            Err(e) => Err(e).with_context(|| format!("calling {}", self.endpoint)),
        }
    }

    /// Calls `action` and parses its JSON body; a service error becomes an error naming its code.
    pub fn call_ok(&self, product: &str, action: &str, args: &[String]) -> anyhow::Result<serde_json::Value> {
        let (ok, body) = self.call(product, action, args)?;
        let v: serde_json::Value = serde_json::from_str(&body).with_context(|| format!("{action} answered non-JSON: {body}"))?;
        if !ok {
            bail!("{action} failed: {}: {}", v["Code"].as_str().unwrap_or("?"), v["Message"].as_str().unwrap_or(&body));
        }
        Ok(v)
    }
}
