//! Object bodies: the [`BlobStore`] boundary (implemented on local files by `rolestack-blob-fs`),
//! the digests OSS reports for a body (Content-MD5 / ETag and CRC-64/XZ `x-oss-hash-crc64ecma`),
//! and readers that stream an object made of several blobs (multipart, appendable objects).
//!
//! A blob is written once through a [`BlobSink`] and becomes visible only when committed (the
//! file store fsyncs and renames it into place); the object's metadata row is committed after
//! that, so a crash leaves at most an unreferenced blob, never a torn or half-listed object.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use crc::{Crc, Digest, CRC_64_XZ};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

/// CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all ones): OSS's `crc64ecma`.
pub static CRC64: Crc<u64> = Crc::<u64>::new(&CRC_64_XZ);

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
    /// Removes a blob; removing a missing blob is not an error.
    fn remove(&self, id: &BlobId) -> io::Result<()>;
}

/// Blobs in memory: the default of a [`crate::service::Rolestack`] built without a data
/// directory (tests), not for real use.
#[derive(Debug, Default, Clone)]
pub struct MemoryBlobStore {
    inner: Arc<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    blobs: std::sync::Mutex<std::collections::HashMap<String, Arc<Vec<u8>>>>,
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
        self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), Arc::new(self.data));
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
            Some(d) => Ok(Box::new(io::Cursor::new(d.as_ref().clone()))),
            None => Err(io::Error::new(io::ErrorKind::NotFound, format!("no blob {}", id.0))),
        }
    }
    fn remove(&self, id: &BlobId) -> io::Result<()> {
        self.inner.blobs.lock().unwrap_or_else(|p| p.into_inner()).remove(&id.0);
        Ok(())
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
    crc: Digest<'static, u64>,
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

/// Reads `len` bytes from `offset` of the concatenation of `segments`, opening blobs lazily.
pub struct SegmentReader {
    blobs: Arc<dyn BlobStore>,
    segments: Vec<Segment>,
    index: usize,
    /// Offset inside `segments[index]`.
    offset: u64,
    remaining: u64,
    current: Option<Box<dyn BlobSource>>,
}

impl SegmentReader {
    pub fn new(blobs: Arc<dyn BlobStore>, segments: Vec<Segment>, offset: u64, len: u64) -> Self {
        let mut index = 0;
        let mut offset = offset;
        while index < segments.len() && offset >= segments[index].size {
            offset -= segments[index].size;
            index += 1;
        }
        SegmentReader { blobs, segments, index, offset, remaining: len, current: None }
    }

    /// How many bytes are left to read.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl Read for SegmentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.remaining == 0 || buf.is_empty() {
                return Ok(0);
            }
            let Some(segment) = self.segments.get(self.index) else {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "object shorter than its metadata says"));
            };
            if self.offset >= segment.size {
                self.index += 1;
                self.offset = 0;
                self.current = None;
                continue;
            }
            if self.current.is_none() {
                let mut source = self.blobs.open(&segment.blob)?;
                source.seek(SeekFrom::Start(self.offset))?;
                self.current = Some(source);
            }
            let want = buf.len().min((segment.size - self.offset).min(self.remaining) as usize);
            let n = self.current.as_mut().expect("opened above").read(&mut buf[..want])?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "blob shorter than its metadata says"));
            }
            self.offset += n as u64;
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
    fn combine_matches_whole() {
        let a = b"hello, ";
        let b = b"world and more bytes to make it longer than a word";
        let whole = CRC64.checksum(&[&a[..], &b[..]].concat());
        assert_eq!(crc64_combine(CRC64.checksum(a), CRC64.checksum(b), b.len() as u64), whole);
        assert_eq!(crc64_combine(CRC64.checksum(a), CRC64.checksum(b""), 0), CRC64.checksum(a));
        assert_eq!(crc64_combine(0, CRC64.checksum(b), b.len() as u64), CRC64.checksum(b));
    }
}
