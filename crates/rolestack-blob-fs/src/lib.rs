//! rolestack-blob-fs: OSS object bodies as plain files under one directory
//! (`<data-dir>/blobs`), the embedded default [`BlobStore`].
//!
//! Layout: committed blobs at `<root>/<id[0..2]>/<id>`, blobs being written at
//! `<root>/tmp/<id>`. A write goes to the temp file, is fsynced, renamed into place and the
//! directory fsynced, all before the caller commits the object's metadata; so a crash leaves
//! either nothing visible or a complete blob, and a stray temp file is never read. Bodies stream
//! through fixed-size buffers: memory does not grow with object size. Reads of committed blobs
//! may map them instead ([`BlobStore::map`]): a committed blob file is never written again (only
//! removed, which leaves existing mappings intact), so its mapping cannot change underneath.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bytes::Bytes;
use rolestack_core::oss::blob::{BlobId, BlobSink, BlobSource, BlobStore};

/// Write buffer per blob being written.
const WRITE_BUFFER: usize = 256 * 1024;

/// Blobs as files under one root directory.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
    /// Where this process writes blobs before they are committed.
    tmp: PathBuf,
}

impl FsBlobStore {
    /// Opens (creating if needed) the store at `root`; leftover temp files of an earlier
    /// process are removed.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        Self::open_in(root.into(), "tmp".into())
    }

    /// Opens a directory that several nodes share (docs/scale-out.md): each writes its temp
    /// files in a directory of its own (`tmp-<node>`), so one node's start never removes what
    /// another is writing.
    pub fn open_for_node(root: impl Into<PathBuf>, node: &str) -> io::Result<Self> {
        let safe: String = node.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        Self::open_in(root.into(), format!("tmp-{safe}"))
    }

    fn open_in(root: PathBuf, tmp_name: String) -> io::Result<Self> {
        let tmp = root.join(tmp_name);
        fs::create_dir_all(&tmp)?;
        for entry in fs::read_dir(&tmp)? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(FsBlobStore { root, tmp })
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
        let id = uuid::Uuid::new_v4().simple().to_string();
        let temp = self.tmp.join(&id);
        let file = OpenOptions::new().write(true).create_new(true).open(&temp)?;
        let target = self.path_of(&BlobId(id.clone()))?;
        Ok(Box::new(FileSink { id, temp, target, file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)) }))
    }

    fn open(&self, id: &BlobId) -> io::Result<Box<dyn BlobSource>> {
        Ok(Box::new(File::open(self.path_of(id)?)?))
    }

    fn map(&self, id: &BlobId) -> io::Result<Option<Bytes>> {
        let file = File::open(self.path_of(id)?)?;
        if file.metadata()?.len() == 0 {
            return Ok(Some(Bytes::new()));
        }
        // SAFETY: committed blob files are immutable (written under tmp/, renamed into place, never
        // opened for writing again), so the mapped bytes cannot change while mapped. Populating
        // reads the pages in now, on the caller's (blocking) thread, not later where they are sent.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        Ok(Some(Bytes::from_owner(map)))
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

/// A blob being written to its temp file.
struct FileSink {
    id: String,
    temp: PathBuf,
    target: PathBuf,
    file: Option<BufWriter<File>>,
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open until commit").write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open until commit").flush()
    }
}

impl BlobSink for FileSink {
    fn commit(mut self: Box<Self>) -> io::Result<BlobId> {
        let file = self.file.take().expect("committed once").into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let dir = self.target.parent().expect("blob paths have a parent");
        fs::create_dir_all(dir)?;
        fs::rename(&self.temp, &self.target)?;
        File::open(dir)?.sync_all()?;
        Ok(BlobId(std::mem::take(&mut self.id)))
    }
}

impl Drop for FileSink {
    fn drop(&mut self) {
        if self.file.is_some() {
            self.file = None;
            let _ = fs::remove_file(&self.temp);
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
        assert_eq!(store.committed_before(SystemTime::now()).unwrap().len(), 2);
        drop(pending);
    }

    #[test]
    fn dropped_sink_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let mut sink = store.create().unwrap();
        sink.write_all(b"partial").unwrap();
        drop(sink);
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
        assert!(store.open(&BlobId("../etc".into())).is_err());
    }
}
