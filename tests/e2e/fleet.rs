//! The fleet simulator (`kiemke-server bench fleet`) against a real server
//! process: its counts are the store's. Every report the server
//! acknowledged as stored is in the store exactly once, under the device
//! the acknowledgement named, and still there after a `kill -9` and a
//! restart; the floor endpoint's requests store nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use kiemke_server::bench::fleet::{self, FleetOptions, Target};
use kiemke_shared::{DeviceId, Lang};
use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};

use crate::server_bin;

async fn stored_per_device(server: &ServerProcess) -> anyhow::Result<BTreeMap<DeviceId, u64>> {
    let list = server.devices().await?;
    assert!(
        list.devices.len() as u64 == list.total,
        "one page holds all"
    );
    Ok((list.devices.iter())
        .map(|d| (d.id, d.report_count))
        .collect())
}

#[tokio::test]
async fn every_acknowledged_report_is_stored_exactly_once() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start(server_bin(), &data)?;
    let target = Target {
        url: server.url.clone(),
        admin_token: ADMIN_TOKEN.to_owned(),
        pid: None,
        data_dir: None,
    };
    let options = FleetOptions {
        agents: 20,
        communes: 2,
        duration: Duration::from_secs(3),
        report_interval: None,
        concurrency: 4,
        seed: 7,
        floor: true,
        lang: Lang::En,
    };

    // Act
    let outcome = fleet::run(&target, &options, |_, _| {}).await?;

    // Assert
    assert_eq!(outcome.enrolled, 20);
    assert!(
        outcome.ingest.errors.is_empty(),
        "{:?}",
        outcome.ingest.errors
    );
    assert_eq!(outcome.duplicates, 0);
    let acknowledged: u64 = outcome.stored.values().sum();
    assert_eq!(acknowledged, outcome.ingest.ok);
    assert!(
        acknowledged >= 20,
        "each agent reported at least once: {acknowledged}"
    );
    assert_eq!(outcome.stored.len(), 20, "one device per simulated PC");
    let floor = outcome.floor.as_ref().expect("floor measured");
    assert!(floor.ok > 0 && floor.errors.is_empty(), "{floor:?}");
    // The floor's requests (sent after the reports) added nothing.
    assert_eq!(stored_per_device(&server).await?, outcome.stored);
    let summary = fleet::summary(&outcome, &options, &target);
    assert!(
        summary.contains("Ingest as a share of the floor:"),
        "{summary}"
    );

    // Acknowledged means durable: the same counts after kill -9.
    server.kill9()?;
    let server = ServerProcess::start(server_bin(), &data)?;
    assert_eq!(stored_per_device(&server).await?, outcome.stored);
    Ok(())
}
