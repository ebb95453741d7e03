//! OSS records as the store keeps them (JSON in the OSS tables): buckets, objects, multipart
//! uploads and their parts, plus the naming rules for buckets and keys and the ACL values.

use serde::{Deserialize, Serialize};

use super::blob::Segment;
use super::error::{OssError, OssResult, EC_KEY_EMPTY, EC_KEY_INVALID, EC_KEY_LEADING_SLASH};

/// The region of a bucket made through an address that names none (`127.0.0.1:8960`) and without
/// a `LocationConstraint`; also that of buckets stored before buckets had regions.
pub const DEFAULT_REGION: &str = "cn-hangzhou";

fn default_region() -> String {
    DEFAULT_REGION.to_string()
}

/// Canned ACLs. Objects default to the bucket's ACL (`default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Acl {
    #[default]
    #[serde(rename = "default")]
    Default,
    #[serde(rename = "private")]
    Private,
    #[serde(rename = "public-read")]
    PublicRead,
    #[serde(rename = "public-read-write")]
    PublicReadWrite,
}

impl Acl {
    pub fn as_str(self) -> &'static str {
        match self {
            Acl::Default => "default",
            Acl::Private => "private",
            Acl::PublicRead => "public-read",
            Acl::PublicReadWrite => "public-read-write",
        }
    }

    /// The ACL in force for an object with this ACL in a bucket with `bucket`'s: the object's own
    /// unless it is `default` (docs/oss.md, "Authorization": object ACL first).
    pub fn over(self, bucket: Acl) -> Acl {
        if self == Acl::Default {
            bucket
        } else {
            self
        }
    }

    /// Parses an `x-oss-acl` / `x-oss-object-acl` value; `default` only where `allow_default`.
    pub fn parse(s: &str, allow_default: bool) -> OssResult<Acl> {
        match s {
            "private" => Ok(Acl::Private),
            "public-read" => Ok(Acl::PublicRead),
            "public-read-write" => Ok(Acl::PublicReadWrite),
            "default" if allow_default => Ok(Acl::Default),
            other => Err(OssError::InvalidArgument(format!("no such acl type: {other:?}"))),
        }
    }
}

/// A bucket. Names are global (all accounts share one namespace).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub name: String,
    /// The owning account id.
    pub owner: String,
    /// Unix seconds.
    pub created: i64,
    pub acl: Acl,
    pub storage_class: String,
    /// The bucket policy document as written, if any.
    #[serde(default)]
    pub policy: Option<String>,
    /// The region the bucket lives in (`cn-hangzhou`); it is addressed through that region's
    /// endpoint only.
    #[serde(default = "default_region")]
    pub region: String,
    /// The CORS rules (PutBucketCors), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<super::cors::CorsConfiguration>,
    /// The hotlink protection (PutBucketReferer), if ever configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referer: Option<super::referer::RefererConfiguration>,
    /// Bucket tags (PutBucketTags), in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Lifecycle rules (PutBucketLifecycle).
    #[serde(default)]
    pub lifecycle: Option<Vec<super::lifecycle::Rule>>,
    /// The versioning state (PutBucketVersioning); `None`: never versioned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub versioning: Option<super::versioning::VersioningStatus>,
    /// Default server-side encryption (PutBucketEncryption, PutBucket headers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<super::bucket_config::Encryption>,
    /// Access logging (PutBucketLogging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<super::bucket_config::Logging>,
    /// Storage capacity in GB (PutBucketStorageCapacity); `None` is OSS's `-1`, no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_capacity_gb: Option<i64>,
    /// The resource group (PutBucketResourceGroup, `x-oss-resource-group-id`); `None`: the
    /// account's default group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
}

impl Bucket {
    /// `Location` as OSS reports it: `oss-<region>`.
    pub fn location(&self) -> String {
        format!("oss-{}", self.region)
    }

    /// The bucket's resource group: its own, or its owner's default group.
    pub fn resource_group(&self) -> String {
        self.resource_group_id.clone().unwrap_or_else(|| super::bucket_config::default_resource_group(&self.owner))
    }

    /// Puts the bucket in a resource group (the owner's default group is kept as none).
    pub fn set_resource_group(&mut self, id: Option<String>) {
        self.resource_group_id = id.filter(|g| *g != super::bucket_config::default_resource_group(&self.owner));
    }
}

/// How an object came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectType {
    Normal,
    Multipart,
    Appendable,
    /// A symbolic link to another object of the bucket (PutSymlink).
    Symlink,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Normal => "Normal",
            ObjectType::Multipart => "Multipart",
            ObjectType::Appendable => "Appendable",
            ObjectType::Symlink => "Symlink",
        }
    }
}

/// An object's metadata; its body is the concatenation of `segments`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Object {
    pub key: String,
    pub segments: Vec<Segment>,
    pub size: u64,
    /// Without quotes: upper-case hex MD5, or `<hex>-<parts>` for multipart objects.
    pub etag: String,
    pub crc64: u64,
    /// Unix seconds.
    pub last_modified: i64,
    pub object_type: ObjectType,
    pub acl: Acl,
    pub storage_class: String,
    pub content_type: String,
    /// `x-oss-meta-*` (names lower-cased, without the prefix), in the order received.
    pub user_meta: Vec<(String, String)>,
    /// Stored standard headers: Cache-Control, Content-Disposition, Content-Encoding,
    /// Content-Language, Expires.
    pub headers: Vec<(String, String)>,
    /// Object tags (`x-oss-tagging`, PutObjectTagging), in the order given.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// The restore of an archived object, if one was asked for.
    #[serde(default)]
    pub restore: Option<super::archive::Restore>,
    /// A symlink's target key (in the same bucket).
    #[serde(default)]
    pub symlink_target: Option<String>,
    /// The version id; `None`: the `null` version (written while the bucket was unversioned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// When the version was made ([`super::versioning::next_sequence`]); 0 for records stored
    /// before versions had one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version_sequence: u64,
    /// A delete marker (no body; a key whose newest version is one reads as missing).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_marker: bool,
    /// When (server clock, Unix seconds) the version stopped being the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noncurrent_since: Option<i64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Object {
    /// The version id as OSS shows it (`null` for the null version).
    pub fn version(&self) -> &str {
        self.version_id.as_deref().unwrap_or(super::versioning::NULL_VERSION)
    }

    /// The store's order of this version among its key's ([`super::versioning::ord`]).
    pub fn version_ord(&self) -> String {
        let sequence = match self.version_sequence {
            0 => super::versioning::legacy_sequence(self.last_modified),
            n => n,
        };
        super::versioning::ord(sequence)
    }
}

/// The settings an object is written with (PutObject, InitiateMultipartUpload, CopyObject
/// with `REPLACE`, the first AppendObject).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectSettings {
    pub content_type: Option<String>,
    pub user_meta: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub acl: Acl,
    /// `x-oss-tagging`.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// `x-oss-storage-class`; `None`: the bucket's.
    #[serde(default)]
    pub storage_class: Option<String>,
}

/// A multipart upload in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Upload {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    /// Unix seconds.
    pub initiated: i64,
    pub settings: ObjectSettings,
}

/// One uploaded part.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Part {
    pub number: u32,
    pub segment: Segment,
    /// Upper-case hex MD5, without quotes.
    pub etag: String,
    pub crc64: u64,
    pub last_modified: i64,
}

/// Bucket names: 3–63 characters of lower-case letters, digits and `-`, starting and ending
/// with a letter or digit.
pub fn validate_bucket_name(name: &str) -> OssResult<()> {
    let ok = (3..=63).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(OssError::InvalidBucketName(format!(
            "{name:?}: a bucket name has 3 to 63 characters of lower-case letters, digits and '-', and starts and ends with a letter or digit"
        )))
    }
}

/// Object keys: 1–1023 bytes of UTF-8, not starting with `/` or `\`.
pub fn validate_key(key: &str) -> OssResult<()> {
    if key.is_empty() || key.len() > 1023 {
        let ec = if key.is_empty() { EC_KEY_EMPTY } else { EC_KEY_INVALID };
        return Err(OssError::InvalidObjectName { message: format!("an object key has 1 to 1023 bytes; this one has {}", key.len()), ec });
    }
    if key.starts_with('/') || key.starts_with('\\') {
        return Err(OssError::InvalidObjectName {
            message: format!("{key:?}: an object key may not start with '/' or '\\'"),
            ec: EC_KEY_LEADING_SLASH,
        });
    }
    Ok(())
}

/// Most bytes of user metadata an object may carry: the names (`x-oss-meta-` included) and
/// values of all its `x-oss-meta-*` headers together stay below 8 KB (see docs/oss.md).
pub const MAX_USER_META_BYTES: usize = 8 * 1024;

/// User metadata of a write (`name` without the `x-oss-meta-` prefix), within
/// [`MAX_USER_META_BYTES`]; beyond it OSS answers `InvalidArgument` with EC `0011-00000002`.
pub fn validate_user_meta(user_meta: &[(String, String)]) -> OssResult<()> {
    let total: usize = user_meta.iter().map(|(name, value)| "x-oss-meta-".len() + name.len() + value.len()).sum();
    if total >= MAX_USER_META_BYTES {
        // UNVERIFIED: OSS documents the limit and its EC, not the code; InvalidArgument is used.
        return Err(OssError::InvalidArgumentEc {
            message: format!("Your metadata headers exceed the maximum allowed metadata size: the x-oss-meta-* headers have {total} bytes, they must have fewer than {MAX_USER_META_BYTES}."),
            ec: "0011-00000002",
        });
    }
    Ok(())
}

/// OSS's user metadata names (after `x-oss-meta-`): letters, digits and `-` only, else
/// `InvalidArgument` with EC `0011-00000004` (see docs/oss.md, "objects"). The S3-compatible
/// dialect does not call this: S3 clients send `x-amz-meta-` names with `_`.
pub fn validate_user_meta_names(user_meta: &[(String, String)]) -> OssResult<()> {
    match user_meta.iter().find(|(name, _)| name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
        // UNVERIFIED: OSS documents the rule and its EC, not the code; InvalidArgument is used.
        Some((name, _)) => Err(OssError::InvalidArgumentEc {
            message: format!("The user metadata name x-oss-meta-{name} is not valid: a name has only letters, digits and '-'."),
            ec: "0011-00000004",
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_meta_names() {
        let meta = |n: &str| vec![(n.to_string(), "v".to_string())];
        assert!(validate_user_meta_names(&meta("last-modified-2")).is_ok());
        for bad in ["my_key", "my key", "a.b", "", "ключ"] {
            let err = validate_user_meta_names(&meta(bad)).unwrap_err();
            assert_eq!((err.code(), err.http_status(), err.ec()), ("InvalidArgument", 400, "0011-00000004"), "{bad}");
        }
    }

    #[test]
    fn user_meta_size() {
        let meta = |n: usize| vec![("a".to_string(), "v".repeat(n))];
        // "x-oss-meta-a" is 12 bytes: 12 + 8179 = 8191 is the largest accepted total.
        assert!(validate_user_meta(&meta(8179)).is_ok());
        let err = validate_user_meta(&meta(8180)).unwrap_err();
        assert_eq!((err.code(), err.http_status(), err.ec()), ("InvalidArgument", 400, "0011-00000002"));
        assert!(validate_user_meta(&[]).is_ok());
    }

    #[test]
    fn names() {
        assert!(validate_bucket_name("my-bucket-01").is_ok());
        for bad in ["ab", "-ab", "ab-", "Abc", "a_b", &"a".repeat(64)] {
            assert!(validate_bucket_name(bad).is_err(), "{bad}");
        }
        assert!(validate_key("a/b/中文 key").is_ok());
        assert!(validate_key("/a").is_err());
        assert!(validate_key("").is_err());
        assert!(validate_key(&"k".repeat(1024)).is_err());
    }

    #[test]
    fn acl_round_trip() {
        for a in [Acl::Private, Acl::PublicRead, Acl::PublicReadWrite] {
            assert_eq!(Acl::parse(a.as_str(), false).unwrap(), a);
        }
        assert!(Acl::parse("default", false).is_err());
        assert_eq!(Acl::parse("default", true).unwrap(), Acl::Default);
    }
}
