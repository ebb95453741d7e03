//! One OSS request as the front-end sees it: the addressing resolved (path style
//! `/<bucket>/<key>` for IP / `localhost` endpoints, virtual-hosted `<bucket>.<endpoint>/<key>`),
//! the query decoded, the headers as sent. Typed header values are parsed from it in
//! [`super::headers`].

use std::net::{IpAddr, SocketAddr};

use axum::http::Method;
use rolestack_core::endpoints;
use rolestack_core::oss::error::EC_KEY_INVALID;
use rolestack_core::oss::model::{validate_bucket_name, Bucket};
use rolestack_core::oss::{OssError, OssResult};
use rolestack_sign::encoding::{decode_form, decode_path, decode_path_utf8, first_non_utf8_pair};
use rolestack_sign::oss::OssRequest;
use rolestack_sign::s3::S3Request;

/// One OSS request, addressing resolved, before authentication.
#[derive(Clone)]
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
    /// The URI path exactly as received (the AWS signatures cover it as sent).
    pub raw_path: String,
    /// The URI query exactly as received.
    pub raw_query: String,
    /// The bucket came in the `Host` header (virtual-hosted style).
    pub virtual_hosted: bool,
    /// The request carries an AWS signature: OSS's S3-compatible dialect ([`crate::s3`]).
    pub s3: bool,
    /// The instance network namespace the request came in through, if any.
    pub namespace: Option<String>,
    /// A PostObject form, once read and authenticated ([`super::post`]): the request then
    /// carries the form's key and its fields as headers.
    pub post_form: Option<std::sync::Arc<super::post::PostForm>>,
}

impl OssHttpRequest {
    pub fn from_parts(parts: &axum::http::request::Parts, peer: SocketAddr) -> Self {
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
        let hosted = virtual_host_bucket(&host);
        let virtual_hosted = hosted.is_some();
        let (bucket, key, endpoint) = match hosted {
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
        let s3 = crate::s3::is_s3(&headers, &query);
        let raw_path = parts.uri.path().to_string();
        OssHttpRequest {
            method: parts.method.clone(),
            bucket,
            key,
            query,
            headers,
            peer,
            endpoint,
            secure,
            region,
            raw_path,
            raw_query: parts.uri.query().unwrap_or("").to_string(),
            virtual_hosted,
            s3,
            namespace: parts.extensions.get::<crate::network::Namespace>().map(|n| n.0.clone()),
            post_form: None,
        }
    }

    /// Object keys are UTF-8: a path whose `%XX` bytes are not is `InvalidObjectName`, as on OSS
    /// (decoded, its bytes would be replaced and it would name another key).
    /// Query values are UTF-8 too: a `prefix`, `marker`, `delimiter` (or any parameter) whose
    /// `%XX` bytes are not is `InvalidArgument` rather than matched after a lossy decode (see
    /// docs/oss.md, "listing").
    pub fn check_path_utf8(&self) -> OssResult<()> {
        decode_key("the path", &self.raw_path)?;
        match first_non_utf8_pair(&self.raw_query) {
            // UNVERIFIED: OSS documents no answer for such a query; InvalidArgument is ours.
            Some(piece) => {
                Err(OssError::InvalidArgument(format!("The query parameter {piece:?} is not UTF-8 once its %XX escapes are decoded.")))
            }
            None => Ok(()),
        }
    }

    /// The view the AWS signature schemes check (S3 dialect).
    pub fn s3_view(&self) -> S3Request<'_> {
        S3Request { method: self.method.as_str(), raw_path: &self.raw_path, query: &self.query, headers: &self.headers }
    }

    /// The bucket of a virtual-hosted request (SigV2 signs it before the path).
    pub fn bucket_in_host(&self) -> Option<&str> {
        self.bucket.as_deref().filter(|_| self.virtual_hosted)
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

    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.param(name).is_some()
    }

    /// The first query parameter written without `=` (`?annotation`), decoded.
    pub fn bare_parameter(&self) -> Option<String> {
        let piece = self.raw_query.split('&').find(|p| !p.is_empty() && !p.contains('='))?;
        decode_form(piece).into_iter().next().map(|(name, _)| name)
    }

    pub fn bucket(&self) -> &str {
        self.bucket.as_deref().unwrap_or_default()
    }

    /// `encoding-type=url` was asked for; any other value is `InvalidArgument` (EC `0017-00000235`).
    pub fn url_encoding(&self) -> OssResult<bool> {
        match self.param("encoding-type") {
            None => Ok(false),
            Some("url") => Ok(true),
            Some(other) => Err(OssError::InvalidEncodingType { value: other.to_string() }),
        }
    }

    /// The endpoints to report for a bucket: its region's service names when the request came
    /// by service name, else the address the client used (so a client following them stays here).
    pub fn bucket_endpoints(&self, b: &Bucket) -> (String, String) {
        match self.region {
            Some(_) => (endpoints::oss_endpoint_name(&b.region, false), endpoints::oss_endpoint_name(&b.region, true)),
            None => (self.endpoint.clone(), self.endpoint.clone()),
        }
    }

    pub fn host_id(&self) -> String {
        match &self.bucket {
            Some(b) => format!("{b}.{}", self.endpoint),
            None => self.endpoint.clone(),
        }
    }
}

/// `<bucket>.<endpoint>` when the endpoint part looks like an OSS endpoint (an IP address,
/// `localhost`, `oss-*` or `*.aliyuncs.com`); the bucket and the endpoint otherwise `None`. Host
/// names compare without case (`Bkt.Localhost` is bucket `bkt`).
fn virtual_host_bucket(host: &str) -> Option<(String, String)> {
    // Lower-cased only when needed: this runs on every request (clients send lower case).
    let lower: std::borrow::Cow<'_, str> =
        if host.bytes().any(|b| b.is_ascii_uppercase()) { host.to_ascii_lowercase().into() } else { host.into() };
    let host = lower.as_ref();
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

/// A key (or a path naming one) by its URL encoding, decoded; escaped bytes that are not UTF-8
/// name no key: `InvalidObjectName`, as on OSS. `what` names where it came from.
pub fn decode_key(what: &str, raw: &str) -> OssResult<String> {
    decode_path_utf8(raw).ok_or_else(|| OssError::InvalidObjectName {
        message: format!("{what} {raw:?}: an object key is UTF-8; the escaped bytes are not"),
        ec: EC_KEY_INVALID,
    })
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
        assert_eq!(virtual_host_bucket("Bkt.LOCALHOST:8960"), Some(("bkt".into(), "localhost:8960".into())));
    }
}
