//! `kiemke-agent run`: the daemon. It takes an inventory on start and then
//! every interval (with random jitter), and keeps delivering the spool with
//! exponential backoff until the server has acknowledged everything. A
//! server that cannot be reached never stops the daemon: reports wait in the
//! spool.
//!
//! With a [`probes::ProbeScheduler`], line probes run beside it as a task of
//! their own: it queues probe reports and asks for a delivery; the daemon
//! tells it when an acknowledgement asks for a throughput test.
//!
//! With a [`discovery::DiscoveryScheduler`], LAN discovery runs beside it
//! too: a finished sweep asks for an inventory at once, and that report
//! carries the devices found.
//!
//! All waiting goes through `tokio::time`, so tests can pause time.

pub mod discovery;
pub mod probes;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kiemke_shared::{AgentId, Inventory, ReportId};
use rand::Rng;
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::deliver::{Backoff, Client, DrainSummary, drain};
use crate::spool::{PushOutcome, Spool, SpoolError};

/// When the daemon works.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub interval: Duration,
    /// Fraction (0..1) by which each interval is randomly stretched or shrunk.
    pub jitter: f64,
    pub startup_delay_max: Duration,
    pub retry_initial: Duration,
    pub retry_max: Duration,
    /// LAN discovery beside the inventories; `None`: off.
    pub discovery: Option<discovery::DiscoveryPlan>,
}

/// Takes an inventory and queues it as a new report. Collection runs on the
/// blocking pool (it reads files and, on Windows, waits on WMI).
pub async fn take_inventory(
    spool: &Spool,
    agent_id: AgentId,
    collect: fn() -> Inventory,
) -> Result<(ReportId, PushOutcome), SpoolError> {
    take_inventory_with(spool, agent_id, collect, None).await
}

/// [`take_inventory`], with the devices of the LAN discovery that finished
/// since the last report (if any) in its peripherals section.
pub async fn take_inventory_with(
    spool: &Spool,
    agent_id: AgentId,
    collect: fn() -> Inventory,
    discovered: Option<&discovery::Found>,
) -> Result<(ReportId, PushOutcome), SpoolError> {
    let inventory = tokio::task::spawn_blocking(collect)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(cause = %e, "thu thập thông tin bị lỗi / inventory collection failed");
            Inventory::default()
        });
    let mut report = crate::report::build(agent_id, inventory);
    report.peripherals = crate::peripherals::for_report().await;
    if let Some(found) = discovered {
        found.merge_into(&mut report.peripherals);
    }
    let outcome = spool.push(&report).await?;
    // On disk from here on: the crash tests take this line as the proof that
    // a report was queued.
    tracing::info!(report_id = %report.report_id, "đã xếp báo cáo vào hàng đợi / report queued");
    Ok((report.report_id, outcome))
}

/// Waits for a notification, or forever without a notifier.
async fn notified(notify: Option<&Arc<Notify>>) {
    match notify {
        Some(n) => n.notified().await,
        None => std::future::pending().await,
    }
}

/// Runs until `shutdown` completes. Spool errors (disk full, corruption) end
/// the daemon: they are not something waiting can fix.
pub async fn run<P: probes::LineProber, O: probes::Outbox>(
    agent_id: AgentId,
    spool: Spool,
    client: Client,
    schedule: Schedule,
    collect: fn() -> Inventory,
    probes: Option<probes::ProbeScheduler<P, O>>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), SpoolError> {
    tokio::pin!(shutdown);
    let discovery = schedule
        .discovery
        .clone()
        .map(discovery::DiscoveryScheduler::new);
    let discovered = discovery.as_ref().map(|d| d.found.clone());
    let discovery_finished = discovery.as_ref().map(|d| d.finished.clone());
    let (stop_discovery, discovery_stopped) = tokio::sync::oneshot::channel::<()>();
    let discovery_task = discovery.map(|d| {
        tokio::spawn(d.run(async move {
            let _ = discovery_stopped.await;
        }))
    });
    let deliver_now = probes.as_ref().map(|p| p.deliver.clone());
    let on_demand = probes.as_ref().map(|p| p.on_demand.clone());
    let (stop_probes, probes_stopped) = tokio::sync::oneshot::channel::<()>();
    let probe_task = probes.map(|p| {
        tokio::spawn(p.run(async move {
            let _ = probes_stopped.await;
        }))
    });
    let start = Instant::now();
    let mut next_inventory = start;
    let mut next_delivery = start + random_up_to(schedule.startup_delay_max);
    let mut backoff = Backoff::new(schedule.retry_initial, schedule.retry_max);
    let mut first = true;
    // While backing off, queued probe results wait like everything else.
    let mut backoff_until = start;
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = sleep_until(next_inventory.min(next_delivery)) => {}
            // Probe results were queued: deliver them now (unless backing off).
            _ = notified(deliver_now.as_ref()) => {
                next_delivery = next_delivery.min(Instant::now().max(backoff_until));
            }
            // A LAN discovery finished: its devices go in a report now.
            _ = notified(discovery_finished.as_ref()) => {
                next_inventory = Instant::now();
            }
        }
        let now = Instant::now();
        if now >= next_inventory {
            let (id, outcome) =
                take_inventory_with(&spool, agent_id, collect, discovered.as_ref()).await?;
            tracing::info!(report_id = %id, dropped = outcome.dropped.len(), "đã kiểm kê máy / inventory taken");
            next_inventory = now + jittered(schedule.interval, schedule.jitter);
            if !first {
                next_delivery = now;
            }
            first = false;
        }
        if Instant::now() >= next_delivery {
            let summary: DrainSummary = drain(&spool, &client).await?;
            if summary.speed_test_requested {
                if let Some(n) = &on_demand {
                    tracing::info!(
                        "máy chủ yêu cầu đo tốc độ / the server asked for a throughput test"
                    );
                    n.notify_one();
                }
            }
            if summary.last_error.is_some() {
                next_delivery = Instant::now() + backoff.next_delay();
                backoff_until = next_delivery;
            } else {
                backoff.reset();
                // Nothing left to send until the next inventory.
                next_delivery = next_inventory;
            }
        }
    }
    let _ = stop_discovery.send(());
    if let Some(task) = discovery_task {
        let _ = task.await;
    }
    // Let the probes queue what they hold before stopping.
    let _ = stop_probes.send(());
    if let Some(task) = probe_task {
        match task.await {
            Ok(result) => result?,
            Err(e) => tracing::error!(cause = %e, "tác vụ đo đường truyền lỗi / probe task failed"),
        }
    }
    tracing::info!("dừng theo yêu cầu / stopped on request");
    Ok(())
}

fn random_up_to(max: Duration) -> Duration {
    if max.is_zero() {
        return max;
    }
    rand::rng().random_range(Duration::ZERO..=max)
}

fn jittered(interval: Duration, jitter: f64) -> Duration {
    let jitter = jitter.clamp(0.0, 0.9);
    if jitter == 0.0 {
        return interval;
    }
    interval.mul_f64(rand::rng().random_range(1.0 - jitter..=1.0 + jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_bounds() {
        let day = Duration::from_secs(86_400);
        let samples: Vec<Duration> = (0..200).map(|_| jittered(day, 0.1)).collect();
        assert!(
            samples
                .iter()
                .all(|d| *d >= day.mul_f64(0.9) && *d <= day.mul_f64(1.1))
        );
        assert!(samples.iter().any(|d| *d != samples[0]), "jitter must vary");
        assert_eq!(jittered(day, 0.0), day);
    }
}
