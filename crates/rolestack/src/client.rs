//! A minimal RPC client for the CLI: signs requests with signature V1 (HMAC-SHA1) exactly as
//! aliyun-python-sdk-core does, so the CLI exercises the same gateway path as the SDKs.

use anyhow::{bail, Context};
use rolestack_sign::{encoding, rpc_v1};

pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: String,
}

fn version_of(product: &str) -> anyhow::Result<&'static str> {
    Ok(match product.to_ascii_lowercase().as_str() {
        "ram" => "2015-05-01",
        "sts" => "2015-04-01",
        "ecs" => "2014-05-26",
        other => bail!("unknown product {other}: use ram, sts or ecs"),
    })
}

/// Calls `action`; returns whether it succeeded and the response body.
pub fn call(endpoint: &str, creds: &Credentials, product: &str, action: &str, args: &[String]) -> anyhow::Result<(bool, String)> {
    let now = time::OffsetDateTime::now_utc();
    let mut params: Vec<(String, String)> = vec![
        ("Action".into(), action.into()),
        ("Version".into(), version_of(product)?.into()),
        ("Format".into(), "JSON".into()),
        ("AccessKeyId".into(), creds.access_key_id.clone()),
        ("SignatureMethod".into(), "HMAC-SHA1".into()),
        ("SignatureVersion".into(), "1.0".into()),
        ("SignatureNonce".into(), uuid::Uuid::new_v4().simple().to_string()),
        ("Timestamp".into(), rolestack_core::clock::format_date(now)),
    ];
    for arg in args {
        let (k, v) = arg.split_once('=').with_context(|| format!("parameter {arg:?} is not Name=Value"))?;
        let v = match v.strip_prefix('@') {
            Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
            None => v.to_string(),
        };
        params.push((k.to_string(), v));
    }
    let signature = rpc_v1::sign(&creds.access_key_secret, "POST", &params);
    params.push(("Signature".into(), signature));
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{}={}", encoding::encode(k), encoding::encode(v))).collect();
    let url = format!("{}/?{}", endpoint.trim_end_matches('/'), query.join("&"));
    match ureq::post(&url).call() {
        Ok(resp) => Ok((true, resp.into_string()?)),
        Err(ureq::Error::Status(_, resp)) => Ok((false, resp.into_string()?)),
        Err(e) => Err(e).with_context(|| format!("calling {endpoint}")),
    }
}
