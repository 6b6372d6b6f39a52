//! The main path: the real agent inventories this machine and reports; the
//! server stores it durably, once, and still has it after a restart.

use kiemke_agent::config::{self, Overrides};
use kiemke_agent::{cli, collect, report};
use kiemke_shared::AgentId;
use kiemke_shared::api::AckStatus;
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::ServerProcess;

use crate::server_bin;

const GZIP_JSON: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("content-encoding", "gzip"),
];

#[tokio::test]
async fn this_machine_appears_with_its_inventory_and_survives_a_restart() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    server.enroll_dir(&dir.path().join("agent")).await?;
    let overrides = Overrides {
        server: Some(server.url.clone()),
        data_dir: Some(dir.path().join("agent")),
        ..Overrides::default()
    };
    let config = config::load(&overrides)?;

    // Act
    let done = cli::report_once(&config).await?;

    // Assert
    assert_eq!(done.summary.delivered, 1, "{:?}", done.summary);
    assert_eq!(done.summary.last_error, None);
    let local = collect::collect_inventory();
    let list = server.devices().await?;
    assert_eq!(list.total, 1);
    let device = &list.devices[0];
    assert_eq!(device.hostname, local.hostname);
    assert_eq!(device.cpu_brand, local.cpu.brand);
    assert_eq!(device.memory_total_bytes, local.memory.total_bytes);
    let detail = server.device(device.id).await?;
    let stored = detail.inventory.expect("latest inventory");
    assert_eq!(stored.os.name, local.os.name);
    assert_eq!(stored.cpu.cores_logical, local.cpu.cores_logical);
    assert_eq!(stored.disks.len(), local.disks.len());
    assert_eq!(detail.reports.len(), 1);
    assert_eq!(detail.reports[0].report_id, done.report_id);

    // A restart (here the harshest: kill -9) on the same directory keeps it.
    let data = server.data_dir.clone();
    server.kill9()?;
    let server = ServerProcess::start(server_bin(), &data)?;
    let after = server.devices().await?;
    assert_eq!(after.total, 1);
    assert_eq!(after.devices[0].id, device.id);
    assert_eq!(
        server.device(device.id).await?.reports[0].report_id,
        done.report_id
    );
    Ok(())
}

#[tokio::test]
async fn the_same_report_sent_twice_is_stored_once() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    let pc = Pc {
        hostname: "MAY-MOT-CUA-01",
        serial: Some("5CG4123XYZ"),
        mac: Some("3c:52:82:0a:1b:2c"),
        ip: "10.0.0.5",
        ..Pc::default()
    };
    let body = report::encode(&report::build(
        AgentId::generate(),
        fixtures::inventory(&pc),
    ))?;

    // Act
    let (first_status, first) = server.post_raw(body.clone(), GZIP_JSON).await?;
    let (second_status, second) = server.post_raw(body, GZIP_JSON).await?;

    // Assert
    assert_eq!(first_status, 200, "{first}");
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(first["status"], serde_json::json!(AckStatus::Stored));
    assert_eq!(second["status"], serde_json::json!(AckStatus::Duplicate));
    assert_eq!(first["device_id"], second["device_id"]);
    assert_eq!(server.stored_reports().await?, 1);
    Ok(())
}
