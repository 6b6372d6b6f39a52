//! Batched ingest: the reports that arrive while one batch is being written
//! are written together, in one sled transaction and one flush.
//!
//! Why: in sled 0.34 every transaction seals and writes the log buffer (a
//! `pwrite` and a `sync_file_range` on sled's I/O threads), holds sled's
//! global lock exclusively while its closure runs, and `flush` holds that
//! lock shared until the disk answered. One transaction and one flush per
//! report made the ingest a queue of disk round trips, each with a train
//! of thread wake-ups (measured under `bench fleet`: two to three log
//! writes, about forty futex calls and as many context switches per
//! report). So callers hand their report to a [`Batcher`]: one of them
//! (the leader) takes every report waiting, writes them all, flushes once,
//! and hands each caller its own result; callers that arrive meanwhile wait
//! for the next batch, which one of them leads. Alone, a caller leads a
//! batch of one: exactly the single-report path.
//!
//! Each caller gets its answer only after the batch's flush, so the rule
//! "acknowledged only once on disk" is unchanged.

use std::mem;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::StoreError;

/// Requests waiting for a leader, and the leader's turn.
#[derive(Debug)]
pub struct Batcher<Req, Res> {
    pending: Mutex<Vec<(Req, Arc<Slot<Res>>)>>,
    /// Held by the caller writing a batch; the others wait on it.
    leader: Mutex<()>,
}

impl<Req, Res> Default for Batcher<Req, Res> {
    fn default() -> Self {
        Batcher {
            pending: Mutex::new(Vec::new()),
            leader: Mutex::new(()),
        }
    }
}

/// Where a leader puts one caller's result.
#[derive(Debug)]
struct Slot<Res>(Mutex<Option<Result<Res, StoreError>>>);

impl<Res> Default for Slot<Res> {
    fn default() -> Self {
        Slot(Mutex::new(None))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<Req, Res> Batcher<Req, Res> {
    /// Returns `req`'s result, computed by `process` over a batch of
    /// requests (this caller's `process`, if it leads the batch holding
    /// `req`, or another caller's). `process` returns one result per
    /// request, in order.
    pub fn submit(
        &self,
        req: Req,
        process: impl FnOnce(Vec<Req>) -> Vec<Result<Res, StoreError>>,
    ) -> Result<Res, StoreError> {
        let slot = Arc::new(Slot::default());
        lock(&self.pending).push((req, slot.clone()));
        let mut process = Some(process);
        loop {
            let _lead = lock(&self.leader);
            // Results are put while the leader's lock is held: an empty
            // slot now means the request is still pending.
            if let Some(result) = lock(&slot.0).take() {
                return result;
            }
            let (reqs, slots): (Vec<Req>, Vec<Arc<Slot<Res>>>) =
                mem::take(&mut *lock(&self.pending)).into_iter().unzip();
            let Some(process) = process.take() else {
                // Only after a leader panicked with this request in its batch.
                return Err(StoreError::Task("ingest batch lost".into()));
            };
            let mut results = process(reqs).into_iter();
            for slot in slots {
                let result = results
                    .next()
                    .unwrap_or_else(|| Err(StoreError::Task("ingest batch: no result".into())));
                *lock(&slot.0) = Some(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_caller_gets_its_own_result_and_batches_form_under_load() {
        let batcher = Batcher::<u32, u32>::default();
        let batches = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for t in 0..8u32 {
                let (batcher, batches) = (&batcher, &batches);
                s.spawn(move || {
                    for k in 0..200u32 {
                        let req = t * 1000 + k;
                        let got = batcher.submit(req, |reqs| {
                            batches.lock().expect("lock").push(reqs.len());
                            reqs.into_iter().map(|r| Ok(r * 2)).collect()
                        });
                        assert_eq!(got.expect("result"), req * 2);
                    }
                });
            }
        });
        let batches = batches.into_inner().expect("lock");
        assert_eq!(batches.iter().sum::<usize>(), 1600);
        assert!(batches.iter().all(|n| *n >= 1));
    }

    #[test]
    fn a_missing_result_is_an_error_not_a_hang() {
        let batcher = Batcher::<u32, u32>::default();
        let got = batcher.submit(1, |_| Vec::new());
        assert!(matches!(got, Err(StoreError::Task(_))));
    }
}
