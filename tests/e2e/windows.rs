//! The Windows agent (`x86_64-pc-windows-gnu`), really run under Wine: the
//! inventory through WMI, a ping through Winsock, enrollment and a report
//! to a real server on loopback, and the service's install, reports and
//! uninstall through Wine's service control manager.
//!
//! Needs Wine, MinGW and the exe built first (see `kiemke_tests::wine`);
//! `.ci/run` provides all three. Missing, the tests fail and say why.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use kiemke_shared::Inventory;
use kiemke_tests::server::ServerProcess;
use kiemke_tests::wine::Wine;

use crate::{server_bin, text};

fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn windows_agent_under_wine_inventories_pings_enrolls_and_reports() {
    let wine = Wine::start().expect("Wine prefix with the Windows agent");

    // Arrange/Act: the inventory, as JSON.
    let out = wine.run(&["inventory", "--json"]).expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    // Assert: the same stable keys as every inventory (values may be null
    // where Wine has nothing to say), and what Wine does answer.
    let stable = serde_json::to_value(Inventory::default()).expect("json");
    assert_eq!(keys(&json), keys(&stable), "top-level keys");
    for part in ["os", "system", "bios", "cpu", "memory", "tpm"] {
        assert_eq!(keys(&json[part]), keys(&stable[part]), "keys of {part}");
    }
    let inventory: Inventory = serde_json::from_value(json).expect("an Inventory");
    assert!(
        inventory
            .os
            .name
            .as_deref()
            .is_some_and(|n| n.contains("Windows")),
        "WMI's Win32_OperatingSystem: {:?}",
        inventory.os
    );
    assert!(inventory.memory.total_bytes.is_some_and(|b| b > 0));
    assert!(inventory.cpu.brand.is_some(), "{:?}", inventory.cpu);

    // A ping to loopback: ICMP through Winsock (or the TCP fallback).
    let out = wine
        .run(&[
            "probe",
            "ping",
            "127.0.0.1",
            "--count",
            "3",
            "--interval-ms",
            "50",
            "--json",
        ])
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let ping: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(ping["received"], 3, "{ping}");
    assert!(
        ping["method"] == "icmp" || ping["method"] == "tcp_connect",
        "{ping}"
    );

    // Enrollment and a report to a real server on loopback.
    let store = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(server_bin(), store.path()).expect("server");
    let token = server.harness_token().await.expect("token").to_string();
    let data = tempfile::tempdir().expect("tempdir");
    let data_arg = Wine::windows_path(data.path());
    let out = wine
        .run(&[
            "enroll",
            "--server",
            &server.url,
            "--token",
            &token,
            "--data",
            &data_arg,
        ])
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Đã đăng ký máy này"), "{}", text(&out));
    let out = wine.run(&["report", "--data", &data_arg]).expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let devices = server.devices().await.expect("devices");
    assert_eq!(devices.devices.len(), 1, "one Windows PC reported");
    let device = server.device(devices.devices[0].id).await.expect("device");
    let reported = serde_json::to_string(&device).expect("json");
    assert!(reported.contains("Windows"), "{reported}");

    // status tells, in Vietnamese, when it last reported and that no error.
    let out = wine.run(&["status", "--data", &data_arg]).expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let status = text(&out);
    assert!(status.contains("Lần gửi báo cáo gần nhất: "), "{status}");
    assert!(!status.contains("chưa lần nào"), "{status}");
    assert!(status.contains("Lỗi gần nhất: không có"), "{status}");
    assert!(status.contains("Dịch vụ: CHƯA cài đặt"), "{status}");
}

/// The service's log files, for a failure message.
fn service_log(data: &std::path::Path) -> String {
    std::fs::read_dir(data.join("logs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn windows_service_under_wine_installs_reports_and_uninstalls() {
    let wine = Wine::start().expect("Wine prefix with the Windows agent");
    let store = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(server_bin(), store.path()).expect("server");
    let token = server.harness_token().await.expect("token").to_string();

    // A tuned configuration left by an administrator is kept by install:
    // here, the first delivery without the usual random startup delay.
    let data = wine.program_data().join("Kiemke/agent");
    std::fs::create_dir_all(&data).expect("mkdir");
    std::fs::write(
        data.join("kiemke-agent.toml"),
        // (No LAN sweep from the test machine.)
        "startup-delay-max = \"1s\"\nlan-discovery = false\n",
    )
    .expect("config");

    // Act: a silent install, as a Group Policy script runs it.
    let out = wine
        .run(&[
            "install",
            "--server",
            &server.url,
            "--token",
            &token,
            "--quiet",
        ])
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        out.stdout.is_empty(),
        "--quiet prints nothing: {}",
        text(&out)
    );

    // Assert: the program, the enrollment under ProgramData, the service.
    let exe = wine.program_files().join("Kiemke/kiemke-agent.exe");
    assert!(exe.exists(), "{} copied", exe.display());
    assert!(data.join("enrollment.json").exists());

    // The service reports on its own.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let devices = server.devices().await.expect("devices");
        if !devices.devices.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not report within 120 s; status:\n{}\nlog:\n{}",
            text(&wine.run(&["status"]).expect("run")),
            service_log(&data)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let out = wine.run(&["status"]).expect("run");
    let status = text(&out);
    assert!(status.contains("Dịch vụ: đang chạy"), "{status}");
    assert!(!status.contains("chưa lần nào"), "{status}");
    let logs = std::fs::read_dir(data.join("logs"))
        .expect("log directory")
        .count();
    assert!(logs >= 1, "a rotating log file under ProgramData");

    // Uninstall removes the service, the program and the data.
    let out = wine.run(&["uninstall", "--quiet"]).expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(!data.exists(), "data removed");
    let out = wine.run(&["status"]).expect("run");
    assert!(
        text(&out).contains("Dịch vụ: CHƯA cài đặt"),
        "{}",
        text(&out)
    );
}
