//! Signatures of OSS PostObject forms (browser uploads). The string to sign is the `policy`
//! form field exactly as sent (base64 of the policy document):
//!
//! - V1: `Signature = base64(HMAC-SHA1(secret, policy))`, next to `OSSAccessKeyId`.
//! - V4: `x-oss-signature = hex(HMAC-SHA256(signing key, policy))`, the signing key derived
//!   from the secret and the `x-oss-credential` scope as for V4 headers.
//!
//! - S3-compatible SigV2 forms (`AWSAccessKeyId`) sign as V1; SigV4 forms (`x-amz-credential`,
//!   `x-amz-signature`) as V4 with AWS's signing key (`AWS4` + secret, `aws4_request`).
//!
//! See docs/oss.md, "PostObject".

use crate::oss_v4::{self, Credential};
use crate::primitives::same_signature;
use crate::{aws_v4, ScopedCredential};
use crate::{oss_v1, SignatureError};

/// `presented` against `computed`; a mismatch names the policy as the string signed.
fn check(presented: &str, computed: &str, policy: &str) -> Result<(), SignatureError> {
    if same_signature(presented, computed) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch { string_to_sign: policy.to_string(), canonical_request: None })
    }
}

/// Verifies a V1 form signature (also the S3 dialect's SigV2 forms).
pub fn verify_v1(secret: &str, policy: &str, signature: &str) -> Result<(), SignatureError> {
    check(signature, &sign_v1(secret, policy), policy)
}

/// Signs a V1 form (what `calculatePostSignature` computes).
pub fn sign_v1(secret: &str, policy: &str) -> String {
    oss_v1::signature_of(secret, policy)
}

/// Verifies a V4 form signature (lower- or upper-case hex).
pub fn verify_v4(secret: &str, credential: &Credential, policy: &str, signature: &str) -> Result<(), SignatureError> {
    check(&signature.to_ascii_lowercase(), &sign_v4(secret, credential, policy), policy)
}

/// Signs a V4 form (what `signPostObjectPolicyV4` computes).
pub fn sign_v4(secret: &str, credential: &Credential, policy: &str) -> String {
    oss_v4::signature_of(secret, credential, policy)
}

/// Verifies an S3-compatible SigV4 form signature (`x-amz-signature`).
pub fn verify_aws_v4(secret: &str, credential: &ScopedCredential, policy: &str, signature: &str) -> Result<(), SignatureError> {
    check(&signature.to_ascii_lowercase(), &sign_aws_v4(secret, credential, policy), policy)
}

/// Signs an S3-compatible SigV4 form (what boto3's `generate_presigned_post` computes).
pub fn sign_aws_v4(secret: &str, credential: &ScopedCredential, policy: &str) -> String {
    aws_v4::signature_of(secret, credential, policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The V1 example of OSS's PostObject documentation (its policy, signed with a test secret).
    const POLICY: &str = "eyJleHBpcmF0aW9uIjoiMjAxMy0xMi0wMVQxMjowMDowMFoiLCJjb25kaXRpb25zIjpbWyJjb250ZW50LWxlbmd0aC1yYW5nZSIsIDAsIDEwNDg1NzYwXSx7ImJ1Y2tldCI6ImFoYWhhIn0sIHsiQSI6ICJhIn0seyJrZXkiOiAiQUJDIn1dfQ==";

    #[test]
    fn v1_round_trip_and_mismatch() {
        let sig = sign_v1("secret", POLICY);
        assert!(verify_v1("secret", POLICY, &sig).is_ok());
        assert!(matches!(verify_v1("other", POLICY, &sig), Err(SignatureError::Mismatch { .. })));
        assert!(verify_v1("secret", &POLICY.replace('J', "K"), &sig).is_err());
    }

    #[test]
    fn v4_round_trip_scope_and_case() {
        let cred = oss_v4::parse_credential("AK/20231203/cn-hangzhou/oss/aliyun_v4_request").unwrap();
        let sig = sign_v4("secret", &cred, POLICY);
        assert_eq!(sig.len(), 64);
        assert!(verify_v4("secret", &cred, POLICY, &sig.to_ascii_uppercase()).is_ok());
        let other_day = oss_v4::parse_credential("AK/20231204/cn-hangzhou/oss/aliyun_v4_request").unwrap();
        assert!(verify_v4("secret", &other_day, POLICY, &sig).is_err());
        assert!(verify_v4("other", &cred, POLICY, &sig).is_err());
    }

    #[test]
    fn aws_v4_uses_the_aws_signing_key() {
        let cred = aws_v4::parse_credential("AK/20231203/us-east-1/s3/aws4_request").unwrap();
        let sig = sign_aws_v4("secret", &cred, POLICY);
        assert!(verify_aws_v4("secret", &cred, POLICY, &sig).is_ok());
        assert!(verify_aws_v4("other", &cred, POLICY, &sig).is_err());
        let oss = oss_v4::parse_credential("AK/20231203/us-east-1/oss/aliyun_v4_request").unwrap();
        assert_ne!(sig, sign_v4("secret", &oss, POLICY));
        assert!(oss_v4::parse_credential("AK/20231203/us-east-1/s3/aliyun_v4_request").is_err());
    }
}
