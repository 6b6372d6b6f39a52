//! Backups as an operator takes them: `kiemke-server backup` of a running
//! server under load, `kiemke-server restore` into a new directory, and a
//! server started on the restored data serving the same inventory; damaged
//! backups refused in Vietnamese without touching anything.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, ensure};
use kiemke_server::Store;
use kiemke_tests::agent::TestAgent;
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::{ADMIN_TOKEN as TOKEN, ServerProcess};

use crate::server_bin;

fn pc(i: usize) -> Pc {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    Pc {
        hostname: leak(format!("BACKUP-PC{i}")),
        uuid: Some(leak(format!("4c4c4544-0042-3510-8057-00000000000{i}"))),
        serial: Some(leak(format!("BK{i:04}"))),
        mac: Some(leak(format!("3c:52:82:00:20:{i:02x}"))),
        ip: leak(format!("10.9.0.{}", i + 10)),
    }
}

fn kiemke_server(args: &[&str], paths: &[&Path]) -> anyhow::Result<Output> {
    let mut command = Command::new(server_bin());
    command.args(args);
    for path in paths {
        command.arg(path);
    }
    command.output().context("Failed to run kiemke-server")
}

fn succeeded(output: &Output) -> anyhow::Result<String> {
    ensure!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `kiemke-server backup -o FILE --server URL --admin-token TOKEN`.
fn online_backup(server: &ServerProcess, file: &Path) -> anyhow::Result<String> {
    let output = Command::new(server_bin())
        .args([
            "backup",
            "--server",
            &server.url,
            "--admin-token",
            TOKEN,
            "-o",
        ])
        .arg(file)
        .output()?;
    succeeded(&output)
}

fn restore(file: &Path, data: &Path) -> anyhow::Result<String> {
    succeeded(&kiemke_server(
        &["restore"],
        &[file, Path::new("--data"), data],
    )?)
}

/// Every report has its device and history entry, every device's count its
/// history: what a backup cut in the middle of an ingest would break.
fn consistent(store: &Store) -> anyhow::Result<u64> {
    let mut in_histories = 0;
    for device in store.device_records()? {
        let detail = store.device(&device.id, usize::MAX)?.context("device")?;
        ensure!(detail.reports.len() as u64 == device.report_count);
        for summary in &detail.reports {
            let stored = store.report(&summary.report_id)?.context("report")?;
            ensure!(stored.device_id == device.id);
        }
        in_histories += device.report_count;
    }
    ensure!(in_histories == store.report_count());
    Ok(in_histories)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_server_is_backed_up_under_load_and_restored_identically() -> anyhow::Result<()> {
    // Arrange: a server with an admin token, agents reporting continuously.
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start_with(server_bin(), &data, "127.0.0.1:0", &[])?;
    let stop = Arc::new(AtomicBool::new(false));
    let mut load = Vec::new();
    for i in 0..4 {
        let agent = server
            .install_agent(&dir.path().join(format!("agent-{i}")))
            .await?;
        let (url, stop) = (server.url.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let mut sent = 0usize;
            while !stop.load(Ordering::SeqCst) || sent == 0 {
                agent.queue(fixtures::inventory(&pc(i))).await?;
                sent += agent.deliver(&url).await?.delivered;
            }
            anyhow::Ok(sent)
        }));
    }

    // Act: backups while reports arrive, each restored and checked.
    let mut during_load = Vec::new();
    for round in 0..3 {
        let file = dir.path().join(format!("during-{round}.kiemke-backup"));
        let said = tokio::task::block_in_place(|| online_backup(&server, &file))?;
        ensure!(said.contains("Đã sao lưu"), "{said}");
        let restored = dir.path().join(format!("restored-{round}"));
        tokio::task::block_in_place(|| restore(&file, &restored))?;
        let store = Store::open(&restored)?;
        during_load.push(consistent(&store)?);
    }
    stop.store(true, Ordering::SeqCst);
    let mut sent = 0;
    for task in load {
        sent += task.await??;
    }
    let file = dir.path().join("final.kiemke-backup");
    tokio::task::block_in_place(|| online_backup(&server, &file))?;
    let restored = dir.path().join("restored-final");
    let said = tokio::task::block_in_place(|| restore(&file, &restored))?;
    let copy = ServerProcess::start(server_bin(), &restored)?;

    // Assert: the restored server serves the same inventory...
    assert!(said.contains("Đã khôi phục"), "{said}");
    let (original_list, restored_list) = (server.devices().await?, copy.devices().await?);
    assert_eq!(restored_list, original_list);
    assert_eq!(original_list.total, 4);
    for device in &original_list.devices {
        assert_eq!(
            copy.device(device.id).await?,
            server.device(device.id).await?
        );
    }
    // ...and holds the same records, identities included.
    server.kill9()?;
    copy.kill9()?;
    let (original, back) = (Store::open(&data)?, Store::open(&restored)?);
    assert_eq!(back.report_count(), original.report_count());
    for record in original.device_records()? {
        assert_eq!(back.device_record(&record.id)?.as_ref(), Some(&record));
        for key in &record.keys {
            // Identity keys live in one namespace per commune.
            let key = match &record.origin {
                Some(origin) => format!("{}/{key}", origin.commune),
                None => key.to_string(),
            };
            assert_eq!(back.device_for_key(&key)?, Some(record.id), "{key}");
        }
        for summary in original
            .device(&record.id, usize::MAX)?
            .context("device")?
            .reports
        {
            assert_eq!(
                back.report(&summary.report_id)?,
                original.report(&summary.report_id)?
            );
        }
    }
    println!(
        "backups under load held {during_load:?} reports, each consistent; final backup {} of {sent} sent",
        back.report_count()
    );
    Ok(())
}

#[tokio::test]
async fn backups_need_the_admin_token_and_a_stopped_store_or_the_server() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let guarded = ServerProcess::start_with(server_bin(), &data, "127.0.0.1:0", &[])?;
    let url = guarded.endpoint(kiemke_server::routes::backup::BACKUP_PATH);

    let anonymous = guarded.http().post(&url).send().await?;
    let wrong = (guarded.http().post(&url))
        .bearer_auth("ma-sai-ma-sai-ma-sai")
        .send()
        .await?;
    let offline = kiemke_server(
        &["backup", "-o"],
        &[&dir.path().join("x"), Path::new("--data"), &data],
    )?;

    assert_eq!(anonymous.status(), 401);
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await?;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("mã quản trị"),
        "{body}"
    );
    assert!(!offline.status.success());
    let stderr = String::from_utf8_lossy(&offline.stderr);
    assert!(
        stderr.contains("đang chạy") && stderr.contains("--server"),
        "{stderr}"
    );
    guarded.kill9()?;

    // With the server stopped, the store is backed up directly. (Without an
    // admin token the endpoint is off: the router tests cover that.)
    let file = dir.path().join("stopped.kiemke-backup");
    let said = succeeded(&kiemke_server(
        &["backup", "-o"],
        &[&file, Path::new("--data"), &data],
    )?)?;
    assert!(said.contains("Đã sao lưu"), "{said}");
    Ok(())
}

#[tokio::test]
async fn a_damaged_backup_is_refused_in_vietnamese_and_changes_nothing() -> anyhow::Result<()> {
    // Arrange: a good backup of a store with a few reports, then damaged.
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let server = ServerProcess::start(server_bin(), &data)?;
    let agent = TestAgent::install(&dir.path().join("agent"))?;
    for _ in 0..3 {
        agent.queue(fixtures::inventory(&pc(1))).await?;
    }
    agent.deliver(&server.url).await?;
    server.kill9()?;
    let good = dir.path().join("good.kiemke-backup");
    succeeded(&kiemke_server(
        &["backup", "-o"],
        &[&good, Path::new("--data"), &data],
    )?)?;
    let mut bytes = std::fs::read(&good)?;
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = dir.path().join("damaged.kiemke-backup");
    std::fs::write(&damaged, &bytes)?;
    let occupied = dir.path().join("occupied");
    std::fs::create_dir_all(&occupied)?;
    std::fs::write(occupied.join("keep.txt"), "giữ nguyên")?;

    // Act
    let into_new = kiemke_server(
        &["restore"],
        &[&damaged, Path::new("--data"), &dir.path().join("new")],
    )?;
    let forced = kiemke_server(
        &["restore", "--force"],
        &[&damaged, Path::new("--data"), &occupied],
    )?;

    // Assert
    for output in [&into_new, &forced] {
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("Tệp sao lưu bị hỏng"), "{stderr}");
        assert!(stderr.contains("không có gì được ghi"), "{stderr}");
    }
    assert!(!dir.path().join("new").exists());
    let left: Vec<_> = std::fs::read_dir(&occupied)?
        .filter_map(Result::ok)
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        std::fs::read_to_string(occupied.join("keep.txt"))?,
        "giữ nguyên"
    );
    Ok(())
}
