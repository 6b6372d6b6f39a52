//! The agent as a user runs it: `inventory --json` (as root and as an
//! unprivileged user), `report` through a server outage, and the agent's
//! and the server's commands piped into a reader that quit.

use std::process::{Command, Output};

use kiemke_shared::inventory::STABLE_KEYS;
use kiemke_tests::server::ServerProcess;

use crate::{agent_bin, server_bin};

fn check_inventory_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    for key in STABLE_KEYS {
        assert!(json.pointer(key).is_some(), "missing stable key {key}");
    }
    for disk in json["disks"].as_array().expect("disks is an array") {
        assert!(
            ["ssd", "hdd", "unknown"].contains(&disk["kind"].as_str().unwrap_or("")),
            "{disk}"
        );
    }
    for nic in json["nics"].as_array().expect("nics is an array") {
        assert!(nic.get("link_mbps").is_some(), "{nic}");
    }
    assert!(json["cpu"]["cores_logical"].as_u64().unwrap_or(0) >= 1);
    assert!(json["memory"]["total_bytes"].as_u64().unwrap_or(0) > 0);
    json
}

#[test]
fn inventory_json_has_every_stable_key() {
    let output = Command::new(agent_bin())
        .args(["inventory", "--json"])
        .output()
        .expect("run agent");
    let json = check_inventory_json(&output);
    assert!(json["hostname"].is_string());
    assert!(
        !json["nics"].as_array().expect("array").is_empty(),
        "at least loopback"
    );
}

#[test]
fn inventory_json_runs_unprivileged_needs_root() {
    if std::fs::read_to_string("/proc/self/status")
        .map(|s| !s.contains("\nUid:\t0\t"))
        .unwrap_or(true)
    {
        eprintln!("skipped: needs root to switch to an unprivileged user (CI runs as root)");
        return;
    }
    let output = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(agent_bin())
        .args(["inventory", "--json"])
        .output()
        .expect("run agent as nobody");
    let json = check_inventory_json(&output);
    // Root-only DMI fields are absent, not errors, and say why.
    assert!(json["system"]["serial"].is_null());
    let summary = Command::new("runuser")
        .args(["-u", "nobody", "--"])
        .arg(agent_bin())
        .arg("inventory")
        .output()
        .expect("run agent as nobody");
    assert!(summary.status.success());
    assert!(String::from_utf8_lossy(&summary.stdout).contains("Bộ xử lý"));
}

#[tokio::test]
async fn report_command_queues_during_an_outage_and_delivers_later() -> anyhow::Result<()> {
    // Arrange: an enrolled agent, and an address where nothing listens.
    let dir = tempfile::tempdir()?;
    let agent_data = dir.path().join("agent");
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;
    let token = server.harness_token().await?.to_string();
    let enrolled = Command::new(agent_bin())
        .args([
            "enroll",
            "--server",
            &server.url,
            "--token",
            &token,
            "--data",
        ])
        .arg(&agent_data)
        .output()?;
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    let report = |url: &str| {
        Command::new(agent_bin())
            .args(["report", "--server", url, "--data"])
            .arg(&agent_data)
            .output()
    };

    // Act
    let offline = report(&format!("http://{closed}"))?;
    let online = report(&server.url)?;

    // Assert
    assert!(!offline.status.success());
    let offline_err = String::from_utf8_lossy(&offline.stderr);
    assert!(offline_err.contains("hàng đợi"), "{offline_err}");
    assert!(
        online.status.success(),
        "{}",
        String::from_utf8_lossy(&online.stderr)
    );
    assert!(String::from_utf8_lossy(&online.stdout).contains("Đã gửi 2 báo cáo"));
    let list = server.devices().await?;
    assert_eq!(list.total, 1);
    assert_eq!(list.devices[0].report_count, 2);
    Ok(())
}

#[tokio::test]
async fn quickstart_serves_this_machines_inventory() -> anyhow::Result<()> {
    // Arrange
    let dir = tempfile::tempdir()?;
    let mut child = Command::new(server_bin())
        .args(["quickstart", "--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().expect("piped stdout");

    // Act: read until it prints where this PC is shown.
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok);
        let head = lines
            .by_ref()
            .take_while(|l| !l.starts_with("Danh sách thiết bị"))
            .collect::<Vec<_>>();
        // Keep draining: a closed pipe would fail the server's next line.
        std::thread::spawn(move || lines.for_each(drop));
        head
    })
    .await?;
    let device_url = lines
        .iter()
        .find_map(|l| l.strip_prefix("Thông tin máy này: "))
        .map(str::to_owned);
    // The pages need a log-in: the first start printed admin's password,
    // which must be replaced at the first log-in.
    let password = lines
        .iter()
        .find_map(|l| kiemke_tests::web::first_admin_password(l))
        .unwrap_or_else(|| panic!("no first admin password in {lines:?}"));
    let page = match &device_url {
        Some(url) => {
            let base = &url[..url.find("/devices/").expect("a device URL")];
            let web = kiemke_tests::web::WebSession::new(base)?;
            web.login_first_time("admin", &password, "mat-khau-moi-cua-tinh")
                .await?;
            web.get(&url[base.len()..]).await?.2
        }
        None => String::new(),
    };
    let _ = child.kill();
    let _ = child.wait();

    // Assert
    let device_url = device_url.unwrap_or_else(|| panic!("no device URL in {lines:?}"));
    assert!(device_url.starts_with("http://127.0.0.1:"), "{device_url}");
    let hostname = kiemke_agent::collect::collect_inventory()
        .hostname
        .expect("hostname");
    assert!(
        page.contains(&hostname),
        "the device page shows this PC's name"
    );
    assert!(
        dir.path().join("agent").exists(),
        "agent state stays in the data directory"
    );
    Ok(())
}

/// Runs `program args` with its stdout a pipe whose reader is already
/// gone (`... | head -1` after `head` has quit): every write gets EPIPE.
#[cfg(unix)]
fn into_a_closed_pipe(program: &std::path::Path, args: &[&str]) -> Output {
    // A connected socket pair behaves as a pipe here: once its other end
    // is closed, a write gets EPIPE (and SIGPIPE).
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().expect("socket pair");
    drop(ours);
    Command::new(program)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::os::fd::OwnedFd::from(theirs))
        .output()
        .expect("run")
}

#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_the_agent_and_the_server_quietly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().into_owned();
    let runs = [
        (agent_bin(), vec!["status", "--data", data.as_str()]),
        (agent_bin(), vec!["inventory", "--json"]),
        (server_bin(), vec!["policy", "check"]),
    ];
    for (program, args) in runs {
        let output = into_a_closed_pipe(program, &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
        // Ended by SIGPIPE at its first write, as any Unix tool (or done
        // with nothing left to write): never a failure of its own.
        use std::os::unix::process::ExitStatusExt;
        assert!(
            output.status.signal() == Some(13) || output.status.success(),
            "{args:?}: {:?} {stderr}",
            output.status
        );
    }
}
