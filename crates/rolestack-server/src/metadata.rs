//! The ECS instance metadata service, as code inside an instance sees it at
//! `http://100.100.100.200/latest/...`: the `meta-data` tree (instance-id, region-id, zone-id,
//! private-ipv4, vpc-id, vswitch-id, hostname, ...), `ram/security-credentials/` naming the attached
//! role, and `ram/security-credentials/<role>` with the credential document the SDKs parse. One
//! instance per listener: the socket a request arrived on is the instance's identity.
//!
//! Security hardening mode: `PUT /latest/api/token` with `X-aliyun-ecs-metadata-token-ttl-seconds`
//! (1..21600) returns a token (sealed with the server key, bound to the instance and its expiry); a
//! GET carrying `X-aliyun-ecs-metadata-token` must present a valid one (401 otherwise), and an
//! instance with `HttpTokens=required` refuses tokenless reads (401). Paths match case-insensitively
//! (the seeds write `Ram/security-credentials/...`).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use rolestack_core::clock::format_date;
use rolestack_core::metadata::instance_credentials;
use rolestack_core::model::{Instance, VSwitch, Vpc};
use rolestack_core::service::Rolestack;
use rolestack_core::Result;
use serde_json::json;

pub const TOKEN_TTL_HEADER: &str = "x-aliyun-ecs-metadata-token-ttl-seconds";
pub const TOKEN_HEADER: &str = "x-aliyun-ecs-metadata-token";
const TOKEN_PURPOSE: &str = "ecs-metadata-token";
pub const MAX_TOKEN_TTL: i64 = 21600;

/// Which instance a metadata listener answers for.
#[derive(Clone)]
pub struct InstanceIdentity {
    pub rs: Rolestack,
    pub account_id: String,
    pub instance_id: String,
}

/// The ActionTrail event of credentials the metadata service issued: ECS assumed the instance's
/// role for it (an `AssumeRole` by the service `ecs.aliyuncs.com`).
fn record_issued(id: &InstanceIdentity, inst: &Instance, c: &rolestack_core::metadata::InstanceCredentials) {
    let session = rolestack_core::metadata::session_name(&inst.id);
    let role_arn = format!("acs:ram::{}:role/{}", id.account_id, c.role_name);
    let params = [("RoleArn".to_string(), role_arn.clone()), ("RoleSessionName".to_string(), session.clone())];
    id.rs.record(&rolestack_core::audit::CallRecord {
        caller: None,
        access_key_id: None,
        service_name: "Sts",
        event_source: "sts.aliyuncs.com",
        event_name: "AssumeRole",
        event_type: rolestack_core::audit::EventType::AliyunServiceEvent,
        read: false,
        api_version: Some("2015-04-01"),
        request_id: &rolestack_core::ids::request_id(),
        source_ip: None,
        user_agent: None,
        region: &inst.region_id,
        request_parameters: rolestack_core::audit::request_parameters(params.iter().map(|(k, v)| (k, v))),
        response_elements: Some(json!({
            "AssumedRoleUser": { "Arn": format!("acs:ram::{}:assumed-role/{}/{session}", id.account_id, c.role_name) },
            "Credentials": { "AccessKeyId": c.credentials.access_key_id, "Expiration": format_date(c.credentials.expiration) },
            "InstanceId": inst.id,
        })),
        resources: vec![("ACS::RAM::Role".into(), c.role_name.clone()), ("ACS::ECS::Instance".into(), inst.id.clone())],
        error: None,
        account: Some(&id.account_id),
        acting_service: Some("ecs.aliyuncs.com"),
    });
}

pub fn app(identity: InstanceIdentity) -> Router {
    Router::new().fallback(serve).with_state(Arc::new(identity))
}

fn plain(status: StatusCode, body: impl Into<String>) -> Response {
    let mut r = (status, body.into()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    r
}

fn not_found() -> Response {
    plain(StatusCode::NOT_FOUND, "404 - Not Found")
}

/// Handles one metadata request (also used by the loopback proxy for `100.100.100.200` requests).
pub async fn serve(State(id): State<Arc<InstanceIdentity>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let headers = req.headers().clone();
    drop(req);
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    if method == Method::PUT && path.eq_ignore_ascii_case("/latest/api/token") {
        if headers.contains_key("x-forwarded-for") {
            return plain(StatusCode::FORBIDDEN, "403 - Forbidden: token requests must not be forwarded");
        }
        return match header(TOKEN_TTL_HEADER).and_then(|v| v.parse::<i64>().ok()) {
            Some(ttl) if (1..=MAX_TOKEN_TTL).contains(&ttl) => {
                let expires = id.rs.clock.now().unix_timestamp() + ttl;
                let token = id.rs.key.seal(TOKEN_PURPOSE, format!("{}|{expires}", id.instance_id).as_bytes());
                plain(StatusCode::OK, token)
            }
            _ => plain(
                StatusCode::BAD_REQUEST,
                format!("400 - Bad Request: header {TOKEN_TTL_HEADER} must be an integer from 1 to {MAX_TOKEN_TTL}"),
            ),
        };
    }
    if method != Method::GET && method != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "405 - Method Not Allowed");
    }
    let token = header(TOKEN_HEADER);
    let id2 = id.clone();
    let outcome = tokio::task::spawn_blocking(move || answer(&id2, &path, token.as_deref())).await;
    match outcome {
        Ok(Ok(resp)) => resp,
        Ok(Err(e)) => {
            tracing::error!(instance = %id.instance_id, error = %e, "metadata request failed");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "500 - Internal Server Error")
        }
        Err(e) => plain(StatusCode::INTERNAL_SERVER_ERROR, format!("500 - Internal Server Error: {e}")),
    }
}

fn token_valid(id: &InstanceIdentity, token: &str) -> bool {
    let Ok(raw) = id.rs.key.open(TOKEN_PURPOSE, token) else { return false };
    let Ok(text) = String::from_utf8(raw) else { return false };
    let Some((instance, expires)) = text.split_once('|') else { return false };
    instance == id.instance_id && expires.parse::<i64>().is_ok_and(|e| id.rs.clock.now().unix_timestamp() < e)
}

fn answer(id: &InstanceIdentity, path: &str, token: Option<&str>) -> Result<Response> {
    let mut tx = id.rs.store.begin()?;
    let Some(inst) = tx.get_rec::<Instance>(&id.account_id, &id.instance_id)? else {
        return Ok(not_found());
    };
    if inst.http_endpoint == "disabled" {
        return Ok(plain(StatusCode::FORBIDDEN, "403 - Forbidden: the metadata endpoint of this instance is disabled"));
    }
    match token {
        Some(t) if !token_valid(id, t) => {
            return Ok(plain(StatusCode::UNAUTHORIZED, "401 - Unauthorized: invalid or expired metadata token"))
        }
        None if inst.http_tokens == "required" => {
            return Ok(plain(
                StatusCode::UNAUTHORIZED,
                "401 - Unauthorized: this instance requires a metadata token (PUT /latest/api/token)",
            ))
        }
        _ => {}
    }
    let lower = path.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("/latest/meta-data") else {
        return Ok(match lower.as_str() {
            "/latest" | "/latest/" => plain(StatusCode::OK, "dynamic/\nmeta-data/"),
            "/latest/dynamic/instance-identity/document" => {
                let doc = json!({
                    "account-id": id.account_id, "instance-id": inst.id, "region-id": inst.region_id,
                    "zone-id": inst.zone_id, "image-id": inst.image_id, "instance-type": inst.instance_type,
                    "private-ipv4": inst.private_ip, "mac": inst.mac, "serial-number": inst.serial_number,
                    "owner-account-id": id.account_id,
                });
                plain(StatusCode::OK, doc.to_string())
            }
            "/latest/dynamic" | "/latest/dynamic/" => plain(StatusCode::OK, "instance-identity/"),
            "/latest/dynamic/instance-identity" | "/latest/dynamic/instance-identity/" => plain(StatusCode::OK, "document"),
            _ => not_found(),
        });
    };
    let rest = match rest.trim_start_matches('/') {
        // The role list answers with or without its trailing slash.
        "ram/security-credentials" => "ram/security-credentials/",
        other => other,
    };

    // The credential document is computed only when asked for: reading it issues or rotates.
    if let Some(role) = rest.strip_prefix("ram/security-credentials/").filter(|r| !r.is_empty() && !r.ends_with('/')) {
        let now = id.rs.clock.now();
        let creds = instance_credentials(&mut *tx, &id.rs.key, &id.account_id, &inst, now)?;
        tx.commit()?;
        if let Some(c) = creds.as_ref().filter(|c| c.issued_now) {
            record_issued(id, &inst, c);
        }
        return Ok(match creds {
            Some(c) if c.role_name.eq_ignore_ascii_case(role) => {
                let doc = json!({
                    "AccessKeyId": c.credentials.access_key_id,
                    "AccessKeySecret": c.credentials.access_key_secret,
                    "Expiration": format_date(c.credentials.expiration),
                    "SecurityToken": c.credentials.security_token,
                    "LastUpdated": format_date(c.last_updated),
                    "Code": "Success",
                });
                let mut r = plain(StatusCode::OK, serde_json::to_string_pretty(&doc).unwrap_or_default());
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
                r
            }
            _ => not_found(),
        });
    }
    let (vpc, vswitch) = match (&inst.vpc_id, &inst.vswitch_id) {
        (Some(v), Some(s)) => (tx.get_rec::<Vpc>(&id.account_id, v)?, tx.get_rec::<VSwitch>(&id.account_id, s)?),
        _ => (None, None),
    };
    let leaves = leaves(id, &inst, vpc.as_ref(), vswitch.as_ref());
    if let Some(value) = leaves.get(rest) {
        return Ok(plain(StatusCode::OK, value.clone()));
    }
    // A directory: list the next path segment of every leaf below it.
    let dir = if rest.is_empty() || rest.ends_with('/') { rest.to_string() } else { format!("{rest}/") };
    let mut children: Vec<String> = Vec::new();
    for key in leaves.keys().filter_map(|k| k.strip_prefix(dir.as_str())) {
        let child = match key.split_once('/') {
            Some((head, _)) => format!("{head}/"),
            None => key.to_string(),
        };
        if !child.is_empty() && !children.contains(&child) {
            children.push(child);
        }
    }
    Ok(if children.is_empty() { not_found() } else { plain(StatusCode::OK, children.join("\n")) })
}

/// Every leaf of the `meta-data` tree for this instance (lower-case paths), except the credential
/// document itself.
fn leaves(id: &InstanceIdentity, inst: &Instance, vpc: Option<&Vpc>, vswitch: Option<&VSwitch>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        m.insert(k.to_string(), v.to_string());
    };
    put("instance-id", &inst.id);
    put("region-id", &inst.region_id);
    put("zone-id", &inst.zone_id);
    put("hostname", &inst.host_name);
    put("image-id", &inst.image_id);
    put("instance/instance-type", &inst.instance_type);
    put("instance/instance-name", &inst.name);
    put("private-ipv4", &inst.private_ip);
    put("mac", &inst.mac);
    put("serial-number", &inst.serial_number);
    put("owner-account-id", &id.account_id);
    put("network-type", &inst.network_type);
    put("source-address", "http://mirrors.cloud.aliyuncs.com");
    put("dns-conf/nameservers", "100.100.2.136\n100.100.2.138");
    put("ntp-conf/ntp-servers", "ntp1.aliyun.com\nntp2.aliyun.com");
    let mac = inst.mac.to_ascii_lowercase();
    put(&format!("network/interfaces/macs/{mac}/primary-ip-address"), &inst.private_ip);
    put(&format!("network/interfaces/macs/{mac}/private-ipv4s"), &format!("[\"{}\"]", inst.private_ip));
    if let Some(v) = vpc {
        put("vpc-id", &v.id);
        put("vpc-cidr-block", &v.cidr_block);
        put(&format!("network/interfaces/macs/{mac}/vpc-id"), &v.id);
        put(&format!("network/interfaces/macs/{mac}/vpc-cidr-block"), &v.cidr_block);
    }
    if let Some(s) = vswitch {
        put("vswitch-id", &s.id);
        put("vswitch-cidr-block", &s.cidr_block);
        put(&format!("network/interfaces/macs/{mac}/vswitch-id"), &s.id);
        put(&format!("network/interfaces/macs/{mac}/vswitch-cidr-block"), &s.cidr_block);
    }
    if let Some(role) = &inst.ram_role_name {
        // The directory body is exactly the role name: the SDKs use it verbatim.
        m.insert("ram/security-credentials/".into(), role.clone());
        m.insert(format!("ram/security-credentials/{}", role.to_ascii_lowercase()), String::new());
    }
    m
}
