//! OSS signature V2: `Authorization: OSS2 AccessKeyId:<ak>,AdditionalHeaders:<h1;h2>,Signature:<sig>`
//! and presigned V2 URLs (`x-oss-signature-version=OSS2`). oss2's `AuthV2` / `ProviderAuthV2`
//! (oss2 2.19.1 `auth.py`); OSS still accepts it beside V1 and V4 (docs/oss.md, the "signatures" row).
//!
//! ```text
//! StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n
//!                CanonicalizedOSSHeaders AdditionalHeaders \n CanonicalizedResource
//! Signature    = Base64(HMAC-SHA256(secret, StringToSign))
//! ```
//!
//! * Date: header `x-oss-date` if present, else `Date` (as V1); for a presigned URL, the
//!   `x-oss-expires` value (Unix seconds).
//! * CanonicalizedOSSHeaders: every `x-oss-*` header and every additional header, lower-cased,
//!   sorted, `name:value\n` each; AdditionalHeaders: their names, sorted, joined by `;`.
//! * CanonicalizedResource: `/<bucket>/<key>` (or `/`) encoded whole with RFC 3986's unreserved
//!   set (so `/` is `%2F`), then, if the request has any query parameter, `?` and **every**
//!   parameter but `x-oss-signature`, names and values encoded the same way, sorted by encoded
//!   name, `name` (empty value) or `name=value`, joined by `&`. Unlike V1, nothing in the query
//!   is left unsigned.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::encoding::encode;
use crate::oss::OssRequest;
use crate::oss_v1::request_date;
use crate::oss_v4::header_list;
use crate::primitives::{auth_components, grouped_headers, header, hmac_sha256, query_value, same_signature};
use crate::SignatureError;

/// The scheme word of the `Authorization` header, and the value of `x-oss-signature-version`.
pub const SCHEME: &str = "OSS2";
/// Presigned URL parameter: the signature version (`OSS2`).
pub const QUERY_SIGNATURE_VERSION: &str = "x-oss-signature-version";
/// Presigned URL parameter: the AccessKey id.
pub const QUERY_ACCESS_KEY_ID: &str = "x-oss-access-key-id";
/// Presigned URL parameter: expiry, Unix seconds.
pub const QUERY_EXPIRES: &str = "x-oss-expires";
/// Presigned URL parameter: the additional signed headers, `;`-separated.
pub const QUERY_ADDITIONAL_HEADERS: &str = "x-oss-additional-headers";
/// Presigned URL parameter: the signature.
pub const QUERY_SIGNATURE: &str = "x-oss-signature";

/// The parsed `Authorization: OSS2 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    /// `AccessKeyId:`.
    pub access_key_id: String,
    /// `AdditionalHeaders:`, lower-cased, sorted (empty when absent).
    pub additional_headers: Vec<String>,
    /// `Signature:`, Base64.
    pub signature: String,
}

impl HeaderAuth {
    /// Parses `OSS2 AccessKeyId:<ak>[,AdditionalHeaders:<h1;h2>],Signature:<sig>`.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        const WHAT: &str = "Authorization header";
        let [ak, additional, signature] = auth_components(value, SCHEME, ["AccessKeyId", "AdditionalHeaders", "Signature"], ':')?;
        let access_key_id = ak.filter(|a| !a.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, "AccessKeyId is missing"))?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, "Signature is missing"))?;
        Ok(HeaderAuth {
            access_key_id: access_key_id.to_string(),
            additional_headers: header_list(additional.unwrap_or("")),
            signature: signature.to_string(),
        })
    }
}

/// The signature parameters of a presigned V2 URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    /// `x-oss-access-key-id`.
    pub access_key_id: String,
    /// `x-oss-expires` exactly as sent (it is the Date line of the StringToSign).
    pub expires: String,
    /// `x-oss-expires` as Unix seconds.
    pub expires_at: i64,
    /// `x-oss-additional-headers`, lower-cased, sorted.
    pub additional_headers: Vec<String>,
    /// `x-oss-signature` (decoded Base64).
    pub signature: String,
}

impl QueryAuth {
    /// Reads the V2 parameters from the decoded query (`x-oss-signature-version` must be `OSS2`).
    pub fn from_query(query: &[(String, String)]) -> Result<Self, SignatureError> {
        let get = |name: &str| query_value(query, name);
        let version = get(QUERY_SIGNATURE_VERSION).ok_or(SignatureError::Missing("query parameter x-oss-signature-version"))?;
        if version != SCHEME {
            return Err(SignatureError::UnsupportedAlgorithm(version.to_string()));
        }
        let access_key_id =
            get(QUERY_ACCESS_KEY_ID).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter x-oss-access-key-id"))?;
        let expires = get(QUERY_EXPIRES).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter x-oss-expires"))?;
        let expires_at =
            expires.parse::<i64>().map_err(|_| SignatureError::malformed("query parameter x-oss-expires", "not an integer"))?;
        let signature = get(QUERY_SIGNATURE).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter x-oss-signature"))?;
        Ok(QueryAuth {
            access_key_id: access_key_id.to_string(),
            expires: expires.to_string(),
            expires_at,
            additional_headers: header_list(get(QUERY_ADDITIONAL_HEADERS).unwrap_or("")),
            signature: signature.to_string(),
        })
    }
}

/// `/<bucket>/<key>` (or `/`) encoded whole, then `?` and every query parameter but the signature.
pub fn canonicalized_resource(request: &OssRequest<'_>) -> String {
    let path = match request.bucket {
        None => "/".to_string(),
        Some(bucket) => format!("/{bucket}/{}", request.key),
    };
    let mut resource = encode(&path);
    let mut params: Vec<(String, String)> =
        request.query.iter().filter(|(k, _)| k != QUERY_SIGNATURE).map(|(k, v)| (encode(k), encode(v))).collect();
    if !params.is_empty() {
        params.sort();
        let parts: Vec<String> = params.into_iter().map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") }).collect();
        resource.push('?');
        resource.push_str(&parts.join("&"));
    }
    resource
}

/// The StringToSign with the given Date line and additional headers (lower-cased, sorted).
pub fn string_to_sign<S: AsRef<str>>(request: &OssRequest<'_>, date: &str, additional_headers: &[S]) -> String {
    let additional: Vec<&str> = additional_headers.iter().map(AsRef::as_ref).collect();
    let canonical_headers: String = grouped_headers(request.headers, |n| n.starts_with("x-oss-") || additional.contains(&n))
        .into_iter()
        .map(|(name, values)| format!("{name}:{}\n", values.join(",")))
        .collect();
    format!(
        "{}\n{}\n{}\n{date}\n{canonical_headers}{}\n{}",
        request.method,
        header(request.headers, "content-md5").unwrap_or(""),
        header(request.headers, "content-type").unwrap_or(""),
        additional.join(";"),
        canonicalized_resource(request)
    )
}

/// Base64 HMAC-SHA256 keyed with the plain secret.
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

fn check<S: AsRef<str>>(
    secret: &str,
    presented: &str,
    request: &OssRequest<'_>,
    date: &str,
    additional: &[S],
) -> Result<(), SignatureError> {
    let sts = string_to_sign(request, date, additional);
    if same_signature(presented, &signature_of(secret, &sts)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { canonical_request: None, string_to_sign: sts })
    }
}

/// Verifies a header-signed request. The Date line is not checked for freshness here.
pub fn verify_header(secret: &str, auth: &HeaderAuth, request: &OssRequest<'_>) -> Result<(), SignatureError> {
    check(secret, &auth.signature, request, request_date(request).unwrap_or(""), &auth.additional_headers)
}

/// Verifies a presigned V2 URL at time `now` (Unix seconds).
pub fn verify_query(secret: &str, auth: &QueryAuth, request: &OssRequest<'_>, now: i64) -> Result<(), SignatureError> {
    if now > auth.expires_at {
        return Err(SignatureError::Expired { expired_at: auth.expires_at, now });
    }
    check(secret, &auth.signature, request, &auth.expires, &auth.additional_headers)
}

/// The `Authorization` header value for `request`, signing the named additional headers. Set
/// `Date` and any `x-oss-security-token` header before signing.
pub fn sign_header(access_key_id: &str, secret: &str, request: &OssRequest<'_>, additional_headers: &[&str]) -> String {
    let additional = header_list(&additional_headers.join(";"));
    let sts = string_to_sign(request, request_date(request).unwrap_or(""), &additional);
    let signature = signature_of(secret, &sts);
    if additional.is_empty() {
        format!("{SCHEME} AccessKeyId:{access_key_id},Signature:{signature}")
    } else {
        format!("{SCHEME} AccessKeyId:{access_key_id},AdditionalHeaders:{},Signature:{signature}", additional.join(";"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::owned;

    #[test]
    fn resource_encodes_the_path_whole_and_signs_every_parameter() {
        let query = owned(&[("x-oss-process", "image/resize,w_1"), ("prefix", "a b"), ("acl", ""), ("x-oss-signature", "s")]);
        let request = OssRequest { method: "GET", bucket: Some("b"), key: "dir/ü k", query: &query, headers: &[] };
        assert_eq!(canonicalized_resource(&request), "%2Fb%2Fdir%2F%C3%BC%20k?acl&prefix=a%20b&x-oss-process=image%2Fresize%2Cw_1");
        let service = OssRequest { method: "GET", bucket: None, key: "", query: &[], headers: &[] };
        assert_eq!(canonicalized_resource(&service), "%2F");
    }

    #[test]
    fn header_round_trip_with_additional_headers() {
        let headers =
            owned(&[("Date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("Range", "bytes=0-1"), ("x-oss-meta-a", "1"), ("Content-Type", "t/p")]);
        let request = OssRequest { method: "GET", bucket: Some("b"), key: "k", query: &[], headers: &headers };
        assert_eq!(string_to_sign(&request, "d", &["range"]), "GET\n\nt/p\nd\nrange:bytes=0-1\nx-oss-meta-a:1\nrange\n%2Fb%2Fk");
        let value = sign_header("ak", "sk", &request, &["Range"]);
        let auth = HeaderAuth::parse(&value).unwrap();
        assert_eq!((auth.access_key_id.as_str(), auth.additional_headers.as_slice()), ("ak", &["range".to_string()][..]));
        assert_eq!(verify_header("sk", &auth, &request), Ok(()));
        let other_range =
            owned(&[("Date", "Mon, 01 Jan 2024 00:00:00 GMT"), ("Range", "bytes=0-9"), ("x-oss-meta-a", "1"), ("Content-Type", "t/p")]);
        let moved = OssRequest { headers: &other_range, ..request };
        assert!(matches!(verify_header("sk", &auth, &moved), Err(SignatureError::Mismatch { .. })));
        let added = owned(&[("acl", "")]);
        let with_query = OssRequest { query: &added, ..request };
        assert!(matches!(verify_header("sk", &auth, &with_query), Err(SignatureError::Mismatch { .. })));
    }

    #[test]
    fn presigned_urls_expire_and_need_their_version() {
        let mut query = owned(&[("x-oss-signature-version", "OSS2"), ("x-oss-expires", "100"), ("x-oss-access-key-id", "ak")]);
        let unsigned = OssRequest { method: "GET", bucket: Some("b"), key: "k", query: &query, headers: &[] };
        let signature = signature_of("sk", &string_to_sign::<&str>(&unsigned, "100", &[]));
        query.push(("x-oss-signature".into(), signature));
        let request = OssRequest { method: "GET", bucket: Some("b"), key: "k", query: &[], headers: &[] };
        let signed = OssRequest { query: &query, ..request };
        let auth = QueryAuth::from_query(&query).unwrap();
        assert_eq!(verify_query("sk", &auth, &signed, 100), Ok(()));
        assert_eq!(verify_query("sk", &auth, &signed, 101), Err(SignatureError::Expired { expired_at: 100, now: 101 }));
        let mut other = query.clone();
        other[0].1 = "OSS3".into();
        assert!(matches!(QueryAuth::from_query(&other), Err(SignatureError::UnsupportedAlgorithm(_))));
    }

    #[test]
    fn malformed_authorization() {
        for bad in [
            "OSS2",
            "OSS2 AccessKeyId:ak",
            "OSS2 Signature:s",
            "OSS2 AccessKeyId=ak,Signature=s",
            "OSS2 Unknown:x,AccessKeyId:a,Signature:s",
        ] {
            assert!(HeaderAuth::parse(bad).is_err(), "{bad}");
        }
    }
}
