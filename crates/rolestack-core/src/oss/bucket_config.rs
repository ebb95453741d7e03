//! Bucket settings that are stored with the bucket and checked as OSS checks them: default
//! server-side encryption (`?encryption`, and the `x-oss-server-side-encryption*` headers),
//! access logging (`?logging`), the storage capacity (`?qos`) and the resource group
//! (`?resourceGroup`, `x-oss-resource-group-id`). Pure; docs/oss.md ("Bucket settings") says
//! what each one does in rolestack — notably that no body is encrypted at rest and no KMS is
//! ever contacted.

use serde::{Deserialize, Serialize};

use super::error::{OssError, OssResult};

/// The key id a KMS-encrypted object without `KMSMasterKeyID` reports (OSS names the
/// account's default customer master key; rolestack has no KMS).
pub const DEFAULT_KMS_KEY: &str = "rolestack-kms-default-key";

/// The algorithms OSS encrypts with.
pub const ALGORITHMS: [&str; 3] = ["AES256", "KMS", "SM4"];

/// Server-side encryption: a bucket's default (PutBucketEncryption, PutBucket headers) or what
/// an object was written with (`x-oss-server-side-encryption*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// `AES256`, `KMS` or `SM4`.
    pub algorithm: String,
    /// `KMSMasterKeyID` (KMS only; none: the account's default customer master key).
    #[serde(default)]
    pub kms_master_key_id: Option<String>,
    /// `KMSDataEncryption` (KMS only): `SM4` to encrypt data keys with SM4.
    #[serde(default)]
    pub kms_data_encryption: Option<String>,
}

impl Encryption {
    /// Checks a setting as OSS does: an unknown algorithm is `InvalidEncryptionAlgorithmError`;
    /// a key id or data encryption without `KMS`, or a data encryption other than `SM4`, is
    /// `InvalidArgument`. An empty key id is no key id.
    pub fn new(algorithm: &str, key_id: Option<&str>, data_encryption: Option<&str>) -> OssResult<Encryption> {
        let algorithm = ALGORITHMS
            .iter()
            .find(|a| **a == algorithm)
            .ok_or_else(|| OssError::InvalidEncryptionAlgorithm(algorithm.to_string()))?
            .to_string();
        let key_id = key_id.filter(|k| !k.is_empty()).map(str::to_string);
        let data_encryption = data_encryption.filter(|d| !d.is_empty()).map(str::to_string);
        if algorithm != "KMS" && key_id.is_some() {
            return Err(OssError::InvalidArgument(format!("KMSMasterKeyID is not applicable if the SSEAlgorithm is {algorithm}.")));
        }
        match data_encryption.as_deref() {
            None => {}
            Some("SM4") if algorithm == "KMS" => {}
            Some(other) => {
                return Err(OssError::InvalidArgument(format!(
                    "KMSDataEncryption {other:?} is not valid: it is SM4, with the SSEAlgorithm KMS."
                )))
            }
        }
        Ok(Encryption { algorithm, kms_master_key_id: key_id, kms_data_encryption: data_encryption })
    }
}

/// Access logging: the bucket and key prefix access-log objects are meant for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logging {
    pub target_bucket: String,
    pub target_prefix: String,
}

/// The longest `TargetPrefix`.
pub const MAX_LOG_PREFIX: usize = 32;

impl Logging {
    /// Checks the prefix (the target bucket is checked against the store by the service).
    pub fn new(target_bucket: &str, target_prefix: &str) -> OssResult<Logging> {
        if target_prefix.chars().count() > MAX_LOG_PREFIX {
            return Err(OssError::InvalidArgumentValue {
                message: format!("The TargetPrefix has more than {MAX_LOG_PREFIX} characters."),
                name: "TargetPrefix",
                value: target_prefix.to_string(),
            });
        }
        Ok(Logging { target_bucket: target_bucket.to_string(), target_prefix: target_prefix.to_string() })
    }
}

/// The storage capacity in GB: `-1` is unlimited (OSS's default), `0` and up a limit.
pub fn storage_capacity(gb: i64) -> OssResult<i64> {
    if gb < -1 {
        return Err(OssError::InvalidArgumentValue {
            message: "StorageCapacity is -1 (no limit) or a number of GB from 0.".into(),
            name: "StorageCapacity",
            value: gb.to_string(),
        });
    }
    Ok(gb)
}

/// A resource group id: `rg-` and 1 to 61 lower-case letters and digits.
pub fn resource_group_id(id: &str) -> OssResult<String> {
    let ok = id
        .strip_prefix("rg-")
        .is_some_and(|rest| (1..=61).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    if !ok {
        return Err(OssError::InvalidArgumentValue {
            message: format!("{id:?} is not a resource group id (rg- and lower-case letters and digits)."),
            name: "ResourceGroupId",
            value: id.to_string(),
        });
    }
    Ok(id.to_string())
}

/// The account's default resource group, where a bucket is unless it was put in another one:
/// `rg-acfm` and 15 characters derived from the account id (stable, unique per account, as
/// Resource Management's default group ids are).
pub fn default_resource_group(account: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, format!("rolestack default resource group {account}").as_bytes());
    let tail: String =
        digest.as_ref().iter().map(|b| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[usize::from(b % 36)])).take(15).collect();
    format!("rg-acfm{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encryption_rules() {
        assert_eq!(Encryption::new("KMS", Some(""), None).unwrap().kms_master_key_id, None);
        assert_eq!(Encryption::new("KMS", Some("k"), Some("SM4")).unwrap().kms_data_encryption.as_deref(), Some("SM4"));
        assert!(matches!(Encryption::new("random", None, None), Err(OssError::InvalidEncryptionAlgorithm(_))));
        assert!(matches!(Encryption::new("AES256", Some("k"), None), Err(OssError::InvalidArgument(_))));
        assert!(matches!(Encryption::new("SM4", None, Some("SM4")), Err(OssError::InvalidArgument(_))));
        assert!(matches!(Encryption::new("KMS", None, Some("AES")), Err(OssError::InvalidArgument(_))));
        assert!(Encryption::new("kms", None, None).is_err(), "algorithms are case-sensitive");
    }

    #[test]
    fn capacity_groups_logging() {
        assert_eq!(storage_capacity(-1).unwrap(), -1);
        assert_eq!(storage_capacity(0).unwrap(), 0);
        assert!(storage_capacity(-2).is_err());
        let g = default_resource_group("123");
        assert_eq!(g, default_resource_group("123"));
        assert_ne!(g, default_resource_group("124"));
        assert_eq!(resource_group_id(&g).unwrap(), g);
        for bad in ["rg-", "rg-ABC", "abc", "rg-a_b"] {
            assert!(resource_group_id(bad).is_err(), "{bad}");
        }
        assert!(Logging::new("b", &"p".repeat(33)).is_err());
        assert!(Logging::new("b", "日志+/").is_ok());
    }
}
