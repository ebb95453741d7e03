//! The RPC gateway: one listener for every RPC product (RAM, STS, ECS), dispatched by `Version` and
//! `Action` (or `x-acs-version` / `x-acs-action`). It accepts the three client generations of the
//! official SDKs: signature V1 (HMAC-SHA1, in the query or a form body) and V3 (ACS3-HMAC-SHA256 in
//! `Authorization`), checks the timestamp window and spends the nonce, then runs the action in the
//! core and renders JSON or XML. Checks run in the real gateway's order: API exists → signature
//! scheme and timestamp → AccessKey → signature → nonce → authorization → the action's own rules.

pub mod render;

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use rolestack_core::audit::{event_resources, is_read_action, request_parameters, service_name, CallRecord, EventType};
use rolestack_core::caller::{Caller, RequestFacts};
use rolestack_core::catalog::{self, AnonymousAction, Product};
use rolestack_core::clock::parse_date;
use rolestack_core::params::{Params, COMMON_PARAMS};
use rolestack_core::service::Rolestack;
use rolestack_core::{ids, Error, Result};
use rolestack_sign::{acs3, encoding, rpc_v1, SignatureError};

use render::Format;

/// Clients may be this far off the server's clock, and nonces are remembered this long.
pub const TIMESTAMP_WINDOW_SECONDS: i64 = 15 * 60;

/// One RPC request as received, before any check.
struct RpcRequest {
    method: Method,
    path: String,
    /// Query and form-body parameters merged (what V1 signs and what the action reads), the
    /// query's first.
    params: Vec<(String, String)>,
    /// How many of `params` came from the query (what V3 signs as the canonical query).
    query_len: usize,
    headers: axum::http::HeaderMap,
    body: Bytes,
    peer: SocketAddr,
    /// The request came over TLS (`acs:SecureTransport`).
    secure: bool,
    /// The region of the service name the request was sent to (`ecs.cn-shanghai.aliyuncs.com`).
    host_region: Option<&'static str>,
}

impl RpcRequest {
    /// The query parameters only.
    fn query(&self) -> &[(String, String)] {
        &self.params[..self.query_len]
    }
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn header(&self, name: &str) -> Option<&str> {
        // Case-insensitive: `HeaderMap` lower-cases the name it is given.
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    /// A value that V1 carries as a parameter and V3 as an `x-acs-*` header.
    fn param_or_header(&self, param: &str, header: &str) -> Option<&str> {
        self.param(param).or_else(|| self.header(header)).filter(|v| !v.is_empty())
    }
}

/// Largest RPC request body accepted (RPC parameters travel in the query; bodies are small forms).
const MAX_BODY: usize = 1 << 20;

/// Whether a request is an RPC call (rather than OSS): it names an `Action` in its query or an
/// `x-acs-action` header. Every RPC client generation does one of the two.
pub fn is_rpc(req: &Request) -> bool {
    req.headers().contains_key("x-acs-action")
        || req.uri().query().is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "Action"))
}

/// A POST whose form body (`application/x-www-form-urlencoded`) names an `Action` is an RPC call
/// too, even with nothing in the query: `Ok` with the request (body restored) when it is, `Err`
/// with the request unchanged for OSS otherwise. Only small form bodies are read here; OSS's own
/// form upload is `multipart/form-data` and streams untouched.
pub async fn form_rpc(req: Request) -> std::result::Result<Request, Request> {
    let is_form = req.method() == Method::POST
        && req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    let small = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= MAX_BODY);
    if !is_form || !small {
        return Err(req);
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        // Cut short: nothing can be served from a partial body; the gateway answers with its
        // error for a request that names no action (never an OSS write of a truncated body).
        Err(_) => return Ok(Request::from_parts(parts, axum::body::Body::empty())),
    };
    let names_action = form_urlencoded::parse(&bytes).any(|(k, _)| k == "Action");
    let req = Request::from_parts(parts, axum::body::Body::from(bytes));
    if names_action {
        Ok(req)
    } else {
        Err(req)
    }
}

/// Serves one RPC request.
pub async fn gateway(rs: Rolestack, peer: SocketAddr, req: Request) -> Response {
    let started = std::time::Instant::now();
    let response = serve(rs, peer, req).await;
    if let Some(s) = response.extensions().get::<Served>() {
        crate::telemetry::request_done(s.product, s.action, response.status().as_u16(), started);
    }
    response
}

/// What a response was for, for the request metrics: the product and action as the catalogue
/// names them (`unknown` / `-` for anything else — a label is never the caller's text, so made-up
/// actions cannot grow `/metrics` or the log).
#[derive(Clone)]
struct Served {
    product: &'static str,
    action: &'static str,
}

async fn serve(rs: Rolestack, peer: SocketAddr, req: Request) -> Response {
    let secure = crate::connections::Transport::of(&req).is_secure();
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let request_id = ids::request_id();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return render::error(
                Format::Json,
                400,
                "InvalidParameter",
                "The request body is too large or was cut short.",
                Product::Ram.host(),
                &request_id,
            )
        }
    };
    let mut params = encoding::decode_form(uri.query().unwrap_or(""));
    let query_len = params.len();
    let is_form = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if is_form {
        params.extend(encoding::decode_form(&String::from_utf8_lossy(&body)));
    }
    let host_region = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(rolestack_core::endpoints::classify)
        .and_then(|h| h.region);
    let req = RpcRequest { method, path: uri.path().to_string(), params, query_len, headers, body, peer, secure, host_region };
    let format = Format::from_param(req.param("Format"));
    let version = req.param_or_header("Version", "x-acs-version").map(str::to_string);
    let action_name = req.param_or_header("Action", "x-acs-action").map(str::to_string);
    let product = version.as_deref().and_then(Product::from_version);
    let host = product.unwrap_or(Product::Ram).host();
    // The action as the catalogue names it, if it names it.
    let asked = product.zip(action_name.as_deref());
    let catalogued = asked.and_then(|(p, a)| catalog::find(p, a));
    let known_action: Option<&'static str> =
        catalogued.map(|a| a.name).or_else(|| asked.and_then(|(p, a)| catalog::find_anonymous(p, a)).map(|a| a.name));

    // A call that only reads runs here: it never waits for a writer or the network (SQLite read
    // connections read a snapshot), so handing it to a blocking thread would cost more than it.
    let reads_only = !rs.store.shared() && catalogued.is_some_and(|a| !a.writes());
    let rid = request_id.clone();
    let work = move || {
        let mut seen = Seen::default();
        let result = handle(&rs, &req, &mut seen);
        record(&rs, &req, &seen, &result, &rid);
        result
    };
    let outcome = if reads_only {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|_| "a panic".to_string())
    } else {
        tokio::task::spawn_blocking(work).await.map_err(|e| e.to_string())
    };
    let result = outcome.unwrap_or_else(|e| Err(Error::Store(format!("handler panicked: {e}"))));
    let served = Served { product: product.map_or("unknown", |p| p.spec().name), action: known_action.unwrap_or("-") };
    let mut response = match result {
        Ok((action, body)) => {
            tracing::debug!(request_id, action, "ok");
            render::success(format, action, &request_id, body)
        }
        Err(e) => {
            if let Error::Store(detail) | Error::Conflict(detail) = &e {
                tracing::error!(request_id, detail, "internal error");
            } else {
                tracing::info!(request_id, action = known_action.unwrap_or("-"), code = e.code(), "error");
            }
            render::error_with_detail(
                format,
                e.http_status(),
                &e.code(),
                &e.public_message(),
                host,
                &request_id,
                e.access_denied_detail().map(|d| d.to_json()),
            )
        }
    };
    response.extensions_mut().insert(served);
    response
}

/// What the gateway learned about a request on its way through [`handle`], for its ActionTrail
/// event: the action, the AccessKey named, the account it belongs to, the caller once verified.
#[derive(Default)]
struct Seen {
    /// The product and the action (a catalogued or an anonymous one).
    action: Option<(Product, &'static str)>,
    access_key_id: Option<String>,
    account: Option<String>,
    caller: Option<Caller>,
}

/// Records the request's ActionTrail event: every call of an existing action by a known AccessKey,
/// successful or refused (an unknown key or action belongs to no account), and every anonymous
/// call (AssumeRoleWithOIDC/SAML) addressed to an existing role (in the role's account).
fn record(rs: &Rolestack, req: &RpcRequest, seen: &Seen, result: &Result<(&'static str, serde_json::Value)>, request_id: &str) {
    let Some((product, name)) = seen.action else { return };
    let params = || req.params.iter().filter(|(k, _)| !COMMON_PARAMS.contains(&k.as_str()));
    let (error, response) = match result {
        Ok((_, body)) => (None, Some(body)),
        Err(e) => (Some((e.code(), e.public_message())), None),
    };
    let spec = product.spec();
    let region = req.param("RegionId").or(req.host_region).unwrap_or(rolestack_core::oss::model::DEFAULT_REGION);
    rs.record(&CallRecord {
        caller: seen.caller.as_ref(),
        access_key_id: seen.access_key_id.as_deref(),
        service_name: &service_name(spec.name),
        event_source: spec.host,
        event_name: name,
        event_type: EventType::ApiCall,
        read: is_read_action(name),
        api_version: Some(spec.version),
        request_id,
        source_ip: Some(req.peer.ip().to_string()),
        user_agent: req.header("user-agent"),
        region,
        request_parameters: request_parameters(params().map(|(k, v)| (k, v))),
        response_elements: None,
        additional_event_data: None,
        resources: event_resources(params().map(|(k, v)| (k.as_str(), v.as_str())), response),
        error,
        account: seen.account.as_deref(),
        acting_service: None,
    });
}

fn handle(rs: &Rolestack, req: &RpcRequest, seen: &mut Seen) -> Result<(&'static str, serde_json::Value)> {
    if req.method != Method::GET && req.method != Method::POST {
        return Err(Error::service(
            400,
            "UnsupportedHTTPMethod",
            format!("Specified HTTP method {} is not supported; use GET or POST.", req.method),
        ));
    }
    // A clock moved through another node (`--fake-clock` on a shared store) is read before the
    // timestamp is checked and the request's time taken, here on the blocking thread a shared
    // store's calls run on (a no-op alone on SQLite; one version read when nothing moved).
    rs.cluster.refresh(rs);
    let version = req.param_or_header("Version", "x-acs-version").ok_or_else(|| Error::MissingParameter("Version".into()))?;
    let action = req.param_or_header("Action", "x-acs-action").ok_or_else(|| Error::MissingParameter("Action".into()))?;
    let product = Product::from_version(version)
        .ok_or_else(|| Error::service(400, "InvalidVersion", format!("Specified parameter Version is not valid: {version}.")))?;
    if let Some(anonymous) = catalog::find_anonymous(product, action) {
        seen.action = Some((anonymous.product, anonymous.name));
        return handle_anonymous(rs, req, anonymous, seen);
    }
    let api = catalog::find(product, action).ok_or_else(|| {
        Error::service(
            404,
            "InvalidApi.NotFound",
            format!("Specified api is not found, please check your url and method. ({action}, version {version})"),
        )
    })?;
    seen.action = Some((api.product, api.name));

    let v3 = match req.header("authorization").filter(|a| a.starts_with("ACS3-")) {
        Some(auth) => Some(acs3::Authorization::parse(auth).map_err(signature_error)?),
        None => None,
    };
    let (access_key_id, timestamp, nonce) = match &v3 {
        Some(auth) => (auth.access_key_id.clone(), req.header("x-acs-date"), req.header("x-acs-signature-nonce")),
        None => {
            if req.param("Signature").is_none() {
                return Err(Error::MissingParameter("Signature".into()));
            }
            let ak = req.param("AccessKeyId").ok_or_else(|| Error::MissingParameter("AccessKeyId".into()))?;
            (ak.to_string(), req.param("Timestamp"), req.param("SignatureNonce"))
        }
    };
    let stamp = check_timestamp(rs, timestamp.ok_or_else(|| Error::MissingParameter("Timestamp".into()))?)?;
    let nonce = nonce.filter(|n| !n.is_empty()).ok_or_else(|| Error::MissingParameter("SignatureNonce".into()))?;

    seen.access_key_id = Some(access_key_id.clone());
    // A token sent along is always checked, whatever the key looks like (as OSS does): dropping
    // it silently would accept a permanent key with a garbage or foreign token. An empty one is
    // none (SDKs send it empty for permanent keys).
    let token = req.param_or_header("SecurityToken", "x-acs-security-token").filter(|t| !t.is_empty());
    let who = match token {
        Some(token) => rs.authenticate_session(&access_key_id, token)?,
        None if access_key_id.starts_with("STS.") => {
            return Err(Error::service(400, "MissingSecurityToken", "SecurityToken is mandatory for this action."));
        }
        None => rs.authenticate(&access_key_id)?,
    };
    match &v3 {
        Some(auth) => {
            // Only V3 signs headers: their text pairs are made for it alone.
            let headers: Vec<(String, String)> =
                req.headers.iter().filter_map(|(k, v)| v.to_str().ok().map(|v| (k.as_str().to_string(), v.to_string()))).collect();
            let request =
                acs3::Request { method: req.method.as_str(), path: &req.path, query: req.query(), headers: &headers, body: &req.body };
            seen.account = Some(who.account_id.clone());
            acs3::verify(&who.secret, auth, &request)
        }
        None => {
            seen.account = Some(who.account_id.clone());
            rpc_v1::verify(&who.secret, req.method.as_str(), &req.params)
        }
    }
    .map_err(signature_error)?;
    let nonce = rs.spend_nonce(&access_key_id, nonce, stamp.guarded_until, stamp.signed_at)?;
    // In its own write transaction, at most once a minute per key (never inside the call's,
    // which may be read-only).
    if let Err(e) = rolestack_core::ram::users::note_key_used(rs, &access_key_id) {
        tracing::warn!(access_key_id, "recording the key's last use: {e}");
    }

    let caller = Caller {
        account_id: who.account_id,
        principal: who.principal,
        access_key_id,
        facts: RequestFacts {
            source_ip: Some(req.peer.ip()),
            secure_transport: req.secure,
            user_agent: req.header("user-agent").map(str::to_string),
            time: rs.clock.now(),
            endpoint_region: None,
        },
        mfa_at: None,
    };
    let params = Params::from_pairs(req.params.iter().cloned()).styled(api.product.errors());
    seen.caller = Some(caller.clone());
    let body = rs.call_signed(&caller, api, &params, nonce)?;
    Ok((api.name, body))
}

/// An action the SDKs send unsigned (STS AssumeRoleWithOIDC / AssumeRoleWithSAML): no AccessKey,
/// no signature, no nonce spent; the timestamp must still be in the window. The request's token or
/// assertion is the credential, checked by the action itself. Its event goes to the account of the
/// role it names, when that role exists.
fn handle_anonymous(
    rs: &Rolestack,
    req: &RpcRequest,
    action: &'static AnonymousAction,
    seen: &mut Seen,
) -> Result<(&'static str, serde_json::Value)> {
    let params = Params::from_pairs(req.params.iter().cloned());
    seen.account = rolestack_core::federation::addressed_account(rs, &params);
    let timestamp = req.param("Timestamp").or_else(|| req.header("x-acs-date"));
    check_timestamp(rs, timestamp.ok_or_else(|| Error::MissingParameter("Timestamp".into()))?)?;
    let facts = RequestFacts {
        source_ip: Some(req.peer.ip()),
        secure_transport: req.secure,
        user_agent: req.header("user-agent").map(str::to_string),
        time: rs.clock.now(),
        endpoint_region: None,
    };
    let body = rolestack_core::federation::call(rs, action, &facts, &params)?;
    Ok((action.name, body))
}

/// A request's accepted timestamp (Unix seconds, real clock).
struct Stamp {
    /// The last instant the timestamp is accepted: its nonce must be kept until then.
    guarded_until: i64,
    /// When it was signed, on the real clock's scale (the later of the two clocks' readings when
    /// the fake clock is behind): compared with restart epochs.
    signed_at: i64,
}

/// `Timestamp` / `x-acs-date` must be `YYYY-MM-DDTHH:MM:SSZ` and within the window of the real clock
/// — or of the server's clock when it was moved (`--fake-clock`), so both ordinary clients and
/// clients whose clock travels with the server's keep working. After a crash, requests signed
/// before this process started are refused too (see `rolestack_core::replay`); a shared
/// database's restart learned only when the nonce is spent is checked again then
/// (`Rolestack::check_restart_epoch`).
fn check_timestamp(rs: &Rolestack, value: &str) -> Result<Stamp> {
    let t = parse_date(value).ok_or_else(|| {
        Error::service(
            400,
            "InvalidTimeStamp.Format",
            format!("Specified time stamp or date value is not well formatted: {value}. Use UTC YYYY-MM-DDThh:mm:ssZ."),
        )
    })?;
    let real = rs.clock.real_now();
    // How far the server's clock is ahead of the real one (0 unless moved).
    let moved = (rs.clock.now() - real).whole_seconds();
    let t = t.unix_timestamp();
    let real = real.unix_timestamp();
    let skew = (real - t).abs().min((real + moved - t).abs());
    let expired = |detail: String| {
        Error::service(400, "InvalidTimeStamp.Expired", format!("Specified time stamp or date value is expired: {value} {detail}"))
    };
    if skew > TIMESTAMP_WINDOW_SECONDS {
        return Err(expired(format!("is {skew} seconds away from the server time; the limit is {TIMESTAMP_WINDOW_SECONDS}.")));
    }
    // Signed before an epoch by both clocks: `t < epoch && t < epoch + moved`.
    let signed_at = t + (-moved).max(0);
    // This process's restart after a crash, or the shared database's (`Store::restart_epoch`).
    let epoch = rs.replay.epoch().max(rs.store.restart_epoch());
    if signed_at < epoch {
        return Err(expired("was signed before the server restarted after an unclean stop; sign the request again.".into()));
    }
    // Accepted while within the window of either clock: until t + window by the real clock, or
    // until the moved clock reaches t + window.
    Ok(Stamp { guarded_until: t + TIMESTAMP_WINDOW_SECONDS + (-moved).max(0), signed_at })
}

/// The one mapping from signature failures to the gateway's error codes.
fn signature_error(e: SignatureError) -> Error {
    match e {
        SignatureError::Mismatch { string_to_sign, .. } => Error::service(
            400,
            "SignatureDoesNotMatch",
            // aliyun-python-sdk-core splits this message on ':' and compares part 1 with its own
            // StringToSign, so the form must stay exactly this.
            format!("Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"),
        ),
        SignatureError::UnsupportedAlgorithm(alg) => Error::service(400, "InvalidSignatureMethod", format!("Specified signature method is not valid: {alg}.")),
        SignatureError::BodyHashMismatch { declared, computed } => Error::service(
            400,
            "SignatureDoesNotMatch",
            format!("Specified signature is not matched with our calculation: x-acs-content-sha256 is {declared} but the body hashes to {computed}."),
        ),
        SignatureError::Missing(what) => Error::service(400, "IncompleteSignature", format!("The request signature does not conform to Aliyun standards: {what} is missing.")),
        other => Error::service(400, "IncompleteSignature", format!("The request signature does not conform to Aliyun standards: {other}.")),
    }
}
