//! The daemon's LAN discovery: the sweep of `kiemke-agent discover` (ping,
//! SNMP, DNS-SD; paced, bounded and under a time budget, see
//! [`crate::discover`]) run on a schedule, its devices held until the next
//! report takes them.
//!
//! # Schedule (documented for users in `docs/install.md`)
//! The first run comes at a random moment within `delay_max` of the daemon
//! starting (default 1 h: office PCs boot together at 7:30 and are often off
//! by evening, so "some time this morning", not "at 2 a.m."), then every
//! `interval` (default a day) stretched or shrunk by up to 10 % at random,
//! so the PCs of one office do not sweep together. A finished run asks the
//! daemon for an inventory at once: the devices travel in that report's
//! peripherals section (with `discovery_ran` set), not a day later.
//!
//! # Why on by default
//! A commune officer installs the agent to see the office's equipment,
//! printers included; a network printer no PC has a queue for would
//! otherwise never be listed. The sweep is light (a /24 is ~250 pings at
//! 50/s and a few SNMP requests to the hosts that answer, once a day), and
//! `lan-discovery = false` turns it off for a PC or an office that must not
//! sweep. Subnets larger than /22 are narrowed to the PC's /24 unless
//! `lan-discovery-allow-large-subnet` says otherwise.
//!
//! All waits go through `tokio::time`: tests run the schedule with paused
//! time and an injected discovery function.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiemke_shared::peripherals::{Peripheral, Peripherals};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};

use crate::discover::{DiscoverOptions, Discovery, Subnet};

/// When and how the daemon sweeps the LAN.
#[derive(Debug, Clone)]
pub struct DiscoveryPlan {
    /// The first run comes at a random moment up to this after start.
    pub delay_max: Duration,
    /// Then one run per interval (±10 %).
    pub interval: Duration,
    /// Subnets to sweep; empty: this PC's own, looked up at each run (the
    /// address may have changed since the start).
    pub subnets: Vec<Subnet>,
    pub allow_large_subnet: bool,
    /// Community, pace, budget; `subnets` in it is replaced at each run.
    pub options: DiscoverOptions,
}

impl DiscoveryPlan {
    /// The options of one run: the configured subnets or this PC's.
    pub fn options_now(&self) -> DiscoverOptions {
        let mut options = self.options.clone();
        options.subnets = if self.subnets.is_empty() {
            crate::discover::local_subnets(self.allow_large_subnet)
        } else {
            self.subnets.clone()
        };
        options
    }
}

/// The devices of the latest run, until a report takes them.
#[derive(Debug, Clone, Default)]
pub struct Found {
    latest: Arc<Mutex<Option<Vec<Peripheral>>>>,
}

impl Found {
    /// Keeps a run's devices (replacing an older run's not yet reported).
    pub fn put(&self, devices: Vec<Peripheral>) {
        *self.latest.lock().unwrap_or_else(|e| e.into_inner()) = Some(devices);
    }

    /// The devices of the latest run, once: `None` when none ran since the
    /// last call.
    pub fn take(&self) -> Option<Vec<Peripheral>> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Adds a taken run to a report's peripherals: its devices after the
    /// local ones (up to the report's limit), and `discovery_ran`.
    pub fn merge_into(&self, peripherals: &mut Option<Peripherals>) {
        let Some(devices) = self.take() else { return };
        let section = peripherals.get_or_insert_with(Peripherals::default);
        section.discovery_ran = true;
        for device in devices {
            if section.devices.len() >= kiemke_shared::validate::MAX_PERIPHERALS {
                break;
            }
            section.devices.push(device);
        }
    }
}

/// The discovery task the daemon runs beside its inventories.
pub struct DiscoveryScheduler {
    pub plan: DiscoveryPlan,
    pub found: Found,
    /// Notified after each run: the daemon takes an inventory then.
    pub finished: Arc<Notify>,
}

impl DiscoveryScheduler {
    pub fn new(plan: DiscoveryPlan) -> Self {
        DiscoveryScheduler {
            plan,
            found: Found::default(),
            finished: Arc::new(Notify::new()),
        }
    }

    /// Runs the schedule with the real discovery until `shutdown`.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        self.run_with(
            |options| async move { crate::discover::discover(&options).await },
            shutdown,
        )
        .await;
    }

    /// Runs the schedule with `discover` (injected by tests) until
    /// `shutdown`. A run under way when `shutdown` completes is dropped.
    pub async fn run_with<F, Fut>(self, discover: F, shutdown: impl Future<Output = ()>)
    where
        F: Fn(DiscoverOptions) -> Fut,
        Fut: Future<Output = Discovery>,
    {
        tokio::pin!(shutdown);
        let mut next = Instant::now() + super::random_up_to(self.plan.delay_max);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = sleep_until(next) => {}
            }
            let options = self.plan.options_now();
            if options.subnets.is_empty() {
                tracing::warn!("không có mạng IPv4 nào để quét / no IPv4 network to sweep");
            } else {
                let found = tokio::select! {
                    _ = &mut shutdown => return,
                    found = discover(options) => found,
                };
                tracing::info!(
                    devices = found.devices.len(),
                    swept = found.hosts_swept,
                    unfinished = found.hosts_unfinished,
                    elapsed_ms = found.elapsed_ms,
                    "đã quét mạng LAN / LAN discovery done"
                );
                self.found.put(found.devices);
                self.finished.notify_one();
            }
            next = Instant::now() + super::jittered(self.plan.interval, DISCOVERY_JITTER);
        }
    }
}

/// Each interval between runs is stretched or shrunk by up to this.
pub const DISCOVERY_JITTER: f64 = 0.1;

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use kiemke_shared::peripherals::{Connection, PeripheralKind, PeripheralSource};

    use super::*;

    fn printer(ip: &str) -> Peripheral {
        let mut p = Peripheral::new(
            PeripheralKind::Printer,
            PeripheralSource::Snmp,
            Connection::Network,
        );
        p.ip = Some(ip.to_owned());
        p
    }

    fn plan(delay_max: Duration, interval: Duration) -> DiscoveryPlan {
        let subnet = Subnet::parse("10.77.40.0/28", false).expect("subnet");
        DiscoveryPlan {
            delay_max,
            interval,
            subnets: vec![subnet],
            allow_large_subnet: false,
            options: DiscoverOptions::new(Vec::new()),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn runs_within_the_delay_then_daily_and_hands_devices_to_one_report() {
        let hour = Duration::from_secs(3600);
        let day = 24 * hour;
        let scheduler = DiscoveryScheduler::new(plan(hour, day));
        let found = scheduler.found.clone();
        let finished = scheduler.finished.clone();
        let runs = Arc::new(AtomicUsize::new(0));
        let seen_subnets = Arc::new(Mutex::new(Vec::new()));
        let start = Instant::now();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = {
            let runs = runs.clone();
            let seen_subnets = seen_subnets.clone();
            tokio::spawn(scheduler.run_with(
                move |options: DiscoverOptions| {
                    let n = runs.fetch_add(1, Ordering::SeqCst);
                    seen_subnets
                        .lock()
                        .expect("lock")
                        .extend(options.subnets.iter().map(ToString::to_string));
                    async move {
                        Discovery {
                            devices: vec![printer(&format!("10.77.40.{}", n + 1))],
                            subnets: Vec::new(),
                            hosts_swept: 14,
                            hosts_alive: 1,
                            hosts_unfinished: 0,
                            ping_used: true,
                            mdns_announcements: 0,
                            elapsed_ms: 5,
                        }
                    }
                },
                async move {
                    let _ = stopped.await;
                },
            ))
        };

        // Nothing before the first run.
        assert!(found.take().is_none());
        finished.notified().await;
        let first = start.elapsed();
        assert!(first <= hour, "first run after {first:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(
            *seen_subnets.lock().expect("lock"),
            ["10.77.40.0/28".to_owned()]
        );

        // The next report takes the devices, the one after gets none.
        let mut section = Some(Peripherals::default());
        found.merge_into(&mut section);
        let section = section.expect("section");
        assert!(section.discovery_ran);
        assert_eq!(
            section
                .devices
                .iter()
                .map(|d| d.ip.clone())
                .collect::<Vec<_>>(),
            [Some("10.77.40.1".to_owned())]
        );
        let mut next = None;
        found.merge_into(&mut next);
        assert!(next.is_none(), "a run is reported once");

        // The second run comes a day later (±10 %), not sooner.
        finished.notified().await;
        let gap = start.elapsed() - first;
        assert!(
            gap >= day.mul_f64(0.9) && gap <= day.mul_f64(1.1),
            "gap {gap:?}"
        );
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let _ = stop.send(());
        task.await.expect("scheduler ends on shutdown");
    }

    #[test]
    fn merge_keeps_local_devices_and_the_report_limit() {
        let found = Found::default();
        found.put(
            (0..kiemke_shared::validate::MAX_PERIPHERALS)
                .map(|i| printer(&format!("10.0.{}.{}", i / 250, i % 250 + 1)))
                .collect(),
        );
        let mut local = Some(Peripherals {
            devices: vec![printer("usb")],
            discovery_ran: false,
        });
        found.merge_into(&mut local);
        let local = local.expect("section");
        assert_eq!(
            local.devices.len(),
            kiemke_shared::validate::MAX_PERIPHERALS
        );
        assert_eq!(local.devices[0].ip.as_deref(), Some("usb"));
        assert!(local.discovery_ran);
    }
}
