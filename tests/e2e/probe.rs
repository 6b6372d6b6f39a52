//! `kiemke-agent probe ping` and `probe speed` as a user (and the shaped-link
//! harness) runs them: their JSON contract, ICMP as root, ICMP datagram
//! sockets unprivileged, the labelled TCP fallback, and a throughput test
//! against the real server on loopback, including its per-client limit.

use std::process::{Command, Output};

use kiemke_tests::server::ServerProcess;

use crate::{agent_bin, server_bin};

const PING_KEYS: [&str; 9] = [
    "target",
    "sent",
    "received",
    "loss_pct",
    "rtt_ms",
    "jitter_ms",
    "method",
    "started_at",
    "address",
];

const SPEED_KEYS: [&str; 17] = [
    "download_mbps",
    "upload_mbps",
    "streams_down",
    "streams_up",
    "duration_s",
    "bytes_down",
    "bytes_up",
    "download_per_second_mbps",
    "upload_per_second_mbps",
    "latency_idle_ms",
    "latency_loaded_ms",
    "latency_method",
    "interface",
    "link_mbps",
    "server",
    "limited_by",
    "measured_bytes_down",
];

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.contains("\nUid:\t0\t"))
        .unwrap_or(false)
}

fn json_of(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "status {:?}, stderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON on stdout")
}

fn check_ping(json: &serde_json::Value, count: u64) {
    for key in PING_KEYS {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json["sent"], count);
    assert_eq!(json["received"], count, "loopback loses nothing: {json}");
    assert_eq!(json["loss_pct"], 0.0);
    let rtt = &json["rtt_ms"];
    let v = |k: &str| rtt[k].as_f64().expect("number");
    assert!(0.0 <= v("min") && v("min") <= v("median"), "{rtt}");
    assert!(v("median") <= v("p95") && v("p95") <= v("max"), "{rtt}");
    assert!(json["jitter_ms"].as_f64().expect("number") >= 0.0);
}

#[test]
fn ping_loopback_json_as_root_uses_icmp() {
    if !is_root() {
        eprintln!("skipped: needs root (CI runs as root)");
        return;
    }
    let output = Command::new(agent_bin())
        .args(["probe", "ping", "127.0.0.1", "--count", "10"])
        .args(["--interval-ms", "10", "--json"])
        .output()
        .expect("run agent");
    let json = json_of(&output);
    check_ping(&json, 10);
    assert_eq!(json["method"], "icmp");
    assert_eq!(json["target"], "127.0.0.1");
}

/// Runs the agent as `nobody` in a fresh network namespace (its own
/// loopback and its own `ping_group_range`, leaving the host's alone).
fn as_nobody_in_netns(allow_icmp: bool, agent_args: &str) -> Output {
    let sysctl = if allow_icmp {
        "sysctl -qw net.ipv4.ping_group_range='0 2147483647' && "
    } else {
        "sysctl -qw net.ipv4.ping_group_range='1 0' && "
    };
    let script = format!(
        "ip link set lo up && {sysctl}exec setpriv --reuid=65534 --regid=65534 --clear-groups {} {agent_args}",
        agent_bin().display()
    );
    Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .output()
        .expect("run unshare")
}

#[test]
fn ping_unprivileged_uses_an_icmp_datagram_socket_needs_root_for_netns() {
    if !is_root() {
        eprintln!("skipped: needs root to create a network namespace (CI runs as root)");
        return;
    }
    let output = as_nobody_in_netns(
        true,
        "probe ping 127.0.0.1 --count 5 --interval-ms 10 --json",
    );
    let json = json_of(&output);
    check_ping(&json, 5);
    // `nobody` cannot open raw sockets: ICMP here is the datagram socket.
    assert_eq!(json["method"], "icmp");
}

#[test]
fn ping_without_icmp_falls_back_to_tcp_connect_labelled_needs_root_for_netns() {
    if !is_root() {
        eprintln!("skipped: needs root to create a network namespace (CI runs as root)");
        return;
    }
    // Nothing listens on 443 in the fresh namespace: the kernel's RST is the
    // answer, a round trip all the same.
    let output = as_nobody_in_netns(
        false,
        "probe ping 127.0.0.1 --count 5 --interval-ms 10 --json",
    );
    let json = json_of(&output);
    check_ping(&json, 5);
    assert_eq!(json["method"], "tcp-connect");
    assert_eq!(json["port"], 443);

    let human = as_nobody_in_netns(false, "probe ping 127.0.0.1 --count 3 --interval-ms 10");
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("kết nối TCP cổng 443"), "{text}");
    assert!(text.contains("không phải ICMP"), "{text}");
}

#[test]
fn forced_tcp_fallback_to_a_loopback_listener() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let accept = std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            drop(stream);
        }
    });
    let output = Command::new(agent_bin())
        .args(["probe", "ping", "localhost", "--method", "tcp", "--port"])
        .arg(port.to_string())
        .args(["--count", "4", "--interval-ms", "10", "--json"])
        .output()
        .expect("run agent");
    let json = json_of(&output);
    check_ping(&json, 4);
    assert_eq!(json["method"], "tcp-connect");
    assert_eq!(json["port"], port);
    assert_eq!(json["target"], "localhost");
    accept.join().expect("listener thread");
}

#[test]
fn bad_ping_arguments_are_refused_in_vietnamese() {
    let output = Command::new(agent_bin())
        .args(["probe", "ping", "127.0.0.1", "--interval-ms", "1"])
        .output()
        .expect("run agent");
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("phải trong khoảng 10–60000"), "{err}");
}

fn speed(server: &ServerProcess, extra: &[&str]) -> Output {
    Command::new(agent_bin())
        .args(["probe", "speed", "--server", &server.url, "--duration", "4"])
        .args(extra)
        .output()
        .expect("run agent")
}

#[test]
fn speed_test_against_the_real_server_then_refused_past_its_hourly_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Loopback moves gigabytes a second: lift the byte cap, keep one test
    // per hour.
    let server = ServerProcess::start_with(
        server_bin(),
        dir.path(),
        "127.0.0.1:0",
        &[
            "--speedtest-max-bytes",
            "1000000000000",
            "--speedtest-tests-per-hour",
            "1",
        ],
    )
    .expect("server starts");

    let json = json_of(&speed(&server, &["--streams-up", "2", "--json"]));
    for key in SPEED_KEYS {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(json["api"], "kiemke");
    assert_eq!(
        (json["streams_down"].as_u64(), json["streams_up"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(json["duration_s"], 4.0);
    assert_eq!(json["interface"], "lo");
    let n = |k: &str| json[k].as_f64().unwrap_or(-1.0);
    for (total, measured, mbps, window) in [
        (
            "bytes_down",
            "measured_bytes_down",
            "download_mbps",
            "measured_down_s",
        ),
        (
            "bytes_up",
            "measured_bytes_up",
            "upload_mbps",
            "measured_up_s",
        ),
    ] {
        assert!(
            n(measured) > 0.0 && n(measured) < n(total),
            "{measured} {total}"
        );
        // The Mbps are exactly the window's bytes over its length.
        let computed = n(measured) * 8.0 / n(window) / 1e6;
        assert!(
            (computed - n(mbps)).abs() < 1e-6 * computed,
            "{mbps}: {computed}"
        );
        // 4 s less ≥ 2 s warm-up; an upload's window runs on to the
        // server's last answer (bytes still queued at the deadline).
        let most = if window == "measured_up_s" { 3.0 } else { 2.0 };
        assert!(
            n(window) >= 1.0 && n(window) <= most,
            "{window}: 4 s less ≥ 2 s warm-up"
        );
    }
    let p = &json["download_per_second_mbps"];
    assert!(p["p10"].as_f64() <= p["p50"].as_f64() && p["p50"].as_f64() <= p["p90"].as_f64());

    // The second test within the hour is refused, and the agent says why.
    let refused = speed(&server, &[]);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("Máy chủ đo từ chối"), "{err}");
    assert!(err.contains("trong một giờ qua"), "{err}");
}

#[tokio::test]
async fn speed_without_server_tests_the_enrolled_server_over_its_pinned_ca_as_that_agent()
-> anyhow::Result<()> {
    // Arrange: an HTTPS server with its own CA and one test per client per
    // hour; this machine's address has used its one test already.
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start_with(
        server_bin(),
        &dir.path().join("server"),
        "127.0.0.1:0",
        &[
            "--tls-self-signed",
            "--speedtest-max-bytes",
            "1000000000000",
            "--speedtest-tests-per-hour",
            "1",
        ],
    )?;
    let anonymous = || async {
        let response = server
            .http()
            .get(server.endpoint("/api/v1/speedtest/empty"))
            // A fresh test id (any UUID): a new test each time.
            .header(
                kiemke_shared::protocol::TEST_HEADER,
                kiemke_shared::AgentId::generate().to_string(),
            )
            .send()
            .await?;
        anyhow::Ok(response.status().as_u16())
    };
    assert_eq!(anonymous().await?, 200, "the address's one test");
    assert_eq!(anonymous().await?, 429, "the address has no test left");
    let installed = dir.path().join("agent");
    let enrolled = server.enroll_dir(&installed).await?;
    let data = installed.to_string_lossy().into_owned();
    let run = |data: &str| {
        Command::new(agent_bin())
            .args([
                "probe",
                "speed",
                "--data",
                data,
                "--duration",
                "4",
                "--json",
            ])
            .env_remove("KIEMKE_SERVER")
            .output()
    };

    // Act: no --server.
    let measured = run(&data)?;
    let again = run(&data)?;
    let not_enrolled = run(&dir.path().join("fresh").to_string_lossy())?;

    // Assert: it reached the enrolled server through the pinned CA (the
    // public CAs would refuse it) and was counted as its agent, not by
    // the address whose test was used.
    let json = json_of(&measured);
    assert_eq!(json["server"], enrolled.server.to_string());
    assert_eq!(json["api"], "kiemke");
    assert!(json["download_mbps"].as_f64() > Some(0.0), "{json}");
    assert!(json["upload_mbps"].as_f64() > Some(0.0), "{json}");
    // The agent's own quota is one test too.
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("trong một giờ qua"), "{err}");
    assert!(!not_enrolled.status.success());
    let err = String::from_utf8_lossy(&not_enrolled.stderr);
    assert!(err.contains("chưa đăng ký"), "{err}");
    assert!(err.contains("--server URL"), "{err}");
    Ok(())
}
