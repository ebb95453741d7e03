//! The OSS handlers, one file per family: [`bucket`] (service and buckets), [`config`] (bucket
//! configuration: ACL, policy; [`lifecycle`] rules; [`settings`]: encryption, logging, statistics,
//! storage capacity, resource group), [`listing`] (objects, uploads, parts), [`live_channel`], [`object`],
//! [`multipart`] and [`tagging`]. A handler gets the resolved request as a [`Ctx`] and the body, reads typed
//! values from [`super::headers`], runs the core operation on a blocking thread
//! ([`Ctx::call`]: the store and the blob files are synchronous) — or, for reads of what is in
//! memory, right there ([`Ctx::call_here`]) — and builds a [`Reply`].

pub mod bucket;
pub mod config;
pub mod lifecycle;
pub mod listing;
pub mod live_channel;
pub mod multipart;
pub mod object;
pub mod settings;
pub mod tagging;
pub mod versions;

use std::io::Write as _;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use futures_util::StreamExt as _;
use rolestack_core::oss::blob::Digests;
use rolestack_core::oss::callback::{Callback, UploadFacts};
use rolestack_core::oss::callback_key::{self, PUBLIC_KEY_PATH};
use rolestack_core::oss::kms::{Sse, KEY_ID_HEADER};
use rolestack_core::oss::model::Object;
use rolestack_core::oss::service::{Body as StoredBody, Call, SSE_HEADER};
use rolestack_core::oss::{Operation, Oss, OssError, OssResult, Requester};
use rolestack_core::seal::ServerKey;
use rolestack_sign::encoding::encode;

use super::digests::{BodyDigest, DigestGone};
use super::headers;
use super::request::OssHttpRequest;
use super::respond::Reply;
use super::xml::quoted;

/// Chunks of a request body queued for the blob writer.
const BODY_QUEUE: usize = 16;

/// Largest XML/JSON request body (DeleteMultipleObjects with 1000 keys, policies).
const MAX_DOCUMENT: usize = 2 * 1024 * 1024;

/// A request resolved and authenticated: what every handler gets.
#[derive(Clone)]
pub struct Ctx {
    pub oss: Oss,
    pub who: Arc<Requester>,
    pub req: Arc<OssHttpRequest>,
    pub op: Operation,
    /// The request id the answer carries (`${reqId}` of upload callbacks).
    pub request_id: Arc<str>,
    /// Opens the sealed key upload callbacks are signed with.
    pub server_key: ServerKey,
}

impl Ctx {
    /// Runs `f` with this request's [`Call`] on a blocking thread.
    pub async fn call<T: Send + 'static>(&self, f: impl FnOnce(&Oss, Call<'_>) -> OssResult<T> + Send + 'static) -> OssResult<T> {
        let Ctx { oss, who, req, op, .. } = self.clone();
        blocking(move || f(&oss, call_of(&who, op, &req))).await
    }

    /// Whether reads of the store may run here, on the async thread ([`Ctx::call_here`]): not
    /// when the store is a shared server's, whose reads are network round trips (as the RPC
    /// gateway decides).
    pub fn reads_here(&self) -> bool {
        !self.oss.shared_store()
    }

    /// Runs the store read `f`: here when [`Ctx::reads_here`] (a read of the local store costs
    /// less than handing it to a blocking thread and back), else on a blocking thread.
    pub async fn read<T: Send + 'static>(&self, f: impl FnOnce(&Oss, Call<'_>) -> OssResult<T> + Send + 'static) -> OssResult<T> {
        if self.reads_here() {
            self.call_here(f)
        } else {
            self.call(f).await
        }
    }

    /// Runs `f` with this request's [`Call`] here, on the async thread: for reads that wait on
    /// nothing but a local store (as the RPC gateway's reads do; see [`Ctx::reads_here`]), such
    /// as an object whose bytes are in memory ([`Oss::open_cached`]).
    pub fn call_here<T>(&self, f: impl FnOnce(&Oss, Call<'_>) -> OssResult<T>) -> OssResult<T> {
        let call = call_of(&self.who, self.op, &self.req);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&self.oss, call)))
            .unwrap_or_else(|_| Err(OssError::Internal("handler panicked".into())))
    }
}

/// The [`Call`] of a request: its version, the canned ACL it asks for (`x-oss-acl` on bucket
/// writes, `x-oss-object-acl` on object writes), which policies see as condition keys, whether
/// it tags the object it writes (`x-oss-tagging`; a copy only with
/// `x-oss-tagging-directive: Replace`), which takes `oss:PutObjectTagging` too, and the
/// server-side encryption it asks for, whose KMS key the write must be allowed to use.
fn call_of<'a>(who: &'a Requester, op: Operation, req: &'a OssHttpRequest) -> Call<'a> {
    let acl_header = if matches!(op, Operation::PutBucket | Operation::PutBucketAcl) { "x-oss-acl" } else { "x-oss-object-acl" };
    let replaces_tags =
        op != Operation::CopyObject || req.header("x-oss-tagging-directive").is_some_and(|d| d.eq_ignore_ascii_case("replace"));
    let tagging = replaces_tags && req.header("x-oss-tagging").is_some_and(|t| !t.trim().is_empty());
    let encryption = Sse { algorithm: req.header(SSE_HEADER), key_id: req.header(KEY_ID_HEADER) };
    Call::new(who, op, req.bucket(), &req.key)
        .with_version(req.param("versionId"))
        .with_acl(req.header(acl_header))
        .with_tagging(tagging)
        .with_encryption(encryption)
}

/// Runs blocking work (store, blob files) off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> OssResult<T> + Send + 'static) -> OssResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| Err(OssError::Internal(format!("handler panicked: {e}"))))
}

/// `s`, URL-encoded when the client asked for `encoding-type=url`.
fn enc(s: &str, url: bool) -> String {
    if url {
        encode(s)
    } else {
        s.to_string()
    }
}

/// The whole body of a request that sends a document (XML configuration, CompleteMultipartUpload,
/// ...). A `Content-MD5` the request carries is checked against it, as for object bodies: a
/// garbled document must not change anything (`InvalidDigest`; malformed, EC `0017-00000502`).
async fn read_document(req: &OssHttpRequest, body: Body) -> OssResult<Vec<u8>> {
    let declared = headers::content_md5(req)?;
    let body = axum::body::to_bytes(body, MAX_DOCUMENT).await.map(|b| b.to_vec()).map_err(|e| {
        body_error(&e)
            .unwrap_or_else(|| OssError::InvalidArgument(format!("The request body is larger than {MAX_DOCUMENT} bytes or was cut short.")))
    })?;
    match declared {
        Some(md5) if md5 != <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&body)) => Err(OssError::InvalidDigest),
        _ => Ok(body),
    }
}

/// The error of a body an S3 request's signature did not cover (see [`crate::s3::checked_body`]).
fn body_error(e: &axum::Error) -> Option<OssError> {
    crate::s3::rejected(e).map(crate::s3::body_error)
}

/// What the body writer gets from the request: the body's next bytes, or its end, with where its
/// digests come from.
enum Piece {
    Bytes(Bytes),
    End(tokio::sync::oneshot::Receiver<Digests>),
}

/// Streams a request body into a new blob (constant memory), makes the blob durable and runs
/// `commit` with it (the record that names it), on the writer's blocking thread; returns what
/// `commit` returned and the body's digests. A body whose `commit` fails or does not keep it is
/// removed.
///
/// Every chunk goes two ways: to a blocking thread that writes it to the blob and, at the end,
/// makes the blob durable, and to a body digest thread ([`crate::oss::digests`]), where the
/// MD5s of the uploads under way share SIMD lanes. The digest is told the body ended as soon as
/// the last byte arrived; the writer waits for the digests after its fsync (the two overlap)
/// and then commits right there, so the request hands off to a blocking thread once, not twice.
/// A body cut short is never committed: the writer commits only on the end marker, sent after
/// the last byte arrived.
async fn write_body<T: Send + 'static>(
    oss: &Oss,
    body: Body,
    commit: impl FnOnce(&Oss, StoredBody) -> OssResult<T> + Send + 'static,
) -> OssResult<(T, Digests)> {
    let started = std::time::Instant::now();
    let (to_blob, mut pieces) = tokio::sync::mpsc::channel::<Piece>(BODY_QUEUE);
    let mut digest = BodyDigest::start().map_err(|e| OssError::Internal(e.to_string()))?;
    let o = oss.clone();
    let size = axum::body::HttpBody::size_hint(&body).exact();
    let writer = tokio::task::spawn_blocking(move || -> OssResult<Option<(T, Digests)>> {
        let mut sink = o.new_blob(size)?;
        while let Some(piece) = pieces.blocking_recv() {
            match piece {
                Piece::Bytes(chunk) => sink.write_all(&chunk)?,
                Piece::End(digests) => {
                    let blob = sink.commit()?;
                    let durable = started.elapsed();
                    // From here on, dropping `body` (a failed digest or commit) removes the blob.
                    let mut body = o.body(blob, Digests::default());
                    body.digests = digests.blocking_recv().map_err(|_| OssError::Internal(DigestGone.to_string()))?;
                    let (digested, digests) = (started.elapsed(), body.digests);
                    let committed = commit(&o, body)?;
                    // µs from the first byte asked for: the blob durable, the digests done, committed.
                    tracing::debug!(
                        size = digests.size,
                        durable = durable.as_micros(),
                        digested = digested.as_micros(),
                        committed = started.elapsed().as_micros(),
                        "oss body stored"
                    );
                    return Ok(Some((committed, digests)));
                }
            }
        }
        Ok(None) // cut short: dropping the sink discards what was written
    });
    let mut stream = body.into_data_stream();
    let mut failed = None;
    loop {
        match stream.next().await {
            Some(Ok(chunk)) => {
                if digest.push(chunk.clone()).await.is_err() || to_blob.send(Piece::Bytes(chunk)).await.is_err() {
                    break; // the writer failed (its error is the answer) or the digest thread is gone
                }
            }
            Some(Err(e)) => {
                failed = Some(e);
                break;
            }
            None => {
                // Everything arrived. A digest thread gone leaves the writer without an end.
                if let Ok(digests) = digest.end() {
                    let _ = to_blob.send(Piece::End(digests)).await;
                }
                break;
            }
        }
    }
    drop(to_blob);
    let written = writer.await.unwrap_or_else(|e| Err(OssError::Internal(format!("body writer panicked: {e}"))));
    if let Some(e) = failed {
        return Err(body_error(&e).unwrap_or_else(|| OssError::InvalidArgument(format!("The request body was cut short: {e}"))));
    }
    written?.ok_or_else(|| OssError::Internal("the body writer stopped before the end".into()))
}

/// Delivers the upload callback a write asked for, once its object is stored: the answer becomes
/// the application's (200 with its JSON body), or `203 CallbackFailed` — the object stays.
async fn call_back(cx: &Ctx, callback: Option<Callback>, object: &Object, digests: Option<&Digests>, reply: Reply) -> OssResult<Reply> {
    let Some(callback) = callback else { return Ok(reply) };
    let facts = UploadFacts {
        bucket: cx.req.bucket().to_string(),
        object: object.key.clone(),
        etag: object.etag.clone(),
        size: object.size,
        mime_type: object.content_type.clone(),
        crc64: object.crc64.to_string(),
        content_md5: digests.map(|d| BASE64.encode(d.md5)).unwrap_or_default(),
        client_ip: cx.req.peer.ip().to_string(),
        request_id: cx.request_id.to_string(),
        operation: cx.op.name().to_string(),
    };
    // Signed with the store's callback key; the public key is served where the upload was sent
    // (the same scheme and host), so the application can fetch it from wherever it uploaded from.
    let (oss, server_key) = (cx.oss.clone(), cx.server_key.clone());
    let key = blocking(move || oss.callback_key(&server_key)).await?;
    let scheme = if cx.req.secure { "https" } else { "http" };
    let key_url = format!("{scheme}://{}{PUBLIC_KEY_PATH}", cx.req.header("host").unwrap_or(&cx.req.endpoint));
    let signer =
        crate::callback::Signer { key, server_key: cx.server_key.clone(), public_key_url: callback_key::public_key_url_header(&key_url) };
    match crate::callback::deliver(&callback, &facts, cx.req.namespace.as_deref(), &signer).await {
        Ok(answer) => {
            let mut relayed = Reply { status: 200, headers: reply.headers, body: Body::from(answer) };
            relayed.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
            Ok(relayed.header("content-type", "application/json"))
        }
        Err(message) => Err(OssError::CallbackFailed(message)),
    }
}

/// The written-object headers of PutObject, UploadPart, AppendObject, Complete and Copy.
fn write_reply(etag: &str, digests: Option<&Digests>, crc64: u64) -> Reply {
    let mut r = Reply::empty(200).header("etag", quoted(etag)).header("x-oss-hash-crc64ecma", crc64.to_string());
    if let Some(d) = digests {
        r = r.header("content-md5", BASE64.encode(d.md5));
    }
    r
}

/// `x-oss-version-id` of an object of a versioned bucket (none for an unversioned one).
fn version_header(reply: Reply, object: &Object) -> Reply {
    match &object.version_id {
        Some(v) => reply.header("x-oss-version-id", v.clone()),
        None => reply,
    }
}

/// `x-oss-version-id` echoing the version a request named (`versionId`).
fn named_version(reply: Reply, cx: &Ctx) -> Reply {
    match cx.req.param("versionId") {
        Some(v) => reply.header("x-oss-version-id", v),
        None => reply,
    }
}

/// An HTTP date (`Last-Modified`, `Expires`) of a Unix time.
pub(crate) fn http_time(unix: i64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64))
}
