//! SSE-KMS as authorization sees it. OSS encrypts and decrypts a KMS object with the requester's
//! permissions: a write whose object is encrypted with KMS (its own
//! `x-oss-server-side-encryption: KMS`, or the bucket's default encryption) needs
//! `kms:GenerateDataKey` and `kms:Decrypt` on the key, and reading a KMS object's body needs
//! `kms:Decrypt` (docs/oss.md, "Authorization"). rolestack runs no KMS and encrypts nothing
//! (docs/oss.md, "Bucket settings"), but the actions are authorized all the same, on the key's
//! ARN, so that whoever OSS would refuse the key is refused here too. Pure: the decision is
//! [`super::access::authorize_kms`].

use super::bucket_config::{Encryption, DEFAULT_KMS_KEY};
use super::service::SSE_HEADER;

/// `x-oss-server-side-encryption-key-id`.
pub const KEY_ID_HEADER: &str = "x-oss-server-side-encryption-key-id";

/// The alias OSS's own KMS key goes by in an account (UNVERIFIED: docs/oss.md, "Authorization").
pub const OSS_MANAGED_KEY_ALIAS: &str = "alias/acs/oss";

/// What is done with a KMS key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUse {
    /// A write encrypts a new object (or a part of one): `kms:GenerateDataKey` and `kms:Decrypt`,
    /// as OSS's write operations list them.
    Encrypt,
    /// A read decrypts an object's body (GetObject, a copy's source): `kms:Decrypt`.
    Decrypt,
}

impl KeyUse {
    /// The RAM actions the use needs, each of them.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            KeyUse::Encrypt => &["kms:GenerateDataKey", "kms:Decrypt"],
            KeyUse::Decrypt => &["kms:Decrypt"],
        }
    }
}

/// A KMS key: a customer master key named by id, or OSS's managed key of the account (no id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    id: Option<String>,
}

impl KmsKey {
    /// The key named `id`; none, an empty one, or the id rolestack reports for OSS's managed
    /// key ([`DEFAULT_KMS_KEY`]) is the managed key.
    fn named(id: Option<&str>) -> KmsKey {
        KmsKey { id: id.filter(|id| !id.is_empty() && *id != DEFAULT_KMS_KEY).map(str::to_string) }
    }

    /// `acs:kms:<region>:<account>:key/<id>`, or the managed key's alias
    /// `acs:kms:<region>:<account>:alias/acs/oss`: the key of `account` (the bucket owner's)
    /// in `region` (the bucket's).
    pub fn arn(&self, region: &str, account: &str) -> String {
        match &self.id {
            Some(id) => format!("acs:kms:{region}:{account}:key/{id}"),
            None => format!("acs:kms:{region}:{account}:{OSS_MANAGED_KEY_ALIAS}"),
        }
    }
}

/// The server-side encryption an object names: what a write asks for
/// (`x-oss-server-side-encryption` and `-key-id`, as given) or what an object or upload recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sse<'a> {
    /// The algorithm (`AES256`, `KMS`, `SM4`); none: the bucket's default applies.
    pub algorithm: Option<&'a str>,
    /// The KMS key id.
    pub key_id: Option<&'a str>,
}

impl<'a> Sse<'a> {
    /// What an object (or a multipart upload's settings) recorded (see
    /// [`super::service::encryption_headers`]).
    pub fn recorded(headers: &'a [(String, String)]) -> Sse<'a> {
        let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        Sse { algorithm: header(SSE_HEADER), key_id: header(KEY_ID_HEADER) }
    }

    /// The KMS key the object is encrypted with: its own when it names an algorithm, else that
    /// of `default` (the bucket's default encryption, which a new object without its own takes);
    /// `None` when that is not KMS.
    pub fn kms_key(self, default: Option<&Encryption>) -> Option<KmsKey> {
        match self.algorithm {
            Some("KMS") => Some(KmsKey::named(self.key_id)),
            Some(_) => None,
            None => default.filter(|e| e.algorithm == "KMS").map(|e| KmsKey::named(e.kms_master_key_id.as_deref())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kms(key: Option<&str>) -> Encryption {
        Encryption::new("KMS", key, None).unwrap()
    }

    #[test]
    fn the_own_setting_wins_over_the_bucket_default() {
        let own = |algorithm, key_id| Sse { algorithm: Some(algorithm), key_id };
        assert_eq!(own("KMS", Some("k1")).kms_key(None), Some(KmsKey::named(Some("k1"))));
        assert_eq!(own("AES256", None).kms_key(Some(&kms(Some("k2")))), None, "an own non-KMS setting is not the default's");
        assert_eq!(own("KMS", None).kms_key(Some(&kms(Some("k2")))), Some(KmsKey::named(None)));
        assert_eq!(Sse::default().kms_key(Some(&kms(Some("k2")))), Some(KmsKey::named(Some("k2"))));
        assert_eq!(Sse::default().kms_key(Some(&Encryption::new("SM4", None, None).unwrap())), None);
        assert_eq!(Sse::default().kms_key(None), None);
    }

    #[test]
    fn recorded_keys_and_their_arns() {
        let headers = |e: &Encryption| crate::oss::service::encryption_headers(e);
        let named = headers(&kms(Some("key-1")));
        let key = Sse::recorded(&named).kms_key(None).unwrap();
        assert_eq!(key.arn("cn-hangzhou", "123"), "acs:kms:cn-hangzhou:123:key/key-1");
        // An object written without a key id records rolestack's name for the managed key.
        let managed = headers(&kms(None));
        let key = Sse::recorded(&managed).kms_key(None).unwrap();
        assert_eq!(key.arn("cn-beijing", "123"), "acs:kms:cn-beijing:123:alias/acs/oss");
        assert_eq!(Sse::recorded(&headers(&Encryption::new("AES256", None, None).unwrap())).kms_key(None), None);
        assert_eq!(Sse::recorded(&[]).kms_key(None), None, "nothing recorded: not encrypted");
        assert_eq!(KmsKey::named(Some("")), KmsKey::named(None));
    }
}
