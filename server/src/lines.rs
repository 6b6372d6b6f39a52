//! Per-site line status: whether a site's line meets its target, how
//! available it is, and its latency over time, from the probe time series
//! the site's PCs reported (`store::probes`). The survey pages and
//! `GET /api/v1/sites/{commune}/{site}/lines` both call [`site_status`].
//!
//! This module is the one owner of the judgment: the survey
//! (`crate::survey::lines`) and the proposal (`crate::proposal::lines`)
//! take their per-site verdicts from [`judge_window`] and [`daily_best`]
//! over the same samples ([`site_speeds`], [`commune_speeds`]), so a site
//! cannot meet its target on one page and fail it on another.
//!
//! What it judges, and how:
//! - **Target**: the policy's `[line-targets]` for the site's kind (100 Mbps;
//!   200 Mbps at a TTPVHCC).
//! - **Meets the target** over the last 7 and 30 days: the line's capacity
//!   is its *best* download in the window, not an average (a PC with a
//!   100 Mbps card or on Wi-Fi says little about a 200 Mbps line). Below
//!   the target, the verdict is `pc-limited` when every test was capped by
//!   its PC's own link (link speed below the target, or the agent said so):
//!   the line is then not shown to fail, the PCs are the finding.
//! - **Availability**: the share of ping bursts across the line (gateway
//!   bursts excluded: they end at the office router) with at least one
//!   reply (`availability_pct`), and with no loss at all (`clean_pct`).
//! - **Latency over time**: per day (Vietnam time, UTC+7), the median of
//!   the bursts' median RTTs and the 95th percentile of their p95 RTTs.
//!
//! Which of several lines a test went through is not known (the agent sees
//! one default route): a site's figures are for the site, and its lines are
//! listed beside them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemke_shared::probes::LimitedBy;
use kiemke_shared::{SiteKind, SiteRef};
use serde::Serialize;

use crate::policy::Policy;
use crate::store::probes::{PingSample, SpeedSample, SpeedTestRequest};
use crate::store::sites::Line;
use crate::store::{Store, StoreError};

/// The windows the target is judged over, in days.
pub const WINDOWS_DAYS: [i64; 2] = [7, 30];
/// Days of daily latency figures.
pub const LATENCY_DAYS: i64 = 30;
/// Tests listed as evidence under each window (the newest).
pub const MAX_EVIDENCE: usize = 50;
/// Vietnam's offset from UTC, for calendar days.
const VN_OFFSET_HOURS: i64 = 7;

/// Everything known about a site's line(s).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SiteLineStatus {
    pub site: SiteRef,
    pub name: String,
    pub kind: SiteKind,
    pub lines: Vec<Line>,
    /// What the line is judged against (Mbps download).
    pub target_mbps: u32,
    pub as_of: DateTime<Utc>,
    /// One per entry of [`WINDOWS_DAYS`].
    pub windows: Vec<TargetWindow>,
    /// One per entry of [`WINDOWS_DAYS`].
    pub availability: Vec<Availability>,
    /// Oldest day first; days without bursts are left out.
    pub latency_daily: Vec<DailyLatency>,
    pub last_speed_test_at: Option<DateTime<Utc>>,
    /// A test the server is waiting for, if any.
    pub pending_speed_test: Option<SpeedTestRequest>,
}

/// Whether the line met its target over a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The best download reached the target.
    Meets,
    /// The best download stayed below it, and not only because of PCs.
    Below,
    /// Below, but every test was capped by its PC's own link: not known.
    PcLimited,
    /// No throughput test in the window.
    NoData,
}

impl Verdict {
    /// Words for the person reading the status.
    pub fn label(self, lang: kiemke_shared::Lang) -> &'static str {
        match self {
            Verdict::Meets => lang.pick("đạt mục tiêu", "meets the target"),
            Verdict::Below => lang.pick("không đạt mục tiêu", "below the target"),
            Verdict::PcLimited => lang.pick(
                "chưa kết luận: card mạng của các máy đo chậm hơn mục tiêu",
                "inconclusive: the testing PCs' own links are slower than the target",
            ),
            Verdict::NoData => lang.pick("chưa có số đo", "no measurement"),
        }
    }
}

/// The target verdict over the last `days` days, with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetWindow {
    pub days: i64,
    pub verdict: Verdict,
    /// The test with the best download: the line's measured capacity.
    pub best: Option<SpeedSample>,
    pub best_download_mbps: Option<f64>,
    pub best_upload_mbps: Option<f64>,
    pub tests: usize,
    /// The newest tests (at most [`MAX_EVIDENCE`]), newest first.
    pub measurements: Vec<SpeedSample>,
}

/// How often the line answered over the last `days` days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    pub days: i64,
    /// Ping bursts across the line (gateway bursts not counted).
    pub bursts: usize,
    /// Bursts with at least one reply.
    pub answered: usize,
    /// Bursts with every reply.
    pub without_loss: usize,
    /// `answered / bursts`, in percent; `null` without bursts.
    pub availability_pct: Option<f64>,
    /// `without_loss / bursts`, in percent.
    pub clean_pct: Option<f64>,
}

/// One day's latency across the line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DailyLatency {
    /// The calendar day in Vietnam.
    pub date: NaiveDate,
    pub bursts: usize,
    /// Median of the bursts' median RTTs (answered bursts only).
    pub p50_ms: Option<f64>,
    /// 95th percentile of the bursts' p95 RTTs.
    pub p95_ms: Option<f64>,
    /// Mean loss of the day's bursts.
    pub loss_pct: f64,
}

/// The line status of a registered site; `None` if the site is not in the
/// registry.
pub fn site_status(
    store: &Store,
    policy: &Policy,
    site: &SiteRef,
    now: DateTime<Utc>,
) -> Result<Option<SiteLineStatus>, StoreError> {
    let Some(record) = store.site(site)? else {
        return Ok(None);
    };
    let target_mbps = policy.file.line_targets.for_site(Some(record.kind));
    let longest = WINDOWS_DAYS
        .iter()
        .copied()
        .max()
        .unwrap_or(30)
        .max(LATENCY_DAYS);
    let since = now - Duration::days(longest);
    let speeds = site_speeds(store, site, since)?;
    let pings = store.ping_samples(site, since)?;
    let windows = WINDOWS_DAYS
        .iter()
        .map(|&days| judge_window(&speeds, target_mbps, now - Duration::days(days), days))
        .collect();
    let availability = WINDOWS_DAYS
        .iter()
        .map(|&days| availability(&pings, now - Duration::days(days), days))
        .collect();
    Ok(Some(SiteLineStatus {
        site: site.clone(),
        name: record.name,
        kind: record.kind,
        lines: record.lines,
        target_mbps,
        as_of: now,
        windows,
        availability,
        latency_daily: latency_daily(&pings, now - Duration::days(LATENCY_DAYS)),
        last_speed_test_at: store.last_speed_test_at(site)?,
        pending_speed_test: store.speed_test_request(site)?,
    }))
}

/// Whether a test was capped by its PC rather than the line.
fn pc_limited(s: &SpeedSample, target_mbps: u32) -> bool {
    s.limited_by == Some(LimitedBy::PcLink) || s.link_mbps.is_some_and(|l| l < target_mbps)
}

/// A site's throughput tests since `since`, oldest first: the one read
/// every judgment of a line goes through (its body may switch to rollups).
pub fn site_speeds(
    store: &Store,
    site: &SiteRef,
    since: DateTime<Utc>,
) -> Result<Vec<SpeedSample>, StoreError> {
    store.speed_samples(site, since)
}

/// The throughput tests since `since` of every site of `commune` that has
/// any, registered or not, oldest first per site.
pub fn commune_speeds(
    store: &Store,
    commune: &kiemke_shared::CommuneCode,
    since: DateTime<Utc>,
) -> Result<std::collections::BTreeMap<SiteRef, Vec<SpeedSample>>, StoreError> {
    store.commune_speed_samples(commune, since)
}

/// The best download of each day (Vietnam time) since `since`, oldest
/// first; days without a test are left out.
pub fn daily_best(speeds: &[SpeedSample], since: DateTime<Utc>) -> Vec<(NaiveDate, f64)> {
    let mut days: std::collections::BTreeMap<NaiveDate, f64> = Default::default();
    for s in speeds.iter().filter(|s| s.at >= since) {
        let best = days.entry(vn_date(s.at)).or_insert(s.download_mbps);
        *best = best.max(s.download_mbps);
    }
    days.into_iter().collect()
}

/// Judges a line against `target_mbps` from the tests since `since` (the
/// window of `days` days ending now): its best download, and whether only
/// PCs held it back.
pub fn judge_window(
    speeds: &[SpeedSample],
    target_mbps: u32,
    since: DateTime<Utc>,
    days: i64,
) -> TargetWindow {
    let inside: Vec<&SpeedSample> = speeds.iter().filter(|s| s.at >= since).collect();
    let best = inside
        .iter()
        .copied()
        .max_by(|a, b| a.download_mbps.total_cmp(&b.download_mbps))
        .cloned();
    let best_upload_mbps = inside.iter().map(|s| s.upload_mbps).max_by(f64::total_cmp);
    let verdict = match &best {
        None => Verdict::NoData,
        Some(b) if b.download_mbps >= f64::from(target_mbps) => Verdict::Meets,
        Some(_) if inside.iter().all(|s| pc_limited(s, target_mbps)) => Verdict::PcLimited,
        Some(_) => Verdict::Below,
    };
    TargetWindow {
        days,
        verdict,
        best_download_mbps: best.as_ref().map(|b| b.download_mbps),
        best,
        best_upload_mbps,
        tests: inside.len(),
        measurements: inside
            .iter()
            .rev()
            .take(MAX_EVIDENCE)
            .map(|s| (*s).clone())
            .collect(),
    }
}

fn percent(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| 100.0 * part as f64 / whole as f64)
}

fn availability(pings: &[PingSample], since: DateTime<Utc>, days: i64) -> Availability {
    let line: Vec<&PingSample> = pings
        .iter()
        .filter(|p| p.at >= since && p.crosses_the_line() && p.sent > 0)
        .collect();
    let answered = line.iter().filter(|p| p.received > 0).count();
    let without_loss = line.iter().filter(|p| p.received >= p.sent).count();
    Availability {
        days,
        bursts: line.len(),
        answered,
        without_loss,
        availability_pct: percent(answered, line.len()),
        clean_pct: percent(without_loss, line.len()),
    }
}

/// The value at the `q` quantile (0..=1) by nearest rank, of sorted values.
fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

/// The calendar day in Vietnam of `at`.
pub fn vn_date(at: DateTime<Utc>) -> NaiveDate {
    (at + Duration::hours(VN_OFFSET_HOURS)).date_naive()
}

fn latency_daily(pings: &[PingSample], since: DateTime<Utc>) -> Vec<DailyLatency> {
    let mut days: std::collections::BTreeMap<NaiveDate, Vec<&PingSample>> = Default::default();
    for p in pings
        .iter()
        .filter(|p| p.at >= since && p.crosses_the_line() && p.sent > 0)
    {
        days.entry(vn_date(p.at)).or_default().push(p);
    }
    days.into_iter()
        .map(|(date, bursts)| {
            let mut medians: Vec<f64> = bursts.iter().filter_map(|p| p.median_ms).collect();
            let mut p95s: Vec<f64> = bursts.iter().filter_map(|p| p.p95_ms).collect();
            medians.sort_by(f64::total_cmp);
            p95s.sort_by(f64::total_cmp);
            let loss_pct = bursts.iter().map(|p| p.loss_pct).sum::<f64>() / bursts.len() as f64;
            DailyLatency {
                date,
                bursts: bursts.len(),
                p50_ms: nearest_rank(&medians, 0.5),
                p95_ms: nearest_rank(&p95s, 0.95),
                loss_pct,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
