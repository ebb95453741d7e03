//! AWS Signature Version 2 for S3 (`Authorization: AWS <AccessKeyId>:<Signature>` and presigned
//! URLs with `AWSAccessKeyId`, `Expires`, `Signature`), as OSS's S3-compatible API accepts it
//! (boto3 `signature_version='s3'`, rclone `v2_auth`). Rules as written in docs/s3-compatible.md:
//!
//! ```text
//! StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
//! Signature    = Base64(HMAC-SHA1(secret, StringToSign))
//! ```
//!
//! * Date: the `Date` header, or an empty line when `x-amz-date` is present (it is then signed
//!   among the amz headers); for a presigned URL, the `Expires` value.
//! * CanonicalizedAmzHeaders: every `x-amz-*` header (for a presigned URL also every `x-amz-*`
//!   query parameter, where the SDKs move them), lower-cased, sorted, values trimmed and joined by
//!   `,`, `name:value\n` each.
//! * CanonicalizedResource: `/<bucket>` for a virtual-hosted request, then the path as sent
//!   (percent-encoded), then `?` and the signed parameters present ([`is_signed_parameter`]: the
//!   S3 sub-resources of [`SUB_RESOURCES`] and OSS's own) sorted by name, `name` or `name=value`
//!   (value decoded), joined by `&`.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::oss_v1::SubResources;
use crate::primitives::{grouped_headers, header, hmac_sha1, key_and_signature, query_value, same_signature};
use crate::s3::S3Request;
use crate::SignatureError;

/// The scheme word of the `Authorization` header.
pub const SCHEME: &str = "AWS";
/// What a SigV2 `Authorization` header starts with.
pub const SCHEME_PREFIX: &str = "AWS ";
/// Presigned URL parameter: the AccessKey id.
pub const QUERY_ACCESS_KEY_ID: &str = "AWSAccessKeyId";
/// Presigned URL parameter: expiry, Unix seconds.
pub const QUERY_EXPIRES: &str = "Expires";
/// Presigned URL parameter: the signature.
pub const QUERY_SIGNATURE: &str = "Signature";

/// S3's sub-resources, which S3 clients sign (with OSS's they make up the signed resource,
/// [`is_signed_parameter`]): the union of the list in AWS's SigV2 description and the lists
/// botocore 1.44 and rclone 1.60 sign, sorted.
pub const SUB_RESOURCES: [&str; 37] = [
    "accelerate",
    "acl",
    "analytics",
    "cors",
    "defaultObjectAcl",
    "delete",
    "encryption",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "partNumber",
    "policy",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "select",
    "select-type",
    "storageClass",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// S3 request parameters that OSS's sub-resource lists name too but that S3 clients send outside
/// the signed resource: ListObjectsV2's `continuation-token`.
const S3_UNSIGNED_PARAMETERS: [&str; 1] = ["continuation-token"];

/// Whether a query parameter belongs to the signed resource: an S3 sub-resource
/// ([`SUB_RESOURCES`]), or a sub-resource OSS V1 signs (`append`, `bucketInfo`, `callback`,
/// `live`, `x-oss-process`, ...: [`SubResources::Union`]). OSS serves its own operations and
/// parameters on S3 requests as well, so none of them may be added to a SigV2-signed request
/// without breaking its signature (docs/s3-compatible.md, "Signatures").
pub fn is_signed_parameter(name: &str) -> bool {
    SUB_RESOURCES.contains(&name) || (SubResources::Union.contains(name) && !S3_UNSIGNED_PARAMETERS.contains(&name))
}

/// The parsed `Authorization: AWS <AccessKeyId>:<Signature>` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    /// The AccessKey id.
    pub access_key_id: String,
    /// The Base64 signature.
    pub signature: String,
}

impl HeaderAuth {
    /// Parses `AWS <ak>:<sig>`.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let (access_key_id, signature) = key_and_signature(value, SCHEME)?;
        Ok(HeaderAuth { access_key_id, signature })
    }
}

/// The signature parameters of a presigned SigV2 URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    /// `AWSAccessKeyId`.
    pub access_key_id: String,
    /// `Expires`, Unix seconds.
    pub expires: i64,
    /// `Signature`, Base64.
    pub signature: String,
}

impl QueryAuth {
    /// Reads `AWSAccessKeyId`, `Expires` and `Signature` from the decoded query.
    pub fn from_query(query: &[(String, String)]) -> Result<Self, SignatureError> {
        let get = |name: &str| query_value(query, name);
        let ak = get(QUERY_ACCESS_KEY_ID).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing("query parameter AWSAccessKeyId"))?;
        let expires = get(QUERY_EXPIRES)
            .ok_or(SignatureError::Missing("query parameter Expires"))?
            .parse::<i64>()
            .map_err(|_| SignatureError::malformed("query parameter Expires", "not an integer"))?;
        let signature = get(QUERY_SIGNATURE).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing("query parameter Signature"))?;
        Ok(QueryAuth { access_key_id: ak.to_string(), expires, signature: signature.to_string() })
    }
}

/// `/<bucket>` (virtual-hosted) + the path as sent + the sorted signed parameters. A bucket-level
/// resource ends with `/` (`/bucket/`, as botocore signs a path-style `/bucket`); with
/// `as_sent` the path is taken exactly as received instead (other clients sign that).
pub fn canonicalized_resource(request: &S3Request<'_>, bucket_in_host: Option<&str>, as_sent: bool) -> String {
    let mut out = String::new();
    if let Some(bucket) = bucket_in_host {
        out.push('/');
        out.push_str(bucket);
    }
    out.push_str(if request.raw_path.is_empty() { "/" } else { request.raw_path });
    if !as_sent && out.len() > 1 && !out[1..].contains('/') {
        out.push('/');
    }
    let mut subs: Vec<(&str, &str)> =
        request.query.iter().filter(|(k, _)| is_signed_parameter(k)).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    subs.sort_by(|a, b| a.0.cmp(b.0));
    if !subs.is_empty() {
        out.push('?');
        let parts: Vec<String> = subs.iter().map(|(k, v)| if v.is_empty() { k.to_string() } else { format!("{k}={v}") }).collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// The string to sign; `date` is the Date line (see the module documentation), `presigned`
/// adds the `x-amz-*` query parameters to the amz headers; `as_sent` see [`canonicalized_resource`].
pub fn string_to_sign(request: &S3Request<'_>, date: &str, bucket_in_host: Option<&str>, presigned: bool, as_sent: bool) -> String {
    let from_query = |name: &str| if presigned { request.query_param(name) } else { None };
    let content_md5 = header(request.headers, "content-md5").or_else(|| from_query("Content-MD5")).unwrap_or("");
    let content_type = header(request.headers, "content-type").or_else(|| from_query("Content-Type")).unwrap_or("");
    let mut amz: Vec<(String, Vec<&str>)> = grouped_headers(request.headers, |n| n.starts_with("x-amz-"));
    if presigned {
        for (k, v) in request.query {
            let name = k.to_ascii_lowercase();
            if name.starts_with("x-amz-") {
                match amz.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, values)) => values.push(v.trim()),
                    None => amz.push((name, vec![v.trim()])),
                }
            }
        }
        amz.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let amz_block: String = amz.iter().map(|(n, values)| format!("{n}:{}\n", values.join(","))).collect();
    format!(
        "{}\n{content_md5}\n{content_type}\n{date}\n{amz_block}{}",
        request.method,
        canonicalized_resource(request, bucket_in_host, as_sent)
    )
}

/// Base64(HMAC-SHA1(secret, string_to_sign)).
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(hmac_sha1(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// The request time of a header-signed request: `x-amz-date` if present, else `Date`
/// (RFC 1123); the caller checks it for clock skew.
pub fn request_date<'a>(request: &S3Request<'a>) -> Option<&'a str> {
    header(request.headers, "x-amz-date").or_else(|| header(request.headers, "date"))
}

/// Compares against the normalized resource, then (when it differs) the path exactly as sent.
fn compare(presented: &str, secret: &str, sts: impl Fn(bool) -> String) -> Result<(), SignatureError> {
    let normalized = sts(false);
    if same_signature(presented, &signature_of(secret, &normalized)) {
        return Ok(());
    }
    let sent = sts(true);
    if sent != normalized && same_signature(presented, &signature_of(secret, &sent)) {
        return Ok(());
    }
    Err(SignatureError::Mismatch { canonical_request: None, string_to_sign: normalized })
}

/// Verifies a header-signed request.
pub fn verify_header(secret: &str, auth: &HeaderAuth, request: &S3Request<'_>, bucket_in_host: Option<&str>) -> Result<(), SignatureError> {
    let date = if header(request.headers, "x-amz-date").is_some() {
        ""
    } else {
        header(request.headers, "date").ok_or(SignatureError::Missing("header Date"))?
    };
    compare(&auth.signature, secret, |as_sent| string_to_sign(request, date, bucket_in_host, false, as_sent))
}

/// Verifies a presigned URL at `now` (Unix seconds); valid through `Expires`.
pub fn verify_query(
    secret: &str,
    auth: &QueryAuth,
    request: &S3Request<'_>,
    bucket_in_host: Option<&str>,
    now: i64,
) -> Result<(), SignatureError> {
    if now > auth.expires {
        return Err(SignatureError::Expired { expired_at: auth.expires, now });
    }
    let expires = auth.expires.to_string();
    compare(&auth.signature, secret, |as_sent| string_to_sign(request, &expires, bucket_in_host, true, as_sent))
}

/// The `Authorization` header value for `request` (set `Date` first).
pub fn sign_header(access_key_id: &str, secret: &str, request: &S3Request<'_>, bucket_in_host: Option<&str>) -> String {
    let date = if header(request.headers, "x-amz-date").is_some() { "" } else { header(request.headers, "date").unwrap_or("") };
    format!("{SCHEME} {access_key_id}:{}", signature_of(secret, &string_to_sign(request, date, bucket_in_host, false, false)))
}

/// The query parameters (decoded) that presign `request` until `expires` (Unix seconds). With STS
/// credentials put `x-amz-security-token` into `request.query` first.
pub fn presign(
    access_key_id: &str,
    secret: &str,
    expires: i64,
    request: &S3Request<'_>,
    bucket_in_host: Option<&str>,
) -> Vec<(String, String)> {
    let signature = signature_of(secret, &string_to_sign(request, &expires.to_string(), bucket_in_host, true, false));
    vec![
        (QUERY_ACCESS_KEY_ID.to_string(), access_key_id.to_string()),
        (QUERY_EXPIRES.to_string(), expires.to_string()),
        (QUERY_SIGNATURE.to_string(), signature),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::{owned, AWS_EXAMPLE_AK, AWS_EXAMPLE_SECRET};

    const AK: &str = AWS_EXAMPLE_AK;
    const SECRET: &str = AWS_EXAMPLE_SECRET;

    /// AWS's published SigV2 "Object GET" example (virtual-hosted), re-derived.
    #[test]
    fn object_get_vector() {
        let headers = owned(&[("Host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"), ("Date", "Tue, 27 Mar 2007 19:36:42 +0000")]);
        let request = S3Request { method: "GET", raw_path: "/photos/puppy.jpg", query: &[], headers: &headers };
        let sts = string_to_sign(&request, "Tue, 27 Mar 2007 19:36:42 +0000", Some("awsexamplebucket1"), false, false);
        assert_eq!(sts, "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg");
        let value = sign_header(AK, SECRET, &request, Some("awsexamplebucket1"));
        assert_eq!(value, "AWS AKIAIOSFODNN7EXAMPLE:qgk2+6Sv9/oM7G3qLEjTH1a1l1g=");
        let auth = HeaderAuth::parse(&value).unwrap();
        assert_eq!(verify_header(SECRET, &auth, &request, Some("awsexamplebucket1")), Ok(()));
        // Path style signs the same resource.
        let path_style = S3Request { raw_path: "/awsexamplebucket1/photos/puppy.jpg", ..request };
        assert_eq!(verify_header(SECRET, &auth, &path_style, None), Ok(()));
        let err = verify_header("nope", &auth, &request, Some("awsexamplebucket1")).unwrap_err();
        assert_eq!(err.server_string_to_sign(), Some(sts.as_str()));
    }

    /// x-amz-date empties the Date line; amz headers are folded; sub-resources are sorted.
    #[test]
    fn amz_headers_and_sub_resources() {
        let headers = owned(&[
            ("Date", "ignored"),
            ("X-Amz-Date", "Tue, 27 Mar 2007 21:20:26 +0000"),
            ("x-amz-meta-b", "2"),
            ("X-Amz-Meta-B", "3"),
            ("x-amz-acl", "public-read"),
            ("Content-Type", "text/plain"),
            ("Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="),
        ]);
        let query = owned(&[("uploadId", "u 1"), ("partNumber", "2"), ("max-keys", "3"), ("acl", "")]);
        let request = S3Request { method: "PUT", raw_path: "/b/a%20b", query: &query, headers: &headers };
        let sts = string_to_sign(&request, "", None, false, false);
        assert_eq!(
            sts,
            "PUT\n4gJE4saaMU4BqNR0kLY+lw==\ntext/plain\n\nx-amz-acl:public-read\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\nx-amz-meta-b:2,3\n/b/a%20b?acl&partNumber=2&uploadId=u 1"
        );
        let value = sign_header(AK, SECRET, &request, None);
        assert_eq!(verify_header(SECRET, &HeaderAuth::parse(&value).unwrap(), &request, None), Ok(()));
    }

    /// AWS's published presigned SigV2 example (bucket `johnsmith`), re-derived; the token rides in the query and is
    /// signed as an amz header.
    #[test]
    fn presigned_vector_and_expiry() {
        let headers = owned(&[("Host", "johnsmith.s3.amazonaws.com")]);
        let request = S3Request { method: "GET", raw_path: "/photos/puppy.jpg", query: &[], headers: &headers };
        let added = presign(AK, SECRET, 1_175_139_620, &request, Some("johnsmith"));
        assert_eq!(added[2].1, "NpgCjnDzrM+WFzoENXmpNDUsSn8=");
        let signed = S3Request { query: &added, ..request };
        let auth = QueryAuth::from_query(&added).unwrap();
        assert_eq!(verify_query(SECRET, &auth, &signed, Some("johnsmith"), 1_175_139_620), Ok(()));
        assert_eq!(
            verify_query(SECRET, &auth, &signed, Some("johnsmith"), 1_175_139_621),
            Err(SignatureError::Expired { expired_at: 1_175_139_620, now: 1_175_139_621 })
        );
        let mut with_token = owned(&[("x-amz-security-token", "tok")]);
        let base = S3Request { query: &with_token.clone(), ..request };
        with_token.extend(presign(AK, SECRET, 10, &base, None));
        let signed = S3Request { query: &with_token, ..request };
        let auth = QueryAuth::from_query(&with_token).unwrap();
        assert_eq!(verify_query(SECRET, &auth, &signed, None, 5), Ok(()));
        let mut forged = with_token.clone();
        forged[0].1 = "other".into();
        let forged_request = S3Request { query: &forged, ..request };
        assert!(matches!(verify_query(SECRET, &auth, &forged_request, None, 5), Err(SignatureError::Mismatch { .. })));
    }

    /// A bucket-level resource ends with `/` however the path came; a path signed as sent verifies too.
    #[test]
    fn bucket_resources() {
        let headers = owned(&[("Date", "d")]);
        let path_style = S3Request { method: "GET", raw_path: "/b", query: &[], headers: &headers };
        assert_eq!(canonicalized_resource(&path_style, None, false), "/b/");
        assert_eq!(canonicalized_resource(&path_style, None, true), "/b");
        let hosted = S3Request { raw_path: "/", ..path_style };
        assert_eq!(canonicalized_resource(&hosted, Some("b"), false), "/b/");
        assert_eq!(canonicalized_resource(&hosted, None, false), "/");
        let as_sent = format!("{SCHEME} ak:{}", signature_of("s", &string_to_sign(&path_style, "d", None, false, true)));
        assert_eq!(verify_header("s", &HeaderAuth::parse(&as_sent).unwrap(), &path_style, None), Ok(()));
    }

    /// OSS's sub-resources are signed like S3's: adding one to a signed request breaks its
    /// signature; S3's ordinary parameters (`prefix`, `continuation-token`, ...) stay outside.
    #[test]
    fn oss_sub_resources_are_signed() {
        let headers = owned(&[("Date", "d")]);
        let query = owned(&[
            ("prefix", "p"),
            ("continuation-token", "t"),
            ("bucketInfo", ""),
            ("append", ""),
            ("position", "0"),
            ("callback", "e30="),
            ("callback-var", "e30="),
            ("x-oss-process", "image/resize"),
            ("uploads", ""),
        ]);
        let request = S3Request { method: "POST", raw_path: "/b/k", query: &query, headers: &headers };
        assert_eq!(
            canonicalized_resource(&request, None, false),
            "/b/k?append&bucketInfo&callback=e30=&callback-var=e30=&position=0&uploads&x-oss-process=image/resize"
        );
        for name in ["live", "stat", "referer", "qos", "resourceGroup", "symlink", "objectMeta", "comp", "status"] {
            assert!(is_signed_parameter(name), "{name}");
        }
        for name in ["prefix", "marker", "max-keys", "delimiter", "list-type", "continuation-token", "start-after", "x-id"] {
            assert!(!is_signed_parameter(name), "{name}");
        }
        // A URL presigned without `bucketInfo` does not verify with it added.
        let plain = S3Request { method: "GET", raw_path: "/b", query: &[], headers: &headers };
        let added = presign(AK, SECRET, 10, &plain, None);
        let auth = QueryAuth::from_query(&added).unwrap();
        let mut injected = added.clone();
        injected.push(("bucketInfo".into(), String::new()));
        let request = S3Request { query: &injected, ..plain };
        assert!(matches!(verify_query(SECRET, &auth, &request, None, 5), Err(SignatureError::Mismatch { .. })));
        let request = S3Request { query: &added, ..plain };
        assert_eq!(verify_query(SECRET, &auth, &request, None, 5), Ok(()));
    }

    #[test]
    fn malformed() {
        for bad in ["AWS", "AWS ak", "AWS :sig", "AWS ak:", "AWS4 ak:sig"] {
            assert!(HeaderAuth::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            HeaderAuth::parse("AWS STS.a:b/c+d=").unwrap(),
            HeaderAuth { access_key_id: "STS.a".into(), signature: "b/c+d=".into() }
        );
    }
}
