//! OSS signature V4, `OSS4-HMAC-SHA256`: header-signed requests and presigned V4 URLs.
//! The default of alibabacloud-oss-v2; optional in oss2 (`AuthV4`) and ali-oss.
//!
//! Rules (wire-protocols.md §6.3), from oss2 2.19.1 `auth.py ProviderAuthV4` and
//! alibabacloud-oss-v2 1.4.1 `signer/v4.py SignerV4`:
//!
//! ```text
//! CanonicalRequest = VERB \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n AdditionalHeaders \n HashedPayload
//! Scope            = <YYYYMMDD>/<region>/<product>/aliyun_v4_request          (product: "oss")
//! StringToSign     = "OSS4-HMAC-SHA256\n" + <x-oss-date> \n Scope \n hex(sha256(CanonicalRequest))
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("aliyun_v4" + secret, date), region), product), "aliyun_v4_request")
//! Signature        = hex(HMAC-SHA256(SigningKey, StringToSign))
//! ```
//!
//! * CanonicalURI: `enc("/" + bucket + "/" + key)` keeping `/`; `/` for service requests.
//! * CanonicalQuery: every query parameter but `x-oss-signature`; names and values RFC 3986
//!   encoded (`/` → `%2F`), sorted by encoded name, `k=v`, or bare `k` when the value is empty.
//! * CanonicalHeaders: `x-oss-*`, `content-type`, `content-md5` and the additional headers, when
//!   present; lower-cased, sorted, `name:value\n` each.
//! * AdditionalHeaders: the extra signed header names, lower-cased, sorted, joined by `;`.
//! * HashedPayload: the `x-oss-content-sha256` header, else `UNSIGNED-PAYLOAD`.
//!
//! `Authorization` comes as `OSS4-HMAC-SHA256 Credential=<ak>/<scope>, Signature=<sig>[,
//! AdditionalHeaders=<h>]` (oss2, with spaces) or `...Credential=<ak>/<scope>,[AdditionalHeaders=<h>,]
//! Signature=<sig>` (oss-v2, ali-oss); both parse. A presigned URL carries
//! `x-oss-signature-version`, `x-oss-date`, `x-oss-expires` (seconds after `x-oss-date`),
//! `x-oss-credential`, optionally `x-oss-additional-headers` and `x-oss-security-token`, and
//! `x-oss-signature`.

use std::fmt;

use crate::encoding::{encode, encode_path};
use crate::oss::OssRequest;
use crate::primitives::{
    auth_components, grouped_headers, header, hmac_sha256, presign_expires, query_value, same_signature, sha256_hex, ScopedCredential,
};
use crate::SignatureError;

/// The algorithm name (header scheme and `x-oss-signature-version` value).
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
/// The product in the scope of ordinary OSS requests.
pub const PRODUCT: &str = "oss";
/// The last element of every scope.
pub const SCOPE_TERMINATOR: &str = "aliyun_v4_request";
/// The hashed payload the SDKs send.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Presigned URL parameter names.
pub const QUERY_SIGNATURE_VERSION: &str = "x-oss-signature-version";
/// See [`QUERY_SIGNATURE_VERSION`].
pub const QUERY_DATE: &str = "x-oss-date";
/// See [`QUERY_SIGNATURE_VERSION`].
pub const QUERY_EXPIRES: &str = "x-oss-expires";
/// The longest validity a V4 presigned URL may ask for: 7 days (OSS refuses more).
pub const MAX_EXPIRES: i64 = 7 * 24 * 3600;
/// See [`QUERY_SIGNATURE_VERSION`].
pub const QUERY_CREDENTIAL: &str = "x-oss-credential";
/// See [`QUERY_SIGNATURE_VERSION`].
pub const QUERY_ADDITIONAL_HEADERS: &str = "x-oss-additional-headers";
/// See [`QUERY_SIGNATURE_VERSION`].
pub const QUERY_SIGNATURE: &str = "x-oss-signature";

/// `<AccessKeyId>/<date>/<region>/<product>/aliyun_v4_request` (`service` holds the product).
pub type Credential = ScopedCredential;

/// Parses `<ak>/<date>/<region>/<product>/aliyun_v4_request`.
pub fn parse_credential(value: &str) -> Result<Credential, SignatureError> {
    let credential = ScopedCredential::parse(value, SCOPE_TERMINATOR, "V4 credential")?;
    if credential.service != PRODUCT {
        // OSS signs for itself only: a scope of another product (`s3`, `ecs`) is refused, not
        // used to derive the key (docs/oss.md, the "signatures" row).
        return Err(SignatureError::malformed("V4 credential", format!("the product is {:?}, not {PRODUCT:?}", credential.service)));
    }
    Ok(credential)
}

/// The parsed `Authorization: OSS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    /// `Credential=`.
    pub credential: Credential,
    /// `AdditionalHeaders=`, lower-cased, sorted, without duplicates (empty when absent).
    pub additional_headers: Vec<String>,
    /// `Signature=`, hex.
    pub signature: String,
}

impl HeaderAuth {
    /// Parses both the oss2 and the oss-v2 layouts.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        const WHAT: &str = "Authorization header";
        let [credential, additional, signature] = auth_components(value, ALGORITHM, ["Credential", "AdditionalHeaders", "Signature"], '=')?;
        let credential = parse_credential(credential.ok_or_else(|| SignatureError::malformed(WHAT, "Credential is missing"))?)?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, "Signature is missing"))?;
        Ok(HeaderAuth { credential, additional_headers: header_list(additional.unwrap_or("")), signature: signature.to_string() })
    }
}

impl fmt::Display for HeaderAuth {
    /// The header value in the oss-v2 layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ALGORITHM} Credential={}", self.credential)?;
        if !self.additional_headers.is_empty() {
            write!(f, ",AdditionalHeaders={}", self.additional_headers.join(";"))?;
        }
        write!(f, ",Signature={}", self.signature)
    }
}

/// The signature parameters of a presigned V4 URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    /// `x-oss-credential`.
    pub credential: Credential,
    /// `x-oss-date`, `YYYYMMDDTHHMMSSZ`.
    pub date_time: String,
    /// `x-oss-expires`: seconds of validity after `date_time`.
    pub expires_in: i64,
    /// `x-oss-additional-headers`, lower-cased, sorted.
    pub additional_headers: Vec<String>,
    /// `x-oss-signature`, hex.
    pub signature: String,
}

impl QueryAuth {
    /// Reads the `x-oss-*` signature parameters from the decoded query.
    pub fn from_query(query: &[(String, String)]) -> Result<Self, SignatureError> {
        let get = |name: &str| query_value(query, name);
        let version = get(QUERY_SIGNATURE_VERSION).ok_or(SignatureError::Missing("query parameter x-oss-signature-version"))?;
        if version != ALGORITHM {
            return Err(SignatureError::UnsupportedAlgorithm(version.to_string()));
        }
        let credential = parse_credential(get(QUERY_CREDENTIAL).ok_or(SignatureError::Missing("query parameter x-oss-credential"))?)?;
        let date_time = get(QUERY_DATE).ok_or(SignatureError::Missing("query parameter x-oss-date"))?;
        let expires_in = presign_expires(get(QUERY_EXPIRES), "query parameter x-oss-expires", MAX_EXPIRES)?;
        let signature = get(QUERY_SIGNATURE).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing("query parameter x-oss-signature"))?;
        Ok(QueryAuth {
            credential,
            date_time: date_time.to_string(),
            expires_in,
            additional_headers: header_list(get(QUERY_ADDITIONAL_HEADERS).unwrap_or("")),
            signature: signature.to_string(),
        })
    }
}

/// Lower-cased, sorted, deduplicated header names of an `AdditionalHeaders` list (V2 and V4).
pub(crate) fn header_list(value: &str) -> Vec<String> {
    let mut names: Vec<String> = value.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
    names.sort();
    names.dedup();
    names
}

/// `enc("/" + bucket + "/" + key)` keeping `/`, or `/`.
pub fn canonical_uri(request: &OssRequest<'_>) -> String {
    match request.bucket {
        None => "/".to_string(),
        Some(bucket) => encode_path(&format!("/{bucket}/{}", request.key)),
    }
}

/// Every query parameter but `x-oss-signature`, encoded, sorted by encoded name.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        query.iter().filter(|(k, _)| k != QUERY_SIGNATURE).map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    encoded.iter().map(|(k, v)| if v.is_empty() { k.clone() } else { format!("{k}={v}") }).collect::<Vec<_>>().join("&")
}

/// The CanonicalRequest; `additional_headers` are the lower-case names from `AdditionalHeaders`.
pub fn canonical_request<S: AsRef<str>>(request: &OssRequest<'_>, additional_headers: &[S]) -> String {
    let mut additional: Vec<&str> = additional_headers.iter().map(AsRef::as_ref).collect();
    additional.sort_unstable();
    additional.dedup();
    let canonical_headers: String = grouped_headers(request.headers, |n| {
        n.starts_with("x-oss-") || n == "content-type" || n == "content-md5" || additional.binary_search(&n).is_ok()
    })
    .into_iter()
    .map(|(name, values)| format!("{name}:{}\n", values.join(",")))
    .collect();
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request),
        canonical_query(request.query),
        canonical_headers,
        additional.join(";"),
        header(request.headers, "x-oss-content-sha256").unwrap_or(UNSIGNED_PAYLOAD)
    )
}

/// `OSS4-HMAC-SHA256\n<date_time>\n<scope>\n<hex(sha256(canonical_request))>`.
pub fn string_to_sign(date_time: &str, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{date_time}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The derived key for one day, region and product.
pub fn signing_key(secret: &str, date: &str, region: &str, product: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("aliyun_v4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_product = hmac_sha256(&k_region, product.as_bytes());
    hmac_sha256(&k_product, SCOPE_TERMINATOR.as_bytes())
}

/// Hex signature of `string_to_sign` under `credential`'s scope.
pub fn signature_of(secret: &str, credential: &Credential, string_to_sign: &str) -> String {
    let key = signing_key(secret, &credential.date, &credential.region, &credential.service);
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

fn check(
    secret: &str,
    credential: &Credential,
    date_time: &str,
    additional_headers: &[String],
    presented: &str,
    request: &OssRequest<'_>,
) -> Result<(), SignatureError> {
    if !date_time.starts_with(&credential.date) {
        return Err(SignatureError::malformed("V4 credential", format!("scope date {} is not the date of {date_time}", credential.date)));
    }
    let canonical = canonical_request(request, additional_headers);
    let sts = string_to_sign(date_time, &credential.scope(), &canonical);
    if same_signature(&presented.to_ascii_lowercase(), &signature_of(secret, credential, &sts)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { canonical_request: Some(canonical), string_to_sign: sts })
    }
}

/// Verifies a header-signed request. The request time (`x-oss-date`) is not checked for
/// clock skew here; see [`parse_date_time`].
pub fn verify_header(secret: &str, auth: &HeaderAuth, request: &OssRequest<'_>) -> Result<(), SignatureError> {
    // OSS does not hash bodies: a declared hash would look as if it bound the body to the
    // signature, and nothing checks it, so only `UNSIGNED-PAYLOAD` is taken.
    if header(request.headers, "x-oss-content-sha256").is_some_and(|v| v != UNSIGNED_PAYLOAD) {
        return Err(SignatureError::malformed("header x-oss-content-sha256", format!("only {UNSIGNED_PAYLOAD} is accepted")));
    }
    let date_time = header(request.headers, "x-oss-date").ok_or(SignatureError::Missing("header x-oss-date"))?;
    if parse_date_time(date_time).is_none() {
        return Err(SignatureError::malformed("header x-oss-date", "expected YYYYMMDDTHHMMSSZ"));
    }
    check(secret, &auth.credential, date_time, &auth.additional_headers, &auth.signature, request)
}

/// Verifies a presigned V4 URL at time `now` (Unix seconds); valid through `x-oss-date + x-oss-expires`.
pub fn verify_query(secret: &str, auth: &QueryAuth, request: &OssRequest<'_>, now: i64) -> Result<(), SignatureError> {
    let signed_at = parse_date_time(&auth.date_time)
        .ok_or_else(|| SignatureError::malformed("query parameter x-oss-date", "expected YYYYMMDDTHHMMSSZ"))?;
    let expired_at = signed_at.saturating_add(auth.expires_in);
    if now > expired_at {
        return Err(SignatureError::Expired { expired_at, now });
    }
    check(secret, &auth.credential, &auth.date_time, &auth.additional_headers, &auth.signature, request)
}

/// The `Authorization` header value (oss-v2 layout) for `request`. Before signing, set headers
/// `x-oss-date` ([`format_date_time`]), `x-oss-content-sha256: UNSIGNED-PAYLOAD` and, with STS
/// credentials, `x-oss-security-token`; a missing `x-oss-date` signs an empty date.
pub fn sign_header<S: AsRef<str>>(
    access_key_id: &str,
    secret: &str,
    region: &str,
    request: &OssRequest<'_>,
    additional_headers: &[S],
) -> String {
    let date_time = header(request.headers, "x-oss-date").unwrap_or("");
    let credential = Credential {
        access_key_id: access_key_id.to_string(),
        date: date_time.chars().take(8).collect(),
        region: region.to_string(),
        service: PRODUCT.to_string(),
        terminator: SCOPE_TERMINATOR,
    };
    let additional = header_list(&additional_headers.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(";"));
    let sts = string_to_sign(date_time, &credential.scope(), &canonical_request(request, &additional));
    let signature = signature_of(secret, &credential, &sts);
    HeaderAuth { credential, additional_headers: additional, signature }.to_string()
}

/// The query parameters that presign `request` for `expires_in` seconds from `date_time`
/// (`YYYYMMDDTHHMMSSZ`), decoded; URL-encode them when building the URL. With STS credentials,
/// put `x-oss-security-token` in `request.query` first: it is signed like any parameter.
pub fn presign<S: AsRef<str>>(
    access_key_id: &str,
    secret: &str,
    region: &str,
    date_time: &str,
    expires_in: i64,
    request: &OssRequest<'_>,
    additional_headers: &[S],
) -> Vec<(String, String)> {
    let credential = Credential {
        access_key_id: access_key_id.to_string(),
        date: date_time.chars().take(8).collect(),
        region: region.to_string(),
        service: PRODUCT.to_string(),
        terminator: SCOPE_TERMINATOR,
    };
    let additional = header_list(&additional_headers.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(";"));
    let mut added = vec![
        (QUERY_SIGNATURE_VERSION.to_string(), ALGORITHM.to_string()),
        (QUERY_DATE.to_string(), date_time.to_string()),
        (QUERY_EXPIRES.to_string(), expires_in.to_string()),
        (QUERY_CREDENTIAL.to_string(), credential.to_string()),
    ];
    if !additional.is_empty() {
        added.push((QUERY_ADDITIONAL_HEADERS.to_string(), additional.join(";")));
    }
    let mut query: Vec<(String, String)> = request.query.to_vec();
    query.extend(added.iter().cloned());
    let extended = OssRequest { query: &query, ..*request };
    let sts = string_to_sign(date_time, &credential.scope(), &canonical_request(&extended, &additional));
    added.push((QUERY_SIGNATURE.to_string(), signature_of(secret, &credential, &sts)));
    added
}

/// The `x-oss-date` form: `YYYYMMDDTHHMMSSZ`, UTC.
const DATE_TIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");

/// Parses `YYYYMMDDTHHMMSSZ` (UTC) into Unix seconds.
pub fn parse_date_time(value: &str) -> Option<i64> {
    time::PrimitiveDateTime::parse(value, DATE_TIME).ok().map(|t| t.assume_utc().unix_timestamp())
}

/// Formats Unix seconds as `YYYYMMDDTHHMMSSZ` (UTC), the `x-oss-date` form.
pub fn format_date_time(unix: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    t.format(DATE_TIME).expect("a UTC date always formats")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::owned;

    /// wire-protocols.md §6.3, computed with oss2 2.19.1 `ProviderAuthV4` internals.
    #[test]
    fn reference_vector() {
        let query = owned(&[("prefix", "a/b"), ("max-keys", "10"), ("encoding-type", "url"), ("list-type", "2")]);
        let headers =
            owned(&[("x-oss-date", "20240101T000000Z"), ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"), ("x-oss-security-token", "tok")]);
        let request = OssRequest { method: "GET", bucket: Some("bkt"), key: "", query: &query, headers: &headers };
        let canonical = canonical_request::<&str>(&request, &[]);
        assert_eq!(
            canonical,
            "GET\n/bkt/\nencoding-type=url&list-type=2&max-keys=10&prefix=a%2Fb\nx-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20240101T000000Z\nx-oss-security-token:tok\n\n\nUNSIGNED-PAYLOAD"
        );
        let sts = string_to_sign("20240101T000000Z", "20240101/cn-hangzhou/oss/aliyun_v4_request", &canonical);
        assert_eq!(
            sts,
            "OSS4-HMAC-SHA256\n20240101T000000Z\n20240101/cn-hangzhou/oss/aliyun_v4_request\n1063dbf456d6919d8313e4fcfaaa48d9f22663b1695f51c03d1eb3febe8f80a5"
        );
        let value = sign_header::<&str>("ak", "testsecret", "cn-hangzhou", &request, &[]);
        let expected = "cc53494df795370a52bf2033d0d3dd005f985d43f775f7a4b4a8898b1448e8cf";
        assert_eq!(value, format!("OSS4-HMAC-SHA256 Credential=ak/20240101/cn-hangzhou/oss/aliyun_v4_request,Signature={expected}"));
        // oss2's layout, with a space after the comma.
        let oss2 = format!("OSS4-HMAC-SHA256 Credential=ak/20240101/cn-hangzhou/oss/aliyun_v4_request, Signature={expected}");
        let auth = HeaderAuth::parse(&oss2).unwrap();
        assert_eq!(verify_header("testsecret", &auth, &request), Ok(()));
        let err = verify_header("nope", &auth, &request).unwrap_err();
        assert_eq!(err.server_string_to_sign(), Some(sts.as_str()));
    }

    #[test]
    fn parses_both_layouts_with_additional_headers() {
        let a = HeaderAuth::parse(
            "OSS4-HMAC-SHA256 Credential=STS.x/20240101/cn-hangzhou/oss/aliyun_v4_request, Signature=ab, AdditionalHeaders=Range;host",
        )
        .unwrap();
        let b = HeaderAuth::parse(
            "OSS4-HMAC-SHA256 Credential=STS.x/20240101/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host;range,Signature=ab",
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.credential.access_key_id, "STS.x");
        assert_eq!(a.additional_headers, vec!["host", "range"]);
        assert_eq!(
            b.to_string(),
            "OSS4-HMAC-SHA256 Credential=STS.x/20240101/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=host;range,Signature=ab"
        );
    }

    #[test]
    fn malformed_authorization() {
        for bad in [
            "OSS4-HMAC-SHA256",
            "OSS4-HMAC-SHA256X Credential=a/20240101/r/oss/aliyun_v4_request,Signature=ab",
            "OSS4-HMAC-SHA256 Credential=a/20240101/r/oss/aliyun_v4_request",
            "OSS4-HMAC-SHA256 Credential=a/2024010/r/oss/aliyun_v4_request,Signature=ab",
            "OSS4-HMAC-SHA256 Credential=a/20240101/r/oss/other,Signature=ab",
            "OSS4-HMAC-SHA256 Credential=20240101/r/oss/aliyun_v4_request,Signature=ab",
            "OSS4-HMAC-SHA256 Credential=a/20240101/r/oss/aliyun_v4_request,Signature=ab,Extra=1",
        ] {
            assert!(matches!(HeaderAuth::parse(bad), Err(SignatureError::Malformed { .. })), "{bad}");
        }
    }

    #[test]
    fn presign_round_trip_and_expiry() {
        let query = owned(&[("x-oss-security-token", "t/k+="), ("versionId", "")]);
        let headers = owned(&[("Host", "h:1"), ("Content-Type", "text/plain")]);
        let request = OssRequest { method: "PUT", bucket: Some("b"), key: "a/ü b", query: &query, headers: &headers };
        let t0 = parse_date_time("20240101T000000Z").unwrap();
        assert_eq!(t0, 1_704_067_200);
        let mut full = query.clone();
        full.extend(presign("ak", "sk", "cn-hangzhou", "20240101T000000Z", 60, &request, &["Host"]));
        let signed = OssRequest { query: &full, ..request };
        let auth = QueryAuth::from_query(&full).unwrap();
        assert_eq!(auth.additional_headers, vec!["host"]);
        assert_eq!(verify_query("sk", &auth, &signed, t0 + 60), Ok(()));
        assert_eq!(verify_query("sk", &auth, &signed, t0 + 61), Err(SignatureError::Expired { expired_at: t0 + 60, now: t0 + 61 }));
        let other_host = owned(&[("Host", "h:2"), ("Content-Type", "text/plain")]);
        let moved = OssRequest { headers: &other_host, ..signed };
        assert!(matches!(verify_query("sk", &auth, &moved, t0), Err(SignatureError::Mismatch { .. })));
    }

    #[test]
    fn scope_date_must_match_request_date() {
        let headers = owned(&[("x-oss-date", "20240102T000000Z")]);
        let request = OssRequest { method: "GET", bucket: None, key: "", query: &[], headers: &headers };
        let auth = HeaderAuth::parse("OSS4-HMAC-SHA256 Credential=a/20240101/r/oss/aliyun_v4_request,Signature=ab").unwrap();
        assert!(matches!(verify_header("s", &auth, &request), Err(SignatureError::Malformed { .. })));
    }

    #[test]
    fn only_unsigned_payload_and_the_oss_product_are_taken() {
        let auth = HeaderAuth::parse("OSS4-HMAC-SHA256 Credential=a/20240101/r/oss/aliyun_v4_request,Signature=ab").unwrap();
        for declared in [sha256_hex(b"good").as_str(), "garbage", "unsigned-payload"] {
            let headers = owned(&[("x-oss-date", "20240101T000000Z"), ("x-oss-content-sha256", declared)]);
            let request = OssRequest { method: "PUT", bucket: Some("b"), key: "k", query: &[], headers: &headers };
            let err = verify_header("s", &auth, &request).unwrap_err();
            assert!(matches!(err, SignatureError::Malformed { what: "header x-oss-content-sha256", .. }), "{declared}: {err:?}");
        }
        for product in ["s3", "ecs", "OSS"] {
            let value = format!("OSS4-HMAC-SHA256 Credential=a/20240101/r/{product}/aliyun_v4_request,Signature=ab");
            assert!(HeaderAuth::parse(&value).is_err(), "{product}");
        }
    }

    #[test]
    fn date_time_conversions() {
        for (s, t) in [
            ("19700101T000000Z", 0),
            ("20240229T235959Z", 1_709_251_199),
            ("20000301T000000Z", 951_868_800),
            ("21000101T120000Z", 4_102_488_000),
        ] {
            assert_eq!(parse_date_time(s), Some(t), "{s}");
            assert_eq!(format_date_time(t), s);
        }
        for bad in ["2024-01-01T00:00:00Z", "20240230T000000Z", "20241301T000000Z", "20240101T240000Z", "20240101T000000"] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
    }
}
