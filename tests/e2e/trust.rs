//! Trust, end to end with the real binaries: reports need an enrolled
//! agent's credential, an agent cannot write as another, tokens expire, run
//! out and can be revoked, and a revoked agent is told so in its log while
//! its reports stay queued. The province's commands (`token create`) work on
//! a stopped server's store.

use std::process::Command;
use std::time::Duration;

use kiemke_agent::report;
use kiemke_shared::AgentId;
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::{COMMUNE, ServerProcess};
use serde_json::json;

use crate::{agent, server_bin, text};

const JSON: (&str, &str) = ("content-type", "application/json");

fn pc() -> Pc {
    Pc {
        hostname: "MOTCUA-PC03",
        serial: Some("CZC1234XYZ"),
        mac: Some("3c:52:82:44:55:66"),
        ip: "192.168.1.33",
        ..Pc::default()
    }
}

fn report_body(agent: AgentId) -> Vec<u8> {
    serde_json::to_vec(&report::build(agent, fixtures::inventory(&pc()))).expect("serialise")
}

#[tokio::test]
async fn an_unauthenticated_report_is_401_and_nothing_is_stored() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;

    // Act
    let (status, body) = server
        .post_with(report_body(AgentId::generate()), &[JSON])
        .await?;

    // Assert
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("chưa đăng ký")
    );
    assert_eq!(server.stored_reports().await?, 0);
    Ok(())
}

#[tokio::test]
async fn agent_a_cannot_send_as_agent_b() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    let (a, b) = (AgentId::generate(), AgentId::generate());
    let a_auth = server.credential(a).await?;
    server.credential(b).await?;

    // Act
    let (status, body) = server
        .post_with(report_body(b), &[JSON, ("authorization", &a_auth)])
        .await?;

    // Assert
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    assert_eq!(server.stored_reports().await?, 0);
    Ok(())
}

#[tokio::test]
async fn expired_used_up_and_revoked_tokens_are_refused_with_the_reason() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let once = server
        .create_token(json!({"commune": COMMUNE, "uses": 1}))
        .await?
        .to_string();
    let short = server
        .create_token(json!({"commune": COMMUNE, "expires": "1s"}))
        .await?
        .to_string();
    let revoked = server.create_token(json!({"commune": COMMUNE})).await?;
    let (status, _) = server
        .admin(&format!("/tokens/{}/revoke", revoked.id), Some(json!({})))
        .await?;
    assert_eq!(status, 200);
    let enroll = |n: &str, token: &str| {
        agent(
            &dir.path().join(n),
            &["enroll", "--server", &server.url, "--token", token],
        )
    };

    // Act
    let first = enroll("a1", &once)?;
    let second = enroll("a2", &once)?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = enroll("a3", &short)?;
    let revoked = enroll("a4", &revoked.to_string())?;

    // Assert
    assert!(first.status.success(), "{}", text(&first));
    for (output, reason) in [
        (&second, "đã được dùng đủ 1 lần"),
        (&expired, "đã hết hạn"),
        (&revoked, "đã bị thu hồi"),
    ] {
        assert!(!output.status.success(), "{}", text(output));
        assert!(
            text(output).contains(reason),
            "{reason:?} in {}",
            text(output)
        );
    }
    let (_, agents) = server.admin("/agents", None).await?;
    assert_eq!(agents["agents"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn a_revoked_agent_keeps_its_reports_and_says_so_in_its_log() -> anyhow::Result<()> {
    // Arrange: an agent enrolled with the real command, one report delivered.
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let data = dir.path().join("agent");
    let token = server.harness_token().await?.to_string();
    let enrolled = agent(
        &data,
        &["enroll", "--server", &server.url, "--token", &token],
    )?;
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    let delivered = agent(&data, &["report"])?;
    assert!(delivered.status.success(), "{}", text(&delivered));
    let agent_id = std::fs::read_to_string(data.join("agent-id"))?;

    // Act: the province revokes it; the agent reports again.
    let (status, _) = server
        .admin(
            &format!("/agents/{}/revoke", agent_id.trim()),
            Some(json!({})),
        )
        .await?;
    let refused = agent(&data, &["report"])?;
    let status_after = agent(&data, &["status"])?;

    // Assert
    assert_eq!(status, 200);
    assert!(!refused.status.success());
    let log = text(&refused);
    assert!(log.contains("đã bị thu hồi"), "{log}");
    assert!(log.contains("thu hồi hoặc chưa đăng ký"), "{log}");
    assert!(
        text(&status_after).contains("Hàng đợi: 1 báo cáo chờ gửi"),
        "{}",
        text(&status_after)
    );
    assert_eq!(server.stored_reports().await?, 1);
    Ok(())
}

#[tokio::test]
async fn an_agent_that_never_enrolled_queues_and_says_how_to_enroll() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let data = dir.path().join("agent");

    let output = agent(&data, &["report", "--server", &server.url])?;

    assert!(!output.status.success());
    assert!(
        text(&output).contains("kiemke-agent enroll"),
        "{}",
        text(&output)
    );
    assert!(text(&output).contains("hàng đợi"), "{}", text(&output));
    assert_eq!(server.stored_reports().await?, 0);
    Ok(())
}

#[tokio::test]
async fn a_token_created_on_the_stopped_server_enrolls_after_it_starts() -> anyhow::Result<()> {
    // Arrange: the province's command on the store, before the server runs.
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let created = Command::new(server_bin())
        .args([
            "token",
            "create",
            "--commune",
            COMMUNE,
            "--uses",
            "2",
            "--data",
        ])
        .arg(&data)
        .output()?;
    assert!(created.status.success(), "{}", text(&created));
    let token = String::from_utf8_lossy(&created.stdout)
        .lines()
        .find(|l| l.starts_with("kkt_"))
        .map(str::to_owned)
        .expect("the token is printed on its own line");
    let server = ServerProcess::start(server_bin(), &data)?;
    let locked = Command::new(server_bin())
        .args(["token", "list", "--data"])
        .arg(&data)
        .output()?;

    // Act
    let agent_data = dir.path().join("agent");
    let enrolled = agent(
        &agent_data,
        &["enroll", "--server", &server.url, "--token", &token],
    )?;
    let reported = agent(&agent_data, &["report"])?;

    // Assert
    assert!(!locked.status.success());
    assert!(
        text(&locked).contains("đang chạy"),
        "the running server's lock is explained: {}",
        text(&locked)
    );
    assert!(enrolled.status.success(), "{}", text(&enrolled));
    assert!(text(&enrolled).contains(&format!("Xã: {COMMUNE}")));
    assert!(reported.status.success(), "{}", text(&reported));
    assert_eq!(server.stored_reports().await?, 1);
    Ok(())
}
