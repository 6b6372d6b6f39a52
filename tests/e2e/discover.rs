//! `kiemke-agent discover` against an office LAN of recorded devices served
//! by snmpsim in network namespaces (root only; CI runs as root and installs
//! snmpsim): it finds exactly the printers with their recorded model, serial,
//! page count and supplies, tells the MFP and the switch apart, and a silent
//! host and a slow host do not stall it past its time budget.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use kiemke_tests::lan::{Lan, SimHost, fixture};
use serde_json::Value;

fn host(net: u8, last: u8, name: &str) -> SimHost {
    SimHost {
        ip: Ipv4Addr::new(10, 77, net, last),
        snmprec: Some(fixture(name)),
        community: "public",
        extra_args: Vec::new(),
    }
}

/// The recorded office: four printers, a switch, a host that answers ping
/// but not our community, a host that answers SNMP only after 4 s, and one
/// that answers ping only.
fn office(net: u8) -> Vec<SimHost> {
    vec![
        host(net, 11, "hp-laserjet-m402dn"),
        host(net, 12, "canon-mf445dw"),
        host(net, 13, "brother-hl-l2360dn"),
        host(net, 14, "kyocera-ecosys-p2040dn"),
        host(net, 15, "tplink-switch"),
        SimHost {
            community: "private",
            ..host(net, 16, "hp-laserjet-m402dn")
        },
        host(net, 17, "slow-printer"),
        SimHost {
            ip: Ipv4Addr::new(10, 77, net, 18),
            snmprec: None,
            community: "public",
            extra_args: Vec::new(),
        },
    ]
}

fn discover_json(lan: &Lan, net: u8, budget: &str) -> (Value, Duration) {
    let start = Instant::now();
    let out = lan
        .exec(crate::agent_bin())
        .args([
            "discover",
            "--json",
            "--ping-rate",
            "500",
            "--budget",
            budget,
        ])
        .arg("--subnet")
        .arg(format!("10.77.{net}.0/27"))
        .output()
        .expect("run discover");
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "discover failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("discover --json");
    (json, elapsed)
}

fn by_ip<'a>(json: &'a Value, ip: &str) -> Option<&'a Value> {
    json["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["ip"] == ip)
}

fn supplies(d: &Value) -> Vec<(String, Value, String)> {
    d["supplies"]
        .as_array()
        .expect("supplies")
        .iter()
        .map(|s| {
            (
                s["description"].as_str().unwrap_or_default().to_owned(),
                s["level_pct"].clone(),
                s["state"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn discover_finds_exactly_the_recorded_printers_in_netns_needs_root() {
    if !Lan::available() {
        eprintln!("skipped: needs root, ip and snmpsimd (CI has them)");
        return;
    }
    let net = 31;
    let lan = Lan::start(net, &office(net)).expect("lan");
    let (json, elapsed) = discover_json(&lan, net, "30s");
    assert!(elapsed < Duration::from_secs(32), "took {elapsed:?}");

    let printers: Vec<&str> = json["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter(|d| d["kind"] == "printer" || d["kind"] == "mfp")
        .filter_map(|d| d["ip"].as_str())
        .collect();
    assert_eq!(
        printers,
        ["10.77.31.11", "10.77.31.12", "10.77.31.13", "10.77.31.14"],
        "{json:#}"
    );

    // (ip, kind, vendor, model, serial, pages, counter)
    let expected = [
        (
            "10.77.31.11",
            "printer",
            "HP",
            "HP LaserJet Pro M402dn",
            "PHBCK12345",
            48213,
            "printer-mib",
        ),
        (
            "10.77.31.12",
            "mfp",
            "Canon",
            "Canon MF445dw",
            "2NB04567",
            21904,
            "printer-mib",
        ),
        (
            "10.77.31.13",
            "printer",
            "Brother",
            "Brother HL-L2360D series",
            "E74193F7N654321",
            15377,
            "printer-mib",
        ),
        (
            "10.77.31.14",
            "printer",
            "Kyocera",
            "ECOSYS P2040dn",
            "VCF9Z01234",
            31877,
            "vendor",
        ),
    ];
    for (ip, kind, vendor, model, serial, pages, counter) in expected {
        let d = by_ip(&json, ip).unwrap_or_else(|| panic!("{ip} missing"));
        assert_eq!(d["kind"], kind, "{ip}");
        assert_eq!(d["source"], "snmp", "{ip}");
        assert_eq!(d["vendor"], vendor, "{ip}");
        assert_eq!(d["model"], model, "{ip}");
        assert_eq!(d["serial"], serial, "{ip}");
        assert_eq!(d["page_count"]["total"], pages, "{ip}");
        assert_eq!(d["page_count"]["counter"], counter, "{ip}");
    }
    let hp = by_ip(&json, "10.77.31.11").expect("hp");
    assert_eq!(hp["mac"], "9c:8e:99:c1:a2:b3");
    assert_eq!(hp["sys_object_id"], "1.3.6.1.4.1.11.2.3.9.1");
    assert_eq!(
        supplies(hp),
        [("Black Cartridge HP CF226A".into(), 37.into(), "ok".into())]
    );
    assert_eq!(
        supplies(by_ip(&json, "10.77.31.12").expect("canon")),
        [
            (
                "Canon Cartridge 057 Black Toner".into(),
                64.into(),
                "ok".into()
            ),
            ("Waste Toner".into(), Value::Null, "some-remaining".into()),
        ]
    );
    assert_eq!(
        supplies(by_ip(&json, "10.77.31.13").expect("brother")),
        [
            (
                "Toner Cartridge TN-2385".into(),
                Value::Null,
                "some-remaining".into()
            ),
            ("Drum Unit DR-2385".into(), 70.into(), "ok".into()),
        ]
    );
    assert_eq!(
        supplies(by_ip(&json, "10.77.31.14").expect("kyocera")),
        [
            ("TK-1160".into(), 8.into(), "low".into()),
            ("Waste Toner Box".into(), Value::Null, "unknown".into()),
        ]
    );

    let switch = by_ip(&json, "10.77.31.15").expect("switch");
    assert_eq!(switch["kind"], "network-gear");
    assert!(switch["page_count"].is_null());
    assert!(
        by_ip(&json, "10.77.31.16").is_none(),
        "wrong community answers nothing"
    );
    assert!(by_ip(&json, "10.77.31.18").is_none(), "ping-only host");
    assert!(json["hosts_alive"].as_u64().expect("alive") >= 8);
}

#[test]
fn silent_and_slow_hosts_do_not_stall_the_sweep_past_its_budget_in_netns_needs_root() {
    if !Lan::available() {
        eprintln!("skipped: needs root, ip and snmpsimd (CI has them)");
        return;
    }
    let net = 32;
    let lan = Lan::start(net, &office(net)).expect("lan");
    // Ping of dead addresses alone takes ~2 s; the silent host needs 6 s to
    // be given up and the slow one longer: a 4 s budget cuts them off.
    let (json, elapsed) = discover_json(&lan, net, "4s");
    assert!(elapsed < Duration::from_secs(6), "took {elapsed:?}");
    for last in 11..=14 {
        let ip = format!("10.77.{net}.{last}");
        assert!(by_ip(&json, &ip).is_some(), "{ip} missing: {json:#}");
    }
    assert!(
        json["hosts_unfinished"].as_u64().expect("unfinished") >= 1,
        "{json:#}"
    );
}

/// `curl` inside the agent's namespace (the server runs there, out of reach
/// of this process's own HTTP client): the JSON answer.
fn curl_json(lan: &Lan, args: &[&str]) -> Value {
    let out = lan
        .exec(std::path::Path::new("curl"))
        .args(["-sS", "--fail-with-body", "-H"])
        .arg(format!(
            "Authorization: Bearer {}",
            kiemke_tests::server::ADMIN_TOKEN
        ))
        .args(args)
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "curl {args:?}: {} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json answer")
}

/// The daemon's scheduled discovery (first run at once here) sweeps the
/// office, and the report it triggers brings the printers to the server:
/// the server, the daemon and the snmpsim devices share the namespaces.
#[test]
fn the_daemon_discovers_on_schedule_and_reports_the_printers_in_netns_needs_root() {
    if !Lan::available() {
        eprintln!("skipped: needs root, ip and snmpsimd (CI has them, and curl)");
        return;
    }
    let net = 33;
    let lan = Lan::start(
        net,
        &[
            host(net, 11, "hp-laserjet-m402dn"),
            host(net, 12, "canon-mf445dw"),
            host(net, 15, "tplink-switch"),
        ],
    )
    .expect("lan");
    let dir = tempfile::tempdir().expect("tempdir");
    let server = kiemke_tests::server::ServerProcess::start_command(
        lan.exec(crate::server_bin()),
        &dir.path().join("server"),
        "127.0.0.1:0",
    )
    .expect("server in the agent's namespace");
    let url = server.url.trim_end_matches('/').to_owned();
    let token = curl_json(
        &lan,
        &[
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"commune":"24118","uses":1,"expires":"1d"}"#,
            &format!("{url}/api/v1/admin/tokens"),
        ],
    );
    let agent_data = dir.path().join("agent");
    let enrolled = lan
        .exec(crate::agent_bin())
        .args(["--lang", "en", "--data"])
        .arg(&agent_data)
        .args(["enroll", "--server", &url, "--token"])
        .arg(token["token"].as_str().expect("token"))
        .output()
        .expect("enroll");
    assert!(
        enrolled.status.success(),
        "{}",
        String::from_utf8_lossy(&enrolled.stderr)
    );
    std::fs::write(
        agent_data.join("kiemke-agent.toml"),
        format!(
            "probes = false\nstartup-delay-max = \"0s\"\ninterval = \"1h\"\n\
             lan-discovery-subnets = [\"10.77.{net}.0/28\"]\nlan-discovery-delay-max = \"0s\"\n\
             lan-discovery-ping-rate = 200\nlan-discovery-budget = \"20s\"\n"
        ),
    )
    .expect("config");

    let mut daemon = lan
        .exec(crate::agent_bin())
        .args(["--lang", "en", "--data"])
        .arg(&agent_data)
        .args(["run", "--server", &url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("daemon");
    // The daemon reports at start (nothing discovered yet), then again when
    // the sweep finishes: wait for that report's devices, with a deadline.
    let list_url = format!("{url}/api/v1/peripherals?commune=24118");
    let deadline = Instant::now() + Duration::from_secs(60);
    let list = loop {
        let list = curl_json(&lan, &[&list_url]);
        let ips: Vec<&str> = list
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|p| p["ip"].as_str())
            .collect();
        if ["10.77.33.11", "10.77.33.12"]
            .iter()
            .all(|ip| ips.contains(ip))
        {
            break list;
        }
        assert!(Instant::now() < deadline, "no discovered devices: {list:#}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = daemon.kill();
    let _ = daemon.wait();

    let by = |ip: &str| {
        list.as_array()
            .expect("array")
            .iter()
            .find(|p| p["ip"] == ip)
            .unwrap_or_else(|| panic!("{ip} missing"))
            .clone()
    };
    let hp = by("10.77.33.11");
    assert_eq!(hp["kind"], "printer");
    assert_eq!(hp["serial"], "PHBCK12345");
    assert_eq!(hp["page_count"]["total"], 48213);
    assert!(
        hp["sources"]
            .as_array()
            .expect("sources")
            .contains(&"snmp".into())
    );
    let canon = by("10.77.33.12");
    assert_eq!(canon["kind"], "mfp");
    assert_eq!(canon["model"], "Canon MF445dw");
}

/// DNS-SD: a printer that answers SNMP and announces eSCL (`_uscan._tcp`)
/// is one printer+scanner; a printer that only announces `_ipp._tcp` is
/// listed from its announcement. The responder runs in the hosts' namespace.
#[test]
fn dnssd_announcements_merge_with_snmp_by_ip_in_netns_needs_root() {
    if !Lan::available() {
        eprintln!("skipped: needs root, ip and snmpsimd (CI has them)");
        return;
    }
    let net = 34;
    let mut lan = Lan::start(net, &[host(net, 11, "hp-laserjet-m402dn")]).expect("lan");
    let responder = lan
        .spawn_in_hosts(
            std::path::Path::new(env!("CARGO_BIN_EXE_kiemke-mdns-responder")),
            &[
                format!("_ipp._tcp.local.,HP M402dn,10.77.{net}.11,HP LaserJet Pro M402dn"),
                format!("_uscan._tcp.local.,HP M402dn scan,10.77.{net}.11,HP LaserJet Pro M402dn"),
                format!("_ipp._tcp.local.,Epson L3250,10.77.{net}.20,EPSON L3250 Series"),
            ],
        )
        .expect("responder");
    let stdout = lan.child_stdout(responder).expect("stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("responder output");
    assert_eq!(line.trim(), "ready");

    let out = lan
        .exec(crate::agent_bin())
        .args([
            "discover",
            "--json",
            "--ping-rate",
            "500",
            "--budget",
            "20s",
        ])
        .args(["--mdns-window", "4s", "--subnet"])
        .arg(format!("10.77.{net}.0/27"))
        .output()
        .expect("run discover");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    let hp = by_ip(&json, &format!("10.77.{net}.11")).expect("hp");
    assert_eq!(hp["kind"], "mfp", "{json:#}");
    assert_eq!(hp["source"], "snmp");
    assert_eq!(hp["serial"], "PHBCK12345");
    let epson = by_ip(&json, &format!("10.77.{net}.20")).expect("epson");
    assert_eq!(epson["kind"], "printer");
    assert_eq!(epson["source"], "mdns");
    assert_eq!(epson["model"], "EPSON L3250 Series");
    assert_eq!(epson["name"], "Epson L3250");
    assert_eq!(json["devices"].as_array().expect("devices").len(), 2);
    assert_eq!(json["mdns_announcements"], 3);
}

/// SNMPv3 (authPriv, SHA + AES): a printer that answers only v3 is read
/// with the user and passphrases given in files and the environment, never
/// on the command line; a wrong passphrase reads nothing.
#[test]
fn snmp_v3_reads_a_printer_that_answers_only_v3_in_netns_needs_root() {
    if !Lan::available() {
        eprintln!("skipped: needs root, ip and snmpsimd (CI has them)");
        return;
    }
    let net = 35;
    let lan = Lan::start(
        net,
        &[SimHost {
            // Not our v2c community: only v3 (context "private") reads it.
            community: "private",
            extra_args: [
                "--v3-user=kiemke",
                "--v3-auth-key=xac-thuc-2026",
                "--v3-auth-proto=SHA",
                "--v3-priv-key=ma-hoa-2026",
                "--v3-priv-proto=AES",
            ]
            .map(str::to_owned)
            .to_vec(),
            ..host(net, 11, "hp-laserjet-m402dn")
        }],
    )
    .expect("lan");
    let dir = tempfile::tempdir().expect("tempdir");
    let auth_file = dir.path().join("auth");
    std::fs::write(&auth_file, "xac-thuc-2026\n").expect("auth file");
    let discover = |priv_pass: &str| {
        let out = lan
            .exec(crate::agent_bin())
            .args([
                "discover",
                "--json",
                "--ping-rate",
                "500",
                "--budget",
                "20s",
            ])
            .args(["--mdns-window", "0s", "--snmp-timeout", "500ms"])
            .args(["--snmp-v3-user", "kiemke", "--snmp-v3-context", "private"])
            .args([
                "--snmp-v3-auth-protocol",
                "sha",
                "--snmp-v3-priv-protocol",
                "aes",
            ])
            .arg("--snmp-v3-auth-pass-file")
            .arg(&auth_file)
            .env("KIEMKE_SNMP_V3_PRIV_PASS", priv_pass)
            .arg("--subnet")
            .arg(format!("10.77.{net}.0/28"))
            .output()
            .expect("run discover");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).expect("json")
    };
    let json = discover("ma-hoa-2026");
    let hp = by_ip(&json, &format!("10.77.{net}.11")).unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(hp["serial"], "PHBCK12345");
    assert_eq!(hp["page_count"]["total"], 48213);
    let wrong = discover("sai-mat-khau");
    assert!(
        by_ip(&wrong, &format!("10.77.{net}.11")).is_none(),
        "{wrong:#}"
    );
}
