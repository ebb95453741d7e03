//! rolestack-blob-fs: OSS object bodies as plain files under one directory
//! (`<data-dir>/blobs`), the embedded default [`BlobStore`].
//!
//! Layout: blobs at `<root>/<id[0..2]>/<id>`. A blob is written straight to that path under a
//! new random id, made durable (fdatasync of the file, then an fsync of its directory) and only
//! then handed back as committed; the caller commits the record naming it after that. So a crash
//! leaves either nothing the index names or a complete blob: a file cut short by a crash has an
//! id no record ever named, and orphan collection removes it (see `rolestack_core::oss::orphans`:
//! it only looks at files older than the collecting process, so never at one this process is
//! writing; nothing reads a blob no record names). Writing in place spares a rename and the
//! metadata writes and device flush it costs.
//!
//! A directory several nodes share ([`FsBlobStore::open_for_node`]) is the exception: there
//! another node, started while a slow upload is under way here, would take the half-written
//! file for an orphan. So each node writes under its own `tmp-<node>/` (never scanned, emptied
//! when that node starts) and renames the fsynced file into place before the directory fsync.
//!
//! Directory fsyncs are shared: an id starts with two hex digits taken from the minute it was
//! made, so the writers of the same minute write into the same directory, and one fsync of that
//! directory, started after several writers created their files, makes all of their entries
//! durable ([`DirSync`]). Over the hours the 256 directories fill evenly. A writer in place takes
//! its ticket when it creates the file, so an fsync another writer runs while this body is still
//! arriving already counts for it, and its commit usually finds its entry durable.
//!
//! Bodies stream through fixed-size buffers: memory does not grow with object size. Reads of
//! committed blobs may map them instead ([`BlobStore::map`]): a committed blob file is never
//! written again (only removed, which leaves existing mappings intact), so its mapping cannot
//! change underneath. A mapping is registered as the file's bytes
//! (`rolestack_core::oss::file_bytes`) while it lives, so plain TCP sends it with `sendfile`.
//! `tmp/` is where earlier versions wrote blobs before a rename: what is left there is removed
//! at open.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use rolestack_core::oss::blob::{BlobId, BlobSink, BlobSource, BlobStore};
use rolestack_core::oss::file_bytes;

/// Write buffer per blob being written.
const WRITE_BUFFER: usize = 256 * 1024;

/// Blobs as files under one root directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Where a node of a shared directory writes blobs before renaming them into place (`None`:
    /// in place; see the module docs).
    staging: Option<PathBuf>,
    /// The shared directory fsyncs, one [`DirSync`] per fan-out directory.
    syncs: Arc<Mutex<HashMap<PathBuf, Arc<DirSync>>>>,
}

impl FsBlobStore {
    /// Opens (creating if needed) the store at `root`; leftover temp files of an earlier
    /// process are removed.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        Self::open_in(root.into(), "tmp".into(), false)
    }

    /// Opens a directory that several nodes share (docs/scale-out.md): each writes its temp
    /// files in a directory of its own (`tmp-<node>`), so one node's start never removes what
    /// another is writing.
    pub fn open_for_node(root: impl Into<PathBuf>, node: &str) -> io::Result<Self> {
        let safe: String = node.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        Self::open_in(root.into(), format!("tmp-{safe}"), true)
    }

    fn open_in(root: PathBuf, tmp_name: String, staged: bool) -> io::Result<Self> {
        let tmp = root.join(tmp_name);
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(FsBlobStore { root, staging: staged.then_some(tmp), syncs: Arc::default() })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path_of(&self, id: &BlobId) -> io::Result<PathBuf> {
        let name = id.0.as_str();
        if name.len() < 3 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("not a blob id: {name:?}")));
        }
        Ok(self.root.join(&name[..2]).join(name))
    }
}

impl BlobStore for FsBlobStore {
    fn create(&self) -> io::Result<Box<dyn BlobSink>> {
        // Two hex digits of the minute, then 30 random ones (see the module docs).
        let minute = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60);
        let id = format!("{:02x}{}", minute % 256, &uuid::Uuid::new_v4().simple().to_string()[2..]);
        let target = self.path_of(&BlobId(id.clone()))?;
        let dir = target.parent().expect("blob paths have a parent").to_path_buf();
        fs::create_dir_all(&dir)?;
        let path = self.staging.as_ref().map_or_else(|| target.clone(), |staging| staging.join(&id));
        let sync = self.syncs.lock().unwrap_or_else(|p| p.into_inner()).entry(dir.clone()).or_default().clone();
        let file = OpenOptions::new().write(true).create_new(true).open(&path)?;
        // Written in place, the entry exists from here on: any fsync of the directory that starts
        // after this covers it, also one another writer runs while this body is still arriving.
        // Staged, the entry that matters is made by the rename at commit.
        let entry = self.staging.is_none().then(|| sync.ticket());
        Ok(Box::new(FileSink { id, path, target, dir, sync, entry, file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)) }))
    }

    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>> {
        Ok(Box::new(File::open(self.path_of(id)?)?))
    }

    fn map(&self, id: &BlobId) -> io::Result<Option<Bytes>> {
        let file = File::open(self.path_of(id)?)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(Some(Bytes::new()));
        }
        // SAFETY: committed blob files are immutable (written once before their commit, never
        // opened for writing again), so the mapped bytes cannot change while mapped.
        let map = unsafe { memmap2::MmapOptions::new().map(&file)? };
        // Not populated: plain TCP sends the bytes with sendfile from the page cache and never
        // touches the mapping (see `rolestack_core::oss::file_bytes`), so page tables would be
        // built and torn down for nothing. What is not in the page cache yet is read in here,
        // on the caller's (blocking) thread, not later where the bytes are sent.
        if !resident(&map)? {
            read_through(&file, len)?;
        }
        let file = Arc::new(file);
        // SAFETY: the registration is dropped before the mapping (field order of `MappedBlob`),
        // and the mapping holds the file's bytes from offset 0 (immutable, see above).
        let registration = unsafe { file_bytes::register(&map, file, 0) };
        Ok(Some(Bytes::from_owner(MappedBlob { _registration: registration, map })))
    }

    fn remove(&self, id: &BlobId) -> io::Result<()> {
        match fs::remove_file(self.path_of(id)?) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// The directory is there and is a directory (a lost mount shows here).
    fn check(&self) -> io::Result<()> {
        if fs::metadata(self.root.join("tmp"))?.is_dir() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a directory", self.root.join("tmp").display())))
        }
    }

    /// Blob files last written before `before`: in place, that includes a blob being written
    /// then (see the module docs: callers ask for blobs older than their own process).
    fn committed_before(&self, before: SystemTime) -> io::Result<Vec<BlobId>> {
        let mut out = Vec::new();
        for dir in fs::read_dir(&self.root)? {
            let dir = dir?;
            let name = dir.file_name();
            let Some(name) = name.to_str() else { continue };
            // Committed blobs live in two-hex-digit directories; temp directories are cleared at open.
            if name.len() != 2 || !name.bytes().all(|b| b.is_ascii_hexdigit()) || !dir.file_type()?.is_dir() {
                continue;
            }
            for file in fs::read_dir(dir.path())? {
                let file = file?;
                let meta = match file.metadata() {
                    Ok(m) => m,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue, // removed meanwhile
                    Err(e) => return Err(e),
                };
                if meta.is_file() && meta.modified()? < before {
                    if let Some(id) = file.file_name().to_str().filter(|id| id.starts_with(name)) {
                        out.push(BlobId(id.to_string()));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// A mapped blob, registered as the file's bytes while it is mapped.
struct MappedBlob {
    /// Dropped first (held for its `Drop`): the range is unregistered before it is unmapped.
    _registration: Option<file_bytes::Registration>,
    map: memmap2::Mmap,
}

impl AsRef<[u8]> for MappedBlob {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// Whether every page of `map` is in the page cache (`mincore(2)`).
fn resident(map: &memmap2::Mmap) -> io::Result<bool> {
    let page = PAGE_SIZE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
    });
    let mut pages = vec![0u8; map.len().div_ceil(*page)];
    // SAFETY: `map` is a live mapping of `map.len()` bytes at a page-aligned address, and
    // `pages` has one byte per page of it.
    let rc = unsafe { libc::mincore(map.as_ptr() as *mut libc::c_void, map.len(), pages.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pages.iter().all(|p| p & 1 == 1))
}

static PAGE_SIZE: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// Reads `file` through once, which leaves its pages in the page cache.
fn read_through(file: &File, len: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt as _;
    let mut buf = vec![0u8; 256 * 1024];
    let mut at = 0;
    while at < len {
        match file.read_at(&mut buf, at)? {
            0 => break,
            n => at += n as u64,
        }
    }
    Ok(())
}

/// A blob being written (at `path`: in place, or staged; see the module docs).
struct FileSink {
    id: String,
    path: PathBuf,
    target: PathBuf,
    dir: PathBuf,
    sync: Arc<DirSync>,
    /// The directory fsync that covers the file's entry ([`DirSync::ticket`] taken once the
    /// entry existed); `None` until the rename of a staged blob makes it.
    entry: Option<u64>,
    file: Option<BufWriter<File>>,
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until commit").write(buf)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.file.as_mut().expect("open until commit").write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until commit").flush()
    }
}

impl BlobSink for FileSink {
    fn commit(mut self: Box<Self>) -> io::Result<BlobId> {
        let file = self.file.as_mut().expect("committed once");
        file.flush()?;
        // fdatasync: the bytes and what reading them back needs (size, block map), not times.
        file.get_ref().sync_data()?;
        self.file = None;
        if self.path != self.target {
            if let Err(e) = fs::rename(&self.path, &self.target) {
                let _ = fs::remove_file(&self.path);
                return Err(e);
            }
        }
        // The file's directory entry: by an fsync of the directory that started after the entry
        // was made — often one another writer ran meanwhile — or by this writer's own.
        let entry = self.entry.unwrap_or_else(|| self.sync.ticket());
        if let Err(e) = self.sync.sync(&self.dir, entry) {
            let _ = fs::remove_file(&self.target);
            return Err(e);
        }
        Ok(BlobId(std::mem::take(&mut self.id)))
    }
}

impl Drop for FileSink {
    /// Not committed: the file goes (a crash instead leaves it to orphan collection).
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Fsyncs of one directory shared by the writers waiting for one (group commit for directory
/// entries): a writer whose file entry exists needs an fsync of the directory that *starts*
/// after that; it waits for the one running to end, then either finds that a later one, started
/// by another writer after its entry existed, has ended, or runs one itself for everyone waiting.
#[derive(Debug, Default)]
struct DirSync {
    state: Mutex<SyncState>,
    ended: Condvar,
}

#[derive(Debug, Default)]
struct SyncState {
    /// Fsyncs started and ended so far (each one's number is `started` when it starts).
    started: u64,
    ended: u64,
    running: bool,
    /// The number and error of the last fsync that failed. A failed fsync may have lost the
    /// entries it was to write even if a later one succeeds, so a writer fails if any fsync
    /// from its ticket on failed, not only the last.
    failed: Option<(u64, String)>,
}

impl DirSync {
    fn lock(&self) -> MutexGuard<'_, SyncState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The number of the first fsync that starts from now on: one that covers a directory entry
    /// made before this call.
    fn ticket(&self) -> u64 {
        self.lock().started + 1
    }

    /// Returns once fsync number `needed` of `dir` (from [`DirSync::ticket`]) or a later one has
    /// ended (an error if one of them failed).
    fn sync(&self, dir: &Path, needed: u64) -> io::Result<()> {
        let mut state = self.lock();
        loop {
            if state.ended >= needed {
                return match &state.failed {
                    Some((number, e)) if *number >= needed => Err(io::Error::other(format!("fsync of {} failed: {e}", dir.display()))),
                    _ => Ok(()),
                };
            }
            if !state.running {
                state.running = true;
                state.started += 1;
                let number = state.started;
                drop(state);
                let result = File::open(dir).and_then(|d| d.sync_all());
                state = self.lock();
                state.running = false;
                state.ended = number;
                if let Err(e) = result {
                    state.failed = Some((number, e.to_string()));
                }
                self.ended.notify_all();
                continue;
            }
            state = self.ended.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Seek, SeekFrom};

    #[test]
    fn write_commit_read_remove() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut sink = store.create().unwrap();
        sink.write_all(b"hello world").unwrap();
        let id = sink.commit().unwrap();
        let mut src = store.open(&id).unwrap();
        src.seek(SeekFrom::Start(6)).unwrap();
        let mut s = String::new();
        src.read_to_string(&mut s).unwrap();
        assert_eq!(s, "world");
        store.remove(&id).unwrap();
        assert!(store.open(&id).is_err());
        store.remove(&id).unwrap();
    }

    #[test]
    fn a_mapped_blob_is_registered_as_its_file_while_mapped_and_read_in_when_evicted() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 253) as u8).collect();
        let mut sink = store.create().unwrap();
        sink.write_all(&data).unwrap();
        let id = sink.commit().unwrap();
        // Evict the (clean, fsynced) pages, so that mapping finds them not resident.
        let path = store.path_of(&id).unwrap();
        let f = File::open(&path).unwrap();
        // SAFETY: a plain system call on an open file.
        unsafe { libc::posix_fadvise(std::os::fd::AsRawFd::as_raw_fd(&f), 0, 0, libc::POSIX_FADV_DONTNEED) };

        let bytes = store.map(&id).unwrap().unwrap();
        // Read in when it was not resident: resident now (a tmpfs keeps it resident anyway).
        // SAFETY: the blob file is not written while mapped.
        let check = unsafe { memmap2::Mmap::map(&f).unwrap() };
        assert!(resident(&check).unwrap());
        assert_eq!(&bytes[..], &data[..]);
        // A slice of the mapping is the file's bytes at its offset.
        let (file, offset) = file_bytes::lookup(&bytes[4096..]).unwrap();
        assert_eq!(offset, 4096);
        let mut back = vec![0; data.len() - 4096];
        std::os::unix::fs::FileExt::read_exact_at(&*file, &mut back, offset).unwrap();
        assert_eq!(back, &data[4096..]);
        // Removing the blob keeps what is mapped readable and registered while a slice lives.
        store.remove(&id).unwrap();
        let tail = bytes.slice(1 << 19..);
        drop(bytes);
        assert!(file_bytes::lookup(&tail).is_some());
        assert_eq!(&tail[..], &data[1 << 19..]);
    }

    #[test]
    fn committed_before_lists_only_older_committed_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut sink = store.create().unwrap();
        sink.write_all(b"old").unwrap();
        let old = sink.commit().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let cut = SystemTime::now();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut sink = store.create().unwrap();
        sink.write_all(b"new").unwrap();
        let _new = sink.commit().unwrap();
        let mut pending = store.create().unwrap();
        pending.write_all(b"in flight").unwrap();
        assert_eq!(store.committed_before(cut).unwrap(), vec![old.clone()]);
        // Written in place, a blob being written is a file like the others: the cut-off (the
        // collecting process's start) is what keeps a writer's own blobs out (module docs).
        pending.flush().unwrap();
        assert_eq!(store.committed_before(SystemTime::now()).unwrap().len(), 3);
        drop(pending);
        assert_eq!(store.committed_before(SystemTime::now()).unwrap().len(), 2);
    }

    #[test]
    fn dropped_sink_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut sink = store.create().unwrap();
        sink.write_all(b"partial").unwrap();
        drop(sink);
        assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
        assert!(store.open(&BlobId("../etc".into())).is_err());
        // A node of a shared directory stages its blob, and drops it all the same.
        let node = FsBlobStore::open_for_node(dir.path(), "n/1").unwrap();
        let mut sink = node.create().unwrap();
        sink.write_all(b"partial").unwrap();
        assert_eq!(files_under(&dir.path().join("tmp-n_1")).len(), 1);
        drop(sink);
        assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(files_under(&path));
            } else {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn a_directory_fsync_started_after_the_ticket_covers_it_and_a_failure_stays_with_the_tickets_it_covered() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let sync = DirSync::default();
        let early = sync.ticket();
        // Another writer's fsync, started after `early` was taken, covers it: no second fsync.
        sync.sync(dir.path(), sync.ticket()).unwrap();
        sync.sync(dir.path(), early).unwrap();
        let counts = |sync: &DirSync| {
            let state = sync.lock();
            (state.started, state.ended)
        };
        assert_eq!(counts(&sync), (1, 1));
        // A ticket taken now needs a new fsync; this one fails.
        let failed = sync.ticket();
        assert!(sync.sync(&missing, failed).is_err());
        // A later fsync succeeding does not make up for it (the entries may be lost)...
        let later = sync.ticket();
        sync.sync(dir.path(), later).unwrap();
        assert_eq!(counts(&sync), (3, 3));
        assert!(sync.sync(dir.path(), failed).is_err());
        // ...but serves tickets taken after the failure.
        sync.sync(dir.path(), later).unwrap();
    }

    #[test]
    fn concurrent_commits_share_directory_fsyncs_and_all_land() {
        let dir = tempfile::tempdir().unwrap();
        for store in [FsBlobStore::open(dir.path()).unwrap(), FsBlobStore::open_for_node(dir.path(), "n2").unwrap()] {
            let ids: Vec<(BlobId, Vec<u8>)> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..8u8)
                    .map(|i| {
                        let store = &store;
                        scope.spawn(move || {
                            (0..5u8)
                                .map(|j| {
                                    let data = vec![i ^ j; 1000 + usize::from(i) * 10 + usize::from(j)];
                                    let mut sink = store.create().unwrap();
                                    sink.write_all(&data).unwrap();
                                    (sink.commit().unwrap(), data)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
            });
            for (id, data) in &ids {
                let mut got = Vec::new();
                store.open(id).unwrap().read_to_end(&mut got).unwrap();
                assert_eq!(&got, data);
                assert!(id.0.len() == 32 && id.0.bytes().all(|b| b.is_ascii_hexdigit()));
            }
            // Nothing left in the staging directory.
            assert_eq!(files_under(&dir.path().join("tmp-n2")), Vec::<PathBuf>::new());
            let state = store.syncs.lock().unwrap().values().map(|s| s.lock().ended).sum::<u64>();
            assert!((1..=40).contains(&state), "{state} directory fsyncs for 40 blobs");
        }
    }
}
