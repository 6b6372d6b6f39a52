//! Store tests on a temporary sled database.

use chrono::{Duration, TimeZone, Utc};
use kiemke_shared::inventory::{Nic, SystemInfo};
use kiemke_shared::{AgentId, Inventory, Report};

use super::*;

const UUID_A: &str = "4c4c4544-0042-3510-8052-b4c04f4e4b32";

fn report(agent: AgentId, hostname: &str, uuid: Option<&str>, macs: &[&str]) -> Report {
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut r = Report::new(agent, info, Utc::now());
    let inv = Inventory {
        hostname: Some(hostname.into()),
        system: SystemInfo {
            vendor: Some("Dell Inc.".into()),
            uuid: uuid.map(String::from),
            ..SystemInfo::default()
        },
        nics: macs
            .iter()
            .map(|mac| Nic {
                name: "eth0".into(),
                mac: Some((*mac).into()),
                addresses: vec!["192.168.1.20/24".into()],
                link_mbps: Some(100),
                is_virtual: false,
                loopback: false,
                wireless: false,
                up: Some(true),
            })
            .collect(),
        ..Inventory::default()
    };
    r.inventory = Some(inv);
    r
}

fn at(minute: i64) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 11, 3, 8, 0, 0)
        .single()
        .expect("valid time")
        + Duration::minutes(minute)
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    (dir, store)
}

#[test]
fn ingest_then_duplicate_then_conflict() {
    let (_dir, store) = open();
    let r = report(AgentId::generate(), "KETOAN-01", Some(UUID_A), &[]);

    let first = store.ingest_blocking(&r, at(0)).expect("stored");
    assert!(matches!(
        first,
        IngestOutcome::Stored {
            new_device: true,
            ..
        }
    ));

    let again = store.ingest_blocking(&r, at(5)).expect("duplicate");
    assert_eq!(
        again,
        IngestOutcome::Duplicate {
            device_id: first.device_id(),
            received_at: at(0)
        }
    );
    assert_eq!(store.report_count(), 1);
    let device = store
        .device_record(&first.device_id())
        .expect("read")
        .expect("exists");
    assert_eq!(device.report_count, 1, "a duplicate changes nothing");

    let mut changed = r.clone();
    if let Some(inv) = changed.inventory.as_mut() {
        inv.hostname = Some("KETOAN-02".into());
    }
    assert!(matches!(
        store.ingest_blocking(&changed, at(6)),
        Err(StoreError::Conflict { report_id }) if report_id == r.report_id
    ));
    assert_eq!(store.report_count(), 1);
}

#[test]
fn data_survives_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let r = report(AgentId::generate(), "KETOAN-01", Some(UUID_A), &[]);
    let device_id = {
        let store = Store::open(dir.path()).expect("open");
        store
            .ingest_blocking(&r, at(0))
            .expect("stored")
            .device_id()
    };
    let store = Store::open(dir.path()).expect("reopen");
    assert_eq!(store.report_count(), 1);
    let stored = store.report(&r.report_id).expect("read").expect("kept");
    assert_eq!(stored.report, r);
    assert_eq!(stored.device_id, device_id);
    let again = store
        .ingest_blocking(&r, at(1))
        .expect("duplicate after reopen");
    assert!(matches!(again, IngestOutcome::Duplicate { .. }));
}

#[test]
fn a_second_server_on_the_same_directory_is_refused() {
    let (dir, _store) = open();
    match Store::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert_eq!(path, dir.path()),
        Err(other) => panic!("expected Locked, got {other}"),
        Ok(_) => panic!("opened a locked store"),
    }
    let message = StoreError::Locked {
        path: dir.path().into(),
    }
    .message(Lang::Vi);
    assert!(
        message.contains("đang được một máy chủ Kiểm kê khác sử dụng"),
        "{message}"
    );
}

#[test]
fn reinstall_rename_and_new_ip_keep_the_device() {
    let (_dir, store) = open();
    let first = report(
        AgentId::generate(),
        "KETOAN-01",
        Some(UUID_A),
        &["3c:52:82:0a:1b:2c"],
    );
    let device = store
        .ingest_blocking(&first, at(0))
        .expect("stored")
        .device_id();

    let mut later = report(
        AgentId::generate(),
        "PC-MOTCUA-3",
        Some(UUID_A),
        &["3c:52:82:0a:1b:2c"],
    );
    if let Some(nic) = later.inventory.as_mut().and_then(|i| i.nics.first_mut()) {
        nic.addresses = vec!["10.0.0.7/8".into()];
    }
    let outcome = store.ingest_blocking(&later, at(60)).expect("stored");
    assert_eq!(outcome.device_id(), device);
    assert_eq!(store.device_count(), 1);

    let detail = store.device(&device, 10).expect("read").expect("exists");
    assert_eq!(detail.device.report_count, 2);
    assert_eq!(detail.device.agent_ids.len(), 2);
    assert_eq!(
        detail.device.hostname.as_deref(),
        Some("PC-MOTCUA-3"),
        "latest name"
    );
    assert_eq!(detail.device.first_seen, at(0));
    assert_eq!(detail.device.last_seen, at(60));
    let history: Vec<_> = detail.reports.iter().map(|r| r.report_id).collect();
    assert_eq!(
        history,
        vec![later.report_id, first.report_id],
        "newest first"
    );
    assert_eq!(detail.inventory, later.inventory);
}

#[test]
fn serial_less_pcs_with_different_macs_stay_apart() {
    let (_dir, store) = open();
    let a = store
        .ingest_blocking(
            &report(AgentId::generate(), "PC-A", None, &["3c:52:82:0a:1b:2c"]),
            at(0),
        )
        .expect("a");
    let b = store
        .ingest_blocking(
            &report(AgentId::generate(), "PC-A", None, &["00:1b:21:aa:bb:cc"]),
            at(1),
        )
        .expect("b");
    assert_ne!(
        a.device_id(),
        b.device_id(),
        "same host name is not identity"
    );
    assert_eq!(store.device_count(), 2);
}

#[test]
fn a_moved_usb_nic_is_re_pointed_to_its_new_pc() {
    let (_dir, store) = open();
    let usb = "00:24:9b:11:22:33";
    let a = store
        .ingest_blocking(
            &report(AgentId::generate(), "PC-A", Some(UUID_A), &[usb]),
            at(0),
        )
        .expect("a")
        .device_id();
    let other_uuid = "9f1d5e2a-6b3c-4d8e-a1f2-0c3b4d5e6f70";
    let b = store
        .ingest_blocking(
            &report(AgentId::generate(), "PC-B", Some(other_uuid), &[usb]),
            at(1),
        )
        .expect("b")
        .device_id();
    assert_ne!(a, b);
    let key = format!("mac:{usb}");
    assert_eq!(store.device_for_key(&key).expect("read"), Some(b));
    let a_record = store.device_record(&a).expect("read").expect("a exists");
    assert!(
        !a_record.keys.iter().any(|k| k.to_string() == key),
        "A lost the key"
    );
}

#[test]
fn devices_list_newest_first_with_paging() {
    let (_dir, store) = open();
    let mut ids = Vec::new();
    for (i, mac) in [
        "3c:52:82:0a:1b:01",
        "3c:52:82:0a:1b:02",
        "3c:52:82:0a:1b:03",
    ]
    .iter()
    .enumerate()
    {
        let r = report(AgentId::generate(), &format!("PC-{i}"), None, &[mac]);
        let minute = i64::try_from(i).expect("small");
        ids.push(
            store
                .ingest_blocking(&r, at(minute))
                .expect("stored")
                .device_id(),
        );
    }
    let all = store.list_devices(10, 0).expect("list");
    assert_eq!(all.total, 3);
    let order: Vec<_> = all.devices.iter().map(|d| d.id).collect();
    assert_eq!(order, vec![ids[2], ids[1], ids[0]]);
    let page = store.list_devices(1, 1).expect("page");
    assert_eq!(page.total, 3);
    assert_eq!(page.devices.len(), 1);
    assert_eq!(page.devices[0].id, ids[1]);
}

#[tokio::test]
async fn async_ingest_is_durable_and_acks() {
    let (_dir, store) = open();
    let r = report(AgentId::generate(), "KETOAN-01", Some(UUID_A), &[]);
    let outcome = store.ingest(&r).await.expect("stored");
    let ack = outcome.ack(r.report_id);
    assert_eq!(ack.status, kiemke_shared::api::AckStatus::Stored);
    assert_eq!(ack.report_id, r.report_id);
    store.flush().await.expect("flush");
}

/// A probe-only report (no inventory) from an agent that reported an
/// inventory before joins that agent's device and leaves its facts alone.
#[test]
fn a_report_without_inventory_joins_its_agents_device() {
    let (_dir, store) = open();
    let agent = AgentId::generate();
    let first = report(agent, "MOTCUA-01", Some(UUID_A), &["f8:bc:12:3a:4b:5c"]);
    let device = store
        .ingest_blocking(&first, at(0))
        .expect("inventory")
        .device_id();

    let mut probes = report(agent, "ignored", None, &[]);
    probes.inventory = None;
    probes.probes = Some(kiemke_shared::report::Probes::default());
    let outcome = store.ingest_blocking(&probes, at(60)).expect("probes");
    assert_eq!(
        outcome,
        IngestOutcome::Stored {
            device_id: device,
            received_at: at(60),
            new_device: false
        }
    );

    // Another installation's probe-only report, never seen: its own device.
    let mut stranger = report(AgentId::generate(), "x", None, &[]);
    stranger.inventory = None;
    let other = store.ingest_blocking(&stranger, at(61)).expect("stored");
    assert_ne!(other.device_id(), device);
}

#[test]
fn a_batch_with_a_refused_report_still_stores_the_others() {
    let (_dir, store) = open();
    let agent = AgentId::generate();
    let stored = report(agent, "PC-01", Some(UUID_A), &[]);
    store.ingest_blocking(&stored, at(0)).expect("ingest");
    let mut reused = stored.clone();
    reused.taken_at += Duration::seconds(1);
    let other = report(AgentId::generate(), "PC-02", None, &["00:11:22:33:44:55"]);
    let request = |r: &Report, minute| ingest::Request::new(r.clone(), None, at(minute), None);

    // One transaction for the batch is refused by the reused id; each
    // report then gets its own answer.
    let batch = [
        request(&other, 1).expect("request"),
        request(&reused, 1).expect("request"),
        request(&other, 2).expect("request"),
        request(&stored, 2).expect("request"),
    ];
    let results = store.write_batch(&batch);

    assert_eq!(results.len(), 4);
    let first = match &results[0] {
        Ok(ingested) => ingested.outcome,
        Err(e) => panic!("{e}"),
    };
    assert!(matches!(
        first,
        IngestOutcome::Stored {
            new_device: true,
            ..
        }
    ));
    assert!(matches!(results[1], Err(StoreError::Conflict { .. })));
    // The same report twice in a batch: stored once, then a duplicate.
    assert!(matches!(
        results[2].as_ref().map(|i| i.outcome),
        Ok(IngestOutcome::Duplicate { device_id, .. }) if device_id == first.device_id()
    ));
    assert!(matches!(
        results[3].as_ref().map(|i| i.outcome),
        Ok(IngestOutcome::Duplicate { .. })
    ));
    assert!(store.report(&other.report_id).expect("read").is_some());
    assert_eq!(store.device_records().expect("devices").len(), 2);
}

#[test]
fn a_batch_without_refusals_is_one_transaction_with_every_report() {
    let (_dir, store) = open();
    let reports: Vec<Report> = (0..5)
        .map(|i| {
            report(
                AgentId::generate(),
                &format!("PC-{i}"),
                None,
                &[&format!("00:11:22:33:44:0{i}")],
            )
        })
        .collect();
    let mut batch: Vec<_> = (reports.iter())
        .map(|r| ingest::Request::new(r.clone(), None, at(0), None).expect("request"))
        .collect();
    // A later report of the first PC in the same batch finds its device.
    let mut later = reports[0].clone();
    later.report_id = kiemke_shared::ReportId::generate();
    batch.push(ingest::Request::new(later, None, at(1), None).expect("request"));

    let results = store.write_batch(&batch);

    let outcomes: Vec<IngestOutcome> = (results.into_iter())
        .map(|r| r.expect("stored").outcome)
        .collect();
    assert!(outcomes[..5].iter().all(|o| matches!(
        o,
        IngestOutcome::Stored {
            new_device: true,
            ..
        }
    )));
    assert!(matches!(
        outcomes[5],
        IngestOutcome::Stored {
            new_device: false,
            ..
        }
    ));
    assert_eq!(outcomes[5].device_id(), outcomes[0].device_id());
    let device = store
        .device_record(&outcomes[0].device_id())
        .expect("read")
        .expect("device");
    assert_eq!(device.report_count, 2);
    assert_eq!(store.device_records().expect("devices").len(), 5);
}
