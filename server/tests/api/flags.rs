//! The lifecycle policy through the API: filters on the device list, the
//! asset register entry, a device's flags and history, the summary.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use kiemke_shared::AgentId;
use kiemke_shared::inventory::{Chassis, Disk, DiskKind};
use serde_json::{Value, json};

use crate::helpers::{self, Pc, TestApp, is_vietnamese};

/// A report from a PC with the given CPU, OS and RAM (GiB), HDD or SSD.
fn report(pc: &Pc, cpu: &str, os: (&str, &str), ram: u64, ssd: bool) -> kiemke_shared::Report {
    let mut report = helpers::report(AgentId::generate(), pc);
    let inv = report.inventory.as_mut().expect("inventory");
    inv.system.chassis = Some(Chassis::Desktop);
    inv.cpu.brand = Some(cpu.into());
    inv.cpu.cores_logical = Some(4);
    inv.os.name = Some(os.0.into());
    inv.os.version = Some(os.1.into());
    inv.memory.total_bytes = Some(ram << 30);
    inv.disks.push(Disk {
        name: "disk0".into(),
        model: None,
        serial: None,
        size_bytes: None,
        kind: if ssd { DiskKind::Ssd } else { DiskKind::Hdd },
        bus: None,
        system: true,
        removable: false,
    });
    report
}

fn app() -> TestApp {
    TestApp::with_config(|c| c.evaluation_date = NaiveDate::from_ymd_opt(2026, 6, 30))
}

fn pc(n: u8) -> Pc {
    Pc {
        hostname: ["PC-MOI", "PC-WIN10", "PC-CU"][usize::from(n)],
        uuid: Some(
            [
                "4c4c4544-0000-1111-8000-000000000001",
                "4c4c4544-0000-1111-8000-000000000002",
                "4c4c4544-0000-1111-8000-000000000003",
            ][usize::from(n)],
        ),
        macs: vec![
            [
                "f8:bc:12:3a:4b:01",
                "f8:bc:12:3a:4b:02",
                "f8:bc:12:3a:4b:03",
            ][usize::from(n)],
        ],
        ..Pc::default()
    }
}

async fn put_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let request = Request::put(path)
        .header("content-type", "application/json")
        .header(
            "authorization",
            app.admin_bearer.as_deref().expect("admin token"),
        )
        .body(Body::from(body.to_string()))
        .expect("request");
    let (status, _, bytes) = app.request(request).await;
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

/// Three PCs: a new one (ok), a Windows 10 one (watch), an old one (replace).
async fn three_pcs(app: &TestApp) -> Vec<String> {
    let reports = [
        report(
            &pc(0),
            "13th Gen Intel(R) Core(TM) i5-13400",
            ("Microsoft Windows 11 Pro", "10.0.26200"),
            16,
            true,
        ),
        report(
            &pc(1),
            "11th Gen Intel(R) Core(TM) i5-11400 @ 2.60GHz",
            ("Microsoft Windows 10 Pro", "10.0.19045"),
            8,
            true,
        ),
        report(
            &pc(2),
            "Intel(R) Pentium(R) CPU G2030 @ 3.00GHz",
            ("Microsoft Windows 7 Professional", "6.1.7601"),
            4,
            false,
        ),
    ];
    let mut ids = Vec::new();
    for r in &reports {
        let (status, ack) = app.post_report(r).await;
        assert_eq!(status, StatusCode::OK, "{ack}");
        ids.push(ack["device_id"].as_str().expect("id").to_owned());
    }
    ids
}

fn hostnames(list: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = (list["devices"].as_array().expect("devices").iter())
        .filter_map(|d| d["hostname"].as_str())
        .collect();
    names.sort_unstable();
    names
}

#[tokio::test]
async fn reports_are_flagged_and_the_list_filters_by_status_reason_and_category() {
    // Arrange
    let app = app();
    three_pcs(&app).await;

    // Act
    let (_, all) = app.get_json("/api/v1/devices").await;
    let (_, replace) = app.get_json("/api/v1/devices?status=replace").await;
    let (_, watch) = app.get_json("/api/v1/devices?status=watch").await;
    let (_, ok) = app.get_json("/api/v1/devices?status=ok").await;
    let (_, hdd) = app.get_json("/api/v1/devices?reason=system-disk-ssd").await;
    let (_, laptops) = app.get_json("/api/v1/devices?category=laptop").await;

    // Assert
    assert_eq!(all["total"], 3);
    assert_eq!(hostnames(&replace), ["PC-CU"]);
    assert_eq!(hostnames(&watch), ["PC-WIN10"]);
    assert_eq!(hostnames(&ok), ["PC-MOI"]);
    assert_eq!(hostnames(&hdd), ["PC-CU"]);
    assert_eq!(laptops["total"], 0);
    let old = &replace["devices"][0]["flags"];
    assert_eq!(old["category"], "desktop");
    // No BIOS date, so the age rests on the CPU alone: its service life is
    // only a warning; the CPU below the Windows 11 list is blocking.
    assert_eq!(old["reasons"][0], "cpu-windows11");
    assert!(
        old["reasons"]
            .as_array()
            .expect("reasons")
            .contains(&json!("service-life"))
    );
    // The list stays a superset of the contract's DeviceList.
    let _: kiemke_shared::api::DeviceList = serde_json::from_value(all).expect("contract shape");
}

#[tokio::test]
async fn the_register_entry_sets_commune_site_and_wear_and_keeps_history() {
    // Arrange
    let app = app();
    let ids = three_pcs(&app).await;
    let new_pc = &ids[0];

    // Act: the register says this PC entered service in 2018 at the
    // service center of commune 24118.
    let body = json!({
        "asset_tag": "UBND-MT-2018-07", "in_service": "2018-04-02", "cost_vnd": 14500000,
        "commune": "24118", "site": "ttpvhcc", "site_kind": "service-center"
    });
    let (status, put) = put_json(&app, &format!("/api/v1/devices/{new_pc}/asset"), body).await;

    // Assert
    assert_eq!(status, StatusCode::OK, "{put}");
    assert_eq!(put["asset"]["asset_tag"], "UBND-MT-2018-07");
    assert_eq!(put["flags"]["status"], "replace");
    assert_eq!(put["flags"]["line_target_mbps"], 200);
    let (_, flags) = app
        .get_json(&format!("/api/v1/devices/{new_pc}/flags"))
        .await;
    let f = &flags["flags"];
    assert_eq!(f["reasons"][0]["rule"], "service-life");
    assert!(is_vietnamese(f["reasons"][0]["vi"].as_str().expect("vi")));
    // 14,500,000 đ from 2018 at 20 %/year: fully worn by 31/12/2022.
    assert_eq!(f["wear"]["residual_vnd"], 0);
    assert_eq!(f["age"]["confidence"], "high");
    let history = flags["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(
        (history[0]["from"].as_str(), history[0]["to"].as_str()),
        (Some("ok"), Some("replace"))
    );
    // The NIC (100 Mbps) is below the service center's 200 Mbps target.
    assert!(
        f["reasons"]
            .as_array()
            .expect("reasons")
            .iter()
            .any(|r| r["rule"] == "nic-line-target")
    );

    let (_, by_commune) = app
        .get_json("/api/v1/devices?commune=24118&site=ttpvhcc")
        .await;
    assert_eq!(hostnames(&by_commune), ["PC-MOI"]);
    let (_, summary) = app.get_json("/api/v1/flags/summary").await;
    assert_eq!(summary["total"]["total"], 3);
    // Every report came from agents enrolled in 24118 (the test app's
    // token), so all three devices count there, whatever the register says.
    assert_eq!(
        summary["communes"][0],
        json!({"commune": "24118", "ok": 0, "watch": 1, "replace": 2, "unevaluated": 0, "total": 3})
    );
    assert_eq!(summary["communes"][1], Value::Null);

    // Evaluated as of another date, without storing.
    let (_, then) = app
        .get_json(&format!("/api/v1/devices/{new_pc}/flags?as_of=2020-12-31"))
        .await;
    assert_eq!(
        then["flags"]["status"], "watch",
        "{}",
        then["flags"]["reasons"]
    );
    assert_eq!(then["flags"]["wear"]["residual_vnd"], 5_800_000);
    let (_, asset) = app
        .get_json(&format!("/api/v1/devices/{new_pc}/asset"))
        .await;
    assert_eq!(asset["in_service"], "2018-04-02");
}

#[tokio::test]
async fn bad_filters_and_register_entries_are_refused_with_the_field() {
    let app = app();
    let ids = three_pcs(&app).await;
    let cases = [
        (json!({"in_service": "2099-01-01"}), "in_service"),
        (json!({"cost_vnd": 0}), "cost_vnd"),
        (json!({"cost_vnd": "15 triệu"}), "cost_vnd"),
        (json!({"category": "may-in"}), "category"),
        (json!({"colour": "red"}), "colour"),
    ];
    for (body, field) in cases {
        let (status, err) = put_json(
            &app,
            &format!("/api/v1/devices/{}/asset", ids[0]),
            body.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"], "invalid_field");
        assert_eq!(err["field"], field, "{body}: {err}");
        assert!(
            is_vietnamese(err["message"].as_str().expect("message")),
            "{err}"
        );
    }
    let (status, err) = app.get_json("/api/v1/devices?status=broken").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["message"]
            .as_str()
            .expect("message")
            .contains("ok, watch, replace")
    );
    let unknown = kiemke_shared::DeviceId::generate();
    let (status, _) = put_json(&app, &format!("/api/v1/devices/{unknown}/asset"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get_json(&format!("/api/v1/devices/{unknown}/flags"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_device_page_shows_the_status_and_its_reasons() {
    let app = app();
    let ids = three_pcs(&app).await;
    let (status, _, body) = app.get(&format!("/devices/{}", ids[2]), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8_lossy(&body);
    assert!(html.contains("Đề xuất thay thế"), "{html}");
    assert!(
        html.contains("cpu-windows11") && html.contains("Windows 11"),
        "{html}"
    );
    let (_, _, body) = app.get(&format!("/devices/{}?lang=en", ids[1]), &[]).await;
    let html = String::from_utf8_lossy(&body);
    assert!(
        html.contains("Watch") && html.contains("left vendor support"),
        "{html}"
    );
}
