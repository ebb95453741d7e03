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
//! arriving already counts for it, and its commit usually finds its entry durable. A fan-out
//! directory's own entry in the root must be durable too: ext4 without a journal (as on the
//! machines measured here) writes a new directory's entry in its parent only when the parent is
//! synced, so a power loss could otherwise drop a directory with every acknowledged blob in it.
//! So the first time this process writes into a directory it makes it if missing and fsyncs the
//! root ([`DirSync::settle`]); later writes there skip both (no `mkdir` per blob). A root made
//! at open is fsynced into its parent the same way.
//!
//! Removed blobs' files are reused ([`Spares`]): on this kind of disk, making a body durable in
//! a new file costs the allocation of its blocks besides the data (fdatasync writes the block
//! map and the inode, one device round trip after the other), while overwriting blocks that were
//! written before costs the data and a flush only (`benches/disk_durable.py`, docs/STATUS.md
//! "Performance (issue 13)"). So a removed blob's file is not unlinked but renamed to a new
//! blob id — a spare, which no record names — and a new blob of about its size (the request's
//! Content-Length) takes it: written from its start, cut to the new length, fdatasynced, and
//! committed under that id. The rename happens at the removal and a thread makes it durable
//! (the directory fsync) while the spare waits, so a PUT that takes a spare changes no directory
//! and usually finds its entry durable already. A new id, because a reader that looked the old
//! id up before the removal must find it gone (`NotFound`, as with an unlinked file); and a spare
//! is reused only when no reader has it open under its old id (every open registers, under the
//! same lock the reuse takes) and none of its pages is still held elsewhere — a socket that
//! `sendfile` gave them to keeps references to the file's pages until the peer has them, after
//! the reader is done — so bytes on their way to a reader never change. Only files this process
//! wrote become spares: never a candidate of the orphan collection it runs (which looks at files
//! older than the process), and after a restart an unnamed file like any other, collected. Spares
//! are bounded ([`SPARE_FILES`], [`SPARE_BYTES`]: the oldest spare is unlinked first) and one not
//! reused within [`SPARE_LIFETIME`] is unlinked by the same thread, which runs while there are
//! spares. A directory several nodes share keeps no spares (the other nodes' readers are not
//! known here).
//!
//! Bodies stream through fixed-size buffers: memory does not grow with object size. Reads of
//! committed blobs may map them instead ([`BlobStore::map`]): a committed blob file is not
//! written again while anything has it open (see above; removal leaves existing mappings
//! intact), so its mapping cannot change underneath. A mapping is registered as the file's bytes
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
use rolestack_core::oss::blob::{BlobId, BlobSink, BlobSource, BlobStore, Waits};
use rolestack_core::oss::file_bytes;

/// Write buffer per blob being written.
const WRITE_BUFFER: usize = 256 * 1024;

/// At most this many spare files are kept for reuse ([`Spares`])...
pub const SPARE_FILES: usize = 64;
/// ...holding at most this many bytes together...
pub const SPARE_BYTES: u64 = 128 * 1024 * 1024;
/// ...each for at most this long: a spare nobody reused by then is unlinked, so the space of
/// deleted objects comes back soon after a burst of writes.
pub const SPARE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(3);

/// Blobs as files under one root directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Where a node of a shared directory writes blobs before renaming them into place (`None`:
    /// in place; see the module docs).
    staging: Option<PathBuf>,
    /// The temp directory this store opened (`tmp`, or `tmp-<node>` in a shared directory): what
    /// the readiness check looks for, since it is the one a lost mount takes away.
    tmp: PathBuf,
    /// The shared directory fsyncs, one [`DirSync`] per fan-out directory.
    syncs: Arc<Mutex<HashMap<PathBuf, Arc<DirSync>>>>,
    /// Removed blobs' files kept for reuse and the blobs open for reading (`None` in a shared
    /// directory; see the module docs).
    spares: Option<Arc<Spares>>,
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
        let made = !root.is_dir();
        fs::create_dir_all(&tmp)?;
        if made {
            // The root's own entry (module docs); the directories above it are the caller's.
            if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
                File::open(parent)?.sync_all()?;
            }
        }
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        let spares = (!staged).then(|| Arc::new(Spares { opened: SystemTime::now(), state: Mutex::default(), wake: Condvar::new() }));
        Ok(FsBlobStore { root, staging: staged.then(|| tmp.clone()), tmp, syncs: Arc::default(), spares })
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

impl FsBlobStore {
    /// A new blob id: two hex digits of the minute, then 30 random ones (see the module docs).
    fn new_id() -> String {
        let minute = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 60);
        format!("{:02x}{}", minute % 256, &uuid::Uuid::new_v4().simple().to_string()[2..])
    }

    fn dir_sync(&self, dir: &Path) -> Arc<DirSync> {
        self.syncs.lock().unwrap_or_else(|p| p.into_inner()).entry(dir.to_path_buf()).or_default().clone()
    }

    /// The fan-out directory `dir`'s shared fsyncs, the directory made and durable in the root
    /// (module docs).
    fn settled_dir(&self, dir: &Path) -> io::Result<Arc<DirSync>> {
        let sync = self.dir_sync(dir);
        sync.settle(&self.root, dir)?;
        Ok(sync)
    }

    /// A new blob written over a spare of about `size` bytes, if there is one nobody reads.
    fn reuse(&self, size: u64) -> io::Result<Option<Box<dyn BlobSink>>> {
        let Some(spares) = &self.spares else { return Ok(None) };
        let Some(Spare { id, dir, sync, entry, len, .. }) = spares.take(size) else { return Ok(None) };
        let path = dir.join(&id);
        let file = OpenOptions::new().read(true).write(true).open(&path).and_then(|file| match uncached(&file)? {
            true => Ok(file),
            false => Err(io::Error::other("pages of the spare are still referenced")),
        });
        let Ok(file) = file else {
            let _ = fs::remove_file(&path);
            return Ok(None);
        };
        let file = Some(BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok(Some(Box::new(FileSink {
            id,
            path: path.clone(),
            target: path,
            dir,
            sync,
            entry: Some(entry),
            file,
            written: 0,
            spare_len: len,
        })))
    }

    /// Renames a removed blob's file at `path` to a new id and keeps it as a spare, or unlinks it
    /// when it cannot be one (written before this store was opened, empty, too large).
    fn keep(&self, spares: &Arc<Spares>, path: &Path, old_id: &str) -> io::Result<()> {
        let meta = fs::symlink_metadata(path)?;
        let len = meta.len();
        if !meta.is_file() || len == 0 || len > SPARE_BYTES || meta.modified()? < spares.opened {
            return fs::remove_file(path);
        }
        let id = Self::new_id();
        let target = self.path_of(&BlobId(id.clone()))?;
        let dir = target.parent().expect("blob paths have a parent").to_path_buf();
        let sync = self.settled_dir(&dir)?;
        fs::rename(path, &target)?;
        // The rename made the entry: an fsync of the directory that starts from now on covers it.
        let entry = sync.ticket();
        spares.keep(Spare { old_id: old_id.to_string(), id, dir, sync, entry, len, kept: std::time::Instant::now() });
        Ok(())
    }

    /// The blob's file mapped and registered as its bytes (`BlobStore::map`). Not populated:
    /// plain TCP sends the bytes with sendfile from the page cache and never touches the mapping
    /// (see `rolestack_core::oss::file_bytes`), so page tables would be built and torn down for
    /// nothing. What is not in the page cache yet is read in here when the caller may wait (a
    /// blocking thread), not later where the bytes are sent; when it may not, such a blob is
    /// not mapped (`None`).
    fn map_file(&self, id: &BlobId, waits: Waits) -> io::Result<Option<Bytes>> {
        let (file, guard) = self.open_file(id)?;
        let len = file.metadata()?.len();
        if len == 0 {
            return Ok(Some(Bytes::new()));
        }
        if !resident(&file, len)? {
            match waits {
                Waits::Allowed => read_through(&file, len)?,
                Waits::Refused => return Ok(None),
            }
        }
        // SAFETY: a committed blob file is written only when reused as a spare, which it never is
        // while a reader has it open (`guard`, held by the mapping), so the mapped bytes cannot
        // change while mapped.
        let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(&file)? };
        let file = Arc::new(file);
        // SAFETY: the registration is dropped before the mapping (field order of `MappedBlob`),
        // and the mapping holds the file's bytes from offset 0 (immutable, see above).
        let registration = unsafe { file_bytes::register(&map, file, 0) };
        Ok(Some(Bytes::from_owner(MappedBlob { _registration: registration, map, _guard: guard })))
    }

    /// Opens a blob's file for reading, registered as read (so not reused) until the returned
    /// guard is dropped: opening and registering under the lock a reuse takes, so a reuse
    /// either sees the reader or happens before the open, which then finds no file.
    fn open_file(&self, id: &BlobId) -> io::Result<(File, Option<ReadGuard>)> {
        let path = self.path_of(id)?;
        match &self.spares {
            None => Ok((File::open(path)?, None)),
            Some(spares) => {
                let mut state = spares.lock();
                let file = File::open(path)?;
                *state.readers.entry(id.0.clone()).or_default() += 1;
                Ok((file, Some(ReadGuard { spares: spares.clone(), id: id.0.clone() })))
            }
        }
    }
}

impl BlobStore for FsBlobStore {
    fn create(&self) -> io::Result<Box<dyn BlobSink>> {
        let id = Self::new_id();
        let target = self.path_of(&BlobId(id.clone()))?;
        let dir = target.parent().expect("blob paths have a parent").to_path_buf();
        let path = self.staging.as_ref().map_or_else(|| target.clone(), |staging| staging.join(&id));
        let sync = self.settled_dir(&dir)?;
        let file = match OpenOptions::new().write(true).create_new(true).open(&path) {
            // The directory went away while this process ran (removed by hand): made again.
            Err(e) if e.kind() == io::ErrorKind::NotFound && self.staging.is_none() => {
                sync.unsettle();
                sync.settle(&self.root, &dir)?;
                OpenOptions::new().write(true).create_new(true).open(&path)?
            }
            opened => opened?,
        };
        // Written in place, the entry exists from here on: any fsync of the directory that starts
        // after this covers it, also one another writer runs while this body is still arriving.
        // Staged, the entry that matters is made by the rename at commit.
        let entry = self.staging.is_none().then(|| sync.ticket());
        let file = Some(BufWriter::with_capacity(WRITE_BUFFER, file));
        Ok(Box::new(FileSink { id, path, target, dir, sync, entry, file, written: 0, spare_len: 0 }))
    }

    /// Reuses a spare file of about `size` bytes when there is one (module docs).
    fn create_sized(&self, size: Option<u64>) -> io::Result<Box<dyn BlobSink>> {
        match size {
            Some(size) if size > 0 => Ok(self.reuse(size)?.map_or_else(|| self.create(), Ok)?),
            _ => self.create(),
        }
    }

    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>> {
        let (file, guard) = self.open_file(id)?;
        Ok(Box::new(ReadFile { file, _guard: guard }))
    }

    fn map(&self, id: &BlobId) -> io::Result<Option<Bytes>> {
        self.map_file(id, Waits::Allowed)
    }

    fn map_cached(&self, id: &BlobId) -> io::Result<Option<Bytes>> {
        self.map_file(id, Waits::Refused)
    }

    /// Unlinks the blob's file, or keeps it under a new id for reuse (module docs).
    fn remove(&self, id: &BlobId) -> io::Result<()> {
        let path = self.path_of(id)?;
        let result = match &self.spares {
            Some(spares) => self.keep(spares, &path, &id.0),
            None => fs::remove_file(&path),
        };
        match result {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        }
    }

    /// The directory is there and is a directory (a lost mount shows here).
    fn check(&self) -> io::Result<()> {
        // The directory `open_in` made, not a fixed `tmp`: a node of a shared directory has only
        // its own `tmp-<node>`, and checking `tmp` there kept `/ready` at 503 forever.
        if fs::metadata(&self.tmp)?.is_dir() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::NotFound, format!("{} is not a directory", self.tmp.display())))
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
    /// Dropped last: the file may be reused only once it is unmapped.
    _guard: Option<ReadGuard>,
}

/// A blob file open for reading, registered as read while open.
struct ReadFile {
    file: File,
    _guard: Option<ReadGuard>,
}

impl io::Read for ReadFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

impl io::Seek for ReadFile {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        self.file.seek(pos)
    }
}

/// Removed blobs' files kept for reuse, and the blobs open for reading now (see the module docs).
#[derive(Debug)]
struct Spares {
    /// When the store was opened: only files written since become spares.
    opened: SystemTime,
    state: Mutex<SpareState>,
    /// Wakes the spares' thread when a spare is kept.
    wake: Condvar,
}

#[derive(Debug, Default)]
struct SpareState {
    /// Open readers per blob id (no entry: none).
    readers: HashMap<String, usize>,
    /// Spares, oldest first.
    spares: std::collections::VecDeque<Spare>,
    /// Their bytes together.
    bytes: u64,
    /// Directory fsyncs that make spares' renames durable, for the spares' thread to run.
    unsynced: Vec<(Arc<DirSync>, PathBuf, u64)>,
    /// Whether the spares' thread runs.
    running: bool,
}

/// A spare: the file of the removed blob `old_id`, renamed to the unnamed blob `id` in `dir`
/// (durable once fsync `entry` of `sync` has ended), `len` bytes long, kept since `kept`.
#[derive(Debug)]
struct Spare {
    old_id: String,
    id: String,
    dir: PathBuf,
    sync: Arc<DirSync>,
    entry: u64,
    len: u64,
    kept: std::time::Instant,
}

impl Spares {
    fn lock(&self) -> MutexGuard<'_, SpareState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a spare, unlinking the oldest ones beyond the bounds, and has the spares' thread
    /// make its rename durable.
    fn keep(self: &Arc<Self>, spare: Spare) {
        let mut evicted = Vec::new();
        {
            let mut state = self.lock();
            while state.spares.len() >= SPARE_FILES || state.bytes + spare.len > SPARE_BYTES {
                let Some(oldest) = state.spares.pop_front() else { break };
                state.bytes -= oldest.len;
                evicted.push(oldest.dir.join(oldest.id));
            }
            state.unsynced.push((spare.sync.clone(), spare.dir.clone(), spare.entry));
            state.bytes += spare.len;
            state.spares.push_back(spare);
            if !state.running {
                let spares = self.clone();
                // Without the thread (none could be started) the bounds still hold and a reuse
                // runs the directory fsync itself; the next spare tries again.
                state.running = std::thread::Builder::new().name("blob-spares".into()).spawn(move || spares.run()).is_ok();
            }
        }
        self.wake.notify_all();
        for path in evicted {
            let _ = fs::remove_file(path);
        }
    }

    /// The spares' thread: runs the directory fsyncs of new spares' renames, and unlinks each
    /// spare once [`SPARE_LIFETIME`] has passed since it was kept; ends when there are none.
    fn run(&self) {
        let mut state = self.lock();
        loop {
            let unsynced = std::mem::take(&mut state.unsynced);
            let mut expired = Vec::new();
            while state.spares.front().is_some_and(|s| s.kept.elapsed() >= SPARE_LIFETIME) {
                let spare = state.spares.pop_front().expect("checked");
                state.bytes -= spare.len;
                expired.push(spare.dir.join(spare.id));
            }
            if unsynced.is_empty() && expired.is_empty() {
                let Some(oldest) = state.spares.front() else {
                    state.running = false;
                    return;
                };
                let wait = SPARE_LIFETIME.saturating_sub(oldest.kept.elapsed());
                state = self.wake.wait_timeout(state, wait).unwrap_or_else(|p| p.into_inner()).0;
                continue;
            }
            drop(state);
            // A failed fsync is remembered by its `DirSync`: the commit of a blob written over
            // that spare fails with it.
            for (sync, dir, entry) in unsynced {
                let _ = sync.sync(&dir, entry);
            }
            for path in expired {
                let _ = fs::remove_file(path);
            }
            state = self.lock();
        }
    }

    /// Takes a spare of `size` to twice `size` bytes that no reader has open, the oldest first.
    fn take(&self, size: u64) -> Option<Spare> {
        let mut state = self.lock();
        let at = state.spares.iter().position(|s| s.len >= size && s.len / 2 <= size && !state.readers.contains_key(&s.old_id))?;
        let spare = state.spares.remove(at).expect("found");
        state.bytes -= spare.len;
        Some(spare)
    }
}

/// A reader's registration ([`FsBlobStore::open_file`]), undone when dropped.
#[derive(Debug)]
struct ReadGuard {
    spares: Arc<Spares>,
    id: String,
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        let mut state = self.spares.lock();
        if let Some(n) = state.readers.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                state.readers.remove(&self.id);
            }
        }
    }
}

impl AsRef<[u8]> for MappedBlob {
    fn as_ref(&self) -> &[u8] {
        &self.map
    }
}

/// Whether every page of `file`'s first `len` bytes is in the page cache.
fn resident(file: &File, len: u64) -> io::Result<bool> {
    Ok(cached_pages(file, len)? >= len.div_ceil(page_size() as u64))
}

/// How many pages of `file`'s first `len` bytes (not 0) are in the page cache.
fn cached_pages(file: &File, len: u64) -> io::Result<u64> {
    if let Some(cached) = cachestat(file, len)? {
        return Ok(cached);
    }
    // SAFETY: the mapping is only handed to mincore, never read.
    let map = unsafe { memmap2::MmapOptions::new().len(len as usize).map(file)? };
    Ok(residency(&map)?.iter().filter(|p| *p & 1 == 1).count() as u64)
}

/// How many pages of `file`'s first `len` bytes are in the page cache, from `cachestat(2)`
/// (Linux 6.5: one pass over the file's cache, no mapping, no page references taken), or
/// `None` where the kernel lacks it (then `mincore(2)` on a mapping answers).
fn cachestat(file: &File, len: u64) -> io::Result<Option<u64>> {
    static MISSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if MISSING.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(None);
    }
    /// `struct cachestat_range` of linux/mman.h.
    #[repr(C)]
    struct Range {
        off: u64,
        len: u64,
    }
    /// `struct cachestat` of linux/mman.h.
    #[repr(C)]
    #[derive(Default)]
    struct Stat {
        nr_cache: u64,
        nr_dirty: u64,
        nr_writeback: u64,
        nr_evicted: u64,
        nr_recently_evicted: u64,
    }
    /// Its number, the same on every architecture (system calls added since Linux 5.1 share one table).
    const SYS_CACHESTAT: libc::c_long = 451;
    let range = Range { off: 0, len };
    let mut stat = Stat::default();
    // SAFETY: both pointers are to live values of the layouts the kernel expects; flags are 0.
    let rc = unsafe {
        libc::syscall(SYS_CACHESTAT, std::os::fd::AsRawFd::as_raw_fd(file), &range as *const Range, &mut stat as *mut Stat, 0u32)
    };
    if rc == 0 {
        return Ok(Some(stat.nr_cache));
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::ENOSYS) | Some(libc::EPERM) => {
            MISSING.store(true, std::sync::atomic::Ordering::Relaxed);
            Ok(None)
        }
        _ => Err(e),
    }
}

fn page_size() -> usize {
    *PAGE_SIZE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
    })
}

/// Drops `file`'s pages from the page cache and tells whether none is left. A page that stays
/// is referenced from elsewhere: above all by a socket that `sendfile` handed it to and that has
/// not sent it yet (TCP keeps references to the file's pages, not copies, until the peer has
/// acknowledged them). Writing the file would change those bytes on their way to a reader,
/// so a spare is written only when this says true (see the module docs). Pages nobody
/// references are evicted (`POSIX_FADV_DONTNEED` skips referenced ones), so the writes that
/// follow go to new pages whatever held the old ones before.
fn uncached(file: &File) -> io::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    // SAFETY: a plain system call on an open file.
    let rc = unsafe { libc::posix_fadvise(std::os::fd::AsRawFd::as_raw_fd(file), 0, 0, libc::POSIX_FADV_DONTNEED) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    Ok(cached_pages(file, len)? == 0)
}

/// One byte per page of `map`, bit 0 set when the page is in the page cache (`mincore(2)`).
fn residency(map: &memmap2::Mmap) -> io::Result<Vec<u8>> {
    let mut pages = vec![0u8; map.len().div_ceil(page_size())];
    // SAFETY: `map` is a live mapping of `map.len()` bytes at a page-aligned address, and
    // `pages` has one byte per page of it.
    let rc = unsafe { libc::mincore(map.as_ptr() as *mut libc::c_void, map.len(), pages.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pages)
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
    /// Bytes written so far.
    written: u64,
    /// The length of the spare file this blob is written over (0: a new file).
    spare_len: u64,
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.as_mut().expect("open until commit").write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        let n = self.file.as_mut().expect("open until commit").write_vectored(bufs)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until commit").flush()
    }
}

impl BlobSink for FileSink {
    fn commit(mut self: Box<Self>) -> io::Result<BlobId> {
        let file = self.file.as_mut().expect("committed once");
        file.flush()?;
        if self.written < self.spare_len {
            // Written over a longer spare: what is left of the spare's bytes goes.
            file.get_ref().set_len(self.written)?;
        }
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
    /// Whether the directory is known to exist with a durable entry in the root
    /// ([`DirSync::settle`]); the lock is held while one writer makes it so.
    settled: std::sync::atomic::AtomicBool,
    settling: Mutex<()>,
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

    /// Makes `dir` if it is missing and fsyncs `root` so that its entry is durable — once per
    /// directory and process; every later call returns at once.
    fn settle(&self, root: &Path, dir: &Path) -> io::Result<()> {
        use std::sync::atomic::Ordering;
        if self.settled.load(Ordering::Acquire) {
            return Ok(());
        }
        let _one = self.settling.lock().unwrap_or_else(|p| p.into_inner());
        if self.settled.load(Ordering::Acquire) {
            return Ok(());
        }
        match fs::create_dir(dir) {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => File::open(root)?.sync_all()?,
        }
        self.settled.store(true, Ordering::Release);
        Ok(())
    }

    /// The directory turned out to be gone: the next [`DirSync::settle`] makes it again.
    fn unsettle(&self) {
        self.settled.store(false, std::sync::atomic::Ordering::Release);
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

    /// A node of a shared directory is ready on its own staging directory (`tmp-<node>`, no
    /// `tmp`), and not ready once that directory is gone (a lost mount).
    #[test]
    fn check_looks_at_the_staging_directory_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let node = FsBlobStore::open_for_node(dir.path(), "node1").unwrap();
        assert!(!dir.path().join("tmp").exists());
        node.check().expect("ready on tmp-node1");
        fs::remove_dir(dir.path().join("tmp-node1")).unwrap();
        assert!(node.check().is_err(), "its staging directory is gone");
        let single = FsBlobStore::open(dir.path()).unwrap();
        single.check().expect("ready on tmp");
    }

    #[test]
    fn cachestat_counts_the_pages_mincore_finds_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data = vec![7u8; 64 * 4096 + 100];
        fs::write(&path, &data).unwrap();
        let f = File::open(&path).unwrap();
        f.sync_all().unwrap();
        // SAFETY: a plain system call on an open file.
        unsafe { libc::posix_fadvise(std::os::fd::AsRawFd::as_raw_fd(&f), 0, 0, libc::POSIX_FADV_DONTNEED) };
        // Some pages read back in, some not.
        std::os::unix::fs::FileExt::read_exact_at(&f, &mut [0u8; 4096 * 3], 4096 * 10).unwrap();
        let len = data.len() as u64;
        // SAFETY: the mapping is only handed to mincore.
        let map = unsafe { memmap2::MmapOptions::new().len(data.len()).map(&f).unwrap() };
        let by_mincore = residency(&map).unwrap().iter().filter(|p| *p & 1 == 1).count() as u64;
        if let Some(by_cachestat) = cachestat(&f, len).unwrap() {
            assert_eq!(by_cachestat, by_mincore);
        }
        assert_eq!(cached_pages(&f, len).unwrap(), by_mincore);
        assert_eq!(resident(&f, len).unwrap(), by_mincore == len.div_ceil(page_size() as u64));
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
        let len = data.len() as u64;
        if !resident(&f, len).unwrap() {
            // (a tmpfs keeps it resident anyway) not in memory: not mapped by a caller that may not wait
            assert!(store.map_cached(&id).unwrap().is_none());
        }

        let bytes = store.map(&id).unwrap().unwrap();
        // Read in when it was not resident: resident now, and mapped for a caller that may not wait.
        assert!(resident(&f, len).unwrap());
        assert_eq!(&store.map_cached(&id).unwrap().unwrap()[..], &data[..]);
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

    /// A directory on the disk the build is on: on a tmpfs `/tmp` pages never leave the page
    /// cache, so spares would never be reused there.
    fn disk_dir() -> tempfile::TempDir {
        let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/test-tmp");
        fs::create_dir_all(&base).unwrap();
        tempfile::tempdir_in(base).unwrap()
    }

    /// Opens a store whose files can become spares: the kernel stamps files with a clock that
    /// runs up to a tick behind, so files written in the first milliseconds after the opening
    /// look older than it (and are unlinked when removed, never kept: the safe side).
    fn open_for_spares(dir: &Path) -> FsBlobStore {
        let store = FsBlobStore::open(dir).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        store
    }

    fn commit(store: &FsBlobStore, size: Option<u64>, data: &[u8]) -> BlobId {
        let mut sink = store.create_sized(size).unwrap();
        sink.write_all(data).unwrap();
        sink.commit().unwrap()
    }

    fn read(store: &FsBlobStore, id: &BlobId) -> Vec<u8> {
        let mut got = Vec::new();
        store.open(id).unwrap().read_to_end(&mut got).unwrap();
        got
    }

    /// A store that keeps spares, holding one blob of `data`: (directory, store, id, inode).
    fn one_blob(data: &[u8]) -> (tempfile::TempDir, FsBlobStore, BlobId, u64) {
        let dir = disk_dir();
        let store = open_for_spares(dir.path());
        let id = commit(&store, None, data);
        let inode = inode(&store, &id);
        (dir, store, id, inode)
    }

    fn spare_count(store: &FsBlobStore) -> usize {
        store.spares.as_ref().unwrap().lock().spares.len()
    }

    fn inode(store: &FsBlobStore, id: &BlobId) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(store.path_of(id).unwrap()).unwrap())
    }

    #[test]
    fn a_removed_blobs_file_is_reused_under_a_new_id_and_the_old_id_is_gone() {
        let (dir, store, old, old_inode) = one_blob(&[1u8; 5000]);
        store.remove(&old).unwrap();
        assert_eq!(store.open(&old).err().map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        assert_eq!(spare_count(&store), 1);
        assert_eq!(files_under(dir.path()).len(), 1);
        // A body of about the same size takes the spare: same file, new id, only the new bytes.
        let new = commit(&store, Some(3000), &[2u8; 3000]);
        assert_ne!(new, old);
        assert_eq!(inode(&store, &new), old_inode);
        assert_eq!(read(&store, &new), vec![2u8; 3000]);
        assert_eq!(store.open(&old).err().map(|e| e.kind()), Some(io::ErrorKind::NotFound));
        assert_eq!(spare_count(&store), 0);
        assert_eq!(files_under(dir.path()).len(), 1);
        // Without a size, or with one the spare does not fit, a new file.
        store.remove(&new).unwrap();
        let unsized_ = commit(&store, None, &[3u8; 3000]);
        let larger = commit(&store, Some(3001), &[4u8; 3001]);
        let much_smaller = commit(&store, Some(1000), &[5u8; 1000]);
        for id in [&unsized_, &larger, &much_smaller] {
            assert_ne!(inode(&store, id), old_inode);
        }
        assert_eq!(spare_count(&store), 1);
        // A body longer than its hint is stored whole all the same.
        let longer = commit(&store, Some(2000), &[6u8; 4000]);
        assert_eq!(inode(&store, &longer), old_inode);
        assert_eq!(read(&store, &longer), vec![6u8; 4000]);
    }

    #[test]
    fn a_spare_that_a_reader_has_open_or_mapped_is_not_written_until_the_reader_is_done() {
        let (_dir, store, old, old_inode) = one_blob(&[7u8; 8192]);
        let mapped = store.map(&old).unwrap().unwrap();
        let mut reading = store.open(&old).unwrap();
        store.remove(&old).unwrap();
        let new = commit(&store, Some(8192), &[8u8; 8192]);
        assert_ne!(inode(&store, &new), old_inode, "a reader has the spare open");
        drop(mapped);
        let again = commit(&store, Some(8192), &[9u8; 8192]);
        assert_ne!(inode(&store, &again), old_inode, "the open file still reads it");
        let mut got = Vec::new();
        reading.read_to_end(&mut got).unwrap();
        assert_eq!(got, vec![7u8; 8192]);
        drop(reading);
        let last = commit(&store, Some(8192), &[10u8; 8192]);
        assert_eq!(inode(&store, &last), old_inode, "no reader left");
        assert_eq!(read(&store, &last), vec![10u8; 8192]);
    }

    #[test]
    fn bytes_a_pipe_or_socket_took_from_a_spares_pages_never_change() {
        let (_dir, store, old, old_inode) = one_blob(&[11u8; 16384]);
        // What sendfile does to a socket: the pipe takes references to the file's pages.
        let (mut rx, tx) = std::io::pipe().unwrap();
        {
            let file = File::open(store.path_of(&old).unwrap()).unwrap();
            let mut offset: libc::loff_t = 0;
            // SAFETY: plain system call on two open descriptors.
            let n = unsafe {
                libc::splice(
                    std::os::fd::AsRawFd::as_raw_fd(&file),
                    &mut offset,
                    std::os::fd::AsRawFd::as_raw_fd(&tx),
                    std::ptr::null_mut(),
                    16384,
                    0,
                )
            };
            assert_eq!(n, 16384);
        }
        store.remove(&old).unwrap();
        // The spare is either not reused (its pages stayed cached) or written to new pages
        // (they left the page cache, the pipe keeps the old ones): the pipe's bytes never change.
        let new = commit(&store, Some(16384), &[12u8; 16384]);
        let mut held = vec![0u8; 16384];
        rx.read_exact(&mut held).unwrap();
        assert!(held.iter().all(|&b| b == 11), "what the pipe holds changed (reused: {})", inode(&store, &new) == old_inode);
        assert!(read(&store, &new) == vec![12u8; 16384]);
        drop(tx);
    }

    #[test]
    fn spares_are_bounded_and_only_files_of_this_store_and_in_place_become_spares() {
        let dir = disk_dir();
        let store = open_for_spares(dir.path());
        let ids: Vec<BlobId> = (0..SPARE_FILES + 6).map(|i| commit(&store, None, &[i as u8; 100])).collect();
        let before_reopen = commit(&store, None, b"written before the store was opened again");
        for id in &ids {
            store.remove(id).unwrap();
            store.remove(id).unwrap(); // removing twice is not an error
        }
        assert_eq!(spare_count(&store), SPARE_FILES);
        assert_eq!(files_under(dir.path()).len(), SPARE_FILES + 1);
        let big = commit(&store, None, &vec![0u8; (SPARE_BYTES + 1) as usize]);
        store.remove(&big).unwrap();
        assert_eq!(spare_count(&store), SPARE_FILES);
        assert_eq!(files_under(dir.path()).len(), SPARE_FILES + 1);
        // Opened again (a new process): a file written before the opening is unlinked, not
        // kept. (The first store's spares are unnamed files to the second: its orphan
        // collection's, which `committed_before` lists.)
        let again = open_for_spares(dir.path());
        assert_eq!(again.committed_before(SystemTime::now()).unwrap().len(), SPARE_FILES + 1);
        again.remove(&before_reopen).unwrap();
        assert_eq!(spare_count(&again), 0);
        assert_eq!(files_under(dir.path()).len(), SPARE_FILES);
        drop(again);
        for id in store.committed_before(SystemTime::now()).unwrap() {
            fs::remove_file(store.path_of(&id).unwrap()).unwrap();
        }
        // A node of a shared directory keeps no spares.
        let node = FsBlobStore::open_for_node(dir.path(), "n1").unwrap();
        let id = commit(&node, Some(10), b"0123456789");
        node.remove(&id).unwrap();
        assert_eq!(files_under(dir.path()), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_spare_nobody_reuses_is_unlinked_after_its_lifetime() {
        let dir = disk_dir();
        let store = open_for_spares(dir.path());
        let id = commit(&store, None, b"deleted and never replaced");
        store.remove(&id).unwrap();
        assert_eq!((spare_count(&store), files_under(dir.path()).len()), (1, 1));
        let deadline = std::time::Instant::now() + SPARE_LIFETIME * 3;
        // The file goes, and the thread that unlinked it ends with nothing left to wait for.
        while !files_under(dir.path()).is_empty() || store.spares.as_ref().unwrap().lock().running {
            assert!(std::time::Instant::now() < deadline, "the spare outlived its lifetime");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
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
    fn a_fan_out_directory_is_made_once_and_again_when_removed_by_hand() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path().join("blobs")).unwrap();
        let first = commit(&store, None, b"one");
        let fan_out = store.path_of(&first).unwrap().parent().unwrap().to_path_buf();
        assert!(store.dir_sync(&fan_out).settled.load(std::sync::atomic::Ordering::Acquire));
        fs::remove_dir_all(&fan_out).unwrap();
        // Usually the same minute, so the same directory: gone, and made again.
        let second = commit(&store, None, b"two");
        assert_eq!(read(&store, &second), b"two");
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
