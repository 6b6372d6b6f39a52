//! Flags on a temporary store: recompute on new reports and register
//! entries, history only on change, stale detection, filters and summary.

use chrono::{NaiveDate, Utc};
use kiemke_shared::inventory::Chassis;
use kiemke_shared::{AgentId, CommuneCode, Inventory, Report};

use super::*;
use crate::policy::AssetRecord;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn report(hostname: &str, cpu: &str, os: (&str, &str)) -> Report {
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut r = Report::new(AgentId::generate(), info, Utc::now());
    let mut inv = Inventory {
        hostname: Some(hostname.into()),
        ..Inventory::default()
    };
    inv.system.uuid = Some(uuid::Uuid::new_v4().to_string());
    inv.system.chassis = Some(Chassis::Desktop);
    inv.cpu.brand = Some(cpu.into());
    inv.os.name = Some(os.0.into());
    inv.os.version = Some(os.1.into());
    r.inventory = Some(inv);
    r
}

#[test]
fn flags_follow_reports_and_the_register_with_history_on_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let policy = Policy::shipped();
    let on = date(2026, 6, 30);
    let r = report(
        "PC-01",
        "13th Gen Intel(R) Core(TM) i5-13400",
        ("Microsoft Windows 11 Pro", "10.0.26200"),
    );
    let id = store
        .ingest_blocking(&r, Utc::now())
        .expect("ingest")
        .device_id();

    let (f, changed) = store
        .recompute_device(policy, &id, on)
        .expect("ok")
        .expect("device");
    assert!(changed);
    assert_eq!(f.status, Status::Ok);
    // Same inputs: no new history entry.
    let (_, changed) = store
        .recompute_device(policy, &id, on)
        .expect("ok")
        .expect("device");
    assert!(!changed);
    assert_eq!(store.flag_history(&id, 10).expect("history").len(), 1);

    // The register says 2018 and 24118: past its service life.
    let asset = AssetRecord {
        in_service: Some(date(2018, 1, 10)),
        cost_vnd: Some(12_000_000),
        commune: Some(CommuneCode::parse("24118").expect("code")),
        ..AssetRecord::default()
    };
    assert!(store.put_asset(&id, asset).expect("put").is_some());
    let (f, changed) = store
        .recompute_device(policy, &id, on)
        .expect("ok")
        .expect("device");
    assert!(changed);
    assert_eq!(f.status, Status::Replace);
    let history = store.flag_history(&id, 10).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(
        (history[0].from, history[0].to),
        (Some(Status::Ok), Status::Replace)
    );

    // Filters and summary.
    let old = report(
        "PC-02",
        "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
        ("Microsoft Windows 10 Pro", "10.0.19045"),
    );
    store.ingest_blocking(&old, Utc::now()).expect("ingest");
    assert!(store.flags_stale(policy, on).expect("meta"));
    let done = store.recompute_all(policy, on).expect("all");
    assert_eq!(done.devices, 2);
    assert!(!store.flags_stale(policy, on).expect("meta"));
    assert!(store.flags_stale(policy, date(2026, 7, 1)).expect("meta"));

    let by = |filter: DeviceFilter| store.list_flagged(&filter, 100, 0).expect("list").total;
    assert_eq!(by(DeviceFilter::default()), 2);
    assert_eq!(
        by(DeviceFilter {
            status: Some(Status::Replace),
            ..Default::default()
        }),
        2
    );
    assert_eq!(
        by(DeviceFilter {
            commune: Some("24118".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(DeviceFilter {
            reason: Some("cpu-windows11".into()),
            ..Default::default()
        }),
        1
    );
    assert_eq!(
        by(DeviceFilter {
            category: Some(crate::policy::Category::Laptop),
            ..Default::default()
        }),
        0
    );
    let summary = store.flag_summary().expect("summary");
    assert_eq!(summary.total.replace, 2);
    assert_eq!(summary.communes.len(), 2);
    assert_eq!(summary.communes[0].commune.as_deref(), Some("24118"));
    assert_eq!(summary.communes[1].commune, None);

    // A device that does not exist has no register entry to take.
    assert!(
        store
            .put_asset(&kiemke_shared::DeviceId::generate(), AssetRecord::default())
            .expect("put")
            .is_none()
    );
}

/// Every list the index serves equals the same list read by a scan of
/// every device and its flags (`when` names the moment in the message).
pub(in crate::store) fn assert_index_equals_scan(store: &Store, when: &str) {
    let flagged = store.flagged_devices().expect("devices");
    let communes: std::collections::BTreeSet<String> = (flagged.iter())
        .filter_map(|(_, f)| f.as_ref()?.commune.as_ref().map(ToString::to_string))
        .collect();
    let reason =
        (flagged.iter()).find_map(|(_, f)| f.as_ref()?.reasons.first().map(|r| r.rule.clone()));
    let mut filters = Vec::new();
    for status in [
        None,
        Some(Status::Ok),
        Some(Status::Watch),
        Some(Status::Replace),
    ] {
        filters.push(DeviceFilter {
            status,
            ..Default::default()
        });
        for commune in communes.iter().take(3) {
            filters.push(DeviceFilter {
                status,
                commune: Some(commune.clone()),
                ..Default::default()
            });
        }
        filters.push(DeviceFilter {
            status,
            reason: reason.clone(),
            ..Default::default()
        });
    }
    filters.push(DeviceFilter {
        commune: Some("99999".into()),
        ..Default::default()
    });
    let mut nonempty = 0;
    for filter in &filters {
        for (limit, offset) in [(1000, 0), (3, 2)] {
            let indexed = store.list_flagged(filter, limit, offset).expect("list");
            let scanned = store
                .list_flagged_by_scan(filter, limit, offset)
                .expect("scan");
            assert_eq!(indexed, scanned, "{when}: {filter:?} {limit} {offset}");
            nonempty += usize::from(indexed.total > 0);
        }
    }
    assert!(nonempty > 4, "{when}: the filters find devices");
}

#[test]
fn a_store_without_the_status_index_builds_it_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(dir.path()).expect("open");
        crate::fixture::load::small_province(&store, 9, 3, (10, 12));
        assert_index_equals_scan(&store, "after loading");
        // As a store written by a build without the index.
        store
            .flag_index_tree()
            .expect("tree")
            .clear()
            .expect("clear");
        store.db.flush().expect("flush");
    }
    let store = Store::open(dir.path()).expect("reopen");
    assert_index_equals_scan(&store, "after the rebuild");
}

#[tokio::test]
async fn an_agents_report_writes_the_flags_only_when_they_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open");
    let policy = std::sync::Arc::new(Policy::shipped().clone());
    let origin = Origin {
        commune: CommuneCode::parse("24118").expect("code"),
        site: None,
    };
    let on = date(2026, 6, 30);
    let old = report(
        "PC-02",
        "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
        ("Microsoft Windows 10 Pro", "10.0.19045"),
    );
    let send = |report: Report, on: NaiveDate| {
        let (store, origin, policy) = (store.clone(), origin.clone(), policy.clone());
        async move {
            store
                .ingest_flagged(report, origin, policy, on)
                .await
                .expect("ingest")
        }
    };
    let again = |report: &Report| {
        let mut again = report.clone();
        again.report_id = kiemke_shared::ReportId::generate();
        again
    };

    // A new device: evaluated with its report, stored, one history entry.
    let first = send(old.clone(), on).await;
    let id = first.outcome.device_id();
    let (flags, changed) = first.flags.expect("evaluated").expect("stored");
    assert!(changed);
    assert_eq!(flags.status, Status::Replace);
    assert_eq!(store.flags(&id).expect("read"), Some(flags.clone()));

    // The daily report, same inventory, same day: nothing written (the
    // stored flags keep their evaluation time).
    let second = send(again(&old), on).await;
    assert_eq!(second.outcome.device_id(), id);
    assert!(second.flags.expect("evaluated").is_none());
    assert_eq!(store.flags(&id).expect("read"), Some(flags.clone()));

    // A report without an inventory changes no input: not evaluated.
    let mut probes_only = Report::new(old.agent_id, old.agent.clone(), Utc::now());
    probes_only.probes = Some(kiemke_shared::probes::Probes::default());
    let third = send(probes_only.clone(), on).await;
    assert_eq!(third.outcome.device_id(), id);
    assert!(third.flags.expect("evaluated").is_none());

    // ... unless the device has no flags (an evaluation that failed).
    store
        .flags_tree()
        .expect("tree")
        .remove(id.as_bytes())
        .expect("remove");
    let mut probes_again = probes_only;
    probes_again.report_id = kiemke_shared::ReportId::generate();
    let fourth = send(probes_again, on).await;
    let (restored, _) = fourth.flags.expect("evaluated").expect("stored");
    assert_eq!(restored.status, Status::Replace);

    // Another day: stored again (evaluated on that day), status unchanged.
    let next = date(2026, 7, 1);
    let fifth = send(again(&old), next).await;
    let (f, changed) = fifth.flags.expect("evaluated").expect("stored");
    assert!(!changed);
    assert_eq!(f.evaluated_on, next);

    // The inventory changes the status: stored, with a history entry.
    let mut upgraded = again(&old);
    if let Some(inv) = &mut upgraded.inventory {
        inv.cpu.brand = Some("13th Gen Intel(R) Core(TM) i5-13400".into());
        inv.os.name = Some("Microsoft Windows 11 Pro".into());
        inv.os.version = Some("10.0.26200".into());
    }
    let sixth = send(upgraded, next).await;
    assert_eq!(sixth.outcome.device_id(), id);
    let (f, changed) = sixth.flags.expect("evaluated").expect("stored");
    assert!(changed);
    assert_eq!(f.status, Status::Ok);
    let history = store.flag_history(&id, 10).expect("history");
    assert_eq!(
        (history[0].from, history[0].to),
        (Some(Status::Replace), Status::Ok)
    );
}
