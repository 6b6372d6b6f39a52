//! `GET /api/v1/devices`, `GET /api/v1/devices/{id}`, `GET /api/v1/health`,
//! and unknown paths.

use axum::http::StatusCode;
use kiemke_server::routes::devices::{MAX_LIMIT, Page};
use kiemke_shared::AgentId;
use kiemke_shared::api::{DeviceDetail, DeviceList, Health, ReportAck};

use crate::helpers::{Pc, TestApp, is_vietnamese, office_pc, report};

async fn three_devices(app: &TestApp) -> Vec<ReportAck> {
    let mut acks = Vec::new();
    for mac in [
        "3c:52:82:00:00:01",
        "3c:52:82:00:00:02",
        "3c:52:82:00:00:03",
    ] {
        let pc = Pc {
            hostname: "PC",
            macs: vec![mac],
            ..Pc::default()
        };
        let (_, body) = app.post_report(&report(AgentId::generate(), &pc)).await;
        acks.push(serde_json::from_value(body).expect("ack"));
    }
    acks
}

#[tokio::test]
async fn the_device_list_pages_newest_first() {
    let app = TestApp::new();
    let acks = three_devices(&app).await;

    let (status, body) = app.get_json("/api/v1/devices?limit=2").await;
    assert_eq!(status, StatusCode::OK);
    let first: DeviceList = serde_json::from_value(body).expect("list");
    let (_, body) = app.get_json("/api/v1/devices?limit=2&offset=2").await;
    let second: DeviceList = serde_json::from_value(body).expect("list");

    assert_eq!((first.total, second.total), (3, 3));
    let ids: Vec<_> = first
        .devices
        .iter()
        .chain(&second.devices)
        .map(|d| d.id)
        .collect();
    assert_eq!(
        ids,
        vec![acks[2].device_id, acks[1].device_id, acks[0].device_id]
    );
}

#[test]
fn page_sizes_are_capped() {
    let page = Page {
        limit: Some(1_000_000),
        offset: Some(7),
    };
    assert_eq!(page.bounds(), (MAX_LIMIT, 7));
}

#[tokio::test]
async fn a_device_has_its_latest_inventory_and_history() {
    let app = TestApp::new();
    let agent = AgentId::generate();
    let first = report(agent, &office_pc());
    let second = report(
        agent,
        &Pc {
            hostname: "MOTCUA-PC01-MOI",
            ..office_pc()
        },
    );
    app.post_report(&first).await;
    let (_, ack) = app.post_report(&second).await;
    let ack: ReportAck = serde_json::from_value(ack).expect("ack");

    let (status, body) = app
        .get_json(&format!("/api/v1/devices/{}", ack.device_id))
        .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let detail: DeviceDetail = serde_json::from_value(body).expect("detail");
    assert_eq!(detail.device.report_count, 2);
    assert_eq!(detail.inventory, second.inventory);
    let history: Vec<_> = detail.reports.iter().map(|r| r.report_id).collect();
    assert_eq!(history, vec![second.report_id, first.report_id]);
}

#[tokio::test]
async fn bad_and_unknown_device_ids_get_json_errors() {
    let app = TestApp::new();

    let (status, body) = app.get_json("/api/v1/devices/not-a-uuid").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_field");
    assert_eq!(body["field"], "id");
    assert!(
        is_vietnamese(body["message"].as_str().unwrap_or_default()),
        "{body}"
    );

    let unknown = "0190f5a4-8c1e-7b2a-9d3f-1a2b3c4d5e6f";
    let (status, body) = app.get_json(&format!("/api/v1/devices/{unknown}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(unknown),
        "{body}"
    );

    let (status, body) = app.get_json("/api/v1/devices?limit=nhieu").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_field");

    let (status, body) = app.get_json("/api/v1/reports").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        body["message"].as_str().unwrap_or_default().contains("GET"),
        "{body}"
    );

    let (status, body) = app.get_json("/api/v1/khong-co").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "not_found");
    assert!(
        is_vietnamese(body["message"].as_str().unwrap_or_default()),
        "{body}"
    );
}

#[tokio::test]
async fn health_reports_the_supported_protocol_versions() {
    let app = TestApp::new();
    let (status, body) = app.get_json("/api/v1/health").await;
    assert_eq!(status, StatusCode::OK);
    let health: Health = serde_json::from_value(body).expect("health");
    assert_eq!(health.status, "ok");
    assert_eq!(health.protocol_versions, vec![1]);
}
