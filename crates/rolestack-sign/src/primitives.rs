//! Keyed hashes, digests, constant-time comparison and header lookup used by every scheme.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

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
