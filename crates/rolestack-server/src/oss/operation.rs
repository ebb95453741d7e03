//! OSS operations, resolved once per request from the method, whether a bucket and a key are
//! addressed, the sub-resources of the query and a few headers. The router dispatches on the
//! [`Operation`], and ActionTrail names events after it.

use axum::http::Method;
use rolestack_core::oss::OssError;

use super::OssHttpRequest;

/// Sub-resources that select an operation rolestack does not implement.
const UNSUPPORTED: &[&str] = &[
    "cors",
    "lifecycle",
    "logging",
    "website",
    "referer",
    "tagging",
    "versioning",
    "versions",
    "encryption",
    "replication",
    "worm",
    "inventory",
    "symlink",
    "restore",
    "cname",
    "requestPayment",
    "transferAcceleration",
    "qos",
    "stat",
    "style",
    "process",
    "x-oss-process",
    "resourceGroup",
    "accessPoint",
    "publicAccessBlock",
    "metaQuery",
    "objectInfo",
    "bucketArchiveDirectRead",
];

macro_rules! operations {
    ($($op:ident => $read:literal),* $(,)?) => {
        /// The OSS operations rolestack serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($op),* }

        impl Operation {
            /// The operation's name, as OSS's API reference and ActionTrail spell it.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }
            /// Whether it only reads (ActionTrail's `eventRW`).
            pub fn is_read(self) -> bool {
                match self { $(Operation::$op => $read),* }
            }
        }
    };
}

operations! {
    ListBuckets => true,
    PutBucket => false,
    PutBucketAcl => false,
    PutBucketPolicy => false,
    GetBucketAcl => true,
    GetBucketInfo => true,
    GetBucketLocation => true,
    GetBucketPolicy => true,
    ListMultipartUploads => true,
    ListLiveChannel => true,
    ListObjects => true,
    ListObjectsV2 => true,
    HeadBucket => true,
    DeleteBucketPolicy => false,
    DeleteBucket => false,
    DeleteMultipleObjects => false,
    PutObjectAcl => false,
    UploadPart => false,
    UploadPartCopy => false,
    CopyObject => false,
    PutObject => false,
    AppendObject => false,
    InitiateMultipartUpload => false,
    CompleteMultipartUpload => false,
    GetObjectAcl => true,
    ListParts => true,
    GetObjectMeta => true,
    HeadObject => true,
    GetObject => true,
    AbortMultipartUpload => false,
    DeleteObject => false,
}

impl Operation {
    /// The operation a request asks for; `NotImplemented` (501) for what rolestack does not serve.
    pub fn resolve(req: &OssHttpRequest) -> Result<Operation, OssError> {
        use Operation::*;
        if let Some(name) = UNSUPPORTED.iter().find(|s| req.has(s)) {
            return Err(OssError::NotImplemented(format!("rolestack does not implement the {name:?} sub-resource.")));
        }
        let m = &req.method;
        if req.bucket.is_none() {
            return match *m {
                Method::GET => Ok(ListBuckets),
                _ => Err(OssError::NotImplemented(format!("{m} / is not an OSS operation."))),
            };
        }
        if req.key.is_empty() {
            return Ok(match *m {
                Method::PUT if req.has("acl") => PutBucketAcl,
                Method::PUT if req.has("policy") => PutBucketPolicy,
                Method::PUT => PutBucket,
                Method::GET if req.has("acl") => GetBucketAcl,
                Method::GET if req.has("bucketInfo") => GetBucketInfo,
                Method::GET if req.has("location") => GetBucketLocation,
                Method::GET if req.has("policy") => GetBucketPolicy,
                Method::GET if req.has("uploads") => ListMultipartUploads,
                Method::GET if req.has("live") => ListLiveChannel,
                Method::GET if req.param("list-type") == Some("2") => ListObjectsV2,
                Method::GET => ListObjects,
                Method::HEAD => HeadBucket,
                Method::DELETE if req.has("policy") => DeleteBucketPolicy,
                Method::DELETE => DeleteBucket,
                Method::POST if req.has("delete") => DeleteMultipleObjects,
                _ => return Err(OssError::NotImplemented(format!("{m} on a bucket with these parameters is not implemented."))),
            });
        }
        let copy = req.header("x-oss-copy-source").is_some();
        Ok(match *m {
            Method::PUT if req.has("acl") => PutObjectAcl,
            Method::PUT if req.has("partNumber") && req.has("uploadId") && copy => UploadPartCopy,
            Method::PUT if req.has("partNumber") && req.has("uploadId") => UploadPart,
            Method::PUT if copy => CopyObject,
            Method::PUT => PutObject,
            Method::POST if req.has("append") => AppendObject,
            Method::POST if req.has("uploads") => InitiateMultipartUpload,
            Method::POST if req.has("uploadId") => CompleteMultipartUpload,
            Method::GET if req.has("acl") => GetObjectAcl,
            Method::GET if req.has("uploadId") => ListParts,
            Method::GET | Method::HEAD if req.has("objectMeta") => GetObjectMeta,
            Method::HEAD => HeadObject,
            Method::GET => GetObject,
            Method::DELETE if req.has("uploadId") => AbortMultipartUpload,
            Method::DELETE => DeleteObject,
            _ => return Err(OssError::NotImplemented(format!("{m} on an object with these parameters is not implemented."))),
        })
    }
}
