//! PostObject, the browser form upload: `POST /` on a bucket with a `multipart/form-data`
//! body. Its fields are read (multer) up to the `file` field (the first of a repeated name is
//! the only one kept, for the policy and the object alike), the form's signature (see
//! [`Scheme`]: OSS V1 / V4 with `x-oss-security-token` for STS, or the S3 dialect's SigV2 / SigV4
//! with `x-amz-security-token`; none: anonymous) and policy are checked, and the request then
//! goes on as a PutObject would: it carries the form's key, its object fields as headers, and
//! the file as its body, streamed — a part after the file refuses the form before anything is
//! stored. docs/oss.md, "PostObject", has the rules (and
//! docs/s3-compatible.md for the S3 dialect's forms).

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, Method};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use rolestack_core::oss::error::{EC_S3_SIGNATURE_MISMATCH, EC_SIGNATURE_MISMATCH};
use rolestack_core::oss::post_policy::PostPolicy;
use rolestack_core::oss::{OssError, OssResult, Requester};
use rolestack_core::service::Rolestack;
use rolestack_sign::{aws_v4, oss_post, oss_v4, ScopedCredential, SignatureError};

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
const EC_POLICY_MISSING: &str = "0002-00000702";
const EC_POLICY_EMPTY: &str = "0006-00000205";

/// Form fields that become the object's headers, as PutObject takes them.
const OBJECT_FIELDS: &[&str] = &["content-type", "cache-control", "content-disposition", "content-encoding", "expires", "content-md5"];
/// `x-oss-` fields that sign the form rather than describe the object.
const SIGNING_FIELDS: &[&str] = &["x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-signature", "x-oss-security-token"];
/// The same for S3-compatible forms.
const AWS_SIGNING_FIELDS: &[&str] = &["x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "x-amz-security-token"];

/// What the answer of a PostObject needs from its form, kept with the request.
pub struct PostForm {
    policy: Option<PostPolicy>,
    status: Option<String>,
    redirect: Option<String>,
    /// Why reading the file stopped short, when the form did: it ran past what the policy (or
    /// 5 GB) allows, a part followed it, or the multipart body broke.
    cut: Cut,
}

/// The error that cut a PostObject's file short, set by its body stream and taken by the write.
type Cut = Arc<Mutex<Option<OssError>>>;

impl PostForm {
    /// The policy's `content-length-range` on the stored file.
    pub fn check_size(&self, size: u64) -> OssResult<()> {
        match &self.policy {
            Some(p) => p.check_size(size).map_err(OssError::from),
            None => Ok(()),
        }
    }

    /// The write's error: the form's own when its body stream cut the file short.
    pub fn body_error(&self, e: OssError) -> OssError {
        self.cut.lock().unwrap_or_else(|p| p.into_inner()).take().unwrap_or(e)
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

/// The form's fields, names lower-cased, in order, each name once: the first of a repeated
/// name is kept and the others are dropped, so the policy checks exactly what the object gets.
#[derive(Clone, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Adds a field (its name lower-cased) unless the form already had one of that name.
    fn add(&mut self, name: String, value: String) {
        if self.get(&name).is_none() {
            self.0.push((name, value));
        }
    }
}

/// Reads the form up to its file, authenticates it, checks its policy and turns `req` into the
/// PostObject it asks for (key, headers, [`PostForm`]); `body` becomes the file, streamed.
pub async fn prepare(rs: &Rolestack, req: &mut OssHttpRequest, body: &mut Body) -> OssResult<Requester> {
    let content_type = req.header("content-type").unwrap_or_default();
    let malformed = |e: multer::Error| {
        OssError::MalformedPostRequest(format!("The body of your POST request is not well-formed multipart/form-data: {e}."))
    };
    let boundary = multer::parse_boundary(content_type).map_err(malformed)?;
    let mut multipart = multer::Multipart::new(std::mem::take(body).into_data_stream(), boundary);
    let mut fields = Fields::default();
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
        fields.add(name, value);
    };
    let file = file.ok_or_else(|| OssError::MalformedPostRequest("The body of your POST request has no file field.".into()))?;
    // Authentication reads the store: off the async threads when it is a shared server's.
    let (who, checked) = if rs.store.shared() {
        let (rs, shared_req, shared_fields) = (rs.clone(), req.clone(), fields.clone());
        super::handlers::blocking(move || authenticate(&rs, &shared_req, &shared_fields)).await?
    } else {
        authenticate(rs, req, &fields)?
    };
    // A V4 form's policy was parsed to check its conditions before the signature.
    let policy = match checked {
        Some(policy) => Some(policy),
        None => fields.get("policy").map(PostPolicy::parse).transpose()?,
    };
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
    let redirect = fields.get("success_action_redirect").map(str::to_string);
    if redirect.as_deref().is_some_and(|url| HeaderValue::from_str(url).is_err()) {
        return Err(OssError::InvalidArgument("success_action_redirect must not hold control characters (CR, LF).".into()));
    }
    let max = policy.as_ref().and_then(PostPolicy::size_range).map_or(MAX_FILE, |(_, max)| max.min(MAX_FILE));
    let cut = Cut::default();
    let file_type = file.content_type().map(|m| m.to_string());
    *body = file_body(multipart, file, max, cut.clone());
    req.key = key;
    req.headers = object_headers(&req.headers, &fields, Scheme::of(&fields).s3(), file_type);
    req.post_form = Some(Arc::new(PostForm { policy, status: fields.get("success_action_status").map(str::to_string), redirect, cut }));
    Ok(who)
}

/// The file field as a body. It stops with an error (kept in `cut` for [`PostForm::body_error`])
/// past `max` bytes (`EntityTooLarge`), on a broken multipart body, and — once the file has been
/// read — when another part follows it (OSS: the file must be the last field): the write then
/// fails and stores nothing.
fn file_body(multipart: multer::Multipart<'static>, file: multer::Field<'static>, max: u64, cut: Cut) -> Body {
    let stop = move |e: OssError| {
        let message = e.to_string();
        *cut.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
        Some((Err(std::io::Error::other(message)), None))
    };
    let malformed = |e: multer::Error| {
        OssError::MalformedPostRequest(format!("The body of your POST request is not well-formed multipart/form-data: {e}."))
    };
    // The state: the form, its file while it is being read, the bytes read; none once stopped.
    let reading = Some((multipart, Some(file), 0u64));
    Body::from_stream(futures_util::stream::unfold(reading, move |state| {
        let stop = stop.clone();
        async move {
            let (mut multipart, file, mut seen) = state?;
            // multer reads on past a field only once that field is dropped (here, at its end).
            if let Some(mut field) = file {
                match field.chunk().await {
                    Err(e) => return stop(malformed(e)),
                    Ok(Some(chunk)) => {
                        seen += chunk.len() as u64;
                        if seen > max {
                            return stop(OssError::EntityTooLarge);
                        }
                        return Some((Ok::<Bytes, std::io::Error>(chunk), Some((multipart, Some(field), seen))));
                    }
                    Ok(None) => {}
                }
            }
            match multipart.next_field().await {
                Ok(None) => None,
                Ok(Some(_)) => stop(OssError::PostFileNotLast),
                Err(e) => stop(malformed(e)),
            }
        }
    }))
}

/// The request's headers for the write: the connection's own (host, user agent, origin,
/// referer) and the form's object fields as PutObject takes them — OSS forms: `x-oss-*` ones
/// (meta, ACL, forbid-overwrite, …), `callback` and `x:` variables; S3 forms: `x-amz-*` ones and
/// `acl`, renamed as the S3 dialect renames headers —; nothing the POST itself sent about its body.
/// The object's type on an OSS form is its `x-oss-content-type` field, else the file part's own
/// `Content-Type` (which browsers always set), else the `Content-Type` field; on an S3 form the
/// `Content-Type` field (docs/oss.md, "PostObject").
fn object_headers(sent: &[(String, String)], fields: &Fields, s3: bool, file_type: Option<String>) -> Vec<(String, String)> {
    let keep = ["host", "user-agent", "origin", "referer"];
    let mut headers: Vec<(String, String)> = sent.iter().filter(|(k, _)| keep.iter().any(|h| k.eq_ignore_ascii_case(h))).cloned().collect();
    let mut object = Vec::new();
    let mut vars = serde_json::Map::new();
    // The headers this dialect names the object with, less the ones that sign the form.
    let (prefix, signing) = if s3 { ("x-amz-", AWS_SIGNING_FIELDS) } else { ("x-oss-", SIGNING_FIELDS) };
    for (name, value) in &fields.0 {
        let field = |n: &str| (n.to_string(), value.clone());
        if name == "content-type" || name == "x-oss-content-type" {
            continue; // below
        } else if OBJECT_FIELDS.contains(&name.as_str()) || (name.starts_with(prefix) && !signing.contains(&name.as_str())) {
            object.push(field(name));
        } else if s3 && name == "acl" {
            object.push(field("x-amz-acl"));
        } else if !s3 && name == "callback" {
            object.push(field("x-oss-callback"));
        } else if !s3 && name.starts_with("x:") {
            vars.insert(name.clone(), serde_json::Value::String(value.clone()));
        }
    }
    let field_type = fields.get("content-type").map(str::to_string);
    let content_type = match s3 {
        true => field_type,
        false => fields.get("x-oss-content-type").map(str::to_string).or(file_type).or(field_type),
    };
    object.extend(content_type.map(|t| ("content-type".to_string(), t)));
    if !vars.is_empty() {
        object.push(("x-oss-callback-var".into(), BASE64.encode(serde_json::Value::Object(vars).to_string())));
    }
    headers.extend(if s3 { crate::s3::translate_request_headers(&object, &[], true) } else { object });
    headers
}

/// A form's signature scheme, from its fields: OSS V4 (`x-oss-signature-version` /
/// `x-oss-credential` / `x-oss-signature`), AWS SigV4 (`x-amz-algorithm` / `x-amz-credential` /
/// `x-amz-signature`), OSS V1 (`OSSAccessKeyId`), AWS SigV2 (`AWSAccessKeyId`), or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    OssV4,
    AwsV4,
    OssV1,
    AwsV2,
    Anonymous,
}

/// A V4 scheme's fields (the version field and its value, credential, date, signature; the
/// first three are also the conditions its policy must carry), and how its credential is parsed
/// and its signature checked.
struct V4Names {
    version: &'static str,
    algorithm: &'static str,
    credential: &'static str,
    date: &'static str,
    signature: &'static str,
    parse: fn(&str) -> Result<ScopedCredential, SignatureError>,
    verify: fn(&str, &ScopedCredential, &str, &str) -> Result<(), SignatureError>,
}

const OSS_V4: V4Names = V4Names {
    version: "x-oss-signature-version",
    algorithm: "OSS4-HMAC-SHA256",
    credential: "x-oss-credential",
    date: "x-oss-date",
    signature: "x-oss-signature",
    parse: oss_v4::parse_credential,
    verify: oss_post::verify_v4,
};
const AWS_V4: V4Names = V4Names {
    version: "x-amz-algorithm",
    algorithm: "AWS4-HMAC-SHA256",
    credential: "x-amz-credential",
    date: "x-amz-date",
    signature: "x-amz-signature",
    parse: aws_v4::parse_credential,
    verify: oss_post::verify_aws_v4,
};

impl Scheme {
    fn of(fields: &Fields) -> Scheme {
        let any = |names: &[&str]| names.iter().any(|f| fields.get(f).is_some());
        if any(&[OSS_V4.version, OSS_V4.credential, OSS_V4.signature]) {
            Scheme::OssV4
        } else if any(&[AWS_V4.version, AWS_V4.credential, AWS_V4.signature]) {
            Scheme::AwsV4
        } else if any(&["awsaccesskeyid"]) {
            Scheme::AwsV2
        } else if any(&["ossaccesskeyid", "signature", "policy"]) {
            // Any one of OSSAccessKeyId, Signature and policy makes the other two required.
            Scheme::OssV1
        } else {
            Scheme::Anonymous
        }
    }

    /// The S3-compatible dialect (its fields name the object as S3 does: `x-amz-meta-*`, `acl`).
    fn s3(self) -> bool {
        matches!(self, Scheme::AwsV4 | Scheme::AwsV2)
    }
}

/// Who signed the form (see [`Scheme`]); anonymous when nobody did. With it, a V4 form's policy,
/// which was parsed before the signature was checked (the other forms' policies are parsed after).
fn authenticate(rs: &Rolestack, req: &OssHttpRequest, fields: &Fields) -> OssResult<(Requester, Option<PostPolicy>)> {
    let facts = auth::refreshed_facts(rs, req);
    let scheme = Scheme::of(fields);
    // An empty token is none (oss2's form example sends `x-oss-security-token` empty for a
    // permanent key).
    let token = fields.get(if scheme.s3() { "x-amz-security-token" } else { "x-oss-security-token" }).filter(|t| !t.is_empty());
    let ec = if scheme.s3() { EC_S3_SIGNATURE_MISMATCH } else { EC_SIGNATURE_MISMATCH };
    let policy = || match fields.get("policy") {
        None => Err(OssError::InvalidArgumentEc { message: "A signed POST must carry a policy field.".into(), ec: EC_POLICY_MISSING }),
        Some("") => Err(OssError::InvalidPostPolicy { message: "The policy field of a signed POST is empty.".into(), ec: EC_POLICY_EMPTY }),
        Some(p) => Ok(p),
    };
    // The signer's key (and session), the signature checked with its secret.
    let signed = |ak: &str, provided: &str, verify: &dyn Fn(&str) -> Result<(), SignatureError>| -> OssResult<Requester> {
        let who = auth::lookup(rs, ak, token)?;
        verify(&who.secret).map_err(|e| auth::signature_error(e, ak, provided, ec))?;
        Ok(Requester::Caller(auth::caller(rs, who, ak.to_string(), facts.clone())))
    };
    match scheme {
        Scheme::OssV4 | Scheme::AwsV4 => {
            let names = if scheme == Scheme::OssV4 { &OSS_V4 } else { &AWS_V4 };
            let raw = fields.get(names.credential).unwrap_or_default();
            let credential = (names.parse)(raw).map_err(|e| OssError::InvalidArgumentEc {
                message: format!("Invalid {} {raw:?}: {e}.", names.credential),
                ec: EC_CREDENTIAL_INVALID,
            })?;
            // OSS's scope names a region rolestack must serve (as for headers); the S3 dialect's
            // is not checked, as for S3 headers.
            if scheme == Scheme::OssV4 {
                auth::check_signing_region(&credential.region, req.region)?;
            }
            let policy = policy()?;
            let (doc, provided) = v4_checks(rs, fields, names, &credential, policy)?;
            let who = signed(&credential.access_key_id, provided, &|secret| (names.verify)(secret, &credential, policy, provided))?;
            Ok((who, Some(doc)))
        }
        Scheme::OssV1 | Scheme::AwsV2 => {
            let name = if scheme == Scheme::OssV1 { "ossaccesskeyid" } else { "awsaccesskeyid" };
            let ak = fields.get(name).filter(|a| !a.is_empty()).ok_or_else(|| {
                OssError::InvalidArgument(format!("A signed POST must carry the {name} field (OSSAccessKeyId / AWSAccessKeyId)."))
            })?;
            let (policy, provided) = (policy()?, signature_field(fields, "signature")?);
            Ok((signed(ak, provided, &|secret| oss_post::verify_v1(secret, policy, provided))?, None))
        }
        Scheme::Anonymous => Ok((Requester::Anonymous(facts), None)),
    }
}

/// The signature field `name`: missing is EC `0002-00000703`, empty `0002-00000704`.
fn signature_field<'f>(fields: &'f Fields, name: &str) -> OssResult<&'f str> {
    match fields.get(name) {
        None => Err(OssError::InvalidArgumentEc { message: format!("The {name} form field is missing."), ec: EC_SIGNATURE_MISSING }),
        Some("") => Err(OssError::InvalidArgumentEc { message: format!("The {name} form field is empty."), ec: EC_SIGNATURE_EMPTY }),
        Some(s) => Ok(s),
    }
}

/// What V4 forms (OSS's and AWS's) check before the signature: the algorithm, the request date
/// (on the credential's day, at most 15 minutes ahead, at most 7 days old), and a policy that
/// binds the signing fields with conditions. Returns the parsed policy and the signature.
fn v4_checks<'f>(
    rs: &Rolestack,
    fields: &'f Fields,
    names: &V4Names,
    credential: &ScopedCredential,
    policy: &'f str,
) -> OssResult<(PostPolicy, &'f str)> {
    let version = fields.get(names.version).unwrap_or_default();
    if version != names.algorithm {
        return Err(OssError::InvalidArgument(format!("Unsupported {} {version:?}: {} is.", names.version, names.algorithm)));
    }
    let date = fields.get(names.date).unwrap_or_default();
    let t = oss_v4::parse_date_time(date)
        .ok_or_else(|| OssError::InvalidArgument(format!("{} {date:?} is not YYYYMMDDTHHMMSSZ.", names.date)))?;
    if !date.starts_with(&credential.date) {
        return Err(OssError::access_denied(format!("{} {date} is not the date of the credential scope {}.", names.date, credential.date)));
    }
    let now = rs.clock.real_now().unix_timestamp();
    if t - now > V4_AHEAD {
        return Err(OssError::RequestTimeTooSkewed);
    }
    if now - t > V4_VALID {
        return Err(OssError::access_denied(format!("Request has expired: {} is more than 7 days ago.", names.date)));
    }
    let provided = signature_field(fields, names.signature)?;
    let doc = PostPolicy::parse(policy)?;
    if let Some(f) = [names.version, names.credential, names.date].into_iter().find(|f| !doc.names(f)) {
        return Err(OssError::InvalidPostPolicy {
            message: format!("Invalid Policy: a V4 policy must have a condition on {f}."),
            ec: rolestack_core::oss::post_policy::ec::FIELD_MISSING,
        });
    }
    Ok((doc, provided))
}
