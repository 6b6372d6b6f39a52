//! The lifecycle policy end to end: reports from PCs of different ages give
//! `ok` / `watch` / `replace` with their reasons through the API; the asset
//! register entry adds wear; a server restarted with another policy file
//! recomputes and keeps the history; the CLI checks policies and prints
//! flags.

use std::process::Command;

use chrono::{NaiveDate, TimeZone, Utc};
use kiemke_agent::report;
use kiemke_shared::inventory::{DiskKind, Inventory};
use kiemke_shared::{AgentId, protocol};
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::ServerProcess;
use serde_json::{Value, json};

use crate::server_bin;

/// Every run evaluates as of this date, so the expectations do not drift
/// with the clock (Windows 10 left support on 14/10/2025).
const AS_OF: &[&str] = &["--evaluation-date", "2026-06-30"];

const JSON: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("content-encoding", "gzip"),
];

struct Hardware {
    cpu: &'static str,
    threads: u32,
    bios: (i32, u32, u32),
    os: (&'static str, &'static str),
    ram_gib: u64,
    ssd: bool,
    tpm2: bool,
}

/// A fixture PC (the shared office desktop) with the given hardware.
fn inventory(pc: &Pc, hw: &Hardware) -> Inventory {
    let mut inv = fixtures::inventory(pc);
    inv.cpu.brand = Some(hw.cpu.into());
    inv.cpu.cores_logical = Some(hw.threads);
    inv.bios.vendor = Some("Dell Inc.".into());
    inv.bios.date = NaiveDate::from_ymd_opt(hw.bios.0, hw.bios.1, hw.bios.2);
    inv.os.name = Some(hw.os.0.into());
    inv.os.version = Some(hw.os.1.into());
    inv.os.install_date = Utc.with_ymd_and_hms(hw.bios.0 + 1, 1, 15, 2, 0, 0).single();
    inv.memory.total_bytes = Some((hw.ram_gib << 30) - (200 << 20));
    inv.disks[0].kind = if hw.ssd { DiskKind::Ssd } else { DiskKind::Hdd };
    inv.tpm.present = Some(hw.tpm2);
    inv.tpm.version = hw.tpm2.then(|| "2.0".to_owned());
    inv
}

fn office() -> [(Pc, Hardware); 3] {
    [
        (
            Pc {
                hostname: "KETOAN-CU",
                serial: Some("JQ2G8Y1"),
                mac: Some("f8:bc:12:00:00:01"),
                ip: "10.0.0.11",
                ..Pc::default()
            },
            Hardware {
                cpu: "Intel(R) Pentium(R) CPU G2030 @ 3.00GHz",
                threads: 2,
                bios: (2013, 5, 20),
                os: ("Microsoft Windows 7 Professional", "6.1.7601"),
                ram_gib: 4,
                ssd: false,
                tpm2: false,
            },
        ),
        (
            Pc {
                hostname: "MOTCUA-02",
                serial: Some("5CG1234ABC"),
                mac: Some("f8:bc:12:00:00:02"),
                ip: "10.0.0.12",
                ..Pc::default()
            },
            Hardware {
                cpu: "11th Gen Intel(R) Core(TM) i5-11400 @ 2.60GHz",
                threads: 12,
                bios: (2021, 4, 15),
                os: ("Microsoft Windows 10 Pro", "10.0.19045"),
                ram_gib: 8,
                ssd: true,
                tpm2: true,
            },
        ),
        (
            Pc {
                hostname: "CHUTICH-PC",
                serial: Some("8CC3011XYZ"),
                mac: Some("f8:bc:12:00:00:03"),
                ip: "10.0.0.13",
                ..Pc::default()
            },
            Hardware {
                cpu: "13th Gen Intel(R) Core(TM) i5-13400",
                threads: 16,
                bios: (2023, 2, 10),
                os: ("Microsoft Windows 11 Pro", "10.0.26200"),
                ram_gib: 16,
                ssd: true,
                tpm2: true,
            },
        ),
    ]
}

async fn get(server: &ServerProcess, path: &str) -> anyhow::Result<Value> {
    let response = (server.http().get(server.endpoint(path)))
        .bearer_auth(kiemke_tests::server::ADMIN_TOKEN)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    Ok(response.json().await?)
}

fn rules(flags: &Value) -> Vec<String> {
    (flags["reasons"].as_array().into_iter().flatten())
        .filter_map(|r| r["rule"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn three_office_pcs_get_ok_watch_and_replace_with_reasons() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start_with(server_bin(), &data, "127.0.0.1:0", AS_OF)?;

    // Act
    let mut ids = Vec::new();
    for (pc, hw) in office() {
        let body = report::encode(&report::build(AgentId::generate(), inventory(&pc, &hw)))?;
        let (status, ack) = server.post_raw(body, JSON).await?;
        assert_eq!(status, 200, "{ack}");
        ids.push(ack["device_id"].as_str().unwrap_or_default().to_owned());
    }

    // Assert: each status, with its reasons, through the API.
    let old = get(&server, &format!("/api/v1/devices/{}/flags", ids[0])).await?["flags"].clone();
    assert_eq!(old["status"], "replace");
    assert_eq!(
        rules(&old),
        [
            "service-life",
            "cpu-windows11",
            "os-end-of-support",
            "tpm2",
            "ram-min",
            "system-disk-ssd",
            "cpu-threads"
        ]
    );
    let life = &old["reasons"][0];
    assert_eq!(life["severity"], "blocking");
    assert!(life["vi"].as_str().unwrap_or("").contains("2013"), "{life}");
    assert_eq!(
        (
            old["age"]["earliest"].as_i64(),
            old["age"]["latest"].as_i64()
        ),
        (Some(2013), Some(2014))
    );

    let mid = get(&server, &format!("/api/v1/devices/{}/flags", ids[1])).await?["flags"].clone();
    assert_eq!(
        (mid["status"].as_str(), rules(&mid)),
        (Some("watch"), vec!["os-end-of-support".to_owned()])
    );
    assert_eq!(mid["reasons"][0]["severity"], "warning");
    assert!(
        mid["reasons"][0]["vi"]
            .as_str()
            .unwrap_or("")
            .contains("14/10/2025")
    );

    let new = get(&server, &format!("/api/v1/devices/{}/flags", ids[2])).await?["flags"].clone();
    assert_eq!((new["status"].as_str(), rules(&new).len()), (Some("ok"), 0));

    let replace = get(
        &server,
        &format!("{}?status=replace", protocol::DEVICES_PATH),
    )
    .await?;
    assert_eq!(replace["total"], 1);
    assert_eq!(replace["devices"][0]["hostname"], "KETOAN-CU");
    let summary = get(&server, "/api/v1/flags/summary").await?;
    assert_eq!(
        (
            summary["total"]["ok"].as_u64(),
            summary["total"]["watch"].as_u64(),
            summary["total"]["replace"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );

    // The register: bought 01/06/2021 for 15,000,000 đ. Fully worn under
    // TT 23 by 31/12/2025 (5 × 3,000,000 đ), yet within TT 141's 7-year
    // service life: still `watch`, for its OS only.
    let response = server
        .http()
        .put(server.endpoint(&format!("/api/v1/devices/{}/asset", ids[1])))
        .json(&json!({"in_service": "2021-06-01", "cost_vnd": 15_000_000, "commune": "24118", "site": "ttpvhcc", "site_kind": "service-center"}))
        .bearer_auth(kiemke_tests::server::ADMIN_TOKEN)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let put: Value = response.json().await?;
    assert_eq!(put["flags"]["wear"]["residual_vnd"], 0);
    assert_eq!(put["flags"]["service_life"]["ends"], "2028-06-01");
    assert_eq!(put["flags"]["status"], "watch");
    let by_commune = get(
        &server,
        &format!("{}?commune=24118", protocol::DEVICES_PATH),
    )
    .await?;
    // The harness enrolled all three agents in its commune: the credential,
    // not the register, says where a device reports from.
    assert_eq!(by_commune["total"], 3);
    let by_site = get(
        &server,
        &format!("{}?commune=24118&site=ttpvhcc", protocol::DEVICES_PATH),
    )
    .await?;
    assert_eq!(by_site["total"], 1);

    // While the server runs, `flags` says the store is in use.
    let locked = Command::new(server_bin())
        .args(["flags", "--data"])
        .arg(&data)
        .output()?;
    assert!(!locked.status.success());
    assert!(
        String::from_utf8_lossy(&locked.stderr).contains("/api/v1/devices"),
        "{}",
        String::from_utf8_lossy(&locked.stderr)
    );

    // Restart with a stricter policy (RAM ≥ 32 GB): recomputed on start,
    // the change is kept in the history.
    let strict = dir.path().join("strict.toml");
    std::fs::write(
        &strict,
        kiemke_server::policy::SHIPPED.replacen("min-gib = 8", "min-gib = 32", 1),
    )?;
    server.kill9()?;
    let policy = strict.to_str().unwrap_or_default();
    let server = ServerProcess::start_with(
        server_bin(),
        &data,
        "127.0.0.1:0",
        &[AS_OF[0], AS_OF[1], "--policy", policy],
    )?;
    let new = get(&server, &format!("/api/v1/devices/{}/flags", ids[2])).await?;
    assert_eq!(
        (new["flags"]["status"].as_str(), rules(&new["flags"])),
        (Some("watch"), vec!["ram-min".to_owned()])
    );
    let history = new["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0]["from"].as_str(), history[0]["to"].as_str()),
        (Some("ok"), Some("watch"))
    );
    drop(server);

    // With the server stopped, `flags` reads the store.
    let out = Command::new(server_bin())
        .args(["flags", "--json", "--data"])
        .arg(&data)
        .output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<Value> = serde_json::from_slice(&out.stdout)?;
    let names: Vec<&str> = printed
        .iter()
        .filter_map(|d| d["hostname"].as_str())
        .collect();
    assert_eq!(names, ["KETOAN-CU", "CHUTICH-PC", "MOTCUA-02"]);
    let out = Command::new(server_bin())
        .args(["flags", "--commune", "24118", "--data"])
        .arg(&data)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[CẦN THEO DÕI] MOTCUA-02") && text.contains("os-end-of-support"),
        "{text}"
    );
    let out = Command::new(server_bin())
        .args(["flags", "--commune", "24121", "--data"])
        .arg(&data)
        .output()?;
    let other = String::from_utf8_lossy(&out.stdout);
    assert!(
        !other.contains("KETOAN-CU") && !other.contains("MOTCUA-02"),
        "another commune's flags list none of these: {other}"
    );
    Ok(())
}

#[test]
fn policy_check_accepts_the_shipped_file_and_names_the_line_of_an_error() -> anyhow::Result<()> {
    let ok = Command::new(server_bin())
        .args(["policy", "check"])
        .output()?;
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("Tệp chính sách hợp lệ"));

    let dir = tempfile::tempdir()?;
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        kiemke_server::policy::SHIPPED.replacen(
            "life-adjustment-percent = 0",
            "life-adjustment-percent = 25",
            1,
        ),
    )?;
    let out = Command::new(server_bin())
        .args(["policy", "check", "--policy"])
        .arg(&bad)
        .output()?;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("dòng") && err.contains("assets.life-adjustment-percent"),
        "{err}"
    );
    Ok(())
}
