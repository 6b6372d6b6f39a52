//! HTTPS with the server's own CA, on loopback: enrollment pinning the CA
//! by file or by fingerprint works and reports flow; another server's CA is
//! refused; the CA survives a restart (pins stay valid); and the agent
//! refuses plain HTTP to a server that is not this machine (before sending
//! anything: no traffic leaves the machine).

use std::process::Output;

use kiemke_tests::server::ServerProcess;

use crate::{agent, server_bin, text};

const TLS: &[&str] = &["--tls-self-signed"];

#[tokio::test]
async fn enrollment_pins_the_servers_own_ca_by_fingerprint_or_file() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start_with(server_bin(), &data, "127.0.0.1:0", TLS)?;
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let fingerprint = server.ca_fingerprint.clone().expect("fingerprint printed");
    let ca_file = data.join("tls").join("ca.pem");
    let token = server.harness_token().await?.to_string();
    let enroll = |name: &str, pin: [&str; 2]| {
        agent(
            &dir.path().join(name),
            &[
                "enroll",
                "--server",
                &server.url,
                "--token",
                &token,
                pin[0],
                pin[1],
            ],
        )
    };

    // Act
    let by_fingerprint = enroll("by-fp", ["--ca-fingerprint", &fingerprint])?;
    let by_file = enroll("by-file", ["--ca", &ca_file.to_string_lossy()])?;
    let reports: Vec<Output> = ["by-fp", "by-file"]
        .iter()
        .map(|n| agent(&dir.path().join(n), &["report"]))
        .collect::<Result<_, _>>()?;

    // Assert
    for output in [&by_fingerprint, &by_file] {
        assert!(output.status.success(), "{}", text(output));
    }
    assert!(text(&by_fingerprint).contains("CA ghim SHA-256"));
    for output in &reports {
        assert!(output.status.success(), "{}", text(output));
    }
    assert_eq!(server.stored_reports().await?, 2);
    Ok(())
}

#[tokio::test]
async fn another_servers_ca_is_refused_and_nothing_is_sent() -> anyhow::Result<()> {
    // Arrange: two servers, each with its own CA.
    let dir = tempfile::tempdir()?;
    let real =
        ServerProcess::start_with(server_bin(), &dir.path().join("real"), "127.0.0.1:0", TLS)?;
    let other_data = dir.path().join("other");
    let other = ServerProcess::start_with(server_bin(), &other_data, "127.0.0.1:0", TLS)?;
    let wrong_fp = other.ca_fingerprint.clone().expect("fingerprint");
    let wrong_file = other_data.join("tls").join("ca.pem");
    let token = real.harness_token().await?.to_string();
    let enroll = |name: &str, pin: [&str; 2]| {
        agent(
            &dir.path().join(name),
            &[
                "enroll", "--server", &real.url, "--token", &token, pin[0], pin[1],
            ],
        )
    };

    // Act
    let by_fingerprint = enroll("fp", ["--ca-fingerprint", &wrong_fp])?;
    let by_file = enroll("file", ["--ca", &wrong_file.to_string_lossy()])?;
    let unpinned = agent(
        &dir.path().join("none"),
        &["enroll", "--server", &real.url, "--token", &token],
    )?;

    // Assert: refused, told why, and the token was never presented.
    for output in [&by_fingerprint, &by_file, &unpinned] {
        assert!(!output.status.success(), "{}", text(output));
        assert!(
            text(output).contains("chứng chỉ của máy chủ không được tin cậy"),
            "{}",
            text(output)
        );
    }
    let (_, tokens) = real.admin("/tokens", None).await?;
    assert_eq!(tokens["tokens"][0]["uses"], 0);
    Ok(())
}

#[tokio::test]
async fn the_own_ca_is_kept_across_restarts() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let first = ServerProcess::start_with(server_bin(), dir.path(), "127.0.0.1:0", TLS)?;
    let fingerprint = first.ca_fingerprint.clone();
    first.kill9()?;

    let second = ServerProcess::start_with(server_bin(), dir.path(), "127.0.0.1:0", TLS)?;

    assert!(fingerprint.is_some());
    assert_eq!(second.ca_fingerprint, fingerprint);
    Ok(())
}

#[test]
fn plain_http_to_a_server_off_this_machine_is_refused() -> anyhow::Result<()> {
    // 198.51.100.0/24 is TEST-NET-2: nothing is there, and nothing is sent.
    let dir = tempfile::tempdir()?;
    let token = format!("kkt_0123456789ab_{}", "ab".repeat(32));

    let enroll = agent(
        dir.path(),
        &[
            "enroll",
            "--server",
            "http://198.51.100.7:8080",
            "--token",
            &token,
        ],
    )?;
    let report = agent(
        dir.path(),
        &["report", "--server", "http://198.51.100.7:8080"],
    )?;

    for output in [&enroll, &report] {
        assert!(!output.status.success(), "{}", text(output));
        assert!(
            text(output).contains("Từ chối gửi qua http:// không mã hóa"),
            "{}",
            text(output)
        );
    }
    Ok(())
}
