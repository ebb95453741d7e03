//! Keyed hashes, digests, constant-time comparison and header lookup used by every scheme.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::SignatureError;

pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two signatures without leaking where they differ (the length may leak, which is public).
pub(crate) fn same_signature(presented: &str, computed: &str) -> bool {
    presented.as_bytes().ct_eq(computed.as_bytes()).into()
}

/// Every value of header `name` (case-insensitive), trimmed, in the order received.
pub(crate) fn header_values<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}

/// The first value of header `name`, trimmed.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &'a str) -> Option<&'a str> {
    header_values(headers, name).next()
}

/// Lower-cased header names with their values, grouped per name and sorted by name; the values of a
/// repeated header keep their received order.
pub(crate) fn grouped_headers(headers: &[(String, String)], keep: impl Fn(&str) -> bool) -> Vec<(String, Vec<&str>)> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if !keep(&name) {
            continue;
        }
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, values)) => values.push(value.trim()),
            None => groups.push((name, vec![value.trim()])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups
}

/// `<scheme> <AccessKeyId>:<signature>` (OSS V1 `OSS `, AWS SigV2 `AWS `) → the key and signature.
pub(crate) fn key_and_signature(value: &str, scheme: &str) -> Result<(String, String), SignatureError> {
    const WHAT: &str = "Authorization header";
    let expected = || SignatureError::malformed(WHAT, format!("expected `{scheme} <AccessKeyId>:<Signature>`"));
    let rest = value.trim().strip_prefix(scheme).filter(|r| r.starts_with(' ')).ok_or_else(expected)?;
    let (ak, sig) = rest.trim().rsplit_once(':').ok_or_else(expected)?;
    if ak.is_empty() || sig.is_empty() {
        return Err(SignatureError::malformed(WHAT, "empty AccessKeyId or Signature"));
    }
    Ok((ak.to_string(), sig.to_string()))
}

/// A V4-style credential `<AccessKeyId>/<YYYYMMDD>/<region>/<service>/<terminator>`: OSS V4's
/// (`service` is the product, `oss`; terminator `aliyun_v4_request`) and AWS SigV4's (`s3`,
/// `aws4_request`). Each protocol module names it `Credential`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedCredential {
    /// The AccessKey id.
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    /// The region the client was configured with (`cn-hangzhou`, `us-east-1`, `oss-cn-hangzhou`, ...).
    pub region: String,
    /// The signing service: `oss` (or `oss-cloudbox`) for OSS V4, `s3` for AWS SigV4.
    pub service: String,
    /// The scope's last part: `aliyun_v4_request` or `aws4_request`.
    pub terminator: &'static str,
}

impl ScopedCredential {
    /// Parses `<ak>/<date>/<region>/<service>/<terminator>`.
    pub(crate) fn parse(value: &str, terminator: &'static str, what: &'static str) -> Result<Self, SignatureError> {
        let [ak, date, region, service] = scoped_credential(value, terminator, what)?;
        Ok(ScopedCredential {
            access_key_id: ak.to_string(),
            date: date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            terminator,
        })
    }

    /// `<date>/<region>/<service>/<terminator>`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/{}", self.date, self.region, self.service, self.terminator)
    }
}

impl std::fmt::Display for ScopedCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.access_key_id, self.scope())
    }
}

/// The four parts of a V4-style credential `<AccessKeyId>/<YYYYMMDD>/<region>/<service>/<terminator>`
/// (OSS V4 and AWS SigV4): `[access key id, date, region, service]`, each non-empty.
pub(crate) fn scoped_credential<'a>(value: &'a str, terminator: &str, what: &'static str) -> Result<[&'a str; 4], SignatureError> {
    let mut parts = value.rsplitn(5, '/');
    let (end, service, region, date, ak) = match (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(t), Some(p), Some(r), Some(d), Some(a)) => (t, p, r, d, a),
        _ => return Err(SignatureError::malformed(what, format!("expected <AccessKeyId>/<date>/<region>/<service>/{terminator}"))),
    };
    if end != terminator {
        return Err(SignatureError::malformed(what, format!("scope must end with {terminator}")));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::malformed(what, "the scope date must be YYYYMMDD"));
    }
    if ak.is_empty() || region.is_empty() || service.is_empty() {
        return Err(SignatureError::malformed(what, "empty AccessKeyId, region or service"));
    }
    Ok([ak, date, region, service])
}

/// The first value of query parameter `name` (decoded pairs, as the request views hold them).
pub(crate) fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The `Name<sep>value` components of an `Authorization` header after `<algorithm> ` (commas
/// with or without spaces, any order; V4 separates with `=`, OSS V2 with `:`), in the order of
/// `names`; an unknown name is an error.
pub(crate) fn auth_components<'a, const N: usize>(
    value: &'a str,
    algorithm: &str,
    names: [&str; N],
    sep: char,
) -> Result<[Option<&'a str>; N], SignatureError> {
    const WHAT: &str = "Authorization header";
    let rest = value
        .trim()
        .strip_prefix(algorithm)
        .filter(|r| r.starts_with(char::is_whitespace))
        .ok_or_else(|| SignatureError::malformed(WHAT, format!("expected `{algorithm} {}{sep}...`", names[0])))?;
    let mut found = [None; N];
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, v) = part.split_once(sep).ok_or_else(|| SignatureError::malformed(WHAT, format!("`{part}` is not name{sep}value")))?;
        let i = names
            .iter()
            .position(|n| *n == name.trim())
            .ok_or_else(|| SignatureError::malformed(WHAT, format!("unknown component `{}`", name.trim())))?;
        found[i] = Some(v.trim());
    }
    Ok(found)
}

/// A presigned V4 URL's lifetime parameter (`x-oss-expires`, `X-Amz-Expires`; `param` names it
/// in errors): present, whole seconds, from 1 to `max`.
pub(crate) fn presign_expires(value: Option<&str>, param: &'static str, max: i64) -> Result<i64, SignatureError> {
    let expires_in = value
        .ok_or(SignatureError::Missing(param))?
        .parse::<i64>()
        .ok()
        .filter(|e| *e >= 0)
        .ok_or_else(|| SignatureError::malformed(param, "not a non-negative integer"))?;
    if !(1..=max).contains(&expires_in) {
        return Err(SignatureError::ExpiresOutOfRange { given: expires_in, max });
    }
    Ok(expires_in)
}

/// What the unit tests of the protocol modules share.
#[cfg(test)]
pub(crate) mod test_support {
    /// Header or query pairs as the request types hold them.
    pub(crate) fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The example AccessKey of AWS's published signature examples.
    pub(crate) const AWS_EXAMPLE_AK: &str = "AKIAIOSFODNN7EXAMPLE";
    /// Its secret.
    pub(crate) const AWS_EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
}
