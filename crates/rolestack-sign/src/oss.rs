//! What the OSS signature schemes share: the request view, detection of which scheme a request
//! uses, and where the STS token travels.
//!
//! Detection order (wire-protocols.md §6.2–6.3): an `Authorization` header (`OSS ` → V1, `OSS2 `
//! → V2, `OSS4-HMAC-SHA256 ` → V4); else query `x-oss-signature-version` (presigned V2 when it is
//! `OSS2`, else V4); else query `OSSAccessKeyId`/`Signature` (presigned V1); else the request is
//! anonymous.

use crate::primitives::header;
use crate::{oss_v1, oss_v2, oss_v4, SignatureError};

/// The parts of an OSS request that the signatures cover. Addressing (virtual-hosted, path
/// style, CNAME) is resolved by the caller, which passes the bucket and key it found.
#[derive(Debug, Clone, Copy)]
pub struct OssRequest<'a> {
    /// The HTTP method, e.g. `PUT`.
    pub method: &'a str,
    /// The bucket, `None` for service-level operations (ListBuckets).
    pub bucket: Option<&'a str>,
    /// The decoded object key; empty for bucket-level operations.
    pub key: &'a str,
    /// Query parameters decoded with [`crate::encoding::decode_form`] (oss2 sends spaces as
    /// `+`), empty values and bare names (`?acl`) included.
    pub query: &'a [(String, String)],
    /// Every request header as received (names in any case, possibly repeated).
    pub headers: &'a [(String, String)],
}

impl<'a> OssRequest<'a> {
    pub(crate) fn query_param(&self, name: &str) -> Option<&'a str> {
        crate::primitives::query_value(self.query, name)
    }
}

/// The signature a request carries, parsed, before the secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OssAuth {
    /// `Authorization: OSS <AK>:<signature>`.
    V1Header(oss_v1::HeaderAuth),
    /// Presigned V1 URL (`OSSAccessKeyId`, `Expires`, `Signature`).
    V1Query(oss_v1::QueryAuth),
    /// `Authorization: OSS2 AccessKeyId:...,Signature:...`.
    V2Header(oss_v2::HeaderAuth),
    /// Presigned V2 URL (`x-oss-signature-version=OSS2`, ...).
    V2Query(oss_v2::QueryAuth),
    /// `Authorization: OSS4-HMAC-SHA256 Credential=...`.
    V4Header(oss_v4::HeaderAuth),
    /// Presigned V4 URL (`x-oss-signature-version=OSS4-HMAC-SHA256`, ...).
    V4Query(oss_v4::QueryAuth),
}

impl OssAuth {
    /// Finds and parses the request's signature; `Ok(None)` means an anonymous request.
    pub fn from_request(request: &OssRequest<'_>) -> Result<Option<OssAuth>, SignatureError> {
        if let Some(value) = header(request.headers, "authorization") {
            let scheme = value.split_whitespace().next().unwrap_or("");
            return match scheme {
                oss_v1::SCHEME => oss_v1::HeaderAuth::parse(value).map(|a| Some(OssAuth::V1Header(a))),
                oss_v2::SCHEME => oss_v2::HeaderAuth::parse(value).map(|a| Some(OssAuth::V2Header(a))),
                oss_v4::ALGORITHM => oss_v4::HeaderAuth::parse(value).map(|a| Some(OssAuth::V4Header(a))),
                other => Err(SignatureError::UnsupportedAlgorithm(other.to_string())),
            };
        }
        match request.query_param(oss_v4::QUERY_SIGNATURE_VERSION) {
            Some(oss_v2::SCHEME) => return oss_v2::QueryAuth::from_query(request.query).map(|a| Some(OssAuth::V2Query(a))),
            Some(_) => return oss_v4::QueryAuth::from_query(request.query).map(|a| Some(OssAuth::V4Query(a))),
            None => {}
        }
        if request.query_param(oss_v1::QUERY_ACCESS_KEY_ID).is_some() || request.query_param(oss_v1::QUERY_SIGNATURE).is_some() {
            return oss_v1::QueryAuth::from_query(request.query).map(|a| Some(OssAuth::V1Query(a)));
        }
        Ok(None)
    }

    /// The AccessKey id the request claims, to look up its secret.
    pub fn access_key_id(&self) -> &str {
        match self {
            OssAuth::V1Header(a) => &a.access_key_id,
            OssAuth::V1Query(a) => &a.access_key_id,
            OssAuth::V2Header(a) => &a.access_key_id,
            OssAuth::V2Query(a) => &a.access_key_id,
            OssAuth::V4Header(a) => &a.credential.access_key_id,
            OssAuth::V4Query(a) => &a.credential.access_key_id,
        }
    }

    /// The signature the request carries, as sent (Base64 for V1, hex for V4).
    pub fn signature(&self) -> &str {
        match self {
            OssAuth::V1Header(a) => &a.signature,
            OssAuth::V1Query(a) => &a.signature,
            OssAuth::V2Header(a) => &a.signature,
            OssAuth::V2Query(a) => &a.signature,
            OssAuth::V4Header(a) => &a.signature,
            OssAuth::V4Query(a) => &a.signature,
        }
    }

    /// Verifies the signature with the key's `secret`; `now` (Unix seconds) decides whether a
    /// presigned URL has expired. Header-signed requests are not checked for clock skew here.
    pub fn verify(&self, secret: &str, request: &OssRequest<'_>, now: i64) -> Result<(), SignatureError> {
        match self {
            OssAuth::V1Header(a) => oss_v1::verify_header(secret, a, request),
            OssAuth::V1Query(a) => oss_v1::verify_query(secret, a, request, now),
            OssAuth::V2Header(a) => oss_v2::verify_header(secret, a, request),
            OssAuth::V2Query(a) => oss_v2::verify_query(secret, a, request, now),
            OssAuth::V4Header(a) => oss_v4::verify_header(secret, a, request),
            OssAuth::V4Query(a) => oss_v4::verify_query(secret, a, request, now),
        }
    }
}

/// Where SDKs put the STS security token, in the order it is looked for: header
/// `x-oss-security-token` (oss2, V4), header `security-token` (oss-v2 V1 header signing).
const TOKEN_HEADERS: [&str; 2] = ["x-oss-security-token", "security-token"];
/// The same in the query: `security-token` (presigned V1), `x-oss-security-token` (presigned V4).
const TOKEN_QUERY: [&str; 2] = ["security-token", "x-oss-security-token"];

/// The token values a request's headers carry, in [`TOKEN_HEADERS`] order.
fn header_tokens<'a: 'r, 'r>(request: &'r OssRequest<'a>) -> impl Iterator<Item = &'a str> + 'r {
    TOKEN_HEADERS.iter().filter_map(move |name| header(request.headers, name))
}

/// The token values a request's query carries, in [`TOKEN_QUERY`] order.
fn query_tokens<'a: 'r, 'r>(request: &'r OssRequest<'a>) -> impl Iterator<Item = &'a str> + 'r {
    TOKEN_QUERY.iter().filter_map(move |name| request.query_param(name))
}

/// The STS security token of a request, wherever the SDK put it (headers first); empty is none.
pub fn security_token<'a>(request: &OssRequest<'a>) -> Option<&'a str> {
    header_tokens(request).chain(query_tokens(request)).next().filter(|t| !t.is_empty())
}

/// Whether the request carries an STS token both in a header and in its query, which OSS refuses
/// (docs/oss.md, the "signatures" row).
pub fn security_token_twice(request: &OssRequest<'_>) -> bool {
    header_tokens(request).any(|t| !t.is_empty()) && query_tokens(request).any(|t| !t.is_empty())
}
