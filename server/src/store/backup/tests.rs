//! Backups on temporary stores: round trip, refusals, and consistency while
//! reports keep arriving.

use std::io::Write;
use std::sync::Arc;

use chrono::Utc;
use kiemke_shared::inventory::SystemInfo;
use kiemke_shared::{AgentId, Inventory, Report};

use super::*;

fn report(serial: &str) -> Report {
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut r = Report::new(AgentId::generate(), info, Utc::now());
    r.inventory = Some(Inventory {
        hostname: Some(format!("PC-{serial}")),
        system: SystemInfo {
            vendor: Some("Dell Inc.".into()),
            serial: Some(serial.into()),
            ..SystemInfo::default()
        },
        ..Inventory::default()
    });
    r
}

fn filled_store(dir: &Path, reports: usize) -> Store {
    let store = Store::open(dir).expect("opens");
    for i in 0..reports {
        let r = report(&format!("SN{}", i % 3));
        store.ingest_blocking(&r, Utc::now()).expect("ingest");
    }
    store
}

/// Every entry (key, value) of every non-empty tree, by tree name.
type Contents = BTreeMap<String, Vec<(Vec<u8>, Vec<u8>)>>;

fn contents(store: &Store) -> Contents {
    let mut all = BTreeMap::new();
    for name in store.db.tree_names() {
        let tree = store.db.open_tree(&name).expect("tree");
        let entries: Vec<_> = tree
            .iter()
            .map(|e| e.expect("entry"))
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        if !entries.is_empty() {
            all.insert(String::from_utf8_lossy(&name).into_owned(), entries);
        }
    }
    all
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("gzip");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

#[test]
fn a_restored_store_holds_exactly_what_was_backed_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = filled_store(&dir.path().join("live"), 7);
    let file = dir.path().join("kiemke.backup");

    let manifest = backup_to_file(&store, &file).expect("backup");
    let restored = restore(&file, &dir.path().join("restored"), false).expect("restore");

    assert_eq!(restored.manifest, manifest);
    assert_eq!(restored.previous, None);
    assert_eq!(manifest.totals.trees.get("reports"), Some(&7));
    let back = Store::open(&dir.path().join("restored")).expect("opens");
    assert_eq!(contents(&back), contents(&store));
    assert_eq!(back.device_count(), store.device_count());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&file).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "owner-only");
    }
}

#[test]
fn damaged_backups_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = filled_store(&dir.path().join("live"), 4);
    let mut good = Vec::new();
    store.export(&mut good).expect("export");
    let plain = gunzip(&good);
    let text = String::from_utf8(plain.clone()).expect("JSON lines");

    // One value changed, recompressed: only the checksum can tell.
    let second_line = text.lines().nth(1).expect("an entry");
    let value_at = text.find(second_line).expect("found") + second_line.len() - 6;
    let mut tampered = plain.clone();
    tampered[value_at] = if tampered[value_at] == b'A' {
        b'B'
    } else {
        b'A'
    };
    // Cut short: the end line is missing.
    let last_newline = plain[..plain.len() - 1]
        .iter()
        .rposition(|b| *b == b'\n')
        .expect("lines");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("tampered", gzip(&tampered)),
        ("truncated", gzip(&plain[..=last_newline])),
        ("gzip cut", good[..good.len() / 2].to_vec()),
        ("not a backup", gzip(b"{\"hello\":1}\n")),
        ("not gzip", b"PK\x03\x04 a zip file".to_vec()),
        ("empty", Vec::new()),
    ];
    for (name, bytes) in cases {
        let file = dir.path().join(format!("{name}.backup"));
        fs::write(&file, bytes).expect("write");
        let target = dir.path().join(format!("target-{name}"));

        let err = restore(&file, &target, false).expect_err(name);

        let message = err.message(Lang::Vi);
        assert!(
            matches!(err, BackupError::Corrupt(_) | BackupError::NotABackup),
            "{name}: {err:?}"
        );
        assert!(
            message.contains("không có gì được ghi"),
            "{name}: {message}"
        );
        assert!(!target.exists(), "{name}: the target was created");
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".kiemke-restore-")
        })
        .collect();
    assert!(leftovers.is_empty(), "staging directories left behind");
}

#[test]
fn a_non_empty_target_needs_force_and_keeps_the_old_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = filled_store(&dir.path().join("live"), 2);
    let file = dir.path().join("kiemke.backup");
    backup_to_file(&store, &file).expect("backup");
    let target = dir.path().join("occupied");
    fs::create_dir_all(&target).expect("mkdir");
    fs::write(target.join("notes.txt"), "do not lose me").expect("write");

    let refused = restore(&file, &target, false).expect_err("non-empty");
    assert!(matches!(refused, BackupError::TargetNotEmpty(_)));
    assert!(refused.message(Lang::Vi).contains("--force"));
    assert!(target.join("notes.txt").exists());

    let forced = restore(&file, &target, true).expect("forced");
    let previous = forced.previous.expect("moved aside");
    assert_eq!(
        fs::read_to_string(previous.join("notes.txt")).expect("kept"),
        "do not lose me"
    );
    assert_eq!(Store::open(&target).expect("opens").report_count(), 2);
}

#[test]
fn a_target_in_use_by_a_server_is_refused_even_with_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let live = dir.path().join("live");
    let store = filled_store(&live, 1);
    let file = dir.path().join("kiemke.backup");
    backup_to_file(&store, &file).expect("backup");

    // `store` stays open, as a running server holds it.
    let err = restore(&file, &live, true).expect_err("locked");

    assert!(
        matches!(err, BackupError::Store(StoreError::Locked { .. })),
        "{err:?}"
    );
    assert_eq!(store.report_count(), 1);
}

#[test]
fn backups_taken_during_ingest_are_consistent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = filled_store(&dir.path().join("live"), 1);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (store, stop) = (store.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let r = report(&format!("W{w}-{}", n % 5));
                    store.ingest_blocking(&r, Utc::now()).expect("ingest");
                    n += 1;
                }
            })
        })
        .collect();

    for round in 0..5 {
        let mut bytes = Vec::new();
        store.export(&mut bytes).expect("export");
        let file = dir.path().join(format!("{round}.backup"));
        fs::write(&file, &bytes).expect("write");
        let target = dir.path().join(format!("restored-{round}"));
        restore(&file, &target, false).expect("restore");
        let back = Store::open(&target).expect("opens");
        assert_consistent(&back);
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    for w in writers {
        w.join().expect("writer");
    }
}

/// Every report has its device and its history entry; every device's count
/// matches its history.
pub(crate) fn assert_consistent(store: &Store) {
    let mut in_histories = 0;
    for device in store.device_records().expect("devices") {
        let detail = store
            .device(&device.id, usize::MAX)
            .expect("read")
            .expect("device");
        assert_eq!(detail.reports.len() as u64, device.report_count);
        for summary in &detail.reports {
            let stored = store
                .report(&summary.report_id)
                .expect("read")
                .expect("report of a history entry");
            assert_eq!(stored.device_id, device.id);
        }
        in_histories += detail.reports.len() as u64;
    }
    assert_eq!(in_histories, store.report_count());
}
