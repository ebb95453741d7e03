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

use crc::{Crc, Digest, Table, CRC_64_XZ};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

/// CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all ones): OSS's `crc64ecma`.
/// Computed sixteen bytes at a time (slice-by-16 tables): several times the byte-wise speed.
pub static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_XZ);

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// A blob sink that digests what goes through it.
pub struct DigestingWriter {
    sink: Box<dyn BlobSink>,
    md5: Md5,
    crc: Digest<'static, u64, Table<16>>,
    size: u64,
}

impl DigestingWriter {
    pub fn new(sink: Box<dyn BlobSink>) -> Self {
        DigestingWriter { sink, md5: Md5::new(), crc: CRC64.digest(), size: 0 }
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Commits the blob and returns its id with the body's digests.
    pub fn finish(self) -> io::Result<(BlobId, Digests)> {
        let digests = Digests { md5: self.md5.finalize().into(), crc64: self.crc.finalize(), size: self.size };
        let id = self.sink.commit()?;
        Ok((id, digests))
    }
}

impl Write for DigestingWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.sink.write(buf)?;
        self.md5.update(&buf[..n]);
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// The CRC-64 of `a ‖ b` from `crc(a)`, `crc(b)` and `len(b)` (zlib's `crc32_combine`
/// method, for the reflected 64-bit ECMA polynomial): multipart and appendable objects get
/// their whole-object CRC without re-reading their parts.
pub fn crc64_combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    const POLY: u64 = 0xC96C_5795_D787_0F42; // reflected ECMA-182
    fn times(mat: &[u64; 64], mut vec: u64) -> u64 {
        let mut sum = 0;
        let mut i = 0;
        while vec != 0 {
            if vec & 1 != 0 {
                sum ^= mat[i];
            }
            vec >>= 1;
            i += 1;
        }
        sum
    }
    fn square(out: &mut [u64; 64], mat: &[u64; 64]) {
        for n in 0..64 {
            out[n] = times(mat, mat[n]);
        }
    }
    if len2 == 0 {
        return crc1;
    }
    let mut even = [0u64; 64];
    let mut odd = [0u64; 64];
    odd[0] = POLY;
    let mut row = 1u64;
    for item in odd.iter_mut().skip(1) {
        *item = row;
        row <<= 1;
    }
    square(&mut even, &odd); // two zero bits
    square(&mut odd, &even); // four zero bits
    let mut crc1 = crc1;
    let mut len2 = len2;
    loop {
        square(&mut even, &odd);
        if len2 & 1 != 0 {
            crc1 = times(&even, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
        square(&mut odd, &even);
        if len2 & 1 != 0 {
            crc1 = times(&odd, crc1);
        }
        len2 >>= 1;
        if len2 == 0 {
            break;
        }
    }
    crc1 ^ crc2
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
            let mapped = if len <= MAP_LIMIT { blobs.map(&segment.blob)? } else { None };
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
        Ok(SegmentReader { sources, remaining: len - want })
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
        assert_eq!(CRC64.checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(CRC64.checksum(b"hello"), 11_177_612_005_948_864_433);
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

    #[test]
    fn combine_matches_whole() {
        let a = b"hello, ";
        let b = b"world and more bytes to make it longer than a word";
        let whole = CRC64.checksum(&[&a[..], &b[..]].concat());
        assert_eq!(crc64_combine(CRC64.checksum(a), CRC64.checksum(b), b.len() as u64), whole);
        assert_eq!(crc64_combine(CRC64.checksum(a), CRC64.checksum(b""), 0), CRC64.checksum(a));
        assert_eq!(crc64_combine(0, CRC64.checksum(b), b.len() as u64), CRC64.checksum(b));
    }
}
