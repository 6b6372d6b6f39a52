//! The spool: reports waiting for the server's acknowledgement, on disk.
//!
//! A report enters the spool before any attempt to send it and leaves only
//! when the server acknowledged it (or refused it for good, in which case it
//! is set aside in `rejected` for inspection rather than retried forever).
//! Every change is flushed before the call returns, so a report the agent
//! said it queued survives a crash or power loss. Keys are report ids (UUID
//! v7), so iteration order is creation order and the oldest is dropped first
//! when the spool is full.
//!
//! This is the only module of the agent that touches sled.

use std::path::{Path, PathBuf};

use kiemke_shared::{Report, ReportId};

/// Bounds on what the spool keeps (a PC offline for months must not fill its
/// disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    pub max_reports: usize,
    pub max_bytes: u64,
}

impl Default for SpoolLimits {
    fn default() -> Self {
        SpoolLimits {
            max_reports: 1000,
            max_bytes: 64 << 20,
        }
    }
}

/// How long [`Spool::open`] waits for a lock this process itself is
/// releasing (sled 0.34 closes its files on background threads shortly after
/// the last handle is dropped). Another running agent's lock outlasts it.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// At most this many refused reports are kept aside.
const MAX_REJECTED: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(
        "cannot open the spool in {path}: {source} (is another kiemke-agent using this data directory?)"
    )]
    Open { path: PathBuf, source: sled::Error },
    #[error("spool storage error: {0}")]
    Storage(#[from] sled::Error),
    #[error("cannot encode the report: {0}")]
    Encode(#[from] std::io::Error),
    #[error("the report is invalid and was not queued: {0}")]
    Invalid(#[from] kiemke_shared::validate::ValidationError),
}

/// One queued report, as it will be sent (gzip-compressed JSON).
#[derive(Debug, Clone)]
pub struct Spooled {
    pub id: ReportId,
    pub body: Vec<u8>,
}

/// What a push did besides queueing the report.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PushOutcome {
    /// The oldest reports dropped to stay within the limits.
    pub dropped: Vec<ReportId>,
}

#[derive(Clone)]
pub struct Spool {
    db: sled::Db,
    queue: sled::Tree,
    rejected: sled::Tree,
    limits: SpoolLimits,
    /// The agent's data directory, where delivery passes record their
    /// outcome for `status` ([`crate::activity`]).
    data_dir: PathBuf,
}

impl Spool {
    /// Opens (or creates) the spool in the agent's data directory.
    pub fn open(data_dir: &Path, limits: SpoolLimits) -> Result<Spool, SpoolError> {
        let path = data_dir.join("spool");
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            // The agent must stay small: a tiny cache is plenty for a queue.
            match sled::Config::new()
                .path(&path)
                .cache_capacity(1 << 20)
                .open()
            {
                Err(sled::Error::Io(ref e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other,
            }
        }
        .map_err(|source| SpoolError::Open {
            path: path.clone(),
            source,
        })?;
        let queue = db.open_tree("queue")?;
        let rejected = db.open_tree("rejected")?;
        Ok(Spool {
            db,
            queue,
            rejected,
            limits,
            data_dir: data_dir.to_owned(),
        })
    }

    /// The data directory this spool lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Validates, encodes and queues a report durably; drops the oldest
    /// reports if the spool would exceed its limits (never the new one).
    pub async fn push(&self, report: &Report) -> Result<PushOutcome, SpoolError> {
        kiemke_shared::validate::validate_report(report)?;
        let body = crate::report::encode(report)?;
        self.queue.insert(report.report_id.as_bytes(), body)?;
        let mut outcome = PushOutcome::default();
        loop {
            let (count, bytes) = self.usage()?;
            if count <= 1 || (count <= self.limits.max_reports && bytes <= self.limits.max_bytes) {
                break;
            }
            let Some((key, _)) = self.queue.pop_min()? else {
                break;
            };
            if let Some(id) = id_from_key(&key) {
                tracing::warn!(report_id = %id, "hàng đợi đầy: đã bỏ báo cáo cũ nhất / spool full: dropped the oldest report");
                outcome.dropped.push(id);
            }
        }
        self.db.flush_async().await?;
        Ok(outcome)
    }

    /// The oldest queued report, if any. Delivery takes reports one at a
    /// time so that a full spool (up to its byte cap) is never held in
    /// memory at once.
    pub fn oldest(&self) -> Result<Option<Spooled>, SpoolError> {
        for entry in self.queue.iter() {
            let (key, value) = entry?;
            if let Some(id) = id_from_key(&key) {
                return Ok(Some(Spooled {
                    id,
                    body: value.to_vec(),
                }));
            }
        }
        Ok(None)
    }

    /// The ids of the queued reports, oldest first.
    pub fn ids(&self) -> Result<Vec<ReportId>, SpoolError> {
        let mut ids = Vec::new();
        for key in self.queue.iter().keys() {
            ids.extend(id_from_key(&key?));
        }
        Ok(ids)
    }

    /// Removes a report the server acknowledged.
    pub async fn ack(&self, id: ReportId) -> Result<(), SpoolError> {
        self.queue.remove(id.as_bytes())?;
        self.db.flush_async().await?;
        Ok(())
    }

    /// Sets aside a report the server refused for good, with its reason.
    pub async fn reject(&self, id: ReportId, reason: &str) -> Result<(), SpoolError> {
        if let Some(body) = self.queue.remove(id.as_bytes())? {
            let record = serde_json::json!({ "reason": reason, "size": body.len() });
            self.rejected.insert(
                id.as_bytes(),
                serde_json::to_vec(&record).unwrap_or_default(),
            )?;
            while self.rejected.len() > MAX_REJECTED {
                self.rejected.pop_min()?;
            }
        }
        self.db.flush_async().await?;
        Ok(())
    }

    /// Number of queued reports and their total size in bytes.
    pub fn usage(&self) -> Result<(usize, u64), SpoolError> {
        let mut count = 0;
        let mut bytes = 0u64;
        for entry in self.queue.iter() {
            let (_, value) = entry?;
            count += 1;
            bytes += value.len() as u64;
        }
        Ok((count, bytes))
    }

    /// Number of reports set aside as refused.
    pub fn rejected_count(&self) -> usize {
        self.rejected.len()
    }
}

fn id_from_key(key: &[u8]) -> Option<ReportId> {
    ReportId::from_bytes(key.try_into().ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiemke_shared::{AgentId, Inventory};

    fn report() -> Report {
        crate::report::build(AgentId::generate(), Inventory::default())
    }

    #[tokio::test]
    async fn survives_reopen_and_keeps_order() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ids: Vec<ReportId> = {
            let spool = Spool::open(dir.path(), SpoolLimits::default()).expect("open");
            let mut ids = vec![];
            for _ in 0..3 {
                let r = report();
                spool.push(&r).await.expect("push");
                ids.push(r.report_id);
            }
            spool.ack(ids[0]).await.expect("ack");
            ids
        };
        let spool = Spool::open(dir.path(), SpoolLimits::default()).expect("reopen");
        let pending = spool.ids().expect("ids");
        assert_eq!(pending, ids[1..]);
    }

    #[tokio::test]
    async fn drops_oldest_beyond_the_cap_and_says_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let limits = SpoolLimits {
            max_reports: 2,
            max_bytes: 1 << 20,
        };
        let spool = Spool::open(dir.path(), limits).expect("open");
        let reports: Vec<Report> = (0..3).map(|_| report()).collect();
        assert!(
            spool
                .push(&reports[0])
                .await
                .expect("push")
                .dropped
                .is_empty()
        );
        assert!(
            spool
                .push(&reports[1])
                .await
                .expect("push")
                .dropped
                .is_empty()
        );
        let outcome = spool.push(&reports[2]).await.expect("push");
        assert_eq!(outcome.dropped, vec![reports[0].report_id]);
        let pending = spool.ids().expect("ids");
        assert_eq!(pending, vec![reports[1].report_id, reports[2].report_id]);
    }

    #[tokio::test]
    async fn rejected_reports_leave_the_queue() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::open(dir.path(), SpoolLimits::default()).expect("open");
        let r = report();
        spool.push(&r).await.expect("push");
        spool
            .reject(r.report_id, "invalid_field")
            .await
            .expect("reject");
        assert_eq!(spool.usage().expect("usage").0, 0);
        assert_eq!(spool.rejected_count(), 1);
    }

    #[tokio::test]
    async fn invalid_reports_are_not_queued() {
        let dir = tempfile::tempdir().expect("tempdir");
        let spool = Spool::open(dir.path(), SpoolLimits::default()).expect("open");
        let mut r = report();
        r.agent.version = String::new();
        assert!(matches!(spool.push(&r).await, Err(SpoolError::Invalid(_))));
        assert_eq!(spool.usage().expect("usage").0, 0);
    }
}
