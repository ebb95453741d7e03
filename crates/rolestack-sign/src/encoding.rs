//! Percent-encoding and query decoding shared by every signature scheme.
//!
//! All four schemes encode with the RFC 3986 rule: the unreserved characters
//! `A-Z a-z 0-9 - _ . ~` stay, every other UTF-8 byte becomes `%XX` with upper-case hex (space is
//! `%20`, `*` is `%2A`). Sources: tea-openapi 0.4.6 `utils.py` (`quote(x, safe='~')`),
//! aliyun-python-sdk-core 2.16.1 `rpc_signature_composer.py`, oss2 2.19.1 `auth.py`
//! (`__v4_uri_encode`), alibabacloud-oss-v2 1.4.1 `signer/v4.py` (`quote(uri, safe='/')`).
//!
//! Query strings are decoded with form semantics (`+` is a space) for RPC *and* OSS: darabonba
//! and oss2 (through `requests`' `urlencode`) write a space as `+`, aliyun-python-sdk-core and
//! oss-v2 write `%20`, and every SDK writes a literal `+` as `%2B`. Paths are different: there
//! `+` is literal, see [`decode_path`].

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Every byte except the RFC 3986 unreserved characters is encoded.
pub const RFC3986: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// [`RFC3986`] but keeping `/`, for URI paths (OSS V4 canonical URI).
pub const RFC3986_PATH: &AsciiSet = &RFC3986.remove(b'/');

/// Encodes `s` (as UTF-8) with the RFC 3986 rule; `/` becomes `%2F`.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RFC3986).to_string()
}

/// `enc(name)=enc(value)` of each pair, in the order given, joined by `&` ([`RFC3986`]): the
/// canonical query string of RPC V1 and ACS3 (their callers sort the pairs first), built in one
/// string (a server verifies one for every signed call).
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::with_capacity(256);
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.extend(utf8_percent_encode(name, RFC3986));
        out.push('=');
        out.extend(utf8_percent_encode(value, RFC3986));
    }
    out
}

/// Encodes `s` with the RFC 3986 rule but keeps `/`.
pub fn encode_path(s: &str) -> String {
    utf8_percent_encode(s, RFC3986_PATH).to_string()
}

/// Decodes a query string or an `application/x-www-form-urlencoded` body: `+` is a space,
/// `%XX` is a byte (invalid UTF-8 is replaced, and such a value cannot verify). Empty values are kept (`SignatureType=` gives
/// `("SignatureType", "")`); a piece without `=` is a name with an empty value.
pub fn decode_form(raw: &str) -> Vec<(String, String)> {
    decode_pairs(raw, true)
}

/// Decodes a URL path (e.g. an OSS object key): only `%XX` escapes are decoded, `+` stays `+`.
pub fn decode_path(raw: &str) -> String {
    decode_component(raw, false)
}

/// A URL path decoded, or `None` when its escaped bytes are not UTF-8 ([`decode_path`] replaces
/// those, so two different paths could decode to the same string).
pub fn decode_path_utf8(raw: &str) -> Option<String> {
    percent_decode_str(raw).decode_utf8().ok().map(|s| s.into_owned())
}

/// The first `name=value` piece of a query whose escaped bytes are not UTF-8, if any
/// ([`decode_form`] replaces those bytes, so two different queries could decode alike).
pub fn first_non_utf8_pair(raw: &str) -> Option<&str> {
    raw.split('&').find(|piece| percent_decode_str(piece).decode_utf8().is_err())
}

fn decode_pairs(raw: &str, plus_is_space: bool) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(name, plus_is_space), decode_component(value, plus_is_space))
        })
        .collect()
}

fn decode_component(s: &str, plus_is_space: bool) -> String {
    if plus_is_space && s.contains('+') {
        percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
    } else {
        percent_decode_str(s).decode_utf8_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_paths() {
        assert_eq!(decode_path_utf8("/b/%E4%B8%AD/a%20b+c").as_deref(), Some("/b/中/a b+c"));
        assert_eq!(decode_path_utf8("/b/a%FFb"), None);
        assert_eq!(decode_path_utf8("/b/%E4%B8"), None);
    }

    #[test]
    fn encodes_reserved_and_keeps_unreserved() {
        assert_eq!(encode("a b*~/"), "a%20b%2A~%2F");
        assert_eq!(encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(encode("ü+=&%"), "%C3%BC%2B%3D%26%25");
        assert_eq!(encode_pairs([("a b", "ü"), ("", ""), ("x", "=&")]), "a%20b=%C3%BC&=&x=%3D%26");
        assert_eq!(encode_pairs([]), "");
        assert_eq!(encode_path("/bkt/a b/ü"), "/bkt/a%20b/%C3%BC");
    }

    #[test]
    fn form_decoding_treats_plus_as_space() {
        assert_eq!(
            decode_form("a=b+c%2B&SignatureType=&bare&&x=%7E"),
            vec![("a".into(), "b c+".into()), ("SignatureType".into(), "".into()), ("bare".into(), "".into()), ("x".into(), "~".into()),]
        );
    }

    #[test]
    fn path_decoding_keeps_plus() {
        assert_eq!(decode_path("/bkt/a+b%2Bc%20d%2F%C3%BC"), "/bkt/a+b+c d/ü");
    }
}
