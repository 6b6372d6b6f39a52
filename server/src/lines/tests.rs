//! Line status from probe results ingested into a temporary store.

use chrono::TimeZone;
use kiemke_shared::probes::{
    PerSecond, PingResult, Probes, RttMethod, RttSummary, SpeedApi, SpeedResult, TargetRole,
};
use kiemke_shared::site::{Isp, LineKind};
use kiemke_shared::units::Mbps;
use kiemke_shared::{AgentId, CommuneCode, SiteCode};

use super::*;
use crate::store::Origin;
use crate::store::sites::SiteRecord;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 3, 0, 0)
        .single()
        .expect("valid time")
}

fn site(code: &str) -> SiteRef {
    SiteRef {
        commune: CommuneCode::parse("24118").expect("code"),
        site: SiteCode::parse(code).expect("code"),
    }
}

fn open_with_site(kind: SiteKind) -> (tempfile::TempDir, Store, SiteRef) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let s = site("ttpvhcc");
    store
        .add_site(&SiteRecord {
            site: s.clone(),
            kind,
            name: "Trung tâm Phục vụ hành chính công".into(),
            lines: vec![Line {
                isp: Isp::Vnpt,
                kind: LineKind::Internet,
                contracted_mbps: Some(200),
            }],
            staff: None,
            created_at: now(),
        })
        .expect("site");
    (dir, store, s)
}

fn ping(started_at: DateTime<Utc>, role: TargetRole, received: u32, median: f64) -> PingResult {
    PingResult {
        target: "10.0.0.1".into(),
        address: Some("10.0.0.1".into()),
        role: Some(role),
        method: RttMethod::Icmp,
        port: None,
        started_at,
        sent: 20,
        received,
        loss_pct: 100.0 * f64::from(20 - received) / 20.0,
        rtt_ms: (received > 0).then_some(RttSummary {
            min: median - 1.0,
            median,
            p95: median + 5.0,
            max: median + 10.0,
        }),
        jitter_ms: None,
        interval_ms: 200,
        timeout_ms: 1000,
        error: None,
    }
}

fn speed(started_at: DateTime<Utc>, down: f64, link_mbps: Option<u32>) -> SpeedResult {
    let per = PerSecond {
        p10: down,
        p50: down,
        p90: down,
    };
    SpeedResult {
        server: "https://tinh.example.vn".into(),
        api: SpeedApi::Kiemke,
        trigger: None,
        started_at,
        download_mbps: Mbps::saturating(down),
        upload_mbps: Mbps::saturating(down / 2.0),
        streams_down: 6,
        streams_up: 4,
        duration_s: 10.0,
        warmup_s: 2.0,
        measured_down_s: 8.0,
        measured_up_s: 8.0,
        bytes_down: 1,
        bytes_up: 1,
        measured_bytes_down: 1,
        measured_bytes_up: 1,
        download_per_second_mbps: per,
        upload_per_second_mbps: per,
        latency_idle_ms: None,
        latency_loaded_ms: None,
        latency_method: None,
        interface: None,
        link_mbps,
        wireless: None,
        target_mbps: Mbps::saturating(200.0),
        limited_by: None,
        interface_bytes_down: None,
        interface_bytes_up: None,
    }
}

fn ingest(store: &Store, origin: &Origin, probes: Probes, received_at: DateTime<Utc>) {
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut report = Report::new(AgentId::generate(), info, received_at);
    report.probes = Some(probes);
    store
        .ingest_blocking_from(&report, Some(origin), received_at)
        .expect("ingest");
}

use kiemke_shared::Report;

fn origin(s: &SiteRef) -> Origin {
    Origin {
        commune: s.commune.clone(),
        site: Some(s.site.clone()),
    }
}

#[test]
fn best_recent_test_decides_the_target_per_window() {
    let (_dir, store, s) = open_with_site(SiteKind::ServiceCenter);
    let policy = Policy::shipped();
    let days_ago = |d: i64| now() - Duration::days(d);
    // 20 days ago the line did 230 Mbps; this week only 150 (from a PC
    // with a gigabit card) and 90 (a PC on a 100 Mbps card).
    let probes = Probes {
        pings: vec![],
        speed_tests: vec![
            speed(days_ago(20), 230.0, Some(1000)),
            speed(days_ago(3), 150.0, Some(1000)),
            speed(days_ago(2), 90.0, Some(100)),
        ],
    };
    ingest(&store, &origin(&s), probes, now());
    let status = site_status(&store, policy, &s, now())
        .expect("status")
        .expect("registered");
    assert_eq!(status.target_mbps, 200);
    let week = &status.windows[0];
    assert_eq!(
        (week.days, week.verdict, week.tests),
        (7, Verdict::Below, 2)
    );
    assert_eq!(week.best_download_mbps, Some(150.0));
    // Newest first.
    assert_eq!(week.measurements[0].download_mbps, 90.0);
    let month = &status.windows[1];
    assert_eq!(
        (month.days, month.verdict, month.tests),
        (30, Verdict::Meets, 3)
    );
    assert_eq!(month.best_download_mbps, Some(230.0));
    assert_eq!(month.best_upload_mbps, Some(115.0));
    assert_eq!(status.last_speed_test_at, Some(days_ago(2)));
}

#[test]
fn slow_pcs_make_the_verdict_inconclusive_not_a_failing_line() {
    let (_dir, store, s) = open_with_site(SiteKind::ServiceCenter);
    let probes = Probes {
        pings: vec![],
        speed_tests: vec![speed(now() - Duration::days(1), 94.0, Some(100))],
    };
    ingest(&store, &origin(&s), probes, now());
    let status = site_status(&store, Policy::shipped(), &s, now())
        .expect("status")
        .expect("registered");
    assert_eq!(status.windows[0].verdict, Verdict::PcLimited);
    // A headquarters (100 Mbps target) with no tests at all.
    let (_d, store, s) = open_with_site(SiteKind::Headquarters);
    let status = site_status(&store, Policy::shipped(), &s, now())
        .expect("status")
        .expect("registered");
    assert_eq!(status.target_mbps, 100);
    assert_eq!(status.windows[0].verdict, Verdict::NoData);
    assert_eq!(status.availability[0].availability_pct, None);
    // An unregistered site has no status.
    let none = site_status(&store, Policy::shipped(), &site("khac"), now()).expect("status");
    assert!(none.is_none());
}

#[test]
fn availability_and_daily_latency_leave_out_the_gateway() {
    let (_dir, store, s) = open_with_site(SiteKind::Headquarters);
    // Two Vietnam days: 9 March (UTC 8 March 20:00 is 9 March 03:00 in
    // Vietnam) and 10 March.
    let day1 = Utc
        .with_ymd_and_hms(2026, 3, 8, 20, 0, 0)
        .single()
        .expect("time");
    let day2 = Utc
        .with_ymd_and_hms(2026, 3, 10, 1, 0, 0)
        .single()
        .expect("time");
    let m = Duration::minutes;
    let pings = vec![
        ping(day1, TargetRole::Server, 20, 20.0),
        ping(day1 + m(5), TargetRole::Server, 19, 30.0),
        ping(day1 + m(10), TargetRole::Server, 0, 0.0),
        ping(day1 + m(15), TargetRole::Configured, 20, 40.0),
        // The gateway: an answered LAN does not make the line available.
        ping(day1 + m(10), TargetRole::Gateway, 20, 1.0),
        ping(day2, TargetRole::Server, 20, 25.0),
    ];
    ingest(
        &store,
        &origin(&s),
        Probes {
            pings,
            speed_tests: vec![],
        },
        now(),
    );
    let status = site_status(&store, Policy::shipped(), &s, now())
        .expect("status")
        .expect("registered");
    let week = &status.availability[0];
    assert_eq!((week.bursts, week.answered, week.without_loss), (5, 4, 3));
    assert_eq!(week.availability_pct, Some(80.0));
    assert_eq!(week.clean_pct, Some(60.0));
    let days: Vec<_> = status
        .latency_daily
        .iter()
        .map(|d| (d.date.to_string(), d.bursts, d.p50_ms, d.p95_ms))
        .collect();
    assert_eq!(
        days,
        [
            // Medians 20, 30, 40 → 30; p95s 25, 35, 45 → 45.
            ("2026-03-09".to_owned(), 4, Some(30.0), Some(45.0)),
            ("2026-03-10".to_owned(), 1, Some(25.0), Some(30.0)),
        ]
    );
    assert!((status.latency_daily[0].loss_pct - 26.25).abs() < 1e-9);
}

#[test]
fn results_of_agents_without_a_site_and_clocks_ahead() {
    let (_dir, store, s) = open_with_site(SiteKind::Headquarters);
    // A PC clock a day ahead: filed at the receive time, not in the future.
    let ahead = now() + Duration::days(1);
    ingest(
        &store,
        &origin(&s),
        Probes {
            pings: vec![],
            speed_tests: vec![speed(ahead, 120.0, None)],
        },
        now(),
    );
    // An agent enrolled for the commune only: kept in its report, not here.
    let commune_only = Origin {
        commune: s.commune.clone(),
        site: None,
    };
    ingest(
        &store,
        &commune_only,
        Probes {
            pings: vec![],
            speed_tests: vec![speed(now(), 500.0, None)],
        },
        now(),
    );
    let status = site_status(&store, Policy::shipped(), &s, now())
        .expect("status")
        .expect("registered");
    assert_eq!(status.last_speed_test_at, Some(now()));
    assert_eq!(status.windows[0].tests, 1);
    assert_eq!(status.windows[0].best_download_mbps, Some(120.0));
}

#[test]
fn speed_tests_are_asked_of_one_agent_at_a_time_until_one_arrives() {
    let (_dir, store, s) = open_with_site(SiteKind::Headquarters);
    let (a, b) = (AgentId::generate(), AgentId::generate());
    let max_age = Duration::days(7);
    let hold = Duration::hours(2);
    // Never tested: the first agent is asked, the second not while the
    // first may be testing, then again after the hold.
    assert!(
        store
            .claim_speed_test(&s, a, now(), max_age, hold)
            .expect("claim")
    );
    assert!(
        !store
            .claim_speed_test(&s, b, now(), max_age, hold)
            .expect("claim")
    );
    let later = now() + Duration::hours(3);
    assert!(
        store
            .claim_speed_test(&s, b, later, max_age, hold)
            .expect("claim")
    );
    // A test arrives: the request is withdrawn, nobody else is asked.
    ingest(
        &store,
        &origin(&s),
        Probes {
            pings: vec![],
            speed_tests: vec![speed(later, 120.0, None)],
        },
        later,
    );
    let after = later + Duration::hours(3);
    assert!(
        !store
            .claim_speed_test(&s, a, after, max_age, hold)
            .expect("claim")
    );
    assert!(store.speed_test_request(&s).expect("read").is_none());
    // An officer asks: the next agent is asked at once.
    store
        .request_speed_test(&s, "admin-token", after)
        .expect("request");
    assert!(
        store
            .claim_speed_test(&s, a, after, max_age, hold)
            .expect("claim")
    );
    // Eight days without a test: asked again without anyone asking.
    let (_d, store, s) = open_with_site(SiteKind::Headquarters);
    ingest(
        &store,
        &origin(&s),
        Probes {
            pings: vec![],
            speed_tests: vec![speed(now(), 120.0, None)],
        },
        now(),
    );
    let soon = now() + Duration::days(2);
    assert!(
        !store
            .claim_speed_test(&s, a, soon, max_age, hold)
            .expect("claim")
    );
    let stale = now() + Duration::days(8);
    assert!(
        store
            .claim_speed_test(&s, a, stale, max_age, hold)
            .expect("claim")
    );
}

#[test]
fn the_survey_and_the_proposal_take_their_verdicts_from_the_line_status() {
    // Three sites: a TTPVHCC measured only by a PC with a 100 Mbps card
    // (inconclusive), a headquarters at 150 Mbps (meets 100) and a school
    // at 80 Mbps through a gigabit card (below 100).
    let (_dir, store, center) = open_with_site(SiteKind::ServiceCenter);
    let mut others = Vec::new();
    for (code, kind) in [
        ("tru-so", SiteKind::Headquarters),
        ("truong", SiteKind::School),
    ] {
        let s = site(code);
        store
            .add_site(&SiteRecord {
                site: s.clone(),
                kind,
                name: code.into(),
                lines: vec![],
                staff: None,
                created_at: now(),
            })
            .expect("site");
        others.push(s);
    }
    let day = now() - Duration::days(1);
    for (s, down, link) in [
        (&center, 94.0, Some(100)),
        (&others[0], 150.0, None),
        (&others[1], 80.0, Some(1000)),
    ] {
        let probes = Probes {
            pings: vec![],
            speed_tests: vec![speed(day, down, link)],
        };
        ingest(&store, &origin(s), probes, now());
    }
    let policy = Policy::shipped();

    let inputs = store
        .survey_inputs(Some(&center.commune), now() - Duration::days(30))
        .expect("inputs");
    let survey = crate::survey::lines::site_lines(
        &inputs.sites,
        &inputs.speeds,
        &policy.file.line_targets,
        now() - Duration::days(30),
        30,
    );
    let proposal = crate::proposal::lines::site_lines(&store, policy, &center.commune, now())
        .expect("proposal lines");

    let expected = [
        (&center, Verdict::PcLimited, None),
        (&others[0], Verdict::Meets, Some(true)),
        (&others[1], Verdict::Below, Some(false)),
    ];
    for (s, verdict, meets) in expected {
        let status = site_status(&store, policy, s, now())
            .expect("status")
            .expect("registered");
        assert_eq!(status.windows[1].verdict, verdict, "{s}");
        let shown = (survey.iter())
            .find(|l| l.code == s.site.to_string())
            .expect("survey row");
        assert_eq!((shown.verdict, shown.meets_target), (verdict, meets), "{s}");
        assert_eq!(
            shown.best_download_mbps,
            status.windows[1].best_download_mbps
        );
        let reading = proposal.get(&Some(s.site.clone())).expect("reading");
        assert_eq!(reading.verdict, Some(verdict), "{s}");
        assert_eq!(Some(reading.best_download_mbps), shown.best_download_mbps);
    }
}
