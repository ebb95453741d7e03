//! Object bodies: the [`BlobStore`] boundary (implemented on local files by `rolestack-blob-fs`,
//! and on S3-compatible object stores by `rolestack-blob-opendal`),
//! the digests OSS reports for a body (Content-MD5 / ETag and CRC-64/XZ `x-oss-hash-crc64ecma`),
//! and readers that stream an object made of several blobs (multipart, appendable objects).
//!
//! A blob is written once through a [`BlobSink`] and becomes visible only when committed (the
//! file store fsyncs and renames it into place; an object store completes its upload); the
//! object's metadata row is committed after that, so a crash leaves at most an unreferenced blob,
//! never a torn or half-listed object.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use bytes::Bytes;

use crc_fast::CrcAlgorithm::Crc64Xz;
use md5_many::Md5State;
use serde::{Deserialize, Serialize};

/// OSS's `crc64ecma` of `data`: CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all
/// ones). `crc-fast` folds it with carry-less multiplication (PCLMULQDQ on x86-64, PMULL on
/// Arm), chosen at run time: a few percent of MD5's cost, where a table-driven CRC costs a
/// third of it (docs/oss.md "Storage", ARCHITECTURE.md "Durable PUT, in this order").
pub fn crc64(data: &[u8]) -> u64 {
    crc_fast::checksum(Crc64Xz, data)
}

/// The name of a stored blob (opaque to everything but the blob store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BlobId(pub String);

/// A blob being written. Dropping it without [`BlobSink::commit`] discards the data.
pub trait BlobSink: Write + Send {
    /// Makes the written bytes durable and visible under a new id.
    fn commit(self: Box<Self>) -> io::Result<BlobId>;
}

/// A readable, seekable blob.
pub trait BlobSource: Read + Seek + Send {}
impl<T: Read + Seek + Send> BlobSource for T {}

/// Where object bodies live.
pub trait BlobStore: Send + Sync {
    /// Starts a new blob.
    fn create(&self) -> io::Result<Box<dyn BlobSink>>;
    /// Starts a new blob expected to be `size` bytes long (a request's Content-Length): a store
    /// may write it over the space of a removed blob of about that size (the file store does,
    /// see `rolestack-blob-fs`). The blob is the bytes written, whatever the hint said.
    fn create_sized(&self, size: Option<u64>) -> io::Result<Box<dyn BlobSink>> {
        let _ = size;
        self.create()
    }
    /// Opens a committed blob.
    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>>;
    /// Opens `len` bytes of a committed blob from `offset`, ready to stream them: `NotFound` now
    /// if the blob is gone, and once this returns, the bytes stay readable even if the blob is
    /// removed meanwhile (an open file; an object store's response already under way). A
    /// remote store asks for just this range, once.
    fn open_range(&self, id: &BlobId, offset: u64, len: u64) -> io::Result<Box<dyn Read + Send>> {
        let mut source = self.open(id)?;
        if offset > 0 {
            source.seek(SeekFrom::Start(offset))?;
        }
        Ok(Box::new(source.take(len)))
    }
    /// The whole committed blob as bytes shared with the store, without copying it (the file
    /// store maps the file), or `None` when the store cannot. For blobs up to [`MAP_LIMIT`].
    fn map(&self, _id: &BlobId) -> io::Result<Option<Bytes>> {
        Ok(None)
    }
    /// [`BlobStore::map`] only when every byte of the blob is in memory already, so that nothing
    /// waits on a disk or a network: `None` otherwise, and from a store that cannot map. A caller
    /// on an async thread serves such a blob itself and hands the others to a blocking thread.
    fn map_cached(&self, _id: &BlobId) -> io::Result<Option<Bytes>> {
        Ok(None)
    }
    /// Removes a blob; removing a missing blob is not an error.
    fn remove(&self, id: &BlobId) -> io::Result<()>;
    /// The committed blobs last written before `before`: the candidates of orphan collection
    /// (see [`super::orphans`]), which only ever looks at blobs older than the running process.
    /// A store that several servers share holds back recent blobs longer (another server may
    /// be between writing a blob and committing its record).
    fn committed_before(&self, before: std::time::SystemTime) -> io::Result<Vec<BlobId>>;
    /// Whether the store answers now (`/ready`): `Err` says why not.
    fn check(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Blobs in memory: the default of a [`crate::service::Rolestack`] built without a data
/// directory (tests), not for real use.
#[derive(Debug, Default, Clone)]
pub struct MemoryBlobStore {
    inner: Arc<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    blobs: std::sync::Mutex<std::collections::HashMap<String, Bytes>>,
    next: std::sync::atomic::AtomicU64,
}

struct MemorySink {
    inner: Arc<MemoryInner>,
    data: Vec<u8>,
}

impl Write for MemorySink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.data.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl BlobSink for MemorySink {
    fn commit(self: Box<Self>) -> io::Result<BlobId> {
        let n = self.inner.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{n:016x}");
        self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), Bytes::from(self.data));
        Ok(BlobId(id))
    }
}

impl BlobStore for MemoryBlobStore {
    fn create(&self) -> io::Result<Box<dyn BlobSink>> {
        Ok(Box::new(MemorySink { inner: self.inner.clone(), data: Vec::new() }))
    }
    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>> {
        let data = self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).get(&id.0).cloned();
        match data {
            Some(d) => Ok(Box::new(io::Cursor::new(d))),
            None => Err(io::Error::new(io::ErrorKind::NotFound, format!("no blob {}", id.0))),
        }
    }
    fn map(&self, id: &BlobId) -> io::Result<Option<Bytes>> {
        match self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).get(&id.0) {
            Some(d) => Ok(Some(d.clone())),
            None => Err(io::Error::new(io::ErrorKind::NotFound, format!("no blob {}", id.0))),
        }
    }
    fn remove(&self, id: &BlobId) -> io::Result<()> {
        self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).remove(&id.0);
        Ok(())
    }
    /// Memory does not outlive the process, so no blob is ever left from an earlier one.
    fn committed_before(&self, _before: std::time::SystemTime) -> io::Result<Vec<BlobId>> {
        Ok(Vec::new())
    }
}

/// MD5, CRC-64 and length of a body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Digests {
    pub md5: [u8; 16],
    pub crc64: u64,
    pub size: u64,
}

impl Digests {
    /// OSS's ETag of a simple object: the upper-case hex MD5 (without quotes).
    pub fn etag(&self) -> String {
        hex_upper(&self.md5)
    }
}

/// Upper-case hex.
pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// MD5, CRC-64 and length of a body, taken as its bytes go by (one body on its own; bodies
/// uploaded at the same time share SIMD lanes in [`super::digest_lanes`]).
pub struct Digester {
    /// Taken apart from the rest in the lanes ([`Digester::count`]).
    pub(super) md5: Md5State,
    crc: crc_fast::Digest,
    size: u64,
}

impl Default for Digester {
    fn default() -> Self {
        Digester { md5: Md5State::new(), crc: crc_fast::Digest::new(Crc64Xz), size: 0 }
    }
}

impl Digester {
    pub fn update(&mut self, bytes: &[u8]) {
        self.md5.update(bytes);
        self.count(bytes);
    }

    /// The CRC-64 and length of `bytes`, whose MD5 the caller took into `md5` (the lanes run
    /// several bodies' MD5s at once).
    pub(super) fn count(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.size += bytes.len() as u64;
    }

    /// Bytes digested so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn finish(self) -> Digests {
        Digests { md5: self.md5.finalize(), crc64: self.crc.finalize(), size: self.size }
    }
}

/// A blob sink that digests what goes through it.
pub struct DigestingWriter {
    sink: Box<dyn BlobSink>,
    digester: Digester,
}

impl DigestingWriter {
    pub fn new(sink: Box<dyn BlobSink>) -> Self {
        DigestingWriter { sink, digester: Digester::default() }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.digester.size()
    }

    /// Commits the blob and returns its id with the body's digests.
    pub fn finish(self) -> io::Result<(BlobId, Digests)> {
        let digests = self.digester.finish();
        let id = self.sink.commit()?;
        Ok((id, digests))
    }
}

impl Write for DigestingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.sink.write(buf)?;
        self.digester.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// The CRC-64 of `a ‖ b` from `crc(a)`, `crc(b)` and `len(b)`: multipart and appendable
/// objects get their whole-object CRC without re-reading their parts.
pub fn crc64_combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    crc_fast::checksum_combine(Crc64Xz, crc1, crc2, len2)
}

/// One stored piece of an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub blob: BlobId,
    pub size: u64,
}

/// The largest read served from mapped blobs ([`BlobStore::map`]); longer ones stream through
/// reads of [`CHUNK`] bytes (constant memory whatever the object's size).
pub const MAP_LIMIT: u64 = 64 * 1024 * 1024;

/// Bytes per chunk of a streamed (not mapped) read.
pub const CHUNK: usize = 1024 * 1024;

/// Whether opening a read may wait on a disk or a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waits {
    /// It may (a blocking thread): blobs not in memory are read in or streamed.
    Allowed,
    /// It may not (an async thread): a read needing that is not opened.
    Refused,
}

/// One opened piece of a read.
enum Source {
    /// Bytes shared with the blob store (what is left of them).
    Mapped(Bytes),
    /// An open blob range and how many bytes are still to be read from it.
    Stream(Box<dyn Read + Send>, u64),
}

/// Reads `len` bytes from `offset` of the concatenation of `segments`. Every blob it needs is
/// opened when the reader is made, before a response is started: a blob removed afterwards (the
/// object was overwritten or deleted) stays readable through its open handle (or mapping), so a
/// reader sees one version of the object, complete, or fails before sending anything.
pub struct SegmentReader {
    sources: std::collections::VecDeque<Source>,
    remaining: u64,
}

impl SegmentReader {
    /// Opens the blobs covering `offset..offset + len`; `NotFound` if one of them is gone. A
    /// read of at most [`MAP_LIMIT`] bytes maps the blobs when the store can.
    pub fn open(blobs: &dyn BlobStore, segments: &[Segment], offset: u64, len: u64) -> io::Result<Self> {
        Self::open_with(blobs, segments, offset, len, Waits::Allowed)?.ok_or_else(|| io::Error::other("a read that may wait always opens"))
    }

    /// [`SegmentReader::open`] when every blob it needs is mapped from memory
    /// ([`BlobStore::map_cached`]): opening it waits on no disk or network. `None` otherwise.
    pub fn open_cached(blobs: &dyn BlobStore, segments: &[Segment], offset: u64, len: u64) -> io::Result<Option<Self>> {
        Self::open_with(blobs, segments, offset, len, Waits::Refused)
    }

    fn open_with(blobs: &dyn BlobStore, segments: &[Segment], offset: u64, len: u64, waits: Waits) -> io::Result<Option<Self>> {
        if waits == Waits::Refused && len > MAP_LIMIT {
            return Ok(None);
        }
        let mut sources = std::collections::VecDeque::new();
        let (mut skip, mut want) = (offset, len);
        for segment in segments {
            if want == 0 {
                break;
            }
            if skip >= segment.size {
                skip -= segment.size;
                continue;
            }
            let take = (segment.size - skip).min(want);
            let mapped = match waits {
                Waits::Refused => match blobs.map_cached(&segment.blob)? {
                    Some(bytes) => Some(bytes),
                    None => return Ok(None),
                },
                Waits::Allowed if len <= MAP_LIMIT => blobs.map(&segment.blob)?,
                Waits::Allowed => None,
            };
            match mapped {
                Some(bytes) => {
                    if (bytes.len() as u64) < skip + take {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its metadata says"));
                    }
                    sources.push_back(Source::Mapped(bytes.slice(skip as usize..(skip + take) as usize)));
                }
                None => sources.push_back(Source::Stream(blobs.open_range(&segment.blob, skip, take)?, take)),
            }
            want -= take;
            skip = 0;
        }
        Ok(Some(SegmentReader { sources, remaining: len - want }))
    }

    /// How many bytes are left to read.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Whether every byte left is in memory already (no read can block on the disk).
    pub fn is_mapped(&self) -> bool {
        self.sources.iter().all(|s| matches!(s, Source::Mapped(_)))
    }

    /// The next piece of the read: a mapped segment whole (no copy), or up to [`CHUNK`] bytes
    /// read from a streamed one. `None` at the end.
    pub fn next_chunk(&mut self) -> io::Result<Option<Bytes>> {
        loop {
            let Some(source) = self.sources.front_mut() else { return Ok(None) };
            match source {
                Source::Mapped(bytes) => {
                    let bytes = std::mem::take(bytes);
                    self.sources.pop_front();
                    if bytes.is_empty() {
                        continue;
                    }
                    self.remaining -= bytes.len() as u64;
                    return Ok(Some(bytes));
                }
                Source::Stream(_, 0) => {
                    self.sources.pop_front();
                }
                Source::Stream(_, left) => {
                    let mut buf = vec![0u8; CHUNK.min(usize::try_from(*left).unwrap_or(usize::MAX))];
                    let n = self.read(&mut buf)?;
                    buf.truncate(n);
                    return Ok(Some(Bytes::from(buf)));
                }
            }
        }
    }
}

impl Read for SegmentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if buf.is_empty() {
                return Ok(0);
            }
            let Some(source) = self.sources.front_mut() else { return Ok(0) };
            let n = match source {
                Source::Mapped(bytes) if bytes.is_empty() => {
                    self.sources.pop_front();
                    continue;
                }
                Source::Mapped(bytes) => {
                    let n = buf.len().min(bytes.len());
                    buf[..n].copy_from_slice(&bytes[..n]);
                    *bytes = bytes.slice(n..);
                    n
                }
                Source::Stream(_, 0) => {
                    self.sources.pop_front();
                    continue;
                }
                Source::Stream(source, left) => {
                    let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                    let n = source.read(&mut buf[..want])?;
                    if n == 0 {
                        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its metadata says"));
                    }
                    *left -= n as u64;
                    n
                }
            };
            self.remaining -= n as u64;
            return Ok(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_check_values() {
        // CRC-64/XZ's check value, and what OSS answers for "hello".
        assert_eq!(crc64(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(crc64(b"hello"), 11_177_612_005_948_864_433);
    }

    #[test]
    fn reader_opens_its_blobs_before_reading() {
        let store = MemoryBlobStore::default();
        let put = |data: &[u8]| {
            let mut sink = store.create().unwrap();
            sink.write_all(data).unwrap();
            Segment { blob: sink.commit().unwrap(), size: data.len() as u64 }
        };
        let segments = vec![put(b"hello "), put(b"big "), put(b"world")];
        let mut reader = SegmentReader::open(&store, &segments, 3, 9).unwrap();
        // Removing the blobs after opening does not cut the read short.
        for s in &segments {
            store.remove(&s.blob).unwrap();
        }
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        assert_eq!(out, "lo big wo");
        assert_eq!(reader.remaining(), 0);
        // A blob already gone is reported before any byte is read.
        let err = SegmentReader::open(&store, &segments, 0, 1).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        // Past the end: only what exists is promised.
        let segments = vec![put(b"abc")];
        assert_eq!(SegmentReader::open(&store, &segments, 1, 10).unwrap().remaining(), 2);
    }

    /// CRC-64/XZ one bit at a time: the definition the carry-less-multiplication one is held to.
    fn crc64_bitwise(data: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &byte in data {
            crc ^= u64::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xC96C_5795_D787_0F42 } else { crc >> 1 };
            }
        }
        !crc
    }

    proptest::proptest! {
        /// Any body, digested in two pieces split anywhere (the SIMD paths take 16/32/64/128-byte
        /// blocks and a tail), gives the definition's CRC-64 and MD5, and combining the pieces'
        /// CRCs gives the same.
        #[test]
        fn digests_match_the_definitions(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096), split in 0usize..4096) {
            let split = split.min(data.len());
            let mut d = Digester::default();
            d.update(&data[..split]);
            d.update(&data[split..]);
            let digests = d.finish();
            proptest::prop_assert_eq!(digests.crc64, crc64_bitwise(&data));
            proptest::prop_assert_eq!(digests.md5, <[u8; 16]>::from(<md5::Md5 as md5::Digest>::digest(&data)));
            proptest::prop_assert_eq!(digests.size, data.len() as u64);
            let (a, b) = data.split_at(split);
            proptest::prop_assert_eq!(crc64_combine(crc64(a), crc64(b), b.len() as u64), digests.crc64);
        }
    }

    #[test]
    fn combine_matches_whole() {
        let a = b"hello, ";
        let b = b"world and more bytes to make it longer than a word";
        let whole = crc64(&[&a[..], &b[..]].concat());
        assert_eq!(crc64_combine(crc64(a), crc64(b), b.len() as u64), whole);
        assert_eq!(crc64_combine(crc64(a), crc64(b""), 0), crc64(a));
        assert_eq!(crc64_combine(0, crc64(b), b.len() as u64), crc64(b));
    }
}
