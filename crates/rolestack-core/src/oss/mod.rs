//! OSS, the object store: buckets, objects, multipart uploads, ACLs and bucket policies, with
//! every request authorized against RAM (root, RAM users, role sessions with their session
//! policy), the bucket policy and the ACLs. HTTP-free like the rest of the core: the server's
//! `oss` front-end parses requests into calls on [`Oss`] and renders the results as OSS XML.
//!
//! - [`model`]: bucket / object / upload / part records and naming rules.
//! - [`blob`]: the body store boundary ([`blob::BlobStore`]), digests (MD5, CRC-64/XZ) and readers.
//! - [`file_bytes`]: which mapped bytes are a file's, so plain TCP can send them with `sendfile`.
//! - [`archive`]: storage classes and the restore of archived objects, timed by the server's clock.
//! - [`access`]: the action and resource of each request and the authorization decision.
//! - [`bucket_config`]: default encryption, logging, storage capacity and resource group settings.
//! - [`bucket_policy`]: bucket policies (RAM statements with `Principal`).
//! - [`kms`]: the KMS key an object is encrypted with and what using it takes.
//! - [`callback`]: upload callbacks (parsing, the loopback-only rule, the body, the answer).
//! - [`callback_key`]: the RSA key and signature of callback requests.
//! - [`cors`]: bucket CORS rules and matching a request against them.
//! - [`referer`]: hotlink protection (the bucket's Referer configuration and its check).
//! - [`lifecycle`]: bucket lifecycle rules and what is due under them at a moment.
//! - [`listing`]: key-ordered listing with prefix, delimiter and markers.
//! - [`live_channel`]: LiveChannel configurations (no RTMP ingest runs).
//! - [`post_policy`]: the policy document of PostObject (browser form uploads) and its conditions.
//! - [`operation`]: the operation table (name, read or write, RAM action, resource scope).
//! - [`request`]: byte ranges and preconditions, as a request asks for them.
//! - [`service`]: the operations.
//! - [`tagging`]: object and bucket tag limits, the `x-oss-tagging` header form.
//! - [`orphans`]: removing bodies a crash left without a record.
//! - [`versioning`]: bucket versioning states, version ids and the order of versions.
//! - [`error`]: [`OssError`], OSS's codes, statuses and ECs.

pub mod access;
pub mod archive;
pub mod blob;
pub mod bucket_config;
pub mod bucket_policy;
pub mod callback;
pub mod callback_key;
pub mod cors;
pub mod digest_lanes;
pub mod error;
pub mod file_bytes;
pub mod kms;
pub mod lifecycle;
pub mod listing;
pub mod live_channel;
pub mod model;
pub mod operation;
pub mod orphans;
pub mod post_policy;
pub mod referer;
pub mod request;
pub mod service;
pub mod tagging;
pub mod versioning;

pub use access::{OssAction, Requester};
pub use error::{OssError, OssResult};
pub use operation::Operation;
pub use service::{Call, Oss};

impl crate::service::Rolestack {
    /// The OSS service over this instance's store and blob store.
    pub fn oss(&self) -> Oss {
        Oss::sharing(self.store.clone(), self.blobs.clone(), self.object_commits.clone(), self.caches.clone(), self.clock.clone())
    }
}
