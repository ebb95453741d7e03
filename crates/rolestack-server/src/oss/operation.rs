//! The routing table: which [`Operation`] a request asks for — from its method, whether it
//! addresses the service, a bucket or an object, its sub-resources and a few headers — and the
//! handler that serves it. Resolved once per request; the first matching row wins. What each
//! operation is authorized as lives in the core's operation table
//! (`rolestack_core::oss::operation`).

use std::borrow::Cow;

use axum::body::Body;
use axum::http::Method;
use futures_util::future::BoxFuture;
use rolestack_core::oss::{Operation, OssError, OssResult};

use super::handlers::{bucket, config, lifecycle, listing, live_channel, multipart, object, settings, tagging, versions, Ctx};
use super::request::OssHttpRequest;
use super::respond::Reply;

/// Sub-resources that select an operation rolestack does not implement (answered with OSS's
/// `NotImplemented`).
const UNSUPPORTED: &[&str] = &[
    "website",
    "replication",
    "worm",
    "inventory",
    "cname",
    "requestPayment",
    "transferAcceleration",
    "style",
    "process",
    "accessPoint",
    "publicAccessBlock",
    "metaQuery",
    "objectInfo",
    "bucketArchiveDirectRead",
    // PostVodPlaylist / GetVodPlaylist: no LiveChannel records anything to play back.
    "vod",
];

/// What a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressed {
    Service,
    Bucket,
    Object,
}

impl Addressed {
    fn of(req: &OssHttpRequest) -> Self {
        match (&req.bucket, req.key.is_empty()) {
            (None, _) => Addressed::Service,
            (Some(_), true) => Addressed::Bucket,
            (Some(_), false) => Addressed::Object,
        }
    }
}

/// A handler: the resolved request and its body in, the reply out.
pub type Handler = fn(Ctx, Body) -> BoxFuture<'static, OssResult<Reply>>;

/// One row of the routing table.
pub struct Route {
    pub method: Method,
    pub addressed: Addressed,
    /// Sub-resources and headers the row needs.
    pub when: fn(&OssHttpRequest) -> bool,
    pub op: Operation,
    pub handler: Handler,
}

macro_rules! routes {
    ($($method:ident $addressed:ident $when:expr => $op:ident $handler:path;)*) => {
        /// Every route, in resolution order.
        pub fn routes() -> &'static [Route] {
            static ROUTES: std::sync::OnceLock<Vec<Route>> = std::sync::OnceLock::new();
            ROUTES.get_or_init(|| vec![$(Route {
                method: Method::$method,
                addressed: Addressed::$addressed,
                when: $when,
                op: Operation::$op,
                handler: |cx, body| Box::pin($handler(cx, body)),
            }),*])
        }
    };
}

fn always(_: &OssHttpRequest) -> bool {
    true
}

/// Query parameters that select an operation of their own on S3 or OSS (sub-resources). An S3
/// request carrying one that no route above took is not the plain operation of its method: S3
/// clients send `DELETE /<bucket>?ownershipControls` or `PUT /<key>?legal-hold` for operations OSS
/// does not have, and the bucket must not be deleted nor the object overwritten with the document
/// meant for them, so the plain routes ([`plain`]) leave such requests to `NotImplemented`. OSS
/// requests keep OSS's own reading: it ignores a sub-resource its operation does not take (oss2's
/// test suite, run against OSS, deletes an object with `?symlink&versionId=…` left in its
/// parameters), so they fall through to the plain operation as before. (The sub-resources of
/// [`UNSUPPORTED`] are refused before any route is tried, on both dialects, and are not repeated.)
/// With [`UNSUPPORTED`] the list names every sub-resource of botocore 1.44's S3 model; S3
/// operations newer than it are caught by the shape of their sub-resource instead ([`s3_selector`]).
const SELECTORS: &[&str] = &[
    // S3
    "abac",
    "accelerate",
    "acl",
    "analytics",
    "annotation",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataAnnotationTable",
    "metadataConfiguration",
    "metadataInventoryTable",
    "metadataJournalTable",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "renameObject",
    "restore",
    "retention",
    "select",
    "select-type",
    "session",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versioning",
    "versions",
    // OSS
    "append",
    "asyncFetch",
    "bucketInfo",
    "comp",
    "dataRedundancyTransition",
    "httpsConfig",
    "live",
    "objectMeta",
    "overwriteConfig",
    "qos",
    "redundancyTransition",
    "referer",
    "regionList",
    "replicationLocation",
    "replicationProgress",
    "reservedCapacity",
    "resourceGroup",
    "responseHeader",
    "stat",
    "symlink",
    "userDefinedLogFieldsConfig",
    "wormExtend",
    "wormId",
    "x-oss-async-process",
];

/// The sub-resource of an S3 request that asks for an operation other than the plain one of its
/// method: one of [`SELECTORS`], or any parameter written without `=` (`?renameObject`), which is
/// how S3 spells a sub-resource and never one of the plain operations' parameters (`prefix=`,
/// `versionId=`, `x-id=` always carry `=`). `None` on the OSS dialect (see [`SELECTORS`]).
fn s3_selector(req: &OssHttpRequest) -> Option<Cow<'static, str>> {
    if !req.s3 {
        return None;
    }
    SELECTORS.iter().find(|s| req.has(s)).map(|s| Cow::Borrowed(*s)).or_else(|| req.bare_parameter().map(Cow::Owned))
}

/// The plain operation of a method (PutObject, GetObject, DeleteBucket, ...): on the S3 dialect,
/// no sub-resource ([`s3_selector`]).
fn plain(req: &OssHttpRequest) -> bool {
    s3_selector(req).is_none()
}

fn copy(req: &OssHttpRequest) -> bool {
    req.header("x-oss-copy-source").is_some()
}

fn part(req: &OssHttpRequest) -> bool {
    req.has("partNumber") && req.has("uploadId")
}

routes! {
    GET Service always => ListBuckets bucket::list_buckets;

    PUT Bucket |r| r.has("acl") => PutBucketAcl config::put_bucket_acl;
    PUT Bucket |r| r.has("policy") => PutBucketPolicy config::put_bucket_policy;
    PUT Bucket |r| r.has("cors") => PutBucketCors config::put_bucket_cors;
    PUT Bucket |r| r.has("referer") => PutBucketReferer config::put_bucket_referer;
    PUT Bucket |r| r.has("lifecycle") => PutBucketLifecycle lifecycle::put_bucket_lifecycle;
    PUT Bucket |r| r.has("tagging") => PutBucketTags tagging::put_bucket_tags;
    PUT Bucket |r| r.has("versioning") => PutBucketVersioning versions::put_bucket_versioning;
    PUT Bucket |r| r.has("logging") => PutBucketLogging settings::put_bucket_logging;
    PUT Bucket |r| r.has("encryption") => PutBucketEncryption settings::put_bucket_encryption;
    PUT Bucket |r| r.has("qos") => PutBucketStorageCapacity settings::put_bucket_storage_capacity;
    PUT Bucket |r| r.has("resourceGroup") => PutBucketResourceGroup settings::put_bucket_resource_group;
    PUT Bucket plain => PutBucket bucket::put_bucket;
    GET Bucket |r| r.has("acl") => GetBucketAcl config::get_bucket_acl;
    GET Bucket |r| r.has("bucketInfo") => GetBucketInfo bucket::get_bucket_info;
    GET Bucket |r| r.has("location") => GetBucketLocation bucket::get_bucket_location;
    GET Bucket |r| r.has("policy") => GetBucketPolicy config::get_bucket_policy;
    GET Bucket |r| r.has("cors") => GetBucketCors config::get_bucket_cors;
    GET Bucket |r| r.has("referer") => GetBucketReferer config::get_bucket_referer;
    GET Bucket |r| r.has("lifecycle") => GetBucketLifecycle lifecycle::get_bucket_lifecycle;
    GET Bucket |r| r.has("tagging") => GetBucketTags tagging::get_bucket_tags;
    GET Bucket |r| r.has("versioning") => GetBucketVersioning versions::get_bucket_versioning;
    GET Bucket |r| r.has("versions") => ListObjectVersions versions::list_object_versions;
    GET Bucket |r| r.has("logging") => GetBucketLogging settings::get_bucket_logging;
    GET Bucket |r| r.has("encryption") => GetBucketEncryption settings::get_bucket_encryption;
    GET Bucket |r| r.has("stat") => GetBucketStat settings::get_bucket_stat;
    GET Bucket |r| r.has("qos") => GetBucketStorageCapacity settings::get_bucket_storage_capacity;
    GET Bucket |r| r.has("resourceGroup") => GetBucketResourceGroup settings::get_bucket_resource_group;
    GET Bucket |r| r.has("uploads") => ListMultipartUploads listing::list_uploads;
    GET Bucket |r| r.has("live") => ListLiveChannel live_channel::list_live_channels;
    GET Bucket |r| r.param("list-type") == Some("2") => ListObjectsV2 listing::list_objects;
    GET Bucket plain => ListObjects listing::list_objects;
    HEAD Bucket plain => HeadBucket bucket::head_bucket;
    DELETE Bucket |r| r.has("policy") => DeleteBucketPolicy config::delete_bucket_policy;
    DELETE Bucket |r| r.has("cors") => DeleteBucketCors config::delete_bucket_cors;
    DELETE Bucket |r| r.has("lifecycle") => DeleteBucketLifecycle lifecycle::delete_bucket_lifecycle;
    DELETE Bucket |r| r.has("tagging") => DeleteBucketTags tagging::delete_bucket_tags;
    DELETE Bucket |r| r.has("logging") => DeleteBucketLogging settings::delete_bucket_logging;
    DELETE Bucket |r| r.has("encryption") => DeleteBucketEncryption settings::delete_bucket_encryption;
    DELETE Bucket plain => DeleteBucket bucket::delete_bucket;
    POST Bucket |r| r.has("delete") => DeleteMultipleObjects object::delete_objects;

    PUT Object |r| r.has("live") && r.has("status") => PutLiveChannelStatus live_channel::put_live_channel_status;
    PUT Object |r| r.has("live") => PutLiveChannel live_channel::put_live_channel;
    PUT Object |r| r.has("acl") => PutObjectAcl object::put_object_acl;
    PUT Object |r| r.has("symlink") => PutSymlink object::put_symlink;
    PUT Object |r| r.has("tagging") => PutObjectTagging tagging::put_object_tagging;
    PUT Object |r| part(r) && copy(r) => UploadPartCopy multipart::upload_part_copy;
    PUT Object part => UploadPart multipart::upload_part;
    PUT Object |r| copy(r) && plain(r) => CopyObject object::copy_object;
    PUT Object plain => PutObject object::put_object;
    POST Object |r| r.post_form.is_some() => PostObject object::post_object;
    POST Object |r| r.has("x-oss-process") => ProcessObject object::process_object;
    POST Object |r| r.has("restore") => RestoreObject object::restore_object;
    POST Object |r| r.has("append") => AppendObject object::append_object;
    POST Object |r| r.has("uploads") => InitiateMultipartUpload multipart::initiate_upload;
    POST Object |r| r.has("uploadId") => CompleteMultipartUpload multipart::complete_upload;
    GET Object |r| r.has("live") && r.param("comp") == Some("stat") => GetLiveChannelStat live_channel::get_live_channel_stat;
    GET Object |r| r.has("live") && r.param("comp") == Some("history") => GetLiveChannelHistory live_channel::get_live_channel_history;
    GET Object |r| r.has("live") => GetLiveChannelInfo live_channel::get_live_channel_info;
    GET Object |r| r.has("acl") => GetObjectAcl object::get_object_acl;
    GET Object |r| r.has("symlink") => GetSymlink object::get_symlink;
    GET Object |r| r.has("x-oss-process") => GetObjectWithProcess object::process_object;
    GET Object |r| r.has("tagging") => GetObjectTagging tagging::get_object_tagging;
    GET Object |r| r.has("uploadId") => ListParts listing::list_parts;
    GET Object |r| r.has("objectMeta") => GetObjectMeta object::get_object_meta;
    HEAD Object |r| r.has("objectMeta") => GetObjectMeta object::get_object_meta;
    HEAD Object plain => HeadObject object::get_object;
    GET Object plain => GetObject object::get_object;
    DELETE Object |r| r.has("live") => DeleteLiveChannel live_channel::delete_live_channel;
    DELETE Object |r| r.has("tagging") => DeleteObjectTagging tagging::delete_object_tagging;
    DELETE Object |r| r.has("uploadId") => AbortMultipartUpload multipart::abort_upload;
    DELETE Object plain => DeleteObject object::delete_object;
}

/// The route a request takes; OSS's `NotImplemented` (501) for what rolestack does not serve.
pub fn resolve(req: &OssHttpRequest) -> Result<&'static Route, OssError> {
    if let Some(name) = UNSUPPORTED.iter().find(|s| req.has(s)) {
        return Err(OssError::NotImplemented(format!("rolestack does not implement the {name:?} sub-resource.")));
    }
    let addressed = Addressed::of(req);
    if let Some(route) = routes().iter().find(|r| r.method == req.method && r.addressed == addressed && (r.when)(req)) {
        return Ok(route);
    }
    let m = &req.method;
    if let Some(name) = s3_selector(req) {
        return Err(OssError::NotImplemented(format!("rolestack does not implement {m} with the {name:?} sub-resource.")));
    }
    Err(OssError::NotImplemented(match addressed {
        Addressed::Service => format!("{m} / is not an OSS operation."),
        Addressed::Bucket => format!("{m} on a bucket with these parameters is not implemented."),
        Addressed::Object => format!("{m} on an object with these parameters is not implemented."),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_route() {
        for op in Operation::ALL {
            assert!(routes().iter().any(|r| r.op == *op), "{op:?} has no route");
        }
    }
}
