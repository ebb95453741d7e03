//! OSS signature V1: `Authorization: OSS <AccessKeyId>:<Signature>` and presigned V1 URLs.
//! The default of oss2 and ali-oss; oss-v2 with `signature_version='v1'`.
//!
//! Rules (wire-protocols.md §6.2), from oss2 2.19.1 `auth.py ProviderAuth` and
//! alibabacloud-oss-v2 1.4.1 `signer/v1.py SignerV1`:
//!
//! ```text
//! StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedOSSHeaders CanonicalizedResource
//! Signature    = Base64(HMAC-SHA1(secret, StringToSign))
//! ```
//!
//! * Date: header `x-oss-date` if present, else `Date`; for a presigned URL, the `Expires` value.
//! * CanonicalizedOSSHeaders: every `x-oss-*` header, lower-cased, sorted, `name:value\n` each.
//! * CanonicalizedResource: `/` (service), `/<bucket>/<key>` (raw, not encoded), then if any
//!   sub-resource is present `?` + the sorted sub-resources as `name` (empty value) or
//!   `name=value` (raw), joined by `&`.
//!
//! The SDKs disagree on which query parameters are sub-resources: oss2 has one fixed list, oss-v2
//! a shorter fixed list plus per-operation extras (and oss-v2 omits, e.g., `x-oss-process`
//! which oss2 signs). The server checks, and signs with, the union of both lists: a signature over
//! a shorter list leaves out a sub-resource the request carries, and is refused.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::oss::OssRequest;
use crate::primitives::{grouped_headers, header, hmac_sha1, key_and_signature, query_value, same_signature};
use crate::SignatureError;

/// The scheme word of the `Authorization` header.
pub const SCHEME: &str = "OSS";
/// Presigned URL parameter: the AccessKey id.
pub const QUERY_ACCESS_KEY_ID: &str = "OSSAccessKeyId";
/// Presigned URL parameter: expiry, Unix seconds.
pub const QUERY_EXPIRES: &str = "Expires";
/// Presigned URL parameter: the signature.
pub const QUERY_SIGNATURE: &str = "Signature";

/// oss2 2.19.1 `ProviderAuth._subresource_key_set`, sorted.
const OSS2_SUB_RESOURCES: [&str; 86] = [
    "accessPoint",
    "accessPointPolicy",
    "acl",
    "append",
    "asyncFetch",
    "bucketArchiveDirectRead",
    "bucketInfo",
    "callback",
    "callback-var",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "delete",
    "encryption",
    "endTime",
    "group",
    "httpsConfig",
    "inventory",
    "inventoryId",
    "lifecycle",
    "link",
    "live",
    "location",
    "logging",
    "metaQuery",
    "objectInfo",
    "objectMeta",
    "partNumber",
    "policy",
    "position",
    "publicAccessBlock",
    "qos",
    "qosInfo",
    "qosRequester",
    "redundancyTransition",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "requesterQosInfo",
    "resourceGroup",
    "resourcePool",
    "resourcePoolBuckets",
    "resourcePoolInfo",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "security-token",
    "sequential",
    "startTime",
    "stat",
    "status",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "vod",
    "website",
    "worm",
    "wormExtend",
    "wormId",
    "x-oss-ac-forward-allow",
    "x-oss-ac-source-ip",
    "x-oss-ac-subnet-mask",
    "x-oss-ac-vpc-id",
    "x-oss-access-point-name",
    "x-oss-async-process",
    "x-oss-process",
    "x-oss-redundancy-transition-taskid",
    "x-oss-request-payer",
    "x-oss-target-redundancy-type",
    "x-oss-traffic-limit",
    "x-oss-write-get-object-response",
];

/// alibabacloud-oss-v2 1.4.1 `SignerV1._subresource_key_set` plus every operation's
/// `op_metadata['sub-resource']` (`operations/*.py`), sorted byte-wise.
const OSS_V2_SUB_RESOURCES: [&str; 77] = [
    "MetaQuery",
    "accessPoint",
    "accessPointPolicy",
    "acl",
    "append",
    "bucketArchiveDirectRead",
    "bucketInfo",
    "callback",
    "callback-var",
    "cleanRestoredObject",
    "cloudboxes",
    "cname",
    "comp",
    "continuation-token",
    "cors",
    "dataPipeline",
    "delete",
    "encryption",
    "httpsConfig",
    "inventory",
    "inventoryId",
    "legalHold",
    "lifecycle",
    "location",
    "logging",
    "metaQuery",
    "metadataConfiguration",
    "metadataInventoryTable",
    "metadataJournalTable",
    "objectMeta",
    "objectWorm",
    "overwriteConfig",
    "partNumber",
    "policy",
    "policyStatus",
    "position",
    "publicAccessBlock",
    "quota",
    "redundancyTransition",
    "referer",
    "regionList",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "requestPayment",
    "resourceGroup",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "retention",
    "rtc",
    "seal",
    "security-token",
    "sequential",
    "stat",
    "style",
    "styleName",
    "symlink",
    "tagging",
    "transferAcceleration",
    "uploadId",
    "uploads",
    "userDefinedLogFieldsConfig",
    "versionId",
    "versioning",
    "versions",
    "website",
    "worm",
    "wormExtend",
    "wormId",
    "x-oss-access-point-name",
    "x-oss-redundancy-transition-taskid",
    "x-oss-target-redundancy-type",
];

/// Which query parameters count as sub-resources in the CanonicalizedResource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubResources {
    /// Either SDK's list: what the server checks and what [`sign_header`] uses.
    Union,
    /// oss2 2.19.1's list.
    Oss2,
    /// alibabacloud-oss-v2 1.4.1's list with all per-operation extras.
    OssV2,
}

impl SubResources {
    /// Whether `name` is a sub-resource under this list.
    pub fn contains(self, name: &str) -> bool {
        let in_oss2 = || OSS2_SUB_RESOURCES.binary_search(&name).is_ok();
        let in_oss_v2 = || OSS_V2_SUB_RESOURCES.binary_search(&name).is_ok();
        match self {
            SubResources::Union => in_oss2() || in_oss_v2(),
            SubResources::Oss2 => in_oss2(),
            SubResources::OssV2 => in_oss_v2(),
        }
    }
}

/// `/`, `/<bucket>/<key>` plus `?sub-resources`.
pub fn canonicalized_resource(request: &OssRequest<'_>, sub_resources: SubResources) -> String {
    let mut resource = match request.bucket {
        None => "/".to_string(),
        Some(bucket) => format!("/{bucket}/{}", request.key),
    };
    let mut subs: Vec<(&str, &str)> =
        request.query.iter().filter(|(k, _)| sub_resources.contains(k)).map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if !subs.is_empty() {
        subs.sort();
        let parts: Vec<String> = subs.iter().map(|(k, v)| if v.is_empty() { k.to_string() } else { format!("{k}={v}") }).collect();
        resource.push('?');
        resource.push_str(&parts.join("&"));
    }
    resource
}

/// Every `x-oss-*` header as `name:value\n`, names lower-cased and sorted.
pub fn canonicalized_oss_headers(headers: &[(String, String)]) -> String {
    grouped_headers(headers, |n| n.starts_with("x-oss-"))
        .into_iter()
        .map(|(name, values)| format!("{name}:{}\n", values.join(",")))
        .collect()
}

/// The Date line of a header-signed request: `x-oss-date` if present and non-empty, else `Date`.
pub fn request_date<'a>(request: &OssRequest<'a>) -> Option<&'a str> {
    header(request.headers, "x-oss-date").filter(|d| !d.is_empty()).or_else(|| header(request.headers, "date"))
}

/// The StringToSign with the given Date line (a header date, or `Expires` for presigned URLs).
pub fn string_to_sign(request: &OssRequest<'_>, date: &str, sub_resources: SubResources) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}{}",
        request.method,
        header(request.headers, "content-md5").unwrap_or(""),
        header(request.headers, "content-type").unwrap_or(""),
        date,
        canonicalized_oss_headers(request.headers),
        canonicalized_resource(request, sub_resources)
    )
}

/// Base64 HMAC-SHA1 keyed with the plain secret (no `&`).
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    BASE64.encode(hmac_sha1(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// The parsed `Authorization: OSS <AK>:<signature>` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    /// The AccessKey id.
    pub access_key_id: String,
    /// The Base64 signature.
    pub signature: String,
}

impl HeaderAuth {
    /// Parses `OSS <AK>:<signature>`.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let (access_key_id, signature) = key_and_signature(value, SCHEME)?;
        Ok(HeaderAuth { access_key_id, signature })
    }
}

/// The signature parameters of a presigned V1 URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    /// `OSSAccessKeyId`.
    pub access_key_id: String,
    /// `Expires` exactly as sent (it is the Date line of the StringToSign).
    pub expires: String,
    /// `Expires` as Unix seconds.
    pub expires_at: i64,
    /// `Signature` (decoded Base64).
    pub signature: String,
}

impl QueryAuth {
    /// Reads `OSSAccessKeyId`, `Expires` and `Signature` from the decoded query.
    pub fn from_query(query: &[(String, String)]) -> Result<Self, SignatureError> {
        let get = |name: &str| query_value(query, name);
        let access_key_id =
            get(QUERY_ACCESS_KEY_ID).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter OSSAccessKeyId"))?;
        let expires = get(QUERY_EXPIRES).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter Expires"))?;
        let signature = get(QUERY_SIGNATURE).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing("query parameter Signature"))?;
        let expires_at = expires.parse::<i64>().map_err(|_| SignatureError::malformed("query parameter Expires", "not an integer"))?;
        Ok(QueryAuth {
            access_key_id: access_key_id.to_string(),
            expires: expires.to_string(),
            expires_at,
            signature: signature.to_string(),
        })
    }
}

/// Checks the signature over the [`SubResources::Union`] list. A request is never matched against
/// one SDK's shorter list: a sub-resource that list leaves out could then be added after signing
/// (a presigned GET gaining `x-oss-process`), and OSS signs every one of them (docs/oss.md, the
/// "signatures" row).
fn check(secret: &str, presented: &str, request: &OssRequest<'_>, date: &str) -> Result<(), SignatureError> {
    let sts = string_to_sign(request, date, SubResources::Union);
    if same_signature(presented, &signature_of(secret, &sts)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { canonical_request: None, string_to_sign: sts })
    }
}

/// Verifies a header-signed request. The Date line is not checked for freshness here (see
/// [`request_date`]).
pub fn verify_header(secret: &str, auth: &HeaderAuth, request: &OssRequest<'_>) -> Result<(), SignatureError> {
    check(secret, &auth.signature, request, request_date(request).unwrap_or(""))
}

/// Verifies a presigned V1 URL at time `now` (Unix seconds).
pub fn verify_query(secret: &str, auth: &QueryAuth, request: &OssRequest<'_>, now: i64) -> Result<(), SignatureError> {
    if now > auth.expires_at {
        return Err(SignatureError::Expired { expired_at: auth.expires_at, now });
    }
    check(secret, &auth.signature, request, &auth.expires)
}

/// The `Authorization` header value for `request`. Set `Date` (or `x-oss-date`) and any
/// `x-oss-security-token` header before signing.
pub fn sign_header(access_key_id: &str, secret: &str, request: &OssRequest<'_>) -> String {
    let sts = string_to_sign(request, request_date(request).unwrap_or(""), SubResources::Union);
    format!("{SCHEME} {access_key_id}:{}", signature_of(secret, &sts))
}

/// The query parameters that presign `request` until `expires_at` (Unix seconds):
/// `OSSAccessKeyId`, `Expires`, `Signature` (decoded; URL-encode them when building the URL).
/// With STS credentials, put `security-token` in `request.query` first: it is a sub-resource.
pub fn presign(access_key_id: &str, secret: &str, request: &OssRequest<'_>, expires_at: i64) -> Vec<(String, String)> {
    let expires = expires_at.to_string();
    let sts = string_to_sign(request, &expires, SubResources::Union);
    vec![
        (QUERY_ACCESS_KEY_ID.to_string(), access_key_id.to_string()),
        (QUERY_EXPIRES.to_string(), expires),
        (QUERY_SIGNATURE.to_string(), signature_of(secret, &sts)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::owned;

    #[test]
    fn lists_are_sorted_for_binary_search() {
        assert!(OSS2_SUB_RESOURCES.windows(2).all(|w| w[0] < w[1]));
        assert!(OSS_V2_SUB_RESOURCES.windows(2).all(|w| w[0] < w[1]));
    }

    /// wire-protocols.md §6.2, computed with oss2 2.19.1 internals.
    #[test]
    fn reference_vector() {
        let headers = owned(&[
            ("Content-Type", "text/plain"),
            ("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ("Date", "Mon, 01 Jan 2024 00:00:00 GMT"),
            ("x-oss-meta-k", "v"),
            ("x-oss-security-token", "tok"),
        ]);
        let query = owned(&[("acl", "")]);
        let request = OssRequest { method: "PUT", bucket: Some("bkt"), key: "dir/a b.txt", query: &query, headers: &headers };
        assert_eq!(
            string_to_sign(&request, request_date(&request).unwrap(), SubResources::Union),
            "PUT\nXUFAKrxLKna5cZ2REBfFkg==\ntext/plain\nMon, 01 Jan 2024 00:00:00 GMT\nx-oss-meta-k:v\nx-oss-security-token:tok\n/bkt/dir/a b.txt?acl"
        );
        let value = sign_header("ak", "testsecret", &request);
        assert_eq!(value, "OSS ak:5XXzUM4beLJS+ARb/6Tlz4RCXy4=");
        let auth = HeaderAuth::parse(&value).unwrap();
        assert_eq!(verify_header("testsecret", &auth, &request), Ok(()));
        assert!(verify_header("other", &auth, &request).is_err());
    }

    /// wire-protocols.md §6.2: oss2 `list_objects_v2` sends `continuation-token=` on page one.
    #[test]
    fn empty_continuation_token_is_a_bare_sub_resource() {
        let headers = owned(&[("Date", "Mon, 01 Jan 2024 00:00:00 GMT")]);
        let query = owned(&[("list-type", "2"), ("continuation-token", ""), ("prefix", ""), ("max-keys", "100"), ("encoding-type", "url")]);
        let request = OssRequest { method: "GET", bucket: Some("bkt"), key: "", query: &query, headers: &headers };
        assert_eq!(
            string_to_sign(&request, request_date(&request).unwrap(), SubResources::Union),
            "GET\n\n\nMon, 01 Jan 2024 00:00:00 GMT\n/bkt/?continuation-token"
        );
    }

    #[test]
    fn service_resource_and_x_oss_date_precedence() {
        let headers = owned(&[("Date", "d1"), ("X-OSS-Date", "d2")]);
        let request = OssRequest { method: "GET", bucket: None, key: "", query: &[], headers: &headers };
        assert_eq!(string_to_sign(&request, request_date(&request).unwrap(), SubResources::Union), "GET\n\n\nd2\nx-oss-date:d2\n/");
    }

    #[test]
    fn presigned_round_trip_and_expiry() {
        let query = owned(&[("security-token", "t+k/="), ("response-content-type", "a b")]);
        let request = OssRequest { method: "GET", bucket: Some("b"), key: "k", query: &query, headers: &[] };
        let mut full = query.clone();
        full.extend(presign("ak", "sk", &request, 1_700_000_000));
        let signed = OssRequest { query: &full, ..request };
        let auth = QueryAuth::from_query(&full).unwrap();
        assert_eq!(auth.access_key_id, "ak");
        assert_eq!(verify_query("sk", &auth, &signed, 1_700_000_000), Ok(()));
        assert_eq!(
            verify_query("sk", &auth, &signed, 1_700_000_001),
            Err(SignatureError::Expired { expired_at: 1_700_000_000, now: 1_700_000_001 })
        );
    }

    #[test]
    fn a_sub_resource_left_out_of_the_signature_is_refused() {
        // oss-v2's list leaves `x-oss-process` out, oss2's leaves `rtc` out: a signature over
        // either list does not cover the request, so neither parameter can be added after signing.
        let headers = owned(&[("Date", "d")]);
        let query = owned(&[("x-oss-process", "image/resize,w_1"), ("rtc", "")]);
        let request = OssRequest { method: "GET", bucket: Some("b"), key: "k", query: &query, headers: &headers };
        for set in [SubResources::Oss2, SubResources::OssV2] {
            let sig = signature_of("sk", &string_to_sign(&request, "d", set));
            let auth = HeaderAuth { access_key_id: "ak".into(), signature: sig };
            let err = verify_header("sk", &auth, &request).unwrap_err();
            assert_eq!(err.server_string_to_sign(), Some("GET\n\n\nd\n/b/k?rtc&x-oss-process=image/resize,w_1"), "{set:?}");
        }
        let sig = signature_of("sk", &string_to_sign(&request, "d", SubResources::Union));
        assert_eq!(verify_header("sk", &HeaderAuth { access_key_id: "ak".into(), signature: sig }, &request), Ok(()));
    }

    #[test]
    fn malformed_authorization() {
        for bad in ["OSS", "OSS ak", "OSS :sig", "OSS ak:", "OSS4 ak:sig"] {
            assert!(HeaderAuth::parse(bad).is_err(), "{bad}");
        }
    }
}
