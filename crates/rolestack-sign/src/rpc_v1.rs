//! RPC signature V1 (`SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`), the signature of the
//! old `aliyun-python-sdk-core` clients and of tea-openapi clients configured with
//! `signature_algorithm='v2'`.
//!
//! Rules (wire-protocols.md §1.3), from aliyun-python-sdk-core 2.16.1
//! `auth/composer/rpc_signature_composer.py` and alibabacloud-tea-openapi 0.4.6
//! `utils.py Utils.get_rpcsignature`, which agree:
//!
//! 1. every parameter of the request (query and form body, form-decoded), except `Signature`,
//!    empty values included (`SignatureType=`);
//! 2. sorted by decoded name, byte-wise (Python `sorted`);
//! 3. `CanonicalizedQueryString` = `enc(name)=enc(value)` joined by `&`, `enc` = RFC 3986;
//! 4. `StringToSign` = `METHOD&%2F&` + `enc(CanonicalizedQueryString)`;
//! 5. `Signature` = Base64(HMAC-SHA1(key = `secret + "&"`, StringToSign)).
//!
//! The server receives `Signature` among the parameters; [`verify`] takes the full list as decoded.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use percent_encoding::utf8_percent_encode;

use crate::encoding::{encode_pairs, RFC3986};
use crate::primitives::{hmac_sha1, same_signature};
use crate::SignatureError;

/// The parameter that carries the signature.
pub const SIGNATURE_PARAM: &str = "Signature";
/// The only `SignatureMethod` this scheme defines.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";

/// `k1=v1&k2=v2...` over every parameter but `Signature`, sorted by name, RFC 3986-encoded.
pub fn canonicalized_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut signed: Vec<(&str, &str)> =
        params.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).filter(|(k, _)| *k != SIGNATURE_PARAM).collect();
    // Stable: repeated names keep their received order.
    signed.sort_by(|a, b| a.0.cmp(b.0));
    encode_pairs(signed)
}

/// `METHOD&%2F&enc(CanonicalizedQueryString)`.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)]) -> String {
    let query = canonicalized_query(params);
    // Encoded again, each `%XX` of the query becomes five bytes.
    let mut out = String::with_capacity(method.len() + 5 + query.len() * 3 / 2);
    out.push_str(method);
    out.push_str("&%2F&");
    out.extend(utf8_percent_encode(&query, RFC3986));
    out
}

/// The Base64 HMAC-SHA1 of `string_to_sign` keyed with `secret + "&"`.
pub fn signature_of(secret: &str, string_to_sign: &str) -> String {
    let key = format!("{secret}&");
    BASE64.encode(hmac_sha1(key.as_bytes(), string_to_sign.as_bytes()))
}

/// The value of the `Signature` parameter for a request with `params` (a `Signature` already
/// among them is ignored). Clients add it to the query as `Signature=<value>` (URL-encoded).
pub fn sign<K: AsRef<str>, V: AsRef<str>>(secret: &str, method: &str, params: &[(K, V)]) -> String {
    signature_of(secret, &string_to_sign(method, params))
}

/// Checks the `Signature` parameter among `params` (query and form body, form-decoded) against
/// `secret`. Replay protection (`Timestamp`, `SignatureNonce`) is the caller's job.
pub fn verify<K: AsRef<str>, V: AsRef<str>>(secret: &str, method: &str, params: &[(K, V)]) -> Result<(), SignatureError> {
    let value_of = |name: &str| params.iter().find(|(k, _)| k.as_ref() == name).map(|(_, v)| v.as_ref());
    let presented = value_of(SIGNATURE_PARAM).ok_or(SignatureError::Missing("parameter Signature"))?;
    if let Some(m) = value_of("SignatureMethod") {
        if m != SIGNATURE_METHOD {
            return Err(SignatureError::UnsupportedAlgorithm(m.to_string()));
        }
    }
    let string_to_sign = string_to_sign(method, params);
    if same_signature(presented, &signature_of(secret, &string_to_sign)) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { canonical_request: None, string_to_sign })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// wire-protocols.md §1.3, computed with tea-openapi 0.4.6 `Utils.get_rpcsignature`.
    fn reference_params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("Action", "GetCallerIdentity"),
            ("Format", "json"),
            ("Version", "2015-04-01"),
            ("Timestamp", "2024-01-01T00:00:00Z"),
            ("SignatureNonce", "abc123"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("AccessKeyId", "testid"),
            ("RoleSessionName", "a b*~/"),
        ]
    }
    const REFERENCE_STS: &str = "POST&%2F&AccessKeyId%3Dtestid%26Action%3DGetCallerIdentity%26Format%3Djson%26RoleSessionName%3Da%2520b%252A~%252F%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dabc123%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T00%253A00%253A00Z%26Version%3D2015-04-01";
    const REFERENCE_SIGNATURE: &str = "J/1ERrNpMUEgsWHaf/EH9RLl7KY=";

    #[test]
    fn reference_vector() {
        let params = reference_params();
        assert_eq!(string_to_sign("POST", &params), REFERENCE_STS);
        assert_eq!(sign("testsecret", "POST", &params), REFERENCE_SIGNATURE);
        let mut signed = params.clone();
        signed.push(("Signature", REFERENCE_SIGNATURE));
        assert_eq!(verify("testsecret", "POST", &signed), Ok(()));
    }

    #[test]
    fn mismatch_carries_server_string_to_sign() {
        let mut params = reference_params();
        params.push(("Signature", REFERENCE_SIGNATURE));
        let err = verify("othersecret", "POST", &params).unwrap_err();
        assert_eq!(err.server_string_to_sign(), Some(REFERENCE_STS));
        // The core SDK splits the message on ':'; the StringToSign itself must have none.
        assert!(!REFERENCE_STS.contains(':'));
        assert!(verify("testsecret", "GET", &params).is_err());
    }

    #[test]
    fn empty_values_are_signed() {
        let params = [("SignatureType", ""), ("Action", "X")];
        assert_eq!(canonicalized_query(&params), "Action=X&SignatureType=");
    }

    #[test]
    fn missing_signature_and_other_methods_are_rejected() {
        let params = reference_params();
        assert_eq!(verify("testsecret", "POST", &params), Err(SignatureError::Missing("parameter Signature")));
        let mut sha256 = params.clone();
        sha256.retain(|(k, _)| *k != "SignatureMethod");
        sha256.push(("SignatureMethod", "HMAC-SHA256"));
        sha256.push(("Signature", "x"));
        assert_eq!(verify("testsecret", "POST", &sha256), Err(SignatureError::UnsupportedAlgorithm("HMAC-SHA256".into())));
    }
}
