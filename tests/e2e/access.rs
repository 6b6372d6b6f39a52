//! Logging in over real HTTP with a cookie jar: users made with `user add`
//! on the stopped server's store, a commune officer who sees their commune
//! and is refused another's, a province admin who reads the audit log; and
//! the first start's one-time admin password.

use std::io::Write;
use std::process::{Command, Stdio};

use kiemke_agent::report;
use kiemke_shared::AgentId;
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::{COMMUNE, ServerProcess};
use kiemke_tests::web::WebSession;

use crate::{server_bin, text};

const GZIP_JSON: &[(&str, &str)] = &[
    ("content-type", "application/json"),
    ("content-encoding", "gzip"),
];

/// `kiemke-server user add NAME ... --password-stdin` on `data`.
fn user_add(data: &std::path::Path, name: &str, role: &[&str], password: &str) {
    let mut child = Command::new(server_bin())
        .args(["user", "add", name, "--password-stdin", "--data"])
        .arg(data)
        .args(role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("writes");
    let output = child.wait_with_output().expect("waits");
    assert!(output.status.success(), "{}", text(&output));
    assert!(
        text(&output).contains("Đã thêm người dùng"),
        "{}",
        text(&output)
    );
}

#[tokio::test]
async fn an_officer_sees_their_commune_and_the_admin_reads_the_audit_log() -> anyhow::Result<()> {
    // Arrange: users on the stopped store, then the server, then a report
    // from an agent enrolled in COMMUNE.
    let dir = tempfile::tempdir()?;
    let officer = ["--role", "commune-officer", "--commune", COMMUNE];
    user_add(dir.path(), "can-bo-xa", &officer, "mat-khau-can-bo");
    let other = ["--role", "commune-officer", "--commune", "24121"];
    user_add(dir.path(), "can-bo-xa-khac", &other, "mat-khau-xa-khac");
    user_add(
        dir.path(),
        "so-khcn",
        &["--role", "province-admin"],
        "mat-khau-cua-so",
    );
    let list = Command::new(server_bin())
        .args(["user", "list", "--data"])
        .arg(dir.path())
        .output()?;
    assert!(text(&list).contains("cán bộ xã 24118"), "{}", text(&list));
    let server = ServerProcess::start(server_bin(), dir.path())?;
    assert!(
        server.first_admin_password.is_none(),
        "users exist: no admin made"
    );
    let pc = Pc {
        hostname: "MAY-MOT-CUA-07",
        serial: Some("5CG4777XYZ"),
        mac: Some("3c:52:82:0a:1b:77"),
        ip: "10.0.0.7",
        ..Pc::default()
    };
    let body = report::encode(&report::build(
        AgentId::generate(),
        fixtures::inventory(&pc),
    ))?;
    let (status, ack) = server.post_raw(body, GZIP_JSON).await?;
    assert_eq!(status, 200, "{ack}");
    let device = ack["device_id"].as_str().expect("device id").to_owned();

    // Act and assert: the officer of the commune.
    let web = WebSession::new(&server.url)?;
    let (status, location, _) = web.get(&format!("/devices/{device}")).await?;
    assert_eq!(status, 303, "anonymous is sent to the log-in");
    assert!(location.unwrap_or_default().starts_with("/login?next="));
    assert_eq!(web.login("can-bo-xa", "mat-khau-can-bo").await?, "/");
    let (status, _, page) = web.get(&format!("/devices/{device}")).await?;
    assert_eq!(status, 200);
    assert!(page.contains("MAY-MOT-CUA-07"));
    let (_, _, json) = web.get("/api/v1/devices").await?;
    let list: serde_json::Value = serde_json::from_str(&json)?;
    assert_eq!(list["total"], 1);

    // Another commune's officer: 403 for that device, an empty list.
    let stranger = WebSession::new(&server.url)?;
    stranger.login("can-bo-xa-khac", "mat-khau-xa-khac").await?;
    let (status, _, _) = stranger.get(&format!("/devices/{device}")).await?;
    assert_eq!(status, 403);
    let (status, _, json) = stranger.get(&format!("/api/v1/devices/{device}")).await?;
    assert_eq!(status, 403, "{json}");
    let (_, _, json) = stranger.get("/api/v1/devices").await?;
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json)?["total"],
        0
    );
    let (status, _, _) = stranger.get("/audit").await?;
    assert_eq!(status, 403, "the audit log is for province admins");

    // The province admin: every log-in above is in the audit log.
    let admin = WebSession::new(&server.url)?;
    admin.login("so-khcn", "mat-khau-cua-so").await?;
    let (status, _, json) = admin.get("/api/v1/audit?limit=50").await?;
    assert_eq!(status, 200, "{json}");
    let log: serde_json::Value = serde_json::from_str(&json)?;
    let logins = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "login.success")
        .count();
    assert_eq!(logins, 3, "{log}");
    let (status, _, users) = admin.get("/users").await?;
    assert_eq!(status, 200);
    assert!(users.contains("can-bo-xa-khac"));

    // Log-out ends the session.
    let (status, _, _) = web.submit("/logout", "/logout", &[]).await?;
    assert_eq!(status, 303);
    let (status, _, _) = web.get("/api/v1/devices").await?;
    assert_eq!(status, 401);
    Ok(())
}

#[tokio::test]
async fn the_first_start_prints_a_one_time_admin_password_to_replace() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), dir.path())?;
    let password = server
        .first_admin_password
        .clone()
        .expect("the first start prints admin's password");
    let web = WebSession::new(&server.url)?;
    // Until it is replaced, every page leads to the password form.
    assert_eq!(
        web.login("admin", &password).await?,
        "/account/password?lang=vi"
    );
    let (status, location, _) = web.get("/").await?;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some("/account/password"))
    );
    let fresh = WebSession::new(&server.url)?;
    fresh
        .login_first_time("admin", &password, "mat-khau-moi-cua-tinh")
        .await?;
    let (status, _, _) = fresh.get("/").await?;
    assert_eq!(status, 200);
    // The old password no longer works; a restart prints none.
    let again = WebSession::new(&server.url)?;
    assert!(again.login("admin", &password).await.is_err());
    drop(server);
    let server = ServerProcess::start(server_bin(), dir.path())?;
    assert!(server.first_admin_password.is_none());
    Ok(())
}
