//! Device identity through the API: one PC stays one device across an agent
//! reinstall, a rename and a new IP; PCs that differ stay apart.

use axum::http::StatusCode;
use kiemke_shared::AgentId;
use kiemke_shared::api::{DeviceList, ReportAck};

use crate::helpers::{Pc, TestApp, office_pc, report};

async fn post(app: &TestApp, agent: AgentId, pc: &Pc) -> ReportAck {
    let (status, body) = app.post_report(&report(agent, pc)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_value(body).expect("ack")
}

async fn devices(app: &TestApp) -> DeviceList {
    let (status, body) = app.get_json("/api/v1/devices").await;
    assert_eq!(status, StatusCode::OK);
    serde_json::from_value(body).expect("device list")
}

#[tokio::test]
async fn a_reinstalled_agent_on_a_renamed_pc_with_a_new_ip_is_the_same_device() {
    let app = TestApp::new();
    let before = office_pc();
    let after = Pc {
        hostname: "TTPVHCC-MAY-02",
        ip: "192.168.1.57",
        ..before.clone()
    };
    let (first_agent, second_agent) = (AgentId::generate(), AgentId::generate());

    let first = post(&app, first_agent, &before).await;
    let second = post(&app, second_agent, &after).await;

    assert_eq!(first.device_id, second.device_id);
    let list = devices(&app).await;
    assert_eq!(list.total, 1);
    let device = &list.devices[0];
    assert_eq!(device.report_count, 2);
    assert_eq!(device.hostname.as_deref(), Some("TTPVHCC-MAY-02"));
    assert!(device.agent_ids.contains(&first_agent) && device.agent_ids.contains(&second_agent));
}

#[tokio::test]
async fn the_same_serial_and_uuid_without_macs_is_the_same_device() {
    let app = TestApp::new();
    let pc = Pc {
        macs: vec![],
        ..office_pc()
    };
    let a = post(&app, AgentId::generate(), &pc).await;
    let b = post(
        &app,
        AgentId::generate(),
        &Pc {
            hostname: "DOI-TEN",
            ..pc.clone()
        },
    )
    .await;
    assert_eq!(a.device_id, b.device_id);
}

#[tokio::test]
async fn serial_less_pcs_with_different_macs_are_two_devices() {
    let app = TestApp::new();
    let first = Pc {
        hostname: "DESKTOP-MOTCUA",
        serial: Some("To Be Filled By O.E.M."),
        uuid: Some("03000200-0400-0500-0006-000700080009"),
        macs: vec!["00:e0:4c:68:01:01"],
        ip: "192.168.1.30",
    };
    let second = Pc {
        macs: vec!["00:e0:4c:68:02:02"],
        ip: "192.168.1.31",
        ..first.clone()
    };

    let a = post(&app, AgentId::generate(), &first).await;
    let b = post(&app, AgentId::generate(), &second).await;

    assert_ne!(a.device_id, b.device_id);
    let list = devices(&app).await;
    assert_eq!(list.total, 2);
    assert!(list.devices.iter().all(|d| d.report_count == 1));
}
