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
//! `x-oss-complete-all` also needs `oss:ListParts`, and encrypting or decrypting with a KMS key
//! needs the `kms:` actions on it ([`super::kms`]).

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
    ($($op:ident: $rw:ident, $action:ident $(/ $versioned:ident)? on $scope:ident;)*) => {
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
            /// The action of a request that names a version (`versionId`): the version action
            /// where the operation has one, else its action.
            pub fn version_action(self) -> OssAction {
                match self { $(Operation::$op => operations!(@version $action $($versioned)?)),* }
            }
            /// The action for a request with or without `versionId`.
            pub fn action_for(self, names_version: bool) -> OssAction {
                if names_version { self.version_action() } else { self.action() }
            }
            /// What the action is checked on.
            pub fn scope(self) -> Scope {
                match self { $(Operation::$op => Scope::$scope),* }
            }
        }
    };
    (@version $action:ident) => { OssAction::$action };
    (@version $action:ident $versioned:ident) => { OssAction::$versioned };
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
    PutBucketVersioning: write, PutBucketVersioning on Bucket;
    GetBucketVersioning: read, GetBucketVersioning on Bucket;
    PutBucketLogging: write, PutBucketLogging on Bucket;
    GetBucketLogging: read, GetBucketLogging on Bucket;
    DeleteBucketLogging: write, DeleteBucketLogging on Bucket;
    PutBucketEncryption: write, PutBucketEncryption on Bucket;
    GetBucketEncryption: read, GetBucketEncryption on Bucket;
    DeleteBucketEncryption: write, DeleteBucketEncryption on Bucket;
    GetBucketStat: read, GetBucketStat on Bucket;
    PutBucketStorageCapacity: write, PutBucketStorageCapacity on Bucket;
    GetBucketStorageCapacity: read, GetBucketStorageCapacity on Bucket;
    PutBucketResourceGroup: write, PutBucketResourceGroup on Bucket;
    GetBucketResourceGroup: read, GetBucketResourceGroup on Bucket;
    // listing
    ListObjects: read, ListObjects on Bucket;
    ListObjectsV2: read, ListObjects on Bucket;
    ListMultipartUploads: read, ListMultipartUploads on Bucket;
    ListLiveChannel: read, ListLiveChannel on Bucket;
    ListParts: read, ListParts on Object;
    ListObjectVersions: read, ListObjectVersions on Bucket;
    // objects
    PutObject: write, PutObject on Object;
    PostObject: write, PutObject on Object;
    CopyObject: write, PutObject on Object;
    AppendObject: write, PutObject on Object;
    GetObject: read, GetObject / GetObjectVersion on Object;
    HeadObject: read, GetObject / GetObjectVersion on Object;
    GetObjectMeta: read, GetObject / GetObjectVersion on Object;
    DeleteObject: write, DeleteObject / DeleteObjectVersion on Object;
    DeleteMultipleObjects: write, DeleteObject on Object;
    GetObjectAcl: read, GetObjectAcl / GetObjectVersionAcl on Object;
    PutObjectAcl: write, PutObjectAcl / PutObjectVersionAcl on Object;
    PutObjectTagging: write, PutObjectTagging / PutObjectVersionTagging on Object;
    GetObjectTagging: read, GetObjectTagging / GetObjectVersionTagging on Object;
    DeleteObjectTagging: write, DeleteObjectTagging / DeleteObjectVersionTagging on Object;
    RestoreObject: write, RestoreObject on Object;
    PutSymlink: write, PutObject on Object;
    GetSymlink: read, GetObject / GetObjectVersion on Object;
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

/// The action a copy's source is read as (with `versionId` in `x-oss-copy-source` or not).
pub fn copy_source_action(names_version: bool) -> OssAction {
    if names_version {
        OssAction::GetObjectVersion
    } else {
        OssAction::GetObject
    }
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
        assert_eq!(Operation::GetObject.action_for(true).as_str(), "oss:GetObjectVersion");
        assert_eq!(Operation::DeleteObject.action_for(true).as_str(), "oss:DeleteObjectVersion");
        assert_eq!(Operation::PutObject.action_for(true).as_str(), "oss:PutObject");
    }
}
