//! The OSS operations and the one table that describes them: for each, its name (as OSS's API
//! reference and ActionTrail spell it), whether it only reads, the RAM action it is authorized
//! as — which is also the action bucket-policy statements name, OSS uses one vocabulary for
//! both — and the resource that action is checked on (the account's service ARN
//! `acs:oss:*:<account>:*`, the bucket `acs:oss:*:<owner>:<bucket>`, or the object
//! `acs:oss:*:<owner>:<bucket>/<key>`).
//!
//! The HTTP front-end resolves a request to an [`Operation`] once (method + sub-resources); the
//! service authorizes a [`super::service::Call`] with the action this table gives. The only
//! second actions are documented where they happen: a copy's source is read as `oss:GetObject`,
//! and `x-oss-complete-all` also needs `oss:ListParts`.

use super::access::OssAction;

/// What an operation's RAM action is checked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `acs:oss:*:<account>:*` (ListBuckets).
    Service,
    /// `acs:oss:*:<owner>:<bucket>`.
    Bucket,
    /// `acs:oss:*:<owner>:<bucket>/<key>`.
    Object,
}

macro_rules! operations {
    ($($op:ident: $rw:ident, $action:ident on $scope:ident;)*) => {
        /// The OSS operations rolestack serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($op),* }

        impl Operation {
            /// Every operation, in table order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];

            /// The operation's name, as OSS's API reference and ActionTrail spell it.
            pub fn name(self) -> &'static str {
                match self { $(Operation::$op => stringify!($op)),* }
            }
            /// Whether it only reads (ActionTrail's `eventRW`, read-only transactions).
            pub fn is_read(self) -> bool {
                match self { $(Operation::$op => operations!(@read $rw)),* }
            }
            /// The RAM action (and bucket-policy action) it is authorized as.
            pub fn action(self) -> OssAction {
                match self { $(Operation::$op => OssAction::$action),* }
            }
            /// What the action is checked on.
            pub fn scope(self) -> Scope {
                match self { $(Operation::$op => Scope::$scope),* }
            }
        }
    };
    (@read read) => { true };
    (@read write) => { false };
}

operations! {
    // service
    ListBuckets: read, ListBuckets on Service;
    // buckets
    PutBucket: write, PutBucket on Bucket;
    DeleteBucket: write, DeleteBucket on Bucket;
    HeadBucket: read, GetBucketInfo on Bucket;
    GetBucketInfo: read, GetBucketInfo on Bucket;
    GetBucketLocation: read, GetBucketLocation on Bucket;
    // bucket configuration
    GetBucketAcl: read, GetBucketAcl on Bucket;
    PutBucketAcl: write, PutBucketAcl on Bucket;
    GetBucketPolicy: read, GetBucketPolicy on Bucket;
    PutBucketPolicy: write, PutBucketPolicy on Bucket;
    DeleteBucketPolicy: write, DeleteBucketPolicy on Bucket;
    PutBucketCors: write, PutBucketCors on Bucket;
    GetBucketCors: read, GetBucketCors on Bucket;
    DeleteBucketCors: write, DeleteBucketCors on Bucket;
    PutBucketReferer: write, PutBucketReferer on Bucket;
    GetBucketReferer: read, GetBucketReferer on Bucket;
    PutBucketTags: write, PutBucketTagging on Bucket;
    GetBucketTags: read, GetBucketTagging on Bucket;
    DeleteBucketTags: write, DeleteBucketTagging on Bucket;
    PutBucketLifecycle: write, PutBucketLifecycle on Bucket;
    GetBucketLifecycle: read, GetBucketLifecycle on Bucket;
    DeleteBucketLifecycle: write, DeleteBucketLifecycle on Bucket;
    // listing
    ListObjects: read, ListObjects on Bucket;
    ListObjectsV2: read, ListObjects on Bucket;
    ListMultipartUploads: read, ListMultipartUploads on Bucket;
    ListLiveChannel: read, ListLiveChannel on Bucket;
    ListParts: read, ListParts on Object;
    // objects
    PutObject: write, PutObject on Object;
    CopyObject: write, PutObject on Object;
    AppendObject: write, PutObject on Object;
    GetObject: read, GetObject on Object;
    HeadObject: read, GetObject on Object;
    GetObjectMeta: read, GetObject on Object;
    DeleteObject: write, DeleteObject on Object;
    DeleteMultipleObjects: write, DeleteObject on Object;
    GetObjectAcl: read, GetObjectAcl on Object;
    PutObjectAcl: write, PutObjectAcl on Object;
    PutObjectTagging: write, PutObjectTagging on Object;
    GetObjectTagging: read, GetObjectTagging on Object;
    DeleteObjectTagging: write, DeleteObjectTagging on Object;
    RestoreObject: write, RestoreObject on Object;
    PutSymlink: write, PutObject on Object;
    GetSymlink: read, GetObject on Object;
    // LiveChannels (configuration only: no RTMP ingest runs), on `<bucket>/<channel>`
    PutLiveChannel: write, PutLiveChannel on Object;
    PutLiveChannelStatus: write, PutLiveChannelStatus on Object;
    GetLiveChannelInfo: read, GetLiveChannel on Object;
    GetLiveChannelStat: read, GetLiveChannelStat on Object;
    GetLiveChannelHistory: read, GetLiveChannelHistory on Object;
    DeleteLiveChannel: write, DeleteLiveChannel on Object;
    // `x-oss-process` (GET) and ProcessObject (POST): authorized, then refused as unsupported.
    GetObjectWithProcess: read, GetObject on Object;
    ProcessObject: write, PostProcessTask on Object;
    // multipart
    InitiateMultipartUpload: write, PutObject on Object;
    UploadPart: write, PutObject on Object;
    UploadPartCopy: write, PutObject on Object;
    CompleteMultipartUpload: write, PutObject on Object;
    AbortMultipartUpload: write, AbortMultipartUpload on Object;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_reads_read() {
        let mut names: Vec<_> = Operation::ALL.iter().map(|o| o.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Operation::ALL.len());
        for op in Operation::ALL {
            // A read-only operation is never authorized as a write action.
            if op.is_read() {
                assert!(!matches!(op.action(), OssAction::PutObject | OssAction::DeleteObject | OssAction::PutBucket), "{op:?}");
            }
        }
        assert_eq!(Operation::ListBuckets.scope(), Scope::Service);
        assert_eq!(Operation::CopyObject.action().as_str(), "oss:PutObject");
    }
}
