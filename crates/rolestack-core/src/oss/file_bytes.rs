//! Which bytes in memory are a file's bytes: a registry that lets a transport send them from the
//! file (`sendfile(2)`: no copy into the socket, no page faults) instead of from memory.
//!
//! A blob store that maps a committed blob ([`super::blob::BlobStore::map`]) registers the
//! mapping for as long as it lives ([`register`], undone when the returned [`Registration`] is
//! dropped, before the mapping goes). The bytes travel as ordinary `Bytes` through everything in
//! between (ranges, HTTP framing by hyper, TLS, gzip); only the plain-TCP stream under hyper asks
//! [`lookup`] about each large buffer it is given to write, and sends a registered one with
//! `sendfile` from the same file and offset. Everything else reads the memory as before.
//!
//! Correctness rests on two facts: a registered range holds exactly the file's bytes (blob files
//! are immutable once committed: never written again, only removed, which leaves an open file
//! and its mapping intact), and an entry lives no longer than its mapping (removed before the
//! unmap, so an address reused afterwards is never mistaken for the file's). A writer holding
//! a slice of the mapping keeps the mapping, and so its entry, alive while it writes.

use std::collections::BTreeMap;
use std::fs::File;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Buffers shorter than this are never looked up: a copy is cheaper than the lookup and a
/// second system call (answers, headers, small objects).
pub const MIN_LEN: usize = 64 * 1024;

/// One registered range: its length, the file and the file offset of its first byte.
struct Entry {
    len: usize,
    file: Arc<File>,
    offset: u64,
}

/// Registered ranges by start address.
static RANGES: Mutex<BTreeMap<usize, Entry>> = Mutex::new(BTreeMap::new());
/// How many ranges are registered: while none is, [`lookup`] takes no lock.
static COUNT: AtomicUsize = AtomicUsize::new(0);

fn ranges() -> std::sync::MutexGuard<'static, BTreeMap<usize, Entry>> {
    RANGES.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps a range registered; dropping it removes the range.
#[derive(Debug)]
pub struct Registration {
    start: usize,
}

impl Drop for Registration {
    fn drop(&mut self) {
        if ranges().remove(&self.start).is_some() {
            COUNT.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Registers `bytes` as holding `file`'s bytes from `offset` on.
///
/// # Safety
/// Until the returned [`Registration`] is dropped, the memory of `bytes` must stay mapped and
/// hold exactly the bytes `file` has at `offset..offset + bytes.len()` (a mapping of an
/// immutable file; drop the registration before unmapping).
pub unsafe fn register(bytes: &[u8], file: Arc<File>, offset: u64) -> Option<Registration> {
    if bytes.is_empty() {
        return None;
    }
    let start = bytes.as_ptr() as usize;
    let previous = ranges().insert(start, Entry { len: bytes.len(), file, offset });
    debug_assert!(previous.is_none(), "two live mappings cannot start at one address");
    if previous.is_none() {
        COUNT.fetch_add(1, Ordering::Relaxed);
    }
    Some(Registration { start })
}

/// Where `buf` is in a registered file: the file and the offset of `buf`'s first byte, when all
/// of `buf` lies in one registered range (`None` for buffers shorter than [`MIN_LEN`]).
pub fn lookup(buf: &[u8]) -> Option<(Arc<File>, u64)> {
    if buf.len() < MIN_LEN || COUNT.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let at = buf.as_ptr() as usize;
    let ranges = ranges();
    let (&start, entry) = ranges.range(..=at).next_back()?;
    let into = at - start;
    (into + buf.len() <= entry.len).then(|| (entry.file.clone(), entry.offset + into as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom, Write};

    fn file_with(data: &[u8]) -> Arc<File> {
        let mut f = tempfile_in_target();
        f.write_all(data).unwrap();
        Arc::new(f)
    }

    fn tempfile_in_target() -> File {
        let path = std::env::temp_dir().join(format!("file-bytes-{}", uuid::Uuid::new_v4()));
        let f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }

    fn read_at(file: &File, offset: u64, len: usize) -> Vec<u8> {
        let mut f = file.try_clone().unwrap();
        f.seek(SeekFrom::Start(offset)).unwrap();
        let mut out = vec![0; len];
        f.read_exact(&mut out).unwrap();
        out
    }

    #[test]
    fn slices_of_a_registered_range_are_found_at_their_offset_and_only_while_registered() {
        // Heap bytes standing in for a mapping: the test keeps them identical to the file.
        let data: Vec<u8> = (0..(MIN_LEN * 4)).map(|i| (i % 251) as u8).collect();
        let file = file_with(&data);
        let registration = unsafe { register(&data[..MIN_LEN * 3], file.clone(), 0) }.unwrap();

        let (f, off) = lookup(&data[..MIN_LEN * 3]).unwrap();
        assert_eq!((read_at(&f, off, MIN_LEN), off), (data[..MIN_LEN].to_vec(), 0));
        let slice = &data[1000..1000 + MIN_LEN * 2];
        let (f, off) = lookup(slice).unwrap();
        assert_eq!(off, 1000);
        assert_eq!(read_at(&f, off, slice.len()), slice);
        // Short buffers are not looked up; buffers reaching past the range are not the file's.
        assert!(lookup(&data[..MIN_LEN - 1]).is_none());
        assert!(lookup(&data[MIN_LEN * 2..]).is_none());
        let elsewhere = data.clone();
        assert!(lookup(&elsewhere).is_none());

        drop(registration);
        assert!(lookup(&data[..MIN_LEN * 3]).is_none());
    }
}
