//! Retention of the line-probe time series (`line_samples`, see
//! [`super::probes`]): samples older than the raw window are folded into one
//! rollup per site and day, and rollups older than the rollup window are
//! dropped, so the store grows with sites × days kept, not with every
//! burst ever measured.
//!
//! Tree `line_rollups`: `COMMUNE/SITE` ++ `0x00` ++ day (`YYYY-MM-DD`) →
//! [`DailyRollup`] (JSON). [`Store::apply_line_retention`] runs from the
//! server once a day and from `kiemke-server retention`; it only touches
//! whole days before the raw window, so a day is rolled up from all its
//! samples at once. Samples of an already rolled-up day that arrive late
//! (an agent's queue after a long outage) are merged in: counts and bests
//! exactly, the RTT percentiles as a sample-weighted mean (an
//! approximation, said here so nobody reads more into it).
//!
//! The stored reports those samples came from keep everything but their
//! ping bursts: retention drops those too (keeping each report's content
//! hash, so a late retry is still a duplicate), or the `reports` tree would
//! grow with every burst ever measured. Reports of agents enrolled without
//! a site have no samples and keep their pings.
//!
//! [`Store::line_rollups`] reads one site's days: the line status
//! (`crate::lines`) may use them for history beyond the raw window.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemke_shared::{ReportId, SiteRef};
use serde::{Deserialize, Serialize};

use super::probes::{PingSample, SpeedSample};
use super::record::{self, StoredReport};
use super::{Store, StoreError};

pub(super) const TREE: &str = "line_rollups";

/// How long raw samples and daily rollups are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Whole days of raw samples kept before today (default 30).
    pub raw_days: u32,
    /// Days of rollups kept (default 400).
    pub rollup_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            raw_days: 30,
            rollup_days: 400,
        }
    }
}

/// One site's probes on one day (UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DailyRollup {
    pub day: NaiveDate,
    /// Ping bursts, and of them those with no loss.
    pub ping_bursts: u32,
    pub clean_bursts: u32,
    /// The median and 95th percentile of the bursts' median RTTs.
    pub rtt_p50_ms: Option<f64>,
    pub rtt_p95_ms: Option<f64>,
    /// Throughput tests, and the best download and upload among them.
    pub speed_tests: u32,
    pub best_down_mbps: Option<f64>,
    pub best_up_mbps: Option<f64>,
}

/// What one retention pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    pub samples_rolled_up: u64,
    pub days_written: u64,
    pub rollups_dropped: u64,
    /// Stored reports whose ping bursts were dropped.
    pub reports_stripped: u64,
}

fn max_opt(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}

/// One day's samples being folded.
#[derive(Default)]
struct DayFold {
    rtts: Vec<f64>,
    bursts: u32,
    clean: u32,
    tests: u32,
    down: Option<f64>,
    up: Option<f64>,
}

impl DayFold {
    fn rollup(mut self, day: NaiveDate) -> DailyRollup {
        self.rtts.sort_by(f64::total_cmp);
        DailyRollup {
            day,
            ping_bursts: self.bursts,
            clean_bursts: self.clean,
            rtt_p50_ms: percentile(&self.rtts, 50.0),
            rtt_p95_ms: percentile(&self.rtts, 95.0),
            speed_tests: self.tests,
            best_down_mbps: self.down,
            best_up_mbps: self.up,
        }
    }
}

/// Merges a late fold into a stored rollup of the same day.
fn merge(old: &DailyRollup, new: &DailyRollup) -> DailyRollup {
    let weighted = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => {
            let (wa, wb) = (f64::from(old.ping_bursts), f64::from(new.ping_bursts));
            Some((a * wa + b * wb) / (wa + wb).max(1.0))
        }
        (a, b) => a.or(b),
    };
    DailyRollup {
        day: old.day,
        ping_bursts: old.ping_bursts + new.ping_bursts,
        clean_bursts: old.clean_bursts + new.clean_bursts,
        rtt_p50_ms: weighted(old.rtt_p50_ms, new.rtt_p50_ms),
        rtt_p95_ms: weighted(old.rtt_p95_ms, new.rtt_p95_ms),
        speed_tests: old.speed_tests + new.speed_tests,
        best_down_mbps: max_opt(old.best_down_mbps, new.best_down_mbps),
        best_up_mbps: max_opt(old.best_up_mbps, new.best_up_mbps),
    }
}

fn rollup_key(site: &[u8], day: NaiveDate) -> Vec<u8> {
    let mut key = site.to_vec();
    key.push(0);
    key.extend_from_slice(day.to_string().as_bytes());
    key
}

/// A `line_samples` key's site (`COMMUNE/SITE`), kind and time.
fn parse_sample_key(key: &[u8]) -> Option<(&[u8], u8, DateTime<Utc>)> {
    let zero = key.iter().position(|b| *b == 0)?;
    let kind = *key.get(zero + 1)?;
    let micros: [u8; 8] = key.get(zero + 2..zero + 10)?.try_into().ok()?;
    let at = DateTime::from_timestamp_micros(i64::try_from(u64::from_be_bytes(micros)).ok()?)?;
    Some((&key[..zero], kind, at))
}

/// The report a `line_samples` key came from (after site, kind and time).
fn sample_report(key: &[u8]) -> Option<ReportId> {
    let zero = key.iter().position(|b| *b == 0)?;
    let bytes: [u8; 16] = key.get(zero + 10..zero + 26)?.try_into().ok()?;
    ReportId::from_bytes(bytes).ok()
}

impl Store {
    fn rollups_tree(&self) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(TREE)?)
    }

    /// Folds the samples of whole days before `retention.raw_days` days ago
    /// into daily rollups (deleting them), and drops rollups older than
    /// `retention.rollup_days`; then flushes.
    pub fn apply_line_retention(
        &self,
        now: DateTime<Utc>,
        retention: Retention,
    ) -> Result<RetentionOutcome, StoreError> {
        let _writing = self.write_guard();
        let today = now.date_naive();
        let first_raw_day = today - Duration::days(i64::from(retention.raw_days));
        let cutoff = first_raw_day.and_time(chrono::NaiveTime::MIN).and_utc();
        let mut outcome = RetentionOutcome::default();
        let mut folds: BTreeMap<(Vec<u8>, NaiveDate), DayFold> = BTreeMap::new();
        let mut old_keys = Vec::new();
        // Reports whose ping bursts are folded: their copies go too.
        let mut stripped = BTreeSet::new();
        for entry in self.line_samples.iter() {
            let (key, value) = entry?;
            let Some((site, kind, at)) = parse_sample_key(&key) else {
                continue;
            };
            if at >= cutoff {
                continue;
            }
            let fold = folds.entry((site.to_vec(), at.date_naive())).or_default();
            match kind {
                b'p' => {
                    stripped.extend(sample_report(&key));
                    let p: PingSample = record::decode("line_samples", &value)?;
                    if !p.crosses_the_line() {
                        old_keys.push(key);
                        continue;
                    }
                    fold.bursts += 1;
                    fold.clean += u32::from(p.sent > 0 && p.received == p.sent);
                    fold.rtts.extend(p.median_ms);
                }
                b's' => {
                    let s: SpeedSample = record::decode("line_samples", &value)?;
                    fold.tests += 1;
                    fold.down = max_opt(fold.down, Some(s.download_mbps));
                    fold.up = max_opt(fold.up, Some(s.upload_mbps));
                }
                _ => continue,
            }
            old_keys.push(key);
        }
        let rollups = self.rollups_tree()?;
        for ((site, day), fold) in folds {
            let new = fold.rollup(day);
            let key = rollup_key(&site, day);
            let merged = match rollups.get(&key)? {
                Some(bytes) => merge(&record::decode(TREE, &bytes)?, &new),
                None => new,
            };
            rollups.insert(key, record::encode(&merged)?)?;
            outcome.days_written += 1;
        }
        // Rollups are written (not yet flushed) before their samples go:
        // a crash in between leaves samples to fold again, merged. The
        // reports' pings go before the samples, so a crash in between
        // finds them again by the samples.
        self.db.flush()?;
        for id in stripped {
            outcome.reports_stripped += u64::from(self.strip_pings(&id)?);
        }
        for key in old_keys {
            self.line_samples.remove(key)?;
            outcome.samples_rolled_up += 1;
        }
        let oldest_kept = today - Duration::days(i64::from(retention.rollup_days));
        for entry in rollups.iter().keys() {
            let key = entry?;
            let day = (key.iter().position(|b| *b == 0))
                .and_then(|z| std::str::from_utf8(&key[z + 1..]).ok())
                .and_then(|d| d.parse::<NaiveDate>().ok());
            if day.is_some_and(|d| d < oldest_kept) {
                rollups.remove(key)?;
                outcome.rollups_dropped += 1;
            }
        }
        self.db.flush()?;
        Ok(outcome)
    }

    /// Drops the ping bursts of a stored report, keeping its content hash:
    /// the agent's late retry of it is still a duplicate (the hash decides
    /// before the content, see `super::ingest`), not a conflict. Whether
    /// there were pings to drop.
    fn strip_pings(&self, id: &ReportId) -> Result<bool, StoreError> {
        loop {
            let Some(current) = self.reports.get(id.as_bytes())? else {
                return Ok(false);
            };
            let mut stored: StoredReport = record::decode("reports", &current)?;
            match &mut stored.report.probes {
                Some(probes) if !probes.pings.is_empty() => probes.pings = Vec::new(),
                _ => return Ok(false),
            }
            let new = record::encode(&stored)?;
            if (self.reports)
                .compare_and_swap(id.as_bytes(), Some(current), Some(new))?
                .is_ok()
            {
                return Ok(true);
            }
        }
    }

    /// A site's daily rollups from `since` on, oldest first.
    pub fn line_rollups(
        &self,
        site: &SiteRef,
        since: NaiveDate,
    ) -> Result<Vec<DailyRollup>, StoreError> {
        let prefix = site.to_string().into_bytes();
        let from = rollup_key(&prefix, since);
        let mut to = prefix;
        to.push(1);
        self.rollups_tree()?
            .range(from..to)
            .values()
            .map(|v| record::decode(TREE, &v?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use kiemke_shared::{AgentId, CommuneCode, ReportId, SiteCode};
    use rand::SeedableRng;

    use super::*;
    use crate::fixture::hardware;
    use crate::store::Origin;

    /// A store holding `days` days of one site's probe history ending now,
    /// a burst every `every_minutes` (one report a day).
    struct SiteHistory {
        _dir: tempfile::TempDir,
        store: Store,
        site: SiteRef,
        origin: Origin,
        history: Vec<(kiemke_shared::Report, chrono::DateTime<Utc>)>,
        now: chrono::DateTime<Utc>,
    }

    fn site_history(seed: u64, days: u32, every_minutes: u32) -> SiteHistory {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let site = SiteRef {
            commune: CommuneCode::parse("24118").expect("code"),
            site: SiteCode::parse("ttpvhcc").expect("code"),
        };
        let origin = Origin {
            commune: site.commune.clone(),
            site: Some(site.site.clone()),
        };
        let now = Utc::now();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let history =
            hardware::probe_history(&mut rng, AgentId::generate(), now, days, every_minutes);
        for (report, at) in &history {
            store
                .ingest_blocking_from(report, Some(&origin), *at)
                .expect("ingest");
        }
        SiteHistory {
            _dir: dir,
            store,
            site,
            origin,
            history,
            now,
        }
    }

    #[test]
    fn old_samples_become_daily_rollups_and_growth_stops() {
        // 60 days, a burst every 30 minutes: 48 a day.
        // `_dir` bound: the directory lives as long as the store.
        let SiteHistory {
            _dir,
            store,
            site,
            now,
            ..
        } = site_history(3, 60, 30);
        let all_since = now - Duration::days(61);
        let before = store.ping_samples(&site, all_since).expect("samples").len();
        assert_eq!(before, 60 * 48);
        let retention = Retention {
            raw_days: 30,
            rollup_days: 45,
        };

        let done = store
            .apply_line_retention(now, retention)
            .expect("retention");

        // Raw samples only from the first raw day on.
        let cutoff = (now.date_naive() - Duration::days(30))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let kept = store.ping_samples(&site, all_since).expect("samples");
        assert!(kept.iter().all(|s| s.at >= cutoff));
        assert_eq!(done.samples_rolled_up as usize, before - kept.len());
        // Every rolled-up day is one rollup with all its bursts; those older
        // than 45 days are gone.
        let rollups = store
            .line_rollups(&site, now.date_naive() - Duration::days(400))
            .expect("rollups");
        let oldest = now.date_naive() - Duration::days(45);
        assert!(
            rollups
                .iter()
                .all(|r| r.day >= oldest
                    && r.day.and_time(chrono::NaiveTime::MIN).and_utc() < cutoff)
        );
        let full_days: Vec<_> = rollups.iter().filter(|r| r.ping_bursts == 48).collect();
        assert!(full_days.len() >= 13, "{rollups:?}");
        for r in &rollups {
            assert!(r.clean_bursts <= r.ping_bursts);
            let (p50, p95) = (r.rtt_p50_ms.expect("p50"), r.rtt_p95_ms.expect("p95"));
            assert!((12.0..60.0).contains(&p50) && p50 <= p95, "{r:?}");
        }

        // A second pass changes nothing: growth is bounded by days kept.
        let again = store
            .apply_line_retention(now, retention)
            .expect("retention");
        assert_eq!(again.samples_rolled_up, 0);
        assert_eq!(again.rollups_dropped, 0);
        assert_eq!(
            store
                .line_rollups(&site, now.date_naive() - Duration::days(400))
                .expect("rollups"),
            rollups
        );
    }

    #[test]
    fn retention_drops_old_reports_pings_but_a_late_retry_is_still_a_duplicate() {
        // 40 days, one report a day with a burst every 2 hours.
        let SiteHistory {
            _dir,
            store,
            origin,
            history,
            now,
            ..
        } = site_history(5, 40, 120);
        let pings = |id: &ReportId| {
            let stored = store.report(id).expect("read").expect("stored");
            (
                stored.report.probes.map_or(0, |p| p.pings.len()),
                stored.content_hash,
            )
        };
        let before: Vec<_> = history.iter().map(|(r, _)| pings(&r.report_id)).collect();
        assert!(before.iter().all(|(n, _)| *n == 12));
        let reports_bytes = || {
            (store.reports.iter().values())
                .map(|v| v.expect("read").len())
                .sum::<usize>()
        };
        let bytes_before = reports_bytes();

        let done = store
            .apply_line_retention(now, Retention::default())
            .expect("retention");

        // Reports whose bursts were folded lost them, kept their hash; the
        // others are untouched.
        let cutoff = (now.date_naive() - Duration::days(30))
            .and_time(chrono::NaiveTime::MIN)
            .and_utc();
        let mut stripped = 0;
        for ((report, _), (_, hash)) in history.iter().zip(&before) {
            let (n, kept_hash) = pings(&report.report_id);
            assert_eq!(&kept_hash, hash);
            let old = (report.probes.as_ref())
                .is_some_and(|p| p.pings.iter().any(|b| b.started_at < cutoff));
            assert_eq!(n, if old { 0 } else { 12 }, "{}", report.taken_at);
            stripped += usize::from(old);
        }
        assert!(stripped >= 9, "{stripped}");
        assert_eq!(done.reports_stripped as usize, stripped);
        // What is kept of a stripped report is small: the stored reports
        // shrink by most of their bursts' size.
        let bytes_after = reports_bytes();
        let per_report_before = bytes_before / history.len();
        assert!(
            bytes_before - bytes_after > stripped * per_report_before * 2 / 3,
            "{bytes_before} -> {bytes_after} for {stripped} of {} reports",
            history.len()
        );

        // The agent retries the oldest report late: a duplicate, not a
        // conflict; the same id with other content is still refused.
        let (oldest, at) = &history[0];
        let again = store
            .ingest_blocking_from(oldest, Some(&origin), now)
            .expect("retry");
        assert!(
            matches!(again, crate::store::IngestOutcome::Duplicate { received_at, .. } if received_at == *at)
        );
        let mut changed = oldest.clone();
        changed.taken_at += Duration::seconds(1);
        let refused = store.ingest_blocking_from(&changed, Some(&origin), now);
        assert!(
            matches!(refused, Err(StoreError::Conflict { .. })),
            "{refused:?}"
        );

        // A second pass finds nothing more to drop.
        let again = store
            .apply_line_retention(now, Retention::default())
            .expect("retention");
        assert_eq!(again.reports_stripped, 0);
    }
}
