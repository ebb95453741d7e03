//! rolestack-blob-opendal: OSS object bodies in an object store through Apache OpenDAL — any
//! S3-compatible service (`serve --blob-url s3://BUCKET?endpoint=…&region=…`), so that several
//! rolestack servers can share one store of bodies. (Local disk stays with `rolestack-blob-fs`,
//! which maps and fsyncs files itself; OpenDAL's file-system service is used here only to test
//! this crate without a network.)
//!
//! Layout: one object per blob, named by its id (32 lower-case hex digits) under the URL's path
//! (the root). A blob streams into an OpenDAL writer in [`PART_SIZE`] parts: a body that fits in
//! one part is one `PutObject`, a larger one a multipart upload with up to [`UPLOADS_IN_FLIGHT`]
//! parts on the way. Either way the object exists only once the upload is complete (the store
//! makes `PutObject` and `CompleteMultipartUpload` atomic), which is this store's "commit"; the
//! object's record is committed after that, exactly as with files. A sink dropped before
//! [`BlobSink::commit`] aborts its upload. A process killed mid-upload leaves no object, only an
//! unfinished multipart upload that the store never shows (a bucket lifecycle rule
//! `AbortIncompleteMultipartUpload` deletes its parts; see docs/scale-out.md).
//!
//! Reads ask for exactly the range they need, and [`BlobStore::open_range`] waits for the store's
//! first bytes before it returns: the response is then under way, so a blob removed afterwards
//! (the object was overwritten) does not cut the read short, and a blob already gone is
//! `NotFound` before anything is answered.
//!
//! Orphan collection lists the blobs by their store-side modification time. Several servers
//! share the store, and another one may be between uploading a blob and committing its record,
//! so only blobs older than the collector's cut-off by [`DEFAULT_ORPHAN_GRACE`] (the URL's
//! `orphan_grace`) are candidates; that margin also covers clock skew between the servers and
//! the store. Times are compared in whole seconds (S3's resolution), and the store writes nothing
//! in the second it was opened, so none of its own blobs is ever a candidate ([`orphan_cutoff`]).
//!
//! The store's calls are synchronous (the OSS service runs them on blocking threads), OpenDAL's
//! are async: this crate keeps a small runtime of its own and blocks on it, so it works the same
//! from any thread.

use std::future::Future;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use opendal::layers::RetryLayer;
use opendal::{ErrorKind, HttpTransporter, Operator};
use opendal_http_transport_reqwest::ReqwestTransport;
use rolestack_core::oss::blob::{BlobId, BlobSink, BlobSource, BlobStore};

/// Bytes per uploaded part (S3's smallest part is 5 MiB; a body up to this size is one PUT).
pub const PART_SIZE: usize = 8 * 1024 * 1024;

/// Parts of one body uploaded at the same time.
pub const UPLOADS_IN_FLIGHT: usize = 4;

/// Bytes gathered from the request before they are handed to the uploader.
const GATHER: usize = 1024 * 1024;

/// How much older than the collector's cut-off a blob must be to be an orphan candidate.
pub const DEFAULT_ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// A `--blob-url` that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("not a URL: {0}")]
    Syntax(#[from] url::ParseError),
    #[error("unsupported blob store scheme {0:?} (s3:// or file://)")]
    Scheme(String),
    #[error("s3:// needs a bucket name: s3://BUCKET?endpoint=http://HOST:PORT&region=REGION")]
    NoBucket,
    #[error("unknown blob URL parameter {0:?} (endpoint, region, orphan_grace, virtual_host_style)")]
    Parameter(String),
    #[error("orphan_grace: {0}")]
    Grace(#[from] humantime::DurationError),
    #[error("the S3 credentials are missing: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")]
    NoCredentials,
    #[error("OpenDAL: {0}")]
    OpenDal(#[from] opendal::Error),
    #[error("starting the object store's runtime or HTTP client: {0}")]
    Runtime(io::Error),
}

/// Where an S3-compatible store is and how to sign for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Path prefix inside the bucket ("/" for the bucket's top).
    pub root: String,
    /// `http(s)://HOST:PORT`; `None`: AWS's own endpoint for the region.
    pub endpoint: Option<String>,
    pub region: String,
    pub virtual_host_style: bool,
    pub orphan_grace: Duration,
}

impl S3Location {
    /// Parses `s3://BUCKET[/PREFIX]?endpoint=URL&region=REGION[&orphan_grace=1h][&virtual_host_style=true]`.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let parsed = url::Url::parse(url)?;
        if parsed.scheme() != "s3" {
            return Err(UrlError::Scheme(parsed.scheme().to_string()));
        }
        let bucket = parsed.host_str().filter(|b| !b.is_empty()).ok_or(UrlError::NoBucket)?.to_string();
        let mut location = S3Location {
            bucket,
            root: if parsed.path().is_empty() { "/".into() } else { parsed.path().to_string() },
            endpoint: None,
            region: "us-east-1".into(),
            virtual_host_style: false,
            orphan_grace: DEFAULT_ORPHAN_GRACE,
        };
        for (name, value) in parsed.query_pairs() {
            match name.as_ref() {
                "endpoint" => location.endpoint = Some(value.into_owned()),
                "region" => location.region = value.into_owned(),
                "orphan_grace" => location.orphan_grace = humantime::parse_duration(&value)?,
                "virtual_host_style" => location.virtual_host_style = value == "true",
                other => return Err(UrlError::Parameter(other.to_string())),
            }
        }
        Ok(location)
    }
}

/// Blobs as objects of an OpenDAL operator.
pub struct OpenDalBlobStore {
    op: Operator,
    /// Owned: dropped without waiting ([`Drop`]), whatever thread drops the store.
    runtime: Option<tokio::runtime::Runtime>,
    orphan_grace: Duration,
    /// The whole second after the store was opened: no blob is written before it, so a blob the
    /// store reports as modified earlier is from an earlier process (see [`orphan_cutoff`]).
    writes_from: SystemTime,
    /// What `check` and the logs call this store.
    describe: String,
}

impl std::fmt::Debug for OpenDalBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenDalBlobStore").field("store", &self.describe).finish()
    }
}

impl OpenDalBlobStore {
    /// The store at an S3-compatible service, signing with `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY` (and `AWS_SESSION_TOKEN` if set) from the environment. Nothing
    /// else is consulted: no `~/.aws` files, no instance metadata address.
    pub fn s3(location: &S3Location) -> Result<Self, UrlError> {
        let key = std::env::var("AWS_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
        let (Some(key), Some(secret)) = (key, secret) else { return Err(UrlError::NoCredentials) };
        let mut builder = opendal::services::S3::default()
            .bucket(&location.bucket)
            .root(&location.root)
            .region(&location.region)
            .access_key_id(&key)
            .secret_access_key(&secret)
            .disable_config_load()
            .disable_ec2_metadata();
        if let Some(endpoint) = &location.endpoint {
            builder = builder.endpoint(endpoint);
        }
        if let Ok(token) = std::env::var("AWS_SESSION_TOKEN") {
            if !token.is_empty() {
                builder = builder.session_token(&token);
            }
        }
        if location.virtual_host_style {
            builder = builder.enable_virtual_host_style();
        }
        let describe = format!(
            "s3://{}{} at {}",
            location.bucket,
            location.root.trim_end_matches('/'),
            location.endpoint.as_deref().unwrap_or("the region's AWS endpoint")
        );
        Self::with_operator(Operator::new(builder)?, location.orphan_grace, describe)
    }

    /// The store in a local directory through OpenDAL's file-system service (tests).
    pub fn fs(root: &str, orphan_grace: Duration) -> Result<Self, UrlError> {
        // Written to a temp file and renamed when complete, like an object store's upload.
        let uploads = format!("{}/.uploads", root.trim_end_matches('/'));
        let op = Operator::new(opendal::services::Fs::default().root(root).atomic_write_dir(&uploads))?;
        Self::with_operator(op, orphan_grace, format!("OpenDAL fs at {root}"))
    }

    fn with_operator(op: Operator, orphan_grace: Duration, describe: String) -> Result<Self, UrlError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("blob-store")
            .enable_all()
            .build()
            .map_err(UrlError::Runtime)?;
        let op = {
            let _enter = runtime.enter();
            let context = op.context().with_http_transport(HttpTransporter::new(ReqwestTransport::new(http_client()?)));
            op.with_context(context).layer(RetryLayer::new().with_jitter())
        };
        let writes_from = ceil_second(SystemTime::now());
        Ok(OpenDalBlobStore { op, runtime: Some(runtime), orphan_grace, writes_from, describe })
    }

    /// What this store is (for logs).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    fn block_on<F: Future>(&self, f: F) -> F::Output {
        block_on(self.handle(), f)
    }

    fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.as_ref().expect("runtime kept until drop").handle()
    }

    /// Opens a stream of `len` bytes from `offset` and waits for its first bytes (see the
    /// module docs): the returned reader holds a response under way.
    fn stream(&self, path: &str, offset: u64, len: u64) -> io::Result<RangeReader> {
        let handle = self.handle().clone();
        let op = self.op.clone();
        let path = path.to_string();
        self.block_on(async move {
            let mut stream = op.reader(&path).await.map_err(to_io)?.into_bytes_stream(offset..offset + len).await.map_err(to_io)?;
            let first = if len == 0 { Bytes::new() } else { stream.next().await.transpose()?.unwrap_or_default() };
            Ok(RangeReader { handle, stream: Some(Box::pin(stream)), pending: first })
        })
    }
}

impl Drop for OpenDalBlobStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `f` to completion on `handle`, from any thread (a runtime worker gives its thread up
/// to blocking first).
fn block_on<F: Future>(handle: &tokio::runtime::Handle, f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(current) if current.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(f))
        }
        _ => handle.block_on(f),
    }
}

/// The HTTP client under OpenDAL: rustls with the ring provider the rest of the binary uses,
/// and no proxy: `HTTP_PROXY` and friends in the server's environment are for its instances,
/// never for its own store.
fn http_client() -> Result<reqwest::Client, UrlError> {
    // An error means a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| UrlError::Runtime(io::Error::other(e)))
}

fn to_io(e: opendal::Error) -> io::Error {
    let kind = match e.kind() {
        ErrorKind::NotFound => io::ErrorKind::NotFound,
        ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
        ErrorKind::AlreadyExists => io::ErrorKind::AlreadyExists,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// `t` rounded up to the whole second.
fn ceil_second(t: SystemTime) -> SystemTime {
    let since = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs() + u64::from(since.subsec_nanos() > 0);
    SystemTime::UNIX_EPOCH + Duration::from_secs(seconds)
}

/// Blobs last modified before this are orphan candidates. S3 reports modification times in whole
/// seconds (rounded down), so the times compared are whole seconds: `grace` before `before`,
/// rounded up, but never past `writes_from`, the first whole second in which this store may
/// write (so none of its own blobs is a candidate, however the second is rounded).
/// How far into `writes_from` a store's first write waits (see [`OpenDalBlobStore::create`]).
const WRITES_FROM_MARGIN: Duration = Duration::from_millis(20);

fn orphan_cutoff(before: SystemTime, grace: Duration, writes_from: SystemTime) -> SystemTime {
    ceil_second(before.checked_sub(grace).unwrap_or(SystemTime::UNIX_EPOCH)).min(writes_from)
}

/// A blob id: what `create` makes, the only names this store reads or removes.
fn path_of(id: &BlobId) -> io::Result<&str> {
    let name = id.0.as_str();
    if is_blob_name(name) {
        Ok(name)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a blob id: {name:?}")))
    }
}

fn is_blob_name(name: &str) -> bool {
    name.len() == 32 && name.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl BlobStore for OpenDalBlobStore {
    fn create(&self) -> io::Result<Box<dyn BlobSink>> {
        // Only in the first second after opening: wait for the next one (see `writes_from`),
        // and a little into it: file systems stamp times from a coarse clock that may lag the
        // real one by a tick, so a blob written right at `writes_from` could look older.
        if let Ok(early) = (self.writes_from + WRITES_FROM_MARGIN).duration_since(SystemTime::now()) {
            std::thread::sleep(early);
        }
        let id = uuid::Uuid::new_v4().simple().to_string();
        let op = self.op.clone();
        let path = id.clone();
        let writer =
            self.block_on(async move { op.writer_with(&path).chunk(PART_SIZE).concurrent(UPLOADS_IN_FLIGHT).await.map_err(to_io) })?;
        Ok(Box::new(ObjectSink { handle: self.handle().clone(), id, writer: Some(writer), gathered: BytesMut::with_capacity(GATHER) }))
    }

    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>> {
        let path = path_of(id)?.to_string();
        let op = self.op.clone();
        let size = self.block_on(async { op.stat(&path).await.map_err(to_io) })?.content_length();
        let reader = self.stream(&path, 0, size)?;
        Ok(Box::new(SeekableBlob { store_op: self.op.clone(), path, size, position: 0, reader }))
    }

    fn open_range(&self, id: &BlobId, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send>> {
        Ok(Box::new(self.stream(path_of(id)?, offset, len)?))
    }

    fn remove(&self, id: &BlobId) -> io::Result<()> {
        let path = path_of(id)?.to_string();
        let op = self.op.clone();
        self.block_on(async move {
            match op.delete(&path).await {
                Err(e) if e.kind() != ErrorKind::NotFound => Err(to_io(e)),
                _ => Ok(()),
            }
        })
    }

    fn committed_before(&self, before: SystemTime) -> io::Result<Vec<BlobId>> {
        let cutoff = orphan_cutoff(before, self.orphan_grace, self.writes_from);
        let op = self.op.clone();
        self.block_on(async move {
            let mut lister = op.lister("/").await.map_err(to_io)?;
            let mut out = Vec::new();
            while let Some(entry) = lister.next().await {
                let entry = entry.map_err(to_io)?;
                let name = entry.name();
                if !is_blob_name(name) {
                    continue;
                }
                let modified = match entry.metadata().last_modified() {
                    Some(t) => t,
                    // Not every service lists times: ask for this one.
                    None => match op.stat(entry.path()).await {
                        Ok(meta) => match meta.last_modified() {
                            Some(t) => t,
                            None => continue,
                        },
                        Err(e) if e.kind() == ErrorKind::NotFound => continue, // removed meanwhile
                        Err(e) => return Err(to_io(e)),
                    },
                };
                if SystemTime::from(modified) < cutoff {
                    out.push(BlobId(name.to_string()));
                }
            }
            Ok(out)
        })
    }

    /// Lists one entry of the root: the store answers, the bucket exists, the keys are accepted.
    fn check(&self) -> io::Result<()> {
        let op = self.op.clone();
        self.block_on(async move {
            let _ = op.list_with("/").limit(1).await.map_err(to_io)?;
            Ok(())
        })
    }
}

/// A blob being uploaded.
struct ObjectSink {
    handle: tokio::runtime::Handle,
    id: String,
    /// `None` once committed.
    writer: Option<opendal::Writer>,
    gathered: BytesMut,
}

impl ObjectSink {
    fn hand_over(&mut self) -> io::Result<()> {
        if self.gathered.is_empty() {
            return Ok(());
        }
        let bytes = self.gathered.split().freeze();
        self.gathered.reserve(GATHER);
        let writer = self.writer.as_mut().expect("open until commit");
        block_on(&self.handle, writer.write(bytes)).map_err(to_io)
    }
}

impl Write for ObjectSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.gathered.extend_from_slice(buf);
        if self.gathered.len() >= GATHER {
            self.hand_over()?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BlobSink for ObjectSink {
    fn commit(mut self: Box<Self>) -> io::Result<BlobId> {
        self.hand_over()?;
        let mut writer = self.writer.take().expect("committed once");
        if let Err(e) = block_on(&self.handle, writer.close()) {
            let _ = block_on(&self.handle, writer.abort());
            return Err(to_io(e));
        }
        Ok(BlobId(std::mem::take(&mut self.id)))
    }
}

impl Drop for ObjectSink {
    fn drop(&mut self) {
        if let Some(mut writer) = self.writer.take() {
            // Uncommitted: the parts uploaded so far are deleted; the object never appears.
            let _ = block_on(&self.handle, writer.abort());
        }
    }
}

type ByteStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = io::Result<Bytes>> + Send>>;

/// A response under way: the bytes of one range, as the store sends them.
struct RangeReader {
    handle: tokio::runtime::Handle,
    /// `None` at the end.
    stream: Option<ByteStream>,
    pending: Bytes,
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            let Some(stream) = self.stream.as_mut() else { return Ok(0) };
            match block_on(&self.handle, stream.next()) {
                Some(chunk) => self.pending = chunk?,
                None => self.stream = None,
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending = self.pending.slice(n..);
        Ok(n)
    }
}

/// A whole blob, readable from any position: a seek starts a new range read there.
struct SeekableBlob {
    store_op: Operator,
    path: String,
    size: u64,
    position: u64,
    reader: RangeReader,
}

impl Read for SeekableBlob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.position += n as u64;
        Ok(n)
    }
}

impl Seek for SeekableBlob {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.position.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        if target != self.position {
            let (offset, len) = (target.min(self.size), self.size.saturating_sub(target));
            let handle = self.reader.handle.clone();
            let (op, path) = (self.store_op.clone(), self.path.clone());
            let stream = block_on(&handle, async move {
                op.reader(&path).await.map_err(to_io)?.into_bytes_stream(offset..offset + len).await.map_err(to_io)
            })?;
            self.reader = RangeReader { handle, stream: Some(Box::pin(stream)), pending: Bytes::new() };
            self.position = target;
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolestack_core::oss::blob::{Segment, SegmentReader};

    fn store(dir: &tempfile::TempDir, grace: Duration) -> OpenDalBlobStore {
        OpenDalBlobStore::fs(dir.path().to_str().unwrap(), grace).unwrap()
    }

    fn put(store: &OpenDalBlobStore, data: &[u8]) -> BlobId {
        let mut sink = store.create().unwrap();
        for piece in data.chunks(70_000) {
            sink.write_all(piece).unwrap();
        }
        sink.commit().unwrap()
    }

    #[test]
    fn write_commit_read_seek_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir, Duration::ZERO);
        let id = put(&store, b"hello world");
        let mut src = store.open(&id).unwrap();
        src.seek(SeekFrom::Start(6)).unwrap();
        let mut s = String::new();
        src.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
        let mut s = String::new();
        store.open_range(&id, 2, 3).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "llo");
        store.check().unwrap();
        store.remove(&id).unwrap();
        assert_eq!(store.open(&id).err().unwrap().kind(), io::ErrorKind::NotFound);
        assert_eq!(store.open_range(&id, 0, 1).err().unwrap().kind(), io::ErrorKind::NotFound);
        store.remove(&id).unwrap();
        assert_eq!(store.open(&BlobId("../etc/passwd".into())).err().unwrap().kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn large_bodies_stream_in_parts_and_read_back_in_ranges() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir, Duration::ZERO);
        let data: Vec<u8> = (0..(2 * PART_SIZE + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
        let id = put(&store, &data);
        let segments = vec![Segment { blob: id.clone(), size: data.len() as u64 }];
        let mut out = Vec::new();
        SegmentReader::open(&store, &segments, 0, data.len() as u64).unwrap().read_to_end(&mut out).unwrap();
        assert!(out == data);
        let (from, len) = (PART_SIZE as u64 - 5, 4096u64);
        let mut out = Vec::new();
        SegmentReader::open(&store, &segments, from, len).unwrap().read_to_end(&mut out).unwrap();
        assert!(out[..] == data[from as usize..(from + len) as usize]);
    }

    #[test]
    fn an_opened_range_outlives_the_removal_of_its_blob() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir, Duration::ZERO);
        let data = vec![7u8; 3 * 1024 * 1024];
        let id = put(&store, &data);
        let mut reader = store.open_range(&id, 0, data.len() as u64).unwrap();
        store.remove(&id).unwrap();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), data.len());
    }

    #[test]
    fn uncommitted_sinks_leave_nothing_and_old_blobs_are_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir, Duration::ZERO);
        let mut sink = store.create().unwrap();
        sink.write_all(&vec![1u8; GATHER + 10]).unwrap();
        drop(sink);
        assert!(store.committed_before(SystemTime::now()).unwrap().is_empty());
        let old = put(&store, b"old");
        // A later process's store: `old` is a candidate, what it writes itself is not.
        let later = self::store(&dir, Duration::ZERO);
        let _new = put(&later, b"new");
        assert_eq!(later.committed_before(SystemTime::now()).unwrap(), vec![old]);
        // Nor does the first store count blobs of its own lifetime; a third one counts both.
        assert!(store.committed_before(SystemTime::now() + Duration::from_secs(2)).unwrap().is_empty());
        let third = self::store(&dir, Duration::ZERO);
        assert_eq!(third.committed_before(SystemTime::now() + Duration::from_secs(2)).unwrap().len(), 2);
        // With a grace period, recent blobs are held back whatever the cut-off.
        let held = self::store(&dir, Duration::from_secs(3600));
        assert!(held.committed_before(SystemTime::now()).unwrap().is_empty());
    }

    #[test]
    fn cutoffs_are_whole_seconds_before_the_grace() {
        let at = |ms: u64| SystemTime::UNIX_EPOCH + Duration::from_millis(ms);
        let far = at(1_000_000);
        assert_eq!(orphan_cutoff(at(10_700), Duration::ZERO, far), at(11_000));
        assert_eq!(orphan_cutoff(at(10_000), Duration::ZERO, far), at(10_000));
        assert_eq!(orphan_cutoff(at(10_700), Duration::from_secs(3), far), at(8_000));
        assert_eq!(orphan_cutoff(at(500), Duration::from_secs(3600), far), SystemTime::UNIX_EPOCH);
        // Never past the first second this store writes in.
        assert_eq!(orphan_cutoff(at(20_300), Duration::ZERO, at(20_000)), at(20_000));
    }

    #[test]
    fn urls() {
        let l = S3Location::parse("s3://bodies/lab/one?endpoint=http://127.0.0.1:9000&region=eu-west-1&orphan_grace=0s").unwrap();
        assert_eq!(l.bucket, "bodies");
        assert_eq!(l.root, "/lab/one");
        assert_eq!(l.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(l.region, "eu-west-1");
        assert_eq!(l.orphan_grace, Duration::ZERO);
        let l = S3Location::parse("s3://bodies").unwrap();
        assert_eq!((l.root.as_str(), l.orphan_grace), ("/", DEFAULT_ORPHAN_GRACE));
        assert!(matches!(S3Location::parse("s3://b?colour=red"), Err(UrlError::Parameter(_))));
        assert!(matches!(S3Location::parse("gs://b"), Err(UrlError::Scheme(_))));
        assert!(matches!(S3Location::parse("s3:///x"), Err(UrlError::NoBucket)));
    }
}
