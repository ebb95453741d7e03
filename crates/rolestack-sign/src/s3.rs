//! What the AWS signature schemes of OSS's S3-compatible API share: the request view, detection
//! of an AWS-signed request and of its scheme, and where the STS token travels.
//!
//! Detection (docs/s3-compatible.md): an `Authorization` header starting `AWS4-HMAC-SHA256 `
//! (SigV4) or `AWS ` (SigV2); else query `X-Amz-Algorithm` / `X-Amz-Credential` (presigned
//! SigV4); else query `AWSAccessKeyId` (presigned SigV2). Anything else is not an AWS request
//! (the OSS schemes, or anonymous).

use crate::primitives::header;
use crate::{aws_v2, aws_v4, SignatureError};

/// The parts of an S3 request that the AWS signatures cover.
#[derive(Debug, Clone, Copy)]
pub struct S3Request<'a> {
    /// The HTTP method, e.g. `PUT`.
    pub method: &'a str,
    /// The URI path exactly as received (percent-encoded as the client sent it, no query).
    pub raw_path: &'a str,
    /// Query parameters decoded with [`crate::encoding::decode_form`].
    pub query: &'a [(String, String)],
    /// Every request header as received.
    pub headers: &'a [(String, String)],
}

impl<'a> S3Request<'a> {
    pub(crate) fn query_param(&self, name: &str) -> Option<&'a str> {
        crate::primitives::query_value(self.query, name)
    }
}

/// Whether the request carries an AWS signature (header or presigned), before parsing it.
pub fn is_aws_signed(headers: &[(String, String)], query: &[(String, String)]) -> bool {
    let has = |name: &str| query.iter().any(|(k, _)| k == name);
    match header(headers, "authorization") {
        Some(value) => value.starts_with(aws_v4::ALGORITHM) || value.starts_with(aws_v2::SCHEME_PREFIX),
        None => has(aws_v4::QUERY_ALGORITHM) || has(aws_v4::QUERY_CREDENTIAL) || has(aws_v2::QUERY_ACCESS_KEY_ID),
    }
}

/// The AWS signature a request carries, parsed, before the secret is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AwsAuth {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=...`.
    V4Header(aws_v4::HeaderAuth),
    /// Presigned SigV4 URL (`X-Amz-Algorithm`, ...).
    V4Query(aws_v4::QueryAuth),
    /// `Authorization: AWS <AK>:<signature>`.
    V2Header(aws_v2::HeaderAuth),
    /// Presigned SigV2 URL (`AWSAccessKeyId`, `Expires`, `Signature`).
    V2Query(aws_v2::QueryAuth),
}

/// The outcome of a verified AWS signature: what the body must still satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyCheck {
    /// Nothing (SigV2, or SigV4 `UNSIGNED-PAYLOAD`).
    None,
    /// SigV4 with a payload hash or a chunked body: see [`aws_v4::Verified`].
    V4(aws_v4::Verified),
}

impl AwsAuth {
    /// Finds and parses the request's AWS signature; `Ok(None)` when it has none.
    pub fn from_request(request: &S3Request<'_>) -> Result<Option<AwsAuth>, SignatureError> {
        if let Some(value) = header(request.headers, "authorization") {
            if value.starts_with(aws_v4::ALGORITHM) {
                return aws_v4::HeaderAuth::parse(value).map(|a| Some(AwsAuth::V4Header(a)));
            }
            if value.starts_with(aws_v2::SCHEME_PREFIX) {
                return aws_v2::HeaderAuth::parse(value).map(|a| Some(AwsAuth::V2Header(a)));
            }
            return Ok(None);
        }
        if request.query_param(aws_v4::QUERY_ALGORITHM).is_some() || request.query_param(aws_v4::QUERY_CREDENTIAL).is_some() {
            return aws_v4::QueryAuth::from_query(request.query).map(|a| Some(AwsAuth::V4Query(a)));
        }
        if request.query_param(aws_v2::QUERY_ACCESS_KEY_ID).is_some() {
            return aws_v2::QueryAuth::from_query(request.query).map(|a| Some(AwsAuth::V2Query(a)));
        }
        Ok(None)
    }

    /// The AccessKey id the request claims.
    pub fn access_key_id(&self) -> &str {
        match self {
            AwsAuth::V4Header(a) => &a.credential.access_key_id,
            AwsAuth::V4Query(a) => &a.credential.access_key_id,
            AwsAuth::V2Header(a) => &a.access_key_id,
            AwsAuth::V2Query(a) => &a.access_key_id,
        }
    }

    /// The signature the request carries, as sent (hex for V4, Base64 for V2).
    pub fn signature(&self) -> &str {
        match self {
            AwsAuth::V4Header(a) => &a.signature,
            AwsAuth::V4Query(a) => &a.signature,
            AwsAuth::V2Header(a) => &a.signature,
            AwsAuth::V2Query(a) => &a.signature,
        }
    }

    /// Verifies the signature with the key's `secret`. `bucket_in_host` is the bucket of a
    /// virtual-hosted request (SigV2 signs `/<bucket>` before the path); `now` (Unix seconds)
    /// decides whether a presigned URL has expired. Header-signed requests are not checked for
    /// clock skew here.
    pub fn verify(
        &self,
        secret: &str,
        request: &S3Request<'_>,
        bucket_in_host: Option<&str>,
        now: i64,
    ) -> Result<BodyCheck, SignatureError> {
        match self {
            AwsAuth::V4Header(a) => aws_v4::verify_header(secret, a, request).map(BodyCheck::V4),
            AwsAuth::V4Query(a) => aws_v4::verify_query(secret, a, request, now).map(BodyCheck::V4),
            AwsAuth::V2Header(a) => aws_v2::verify_header(secret, a, request, bucket_in_host).map(|()| BodyCheck::None),
            AwsAuth::V2Query(a) => aws_v2::verify_query(secret, a, request, bucket_in_host, now).map(|()| BodyCheck::None),
        }
    }
}

/// The STS security token of an AWS-signed request: header `x-amz-security-token`, or the query
/// parameter `X-Amz-Security-Token` (presigned SigV4) / `x-amz-security-token` (presigned SigV2).
pub fn security_token<'a>(request: &S3Request<'a>) -> Option<&'a str> {
    header(request.headers, "x-amz-security-token")
        .or_else(|| request.query_param(aws_v4::QUERY_SECURITY_TOKEN))
        .or_else(|| request.query_param("x-amz-security-token"))
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::test_support::owned;

    #[test]
    fn detection() {
        let none: Vec<(String, String)> = vec![];
        assert!(is_aws_signed(&owned(&[("Authorization", "AWS4-HMAC-SHA256 Credential=x")]), &none));
        assert!(is_aws_signed(&owned(&[("authorization", "AWS ak:sig")]), &none));
        assert!(!is_aws_signed(&owned(&[("authorization", "OSS ak:sig")]), &none));
        assert!(!is_aws_signed(&owned(&[("authorization", "OSS4-HMAC-SHA256 Credential=x")]), &none));
        assert!(!is_aws_signed(&owned(&[("authorization", "AWSX ak:sig")]), &none));
        assert!(is_aws_signed(&none, &owned(&[("X-Amz-Algorithm", "AWS4-HMAC-SHA256")])));
        assert!(is_aws_signed(&none, &owned(&[("AWSAccessKeyId", "ak")])));
        assert!(!is_aws_signed(&none, &owned(&[("OSSAccessKeyId", "ak")])));
        let query = owned(&[("X-Amz-Security-Token", "t")]);
        let request = S3Request { method: "GET", raw_path: "/", query: &query, headers: &none };
        assert_eq!(security_token(&request), Some("t"));
        assert_eq!(AwsAuth::from_request(&request), Ok(None));
    }
}
