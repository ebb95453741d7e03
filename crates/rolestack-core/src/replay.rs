//! Replay protection for signed RPC requests: a `SignatureNonce` is accepted once within the
//! timestamp window, also across a restart — without an fsync per request.
//!
//! - **In memory**: every spent nonce is remembered (as a keyed 64-bit hash of AccessKey and nonce,
//!   kept as its top 48 bits — 6 bytes each — once merged into its per-minute bucket; buckets
//!   expire with the window), so a replay is refused at once: it has the same hash, so the same
//!   48 bits. A new nonce is taken for a spent one only when its hash's top 48 bits equal those of
//!   one of the n remembered: odds n / 2⁴⁸ per request (1 in 280 million with a million nonces in
//!   the window), and the key is random (kept with the log).
//! - **Durable with the write it belongs to**: a call that writes stores its nonce in the same
//!   transaction (`Tx::use_nonce`), so the nonce is durable exactly when the write is — one fsync
//!   for both — and a store shared by several servers refuses a replay on another node.
//! - **Durable soon for the rest**: nonces of reads (and of failed writes) go to a [`NonceLog`]
//!   (the data directory's append-only files of 16-byte [`Spent`] records: expiry and keyed
//!   hash) in batches written by a background thread ([`FLUSH_EVERY`]), and are loaded back at
//!   start. The hash key is kept with the log, so a restarted process computes the same hashes.
//! - **A restart epoch for the gap**: after a stop that did not flush the journal (a crash), a
//!   request signed before the new process started is refused (`InvalidTimeStamp.Expired`), so a
//!   nonce lost in the last batch window cannot be replayed. A clean stop flushes and says so
//!   ([`NonceGuard::mark_clean`]), and the next start has no epoch.

use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use siphasher::sip::SipHasher13;

/// How long journalled nonces may wait before they are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A nonce kept by the store (`Tx::use_nonce`): AccessKey, nonce, expiry (Unix seconds).
pub type JournalEntry = (String, String, i64);

/// The key of the nonce hashes (SipHash-1-3's 128 bits): random for a new log, then kept with it.
pub type HashKey = [u8; 16];

/// A new random hash key.
pub fn new_key() -> HashKey {
    rand::random()
}

/// A spent nonce as the journal keeps it: when it may be forgotten (Unix seconds) and the keyed
/// hash of AccessKey and nonce. 16 bytes on disk ([`Spent::to_bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spent {
    pub expires: i64,
    pub hash: u64,
}

impl Spent {
    /// Bytes of one record.
    pub const SIZE: usize = 16;

    /// Little-endian expiry, then little-endian hash.
    pub fn to_bytes(self) -> [u8; Self::SIZE] {
        let mut b = [0; Self::SIZE];
        b[..8].copy_from_slice(&self.expires.to_le_bytes());
        b[8..].copy_from_slice(&self.hash.to_le_bytes());
        b
    }

    /// The records of `bytes`; a torn record at the end (a crash during a write) is ignored.
    pub fn parse_all(bytes: &[u8]) -> impl Iterator<Item = Spent> + '_ {
        bytes.chunks_exact(Self::SIZE).map(|r| Spent {
            expires: i64::from_le_bytes(r[..8].try_into().expect("8 bytes")),
            hash: u64::from_le_bytes(r[8..].try_into().expect("8 bytes")),
        })
    }
}

/// Where journalled nonces become durable: the data directory's nonce files (the server crate).
pub trait NonceLog: Send + Sync {
    /// Appends the records durably (returns once they survive a crash), or fails with nothing
    /// promised (the caller keeps them for the next round).
    fn append(&self, spent: &[Spent]) -> std::io::Result<()>;
}

/// The hasher of sets of [`NonceGuard::hash`] values: they are keyed hashes already (uniform
/// and unknown to clients), so the set uses them as they are instead of hashing them again.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `u64`s are hashed (`write_u64`); anything else is folded in, never ignored.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// What a [`Bucket`]'s vector keeps of a hash: its top 48 bits, big-endian, so that the order of
/// the byte arrays is the order of the hashes.
type Prefix = [u8; 6];

fn prefix(h: u64) -> Prefix {
    let b = h.to_be_bytes();
    [b[0], b[1], b[2], b[3], b[4], b[5]]
}

/// The hashes of the nonces that expire in one minute: most as 6-byte [`Prefix`]es in a sorted
/// vector (no empty slots, unlike a hash table; the nonces of a busy window are most of the
/// server's heap), the newest whole in a small set merged into it every [`Bucket::MERGE_AT`]
/// insertions (one linear merge in place).
#[derive(Default)]
struct Bucket {
    sorted: Vec<Prefix>,
    recent: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

impl Bucket {
    /// How many hashes wait in the set before they are merged into the vector: the merge costs
    /// one pass over the vector, so a few nanoseconds per insertion on average.
    const MERGE_AT: usize = 4096;

    fn contains(&self, h: u64) -> bool {
        self.recent.contains(&h) || self.sorted.binary_search(&prefix(h)).is_ok()
    }

    /// Adds `h` (not [`Bucket::contains`]ed).
    fn insert(&mut self, h: u64) {
        self.recent.insert(h);
        if self.recent.len() >= Self::MERGE_AT {
            let mut new: Vec<Prefix> = self.recent.drain().map(prefix).collect();
            new.sort_unstable();
            // Merge from the back into the vector grown by exactly the new hashes.
            let (mut i, mut j) = (self.sorted.len(), new.len());
            self.sorted.reserve_exact(j);
            self.sorted.resize(i + j, [0; 6]);
            while j > 0 {
                let k = i + j - 1;
                if i > 0 && self.sorted[i - 1] > new[j - 1] {
                    self.sorted[k] = self.sorted[i - 1];
                    i -= 1;
                } else {
                    self.sorted[k] = new[j - 1];
                    j -= 1;
                }
            }
        }
    }
}

/// The spent nonces of this process and the journal of those not yet durable.
pub struct NonceGuard {
    key: HashKey,
    /// Expiry minute → hashes of `(AccessKey, nonce)` that expire in it.
    spent: Mutex<BTreeMap<i64, Bucket>>,
    journal: Mutex<Vec<Spent>>,
    /// Where the journal is written (without one, nonces live in memory only).
    log: OnceLock<Arc<dyn NonceLog>>,
    /// Requests signed before this (Unix seconds) are refused; 0 after a clean stop.
    epoch: i64,
}

impl NonceGuard {
    /// `epoch`: the start of this process after an unclean stop, else 0. Hashes with a random key
    /// (nonces kept in memory only, or a new log).
    pub fn new(epoch: i64) -> Arc<NonceGuard> {
        Self::with_key(epoch, new_key())
    }

    /// [`NonceGuard::new`] hashing with `key` (the key of an existing [`NonceLog`]).
    pub fn with_key(epoch: i64, key: HashKey) -> Arc<NonceGuard> {
        Arc::new(NonceGuard { key, spent: Mutex::new(BTreeMap::new()), journal: Mutex::new(Vec::new()), log: OnceLock::new(), epoch })
    }

    /// Requests signed before this instant (Unix seconds) are refused.
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    fn hash(&self, access_key_id: &str, nonce: &str) -> u64 {
        let mut h = SipHasher13::new_with_key(&self.key);
        (access_key_id, nonce).hash(&mut h);
        h.finish()
    }

    /// Spends a nonce valid until `expires` at `now`: its record (for [`NonceGuard::journal`]),
    /// or `None` if it was spent before.
    pub fn spend(&self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> Option<Spent> {
        let h = self.hash(access_key_id, nonce);
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what expired (whole minutes before now).
        while let Some(bucket) = spent.first_entry() {
            if *bucket.key() >= now / 60 {
                break;
            }
            bucket.remove();
        }
        if spent.values().any(|bucket| bucket.contains(h)) {
            return None;
        }
        spent.entry(expires / 60 + 1).or_default().insert(h);
        Some(Spent { expires, hash: h })
    }

    /// Remembers nonces spent before (loaded from the store at start).
    pub fn remember(&self, entries: impl IntoIterator<Item = JournalEntry>) {
        self.remember_spent(entries.into_iter().map(|(ak, nonce, expires)| Spent { expires, hash: self.hash(&ak, &nonce) }));
    }

    /// Remembers journalled nonces (loaded from the [`NonceLog`] at start; hashed with this
    /// guard's key).
    pub fn remember_spent(&self, entries: impl IntoIterator<Item = Spent>) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        for Spent { expires, hash } in entries {
            let bucket = spent.entry(expires / 60 + 1).or_default();
            if !bucket.contains(hash) {
                bucket.insert(hash);
            }
        }
    }

    /// Queues a spent nonce for the log (it was not written with a transaction of its own call).
    pub fn journal(&self, spent: Spent) {
        if self.log.get().is_none() {
            return;
        }
        self.journal.lock().unwrap_or_else(|p| p.into_inner()).push(spent);
    }

    /// Writes the journal to the log (one append); returns how many were written.
    pub fn flush(&self) -> std::io::Result<usize> {
        let Some(log) = self.log.get() else { return Ok(0) };
        let batch: Vec<Spent> = std::mem::take(&mut *self.journal.lock().unwrap_or_else(|p| p.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        if let Err(e) = log.append(&batch) {
            // Keep them for the next round rather than losing them.
            self.journal.lock().unwrap_or_else(|p| p.into_inner()).extend(batch);
            return Err(e);
        }
        Ok(batch.len())
    }

    /// Journals to `log` from now on, and starts the thread that flushes it every [`FLUSH_EVERY`].
    pub fn start_flusher(self: &Arc<Self>, log: Arc<dyn NonceLog>) {
        if self.log.set(log).is_err() {
            return;
        }
        let guard = self.clone();
        std::thread::Builder::new()
            .name("nonce-journal".into())
            .spawn(move || loop {
                std::thread::sleep(FLUSH_EVERY);
                if let Err(e) = guard.flush() {
                    eprintln!("rolestack: could not journal request nonces: {e}");
                }
            })
            .expect("spawning the nonce journal");
    }

    /// Flushes the journal for a clean stop; `true` when everything was written (the next start
    /// then needs no epoch).
    pub fn mark_clean(&self) -> bool {
        self.flush().is_ok() && self.journal.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_spent_once_until_it_expires() {
        let g = NonceGuard::new(0);
        assert!(g.spend("k", "n1", 1_000, 1_900).is_some());
        assert!(g.spend("k", "n1", 1_010, 1_900).is_none());
        assert!(g.spend("other", "n1", 1_010, 1_900).is_some(), "nonces are per AccessKey");
        assert!(g.spend("k", "n2", 1_010, 1_900).is_some());
        // After the window the memory forgets it (the timestamp check refuses such requests anyway).
        assert!(g.spend("k", "n1", 3_000, 3_900).is_some());
    }

    #[test]
    fn many_nonces_in_one_minute_stay_spent_across_merges() {
        let g = NonceGuard::new(0);
        let n = Bucket::MERGE_AT * 3 + 17;
        for i in 0..n {
            assert!(g.spend("k", &format!("n{i}"), 1_000, 1_900).is_some(), "nonce {i} is new");
        }
        for i in 0..n {
            assert!(g.spend("k", &format!("n{i}"), 1_010, 1_900).is_none(), "nonce {i} is spent");
        }
        let spent = g.spent.lock().unwrap();
        let bucket = spent.values().next().unwrap();
        assert_eq!(bucket.sorted.len() + bucket.recent.len(), n);
        assert!(bucket.sorted.windows(2).all(|w| w[0] <= w[1]), "the vector stays sorted");
    }

    #[test]
    fn remembered_nonces_are_spent() {
        let g = NonceGuard::new(5);
        g.remember([("k".to_string(), "old".to_string(), 1_900)]);
        assert!(g.spend("k", "old", 1_000, 1_900).is_none());
        assert_eq!(g.epoch(), 5);
    }

    /// A log in memory, as the data directory's files would keep it.
    #[derive(Default)]
    struct MemoryLog(Mutex<Vec<u8>>);

    impl NonceLog for MemoryLog {
        fn append(&self, spent: &[Spent]) -> std::io::Result<()> {
            let mut bytes = self.0.lock().unwrap();
            spent.iter().for_each(|s| bytes.extend_from_slice(&s.to_bytes()));
            Ok(())
        }
    }

    #[test]
    fn journalled_nonces_stay_spent_in_a_guard_with_the_same_key() {
        let key = [7; 16];
        let log = Arc::new(MemoryLog::default());
        let g = NonceGuard::with_key(0, key);
        g.log.set(log.clone()).ok().unwrap();
        g.journal(g.spend("k", "read", 1_000, 1_900).expect("a new nonce"));
        assert!(g.mark_clean());
        let mut bytes = log.0.lock().unwrap().clone();
        assert_eq!(bytes.len(), Spent::SIZE);
        // A torn record after it (a crash during a write) is ignored.
        bytes.extend_from_slice(&[1, 2, 3]);
        let restarted = NonceGuard::with_key(0, key);
        restarted.remember_spent(Spent::parse_all(&bytes));
        assert!(restarted.spend("k", "read", 1_010, 1_900).is_none(), "the replay is refused");
        assert!(restarted.spend("k", "new", 1_010, 1_900).is_some());
        let other_key = NonceGuard::with_key(0, [8; 16]);
        other_key.remember_spent(Spent::parse_all(&bytes));
        assert!(other_key.spend("k", "read", 1_010, 1_900).is_some(), "hashes depend on the key");
    }
}
