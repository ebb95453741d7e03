//! Group commit: small writes that arrive together share one store transaction, so one commit
//! (one fsync of the database's log) makes all of them durable instead of one each.
//!
//! Leader and followers: a writer queues its work, then waits for the commit lock. Whoever holds
//! it (the leader) takes every queued piece of work, runs them in one transaction and commits,
//! then hands each writer its result; writers that queued meanwhile find their work done when
//! they get the lock, or lead the next group. Nobody waits on a timer: a writer alone commits at
//! once, and groups form exactly when commits are the bottleneck.
//!
//! Each piece of work sees one transaction shared with others, so it must be safe to run twice:
//! when any piece fails, the group is rolled back and every piece runs again in a transaction of
//! its own (a failure never undoes a neighbour's write, and never half-applies its own).

use std::any::Any;
use std::sync::{Arc, Condvar, Mutex};

use crate::store::{retry, Retry, Store, Tx};
use crate::Error;

type Output = Box<dyn Any + Send>;
type Work<E> = Box<dyn Fn(&mut dyn Tx) -> Result<Output, E> + Send>;

/// Where a writer waits for its result.
struct Slot<E> {
    result: Mutex<Option<Result<Output, E>>>,
    ready: Condvar,
}

struct Queued<E> {
    work: Work<E>,
    slot: Arc<Slot<E>>,
}

/// Groups the writes of concurrent writers into shared transactions (see the module docs).
pub struct GroupCommit<E> {
    store: Arc<dyn Store>,
    queue: Mutex<Vec<Queued<E>>>,
    /// Held by the leader while it runs and commits a group.
    leader: Mutex<()>,
}

impl<E: From<Error> + Retry + Send + 'static> GroupCommit<E> {
    pub fn new(store: Arc<dyn Store>) -> Self {
        GroupCommit { store, queue: Mutex::new(Vec::new()), leader: Mutex::new(()) }
    }

    /// Runs `work` in a transaction committed before this returns, shared with other writers'
    /// work when they write at the same time. `work` may run twice (see the module docs).
    pub fn write<T: Send + 'static>(&self, work: impl Fn(&mut dyn Tx) -> Result<T, E> + Send + 'static) -> Result<T, E> {
        let slot = Arc::new(Slot { result: Mutex::new(None), ready: Condvar::new() });
        let work: Work<E> = Box::new(move |tx: &mut dyn Tx| work(tx).map(|v| Box::new(v) as Output));
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(Queued { work, slot: slot.clone() });
        loop {
            if let Some(result) = slot.result.lock().unwrap_or_else(|p| p.into_inner()).take() {
                return result.map(|v| *v.downcast::<T>().expect("the type it was queued with"));
            }
            // Lead a group (ours included, unless a leader took it meanwhile), or wait for ours.
            match self.leader.try_lock() {
                Ok(_lead) => self.lead(),
                Err(_) => {
                    let guard = slot.result.lock().unwrap_or_else(|p| p.into_inner());
                    if guard.is_none() {
                        // Woken by our result, or briefly to check whether leadership is free.
                        let _ = slot.ready.wait_timeout(guard, std::time::Duration::from_millis(2));
                    }
                }
            }
        }
    }

    /// Runs and commits every queued piece of work (called holding the leader lock).
    fn lead(&self) {
        let group: Vec<Queued<E>> = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
        if group.is_empty() {
            return;
        }
        let results = match self.together(&group) {
            Some(results) => results,
            None => group.iter().map(|q| self.alone(&q.work)).collect(),
        };
        for (q, result) in group.into_iter().zip(results) {
            *q.slot.result.lock().unwrap_or_else(|p| p.into_inner()) = Some(result);
            q.slot.ready.notify_all();
        }
    }

    /// The group in one transaction: `None` if any piece (or the commit) failed.
    fn together(&self, group: &[Queued<E>]) -> Option<Vec<Result<Output, E>>> {
        if group.len() == 1 {
            return None;
        }
        let mut tx = self.store.begin().ok()?;
        let mut out = Vec::with_capacity(group.len());
        for q in group {
            out.push(Ok((q.work)(&mut *tx).ok()?));
        }
        tx.commit().ok()?;
        Some(out)
    }

    /// One piece in a transaction of its own, run again while it conflicts with another node's.
    fn alone(&self, work: &Work<E>) -> Result<Output, E> {
        retry(|| {
            let mut tx = self.store.begin().map_err(E::from)?;
            let out = work(&mut *tx)?;
            tx.commit().map_err(E::from)?;
            Ok(out)
        })
    }
}
