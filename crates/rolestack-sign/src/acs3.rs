//! RPC signature V3, `ACS3-HMAC-SHA256`: the default of the tea-openapi generated clients
//! (`alibabacloud_ram20150501`, `..._sts20150401`, `..._ecs20140526`).
//!
//! Rules (wire-protocols.md §1.4), from alibabacloud-tea-openapi 0.4.6 `utils.py`
//! (`get_canonical_query_string`, `get_canonicalized_headers`, `Utils.get_authorization`) and
//! `client.py do_request`:
//!
//! ```text
//! CanonicalRequest = METHOD \n path \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//! StringToSign     = "ACS3-HMAC-SHA256\n" + hex(sha256(CanonicalRequest))
//! Signature        = hex(HMAC-SHA256(key = secret, StringToSign))
//! Authorization: ACS3-HMAC-SHA256 Credential=<AK>,SignedHeaders=<h1;h2>,Signature=<hex>
//! ```
//!
//! * CanonicalQuery: URL query parameters only (never the body), sorted by decoded name,
//!   `enc(name)=enc(value)` (RFC 3986; an empty value gives `name=`), joined by `&`.
//! * CanonicalHeaders: the headers named in `SignedHeaders`, lower-cased, sorted, each
//!   `name:value\n` with trimmed values; a repeated header's values are sorted and joined by `,`.
//!   The Python SDK signs every header it sets; other SDKs sign a subset, so the server trusts
//!   `SignedHeaders`.
//! * HashedPayload: the `x-acs-content-sha256` header (checked against the body), or the
//!   SHA-256 of the body when the header is absent.

use std::fmt;

use crate::encoding::encode_pairs;
use crate::primitives::{grouped_headers, header, hmac_sha256, same_signature, sha256_hex};
use crate::SignatureError;

/// The algorithm name at the start of the `Authorization` header.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";
/// The header carrying the hex SHA-256 of the body.
pub const CONTENT_SHA256_HEADER: &str = "x-acs-content-sha256";

/// Headers that, when present, must be signed: they choose the action or protect against replay
/// and body substitution. Every known SDK signs them.
const MUST_BE_SIGNED: [&str; 5] = ["x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", CONTENT_SHA256_HEADER];

/// The parsed `Authorization: ACS3-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// `Credential=`: the AccessKey id.
    pub access_key_id: String,
    /// `SignedHeaders=`: lower-cased, sorted, without duplicates.
    pub signed_headers: Vec<String>,
    /// `Signature=`: hex.
    pub signature: String,
}

impl Authorization {
    /// Parses the header value. Components may come in any order and may be followed by spaces.
    /// A different `ACS3-*` algorithm gives [`SignatureError::UnsupportedAlgorithm`]; anything
    /// else unparsable gives [`SignatureError::Malformed`] (the RPC front-end answers
    /// `IncompleteSignature` to both).
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        const WHAT: &str = "Authorization header";
        let value = value.trim();
        let (algorithm, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        if algorithm != ALGORITHM {
            return Err(if algorithm.starts_with("ACS3-") {
                SignatureError::UnsupportedAlgorithm(algorithm.to_string())
            } else {
                SignatureError::malformed(WHAT, format!("expected `{ALGORITHM} Credential=...`"))
            });
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, v) = part.split_once('=').ok_or_else(|| SignatureError::malformed(WHAT, format!("`{part}` is not name=value")))?;
            let slot = match name.trim() {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                other => return Err(SignatureError::malformed(WHAT, format!("unknown component `{other}`"))),
            };
            *slot = Some(v.trim().to_string());
        }
        let require = |slot: Option<String>, name: &str| {
            slot.filter(|v| !v.is_empty()).ok_or_else(|| SignatureError::malformed(WHAT, format!("{name} is missing or empty")))
        };
        let access_key_id = require(credential, "Credential")?;
        let signed_headers = require(signed_headers, "SignedHeaders")?;
        let signature = require(signature, "Signature")?;
        let mut signed_headers: Vec<String> =
            signed_headers.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect();
        signed_headers.sort();
        signed_headers.dedup();
        Ok(Authorization { access_key_id, signed_headers, signature })
    }
}

impl fmt::Display for Authorization {
    /// The header value, as the tea-openapi SDK writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Credential={},SignedHeaders={},Signature={}",
            self.access_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// The parts of an HTTP request that the V3 signature covers.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The HTTP method, e.g. `POST`.
    pub method: &'a str,
    /// The request path as received (`/` for RPC APIs).
    pub path: &'a str,
    /// The URL query parameters, form-decoded (`+` = space). Not the body.
    pub query: &'a [(String, String)],
    /// Every request header as received (names in any case, possibly repeated).
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

/// Lower-case hex SHA-256 of `body`, the value of `x-acs-content-sha256`.
pub fn content_sha256(body: &[u8]) -> String {
    sha256_hex(body)
}

/// `enc(name)=enc(value)` over the query parameters, sorted by decoded name.
pub fn canonical_query(query: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = query.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    encode_pairs(sorted.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

/// The CanonicalRequest over the headers named in `signed_headers` (lower-case names).
/// A signed header absent from the request is canonicalized with an empty value.
pub fn canonical_request(request: &Request<'_>, signed_headers: &[String]) -> String {
    let mut names: Vec<&str> = signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let groups = grouped_headers(request.headers, |n| names.binary_search(&n).is_ok());
    let mut canonical_headers = String::new();
    for name in &names {
        let mut values = groups.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        values.sort_unstable();
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let hashed_payload = header(request.headers, CONTENT_SHA256_HEADER).map(str::to_string).unwrap_or_else(|| content_sha256(request.body));
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        request.path,
        canonical_query(request.query),
        canonical_headers,
        names.join(";"),
        hashed_payload
    )
}

/// `ACS3-HMAC-SHA256\n` + hex(sha256(canonical_request)).
pub fn string_to_sign(canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// Hex HMAC-SHA256 of `string_to_sign` keyed with the plain secret.
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), string_to_sign.as_bytes()))
}

/// Signs `request` over all of its headers (except `authorization`), as the Python SDK does, and
/// returns the `Authorization` header value. The caller sets `host`, `x-acs-*` (including
/// `x-acs-content-sha256`, see [`content_sha256`]) before signing and sends exactly those headers.
pub fn sign(access_key_id: &str, secret: &str, request: &Request<'_>) -> String {
    let mut signed_headers: Vec<String> =
        request.headers.iter().map(|(n, _)| n.to_ascii_lowercase()).filter(|n| n != "authorization").collect();
    signed_headers.sort();
    signed_headers.dedup();
    let canonical = canonical_request(request, &signed_headers);
    let signature = signature_of(secret, &string_to_sign(&canonical));
    Authorization { access_key_id: access_key_id.to_string(), signed_headers, signature }.to_string()
}

/// Verifies `request` against its parsed `Authorization` header and the key's `secret`.
///
/// Besides the signature it checks that the declared `x-acs-content-sha256` is the body's hash
/// and that the headers selecting the action or protecting against replay are signed.
/// Freshness of `x-acs-date` and nonce reuse are the caller's job.
pub fn verify(secret: &str, authorization: &Authorization, request: &Request<'_>) -> Result<(), SignatureError> {
    for must in MUST_BE_SIGNED {
        if header(request.headers, must).is_some() && authorization.signed_headers.binary_search_by(|h| h.as_str().cmp(must)).is_err() {
            return Err(SignatureError::UnsignedHeader(must.to_string()));
        }
    }
    if let Some(declared) = header(request.headers, CONTENT_SHA256_HEADER) {
        let computed = content_sha256(request.body);
        if !declared.eq_ignore_ascii_case(&computed) {
            return Err(SignatureError::BodyHashMismatch { declared: declared.to_string(), computed });
        }
    }
    let canonical = canonical_request(request, &authorization.signed_headers);
    let string_to_sign = string_to_sign(&canonical);
    let presented = authorization.signature.to_ascii_lowercase();
    if same_signature(&presented, &signature_of(secret, &string_to_sign)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { canonical_request: Some(canonical), string_to_sign })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::owned;

    type Pairs = Vec<(String, String)>;

    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const SIGNED: &str = "accept;host;user-agent;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version";

    /// wire-protocols.md §1.4, computed with tea-openapi 0.4.6 `Utils.get_authorization`.
    fn reference() -> (Pairs, Pairs) {
        let query = owned(&[("RoleName", "test-role"), ("AssumeRolePolicyDocument", r#"{"Version":"1"}"#)]);
        let headers = owned(&[
            ("host", "ram.aliyuncs.com"),
            ("x-acs-version", "2015-05-01"),
            ("x-acs-action", "CreateRole"),
            ("user-agent", "UA"),
            ("x-acs-date", "2024-01-01T00:00:00Z"),
            ("x-acs-signature-nonce", "nonce1"),
            ("accept", "application/json"),
            ("x-acs-content-sha256", EMPTY_SHA256),
        ]);
        (query, headers)
    }

    #[test]
    fn reference_vector() {
        let (query, headers) = reference();
        let request = Request { method: "POST", path: "/", query: &query, headers: &headers, body: b"" };
        let expected_canonical = format!(
            "POST\n/\nAssumeRolePolicyDocument=%7B%22Version%22%3A%221%22%7D&RoleName=test-role\n\
             accept:application/json\nhost:ram.aliyuncs.com\nuser-agent:UA\nx-acs-action:CreateRole\n\
             x-acs-content-sha256:{EMPTY_SHA256}\nx-acs-date:2024-01-01T00:00:00Z\n\
             x-acs-signature-nonce:nonce1\nx-acs-version:2015-05-01\n\n{SIGNED}\n{EMPTY_SHA256}"
        );
        let auth_value = sign("testid", "testsecret", &request);
        let expected_auth = format!(
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders={SIGNED},Signature=10568d350d01b4c5cca54cf988cfef3897ee842116e6c94d1c9b3cb6c03311a2"
        );
        assert_eq!(auth_value, expected_auth);
        let auth = Authorization::parse(&auth_value).unwrap();
        let canonical = canonical_request(&request, &auth.signed_headers);
        assert_eq!(canonical, expected_canonical);
        assert_eq!(string_to_sign(&canonical), "ACS3-HMAC-SHA256\naa0e702207a7d58f513f4585f2b2cc62ba544bb9e11eb36a7b89071e82ed879f");
        assert_eq!(verify("testsecret", &auth, &request), Ok(()));
        let err = verify("wrong", &auth, &request).unwrap_err();
        assert_eq!(err.server_canonical_request(), Some(expected_canonical.as_str()));
    }

    #[test]
    fn parses_with_spaces_and_any_order() {
        let a = Authorization::parse("ACS3-HMAC-SHA256  Credential=ak, Signature=ab12 ,SignedHeaders=Host;x-acs-date").unwrap();
        assert_eq!(a.access_key_id, "ak");
        assert_eq!(a.signed_headers, vec!["host", "x-acs-date"]);
        assert_eq!(a.signature, "ab12");
    }

    #[test]
    fn malformed_headers_are_rejected() {
        for bad in [
            "",
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=ak,SignedHeaders=host,Signature",
            "ACS3-HMAC-SHA256 Credential=ak,Bogus=1,SignedHeaders=host,Signature=ab",
            "Bearer xyz",
        ] {
            assert!(matches!(Authorization::parse(bad), Err(SignatureError::Malformed { .. })), "{bad}");
        }
        assert_eq!(
            Authorization::parse("ACS3-HMAC-SM3 Credential=ak,SignedHeaders=host,Signature=ab"),
            Err(SignatureError::UnsupportedAlgorithm("ACS3-HMAC-SM3".into()))
        );
    }

    #[test]
    fn body_hash_and_unsigned_action_are_rejected() {
        let (query, headers) = reference();
        let request = Request { method: "POST", path: "/", query: &query, headers: &headers, body: b"" };
        let auth = Authorization::parse(&sign("testid", "testsecret", &request)).unwrap();
        let tampered = Request { body: b"x", ..request };
        assert!(matches!(verify("testsecret", &auth, &tampered), Err(SignatureError::BodyHashMismatch { .. })));
        let mut partial = auth.clone();
        partial.signed_headers.retain(|h| h != "x-acs-action");
        assert_eq!(verify("testsecret", &partial, &request), Err(SignatureError::UnsignedHeader("x-acs-action".into())));
    }

    #[test]
    fn repeated_headers_are_sorted_and_joined() {
        let headers = owned(&[("X-A", " 2 "), ("x-a", "1"), ("host", "h")]);
        let request = Request { method: "GET", path: "/", query: &[], headers: &headers, body: b"" };
        let canonical = canonical_request(&request, &["x-a".into(), "host".into()]);
        assert!(canonical.contains("\nhost:h\nx-a:1,2\n\nhost;x-a\n"), "{canonical}");
    }
}
