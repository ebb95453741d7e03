//! Object and bucket tags: the limits OSS enforces (docs/oss.md, "Tagging") and the
//! `x-oss-tagging` header form (`k1=v1&k2=v2`, each part URL-encoded).
//!
//! Objects: at most 10 tags, unique keys of 1–128 characters, values of 0–256 characters, made
//! of letters, digits, spaces and `+ - = . _ : /`. Buckets: at most 20 tags, keys of 1–64
//! bytes not starting with `http://`, `https://` or `Aliyun`, values of 0–128 bytes.

use super::error::{OssError, OssResult};

/// A tag set in the order it was given.
pub type Tags = Vec<(String, String)>;

pub const MAX_OBJECT_TAGS: usize = 10;
pub const MAX_BUCKET_TAGS: usize = 20;

/// `EC`s of the tag refusals.
const EC_INVALID_TAG: &str = "0010-00000217";
const EC_TAG_KEY_TOO_LONG: &str = "0010-00000209";
const EC_TOO_MANY_TAGS: &str = "0010-00000218";
const EC_TAG_FORMAT: &str = "0010-00000219";

fn invalid(ec: &'static str, message: String) -> OssError {
    OssError::InvalidTag { message, ec }
}

/// Whether `c` may appear in an object tag (also a lifecycle rule's tag filter).
pub fn allowed(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, ' ' | '+' | '-' | '=' | '.' | '_' | ':' | '/')
}

fn unique_and_counted(tags: &Tags, max: usize, what: &str) -> OssResult<()> {
    if tags.len() > max {
        return Err(invalid(EC_TOO_MANY_TAGS, format!("{what} tags cannot be greater than {max}.")));
    }
    for (i, (k, _)) in tags.iter().enumerate() {
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(invalid(EC_TOO_MANY_TAGS, format!("The tag key {k:?} appears more than once.")));
        }
    }
    Ok(())
}

/// Checks an object's tag set.
pub fn validate_object_tags(tags: &Tags) -> OssResult<()> {
    unique_and_counted(tags, MAX_OBJECT_TAGS, "Object")?;
    for (k, v) in tags {
        if k.is_empty() {
            return Err(invalid(EC_INVALID_TAG, "A tag key may not be empty.".into()));
        }
        if k.chars().count() > 128 {
            return Err(invalid(EC_TAG_KEY_TOO_LONG, format!("The tag key {k:?} is longer than 128 characters.")));
        }
        if v.chars().count() > 256 {
            return Err(invalid(EC_INVALID_TAG, format!("The value of tag {k:?} is longer than 256 characters.")));
        }
        if let Some(c) = k.chars().chain(v.chars()).find(|c| !allowed(*c)) {
            return Err(invalid(
                EC_INVALID_TAG,
                format!("The tag {k:?} contains {c:?}; tags are letters, digits, spaces and + - = . _ : /."),
            ));
        }
    }
    Ok(())
}

/// Checks a bucket's tag set.
pub fn validate_bucket_tags(tags: &Tags) -> OssResult<()> {
    unique_and_counted(tags, MAX_BUCKET_TAGS, "Bucket")?;
    for (k, v) in tags {
        if k.is_empty() || k.len() > 64 {
            return Err(invalid(EC_TAG_FORMAT, format!("The bucket tag key {k:?} must have 1 to 64 bytes.")));
        }
        if ["http://", "https://", "Aliyun"].iter().any(|p| k.starts_with(p)) {
            return Err(invalid(EC_TAG_FORMAT, format!("The bucket tag key {k:?} may not start with http://, https:// or Aliyun.")));
        }
        if v.len() > 128 {
            return Err(invalid(EC_TAG_FORMAT, format!("The value of bucket tag {k:?} is longer than 128 bytes.")));
        }
    }
    Ok(())
}

/// Parses `x-oss-tagging` (`k1=v1&k2=v2`, keys and values percent-encoded; `k` alone is an empty
/// value) and checks the object limits.
pub fn parse_header(value: &str, decode: impl Fn(&str) -> String) -> OssResult<Tags> {
    let mut tags = Tags::new();
    for part in value.split('&').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('=');
        let (k, v) = (pieces.next().unwrap_or_default(), pieces.next().unwrap_or_default());
        if pieces.next().is_some() {
            return Err(invalid(EC_TAG_FORMAT, format!("x-oss-tagging {part:?} is not key or key=value.")));
        }
        tags.push((decode(k), decode(v)));
    }
    validate_object_tags(&tags)?;
    Ok(tags)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn object_limits() {
        assert!(validate_object_tags(&tags(&[(&"a".repeat(128), &"b".repeat(256)), ("+-.:", "_/"), ("中文", "test++/")])).is_ok());
        assert!(validate_object_tags(&tags(&[("k", "")])).is_ok());
        for bad in [
            tags(&[(&"a".repeat(129), "v")]),
            tags(&[("k", &"v".repeat(257))]),
            tags(&[("k", "%abc")]),
            tags(&[("", "v")]),
            tags(&[("a", "b"), ("a", "b")]),
        ] {
            assert!(matches!(validate_object_tags(&bad), Err(OssError::InvalidTag { .. })), "{bad:?}");
        }
        let eleven: Tags = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
        assert!(validate_object_tags(&eleven).is_err());
    }

    #[test]
    fn header_form() {
        let id = |s: &str| s.to_string();
        assert_eq!(parse_header("k1=v1&k2", id).unwrap(), tags(&[("k1", "v1"), ("k2", "")]));
        assert!(parse_header("aa=bb=cc", id).is_err());
        assert!(parse_header("=a&b=a", id).is_err());
    }

    #[test]
    fn bucket_limits() {
        assert!(validate_bucket_tags(&tags(&[("team", "a")])).is_ok());
        assert!(validate_bucket_tags(&tags(&[("Aliyunx", "a")])).is_err());
        assert!(validate_bucket_tags(&tags(&[(&"k".repeat(65), "a")])).is_err());
    }
}
