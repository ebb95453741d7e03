//! The data directory's nonce log (`nonces/`): where the replay guard's journal becomes durable
//! (see `rolestack_core::replay` and ARCHITECTURE.md, "Performance without giving up
//! durability"). Append-only files of 16-byte records
//! (`Spent`: expiry and keyed hash), one file per [`SEGMENT_SECONDS`] of expiry, so whole files
//! are deleted once everything in them expired; `key` holds the hash key, so a restarted server
//! hashes nonces the same way. Each append is made durable (`fdatasync`) before it returns; a
//! record torn by a crash is cut off when the log is opened again.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context};
use rolestack_core::replay::{HashKey, NonceLog, Spent};

/// Seconds of expiry one file covers (a request's nonce is kept up to about 16 minutes, so a
/// handful of files are open at a time).
const SEGMENT_SECONDS: i64 = 300;

/// The nonce files of one data directory.
pub struct NonceFiles {
    dir: PathBuf,
    /// Segment number (expiry / [`SEGMENT_SECONDS`]) → its file, opened for appending.
    open: Mutex<BTreeMap<i64, File>>,
}

/// What [`NonceFiles::open`] found: the hash key and the nonces not yet expired.
pub struct Opened {
    pub files: NonceFiles,
    pub key: HashKey,
    pub live: Vec<Spent>,
}

fn segment_path(dir: &Path, segment: i64) -> PathBuf {
    dir.join(format!("{segment}.log"))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl NonceFiles {
    /// Opens (or creates) the log in `dir`: reads the key, loads the records that expire at or
    /// after `now`, deletes files whose records all expired, and cuts off torn records.
    pub fn open(dir: &Path, now: i64) -> anyhow::Result<Opened> {
        use std::os::unix::fs::DirBuilderExt;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).with_context(|| format!("creating {}", dir.display()))?;
        let key = Self::key(dir)?;
        let mut live = Vec::new();
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            let Some(segment) = path.file_name().and_then(|n| n.to_str()?.strip_suffix(".log")?.parse::<i64>().ok()) else { continue };
            if (segment + 1) * SEGMENT_SECONDS <= now {
                fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
                continue;
            }
            let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let whole = bytes.len() - bytes.len() % Spent::SIZE;
            if whole != bytes.len() {
                let file = OpenOptions::new().write(true).open(&path)?;
                file.set_len(whole as u64)?;
                file.sync_all()?;
            }
            live.extend(Spent::parse_all(&bytes).filter(|s| s.expires >= now));
        }
        sync_dir(dir)?;
        Ok(Opened { files: NonceFiles { dir: dir.to_path_buf(), open: Mutex::new(BTreeMap::new()) }, key, live })
    }

    /// The hash key: read, or made and written durably (a temporary file renamed into place).
    fn key(dir: &Path) -> anyhow::Result<HashKey> {
        let path = dir.join("key");
        if !path.exists() {
            let tmp = dir.join("key.tmp");
            let key = rolestack_core::replay::new_key();
            let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
            f.write_all(&key)?;
            f.sync_all()?;
            fs::rename(&tmp, &path)?;
            sync_dir(dir)?;
        }
        let bytes = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        match <HashKey>::try_from(bytes.as_slice()) {
            Ok(key) => Ok(key),
            Err(_) => bail!("{} must be exactly {} bytes", path.display(), std::mem::size_of::<HashKey>()),
        }
    }
}

impl NonceLog for NonceFiles {
    fn append(&self, spent: &[Spent]) -> std::io::Result<()> {
        let mut by_segment: BTreeMap<i64, Vec<u8>> = BTreeMap::new();
        for s in spent {
            by_segment.entry(s.expires.div_euclid(SEGMENT_SECONDS)).or_default().extend_from_slice(&s.to_bytes());
        }
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mut created = false;
        for (segment, bytes) in &by_segment {
            let file = match open.entry(*segment) {
                std::collections::btree_map::Entry::Occupied(f) => f.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let path = segment_path(&self.dir, *segment);
                    created |= !path.exists();
                    v.insert(OpenOptions::new().append(true).create(true).open(path)?)
                }
            };
            file.write_all(bytes)?;
            file.sync_data()?;
        }
        if created {
            sync_dir(&self.dir)?;
        }
        // Files whose every record expired: closed and deleted (files of an earlier process
        // that this one never appends to go at the next start).
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let expired: Vec<i64> = open.keys().copied().filter(|s| (s + 1) * SEGMENT_SECONDS <= now).collect();
        for segment in expired {
            open.remove(&segment);
            fs::remove_file(segment_path(&self.dir, segment))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_reopening_and_expired_files_go() {
        let path = std::env::temp_dir().join(format!("rolestack-nonce-log-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        // Times around the real clock (appends delete files that expired by it).
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let t = now - now.rem_euclid(SEGMENT_SECONDS) + SEGMENT_SECONDS;
        let first = NonceFiles::open(&path, now).unwrap();
        let records = [Spent { expires: t + 10, hash: 1 }, Spent { expires: t + 700, hash: 2 }, Spent { expires: t + 20, hash: 3 }];
        first.files.append(&records).unwrap();
        // A torn record after a crash in the middle of a write.
        let first_file = segment_path(&path, t / SEGMENT_SECONDS);
        let mut f = OpenOptions::new().append(true).open(&first_file).unwrap();
        f.write_all(&[9; 5]).unwrap();
        drop(f);

        let again = NonceFiles::open(&path, now).unwrap();
        assert_eq!(again.key, first.key, "the key is kept");
        let mut live = again.live.clone();
        live.sort_by_key(|s| s.hash);
        assert_eq!(live, records);
        // The torn tail was cut: a new append stays aligned.
        again.files.append(&[Spent { expires: t + 11, hash: 4 }]).unwrap();
        let third = NonceFiles::open(&path, now).unwrap();
        assert_eq!(third.live.len(), 4);

        // Later, the first segment's file holds only expired records and is deleted.
        let later = NonceFiles::open(&path, t + SEGMENT_SECONDS).unwrap();
        assert_eq!(later.live, vec![Spent { expires: t + 700, hash: 2 }]);
        assert!(!first_file.exists());
        fs::remove_dir_all(&path).unwrap();
    }
}
