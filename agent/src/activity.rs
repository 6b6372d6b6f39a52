//! What the agent last did with the server: when it last delivered a
//! report, and the last error. Kept in `activity.json` in the data
//! directory (a small file written atomically after every delivery pass), so
//! `kiemke-agent status` can tell it on every OS while the service holds the
//! spool open.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::deliver::DrainSummary;

pub const ACTIVITY_FILE: &str = "activity.json";

/// The last delivery pass and what came of the ones before.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// When a delivery pass last ran (with something to send).
    #[serde(default)]
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the server last acknowledged a report.
    #[serde(default)]
    pub last_report_at: Option<DateTime<Utc>>,
    /// The last failure, kept after later successes so a person can see what
    /// went wrong and when (its time tells whether it is still current).
    #[serde(default)]
    pub last_error: Option<LastError>,
    /// Reports still queued after the last pass.
    #[serde(default)]
    pub pending: usize,
}

/// One failure to deliver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastError {
    pub at: DateTime<Utc>,
    pub message: String,
}

/// Longest error message kept (a server page quoted in an error must not
/// grow the file without bound).
const MAX_MESSAGE_CHARS: usize = 500;

impl Activity {
    /// This activity updated with a delivery pass that ended at `now`.
    pub fn after(mut self, summary: &DrainSummary, now: DateTime<Utc>) -> Activity {
        self.last_attempt_at = Some(now);
        if summary.delivered > 0 {
            self.last_report_at = Some(now);
        }
        if let Some(message) = &summary.last_error {
            self.last_error = Some(LastError {
                at: now,
                message: message.chars().take(MAX_MESSAGE_CHARS).collect(),
            });
        } else if summary.refused > 0 {
            self.last_error = Some(LastError {
                at: now,
                message: format!("{} report(s) refused by the server", summary.refused),
            });
        }
        self.pending = summary.remaining;
        self
    }

    /// Whether the last error is newer than the last delivered report.
    pub fn failing(&self) -> bool {
        match (&self.last_error, self.last_report_at) {
            (Some(e), Some(ok)) => e.at >= ok,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

pub fn path(dir: &Path) -> PathBuf {
    dir.join(ACTIVITY_FILE)
}

/// The recorded activity; empty when none was recorded or the file is
/// unreadable (it is informative only: nothing depends on it).
pub fn load(dir: &Path) -> Activity {
    fs::read_to_string(path(dir))
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Records a delivery pass. Failures are logged, never raised: the spool,
/// not this file, is what must not be lost.
pub fn record(dir: &Path, summary: &DrainSummary) {
    let activity = load(dir).after(summary, Utc::now());
    if let Err(e) = write(dir, &activity) {
        tracing::warn!(cause = %e, "không ghi được trạng thái gửi / cannot record the delivery status");
    }
}

fn write(dir: &Path, activity: &Activity) -> std::io::Result<()> {
    let tmp = dir.join(format!("{ACTIVITY_FILE}.tmp"));
    let json = serde_json::to_vec_pretty(activity).map_err(std::io::Error::other)?;
    let mut file = fs::File::create(&tmp)?;
    file.write_all(&json)?;
    file.sync_all()?;
    fs::rename(&tmp, path(dir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, hour, 0, 0)
            .single()
            .expect("valid time")
    }

    #[test]
    fn passes_update_the_times_and_keep_the_last_error() {
        let failed = DrainSummary {
            last_error: Some("máy chủ không trả lời".into()),
            remaining: 3,
            ..DrainSummary::default()
        };
        let delivered = DrainSummary {
            delivered: 3,
            ..DrainSummary::default()
        };
        let a = Activity::default().after(&failed, at(8));
        assert!(a.failing());
        assert_eq!(a.pending, 3);
        assert_eq!(a.last_report_at, None);
        let a = a.after(&delivered, at(9));
        assert!(!a.failing(), "a later delivery clears the failing state");
        assert_eq!(a.last_report_at, Some(at(9)));
        assert_eq!(
            a.last_error.as_ref().map(|e| (e.at, e.message.as_str())),
            Some((at(8), "máy chủ không trả lời")),
            "the last error stays visible"
        );
        assert_eq!(a.pending, 0);
    }

    #[test]
    fn recorded_activity_is_read_back_and_bad_files_read_as_empty() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(load(dir.path()), Activity::default());
        let summary = DrainSummary {
            delivered: 1,
            ..DrainSummary::default()
        };
        record(dir.path(), &summary);
        let read = load(dir.path());
        assert!(read.last_report_at.is_some() && read.last_error.is_none());
        fs::write(path(dir.path()), "{not json").expect("write");
        assert_eq!(load(dir.path()), Activity::default());
    }

    #[test]
    fn long_messages_are_cut() {
        let summary = DrainSummary {
            last_error: Some("x".repeat(10_000)),
            ..DrainSummary::default()
        };
        let a = Activity::default().after(&summary, at(1));
        assert_eq!(
            a.last_error.map(|e| e.message.chars().count()),
            Some(MAX_MESSAGE_CHARS)
        );
    }
}
