//! The digests of many bodies arriving at once, taken together: MD5 in SIMD lanes.
//!
//! Every OSS write needs its body's MD5 (the ETag, the `Content-MD5` check) and CRC-64. One MD5
//! is a chain — each 64-byte block depends on the one before — so a body's MD5 cannot go faster
//! than one core's scalar code (~1.5 ms per MiB here, more than the rest of a PUT together). The
//! blocks of *different* bodies are independent, though: [`DigestLanes`] keeps the bodies being
//! uploaded side by side and, whenever two or more have bytes waiting, runs their next blocks in
//! the lanes of one SIMD MD5 (8 lanes with AVX2, 16 with AVX-512; `md5-many` picks the kernel at run time), each
//! body in its own lane. With 4 uploads at once that is ~2.7× less CPU per MiB, with 8 ~5×;
//! a single upload runs the scalar code (ARCHITECTURE.md "Durable PUT, in this order").
//!
//! This is the pure part: a scheduler over in-memory chunks with no threads and no IO. The
//! server runs one per digest thread (a thread per core, at most 4) and feeds each the chunks
//! of the uploads it was given (`rolestack-server`'s `digests` module), so the work of
//! concurrent uploads meets in few places.

use std::collections::{BTreeMap, VecDeque};

use bytes::{Buf, Bytes};
use md5_many::{Md5Many, Md5State};

use super::blob::{Digester, Digests};

/// Bytes a lane takes from its body per step: steps stay short, so a body that ends, or a new
/// one, is taken up soon.
const STEP: usize = 64 * 1024;

/// A body being digested, named by whoever feeds the lanes.
pub type BodyId = u64;

/// What a [`DigestLanes::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// This many bytes of the body were digested and can be let go.
    Consumed(BodyId, usize),
    /// The body ended and every byte of it is digested: its digests (the body is forgotten).
    Done(BodyId, Digests),
}

/// One body: its digests so far and its bytes not yet digested.
struct Body {
    digester: Digester,
    waiting: VecDeque<Bytes>,
    /// No more bytes will come.
    ended: bool,
}

impl Body {
    /// The bytes of whole blocks at the front (what a lane can take without copying).
    fn lane_ready(&self) -> usize {
        self.waiting.front().map_or(0, |c| c.len() / 64 * 64)
    }

    /// Bytes not digested yet.
    fn queued(&self) -> usize {
        self.waiting.iter().map(Bytes::len).sum()
    }

    /// Digests `n` bytes from the front chunk (the MD5 has been updated by the caller).
    fn consume_front(&mut self, n: usize) {
        let front = self.waiting.front_mut().expect("a front chunk");
        self.digester.count(&front[..n]);
        front.advance(n);
        if front.is_empty() {
            self.waiting.pop_front();
        }
    }
}

/// How many streams one `update_many` gets for `ready` bodies (the rest repeat a body's bytes):
/// whole groups of the kernel's lanes — or, on a 16-lane (AVX-512) CPU with at most 8 bodies
/// ready, 8: `md5-many` then runs its small-batch kernel, which on the AMD EPYC (Zen 4,
/// whose 512-bit instructions take two passes) costs 20–27% less per body than an under-filled
/// 16-lane step at 2–8 bodies (measured; docs/STATUS.md "Performance", eighteenth session).
fn group_width(ready: usize, lanes: usize) -> usize {
    if lanes >= 16 && ready <= lanes / 2 {
        lanes / 2
    } else {
        ready.div_ceil(lanes) * lanes
    }
}

/// The bodies being digested and the SIMD MD5 they share (see the module docs).
pub struct DigestLanes {
    md5: Md5Many,
    /// Lanes of the SIMD kernel (1: scalar only).
    lanes: usize,
    bodies: BTreeMap<BodyId, Body>,
    /// Where the next choice of bodies for the lanes starts (so every body gets its turn).
    cursor: BodyId,
    tally: Tally,
}

/// What the lanes did so far (the server exports it as metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Steps that ran two or more bodies side by side in the SIMD lanes.
    pub lane_steps: u64,
    /// Lanes those steps kept busy, summed (over `lane_steps`: the average occupancy).
    pub lanes_busy: u64,
    /// Bytes digested in the lanes.
    pub lane_bytes: u64,
    /// Bytes digested by the scalar code (a body alone, tails, blocks across chunks).
    pub single_bytes: u64,
}

impl Default for DigestLanes {
    fn default() -> Self {
        let md5 = Md5Many::new();
        DigestLanes { lanes: md5.lanes(), md5, bodies: BTreeMap::new(), cursor: 0, tally: Tally::default() }
    }
}

impl DigestLanes {
    /// Lanes of the SIMD MD5 this CPU has (1: none, every body runs the scalar code).
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// Starts a body (an id already in use starts over).
    pub fn open(&mut self, id: BodyId) {
        self.bodies.insert(id, Body { digester: Digester::default(), waiting: VecDeque::new(), ended: false });
    }

    /// The next bytes of a body (ignored for a body not open: it was dropped).
    pub fn push(&mut self, id: BodyId, bytes: Bytes) {
        if let Some(body) = self.bodies.get_mut(&id) {
            if !bytes.is_empty() {
                body.waiting.push_back(bytes);
            }
        }
    }

    /// No more bytes for this body: once they are digested, a step reports it [`Progress::Done`].
    pub fn end(&mut self, id: BodyId) {
        if let Some(body) = self.bodies.get_mut(&id) {
            body.ended = true;
        }
    }

    /// Forgets a body (its upload stopped); returns the bytes it still held.
    pub fn drop_body(&mut self, id: BodyId) -> usize {
        self.bodies.remove(&id).map_or(0, |b| b.queued())
    }

    /// What the lanes did so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Bodies open.
    pub fn len(&self) -> usize {
        self.bodies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bodies.is_empty()
    }

    /// Does a bounded piece of the work waiting (at most [`STEP`] bytes per body) and reports it
    /// in `progress`; returns false when every body waits for bytes. Whenever two or more bodies
    /// have bytes they go through the lanes together; a body alone runs the scalar code. (Holding
    /// bytes back until more bodies have some fills the lanes better, but measured under PUT load
    /// it made uploads wait for their digests after their blobs were durable: not worth it.)
    pub fn step(&mut self, progress: &mut Vec<Progress>) -> bool {
        let settled = self.settle(progress);
        // The bodies with a whole block at their front, from the cursor on, round the ring.
        let mut ready: Vec<BodyId> = self
            .bodies
            .range(self.cursor..)
            .chain(self.bodies.range(..self.cursor))
            .filter(|(_, b)| b.lane_ready() > 0)
            .map(|(id, _)| *id)
            .collect();
        if ready.is_empty() {
            return settled;
        }
        if ready.len() == 1 || self.lanes < 2 {
            // One body (or no SIMD): the scalar code, faster than one busy lane.
            for id in ready {
                let body = self.bodies.get_mut(&id).expect("listed");
                let n = body.lane_ready().min(STEP);
                body.digester.md5.update(&body.waiting.front().expect("ready")[..n]);
                body.consume_front(n);
                progress.push(Progress::Consumed(id, n));
                self.tally.single_bytes += n as u64;
            }
            return true;
        }
        // Up to three groups of lanes; empty lanes repeat the first body's bytes into a state
        // that is thrown away (the kernel costs the same with every lane busy).
        ready.truncate(self.lanes * 3);
        self.cursor = ready.last().map_or(0, |id| id + 1);
        let n = ready.iter().map(|id| self.bodies[id].lane_ready()).min().expect("non-empty").min(STEP);
        let width = group_width(ready.len(), self.lanes);
        let mut states: Vec<Md5State> = ready.iter().map(|id| self.bodies[id].digester.md5).collect();
        states.resize(width, Md5State::new());
        {
            let mut inputs: Vec<&[u8]> = ready.iter().map(|id| &self.bodies[id].waiting.front().expect("ready")[..n]).collect();
            inputs.resize(width, inputs[0]);
            self.md5.update_many(&mut states, &inputs);
        }
        self.tally.lane_steps += 1;
        self.tally.lanes_busy += ready.len() as u64;
        self.tally.lane_bytes += (n * ready.len()) as u64;
        for (id, state) in ready.iter().zip(states) {
            let body = self.bodies.get_mut(id).expect("listed");
            body.digester.md5 = state;
            body.consume_front(n);
            progress.push(Progress::Consumed(*id, n));
        }
        true
    }

    /// The bodies whose front holds less than a block: a block put together from the chunks
    /// after it (scalar), or, once the body has ended, its last bytes and its digests.
    fn settle(&mut self, progress: &mut Vec<Progress>) -> bool {
        let mut worked = false;
        let mut done = Vec::new();
        for (id, body) in &mut self.bodies {
            while body.waiting.front().is_some_and(|c| c.len() < 64) {
                if body.queued() < 64 && !body.ended {
                    break; // wait for more bytes
                }
                // A block (or, at the end, what is left) gathered from the front chunks.
                let mut block = [0u8; 64];
                let mut filled = 0;
                while filled < 64 {
                    let Some(front) = body.waiting.front() else { break };
                    let take = front.len().min(64 - filled);
                    block[filled..filled + take].copy_from_slice(&front[..take]);
                    filled += take;
                    body.consume_front(take);
                }
                body.digester.md5.update(&block[..filled]);
                self.tally.single_bytes += filled as u64;
                progress.push(Progress::Consumed(*id, filled));
                worked = true;
            }
            if body.ended && body.waiting.is_empty() {
                done.push(*id);
            }
        }
        for id in done {
            let body = self.bodies.remove(&id).expect("listed");
            progress.push(Progress::Done(id, body.digester.finish()));
            worked = true;
        }
        worked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::Digest as _;
    use proptest::prelude::*;

    #[test]
    fn up_to_half_the_lanes_of_a_16_lane_kernel_take_the_8_wide_batch() {
        assert_eq!([1, 2, 8, 9, 16, 17, 33].map(|n| group_width(n, 16)), [8, 8, 8, 16, 16, 32, 48]);
        assert_eq!([2, 8, 9, 24].map(|n| group_width(n, 8)), [8, 8, 16, 24]);
    }

    fn run(lanes: &mut DigestLanes, progress: &mut Vec<Progress>) {
        while lanes.step(progress) {}
    }

    /// Bytes of body `id` reported consumed.
    fn consumed(progress: &[Progress], id: BodyId) -> usize {
        progress
            .iter()
            .filter_map(|p| match p {
                Progress::Consumed(i, n) if *i == id => Some(*n),
                _ => None,
            })
            .sum()
    }

    fn expected(data: &[u8]) -> Digests {
        Digests { md5: md5::Md5::digest(data).into(), crc64: super::super::blob::crc64(data), size: data.len() as u64 }
    }

    #[test]
    fn empty_and_small_bodies() {
        let mut lanes = DigestLanes::default();
        let mut progress = Vec::new();
        for (id, data) in [(1u64, &b""[..]), (2, b"abc"), (3, &[7u8; 64][..]), (4, &[9u8; 65][..])] {
            lanes.open(id);
            lanes.push(id, Bytes::copy_from_slice(data));
            lanes.end(id);
        }
        run(&mut lanes, &mut progress);
        let done: BTreeMap<u64, Digests> =
            progress.iter().filter_map(|p| if let Progress::Done(id, d) = p { Some((*id, *d)) } else { None }).collect();
        assert_eq!(done[&1], expected(b""));
        assert_eq!(done[&2], expected(b"abc"));
        assert_eq!(done[&3], expected(&[7u8; 64]));
        assert_eq!(done[&4], expected(&[9u8; 65]));
        assert!(lanes.is_empty());
    }

    #[test]
    fn a_body_waits_for_its_end_and_a_dropped_one_is_forgotten() {
        let mut lanes = DigestLanes::default();
        let mut progress = Vec::new();
        lanes.open(1);
        lanes.open(2);
        lanes.push(1, Bytes::from(vec![1u8; 1000]));
        lanes.push(2, Bytes::from(vec![2u8; 100]));
        run(&mut lanes, &mut progress);
        assert!(!progress.iter().any(|p| matches!(p, Progress::Done(..))), "nothing ended yet");
        assert_eq!(lanes.drop_body(2), 100 - 64);
        lanes.push(2, Bytes::from_static(b"late")); // ignored
        lanes.end(1);
        run(&mut lanes, &mut progress);
        assert_eq!(consumed(&progress, 1), 1000);
        assert!(progress.contains(&Progress::Done(1, expected(&[1u8; 1000]))));
        assert!(lanes.is_empty());
    }

    #[test]
    fn bodies_with_bytes_at_once_share_the_lanes_and_one_alone_runs_the_scalar_code() {
        let mut lanes = DigestLanes::default();
        let mut progress = Vec::new();
        for id in 1..=3 {
            lanes.open(id);
        }
        lanes.push(1, Bytes::from(vec![1u8; 4096]));
        run(&mut lanes, &mut progress);
        assert_eq!(lanes.tally(), Tally { single_bytes: 4096, ..Tally::default() });
        lanes.push(2, Bytes::from(vec![2u8; 4096]));
        lanes.push(3, Bytes::from(vec![3u8; 8192]));
        run(&mut lanes, &mut progress);
        if lanes.lanes() > 1 {
            assert_eq!(lanes.tally(), Tally { lane_steps: 1, lanes_busy: 2, lane_bytes: 8192, single_bytes: 4096 + 4096 });
        }
        for id in 1..=3 {
            lanes.end(id);
        }
        run(&mut lanes, &mut progress);
        assert!(progress.contains(&Progress::Done(3, expected(&[3u8; 8192]))));
        assert!(lanes.is_empty());
    }

    #[test]
    fn uploads_side_by_side_share_the_lanes() {
        let mut lanes = DigestLanes::default();
        let mut progress = Vec::new();
        let data: Vec<Vec<u8>> = (0..9u8).map(|k| (0..(1u32 << 20) + u32::from(k) * 1000).map(|i| (i as u8) ^ k).collect()).collect();
        for (id, body) in data.iter().enumerate() {
            lanes.open(id as u64);
            for chunk in body.chunks(4096 + id * 100) {
                lanes.push(id as u64, Bytes::copy_from_slice(chunk));
            }
            lanes.end(id as u64);
        }
        run(&mut lanes, &mut progress);
        for (id, body) in data.iter().enumerate() {
            assert!(progress.contains(&Progress::Done(id as u64, expected(body))), "body {id}");
        }
        if lanes.lanes() > 1 {
            assert!(lanes.tally().lane_steps > 100, "the bodies ran in lanes: {} steps", lanes.tally().lane_steps);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Any number of bodies, cut into chunks of any sizes, fed in any interleaving and
        /// stepped at any points, get the digests of their bytes, and every byte is reported
        /// consumed exactly once.
        #[test]
        fn lanes_digest_what_one_digester_would(
            bodies in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..3000), proptest::collection::vec(1usize..700, 1..20)),
                1..14),
            schedule in proptest::collection::vec((0usize..14, any::<bool>()), 0..200),
        ) {
            let mut lanes = DigestLanes::default();
            let mut progress = Vec::new();
            // Each body's chunks, to be pushed in the order the schedule says.
            let mut pending: Vec<VecDeque<Bytes>> = bodies.iter().map(|(data, cuts)| {
                let mut chunks = VecDeque::new();
                let mut rest = Bytes::from(data.clone());
                let mut i = 0;
                while !rest.is_empty() {
                    let n = cuts[i % cuts.len()].min(rest.len());
                    chunks.push_back(rest.split_to(n));
                    i += 1;
                }
                chunks
            }).collect();
            for id in 0..bodies.len() {
                lanes.open(id as u64);
            }
            let mut ended = vec![false; bodies.len()];
            let feed = |lanes: &mut DigestLanes, pending: &mut Vec<VecDeque<Bytes>>, ended: &mut Vec<bool>, k: usize| {
                if let Some(chunk) = pending[k].pop_front() {
                    lanes.push(k as u64, chunk);
                } else if !ended[k] {
                    ended[k] = true;
                    lanes.end(k as u64);
                }
            };
            for (k, step) in schedule {
                if k < bodies.len() {
                    feed(&mut lanes, &mut pending, &mut ended, k);
                }
                if step {
                    lanes.step(&mut progress);
                }
            }
            for k in 0..bodies.len() {
                while !ended[k] {
                    feed(&mut lanes, &mut pending, &mut ended, k);
                }
            }
            run(&mut lanes, &mut progress);
            prop_assert!(lanes.is_empty());
            for (k, (data, _)) in bodies.iter().enumerate() {
                let id = k as u64;
                let done: Vec<&Digests> = progress.iter().filter_map(|p| match p { Progress::Done(i, d) if *i == id => Some(d), _ => None }).collect();
                let want = expected(data);
                prop_assert_eq!(done, vec![&want]);
                prop_assert_eq!(consumed(&progress, id), data.len());
            }
        }
    }
}
