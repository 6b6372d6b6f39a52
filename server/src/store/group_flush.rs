//! Group commit: many writers waiting for the same `fsync`. Each write that
//! must be durable before it is acknowledged (an ingest, new flags) takes a
//! ticket after its transaction committed and calls [`GroupFlush::flush`];
//! one caller flushes while the others wait on the lock, and when they get
//! it, a flush that *started* after their ticket was taken has already
//! covered them, so they return without a flush of their own. Under load
//! one `fsync` serves a whole batch of reports; alone, a writer flushes
//! exactly as before.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Tickets handed out and the highest ticket known durable.
#[derive(Debug, Default)]
pub struct GroupFlush {
    issued: AtomicU64,
    durable: Mutex<u64>,
}

impl GroupFlush {
    /// Returns once everything written before this call is on disk.
    pub fn flush(&self, db: &sled::Db) -> sled::Result<()> {
        let ticket = self.issued.fetch_add(1, Ordering::SeqCst) + 1;
        let mut durable = self
            .durable
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *durable >= ticket {
            return Ok(());
        }
        // Every ticket issued so far belongs to a write already committed.
        let covers = self.issued.load(Ordering::SeqCst);
        db.flush()?;
        *durable = covers;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flush_covers_every_ticket_taken_before_it_started() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = sled::open(dir.path()).expect("open");
        let group = std::sync::Arc::new(GroupFlush::default());
        std::thread::scope(|s| {
            for i in 0..8u32 {
                let (db, group) = (&db, group.clone());
                s.spawn(move || {
                    for k in 0..50u32 {
                        db.insert(format!("{i}-{k}"), &[1u8][..]).expect("insert");
                        group.flush(db).expect("flush");
                    }
                });
            }
        });
        assert_eq!(*group.durable.lock().expect("lock"), 400);
        assert_eq!(group.issued.load(Ordering::SeqCst), 400);
    }
}
