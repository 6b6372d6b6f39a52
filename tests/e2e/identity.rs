//! Device identity across agent reinstalls, renames and IP changes; and no
//! merging of different PCs that lack serials.

use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::ServerProcess;

use crate::server_bin;

#[tokio::test]
async fn a_reinstalled_agent_on_a_renamed_pc_updates_the_same_device() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let before = Pc {
        hostname: "PC-TIEP-NHAN-01",
        uuid: Some("4c4c4544-0042-3510-8057-b4c04f4e4a32"),
        serial: Some("B5WNJ2"),
        mac: Some("f8:bc:12:3a:4b:5c"),
        ip: "192.168.1.21",
    };
    let after = Pc {
        hostname: "TTPVHCC-MAY-02",
        ip: "192.168.1.57",
        ..before.clone()
    };
    let first_install = server.install_agent(&dir.path().join("agent-1")).await?;
    first_install.queue(fixtures::inventory(&before)).await?;
    first_install.deliver(&server.url).await?;

    // Act: the agent is reinstalled (new data directory, new agent id).
    let reinstall = server.install_agent(&dir.path().join("agent-2")).await?;
    assert_ne!(reinstall.agent_id, first_install.agent_id);
    reinstall.queue(fixtures::inventory(&after)).await?;
    let summary = reinstall.deliver(&server.url).await?;

    // Assert
    assert_eq!(summary.delivered, 1);
    let list = server.devices().await?;
    assert_eq!(list.total, 1, "{list:?}");
    let device = &list.devices[0];
    assert_eq!(device.report_count, 2);
    assert_eq!(
        device.hostname.as_deref(),
        Some("TTPVHCC-MAY-02"),
        "latest name shown"
    );
    assert!(device.agent_ids.contains(&first_install.agent_id));
    assert!(device.agent_ids.contains(&reinstall.agent_id));
    Ok(())
}

#[tokio::test]
async fn pcs_without_serials_and_with_different_macs_stay_apart() -> anyhow::Result<()> {
    // Arrange: same host name, same placeholder serial, no UUID: only the MACs
    // tell them apart (host names are never an identity).
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let first = Pc {
        hostname: "DESKTOP-MOTCUA",
        serial: Some("To Be Filled By O.E.M."),
        mac: Some("00:e0:4c:68:01:01"),
        ip: "192.168.1.30",
        ..Pc::default()
    };
    let second = Pc {
        mac: Some("00:e0:4c:68:02:02"),
        ip: "192.168.1.31",
        ..first.clone()
    };

    // Act
    for (n, pc) in [first, second].iter().enumerate() {
        let agent = server
            .install_agent(&dir.path().join(format!("agent-{n}")))
            .await?;
        agent.queue(fixtures::inventory(pc)).await?;
        assert_eq!(agent.deliver(&server.url).await?.delivered, 1);
    }

    // Assert
    let list = server.devices().await?;
    assert_eq!(list.total, 2, "{list:?}");
    assert!(list.devices.iter().all(|d| d.report_count == 1));
    Ok(())
}
