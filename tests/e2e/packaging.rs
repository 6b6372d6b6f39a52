//! `kiemke-agent install` on Linux, staged under a root directory of the
//! test's own (`--root`, no systemctl): it enrolls with a real server, puts
//! the program and the hardened unit in place, and `uninstall` takes all of
//! it away. (The .deb packages themselves are installed and removed by
//! `packaging/test.sh`, which needs root and touches the real system.)

use kiemke_tests::server::ServerProcess;

use crate::{agent_bin, server_bin, text};

#[tokio::test]
async fn linux_install_stages_program_unit_and_enrollment_and_uninstall_removes_them() {
    let store = tempfile::tempdir().expect("tempdir");
    let server = ServerProcess::start(server_bin(), store.path()).expect("server");
    let token = server.harness_token().await.expect("token").to_string();
    let root = tempfile::tempdir().expect("tempdir");
    let root_arg = root.path().to_str().expect("utf-8 path");

    let out = std::process::Command::new(agent_bin())
        .args(["install", "--root", root_arg, "--server", &server.url])
        .args(["--token", &token])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("Đã cài tác tử Kiểm kê."), "{said}");
    assert!(said.contains("systemd không chạy ở đây"), "staged: {said}");

    let unit = root.path().join("etc/systemd/system/kiemke-agent.service");
    let unit_text = std::fs::read_to_string(&unit).expect("unit written");
    assert!(unit_text.contains("\nExecStart=/usr/local/bin/kiemke-agent run\n"));
    assert!(unit_text.contains("\nProtectSystem=strict\n"));
    let program = root.path().join("usr/local/bin/kiemke-agent");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&program)
            .expect("program copied")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o755);
    }
    let data = root.path().join("var/lib/kiemke-agent");
    assert!(data.join("enrollment.json").exists());

    // A second install without a token keeps the enrollment (idempotent,
    // for scripts run at every boot).
    let out = std::process::Command::new(agent_bin())
        .args(["install", "--root", root_arg, "--quiet"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stdout.is_empty(), "--quiet: {}", text(&out));

    let out = std::process::Command::new(agent_bin())
        .args(["uninstall", "--root", root_arg])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(!unit.exists() && !program.exists() && !data.exists());
}

#[test]
fn linux_install_without_a_server_in_quiet_mode_fails_and_writes_nothing_outside_data() {
    let root = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(agent_bin())
        .args(["install", "--quiet", "--root"])
        .arg(root.path())
        .env_remove("KIEMKE_SERVER")
        .env_remove("KIEMKE_ENROLL_TOKEN")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(text(&out).contains("thiếu --server URL"), "{}", text(&out));
    assert!(!root.path().join("etc").exists(), "no unit written");
    assert!(!root.path().join("usr").exists(), "no program copied");
}
