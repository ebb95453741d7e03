//! The threads that digest every upload's body: each runs the core's [`DigestLanes`] fed with
//! the chunks of the uploads it was given, so bodies arriving at the same time share the SIMD
//! lanes of one MD5 (see `rolestack_core::oss::digest_lanes` and docs/oss.md "Storage").
//!
//! There is one thread for every two cores ([`thread_count`], at most [`MAX_THREADS`]), and a
//! new upload goes to the thread holding the fewest bodies. The fewer the threads, the more
//! bodies share one SIMD step (the least CPU per MiB); the more, the sooner each body's digest
//! is done, and a PUT's answer waits for it. Under PUT load MD5 is about half of the server's
//! CPU, so the digests get about half of the cores: measured on 2 cores, one thread ran a fifth
//! of the bytes on the scalar code where a thread per core ran three quarters, and took 3–20%
//! less server CPU per MiB (more PUTs per second in each of five alternated rounds of a noisy
//! hour; docs/STATUS.md "Performance", thirteenth session).
//!
//! An upload holds a [`BodyDigest`]: [`BodyDigest::push`] hands over each chunk (no copy: the
//! chunk's `Bytes` are shared) and [`BodyDigest::end`] says the body ended and returns where its
//! digests will come (the blob writer waits there, see `handlers::write_body`). A body may have
//! at most [`BUDGET`] bytes waiting for the thread; beyond that `push` waits, so a client faster
//! than the digest cannot make the server hold its body in memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use rolestack_core::oss::blob::Digests;
use rolestack_core::oss::digest_lanes::{BodyId, DigestLanes, Progress};
use tokio::sync::{oneshot, Semaphore};

/// Bytes of one body handed to the thread and not digested yet, at most.
pub const BUDGET: usize = 4 << 20;

enum Message {
    Open(BodyId, Arc<Semaphore>, oneshot::Sender<Digests>),
    Push(BodyId, Bytes),
    End(BodyId),
    Drop(BodyId),
}

/// The digest thread went away (it panicked): the upload fails instead of waiting forever.
#[derive(Debug, thiserror::Error)]
#[error("the body digest thread stopped")]
pub struct DigestGone;

/// One digest thread: where its messages go, and how many bodies it holds.
struct Lane {
    sender: mpsc::Sender<Message>,
    bodies: AtomicU64,
}

/// Digest threads at most, whatever the number of cores.
pub const MAX_THREADS: usize = 4;

fn threads() -> &'static [Lane] {
    static THREADS: OnceLock<Vec<Lane>> = OnceLock::new();
    THREADS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (0..thread_count(cores))
            .map(|i| {
                let (tx, rx) = mpsc::channel();
                std::thread::Builder::new()
                    .name(format!("body-digests-{i}"))
                    .spawn(move || run(rx))
                    .expect("starting the body digest thread");
                Lane { sender: tx, bodies: AtomicU64::new(0) }
            })
            .collect()
    })
}

/// The thread: takes messages (waiting for one only when there is no work), steps the lanes,
/// hands bytes digested back to their bodies' budgets and the digests to their uploads.
fn run(rx: mpsc::Receiver<Message>) {
    let mut lanes = DigestLanes::default();
    let mut uploads: HashMap<BodyId, (Arc<Semaphore>, oneshot::Sender<Digests>)> = HashMap::new();
    let mut progress = Vec::new();
    let mut busy = false;
    let mut reported = rolestack_core::oss::digest_lanes::Tally::default();
    let lane_bytes = metrics::counter!("rolestack_body_digest_bytes_total", "way" => "lanes");
    let single_bytes = metrics::counter!("rolestack_body_digest_bytes_total", "way" => "single");
    let lane_steps = metrics::counter!("rolestack_body_digest_lane_steps_total");
    let lanes_busy = metrics::counter!("rolestack_body_digest_lanes_busy_total");
    loop {
        let first = if busy {
            rx.try_recv().ok()
        } else {
            match rx.recv() {
                Ok(m) => Some(m),
                Err(_) => return, // every sender is gone: the process is ending
            }
        };
        for message in first.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok())) {
            match message {
                Message::Open(id, budget, done) => {
                    lanes.open(id);
                    uploads.insert(id, (budget, done));
                }
                Message::Push(id, bytes) => lanes.push(id, bytes),
                Message::End(id) => lanes.end(id),
                Message::Drop(id) => {
                    lanes.drop_body(id);
                    uploads.remove(&id);
                }
            }
        }
        busy = lanes.step(&mut progress);
        if busy {
            let tally = lanes.tally();
            lane_bytes.increment(tally.lane_bytes - reported.lane_bytes);
            single_bytes.increment(tally.single_bytes - reported.single_bytes);
            lane_steps.increment(tally.lane_steps - reported.lane_steps);
            lanes_busy.increment(tally.lanes_busy - reported.lanes_busy);
            reported = tally;
        }
        for p in progress.drain(..) {
            match p {
                Progress::Consumed(id, n) => {
                    if let Some((budget, _)) = uploads.get(&id) {
                        budget.add_permits(n);
                    }
                }
                Progress::Done(id, digests) => {
                    if let Some((_, done)) = uploads.remove(&id) {
                        let _ = done.send(digests);
                    }
                }
            }
        }
    }
}

/// Digest threads for a machine of `cores` cores: one for every two (module docs).
fn thread_count(cores: usize) -> usize {
    (cores / 2).clamp(1, MAX_THREADS)
}

/// The thread holding the fewest bodies (the first of those).
fn least_busy(lanes: &[Lane]) -> &Lane {
    lanes.iter().min_by_key(|l| l.bodies.load(Ordering::Relaxed)).expect("one thread at least")
}

/// One upload's body on its way through the digest thread.
pub struct BodyDigest {
    id: BodyId,
    lane: &'static Lane,
    budget: Arc<Semaphore>,
    done: Option<oneshot::Receiver<Digests>>,
}

impl BodyDigest {
    /// Starts digesting a new body.
    pub fn start() -> Result<Self, DigestGone> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let budget = Arc::new(Semaphore::new(BUDGET));
        let (tx, done) = oneshot::channel();
        let lane = least_busy(threads());
        lane.sender.send(Message::Open(id, budget.clone(), tx)).map_err(|_| DigestGone)?;
        lane.bodies.fetch_add(1, Ordering::Relaxed);
        Ok(BodyDigest { id, lane, budget, done: Some(done) })
    }

    /// The body's next bytes; waits while [`BUDGET`] bytes of it are still being digested.
    pub async fn push(&mut self, mut bytes: Bytes) -> Result<(), DigestGone> {
        while !bytes.is_empty() {
            let piece = bytes.split_to(bytes.len().min(BUDGET));
            let permits = u32::try_from(piece.len()).expect("a piece fits the budget");
            self.budget.acquire_many(permits).await.map_err(|_| DigestGone)?.forget();
            self.lane.sender.send(Message::Push(self.id, piece)).map_err(|_| DigestGone)?;
        }
        Ok(())
    }

    /// The body ended: its digests, once every byte pushed is digested (the tests' way to wait).
    #[cfg(test)]
    pub async fn finish(self) -> Result<Digests, DigestGone> {
        self.end()?.await.map_err(|_| DigestGone)
    }

    /// The body ended: where its digests will come once every byte pushed is digested — for a
    /// blocking thread to wait on ([`oneshot::Receiver::blocking_recv`]; the channel closes
    /// without them if the digest thread goes away).
    pub fn end(mut self) -> Result<oneshot::Receiver<Digests>, DigestGone> {
        let done = self.done.take().expect("ended once");
        self.lane.sender.send(Message::End(self.id)).map_err(|_| DigestGone)?;
        Ok(done)
    }
}

impl Drop for BodyDigest {
    /// An upload that stopped before its end: the thread forgets its bytes.
    fn drop(&mut self) {
        if self.done.is_some() {
            let _ = self.lane.sender.send(Message::Drop(self.id));
        }
        self.lane.bodies.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rolestack_core::oss::blob::Digester;

    fn expected(data: &[u8]) -> Digests {
        let mut d = Digester::default();
        d.update(data);
        d.finish()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_uploads_get_their_own_digests() {
        let tasks: Vec<_> = (0..12u32)
            .map(|k| {
                tokio::spawn(async move {
                    let data: Vec<u8> = (0..(300_000 + k * 7919)).map(|i| (i.wrapping_mul(2654435761) >> (k % 7)) as u8).collect();
                    let mut digest = BodyDigest::start().unwrap();
                    for chunk in data.chunks(1000 + k as usize * 333) {
                        digest.push(Bytes::copy_from_slice(chunk)).await.unwrap();
                        if chunk.len() % 3 == 0 {
                            tokio::task::yield_now().await;
                        }
                    }
                    assert_eq!(digest.finish().await.unwrap(), expected(&data), "upload {k}");
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[test]
    fn a_digest_thread_for_every_two_cores() {
        assert_eq!([1, 2, 3, 4, 6, 8, 64].map(thread_count), [1, 1, 1, 2, 3, 4, MAX_THREADS]);
    }

    #[test]
    fn a_new_body_goes_to_the_thread_holding_the_fewest() {
        let lanes: Vec<Lane> = [3, 1, 2, 1].map(|n| Lane { sender: mpsc::channel().0, bodies: AtomicU64::new(n) }).into_iter().collect();
        assert!(std::ptr::eq(least_busy(&lanes), &lanes[1]));
        lanes[1].bodies.fetch_add(5, Ordering::Relaxed);
        assert!(std::ptr::eq(least_busy(&lanes), &lanes[3]));
    }

    #[tokio::test]
    async fn a_body_larger_than_the_budget_goes_through_in_pieces_and_a_dropped_one_is_forgotten() {
        let data = vec![5u8; BUDGET * 2 + 123];
        let mut digest = BodyDigest::start().unwrap();
        digest.push(Bytes::from(data.clone())).await.unwrap();
        assert_eq!(digest.finish().await.unwrap(), expected(&data));
        let mut abandoned = BodyDigest::start().unwrap();
        abandoned.push(Bytes::from_static(b"cut short")).await.unwrap();
        drop(abandoned);
        let mut next = BodyDigest::start().unwrap();
        next.push(Bytes::from_static(b"abc")).await.unwrap();
        assert_eq!(next.finish().await.unwrap(), expected(b"abc"));
    }
}
