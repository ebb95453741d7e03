//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) as OSS's S3-compatible API accepts it: the
//! `Authorization` header, presigned URLs (`X-Amz-*` query parameters), and the seed of a chunked
//! upload ([`crate::aws_chunked`]). The AWS AccessKey id and secret are the Alibaba Cloud AccessKey
//! pair. Rules as written in docs/s3-compatible.md:
//!
//! ```text
//! CanonicalRequest = VERB \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! Scope            = <YYYYMMDD>/<region>/<service>/aws4_request              (service: "s3")
//! StringToSign     = "AWS4-HMAC-SHA256\n" <X-Amz-Date> \n Scope \n hex(sha256(CanonicalRequest))
//! SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
//! Signature        = hex(HMAC-SHA256(SigningKey, StringToSign))
//! ```
//!
//! * CanonicalURI: the path exactly as the client sent it (still percent-encoded; S3 neither
//!   normalizes nor encodes it a second time), `/` when empty.
//! * CanonicalQuery: every parameter but `X-Amz-Signature`, names and values RFC 3986 encoded,
//!   sorted by name then value, always `name=value` (an empty value gives `name=`).
//! * CanonicalHeaders: exactly the `SignedHeaders`, lower-cased, values trimmed with inner runs
//!   of spaces folded to one, repeated headers joined by `,`; `name:value\n` each. `host` must be
//!   signed, and so must every `x-amz-*` header the request carries.
//! * HashedPayload: header `x-amz-content-sha256` (required on header-signed requests): the
//!   lower-case hex SHA-256 of the body, `UNSIGNED-PAYLOAD`, or one of the streaming forms
//!   ([`Payload`]); presigned URLs sign `UNSIGNED-PAYLOAD` unless the header says otherwise.

use std::fmt;

use crate::encoding::encode;
use crate::primitives::{
    auth_components, header, header_values, hmac_sha256, presign_expires, query_value, same_signature, sha256_hex, ScopedCredential,
};
use crate::s3::S3Request;
use crate::SignatureError;

pub use crate::oss_v4::{format_date_time, parse_date_time};

/// The algorithm name (header scheme and `X-Amz-Algorithm` value).
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The service in the scope of S3 requests.
pub const SERVICE: &str = "s3";
/// The last element of every scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";
/// The hashed payload of a body the signature does not cover.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `aws-chunked` body, every chunk signed.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `aws-chunked` body, every chunk signed, trailing headers signed.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `aws-chunked` body, chunks not signed, trailing checksum header.
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// The longest validity a presigned URL may ask for: 7 days.
pub const MAX_EXPIRES: i64 = 7 * 24 * 3600;
/// Presigned URL parameter names.
pub const QUERY_ALGORITHM: &str = "X-Amz-Algorithm";
/// See [`QUERY_ALGORITHM`].
pub const QUERY_CREDENTIAL: &str = "X-Amz-Credential";
/// See [`QUERY_ALGORITHM`].
pub const QUERY_DATE: &str = "X-Amz-Date";
/// See [`QUERY_ALGORITHM`].
pub const QUERY_EXPIRES: &str = "X-Amz-Expires";
/// See [`QUERY_ALGORITHM`].
pub const QUERY_SIGNED_HEADERS: &str = "X-Amz-SignedHeaders";
/// See [`QUERY_ALGORITHM`].
pub const QUERY_SIGNATURE: &str = "X-Amz-Signature";
/// The STS token of a presigned URL (signed like any parameter).
pub const QUERY_SECURITY_TOKEN: &str = "X-Amz-Security-Token";
/// SHA-256 of the empty string, lower-case hex.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `<AccessKeyId>/<date>/<region>/s3/aws4_request`.
pub type Credential = ScopedCredential;

/// Parses `<ak>/<date>/<region>/s3/aws4_request` (another service is refused).
pub fn parse_credential(value: &str) -> Result<Credential, SignatureError> {
    const WHAT: &str = "AWS V4 credential";
    let credential = ScopedCredential::parse(value, SCOPE_TERMINATOR, WHAT)?;
    if credential.service != SERVICE {
        return Err(SignatureError::malformed(WHAT, format!("the scope names service {:?}, not {SERVICE:?}", credential.service)));
    }
    Ok(credential)
}

/// The parsed `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderAuth {
    /// `Credential=`.
    pub credential: Credential,
    /// `SignedHeaders=`, lower-case, in the order given (the client sorts them).
    pub signed_headers: Vec<String>,
    /// `Signature=`, hex.
    pub signature: String,
}

impl HeaderAuth {
    /// Parses the header value; the three components may come in any order, with or without
    /// spaces after the commas.
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        const WHAT: &str = "Authorization header";
        let [credential, signed, signature] = auth_components(value, ALGORITHM, ["Credential", "SignedHeaders", "Signature"], '=')?;
        let credential = parse_credential(credential.ok_or_else(|| SignatureError::malformed(WHAT, "Credential is missing"))?)?;
        let signed = signed.filter(|s| !s.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, "SignedHeaders is missing"))?;
        let signature = signature.filter(|s| !s.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, "Signature is missing"))?;
        Ok(HeaderAuth { credential, signed_headers: header_list(signed), signature: signature.to_string() })
    }
}

impl fmt::Display for HeaderAuth {
    /// The header value in botocore's layout.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Credential={}, SignedHeaders={}, Signature={}",
            self.credential,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// The signature parameters of a presigned URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAuth {
    /// `X-Amz-Credential`.
    pub credential: Credential,
    /// `X-Amz-Date`, `YYYYMMDDTHHMMSSZ`.
    pub date_time: String,
    /// `X-Amz-Expires`: seconds of validity after `date_time`.
    pub expires_in: i64,
    /// `X-Amz-SignedHeaders`, lower-case.
    pub signed_headers: Vec<String>,
    /// `X-Amz-Signature`, hex.
    pub signature: String,
}

impl QueryAuth {
    /// Reads the `X-Amz-*` signature parameters from the decoded query.
    pub fn from_query(query: &[(String, String)]) -> Result<Self, SignatureError> {
        let get = |name: &str| query_value(query, name);
        let algorithm = get(QUERY_ALGORITHM).ok_or(SignatureError::Missing("query parameter X-Amz-Algorithm"))?;
        if algorithm != ALGORITHM {
            return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        let credential = parse_credential(get(QUERY_CREDENTIAL).ok_or(SignatureError::Missing("query parameter X-Amz-Credential"))?)?;
        let date_time = get(QUERY_DATE).ok_or(SignatureError::Missing("query parameter X-Amz-Date"))?;
        let expires_in = presign_expires(get(QUERY_EXPIRES), "query parameter X-Amz-Expires", MAX_EXPIRES)?;
        let signed = get(QUERY_SIGNED_HEADERS).ok_or(SignatureError::Missing("query parameter X-Amz-SignedHeaders"))?;
        let signature = get(QUERY_SIGNATURE).filter(|s| !s.is_empty()).ok_or(SignatureError::Missing("query parameter X-Amz-Signature"))?;
        Ok(QueryAuth {
            credential,
            date_time: date_time.to_string(),
            expires_in,
            signed_headers: header_list(signed),
            signature: signature.to_string(),
        })
    }
}

fn header_list(value: &str) -> Vec<String> {
    value.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
}

/// What `x-amz-content-sha256` says about the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// `UNSIGNED-PAYLOAD`: the body is not covered.
    Unsigned,
    /// The lower-case hex SHA-256 of the whole body; the receiver must compare it with the body.
    Sha256(String),
    /// An `aws-chunked` body ([`crate::aws_chunked`]); `signed`: each chunk carries a signature
    /// chained from the request's; `trailer`: trailing headers follow the last chunk.
    Streaming {
        /// Chunks are signed (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`).
        signed: bool,
        /// Trailing headers follow (`...-TRAILER`).
        trailer: bool,
    },
}

impl Payload {
    /// Interprets an `x-amz-content-sha256` value.
    pub fn parse(value: &str) -> Result<Payload, SignatureError> {
        Ok(match value {
            UNSIGNED_PAYLOAD => Payload::Unsigned,
            STREAMING_SIGNED => Payload::Streaming { signed: true, trailer: false },
            STREAMING_SIGNED_TRAILER => Payload::Streaming { signed: true, trailer: true },
            STREAMING_UNSIGNED_TRAILER => Payload::Streaming { signed: false, trailer: true },
            hash if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => Payload::Sha256(hash.to_ascii_lowercase()),
            other => {
                return Err(SignatureError::malformed(
                    "header x-amz-content-sha256",
                    format!("{other:?} is neither a SHA-256 nor a known payload form"),
                ))
            }
        })
    }
}

/// The path as sent, or `/`.
pub fn canonical_uri<'a>(request: &S3Request<'a>) -> &'a str {
    if request.raw_path.is_empty() {
        "/"
    } else {
        request.raw_path
    }
}

/// Every query parameter but `X-Amz-Signature`, encoded, sorted by name then value, `k=v`.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> =
        query.iter().filter(|(k, _)| k != QUERY_SIGNATURE).map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    encoded.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Trims a header value and folds inner runs of spaces to one.
fn fold_spaces(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The CanonicalHeaders block for `signed_headers`: `host` must be among them and present, and
/// every `x-amz-*` header the request carries must be signed.
pub fn canonical_headers<S: AsRef<str>>(headers: &[(String, String)], signed_headers: &[S]) -> Result<String, SignatureError> {
    let signed: Vec<&str> = signed_headers.iter().map(AsRef::as_ref).collect();
    if !signed.contains(&"host") {
        return Err(SignatureError::malformed("SignedHeaders", "host must be signed"));
    }
    if let Some((name, _)) = headers.iter().find(|(n, _)| {
        let n = n.to_ascii_lowercase();
        n.starts_with("x-amz-") && !signed.contains(&n.as_str())
    }) {
        return Err(SignatureError::UnsignedHeader(name.to_ascii_lowercase()));
    }
    let mut out = String::new();
    for name in &signed {
        let values: Vec<String> = header_values(headers, name).map(fold_spaces).collect();
        if values.is_empty() {
            return Err(SignatureError::malformed("SignedHeaders", format!("signed header {name} is not in the request")));
        }
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    Ok(out)
}

/// The CanonicalRequest.
pub fn canonical_request<S: AsRef<str>>(
    request: &S3Request<'_>,
    signed_headers: &[S],
    payload_hash: &str,
) -> Result<String, SignatureError> {
    let names: Vec<&str> = signed_headers.iter().map(AsRef::as_ref).collect();
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request),
        canonical_query(request.query),
        canonical_headers(request.headers, &names)?,
        names.join(";"),
        payload_hash
    ))
}

/// `AWS4-HMAC-SHA256\n<date_time>\n<scope>\n<hex(sha256(canonical_request))>`.
pub fn string_to_sign(date_time: &str, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{date_time}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The derived key for one day, region and service.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, SCOPE_TERMINATOR.as_bytes())
}

/// Hex signature of `string_to_sign` under `credential`'s scope.
pub fn signature_of(secret: &str, credential: &Credential, string_to_sign: &str) -> String {
    let key = signing_key(secret, &credential.date, &credential.region, &credential.service);
    hex::encode(hmac_sha256(&key, string_to_sign.as_bytes()))
}

/// What a verified request leaves for its body: the payload form and, for signed chunks, the
/// key and seed they chain from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The payload form the signature covers.
    pub payload: Payload,
    /// The derived key of the request's scope.
    pub signing_key: [u8; 32],
    /// The request's `X-Amz-Date`.
    pub date_time: String,
    /// The request's scope.
    pub scope: String,
    /// The request's own signature (the seed of the first chunk's).
    pub seed_signature: String,
}

fn check<S: AsRef<str>>(
    secret: &str,
    credential: &Credential,
    date_time: &str,
    signed_headers: &[S],
    presented: &str,
    payload_hash: &str,
    request: &S3Request<'_>,
) -> Result<Verified, SignatureError> {
    if !date_time.starts_with(&credential.date) {
        return Err(SignatureError::malformed(
            "AWS V4 credential",
            format!("scope date {} is not the date of {date_time}", credential.date),
        ));
    }
    let payload = Payload::parse(payload_hash)?;
    let canonical = canonical_request(request, signed_headers, payload_hash)?;
    let scope = credential.scope();
    let sts = string_to_sign(date_time, &scope, &canonical);
    let key = signing_key(secret, &credential.date, &credential.region, &credential.service);
    let computed = hex::encode(hmac_sha256(&key, sts.as_bytes()));
    if same_signature(&presented.to_ascii_lowercase(), &computed) {
        Ok(Verified { payload, signing_key: key, date_time: date_time.to_string(), scope, seed_signature: computed })
    } else {
        Err(SignatureError::Mismatch { canonical_request: Some(canonical), string_to_sign: sts })
    }
}

/// The request time of a header-signed request: `x-amz-date` (`YYYYMMDDTHHMMSSZ`), which every
/// SDK sends. The caller checks it for clock skew.
pub fn request_date_time<'a>(request: &S3Request<'a>) -> Result<&'a str, SignatureError> {
    let value = header(request.headers, "x-amz-date").ok_or(SignatureError::Missing("header x-amz-date"))?;
    parse_date_time(value).ok_or_else(|| SignatureError::malformed("header x-amz-date", "expected YYYYMMDDTHHMMSSZ"))?;
    Ok(value)
}

/// Verifies a header-signed request. The request time is not checked for clock skew here.
pub fn verify_header(secret: &str, auth: &HeaderAuth, request: &S3Request<'_>) -> Result<Verified, SignatureError> {
    let date_time = request_date_time(request)?;
    let payload_hash = header(request.headers, "x-amz-content-sha256").ok_or(SignatureError::Missing("header x-amz-content-sha256"))?;
    check(secret, &auth.credential, date_time, &auth.signed_headers, &auth.signature, payload_hash, request)
}

/// Verifies a presigned URL at time `now` (Unix seconds); valid through `X-Amz-Date + X-Amz-Expires`.
pub fn verify_query(secret: &str, auth: &QueryAuth, request: &S3Request<'_>, now: i64) -> Result<Verified, SignatureError> {
    let signed_at = parse_date_time(&auth.date_time)
        .ok_or_else(|| SignatureError::malformed("query parameter X-Amz-Date", "expected YYYYMMDDTHHMMSSZ"))?;
    let expired_at = signed_at.saturating_add(auth.expires_in);
    if now > expired_at {
        return Err(SignatureError::Expired { expired_at, now });
    }
    let payload_hash = header(request.headers, "x-amz-content-sha256").unwrap_or(UNSIGNED_PAYLOAD);
    check(secret, &auth.credential, &auth.date_time, &auth.signed_headers, &auth.signature, payload_hash, request)
}

/// The `Authorization` header value for `request`, signing `signed_headers` (lower-case, sorted;
/// `host` and every `x-amz-*` header included). Set `x-amz-date` and `x-amz-content-sha256`
/// (and `x-amz-security-token` with STS credentials) before signing.
pub fn sign_header<S: AsRef<str>>(
    access_key_id: &str,
    secret: &str,
    region: &str,
    request: &S3Request<'_>,
    signed_headers: &[S],
) -> Result<String, SignatureError> {
    let date_time = request_date_time(request)?;
    let payload_hash = header(request.headers, "x-amz-content-sha256").ok_or(SignatureError::Missing("header x-amz-content-sha256"))?;
    let credential = Credential {
        access_key_id: access_key_id.to_string(),
        date: date_time[..8].to_string(),
        region: region.to_string(),
        service: SERVICE.to_string(),
        terminator: SCOPE_TERMINATOR,
    };
    let names: Vec<String> = signed_headers.iter().map(|h| h.as_ref().to_ascii_lowercase()).collect();
    let sts = string_to_sign(date_time, &credential.scope(), &canonical_request(request, &names, payload_hash)?);
    let signature = signature_of(secret, &credential, &sts);
    Ok(HeaderAuth { credential, signed_headers: names, signature }.to_string())
}

/// The query parameters that presign `request` for `expires_in` seconds from `date_time`,
/// decoded; URL-encode them when building the URL. With STS credentials put
/// `X-Amz-Security-Token` into `request.query` first.
pub fn presign<S: AsRef<str>>(
    access_key_id: &str,
    secret: &str,
    region: &str,
    date_time: &str,
    expires_in: i64,
    request: &S3Request<'_>,
    signed_headers: &[S],
) -> Result<Vec<(String, String)>, SignatureError> {
    let credential = Credential {
        access_key_id: access_key_id.to_string(),
        date: date_time.chars().take(8).collect(),
        region: region.to_string(),
        service: SERVICE.to_string(),
        terminator: SCOPE_TERMINATOR,
    };
    let names: Vec<String> = signed_headers.iter().map(|h| h.as_ref().to_ascii_lowercase()).collect();
    let mut added = vec![
        (QUERY_ALGORITHM.to_string(), ALGORITHM.to_string()),
        (QUERY_CREDENTIAL.to_string(), credential.to_string()),
        (QUERY_DATE.to_string(), date_time.to_string()),
        (QUERY_EXPIRES.to_string(), expires_in.to_string()),
        (QUERY_SIGNED_HEADERS.to_string(), names.join(";")),
    ];
    let mut query: Vec<(String, String)> = request.query.to_vec();
    query.extend(added.iter().cloned());
    let extended = S3Request { query: &query, ..*request };
    let sts = string_to_sign(date_time, &credential.scope(), &canonical_request(&extended, &names, UNSIGNED_PAYLOAD)?);
    added.push((QUERY_SIGNATURE.to_string(), signature_of(secret, &credential, &sts)));
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::{owned, AWS_EXAMPLE_AK, AWS_EXAMPLE_SECRET};

    const AK: &str = AWS_EXAMPLE_AK;
    const SECRET: &str = AWS_EXAMPLE_SECRET;

    /// AWS's published S3 example "GET Object" (header signing, a Range header), with the
    /// canonical request and signature re-derived here.
    #[test]
    fn get_object_vector() {
        let headers = owned(&[
            ("Host", "examplebucket.s3.amazonaws.com"),
            ("Range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        let request = S3Request { method: "GET", raw_path: "/test.txt", query: &[], headers: &headers };
        let signed = ["host", "range", "x-amz-content-sha256", "x-amz-date"];
        let canonical = canonical_request(&request, &signed, EMPTY_SHA256).unwrap();
        assert_eq!(
            canonical,
            format!(
                "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\nx-amz-content-sha256:{EMPTY_SHA256}\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n{EMPTY_SHA256}"
            )
        );
        let value = sign_header(AK, SECRET, "us-east-1", &request, &signed).unwrap();
        let expected = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
        assert_eq!(
            value,
            format!("AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature={expected}")
        );
        // The same header without spaces after the commas.
        let auth = HeaderAuth::parse(&value.replace(", ", ",")).unwrap();
        let verified = verify_header(SECRET, &auth, &request).unwrap();
        assert_eq!(verified.payload, Payload::Sha256(EMPTY_SHA256.into()));
        assert_eq!(verified.seed_signature, expected);
        let err = verify_header("wrong", &auth, &request).unwrap_err();
        assert!(err.server_canonical_request().unwrap().starts_with("GET\n/test.txt\n"));
    }

    /// AWS's published presigned-URL example (GET /test.txt, 86400 s), re-derived.
    #[test]
    fn presigned_vector() {
        let headers = owned(&[("Host", "examplebucket.s3.amazonaws.com")]);
        let request = S3Request { method: "GET", raw_path: "/test.txt", query: &[], headers: &headers };
        let added = presign(AK, SECRET, "us-east-1", "20130524T000000Z", 86400, &request, &["host"]).unwrap();
        assert_eq!(added.last().unwrap().1, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
        let signed = S3Request { query: &added, ..request };
        let auth = QueryAuth::from_query(&added).unwrap();
        let t0 = parse_date_time("20130524T000000Z").unwrap();
        assert_eq!(verify_query(SECRET, &auth, &signed, t0 + 86400).map(|v| v.payload), Ok(Payload::Unsigned));
        assert_eq!(
            verify_query(SECRET, &auth, &signed, t0 + 86401),
            Err(SignatureError::Expired { expired_at: t0 + 86400, now: t0 + 86401 })
        );
    }

    #[test]
    fn query_encoding_and_empty_values() {
        let query = owned(&[("prefix", "a b/ü"), ("list-type", "2"), ("delimiter", ""), ("X-Amz-Signature", "x")]);
        assert_eq!(canonical_query(&query), "delimiter=&list-type=2&prefix=a%20b%2F%C3%BC");
    }

    #[test]
    fn host_and_amz_headers_must_be_signed() {
        let headers = owned(&[("Host", "h"), ("x-amz-date", "20130524T000000Z"), ("X-Amz-Meta-A", "1")]);
        assert!(matches!(canonical_headers(&headers, &["x-amz-date"]), Err(SignatureError::Malformed { .. })));
        assert_eq!(canonical_headers(&headers, &["host", "x-amz-date"]), Err(SignatureError::UnsignedHeader("x-amz-meta-a".into())));
        assert_eq!(
            canonical_headers(&headers, &["host", "x-amz-date", "x-amz-meta-a"]).unwrap(),
            "host:h\nx-amz-date:20130524T000000Z\nx-amz-meta-a:1\n"
        );
        assert!(matches!(
            canonical_headers(&headers, &["host", "range", "x-amz-date", "x-amz-meta-a"]),
            Err(SignatureError::Malformed { .. })
        ));
    }

    #[test]
    fn header_values_are_folded_and_joined() {
        let headers = owned(&[("host", "h"), ("X-Amz-Meta-B", "  a   b  "), ("x-amz-meta-b", "c")]);
        assert_eq!(canonical_headers(&headers, &["host", "x-amz-meta-b"]).unwrap(), "host:h\nx-amz-meta-b:a b,c\n");
    }

    #[test]
    fn payload_forms() {
        assert_eq!(Payload::parse("UNSIGNED-PAYLOAD"), Ok(Payload::Unsigned));
        assert_eq!(Payload::parse(STREAMING_SIGNED), Ok(Payload::Streaming { signed: true, trailer: false }));
        assert_eq!(Payload::parse(STREAMING_UNSIGNED_TRAILER), Ok(Payload::Streaming { signed: false, trailer: true }));
        assert_eq!(Payload::parse(&EMPTY_SHA256.to_ascii_uppercase()), Ok(Payload::Sha256(EMPTY_SHA256.into())));
        assert!(Payload::parse("abc").is_err());
    }

    #[test]
    fn malformed_authorization() {
        for bad in [
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request,Signature=ab",
            "AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request,SignedHeaders=host",
            "AWS4-HMAC-SHA256 Credential=a/2013052/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=ab",
            "AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/ec2/aws4_request,SignedHeaders=host,Signature=ab",
            "AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/other,SignedHeaders=host,Signature=ab",
            "AWS4-HMAC-SHA256 Credential=a/20130524/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=ab,X=1",
        ] {
            assert!(matches!(HeaderAuth::parse(bad), Err(SignatureError::Malformed { .. })), "{bad}");
        }
    }

    #[test]
    fn scope_date_must_match_request_date() {
        let headers = owned(&[("host", "h"), ("x-amz-date", "20130525T000000Z"), ("x-amz-content-sha256", UNSIGNED_PAYLOAD)]);
        let request = S3Request { method: "GET", raw_path: "/", query: &[], headers: &headers };
        let auth = HeaderAuth::parse(
            "AWS4-HMAC-SHA256 Credential=a/20130524/r/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature=ab",
        )
        .unwrap();
        assert!(matches!(verify_header("s", &auth, &request), Err(SignatureError::Malformed { .. })));
    }
}
