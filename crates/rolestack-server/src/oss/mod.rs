//! The OSS REST front-end: every request on the API listener that is not an RPC call. It
//! resolves the addressing (path style `/<bucket>/<key>` for IP / `localhost` endpoints,
//! virtual-hosted `<bucket>.<endpoint>/<key>`), authenticates the signature ([`auth`]), picks the
//! operation from the method and sub-resources, calls the core's [`Oss`] service (on blocking
//! threads: the store and the blob files are synchronous) and renders OSS's XML and headers
//! ([`xml`], [`respond`]). Object bodies stream both ways in fixed-size chunks.

pub mod auth;
pub mod operation;
pub mod respond;
pub mod xml;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD as BASE64, URL_SAFE_NO_PAD};
use base64::Engine as _;
use futures_util::StreamExt as _;
use rolestack_core::audit::{CallRecord, EventType};
use rolestack_core::endpoints;
use rolestack_core::oss::blob::Digests;
use rolestack_core::oss::listing::{parse_max_keys, ListQuery};
use rolestack_core::oss::model::{validate_bucket_name, Acl, Bucket, Object, ObjectSettings, ObjectType, DEFAULT_REGION};
use rolestack_core::oss::service::{parse_content_md5, Body as StoredBody, Conditions, MetadataDirective, WriteTicket};
use rolestack_core::oss::{Oss, OssAction, OssError, OssResult, Requester};
use rolestack_core::service::Rolestack;
use rolestack_sign::encoding::{decode_form, decode_path, encode};
use rolestack_sign::oss::OssRequest;
use std::io::Write as _;

use operation::Operation;
use respond::Reply;
use xml::{iso8601, quoted, to_xml};

/// Largest XML/JSON request body (DeleteMultipleObjects with 1000 keys, policies).
const MAX_DOCUMENT: usize = 2 * 1024 * 1024;
/// Keys per DeleteMultipleObjects.
const MAX_DELETE_KEYS: usize = 1000;

/// One OSS request, addressing resolved, before authentication.
pub struct OssHttpRequest {
    pub method: Method,
    pub bucket: Option<String>,
    /// The decoded object key; empty for service and bucket operations.
    pub key: String,
    pub query: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub peer: SocketAddr,
    /// The endpoint as the client addressed it (`Host` without a virtual-hosted bucket).
    pub endpoint: String,
    /// The request came over TLS (`acs:SecureTransport`).
    pub secure: bool,
    /// The region of the OSS service name the request was addressed to, if it names one.
    pub region: Option<&'static str>,
}

impl OssHttpRequest {
    fn from_parts(parts: &axum::http::request::Parts, peer: SocketAddr) -> Self {
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            // Values are UTF-8 as the SDKs send them (oss2 signs non-ASCII metadata as UTF-8).
            .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let host = parts
            .headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let query = decode_form(parts.uri.query().unwrap_or(""));
        let path = decode_path(parts.uri.path());
        let (bucket, key, endpoint) = match virtual_host_bucket(&host) {
            Some((bucket, endpoint)) => (Some(bucket), path.strip_prefix('/').unwrap_or(&path).to_string(), endpoint),
            None => {
                let rest = path.strip_prefix('/').unwrap_or(&path);
                match rest.split_once('/') {
                    _ if rest.is_empty() => (None, String::new(), host.clone()),
                    Some((b, k)) => (Some(b.to_string()), k.to_string(), host.clone()),
                    None => (Some(rest.to_string()), String::new(), host.clone()),
                }
            }
        };
        let secure = parts.extensions.get::<crate::connections::Transport>().is_some_and(|t| t.is_secure());
        let region = endpoints::classify(&host).filter(|h| h.service == endpoints::Service::Oss).and_then(|h| h.region);
        OssHttpRequest { method: parts.method.clone(), bucket, key, query, headers, peer, endpoint, secure, region }
    }

    /// The view the signature schemes check.
    pub fn signed_view(&self) -> OssRequest<'_> {
        OssRequest {
            method: self.method.as_str(),
            bucket: self.bucket.as_deref(),
            key: &self.key,
            query: &self.query,
            headers: &self.headers,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// `encoding-type=url` was asked for.
    fn url_encoding(&self) -> bool {
        self.param("encoding-type") == Some("url")
    }

    /// The endpoints to report for a bucket: its region's service names when the request came
    /// by service name, else the address the client used (so a client following them stays here).
    fn bucket_endpoints(&self, b: &Bucket) -> (String, String) {
        match self.region {
            Some(_) => (endpoints::oss_endpoint_name(&b.region, false), endpoints::oss_endpoint_name(&b.region, true)),
            None => (self.endpoint.clone(), self.endpoint.clone()),
        }
    }

    fn host_id(&self) -> String {
        match &self.bucket {
            Some(b) => format!("{b}.{}", self.endpoint),
            None => self.endpoint.clone(),
        }
    }
}

/// `<bucket>.<endpoint>` when the endpoint part looks like an OSS endpoint (an IP address,
/// `localhost`, `oss-*` or `*.aliyuncs.com`); the bucket and the endpoint otherwise `None`.
fn virtual_host_bucket(host: &str) -> Option<(String, String)> {
    let name = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    if name.parse::<IpAddr>().is_ok() || name == "localhost" || name.starts_with('[') {
        return None;
    }
    let (bucket, rest) = host.split_once('.')?;
    let rest_name = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    let endpoint_like = rest_name.parse::<IpAddr>().is_ok()
        || rest_name == "localhost"
        || rest_name.starts_with("oss")
        || rest_name.ends_with(".aliyuncs.com");
    (endpoint_like && validate_bucket_name(bucket).is_ok()).then(|| (bucket.to_string(), rest.to_string()))
}

/// Runs blocking work (store, blob files) off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> OssResult<T> + Send + 'static) -> OssResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(OssError::Internal(format!("handler panicked: {e}"))))
}

/// Serves one OSS request.
pub async fn handle(rs: Rolestack, peer: SocketAddr, req: Request) -> Response {
    let started = std::time::Instant::now();
    let request_id = respond::request_id();
    let (parts, body) = req.into_parts();
    let req = Arc::new(OssHttpRequest::from_parts(&parts, peer));
    let head = req.method == Method::HEAD;
    let mut seen: Option<(Arc<Requester>, Operation)> = None;
    let result = {
        // Authentication only reads (what it needs is usually in memory already): in place, unless
        // the store is a shared server's, whose reads go over the network.
        let authenticated = if rs.store.shared() {
            let (rs2, req2) = (rs.clone(), req.clone());
            blocking(move || auth::authenticate(&rs2, &req2)).await
        } else {
            auth::authenticate(&rs, &req)
        };
        match authenticated {
            Ok(who) => match Operation::resolve(&req) {
                Ok(op) => {
                    let who = Arc::new(who);
                    seen = Some((who.clone(), op));
                    route(rs.oss(), who, req.clone(), body, op).await
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        }
    };
    if let Some((who, op)) = &seen {
        record(&rs, &req, who, *op, &result, &request_id);
    }
    let op_name = seen.as_ref().map_or("-", |(_, op)| op.name());
    let reply = match result {
        Ok(reply) => {
            tracing::debug!(request_id, method = %req.method, bucket = req.bucket(), key = req.key, status = reply.status, "oss");
            reply
        }
        Err(e) => {
            if e.is_internal() {
                tracing::error!(request_id, error = ?e, "oss internal error");
            } else {
                tracing::info!(request_id, method = %req.method, bucket = req.bucket(), key = req.key, code = e.code(), "oss error");
            }
            respond::error(&e, &request_id, &req.host_id(), head, &rs.key)
        }
    };
    crate::telemetry::request_done("oss", op_name, reply.status, started);
    reply.into_response(&request_id)
}

/// Records the ActionTrail event of a signed request (anonymous ones name no account).
fn record(rs: &Rolestack, req: &OssHttpRequest, who: &Requester, op: Operation, result: &OssResult<Reply>, request_id: &str) {
    let Requester::Caller(caller) = who else { return };
    let mut resources = Vec::new();
    if let Some(b) = &req.bucket {
        resources.push(("ACS::OSS::Bucket".to_string(), b.clone()));
        if !req.key.is_empty() {
            resources.push(("ACS::OSS::Object".to_string(), format!("{b}/{}", req.key)));
        }
    }
    let mut parameters = serde_json::Map::new();
    if let Some(b) = &req.bucket {
        parameters.insert("BucketName".into(), serde_json::json!(b));
    }
    if !req.key.is_empty() {
        parameters.insert("ObjectName".into(), serde_json::json!(req.key));
    }
    let region = req.region.unwrap_or(DEFAULT_REGION);
    rs.record(&CallRecord {
        caller: Some(caller),
        access_key_id: None,
        service_name: "Oss",
        event_source: &endpoints::oss_endpoint_name(region, false),
        event_name: op.name(),
        event_type: EventType::ApiCall,
        read: op.is_read(),
        api_version: None,
        request_id,
        source_ip: Some(req.peer.ip().to_string()),
        user_agent: req.header("user-agent"),
        region,
        request_parameters: serde_json::Value::Object(parameters),
        response_elements: None,
        resources,
        error: result.as_ref().err().filter(|e| !matches!(e, OssError::NotModified)).map(|e| (e.code().to_string(), e.to_string())),
        account: None,
        acting_service: None,
    });
}

async fn route(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body, op: Operation) -> OssResult<Reply> {
    use Operation::*;
    match op {
        ListBuckets => list_buckets(oss, who, req).await,
        PutBucketAcl => put_bucket_acl(oss, who, req).await,
        PutBucketPolicy => put_bucket_policy(oss, who, req, body).await,
        PutBucket => put_bucket(oss, who, req, body).await,
        GetBucketAcl => get_bucket_acl(oss, who, req).await,
        GetBucketInfo => get_bucket_info(oss, who, req).await,
        GetBucketLocation => get_bucket_location(oss, who, req).await,
        GetBucketPolicy => get_bucket_policy(oss, who, req).await,
        ListMultipartUploads => list_uploads(oss, who, req).await,
        ListLiveChannel => list_live_channels(oss, who, req).await,
        ListObjectsV2 => list_objects(oss, who, req, true).await,
        ListObjects => list_objects(oss, who, req, false).await,
        HeadBucket => head_bucket(oss, who, req).await,
        DeleteBucketPolicy => delete_bucket_policy(oss, who, req).await,
        DeleteBucket => delete_bucket(oss, who, req).await,
        DeleteMultipleObjects => delete_objects(oss, who, req, body).await,
        PutObjectAcl => put_object_acl(oss, who, req).await,
        UploadPartCopy => upload_part_copy(oss, who, req).await,
        UploadPart => upload_part(oss, who, req, body).await,
        CopyObject => copy_object(oss, who, req).await,
        PutObject => put_object(oss, who, req, body).await,
        AppendObject => append_object(oss, who, req, body).await,
        InitiateMultipartUpload => initiate_upload(oss, who, req).await,
        CompleteMultipartUpload => complete_upload(oss, who, req, body).await,
        GetObjectAcl => get_object_acl(oss, who, req).await,
        ListParts => list_parts(oss, who, req).await,
        GetObjectMeta => get_object_meta(oss, who, req).await,
        HeadObject | GetObject => get_object(oss, who, req).await,
        AbortMultipartUpload => abort_upload(oss, who, req).await,
        DeleteObject => delete_object(oss, who, req).await,
    }
}

// -- helpers -------------------------------------------------------------------------------------

/// `s`, URL-encoded when the client asked for `encoding-type=url`.
fn enc(s: &str, url: bool) -> String {
    if url {
        encode(s)
    } else {
        s.to_string()
    }
}

async fn read_document(body: Body) -> OssResult<Vec<u8>> {
    axum::body::to_bytes(body, MAX_DOCUMENT)
        .await
        .map(|b| b.to_vec())
        .map_err(|_| OssError::InvalidArgument(format!("The request body is larger than {MAX_DOCUMENT} bytes or was cut short.")))
}

/// Streams a request body into a new blob (constant memory), then commits the blob.
async fn write_body(oss: &Oss, body: Body) -> OssResult<StoredBody> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<axum::body::Bytes>(8);
    let o = oss.clone();
    let writer = tokio::task::spawn_blocking(move || -> OssResult<_> {
        let mut writer = o.new_body()?;
        while let Some(chunk) = rx.blocking_recv() {
            writer.write_all(&chunk)?;
        }
        Ok(writer)
    });
    let mut stream = body.into_data_stream();
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                if tx.send(c).await.is_err() {
                    break;
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let writer = writer.await.unwrap_or_else(|e| Err(OssError::Internal(format!("body writer panicked: {e}"))))?;
    if let Some(e) = failed {
        // Dropping the unfinished writer discards the temp file.
        drop(writer);
        return Err(OssError::InvalidArgument(format!("The request body was cut short: {e}")));
    }
    let o = oss.clone();
    blocking(move || o.finish_body(writer)).await
}

fn content_md5(req: &OssHttpRequest) -> OssResult<Option<[u8; 16]>> {
    req.header("content-md5").map(parse_content_md5).transpose()
}

/// Content type, `x-oss-meta-*`, standard headers and ACL of a write.
fn settings(req: &OssHttpRequest) -> OssResult<ObjectSettings> {
    const STORED: [&str; 5] = ["cache-control", "content-disposition", "content-encoding", "content-language", "expires"];
    let mut s =
        ObjectSettings { content_type: req.header("content-type").filter(|c| !c.is_empty()).map(str::to_string), ..Default::default() };
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        if let Some(meta) = lower.strip_prefix("x-oss-meta-") {
            s.user_meta.push((meta.to_string(), value.clone()));
        } else if STORED.contains(&lower.as_str()) {
            s.headers.push((lower, value.clone()));
        }
    }
    if let Some(acl) = req.header("x-oss-object-acl") {
        s.acl = Acl::parse(acl, true)?;
    }
    // Server-side encryption is recorded and echoed, not performed (bodies are stored as sent).
    if let Some(sse) = req.header("x-oss-server-side-encryption") {
        s.headers.push(("x-oss-server-side-encryption".into(), sse.to_string()));
        if sse.eq_ignore_ascii_case("KMS") {
            let key = req.header("x-oss-server-side-encryption-key-id").unwrap_or("rolestack-kms-default-key");
            s.headers.push(("x-oss-server-side-encryption-key-id".into(), key.to_string()));
        }
    }
    Ok(s)
}

fn forbid_overwrite(req: &OssHttpRequest) -> bool {
    req.header("x-oss-forbid-overwrite").is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

fn http_date(req: &OssHttpRequest, name: &str) -> Option<i64> {
    let v = req.header(name)?;
    httpdate::parse_http_date(v).ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64)
}

fn conditions(req: &OssHttpRequest, prefix: &str) -> Conditions {
    let h = |n: &str| req.header(&format!("{prefix}{n}")).map(str::to_string);
    Conditions {
        if_match: h("if-match"),
        if_none_match: h("if-none-match"),
        if_modified_since: http_date(req, &format!("{prefix}if-modified-since")),
        if_unmodified_since: http_date(req, &format!("{prefix}if-unmodified-since")),
    }
}

/// The written-object headers of PutObject, UploadPart, AppendObject, Complete and Copy.
fn write_reply(etag: &str, digests: Option<&Digests>, crc64: u64) -> Reply {
    let mut r = Reply::empty(200).header("etag", quoted(etag)).header("x-oss-hash-crc64ecma", crc64.to_string());
    if let Some(d) = digests {
        r = r.header("content-md5", BASE64.encode(d.md5));
    }
    r
}

fn http_time(unix: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64))
}

/// `x-oss-copy-source: /<bucket>/<url-encoded key>[?versionId=...]`.
fn copy_source(req: &OssHttpRequest) -> OssResult<(String, String)> {
    let raw = req.header("x-oss-copy-source").unwrap_or_default();
    let raw = raw.split_once('?').map_or(raw, |(p, _)| p);
    let decoded = decode_path(raw.strip_prefix('/').unwrap_or(raw));
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(OssError::InvalidArgument(format!("x-oss-copy-source {raw:?} is not /<bucket>/<key>."))),
    }
}

// -- service and buckets ------------------------------------------------------------------------

async fn list_buckets(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let paged = req.has("prefix") || req.has("marker") || req.has("max-keys");
    let prefix = req.param("prefix").unwrap_or_default().to_string();
    let marker = req.param("marker").unwrap_or_default().to_string();
    let max_keys = parse_max_keys(req.param("max-keys"), "max-keys")?;
    let listing = {
        let (p, m) = (prefix.clone(), marker.clone());
        blocking(move || oss.list_buckets(&who, &p, &m, max_keys)).await?
    };
    let result = xml::ListAllMyBucketsResult {
        prefix: paged.then_some(prefix),
        marker: paged.then_some(marker),
        max_keys: paged.then_some(max_keys),
        is_truncated: paged.then_some(listing.truncated),
        next_marker: listing.next_marker.clone(),
        owner: xml::Owner::of(&listing.owner),
        buckets: xml::Buckets {
            bucket: listing
                .buckets
                .iter()
                .map(|b| {
                    let (extranet, intranet) = req.bucket_endpoints(b);
                    xml::BucketEntry {
                        name: b.name.clone(),
                        location: b.location(),
                        creation_date: iso8601(b.created),
                        extranet_endpoint: extranet,
                        intranet_endpoint: intranet,
                        storage_class: b.storage_class.clone(),
                        region: b.region.clone(),
                    }
                })
                .collect(),
        },
    };
    Ok(Reply::xml(to_xml("ListAllMyBucketsResult", &result)))
}

async fn put_bucket(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let body = read_document(body).await?;
    let config: xml::CreateBucketConfiguration =
        if body.iter().all(u8::is_ascii_whitespace) { Default::default() } else { xml::parse(&body)? };
    let acl = req.header("x-oss-acl").map(|a| Acl::parse(a, false)).transpose()?;
    let region = bucket_region(req.region, config.location_constraint.as_deref())?;
    let name = req.bucket().to_string();
    let n = name.clone();
    blocking(move || oss.put_bucket(&who, &n, region, acl, config.storage_class)).await?;
    Ok(Reply::empty(200).header("location", format!("/{name}")))
}

/// The region a new bucket is made in: the endpoint's (a `LocationConstraint` must agree with
/// it), else the `LocationConstraint`'s, else the default region.
fn bucket_region(endpoint: Option<&'static str>, constraint: Option<&str>) -> OssResult<&'static str> {
    let constraint = match constraint.map(str::trim).filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let id = c.strip_prefix("oss-").unwrap_or(c);
            Some(rolestack_core::ecs::catalogue::region(id).map(|r| r.id).ok_or_else(|| {
                OssError::InvalidLocationConstraint(format!(
                    "{c:?} is not a region rolestack serves (use oss-<region>, e.g. oss-cn-hangzhou)"
                ))
            })?)
        }
    };
    match (endpoint, constraint) {
        (Some(e), Some(c)) if e != c => Err(OssError::InvalidLocationConstraint(format!(
            "the request was sent to the {e} endpoint but asks for a bucket in oss-{c}; send it to {}",
            endpoints::oss_endpoint_name(c, false)
        ))),
        (Some(e), _) => Ok(e),
        (None, Some(c)) => Ok(c),
        (None, None) => Ok(DEFAULT_REGION),
    }
}

async fn delete_bucket(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.delete_bucket(&who, req.bucket())).await?;
    Ok(Reply::empty(204))
}

async fn head_bucket(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.bucket(&who, req.bucket(), OssAction::GetBucketInfo)).await?;
    Ok(Reply::empty(200))
}

async fn get_bucket_info(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let r = req.clone();
    let b = blocking(move || oss.bucket(&who, r.bucket(), OssAction::GetBucketInfo)).await?;
    let info = xml::BucketInfo {
        bucket: xml::BucketDetail {
            name: b.name.clone(),
            creation_date: iso8601(b.created),
            storage_class: b.storage_class.clone(),
            extranet_endpoint: req.bucket_endpoints(&b).0,
            intranet_endpoint: req.bucket_endpoints(&b).1,
            location: b.location(),
            region: b.region.clone(),
            data_redundancy_type: "LRS".into(),
            owner: xml::Owner::of(&b.owner),
            access_control_list: xml::AccessControlList { grant: b.acl.as_str().into() },
            comment: String::new(),
            server_side_encryption_rule: xml::ServerSideEncryptionRule { sse_algorithm: "None".into() },
        },
    };
    Ok(Reply::xml(to_xml("BucketInfo", &info)))
}

async fn get_bucket_location(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let b = blocking(move || oss.bucket(&who, req.bucket(), OssAction::GetBucketLocation)).await?;
    Ok(Reply::xml(to_xml("LocationConstraint", &xml::LocationConstraint { value: b.location() })))
}

async fn get_bucket_acl(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let b = blocking(move || oss.bucket(&who, req.bucket(), OssAction::GetBucketAcl)).await?;
    let acl = xml::AccessControlPolicy {
        owner: xml::Owner::of(&b.owner),
        access_control_list: xml::AccessControlList { grant: b.acl.as_str().into() },
    };
    Ok(Reply::xml(to_xml("AccessControlPolicy", &acl)))
}

async fn put_bucket_acl(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let acl = Acl::parse(req.header("x-oss-acl").ok_or_else(|| OssError::InvalidArgument("x-oss-acl is required.".into()))?, false)?;
    blocking(move || oss.put_bucket_acl(&who, req.bucket(), acl)).await?;
    Ok(Reply::empty(200))
}

async fn put_bucket_policy(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let body = read_document(body).await?;
    let text = String::from_utf8(body).map_err(|_| OssError::InvalidPolicyDocument("the policy is not UTF-8".into()))?;
    blocking(move || oss.put_bucket_policy(&who, req.bucket(), &text)).await?;
    Ok(Reply::empty(200))
}

async fn get_bucket_policy(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let text = blocking(move || oss.get_bucket_policy(&who, req.bucket())).await?;
    Ok(Reply { status: 200, headers: vec![("content-type".into(), "application/json".into())], body: Body::from(text) })
}

async fn delete_bucket_policy(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.delete_bucket_policy(&who, req.bucket())).await?;
    Ok(Reply::empty(204))
}

async fn list_live_channels(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.bucket(&who, req.bucket(), OssAction::ListObjects)).await?;
    let r = xml::ListLiveChannelResult { prefix: String::new(), marker: String::new(), max_keys: 100, is_truncated: false };
    Ok(Reply::xml(to_xml("ListLiveChannelResult", &r)))
}

// -- listing ----------------------------------------------------------------------------------------

async fn list_objects(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, v2: bool) -> OssResult<Reply> {
    let url = req.url_encoding();
    let prefix = req.param("prefix").unwrap_or_default().to_string();
    let delimiter = req.param("delimiter").unwrap_or_default().to_string();
    let max_keys = parse_max_keys(req.param("max-keys"), "max-keys")?;
    let marker = req.param("marker").unwrap_or_default().to_string();
    let token = req.param("continuation-token").filter(|t| !t.is_empty()).map(str::to_string);
    let start_after = req.param("start-after").unwrap_or_default().to_string();
    let after = if v2 {
        match &token {
            Some(t) => {
                let raw = URL_SAFE_NO_PAD.decode(t).ok().and_then(|b| String::from_utf8(b).ok());
                raw.ok_or_else(|| OssError::InvalidArgument("The continuation-token is not valid.".into()))?
            }
            None => start_after.clone(),
        }
    } else {
        marker.clone()
    };
    let query = ListQuery { prefix: prefix.clone(), delimiter: delimiter.clone(), after, max_keys };
    let bucket = req.bucket().to_string();
    let b = bucket.clone();
    let (bucket_owner, listing) = blocking(move || oss.list_objects(&who, &b, &query)).await?;
    let fetch_owner = !v2 || req.param("fetch-owner") == Some("true");
    let contents = listing
        .objects
        .iter()
        .map(|o| xml::Contents {
            key: enc(&o.key, url),
            last_modified: iso8601(o.last_modified),
            etag: quoted(&o.etag),
            object_type: o.object_type.as_str().into(),
            size: o.size,
            storage_class: o.storage_class.clone(),
            owner: fetch_owner.then(|| xml::Owner::of(&bucket_owner)),
        })
        .collect();
    let common_prefixes = listing.common_prefixes.iter().map(|p| xml::CommonPrefix { prefix: enc(p, url) }).collect();
    let next = listing.next_marker.as_deref();
    let result = xml::ListBucketResult {
        name: bucket,
        prefix: enc(&prefix, url),
        marker: (!v2).then(|| enc(&marker, url)),
        continuation_token: if v2 { token } else { None },
        start_after: (v2 && !start_after.is_empty()).then(|| enc(&start_after, url)),
        max_keys,
        delimiter: enc(&delimiter, url),
        encoding_type: url.then(|| "url".into()),
        is_truncated: listing.truncated,
        next_marker: if v2 { None } else { next.map(|n| enc(n, url)) },
        next_continuation_token: if v2 { next.map(|n| URL_SAFE_NO_PAD.encode(n)) } else { None },
        key_count: v2.then(|| listing.key_count()),
        contents,
        common_prefixes,
    };
    Ok(Reply::xml(to_xml("ListBucketResult", &result)))
}

// -- objects ------------------------------------------------------------------------------------------

async fn put_object(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let settings = settings(&req)?;
    let md5 = content_md5(&req)?;
    let forbid = forbid_overwrite(&req);
    let ticket = {
        let (o, r) = (oss.clone(), req.clone());
        blocking(move || o.authorize_write(&who, r.bucket(), &r.key)).await?
    };
    let stored = write_body(&oss, body).await?;
    let digests = stored.digests;
    let object = blocking(move || oss.put_object(&ticket, stored, settings, md5, forbid)).await?;
    Ok(write_reply(&object.etag, Some(&digests), object.crc64))
}

/// Parses `Range: bytes=a-b` against an object of `size` bytes: `Ok(None)` for the whole object
/// (no header, or a range OSS ignores), `Err(InvalidRange)` under `x-oss-range-behavior: standard`.
fn byte_range(req: &OssHttpRequest, size: u64) -> OssResult<Option<(u64, u64)>> {
    let Some(spec) = req.header("range") else { return Ok(None) };
    let standard = req.header("x-oss-range-behavior") == Some("standard");
    let parsed = spec.trim().strip_prefix("bytes=").and_then(|r| {
        if r.contains(',') {
            return None;
        }
        let (a, b) = r.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        match (a.is_empty(), b.is_empty()) {
            (false, _) => {
                let first: u64 = a.parse().ok()?;
                let last: u64 = if b.is_empty() { u64::MAX } else { b.parse().ok()? };
                (first <= last).then_some((Some(first), last))
            }
            (true, false) => Some((None, b.parse().ok()?)),
            (true, true) => None,
        }
    });
    let Some((first, last)) = parsed else { return Ok(None) };
    let range = match first {
        Some(f) if f < size => Some((f, last.min(size - 1))),
        Some(_) => None,
        None if last == 0 || size == 0 => None,
        None => Some((size.saturating_sub(last), size - 1)),
    };
    match range {
        Some(r) => Ok(Some(r)),
        None if standard => Err(OssError::InvalidRange),
        None => Ok(None),
    }
}

/// The metadata headers of GET / HEAD.
fn object_headers(mut r: Reply, o: &Object) -> Reply {
    r = r
        .header("etag", quoted(&o.etag))
        .header("last-modified", http_time(o.last_modified))
        .header("x-oss-object-type", o.object_type.as_str())
        .header("x-oss-storage-class", o.storage_class.clone())
        .header("x-oss-hash-crc64ecma", o.crc64.to_string())
        .header("accept-ranges", "bytes");
    if o.object_type == ObjectType::Appendable {
        r = r.header("x-oss-next-append-position", o.size.to_string());
    }
    for (k, v) in &o.user_meta {
        r = r.header(&format!("x-oss-meta-{k}"), v.clone());
    }
    for (k, v) in &o.headers {
        r = r.header(k, v.clone());
    }
    r
}

async fn get_object(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    // The body is opened before anything is answered (see `Oss::open_object`); HEAD opens none.
    let (object, range, reader) = {
        let (o, r) = (oss.clone(), req.clone());
        blocking(move || {
            let plan = |object: &Object| {
                conditions(&r, "").check(object)?;
                byte_range(&r, object.size)
            };
            if r.method == Method::HEAD {
                let object = o.get_object(&who, r.bucket(), &r.key)?;
                let range = plan(&object)?;
                Ok((object, range, None))
            } else {
                let opened = o.open_object(&who, r.bucket(), &r.key, OssAction::GetObject, plan)?;
                Ok((opened.object, opened.range, Some(opened.reader)))
            }
        })
        .await?
    };
    let (status, len) = match range {
        Some((first, last)) => (206, last - first + 1),
        None => (200, object.size),
    };
    let content_type = req.param("response-content-type").map(str::to_string).unwrap_or_else(|| object.content_type.clone());
    let mut reply = Reply::empty(status).header("content-type", content_type).header("content-length", len.to_string());
    reply = object_headers(reply, &object);
    if let Some((first, last)) = range {
        reply = reply.header("content-range", format!("bytes {first}-{last}/{}", object.size));
    }
    for (param, header) in [
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
    ] {
        if let Some(v) = req.param(param) {
            reply.headers.retain(|(k, _)| k != header);
            reply = reply.header(header, v);
        }
    }
    if let Some(reader) = reader.filter(|_| len > 0) {
        reply.body = respond::stream(reader);
    }
    Ok(reply)
}

async fn get_object_meta(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let o = blocking(move || oss.get_object(&who, req.bucket(), &req.key)).await?;
    Ok(Reply::empty(200)
        .header("etag", quoted(&o.etag))
        .header("content-length", o.size.to_string())
        .header("last-modified", http_time(o.last_modified))
        .header("x-oss-last-access-time", http_time(o.last_modified))
        .header("x-oss-hash-crc64ecma", o.crc64.to_string()))
}

async fn delete_object(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.delete_object(&who, req.bucket(), &req.key)).await?;
    Ok(Reply::empty(204))
}

async fn delete_objects(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let body = read_document(body).await?;
    if let Some(md5) = content_md5(&req)? {
        if md5 != <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&body)) {
            return Err(OssError::InvalidDigest);
        }
    }
    let doc: xml::Delete = xml::parse(&body)?;
    if doc.objects.is_empty() || doc.objects.len() > MAX_DELETE_KEYS {
        return Err(OssError::MalformedXml(format!("a Delete request names 1 to {MAX_DELETE_KEYS} objects")));
    }
    let quiet = doc.quiet.as_deref().is_some_and(|q| q.trim().eq_ignore_ascii_case("true"));
    let keys: Vec<String> = doc.objects.into_iter().map(|o| o.key).collect();
    let url = req.url_encoding();
    let deleted = blocking(move || oss.delete_objects(&who, req.bucket(), &keys)).await?;
    let result = xml::DeleteResult {
        encoding_type: url.then(|| "url".into()),
        deleted: if quiet { Vec::new() } else { deleted.iter().map(|k| xml::Deleted { key: enc(k, url) }).collect() },
    };
    Ok(Reply::xml(to_xml("DeleteResult", &result)))
}

async fn copy_object(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let (src_bucket, src_key) = copy_source(&req)?;
    let directive = match req.header("x-oss-metadata-directive").map(str::to_ascii_uppercase).as_deref() {
        None | Some("COPY") => MetadataDirective::Copy,
        Some("REPLACE") => MetadataDirective::Replace(settings(&req)?),
        Some(other) => return Err(OssError::InvalidArgument(format!("x-oss-metadata-directive {other:?} is not COPY or REPLACE."))),
    };
    let acl = req.header("x-oss-object-acl").map(|a| Acl::parse(a, true)).transpose()?;
    let conds = conditions(&req, "x-oss-copy-source-");
    let forbid = forbid_overwrite(&req);
    let object =
        blocking(move || oss.copy_object(&who, (&src_bucket, &src_key), (req.bucket(), &req.key), &conds, directive, acl, forbid)).await?;
    let result = xml::CopyObjectResult { etag: quoted(&object.etag), last_modified: iso8601(object.last_modified) };
    let mut reply = Reply::xml(to_xml("CopyObjectResult", &result));
    reply = reply.header("etag", quoted(&object.etag)).header("x-oss-hash-crc64ecma", object.crc64.to_string());
    Ok(reply)
}

async fn append_object(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let position: u64 = req
        .param("position")
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| OssError::InvalidArgument("AppendObject needs position=<bytes>.".into()))?;
    let settings = settings(&req)?;
    let md5 = content_md5(&req)?;
    let ticket = {
        let (o, r) = (oss.clone(), req.clone());
        blocking(move || o.authorize_append(&who, r.bucket(), &r.key, position)).await?
    };
    let stored = write_body(&oss, body).await?;
    let digests = stored.digests;
    let object = blocking(move || oss.append_object(&ticket, position, stored, settings, md5)).await?;
    Ok(write_reply(&object.etag, Some(&digests), object.crc64).header("x-oss-next-append-position", object.size.to_string()))
}

async fn get_object_acl(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let r = req.clone();
    let (o, owner) = blocking(move || {
        let o = oss.object_acl(&who, r.bucket(), &r.key)?;
        let owner = oss.owner_of(r.bucket())?;
        Ok((o, owner))
    })
    .await?;
    let acl = xml::AccessControlPolicy {
        owner: xml::Owner::of(&owner),
        access_control_list: xml::AccessControlList { grant: o.acl.as_str().into() },
    };
    Ok(Reply::xml(to_xml("AccessControlPolicy", &acl)))
}

async fn put_object_acl(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let acl =
        Acl::parse(req.header("x-oss-object-acl").ok_or_else(|| OssError::InvalidArgument("x-oss-object-acl is required.".into()))?, true)?;
    blocking(move || oss.put_object_acl(&who, req.bucket(), &req.key, acl)).await?;
    Ok(Reply::empty(200))
}

// -- multipart -----------------------------------------------------------------------------------------

async fn initiate_upload(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let settings = settings(&req)?;
    let url = req.url_encoding();
    let upload = blocking(move || oss.initiate_upload(&who, req.bucket(), &req.key, settings)).await?;
    let result = xml::InitiateMultipartUploadResult {
        bucket: upload.bucket.clone(),
        key: enc(&upload.key, url),
        upload_id: upload.upload_id.clone(),
        encoding_type: url.then(|| "url".into()),
    };
    Ok(Reply::xml(to_xml("InitiateMultipartUploadResult", &result)))
}

fn part_number(req: &OssHttpRequest) -> OssResult<u32> {
    let raw = req.param("partNumber").unwrap_or_default();
    raw.parse().map_err(|_| OssError::InvalidArgument(format!("partNumber {raw:?} is not a number between 1 and 10000.")))
}

async fn upload_part(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let number = part_number(&req)?;
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let md5 = content_md5(&req)?;
    let ticket: WriteTicket = {
        let (o, r, u) = (oss.clone(), req.clone(), upload_id.clone());
        blocking(move || o.authorize_part(&who, r.bucket(), &r.key, &u, number)).await?
    };
    let stored = write_body(&oss, body).await?;
    let digests = stored.digests;
    let part = blocking(move || oss.put_part(&ticket, &upload_id, number, stored, md5)).await?;
    Ok(write_reply(&part.etag, Some(&digests), part.crc64))
}

async fn upload_part_copy(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let number = part_number(&req)?;
    let (src_bucket, src_key) = copy_source(&req)?;
    let range = match req.header("x-oss-copy-source-range") {
        None => None,
        Some(spec) => {
            let r = spec.trim().strip_prefix("bytes=").and_then(|r| r.split_once('-')).and_then(|(a, b)| {
                let last = if b.trim().is_empty() { u64::MAX } else { b.trim().parse::<u64>().ok()? };
                Some((a.trim().parse::<u64>().ok()?, last))
            });
            Some(r.ok_or_else(|| OssError::InvalidArgument(format!("x-oss-copy-source-range {spec:?} is not bytes=<first>-<last>.")))?)
        }
    };
    let conds = conditions(&req, "x-oss-copy-source-");
    let part = blocking(move || {
        let upload_id = req.param("uploadId").unwrap_or_default();
        oss.upload_part_copy(&who, req.bucket(), &req.key, upload_id, number, (&src_bucket, &src_key), range, &conds)
    })
    .await?;
    let result = xml::CopyPartResult { last_modified: iso8601(part.last_modified), etag: quoted(&part.etag) };
    Ok(Reply::xml(to_xml("CopyPartResult", &result))
        .header("etag", quoted(&part.etag))
        .header("x-oss-hash-crc64ecma", part.crc64.to_string()))
}

async fn complete_upload(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>, body: Body) -> OssResult<Reply> {
    let body = read_document(body).await?;
    let upload_id = req.param("uploadId").unwrap_or_default().to_string();
    let complete_all = req.header("x-oss-complete-all").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
    let requested: Option<Vec<(u32, String)>> = if complete_all {
        None
    } else {
        let doc: xml::CompleteMultipartUpload = xml::parse(&body)?;
        Some(doc.parts.into_iter().map(|p| (p.number, p.etag)).collect())
    };
    let url = req.url_encoding();
    let r = req.clone();
    let object = blocking(move || {
        let requested = match requested {
            Some(list) => list,
            None => oss
                .list_parts(&who, r.bucket(), &r.key, &upload_id, 0, usize::MAX - 1)?
                .parts
                .into_iter()
                .map(|p| (p.number, p.etag))
                .collect(),
        };
        oss.complete_upload(&who, r.bucket(), &r.key, &upload_id, &requested)
    })
    .await?;
    let result = xml::CompleteMultipartUploadResult {
        encoding_type: url.then(|| "url".into()),
        location: format!("http://{}/{}/{}", req.endpoint, req.bucket(), encode(&object.key)),
        bucket: req.bucket().to_string(),
        key: enc(&object.key, url),
        etag: quoted(&object.etag),
    };
    Ok(Reply::xml(to_xml("CompleteMultipartUploadResult", &result))
        .header("etag", quoted(&object.etag))
        .header("x-oss-hash-crc64ecma", object.crc64.to_string()))
}

async fn abort_upload(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    blocking(move || oss.abort_upload(&who, req.bucket(), &req.key, req.param("uploadId").unwrap_or_default())).await?;
    Ok(Reply::empty(204))
}

async fn list_parts(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let marker: u32 = req
        .param("part-number-marker")
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), |m| m.parse().map_err(|_| OssError::InvalidArgument(format!("part-number-marker {m:?} is not a number."))))?;
    let max_parts = match req.param("max-parts").filter(|m| !m.is_empty()) {
        None => 1000,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| OssError::InvalidArgument(format!("max-parts {m:?} is not between 1 and 1000.")))?,
    };
    let r = req.clone();
    let listing =
        blocking(move || oss.list_parts(&who, r.bucket(), &r.key, r.param("uploadId").unwrap_or_default(), marker, max_parts)).await?;
    let result = xml::ListPartsResult {
        bucket: req.bucket().to_string(),
        key: listing.upload.key.clone(),
        upload_id: listing.upload.upload_id.clone(),
        part_number_marker: marker,
        next_part_number_marker: listing.next_marker,
        max_parts,
        is_truncated: listing.truncated,
        part: listing
            .parts
            .iter()
            .map(|p| xml::PartEntry {
                part_number: p.number,
                last_modified: iso8601(p.last_modified),
                etag: quoted(&p.etag),
                hash_crc64ecma: p.crc64.to_string(),
                size: p.segment.size,
            })
            .collect(),
    };
    Ok(Reply::xml(to_xml("ListPartsResult", &result)))
}

async fn list_uploads(oss: Oss, who: Arc<Requester>, req: Arc<OssHttpRequest>) -> OssResult<Reply> {
    let url = req.url_encoding();
    let max_uploads = match req.param("max-uploads").filter(|m| !m.is_empty()) {
        None => 1000,
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| OssError::InvalidArgument(format!("max-uploads {m:?} is not between 1 and 1000.")))?,
    };
    let r = req.clone();
    let listing = blocking(move || {
        let p = |n: &str| r.param(n).unwrap_or_default();
        oss.list_uploads(&who, r.bucket(), p("prefix"), p("delimiter"), p("key-marker"), p("upload-id-marker"), max_uploads)
    })
    .await?;
    let p = |n: &str| req.param(n).unwrap_or_default().to_string();
    let result = xml::ListMultipartUploadsResult {
        bucket: req.bucket().to_string(),
        encoding_type: url.then(|| "url".into()),
        key_marker: enc(&p("key-marker"), url),
        upload_id_marker: p("upload-id-marker"),
        next_key_marker: enc(&listing.next_key_marker, url),
        next_upload_id_marker: listing.next_upload_id_marker.clone(),
        delimiter: enc(&p("delimiter"), url),
        prefix: enc(&p("prefix"), url),
        max_uploads,
        is_truncated: listing.truncated,
        upload: listing
            .uploads
            .iter()
            .map(|u| xml::UploadEntry {
                key: enc(&u.key, url),
                upload_id: u.upload_id.clone(),
                storage_class: "Standard".into(),
                initiated: iso8601(u.initiated),
            })
            .collect(),
        common_prefixes: listing.common_prefixes.iter().map(|p| xml::CommonPrefix { prefix: enc(p, url) }).collect(),
    };
    Ok(Reply::xml(to_xml("ListMultipartUploadsResult", &result)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts() {
        assert_eq!(virtual_host_bucket("127.0.0.1:8960"), None);
        assert_eq!(virtual_host_bucket("localhost:8960"), None);
        assert_eq!(virtual_host_bucket("bkt.127.0.0.1:8960"), Some(("bkt".into(), "127.0.0.1:8960".into())));
        assert_eq!(virtual_host_bucket("bkt.localhost"), Some(("bkt".into(), "localhost".into())));
        assert_eq!(virtual_host_bucket("bkt.oss-cn-hangzhou.aliyuncs.com"), Some(("bkt".into(), "oss-cn-hangzhou.aliyuncs.com".into())));
        assert_eq!(virtual_host_bucket("rolestack.internal:8960"), None);
    }
}
