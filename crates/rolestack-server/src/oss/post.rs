//! PostObject, the browser form upload: `POST /` on a bucket with a `multipart/form-data`
//! body. Its fields are read (multer) up to the `file` field, the form's signature (V1
//! `OSSAccessKeyId` + `Signature`, or V4 `x-oss-credential` + `x-oss-signature`, with
//! `x-oss-security-token` for STS; none: anonymous) and policy are checked, and the request
//! then goes on as a PutObject would: it carries the form's key, its object fields as headers,
//! and the file as its body, streamed. docs/oss.md, "PostObject", has the rules.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::Method;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_util::StreamExt as _;
use rolestack_core::oss::error::EC_SIGNATURE_MISMATCH;
use rolestack_core::oss::post_policy::PostPolicy;
use rolestack_core::oss::{OssError, OssResult, Requester};
use rolestack_core::service::Rolestack;
use rolestack_sign::{oss_post, oss_v4};

use super::auth;
use super::request::OssHttpRequest;
use super::respond::Reply;
use super::xml::{quoted, to_xml};

/// The most the fields before `file` may take together (UNVERIFIED: OSS's limit is not
/// documented where it was looked for).
const MAX_FIELDS: usize = 64 * 1024;
/// The largest file a PostObject takes (5 GB, as OSS documents).
const MAX_FILE: u64 = 5 * 1024 * 1024 * 1024;
/// V4 forms: how far `x-oss-date` may be ahead of the server, and how long it signs for.
const V4_AHEAD: i64 = auth::MAX_SKEW_SECONDS;
const V4_VALID: i64 = 7 * 24 * 3600;

/// `EC`s of the form's signature fields (docs/oss.md, "PostObject").
const EC_SIGNATURE_MISSING: &str = "0002-00000703";
const EC_SIGNATURE_EMPTY: &str = "0002-00000704";
const EC_CREDENTIAL_INVALID: &str = "0002-00000710";

/// Form fields that become the object's headers, as PutObject takes them.
const OBJECT_FIELDS: &[&str] = &["content-type", "cache-control", "content-disposition", "content-encoding", "expires", "content-md5"];
/// `x-oss-` fields that sign the form rather than describe the object.
const SIGNING_FIELDS: &[&str] = &["x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature", "x-oss-security-token"];

/// What the answer of a PostObject needs from its form, kept with the request.
pub struct PostForm {
    policy: Option<PostPolicy>,
    status: Option<String>,
    redirect: Option<String>,
    /// The file ran past what the policy (or 5 GB) allows: reading stopped there.
    too_large: Arc<AtomicBool>,
}

impl PostForm {
    /// The policy's `content-length-range` on the stored file.
    pub fn check_size(&self, size: u64) -> OssResult<()> {
        match &self.policy {
            Some(p) => p.check_size(size).map_err(OssError::from),
            None => Ok(()),
        }
    }

    /// The write's error, `EntityTooLarge` when the body was cut off for its size.
    pub fn body_error(&self, e: OssError) -> OssError {
        if self.too_large.load(Ordering::Relaxed) {
            OssError::EntityTooLarge
        } else {
            e
        }
    }

    /// The answer of a stored upload: a 303 to `success_action_redirect`, else the status of
    /// `success_action_status` (200, 201 with a `PostResponse`, or 204 for anything else).
    pub fn answer(&self, mut reply: Reply, req: &OssHttpRequest, etag: &str) -> Reply {
        if let Some(url) = self.redirect.as_deref().filter(|u| !u.is_empty()) {
            let query: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("bucket", req.bucket())
                .append_pair("key", &req.key)
                .append_pair("etag", &quoted(etag))
                .finish();
            let sep = if url.contains('?') { '&' } else { '?' };
            reply.status = 303;
            return reply.header("location", format!("{url}{sep}{query}"));
        }
        match self.status.as_deref() {
            Some("200") => reply,
            Some("201") => {
                let scheme = if req.secure { "https" } else { "http" };
                let host = req.header("host").unwrap_or(&req.endpoint);
                let location = match req.virtual_hosted {
                    true => format!("{scheme}://{host}/{}", rolestack_sign::encoding::encode_path(&req.key)),
                    false => format!("{scheme}://{host}/{}/{}", req.bucket(), rolestack_sign::encoding::encode_path(&req.key)),
                };
                let body = PostResponse { bucket: req.bucket().to_string(), location, key: req.key.clone(), e_tag: quoted(etag) };
                let mut xml = Reply::xml(to_xml("PostResponse", &body));
                xml.status = 201;
                xml.headers.extend(reply.headers);
                xml
            }
            _ => {
                reply.status = 204;
                reply
            }
        }
    }
}

#[derive(serde::Serialize)]
#[serde(rename_all = "PascalCase")]
struct PostResponse {
    bucket: String,
    location: String,
    key: String,
    #[serde(rename = "ETag")]
    e_tag: String,
}

/// A browser form upload: `POST /` on a bucket, no sub-resource, a multipart/form-data body.
pub fn is_form_upload(req: &OssHttpRequest) -> bool {
    req.method == Method::POST
        && req.bucket.is_some()
        && req.key.is_empty()
        && req.query.is_empty()
        && req.header("content-type").is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The form's fields, names lower-cased, in order (the first of a repeated name counts).
#[derive(Clone)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads the form up to its file, authenticates it, checks its policy and turns `req` into the
/// PostObject it asks for (key, headers, [`PostForm`]); `body` becomes the file, streamed.
pub async fn prepare(rs: &Rolestack, req: &mut OssHttpRequest, body: &mut Body) -> OssResult<Requester> {
    let content_type = req.header("content-type").unwrap_or_default();
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        OssError::MalformedPostRequest(format!("The body of your POST request is not well-formed multipart/form-data: {e}."))
    })?;
    let mut multipart = multer::Multipart::new(std::mem::take(body).into_data_stream(), boundary);
    let malformed = |e: multer::Error| {
        OssError::MalformedPostRequest(format!("The body of your POST request is not well-formed multipart/form-data: {e}."))
    };
    let mut fields = Vec::new();
    let mut taken = 0;
    let file = loop {
        let Some(mut field) = multipart.next_field().await.map_err(malformed)? else { break None };
        let name = field.name().unwrap_or_default().to_ascii_lowercase();
        if name == "file" {
            break Some(field);
        }
        let mut value = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(malformed)? {
            taken += chunk.len();
            if taken > MAX_FIELDS {
                return Err(OssError::MalformedPostRequest(format!("The form fields before the file exceed {MAX_FIELDS} bytes.")));
            }
            value.extend_from_slice(&chunk);
        }
        let value = String::from_utf8(value).map_err(|_| OssError::InvalidArgument(format!("The form field {name:?} is not UTF-8.")))?;
        fields.push((name, value));
    };
    let file = file.ok_or_else(|| OssError::MalformedPostRequest("The body of your POST request has no file field.".into()))?;
    let fields = Fields(fields);
    // Authentication reads the store: off the async threads when it is a shared server's.
    let who = if rs.store.shared() {
        let (rs, shared_req, shared_fields) = (rs.clone(), req.clone(), fields.clone());
        super::handlers::blocking(move || authenticate(&rs, &shared_req, &shared_fields)).await?
    } else {
        authenticate(rs, req, &fields)?
    };
    let policy = fields.get("policy").map(PostPolicy::parse).transpose()?;
    let raw_key = fields.get("key").ok_or_else(|| OssError::InvalidArgument("Bucket POST must contain a field named 'key'.".into()))?;
    let key = raw_key.replace("${filename}", file.file_name().unwrap_or_default());
    if let Some(policy) = &policy {
        policy.check_expiration(rs.clock.real_now().unix_timestamp())?;
        let bucket = req.bucket().to_string();
        policy.check_fields(|name| match name {
            "bucket" => Some(bucket.as_str()),
            "key" => Some(key.as_str()),
            other => fields.get(other),
        })?;
    }
    let max = policy.as_ref().and_then(PostPolicy::size_range).map_or(MAX_FILE, |(_, max)| max.min(MAX_FILE));
    let too_large = Arc::new(AtomicBool::new(false));
    *body = file_body(file, max, too_large.clone());
    req.key = key;
    req.headers = object_headers(&req.headers, &fields);
    req.post_form = Some(Arc::new(PostForm {
        policy,
        status: fields.get("success_action_status").map(str::to_string),
        redirect: fields.get("success_action_redirect").map(str::to_string),
        too_large,
    }));
    Ok(who)
}

/// The file field as a body that stops with an error past `max` bytes (and says so).
fn file_body(file: multer::Field<'static>, max: u64, too_large: Arc<AtomicBool>) -> Body {
    let mut seen = 0u64;
    Body::from_stream(file.map(move |chunk| -> Result<Bytes, std::io::Error> {
        let chunk = chunk.map_err(std::io::Error::other)?;
        seen += chunk.len() as u64;
        if seen > max {
            too_large.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("the file exceeds the policy's content-length-range"));
        }
        Ok(chunk)
    }))
}

/// The request's headers for the write: the connection's own (host, user agent, origin,
/// referer) and the form's object fields, `x-oss-*` ones (meta, ACL, forbid-overwrite, …) and
/// `callback` / `x:` variables as PutObject takes them; nothing the POST itself sent about its
/// body.
fn object_headers(sent: &[(String, String)], fields: &Fields) -> Vec<(String, String)> {
    let keep = ["host", "user-agent", "origin", "referer"];
    let mut headers: Vec<(String, String)> = sent.iter().filter(|(k, _)| keep.iter().any(|h| k.eq_ignore_ascii_case(h))).cloned().collect();
    let mut vars = serde_json::Map::new();
    for (name, value) in &fields.0 {
        if OBJECT_FIELDS.contains(&name.as_str()) || (name.starts_with("x-oss-") && !SIGNING_FIELDS.contains(&name.as_str())) {
            headers.push((name.clone(), value.clone()));
        } else if name == "callback" {
            headers.push(("x-oss-callback".into(), value.clone()));
        } else if name.starts_with("x:") {
            vars.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
    }
    if !vars.is_empty() {
        headers.push(("x-oss-callback-var".into(), BASE64.encode(serde_json::Value::Object(vars).to_string())));
    }
    headers
}

/// Who signed the form: V4 (`x-oss-signature-version` / `x-oss-credential` / `x-oss-signature`),
/// V1 (`OSSAccessKeyId` / `Signature`), or nobody (anonymous).
fn authenticate(rs: &Rolestack, req: &OssHttpRequest, fields: &Fields) -> OssResult<Requester> {
    let facts = auth::facts(rs, req);
    let token = fields.get("x-oss-security-token");
    let v4 = ["x-oss-signature-version", "x-oss-credential", "x-oss-signature"].iter().any(|f| fields.get(f).is_some());
    let v1 = ["ossaccesskeyid", "signature"].iter().any(|f| fields.get(f).is_some());
    let policy = || fields.get("policy").ok_or_else(|| OssError::InvalidArgument("A signed POST must carry a policy field.".into()));
    let signature = |name: &str| match fields.get(name) {
        None => Err(OssError::InvalidArgumentEc { message: format!("The {name} form field is missing."), ec: EC_SIGNATURE_MISSING }),
        Some("") => Err(OssError::InvalidArgumentEc { message: format!("The {name} form field is empty."), ec: EC_SIGNATURE_EMPTY }),
        Some(s) => Ok(s),
    };
    let mismatch = |e, ak: &str, provided: &str| auth::signature_error(e, ak, provided, EC_SIGNATURE_MISMATCH);
    if v4 {
        let version = fields.get("x-oss-signature-version").unwrap_or_default();
        if version != "OSS4-HMAC-SHA256" {
            return Err(OssError::InvalidArgument(format!("Unsupported x-oss-signature-version {version:?}: OSS4-HMAC-SHA256 is.")));
        }
        let raw = fields.get("x-oss-credential").unwrap_or_default();
        let credential = oss_v4::parse_credential(raw).map_err(|e| OssError::InvalidArgumentEc {
            message: format!("Invalid x-oss-credential {raw:?}: {e}."),
            ec: EC_CREDENTIAL_INVALID,
        })?;
        auth::check_signing_region(&credential.region, req.region)?;
        let date = fields.get("x-oss-date").unwrap_or_default();
        let t = oss_v4::parse_date_time(date)
            .ok_or_else(|| OssError::InvalidArgument(format!("x-oss-date {date:?} is not YYYYMMDDTHHMMSSZ.")))?;
        if !date.starts_with(&credential.date) {
            return Err(OssError::access_denied(format!("x-oss-date {date} is not the date of the credential scope {}.", credential.date)));
        }
        let now = rs.clock.real_now().unix_timestamp();
        if t - now > V4_AHEAD {
            return Err(OssError::RequestTimeTooSkewed);
        }
        if now - t > V4_VALID {
            return Err(OssError::access_denied("Request has expired: x-oss-date is more than 7 days ago."));
        }
        let (policy, provided) = (policy()?, signature("x-oss-signature")?);
        let doc = PostPolicy::parse(policy)?;
        if let Some(f) = ["x-oss-signature-version", "x-oss-credential", "x-oss-date"].into_iter().find(|f| !doc.names(f)) {
            return Err(OssError::InvalidPostPolicy {
                message: format!("Invalid Policy: a V4 policy must have a condition on {f}."),
                ec: rolestack_core::oss::post_policy::ec::FIELD_MISSING,
            });
        }
        let who = auth::lookup(rs, &credential.access_key_id, token)?;
        oss_post::verify_v4(&who.secret, &credential, policy, provided).map_err(|e| mismatch(e, &credential.access_key_id, provided))?;
        return Ok(Requester::Caller(auth::caller(rs, who, credential.access_key_id.clone(), facts)));
    }
    if v1 {
        let ak = fields
            .get("ossaccesskeyid")
            .filter(|a| !a.is_empty())
            .ok_or_else(|| OssError::InvalidArgument("A signed POST must carry the OSSAccessKeyId field.".into()))?;
        let (policy, provided) = (policy()?, signature("signature")?);
        let who = auth::lookup(rs, ak, token)?;
        oss_post::verify_v1(&who.secret, policy, provided).map_err(|e| mismatch(e, ak, provided))?;
        return Ok(Requester::Caller(auth::caller(rs, who, ak.to_string(), facts)));
    }
    Ok(Requester::Anonymous(facts))
}
