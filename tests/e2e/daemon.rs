//! `kiemke-agent run`, the daemon, as a process: it inventories on start,
//! keeps its reports while the server is down, retries with backoff, and
//! reports again every interval.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chrono::Utc;
use kiemke_tests::server::ServerProcess;

use crate::{agent_bin, server_bin};

#[tokio::test]
async fn the_daemon_spools_through_an_outage_then_reports_on_its_interval() -> anyhow::Result<()> {
    // Arrange: a server that is known to the agent, then down.
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start(server_bin(), &data)?;
    let agent_data = dir.path().join("agent");
    server.enroll_dir(&agent_data).await?;
    let url = server.url.clone();
    let listen = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    server.kill9()?;
    std::fs::write(
        agent_data.join("kiemke-agent.toml"),
        "lan-discovery = false\ninterval = \"1s\"\nstartup-delay-max = \"0s\"\nretry-initial = \"200ms\"\nretry-max = \"400ms\"\n",
    )?;

    // Act: the daemon starts while the server is down...
    let mut daemon = Command::new(agent_bin())
        .args(["run", "--lang", "en", "--server", &url, "--data"])
        .arg(&agent_data)
        .env("KIEMKE_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let stderr = daemon.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("will retry") {
                let _ = tx.send(());
            }
        }
    });
    // ...fails to deliver its first report (a log line says so)...
    let failed_once = rx.recv_timeout(Duration::from_secs(20)).is_ok();
    // ...and the server comes back on the same address.
    let restarted_at = Utc::now();
    let server = ServerProcess::start_on(server_bin(), &data, &listen)?;
    let list = server
        .wait_for(Duration::from_secs(30), |l| {
            l.devices.first().is_some_and(|d| d.report_count >= 3)
        })
        .await;
    let _ = daemon.kill();
    let _ = daemon.wait();

    // Assert
    assert!(
        failed_once,
        "the daemon reported a failed delivery while the server was down"
    );
    let list = list?;
    assert_eq!(list.total, 1, "one PC, one device");
    let detail = server.device(list.devices[0].id).await?;
    assert!(
        detail.reports.iter().any(|r| r.taken_at < restarted_at),
        "a report taken during the outage was delivered after it"
    );
    let mut ids: Vec<_> = detail.reports.iter().map(|r| r.report_id).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "no report stored twice");
    Ok(())
}
