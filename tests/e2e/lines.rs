//! A site's line status over real HTTP: agents enrolled for a site report
//! ping bursts and throughput tests; `GET /api/v1/sites/{c}/{s}/lines` and
//! the survey (`GET /api/v1/survey/communes/{c}`) give the same verdict
//! (one owner, `server/src/lines.rs`); an officer's `POST .../speedtest`
//! makes the next report's acknowledgement ask for a test.

use chrono::{Duration, Utc};
use kiemke_agent::report;
use kiemke_shared::api::ReportAck;
use kiemke_shared::probes::{
    PerSecond, PingResult, Probes, RttMethod, RttSummary, SpeedApi, SpeedResult, TargetRole,
};
use kiemke_shared::units::Mbps;
use kiemke_shared::{AgentId, protocol};
use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};
use serde_json::{Value, json};

use crate::server_bin;

const LINES: &str = "/api/v1/sites/24118/ttpvhcc/lines";

fn ping(minutes_ago: i64, received: u32) -> PingResult {
    PingResult {
        target: "tinh.example.vn".into(),
        address: Some("10.1.0.5".into()),
        role: Some(TargetRole::Server),
        method: RttMethod::Icmp,
        port: None,
        started_at: Utc::now() - Duration::minutes(minutes_ago),
        sent: 20,
        received,
        loss_pct: 100.0 * f64::from(20 - received) / 20.0,
        rtt_ms: (received > 0).then_some(RttSummary {
            min: 18.0,
            median: 21.0,
            p95: 30.0,
            max: 35.0,
        }),
        jitter_ms: Some(1.5),
        interval_ms: 200,
        timeout_ms: 1000,
        error: None,
    }
}

fn speed(hours_ago: i64, down: f64) -> SpeedResult {
    let per = PerSecond {
        p10: down,
        p50: down,
        p90: down,
    };
    SpeedResult {
        server: "https://tinh.example.vn".into(),
        api: SpeedApi::Kiemke,
        trigger: None,
        started_at: Utc::now() - Duration::hours(hours_ago),
        download_mbps: Mbps::saturating(down),
        upload_mbps: Mbps::saturating(down / 3.0),
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
        latency_idle_ms: Some(20.0),
        latency_loaded_ms: Some(60.0),
        latency_method: Some(RttMethod::Icmp),
        interface: Some("eth0".into()),
        link_mbps: Some(1000),
        wireless: Some(false),
        target_mbps: Mbps::saturating(200.0),
        limited_by: None,
        interface_bytes_down: None,
        interface_bytes_up: None,
    }
}

/// Enrolls `agent` with a token bound to the site; its Authorization value.
async fn enroll_for_site(server: &ServerProcess, agent: AgentId) -> anyhow::Result<String> {
    let (status, token) = server
        .admin(
            "/tokens",
            Some(json!({"commune": "24118", "site": "ttpvhcc", "uses": 1, "expires": "1d"})),
        )
        .await?;
    anyhow::ensure!(status == 201, "token: {status} {token}");
    let response = server
        .http()
        .post(server.endpoint(protocol::ENROLL_PATH))
        .json(&json!({"token": token["token"], "agent_id": agent}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "enroll: {}",
        response.status()
    );
    let enrolled: kiemke_shared::auth::EnrollResponse = response.json().await?;
    Ok(enrolled.credential.authorization())
}

async fn send(
    server: &ServerProcess,
    auth: &str,
    agent: AgentId,
    probes: Probes,
) -> anyhow::Result<ReportAck> {
    let body = report::encode(&report::build_probes(agent, probes))?;
    let (status, ack) = server
        .post_with(
            body,
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
                ("authorization", auth),
            ],
        )
        .await?;
    anyhow::ensure!(status == 200, "report: {status} {ack}");
    Ok(serde_json::from_value(ack)?)
}

async fn get_as_admin(server: &ServerProcess, path: &str) -> anyhow::Result<(u16, Value)> {
    let response = server
        .http()
        .get(server.endpoint(path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or_default()))
}

/// The verdict of the site's 30-day window in the line API, and the
/// site's row in the survey API: `(verdict, best download)` of each.
async fn both_views(server: &ServerProcess) -> anyhow::Result<[(Value, Value); 2]> {
    let (status, lines) = get_as_admin(server, LINES).await?;
    anyhow::ensure!(status == 200, "lines: {status} {lines}");
    let (status, survey) = get_as_admin(server, "/api/v1/survey/communes/24118").await?;
    anyhow::ensure!(status == 200, "survey: {status} {survey}");
    let row = (survey["sites"].as_array().into_iter().flatten())
        .find(|s| s["code"] == "ttpvhcc")
        .cloned()
        .unwrap_or_default();
    Ok([
        (
            lines["windows"][1]["verdict"].clone(),
            lines["windows"][1]["best_download_mbps"].clone(),
        ),
        (row["verdict"].clone(), row["best_download_mbps"].clone()),
    ])
}

#[tokio::test]
async fn the_line_api_and_the_survey_judge_a_site_alike_and_an_officer_can_ask_for_a_test()
-> anyhow::Result<()> {
    // Arrange: a registered commune with a TTPVHCC (target 200 Mbps) and
    // a VNPT line; two PCs enrolled there, A with a 100 Mbps card.
    // (The verdict rules themselves are unit-tested in
    // `server/src/lines/tests.rs`; this checks the wiring over HTTP.)
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    register_commune(&data)?;
    let server = ServerProcess::start(server_bin(), &data)?;
    let (status, site) = server
        .admin(
            "/sites",
            Some(json!({"commune": "24118", "code": "ttpvhcc", "kind": "service-center",
                        "name": "Trung tâm Phục vụ hành chính công", "lines": ["vnpt:internet:200"]})),
        )
        .await?;
    assert_eq!(status, 201, "{site}");
    let (a, b) = (AgentId::generate(), AgentId::generate());
    let (auth_a, auth_b) = (
        enroll_for_site(&server, a).await?,
        enroll_for_site(&server, b).await?,
    );

    // Act: A reports 94 Mbps through its 100 Mbps card, and five bursts.
    let mut capped = speed(30, 94.0);
    capped.link_mbps = Some(100);
    let probes = Probes {
        pings: vec![
            ping(25, 20),
            ping(20, 20),
            ping(15, 0),
            ping(10, 19),
            ping(5, 20),
        ],
        speed_tests: vec![capped],
    };
    let first = send(&server, &auth_a, a, probes).await?;

    // Assert: both views say inconclusive (not "below"), at 94 Mbps; the
    // bursts reached the line status.
    assert!(!first.run_speed_test, "a test just arrived: none asked");
    let inconclusive = (json!("pc-limited"), json!(94.0));
    assert_eq!(
        both_views(&server).await?,
        [inconclusive.clone(), inconclusive]
    );
    let (_, lines) = get_as_admin(&server, LINES).await?;
    assert_eq!(lines["target_mbps"], 200);
    assert_eq!(lines["lines"][0]["isp"], "vnpt");
    assert_eq!(lines["availability"][0]["bursts"], 5);

    // B (gigabit card) measures 180 Mbps: below the target, in both.
    send(
        &server,
        &auth_b,
        b,
        Probes {
            pings: vec![],
            speed_tests: vec![speed(2, 180.0)],
        },
    )
    .await?;
    let below = (json!("below"), json!(180.0));
    assert_eq!(both_views(&server).await?, [below.clone(), below]);

    // An officer asks for a test: the next report's ack asks its PC.
    let response = server
        .http()
        .post(server.endpoint("/api/v1/sites/24118/ttpvhcc/speedtest"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    assert_eq!(response.status(), 202);
    let pings_only = Probes {
        pings: vec![ping(1, 20)],
        speed_tests: vec![],
    };
    assert!(send(&server, &auth_b, b, pings_only).await?.run_speed_test);
    let (_, lines) = get_as_admin(&server, LINES).await?;
    assert_eq!(lines["pending_speed_test"]["requested_by"], "admin-token");

    // B's on-demand test arrives at 230 Mbps: the site meets its target in
    // both views, and the request is done.
    let mut done = speed(0, 230.0);
    done.started_at = Utc::now();
    let ack = send(
        &server,
        &auth_b,
        b,
        Probes {
            pings: vec![],
            speed_tests: vec![done],
        },
    )
    .await?;
    assert!(!ack.run_speed_test);
    let meets = (json!("meets"), json!(230.0));
    assert_eq!(both_views(&server).await?, [meets.clone(), meets]);
    let (_, lines) = get_as_admin(&server, LINES).await?;
    assert_eq!(lines["pending_speed_test"], Value::Null);
    Ok(())
}

/// Registers commune 24118 in the store before the server opens it.
fn register_commune(data: &std::path::Path) -> anyhow::Result<()> {
    let store = kiemke_server::store::Store::open(data)?;
    store.add_commune(&kiemke_server::store::communes::CommuneRecord {
        code: kiemke_shared::CommuneCode::parse("24118")?,
        kind: kiemke_server::store::communes::CommuneKind::Xa,
        name: "Biển Hồ".into(),
        province: "Gia Lai".into(),
        created_at: Utc::now(),
    })?;
    Ok(())
}

#[tokio::test]
async fn the_line_api_refuses_strangers_unknown_sites_and_bad_codes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let anonymous = server.http().get(server.endpoint(LINES)).send().await?;
    assert_eq!(anonymous.status(), 401);
    let anonymous_ask = server
        .http()
        .post(server.endpoint("/api/v1/sites/24118/ttpvhcc/speedtest"))
        .send()
        .await?;
    assert_eq!(anonymous_ask.status(), 401);
    let (status, body) = get_as_admin(&server, LINES).await?;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("Chưa có điểm 24118/ttpvhcc")),
        "{body}"
    );
    let (status, body) = get_as_admin(&server, "/api/v1/sites/24x18/ttpvhcc/lines").await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("commune")),
        "{body}"
    );
    let (status, body) = get_as_admin(&server, "/api/v1/sites/24118/TTPVHCC/lines").await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("site")),
        "{body}"
    );
    Ok(())
}
