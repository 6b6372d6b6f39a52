//! The probe schedule: pure time arithmetic checked by hand, and the
//! scheduler run over simulated hours and days with paused time and a fake
//! prober (no network, no real sleeps).

use std::sync::Mutex;

use chrono::NaiveDate;
use kiemke_shared::Mbps;
use kiemke_shared::Report;
use kiemke_shared::probes::{PerSecond, RttMethod, SpeedApi};

use super::*;
use crate::probe::Burst;

/// Reports kept in memory, validated like the spool does.
#[derive(Default, Clone)]
struct Memory(Arc<Mutex<Vec<Report>>>);

impl Outbox for Memory {
    async fn queue(&self, report: Report) -> Result<(), SpoolError> {
        kiemke_shared::validate::validate_report(&report)?;
        if let Ok(mut r) = self.0.lock() {
            r.push(report);
        }
        Ok(())
    }
}

fn at(day: u32, h: u32, m: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, day)
        .and_then(|d| d.and_hms_opt(h, m, 0))
        .expect("valid time")
}

#[test]
fn office_hours_parse() {
    assert_eq!(
        OfficeHours::parse("07:30-17:00"),
        Some(OfficeHours::default())
    );
    assert_eq!(
        OfficeHours::parse("17:00-07:30"),
        None,
        "must open before it closes"
    );
    assert_eq!(OfficeHours::parse("7h30-17h"), None);
}

#[test]
fn picks_in_off_hours_by_hand() {
    let office = OfficeHours::default();
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("date");
    let midnight = at(20, 0, 0);
    // Off hours: 00:00–07:30 (7.5 h) and 17:00–24:00 (7 h): 14.5 h.
    assert_eq!(pick_in_day(day, office, midnight, 0.0), Some(at(20, 0, 0)));
    // Half of 14.5 h is 7.25 h: 07:15.
    assert_eq!(pick_in_day(day, office, midnight, 0.5), Some(at(20, 7, 15)));
    // 0.6 × 14.5 h = 8.7 h: 1.2 h past the first window, 18:12.
    assert_eq!(
        pick_in_day(day, office, midnight, 0.6),
        Some(at(20, 18, 12))
    );
    // From 10:00 only the evening remains: half of 7 h is 20:30.
    assert_eq!(
        pick_in_day(day, office, at(20, 10, 0), 0.5),
        Some(at(20, 20, 30))
    );
    // Nothing left after midnight's eve... the next day's midnight is not "in day".
    assert_eq!(pick_in_day(day, office, at(21, 0, 0), 0.5), None);
}

#[test]
fn the_next_test_is_today_if_owed_else_tomorrow() {
    let office = OfficeHours::default();
    // Switched on at 18:00, no test yet today: this evening.
    assert_eq!(
        next_test_time(at(20, 18, 0), 0, 1, office, 0.0),
        Some(at(20, 18, 0))
    );
    // Already tested today: tomorrow, from midnight on.
    assert_eq!(
        next_test_time(at(20, 18, 0), 1, 1, office, 0.0),
        Some(at(21, 0, 0))
    );
    // Disabled.
    assert_eq!(next_test_time(at(20, 18, 0), 0, 0, office, 0.5), None);
    // Never inside office hours, whatever the draw.
    for i in 0..=100 {
        let u = f64::from(i) / 100.0;
        for start in [at(20, 0, 0), at(20, 9, 0), at(20, 16, 59), at(20, 23, 30)] {
            let t = next_test_time(start, 0, 1, office, u).expect("a time");
            let time = t.time();
            assert!(
                time < office.start || time >= office.end,
                "{t} from {start}, u={u}"
            );
            assert!(t >= start, "{t} before {start}");
        }
    }
}

/// Measurements that take no time and touch no network; records calls.
#[derive(Default)]
struct FakeProber {
    pings: Mutex<Vec<(String, Option<TargetRole>)>>,
    speeds: Mutex<Vec<(Option<SpeedTrigger>, NaiveDateTime)>>,
    clock: Mutex<Option<LocalClock>>,
}

impl LineProber for FakeProber {
    async fn ping(&self, target: String, options: PingOptions) -> PingResult {
        if let Ok(mut p) = self.pings.lock() {
            p.push((target.clone(), options.role));
        }
        let burst = Burst {
            method: RttMethod::Icmp,
            port: None,
            replies: vec![Some(1.0); options.count as usize],
        };
        crate::probe::summarize(&target, None, &options, chrono::Utc::now(), burst)
    }

    async fn speed(&self, options: SpeedOptions) -> Result<SpeedResult, ProbeError> {
        let now = self
            .clock
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c()))
            .unwrap_or_default();
        if let Ok(mut s) = self.speeds.lock() {
            s.push((options.trigger, now));
        }
        Ok(sample_speed(options.trigger))
    }

    async fn gateway(&self) -> Option<Ipv4Addr> {
        Some(Ipv4Addr::new(192, 168, 1, 1))
    }
}

fn sample_speed(trigger: Option<SpeedTrigger>) -> SpeedResult {
    let per = PerSecond {
        p10: 90.0,
        p50: 94.0,
        p90: 95.0,
    };
    SpeedResult {
        server: "http://kiemke.example.invalid/".into(),
        api: SpeedApi::Kiemke,
        trigger,
        started_at: chrono::Utc::now(),
        download_mbps: Mbps::saturating(94.0),
        upload_mbps: Mbps::saturating(93.0),
        streams_down: 6,
        streams_up: 4,
        duration_s: 10.0,
        warmup_s: 2.0,
        measured_down_s: 8.0,
        measured_up_s: 8.0,
        bytes_down: 117_000_000,
        bytes_up: 116_000_000,
        measured_bytes_down: 94_000_000,
        measured_bytes_up: 93_000_000,
        download_per_second_mbps: per,
        upload_per_second_mbps: per,
        latency_idle_ms: Some(10.0),
        latency_loaded_ms: Some(30.0),
        latency_method: Some(RttMethod::Icmp),
        interface: Some("eth0".into()),
        link_mbps: Some(1000),
        wireless: Some(false),
        target_mbps: Mbps::saturating(100.0),
        limited_by: None,
        interface_bytes_down: None,
        interface_bytes_up: None,
    }
}

struct Rig {
    outbox: Memory,
    fake: Arc<FakeProber>,
    deliver: Arc<Notify>,
    on_demand: Arc<Notify>,
    scheduler: ProbeScheduler<FakeProber, Memory>,
}

/// A scheduler whose local clock starts at `start` and follows tokio's
/// (paused) time.
fn rig(start: NaiveDateTime) -> Rig {
    let outbox = Memory::default();
    let origin = Instant::now();
    let clock: LocalClock =
        Arc::new(move || start + TimeDelta::from_std(origin.elapsed()).unwrap_or_default());
    let fake = Arc::new(FakeProber::default());
    if let Ok(mut c) = fake.clock.lock() {
        *c = Some(clock.clone());
    }
    let server: Url = "http://kiemke.example.invalid:8080/".parse().expect("url");
    let plan = ProbePlan {
        ping_interval: Duration::from_secs(300),
        ping: PingOptions::default(),
        gateway: true,
        server: Some(server.clone()),
        targets: vec!["8.8.8.8".into()],
        batch_interval: Duration::from_secs(3600),
        speed: Some(SpeedPlan {
            per_day: 1,
            office_hours: OfficeHours::default(),
            options: SpeedOptions::new(server),
        }),
    };
    let deliver = Arc::new(Notify::new());
    let on_demand = Arc::new(Notify::new());
    let scheduler = ProbeScheduler {
        plan,
        prober: fake.clone(),
        outbox: outbox.clone(),
        agent_id: AgentId::generate(),
        clock,
        deliver: deliver.clone(),
        on_demand: on_demand.clone(),
    };
    Rig {
        outbox,
        fake,
        deliver,
        on_demand,
        scheduler,
    }
}

/// The reports queued so far, oldest first.
fn queued(outbox: &Memory) -> Vec<Report> {
    outbox.0.lock().map(|r| r.clone()).unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn an_hour_of_bursts_goes_out_as_one_batch() {
    // Office hours: the day's test is this evening, not in this hour.
    let rig = rig(at(20, 8, 0));
    let stop = tokio::time::sleep(Duration::from_secs(65 * 60));
    rig.scheduler.run(stop).await.expect("runs");

    let reports = queued(&rig.outbox);
    // One batch at the hour, the rest when stopping.
    assert_eq!(reports.len(), 2, "{reports:?}");
    let pings: Vec<&PingResult> = reports
        .iter()
        .flat_map(|r| {
            r.probes
                .as_ref()
                .map(|p| p.pings.iter())
                .into_iter()
                .flatten()
        })
        .collect();
    // First burst within a minute, then every 5 min: 13 bursts in 65 min,
    // three targets each.
    assert_eq!(pings.len(), 13 * 3);
    let first_batch = reports[0].probes.as_ref().map_or(0, |p| p.pings.len());
    assert_eq!(first_batch, 12 * 3, "12 bursts in the first hour");
    assert!(reports.iter().all(|r| r.inventory.is_none()));
    let roles: Vec<Option<TargetRole>> = pings.iter().take(3).map(|p| p.role).collect();
    assert_eq!(
        roles,
        [
            Some(TargetRole::Gateway),
            Some(TargetRole::Server),
            Some(TargetRole::Configured)
        ]
    );
    assert_eq!(pings[0].target, "192.168.1.1");
    assert!(rig.fake.speeds.lock().expect("lock").is_empty());
    // Every report is valid for the server.
    for r in &reports {
        kiemke_shared::validate::validate_report(r).expect("valid");
    }
}

#[tokio::test(start_paused = true)]
async fn simulated_days_run_one_test_a_day_outside_office_hours() {
    // From 08:00 on the 20th to 08:00 on the 23rd.
    let rig = rig(at(20, 8, 0));
    let stop = tokio::time::sleep(Duration::from_secs(3 * 24 * 3600));
    rig.scheduler.run(stop).await.expect("runs");

    let speeds = rig.fake.speeds.lock().expect("lock").clone();
    let office = OfficeHours::default();
    let mut days: Vec<u32> = Vec::new();
    for (trigger, when) in &speeds {
        assert_eq!(*trigger, Some(SpeedTrigger::Scheduled));
        assert!(
            when.time() >= office.end || when.time() < office.start,
            "{when} is in office hours"
        );
        days.push(chrono::Datelike::day(&when.date()));
    }
    // The 20th, 21st and 22nd each once; the 23rd only if its draw fell
    // before 08:00.
    let mut unique = days.clone();
    unique.dedup();
    assert_eq!(unique, days, "at most one a day: {speeds:?}");
    assert!(days.starts_with(&[20, 21, 22]), "{speeds:?}");
    assert!(days.len() <= 4);
    // Each result was queued in a report right away, not held for the
    // hourly batch: as many reports with a test as tests.
    let reports = queued(&rig.outbox);
    let with_test = reports
        .iter()
        .filter(|r| r.probes.as_ref().is_some_and(|p| p.speed_tests.len() == 1))
        .count();
    assert_eq!(with_test, speeds.len());
}

#[tokio::test(start_paused = true)]
async fn an_on_demand_test_runs_at_once_and_is_delivered() {
    let rig = rig(at(20, 9, 0));
    let on_demand = rig.on_demand.clone();
    let deliver = rig.deliver.clone();
    let scheduler = tokio::spawn(
        rig.scheduler
            .run(tokio::time::sleep(Duration::from_secs(600))),
    );
    // The daemon learns from an acknowledgement that the server wants a test.
    tokio::time::sleep(Duration::from_secs(120)).await;
    on_demand.notify_one();
    // The scheduler asks for delivery as soon as the result is queued.
    deliver.notified().await;
    let speeds = rig.fake.speeds.lock().expect("lock").clone();
    assert_eq!(speeds.len(), 1);
    assert_eq!(speeds[0].0, Some(SpeedTrigger::OnDemand));
    assert_eq!(
        speeds[0].1,
        at(20, 9, 2),
        "two minutes in, during office hours"
    );
    scheduler.await.expect("joins").expect("runs");
    let reports = queued(&rig.outbox);
    let test = reports
        .iter()
        .find_map(|r| r.probes.as_ref().and_then(|p| p.speed_tests.first()))
        .expect("the on-demand result");
    assert_eq!(test.trigger, Some(SpeedTrigger::OnDemand));
}
