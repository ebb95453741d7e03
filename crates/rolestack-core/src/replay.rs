//! Replay protection for signed RPC requests: a `SignatureNonce` is accepted once within the
//! timestamp window, also across a restart — without an fsync per request.
//!
//! - **In memory**: every spent nonce is remembered (as a keyed 64-bit hash of AccessKey and nonce,
//!   8 bytes each, in per-minute buckets that expire with the window), so a replay is refused at
//!   once. A new nonce is taken for a spent one only when its hash equals one of the n
//!   remembered: odds n / 2⁶⁴ per request, and the key is random per process.
//! - **Durable with the write it belongs to**: a call that writes stores its nonce in the same
//!   transaction (`Tx::use_nonce`), so the nonce is durable exactly when the write is — one fsync
//!   for both — and a store shared by several servers refuses a replay on another node.
//! - **Durable soon for the rest**: nonces of reads (and of failed writes) are journalled to the
//!   store in batches by a background thread ([`FLUSH_EVERY`]), and loaded back at start.
//! - **A restart epoch for the gap**: after a stop that did not flush the journal (a crash), a
//!   request signed before the new process started is refused (`InvalidTimeStamp.Expired`), so a
//!   nonce lost in the last batch window cannot be replayed. A clean stop flushes and says so
//!   ([`NonceGuard::mark_clean`]), and the next start has no epoch.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::Store;

/// How long journalled nonces may wait before they are written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A nonce waiting to be written: AccessKey, nonce, expiry (Unix seconds).
pub type JournalEntry = (String, String, i64);

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

/// The hashes of the nonces that expire in one minute, in 8 bytes each: most in a sorted
/// vector (no empty slots, unlike a hash table), the newest in a small set merged into it
/// every [`Bucket::MERGE_AT`] insertions (one linear merge in place).
#[derive(Default)]
struct Bucket {
    sorted: Vec<u64>,
    recent: HashSet<u64, BuildHasherDefault<Prehashed>>,
}

impl Bucket {
    /// How many hashes wait in the set before they are merged into the vector: the merge costs
    /// one pass over the vector, so a few nanoseconds per insertion on average.
    const MERGE_AT: usize = 4096;

    fn contains(&self, h: u64) -> bool {
        self.recent.contains(&h) || self.sorted.binary_search(&h).is_ok()
    }

    /// Adds `h` (not [`Bucket::contains`]ed).
    fn insert(&mut self, h: u64) {
        self.recent.insert(h);
        if self.recent.len() >= Self::MERGE_AT {
            let mut new: Vec<u64> = self.recent.drain().collect();
            new.sort_unstable();
            // Merge from the back into the vector grown by exactly the new hashes.
            let (mut i, mut j) = (self.sorted.len(), new.len());
            self.sorted.reserve_exact(j);
            self.sorted.resize(i + j, 0);
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
    hasher: RandomState,
    /// Expiry minute → hashes of `(AccessKey, nonce)` that expire in it.
    spent: Mutex<BTreeMap<i64, Bucket>>,
    journal: Mutex<Vec<JournalEntry>>,
    /// Whether a flusher writes the journal (without one, nonces live in memory only).
    journaling: AtomicBool,
    /// Requests signed before this (Unix seconds) are refused; 0 after a clean stop.
    epoch: i64,
}

impl NonceGuard {
    /// `epoch`: the start of this process after an unclean stop, else 0.
    pub fn new(epoch: i64) -> Arc<NonceGuard> {
        Arc::new(NonceGuard {
            hasher: RandomState::new(),
            spent: Mutex::new(BTreeMap::new()),
            journal: Mutex::new(Vec::new()),
            journaling: AtomicBool::new(false),
            epoch,
        })
    }

    /// Requests signed before this instant (Unix seconds) are refused.
    pub fn epoch(&self) -> i64 {
        self.epoch
    }

    fn hash(&self, access_key_id: &str, nonce: &str) -> u64 {
        self.hasher.hash_one((access_key_id, nonce))
    }

    /// Spends a nonce valid until `expires` at `now`: `false` if it was spent before.
    pub fn spend(&self, access_key_id: &str, nonce: &str, now: i64, expires: i64) -> bool {
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
            return false;
        }
        spent.entry(expires / 60 + 1).or_default().insert(h);
        true
    }

    /// Remembers nonces spent before (loaded from the store at start).
    pub fn remember(&self, entries: impl IntoIterator<Item = JournalEntry>) {
        let mut spent = self.spent.lock().unwrap_or_else(|p| p.into_inner());
        for (ak, nonce, expires) in entries {
            let h = self.hash(&ak, &nonce);
            let bucket = spent.entry(expires / 60 + 1).or_default();
            if !bucket.contains(h) {
                bucket.insert(h);
            }
        }
    }

    /// Queues a nonce for the store (it was not written with a transaction of its own call).
    pub fn journal(&self, access_key_id: &str, nonce: &str, expires: i64) {
        if !self.journaling.load(Ordering::Relaxed) {
            return;
        }
        self.journal.lock().unwrap_or_else(|p| p.into_inner()).push((access_key_id.to_string(), nonce.to_string(), expires));
    }

    /// Writes the journal to the store (one transaction); returns how many were written.
    pub fn flush(&self, store: &dyn Store, now: i64) -> crate::Result<usize> {
        let batch: Vec<JournalEntry> = std::mem::take(&mut *self.journal.lock().unwrap_or_else(|p| p.into_inner()));
        if batch.is_empty() {
            return Ok(0);
        }
        let written = crate::store::retry(|| {
            let mut tx = store.begin()?;
            for (ak, nonce, expires) in &batch {
                tx.use_nonce(ak, nonce, now, *expires)?;
            }
            tx.commit()
        });
        if let Err(e) = written {
            // Keep them for the next round rather than losing them.
            self.journal.lock().unwrap_or_else(|p| p.into_inner()).extend(batch);
            return Err(e);
        }
        Ok(batch.len())
    }

    /// Starts the thread that flushes the journal every [`FLUSH_EVERY`].
    pub fn start_flusher(self: &Arc<Self>, store: Arc<dyn Store>, clock: crate::clock::Clock) {
        self.journaling.store(true, Ordering::Relaxed);
        let guard = self.clone();
        std::thread::Builder::new()
            .name("nonce-journal".into())
            .spawn(move || loop {
                std::thread::sleep(FLUSH_EVERY);
                if let Err(e) = guard.flush(store.as_ref(), clock.real_now().unix_timestamp()) {
                    eprintln!("rolestack: could not journal request nonces: {e}");
                }
            })
            .expect("spawning the nonce journal");
    }

    /// Flushes the journal for a clean stop; `true` when everything was written (the next start
    /// then needs no epoch).
    pub fn mark_clean(&self, store: &dyn Store, now: i64) -> bool {
        self.flush(store, now).is_ok() && self.journal.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_spent_once_until_it_expires() {
        let g = NonceGuard::new(0);
        assert!(g.spend("k", "n1", 1_000, 1_900));
        assert!(!g.spend("k", "n1", 1_010, 1_900));
        assert!(g.spend("other", "n1", 1_010, 1_900), "nonces are per AccessKey");
        assert!(g.spend("k", "n2", 1_010, 1_900));
        // After the window the memory forgets it (the timestamp check refuses such requests anyway).
        assert!(g.spend("k", "n1", 3_000, 3_900));
    }

    #[test]
    fn many_nonces_in_one_minute_stay_spent_across_merges() {
        let g = NonceGuard::new(0);
        let n = Bucket::MERGE_AT * 3 + 17;
        for i in 0..n {
            assert!(g.spend("k", &format!("n{i}"), 1_000, 1_900), "nonce {i} is new");
        }
        for i in 0..n {
            assert!(!g.spend("k", &format!("n{i}"), 1_010, 1_900), "nonce {i} is spent");
        }
        let spent = g.spent.lock().unwrap();
        let bucket = spent.values().next().unwrap();
        assert_eq!(bucket.sorted.len() + bucket.recent.len(), n);
        assert!(bucket.sorted.windows(2).all(|w| w[0] < w[1]), "the vector stays sorted");
    }

    #[test]
    fn remembered_nonces_are_spent() {
        let g = NonceGuard::new(5);
        g.remember([("k".to_string(), "old".to_string(), 1_900)]);
        assert!(!g.spend("k", "old", 1_000, 1_900));
        assert_eq!(g.epoch(), 5);
    }
}
