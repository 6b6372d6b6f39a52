//! The daemon's line probes: ping bursts on an interval, throughput tests
//! on a daily schedule outside office hours and on demand, and how their
//! results reach the server.
//!
//! # Batching
//! A burst every 5 minutes to three targets is 864 results a day; one
//! report each would be 864 reports. Results are kept in memory and queued
//! as **one probe report per `batch_interval`** (default 1 h: 24 small
//! reports a day, ~36 bursts each, a few KB compressed), and right away
//! after a throughput test (the server may be waiting for an on-demand
//! one), or when the batch reaches [`MAX_BATCH`]. A probe report has no
//! inventory; the server attributes it to the device its agent last
//! reported. Results are also queued when the daemon stops, so a clean
//! shutdown loses nothing; a crash loses at most one batch of pings.
//!
//! # Throughput schedule
//! `tests_per_day` tests (default 1) at random local times outside office
//! hours (default 07:30–17:00), so the test never slows the office's work
//! and PCs of one office do not test at the same moment. A PC switched on
//! after its day's time passed tests in what remains of that day's off
//! hours. On demand: when a report acknowledgement asks, the daemon
//! notifies [`ProbeScheduler`] and the test runs at once.
//!
//! All waits go through `tokio::time` and local time comes from an injected
//! clock, so tests run a simulated day with paused time.

use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, TimeDelta};
use kiemke_shared::probes::{PingResult, Probes, SpeedResult, SpeedTrigger, TargetRole};
use kiemke_shared::{AgentId, Report};
use rand::Rng;
use reqwest::Url;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio::time::{Instant, sleep_until};

use crate::probe::speed::SpeedOptions;
use crate::probe::{PingOptions, ProbeError};
use crate::spool::{Spool, SpoolError};

/// Results held before a batch is queued regardless of the interval.
pub const MAX_BATCH: usize = 1024;

/// Local office hours, during which no scheduled throughput test runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfficeHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl OfficeHours {
    /// Parses `"07:30-17:00"`.
    pub fn parse(s: &str) -> Option<OfficeHours> {
        let (a, b) = s.split_once('-')?;
        let start = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
        let end = NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?;
        (start < end).then_some(OfficeHours { start, end })
    }

    /// The day's off-hours windows: before opening and after closing.
    fn windows(self, day: NaiveDate) -> [(NaiveDateTime, NaiveDateTime); 2] {
        let midnight = day.and_time(NaiveTime::MIN);
        let next_midnight = midnight + TimeDelta::days(1);
        [
            (midnight, day.and_time(self.start)),
            (day.and_time(self.end), next_midnight),
        ]
    }
}

impl Default for OfficeHours {
    fn default() -> Self {
        OfficeHours {
            start: NaiveTime::from_hms_opt(7, 30, 0).unwrap_or(NaiveTime::MIN),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or(NaiveTime::MIN),
        }
    }
}

/// A random time (`u` in 0..1 picks it) in `day`'s off hours not before
/// `not_before`; `None` when none of that day's off hours remain.
pub fn pick_in_day(
    day: NaiveDate,
    office: OfficeHours,
    not_before: NaiveDateTime,
    u: f64,
) -> Option<NaiveDateTime> {
    let windows: Vec<(NaiveDateTime, NaiveDateTime)> = office
        .windows(day)
        .into_iter()
        .map(|(a, b)| (a.max(not_before), b))
        .filter(|(a, b)| a < b)
        .collect();
    let total: i64 = windows.iter().map(|(a, b)| (*b - *a).num_seconds()).sum();
    if total <= 0 {
        return None;
    }
    let mut offset = (((total as f64) * u.clamp(0.0, 1.0)) as i64).min(total - 1);
    for (a, b) in windows {
        let len = (b - a).num_seconds();
        if offset < len {
            return Some(a + TimeDelta::seconds(offset));
        }
        offset -= len;
    }
    None
}

/// When the next scheduled test is due: later today if today still owes
/// tests and has off hours left, else on the next day.
pub fn next_test_time(
    now: NaiveDateTime,
    done_today: u32,
    per_day: u32,
    office: OfficeHours,
    u: f64,
) -> Option<NaiveDateTime> {
    if per_day == 0 {
        return None;
    }
    let today = now.date();
    if done_today < per_day {
        if let Some(t) = pick_in_day(today, office, now, u) {
            return Some(t);
        }
    }
    let tomorrow = today.succ_opt()?;
    pick_in_day(tomorrow, office, tomorrow.and_time(NaiveTime::MIN), u)
}

/// What the daemon probes, and when.
#[derive(Debug, Clone)]
pub struct ProbePlan {
    pub ping_interval: Duration,
    pub ping: PingOptions,
    /// Ping the default gateway too.
    pub gateway: bool,
    /// The report server (pinged with the role `server`).
    pub server: Option<Url>,
    /// Extra targets from the configuration.
    pub targets: Vec<String>,
    pub batch_interval: Duration,
    /// Throughput tests; `None`: never, not even on demand.
    pub speed: Option<SpeedPlan>,
}

/// Throughput tests of the daemon.
#[derive(Debug, Clone)]
pub struct SpeedPlan {
    pub per_day: u32,
    pub office_hours: OfficeHours,
    /// Server, streams, duration, target (trigger and agent are set here).
    pub options: SpeedOptions,
}

/// The measurements, as the scheduler needs them (the real ones in
/// [`RealProber`]; tests substitute their own).
pub trait LineProber: Send + Sync + 'static {
    fn ping(&self, target: String, options: PingOptions)
    -> impl Future<Output = PingResult> + Send;
    fn speed(
        &self,
        options: SpeedOptions,
    ) -> impl Future<Output = Result<SpeedResult, ProbeError>> + Send;
    fn gateway(&self) -> impl Future<Output = Option<Ipv4Addr>> + Send;
}

/// The real probes of [`crate::probe`].
#[derive(Debug, Clone, Copy, Default)]
pub struct RealProber;

impl LineProber for RealProber {
    async fn ping(&self, target: String, options: PingOptions) -> PingResult {
        match crate::probe::run_ping(&target, &options).await {
            Ok(result) => result,
            Err(e) => crate::probe::failed(&target, &options, &e),
        }
    }

    async fn speed(&self, options: SpeedOptions) -> Result<SpeedResult, ProbeError> {
        crate::probe::speed::run(&options).await
    }

    async fn gateway(&self) -> Option<Ipv4Addr> {
        crate::probe::gateway::default_gateway().await
    }
}

/// Where probe reports go: the spool (tests keep them in memory, since
/// sled's flush runs on a thread of its own, outside paused time).
pub trait Outbox: Send + Sync + 'static {
    fn queue(&self, report: Report) -> impl Future<Output = Result<(), SpoolError>> + Send;
}

impl Outbox for Spool {
    async fn queue(&self, report: Report) -> Result<(), SpoolError> {
        let outcome = self.push(&report).await?;
        if !outcome.dropped.is_empty() {
            tracing::warn!(
                dropped = outcome.dropped.len(),
                "hàng đợi đầy, đã bỏ báo cáo cũ nhất / queue full, dropped the oldest reports"
            );
        }
        Ok(())
    }
}

/// Local wall-clock time (injected so tests can simulate days).
pub type LocalClock = Arc<dyn Fn() -> NaiveDateTime + Send + Sync>;

/// The system's local time.
pub fn system_clock() -> LocalClock {
    Arc::new(|| chrono::Local::now().naive_local())
}

/// Runs the plan until `shutdown`; queues reports into `outbox` (the spool)
/// and pokes `deliver` when it did.
pub struct ProbeScheduler<P, O = Spool> {
    pub plan: ProbePlan,
    pub prober: Arc<P>,
    pub outbox: O,
    pub agent_id: AgentId,
    pub clock: LocalClock,
    /// Notified by the scheduler after it queued a report.
    pub deliver: Arc<Notify>,
    /// Notified by the daemon when the server asks for a test.
    pub on_demand: Arc<Notify>,
}

impl<P: LineProber, O: Outbox> ProbeScheduler<P, O> {
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), SpoolError> {
        tokio::pin!(shutdown);
        let plan = &self.plan;
        let prober = self.prober.clone();
        let mut pending = Probes::default();
        // Spread the first burst so PCs booted together do not probe together.
        let first = random_up_to(plan.ping_interval.min(Duration::from_secs(60)));
        let mut next_burst = Instant::now() + first;
        let mut next_batch = Instant::now() + plan.batch_interval;
        let mut done_today = (self.clock)().date();
        let mut tests_today = 0u32;
        let mut next_speed = self.schedule_speed(tests_today);
        loop {
            let far = Instant::now() + Duration::from_secs(86_400);
            let wake = next_burst.min(next_batch).min(next_speed.unwrap_or(far));
            let mut on_demand = false;
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.on_demand.notified(), if plan.speed.is_some() => on_demand = true,
                _ = sleep_until(wake) => {}
            }
            let now = Instant::now();
            if now >= next_burst {
                pending.pings.extend(self.burst(&prober).await);
                while next_burst <= Instant::now() {
                    next_burst += plan.ping_interval;
                }
            }
            let scheduled = next_speed.is_some_and(|t| now >= t);
            if on_demand || scheduled {
                let trigger = if on_demand {
                    SpeedTrigger::OnDemand
                } else {
                    SpeedTrigger::Scheduled
                };
                pending
                    .speed_tests
                    .extend(self.speed_test(&prober, trigger).await);
                let today = (self.clock)().date();
                if today != done_today {
                    done_today = today;
                    tests_today = 0;
                }
                if scheduled {
                    tests_today += 1;
                    next_speed = self.schedule_speed(tests_today);
                }
                // The server may be waiting for this result: send it now.
                next_batch = Instant::now();
            }
            if Instant::now() >= next_batch || pending.pings.len() >= MAX_BATCH {
                self.queue(&mut pending).await?;
                next_batch = Instant::now() + plan.batch_interval;
            }
        }
        self.queue(&mut pending).await
    }

    fn schedule_speed(&self, tests_today: u32) -> Option<Instant> {
        let speed = self.plan.speed.as_ref()?;
        let now = (self.clock)();
        let u = rand::rng().random_range(0.0..1.0);
        let at = next_test_time(now, tests_today, speed.per_day, speed.office_hours, u)?;
        let wait = (at - now).to_std().unwrap_or_default();
        tracing::info!(at = %at, "đã hẹn giờ đo tốc độ / throughput test scheduled");
        Some(Instant::now() + wait)
    }

    /// One burst to every target, all at once.
    async fn burst(&self, prober: &Arc<P>) -> Vec<PingResult> {
        let mut targets: Vec<(String, TargetRole)> = Vec::new();
        if self.plan.gateway {
            if let Some(gw) = prober.gateway().await {
                targets.push((gw.to_string(), TargetRole::Gateway));
            }
        }
        if let Some(server) = &self.plan.server {
            targets.push((server.to_string(), TargetRole::Server));
        }
        targets.extend(
            self.plan
                .targets
                .iter()
                .map(|t| (t.clone(), TargetRole::Configured)),
        );
        let mut tasks = JoinSet::new();
        for (i, (target, role)) in targets.into_iter().enumerate() {
            let options = PingOptions {
                role: Some(role),
                ..self.plan.ping.clone()
            };
            let prober = prober.clone();
            tasks.spawn(async move { (i, prober.ping(target, options).await) });
        }
        let mut results: Vec<(usize, PingResult)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            results.extend(joined.ok());
        }
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    async fn speed_test(&self, prober: &Arc<P>, trigger: SpeedTrigger) -> Option<SpeedResult> {
        let plan = self.plan.speed.as_ref()?;
        let mut options = plan.options.clone();
        options.trigger = Some(trigger);
        match prober.speed(options).await {
            Ok(result) => {
                tracing::info!(
                    download = result.download_mbps.get(),
                    upload = result.upload_mbps.get(),
                    ?trigger,
                    "đã đo tốc độ / throughput measured"
                );
                Some(result)
            }
            Err(e) => {
                tracing::warn!(cause = %e, ?trigger, "không đo được tốc độ / throughput test failed");
                None
            }
        }
    }

    async fn queue(&self, pending: &mut Probes) -> Result<(), SpoolError> {
        if pending.is_empty() {
            return Ok(());
        }
        let probes = std::mem::take(pending);
        let report = crate::report::build_probes(self.agent_id, probes);
        let id = report.report_id;
        self.outbox.queue(report).await?;
        tracing::info!(report_id = %id, "đã xếp hàng kết quả đo đường truyền / probe results queued");
        self.deliver.notify_one();
        Ok(())
    }
}

fn random_up_to(max: Duration) -> Duration {
    if max.is_zero() {
        return max;
    }
    rand::rng().random_range(Duration::ZERO..=max)
}

#[cfg(test)]
mod tests;
