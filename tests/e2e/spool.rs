//! Delivery through outages: reports wait in the agent's spool while the
//! server is down and arrive exactly once when it is back; an acknowledged
//! report survives `kill -9` of the server.

use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::ServerProcess;

use crate::server_bin;

fn pc() -> Pc {
    Pc {
        hostname: "PC-KE-TOAN",
        serial: Some("PF2ABCDE"),
        mac: Some("3c:52:82:11:22:33"),
        ip: "192.168.10.4",
        ..Pc::default()
    }
}

#[tokio::test]
async fn reports_spooled_while_the_server_is_down_arrive_exactly_once() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start(server_bin(), &data)?;
    let agent = server.install_agent(&dir.path().join("agent")).await?;
    let r1 = agent.queue(fixtures::inventory(&pc())).await?;
    assert_eq!(agent.deliver(&server.url).await?.delivered, 1);
    let down_url = server.url.clone();

    // Act: the server dies; the agent keeps taking inventories.
    server.kill9()?;
    let r2 = agent.queue(fixtures::inventory(&pc())).await?;
    let r3 = agent.queue(fixtures::inventory(&pc())).await?;
    let failed = agent.deliver(&down_url).await?;
    assert_eq!(failed.delivered, 0);
    assert_eq!(failed.remaining, 2);
    assert!(failed.last_error.is_some());
    // One report reached the server but its acknowledgement was lost: it is
    // both stored and still queued.
    let server = ServerProcess::start(server_bin(), &data)?;
    let r4 = agent.queue(fixtures::inventory(&pc())).await?;
    let body = kiemke_agent::report::encode(&r4)?;
    let auth = agent.authorization()?;
    let (status, _) = server
        .post_with(
            body,
            &[
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
                ("authorization", &auth),
            ],
        )
        .await?;
    assert_eq!(status, 200);
    let resumed = agent.deliver(&server.url).await?;

    // Assert
    assert_eq!(resumed.delivered, 3, "{resumed:?}");
    assert_eq!(agent.queued()?, 0);
    let list = server.devices().await?;
    assert_eq!(list.total, 1);
    let detail = server.device(list.devices[0].id).await?;
    let mut stored: Vec<_> = detail.reports.iter().map(|r| r.report_id).collect();
    stored.sort();
    let mut sent = vec![r1.report_id, r2.report_id, r3.report_id, r4.report_id];
    sent.sort();
    assert_eq!(stored, sent, "every report exactly once");
    println!(
        "spooled through an outage: sent 4, stored {}, duplicates 0",
        stored.len()
    );
    Ok(())
}

#[tokio::test]
async fn acknowledged_reports_survive_kill_9_of_the_server() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start(server_bin(), &data)?;
    let agent = server.install_agent(&dir.path().join("agent")).await?;
    let mut acknowledged = Vec::new();

    // Act: each report is sent alone and acknowledged; kill -9 right after
    // the last acknowledgement, before anything else could flush.
    for _ in 0..25 {
        let report = agent.queue(fixtures::inventory(&pc())).await?;
        let summary = agent.deliver(&server.url).await?;
        assert_eq!(summary.delivered, 1, "{summary:?}");
        acknowledged.push(report.report_id);
    }
    server.kill9()?;
    let server = ServerProcess::start(server_bin(), &data)?;

    // Assert
    let list = server.devices().await?;
    let detail = server.device(list.devices[0].id).await?;
    let stored: std::collections::HashSet<_> = detail.reports.iter().map(|r| r.report_id).collect();
    let missing = acknowledged
        .iter()
        .filter(|id| !stored.contains(id))
        .count();
    println!(
        "acknowledged {}, stored after kill -9: {}, missing {missing}",
        acknowledged.len(),
        stored.len()
    );
    assert_eq!(missing, 0);
    assert_eq!(stored.len(), acknowledged.len());
    Ok(())
}
