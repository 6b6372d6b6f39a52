//! The audit log: every write, who made it, when, and what it changed.
//!
//! Tree `audit`: time (big-endian µs) ++ sled's monotonic id → [`AuditEntry`]
//! (JSON), so a scan is in time order and two entries in the same
//! microsecond keep their order. Entries are never changed or removed by the
//! server.
//!
//! # How a write records itself
//! Every handler or command that changes data calls [`Store::audit`] after
//! its write succeeded (inside `Store::blocking`, or directly in a CLI
//! command), with the acting user (`Viewer::user`, `cli:<os user>` or
//! `system`), a dotted action name (`user.add`, `asset.put`, `site.add`,
//! `login.failure`...), the target (a device id, `commune/site`, a user
//! name) and the record before and after as JSON (`None` where there is
//! none; never passwords, hashes or secrets). [`Store::audit`] flushes, so
//! an acknowledged write is never missing from the log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError, record};

const AUDIT: &str = "audit";

/// One recorded action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// The user name, `admin-token`, `cli` or `system`.
    pub who: String,
    /// What was done, e.g. `asset.put`, `user.disable`, `login.failure`.
    pub action: String,
    /// What it was done to, e.g. a device id or a user name.
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    /// An entry at the current time without before/after.
    pub fn new(who: impl Into<String>, action: &str, target: impl Into<String>) -> AuditEntry {
        AuditEntry {
            at: Utc::now(),
            who: who.into(),
            action: action.to_owned(),
            target: target.into(),
            before: None,
            after: None,
        }
    }

    /// With the state before and after (serialised; a value that does not
    /// serialise is recorded as `null`).
    pub fn change<B: Serialize, A: Serialize>(
        mut self,
        before: Option<&B>,
        after: Option<&A>,
    ) -> AuditEntry {
        self.before = before.map(|b| serde_json::to_value(b).unwrap_or_default());
        self.after = after.map(|a| serde_json::to_value(a).unwrap_or_default());
        self
    }
}

/// One page of the log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub total: u64,
}

impl Store {
    fn audit_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(AUDIT)?)
    }

    /// Appends `entry` to the audit log and flushes.
    pub fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let micros = u64::try_from(entry.at.timestamp_micros()).unwrap_or(0);
        let mut key = Vec::with_capacity(16);
        key.extend_from_slice(&micros.to_be_bytes());
        key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
        self.audit_tree()?.insert(key, record::encode(entry)?)?;
        self.db.flush()?;
        Ok(())
    }

    /// Entries newest first, skipping `offset`, at most `limit`.
    pub fn audit_log(&self, limit: usize, offset: usize) -> Result<AuditPage, StoreError> {
        let tree = self.audit_tree()?;
        let entries = tree
            .iter()
            .values()
            .rev()
            .skip(offset)
            .take(limit)
            .map(|v| record::decode(AUDIT, &v?))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AuditPage {
            entries,
            total: tree.len() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_pages_newest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        for i in 0..5 {
            let entry = AuditEntry::new("so-khcn", "user.add", format!("u{i}"))
                .change(None::<&()>, Some(&serde_json::json!({"n": i})));
            store.audit(&entry).expect("audit");
        }
        let page = store.audit_log(2, 1).expect("read");
        assert_eq!(page.total, 5);
        let targets: Vec<_> = page.entries.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(targets, ["u3", "u2"]);
        assert_eq!(page.entries[0].after, Some(serde_json::json!({"n": 3})));
        assert!(page.entries[0].before.is_none());
    }
}
