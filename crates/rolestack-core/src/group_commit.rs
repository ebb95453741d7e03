//! Group commit: small writes that arrive together share one store transaction, so one commit
//! (one fsync of the database's log) makes all of them durable instead of one each.
//!
//! Leader and followers: a writer queues its work, then, if no group is being committed, leads:
//! it takes every queued piece of work, runs them in one transaction and commits, then hands each
//! writer its result and wakes everyone waiting; writers that queued meanwhile find their work
//! done, or one of them leads the next group at once. Nobody waits on a timer: a writer alone
//! commits at once, and groups form exactly when commits are the bottleneck.
//!
//! Each piece of work sees one transaction shared with others, so it must be safe to run twice:
//! when any piece fails, the group is rolled back and every piece runs again in a transaction of
//! its own (a failure never undoes a neighbour's write, and never half-applies its own).

use std::any::Any;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::store::{retry, Retry, Store, Tx};
use crate::Error;

type Output = Box<dyn Any + Send>;
type Work<E> = Box<dyn Fn(&mut dyn Tx) -> Result<Output, E> + Send>;

/// A writer's work, waiting for a leader to take it.
struct Queued<E> {
    id: u64,
    work: Work<E>,
}

/// What the writers share, under one lock.
struct Line<E> {
    /// Work no leader has taken yet.
    queue: Vec<Queued<E>>,
    /// Results not yet picked up by their writers, by writer.
    done: Vec<(u64, Result<Output, E>)>,
    /// Whether a leader is running a group now.
    leading: bool,
    next_id: u64,
}

/// Groups the writes of concurrent writers into shared transactions (see the module docs).
pub struct GroupCommit<E> {
    store: Arc<dyn Store>,
    line: Mutex<Line<E>>,
    /// Signalled when a group's results are handed out (and leadership is free again).
    turn: Condvar,
}

impl<E: From<Error> + Retry + Send + 'static> GroupCommit<E> {
    pub fn new(store: Arc<dyn Store>) -> Self {
        GroupCommit {
            store,
            line: Mutex::new(Line { queue: Vec::new(), done: Vec::new(), leading: false, next_id: 0 }),
            turn: Condvar::new(),
        }
    }

    fn line(&self) -> MutexGuard<'_, Line<E>> {
        self.line.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `work` in a transaction committed before this returns, shared with other writers'
    /// work when they write at the same time. `work` may run twice (see the module docs).
    pub fn write<T: Send + 'static>(&self, work: impl Fn(&mut dyn Tx) -> Result<T, E> + Send + 'static) -> Result<T, E> {
        let work: Work<E> = Box::new(move |tx: &mut dyn Tx| work(tx).map(|v| Box::new(v) as Output));
        let mut line = self.line();
        let id = line.next_id;
        line.next_id += 1;
        line.queue.push(Queued { id, work });
        loop {
            if let Some(at) = line.done.iter().position(|(done, _)| *done == id) {
                let (_, result) = line.done.swap_remove(at);
                return result.map(|v| *v.downcast::<T>().expect("the type it was queued with"));
            }
            if line.leading {
                line = self.turn.wait(line).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            // Lead a group: ours, and whatever else is queued.
            line.leading = true;
            let mut lead = Leadership { commits: self, ids: line.queue.iter().map(|q| q.id).collect(), results: Vec::new() };
            let group = std::mem::take(&mut line.queue);
            drop(line);
            lead.results = self.lead(&group);
            drop(lead); // hands out the results and wakes the waiting writers
            line = self.line();
        }
    }

    /// Runs and commits a group: together when it can, else each piece alone.
    fn lead(&self, group: &[Queued<E>]) -> Vec<Result<Output, E>> {
        match self.together(group) {
            Some(results) => results,
            None => group.iter().map(|q| self.alone(&q.work)).collect(),
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
            out.push(Ok(run(&q.work, &mut *tx).ok()?));
        }
        tx.commit().ok()?;
        Some(out)
    }

    /// One piece in a transaction of its own, run again while it conflicts with another node's.
    fn alone(&self, work: &Work<E>) -> Result<Output, E> {
        retry(|| {
            let mut tx = self.store.begin().map_err(E::from)?;
            let out = run(work, &mut *tx)?;
            tx.commit().map_err(E::from)?;
            Ok(out)
        })
    }
}

/// One piece of work; a panic in it is its writer's error (the leader runs others' work, and
/// one writer's bug must not take down another's request).
fn run<E: From<Error>>(work: &Work<E>, tx: &mut dyn Tx) -> Result<Output, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(tx)))
        .unwrap_or_else(|_| Err(E::from(Error::Store("a write panicked".into()))))
}

/// A leader's turn: when it ends — normally or by a panic in a piece of work — every writer of
/// the group gets a result (an error for those the leader did not finish) and leadership is free.
struct Leadership<'a, E: From<Error> + Retry + Send + 'static> {
    commits: &'a GroupCommit<E>,
    ids: Vec<u64>,
    results: Vec<Result<Output, E>>,
}

impl<E: From<Error> + Retry + Send + 'static> Drop for Leadership<'_, E> {
    fn drop(&mut self) {
        let mut results = std::mem::take(&mut self.results).into_iter();
        let mut line = self.commits.line();
        line.leading = false;
        for id in std::mem::take(&mut self.ids) {
            let result = results.next().unwrap_or_else(|| Err(E::from(Error::Store("the group commit's leader failed".into()))));
            line.done.push((id, result));
        }
        self.commits.turn.notify_all();
    }
}
