//! Table-driven tests of key derivation and matching.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use chrono::Utc;
use kiemke_shared::inventory::{Nic, SystemInfo};
use kiemke_shared::{AgentId, DeviceId, Inventory, Report};

use super::*;

const DELL_UUID: &str = "4C4C4544-0042-3510-8052-B4C04F4E4B32";
const OTHER_UUID: &str = "9f1d5e2a-6b3c-4d8e-a1f2-0c3b4d5e6f70";

#[test]
fn uuids_normalise_and_placeholders_are_refused() {
    let cases: &[(&str, Option<&str>)] = &[
        (DELL_UUID, Some("4c4c4544-0042-3510-8052-b4c04f4e4b32")),
        (
            " {4c4c4544-0042-3510-8052-b4c04f4e4b32} ",
            Some("4c4c4544-0042-3510-8052-b4c04f4e4b32"),
        ),
        (
            "4c4c454400423510 8052b4c04f4e4b32",
            None, // spaces are not part of a UUID
        ),
        (
            "00000000-0000-0000-0000-0019d1234567",
            Some("00000000-0000-0000-0000-0019d1234567"),
        ),
        ("00000000-0000-0000-0000-000000000000", None),
        ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None),
        ("03000200-0400-0500-0006-000700080009", None),
        ("00020003-0004-0005-0006-000700080009", None),
        ("12345678-1234-5678-1234-567812345678", None),
        ("01010101-0101-0101-0101-010101010101", None),
        ("01234567-89ab-cdef-0123-456789abcdef", None),
        ("00000000-0000-0000-0000-000000000001", None),
        ("11111111-2222-1111-2222-111111112222", None),
        ("not a uuid", None),
        ("4c4c4544-0042-3510-8052", None),
        ("", None),
    ];
    for (raw, want) in cases {
        let got = IdentityKey::smbios_uuid(raw).map(|k| k.to_string());
        let want = want.map(|w| format!("uuid:{w}"));
        assert_eq!(got, want, "{raw:?}");
    }
}

#[test]
fn serials_are_scoped_by_vendor_and_placeholders_refused() {
    let cases: &[(Option<&str>, &str, Option<&str>)] = &[
        (Some("Dell Inc."), "7XK9Q2J", Some("serial:dell:7XK9Q2J")),
        (Some("Dell Inc"), " 7xk9q2j ", Some("serial:dell:7XK9Q2J")),
        (Some("HP"), "CZC1234ABC", Some("serial:hp:CZC1234ABC")),
        (
            Some("Hewlett-Packard"),
            "CZC1234ABC",
            Some("serial:hp:CZC1234ABC"),
        ),
        (Some("LENOVO"), "PC0ABCDE", Some("serial:lenovo:PC0ABCDE")),
        (
            Some("ASUSTeK COMPUTER INC."),
            "M1N0CV123456",
            Some("serial:asustekcomputer:M1N0CV123456"),
        ),
        (None, "PC0ABCDE", Some("serial:unknown:PC0ABCDE")),
        (
            Some("To Be Filled By O.E.M."),
            "PC0ABCDE",
            Some("serial:unknown:PC0ABCDE"),
        ),
        (
            Some("System manufacturer"),
            "PC0ABCDE",
            Some("serial:unknown:PC0ABCDE"),
        ),
        (Some("Dell Inc."), "To Be Filled By O.E.M.", None),
        (Some("Dell Inc."), "Default string", None),
        (Some("Dell Inc."), "System Serial Number", None),
        (Some("Dell Inc."), "0123456789", None),
        (Some("Dell Inc."), "Not Specified", None),
        (Some("Dell Inc."), "None", None),
        (Some("Dell Inc."), "N/A", None),
        (Some("Dell Inc."), "ABC", None),
        (Some("Dell Inc."), "00000000", None),
        (Some("Dell Inc."), "XXXXXXXXXX", None),
        (Some("Dell Inc."), "........", None),
        (Some("Dell Inc."), "", None),
    ];
    for (vendor, serial, want) in cases {
        let got = IdentityKey::serial(*vendor, serial).map(|k| k.to_string());
        assert_eq!(got.as_deref(), *want, "{vendor:?} {serial:?}");
    }
}

#[test]
fn keys_round_trip_through_their_string_form() {
    for s in [
        "uuid:4c4c4544-0042-3510-8052-b4c04f4e4b32",
        "serial:dell:7XK9Q2J",
        "mac:3c:52:82:0a:1b:2c",
    ] {
        let key = IdentityKey::parse(s).expect(s);
        assert_eq!(key.to_string(), s);
    }
    for bad in ["", "uuid", "uuid:", "host:pc-01", "name:KETOAN-01"] {
        assert_eq!(IdentityKey::parse(bad), None, "{bad}");
    }
}

fn nic(mac: &str, is_virtual: bool) -> Nic {
    Nic {
        name: "eth0".into(),
        mac: Some(mac.into()),
        addresses: vec![],
        link_mbps: None,
        is_virtual,
        loopback: false,
        wireless: false,
        up: Some(true),
    }
}

fn report(agent: AgentId, uuid: Option<&str>, serial: Option<&str>, macs: &[&str]) -> Report {
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut r = Report::new(agent, info, Utc::now());
    let inv = Inventory {
        hostname: Some("KETOAN-01".into()),
        system: SystemInfo {
            vendor: Some("Dell Inc.".into()),
            uuid: uuid.map(String::from),
            serial: serial.map(String::from),
            ..SystemInfo::default()
        },
        nics: macs.iter().map(|m| nic(m, false)).collect(),
        ..Inventory::default()
    };
    r.inventory = Some(inv);
    r
}

fn strings(keys: &[IdentityKey]) -> Vec<String> {
    keys.iter().map(ToString::to_string).collect()
}

#[test]
fn report_keys_strongest_first_and_agent_only_without_hardware() {
    let agent = AgentId::generate();
    let r = report(
        agent,
        Some(DELL_UUID),
        Some("7XK9Q2J"),
        &["3c:52:82:0a:1b:2d", "3c:52:82:0a:1b:2c"],
    );
    let keys = report_keys(&r);
    assert_eq!(
        strings(&keys.store),
        [
            "uuid:4c4c4544-0042-3510-8052-b4c04f4e4b32",
            "serial:dell:7XK9Q2J",
            "mac:3c:52:82:0a:1b:2c",
            "mac:3c:52:82:0a:1b:2d",
        ]
    );
    assert_eq!(keys.lookup.last(), Some(&IdentityKey::agent(agent)));

    // A container: junk UUID, no serial, only virtual or locally administered NICs.
    let mut r = report(
        agent,
        Some("03000200-0400-0500-0006-000700080009"),
        None,
        &["02:42:ac:11:00:02"],
    );
    if let Some(inv) = r.inventory.as_mut() {
        inv.nics.push(nic("3c:52:82:0a:1b:2c", true));
    }
    let keys = report_keys(&r);
    assert_eq!(keys.store, vec![IdentityKey::agent(agent)]);
    assert_eq!(keys.lookup, vec![IdentityKey::agent(agent)]);

    // No inventory at all.
    let mut r = report(agent, None, None, &[]);
    r.inventory = None;
    assert_eq!(report_keys(&r).store, vec![IdentityKey::agent(agent)]);
}

/// A fake identity tree: key → device, and each device's keys.
#[derive(Default)]
struct Known {
    pointers: BTreeMap<IdentityKey, DeviceId>,
    devices: BTreeMap<DeviceId, BTreeSet<IdentityKey>>,
}

impl Known {
    fn add(&mut self, keys: &[IdentityKey]) -> DeviceId {
        let id = DeviceId::generate();
        for k in keys {
            self.pointers.insert(k.clone(), id);
        }
        self.devices.insert(id, keys.iter().cloned().collect());
        id
    }

    fn resolve(&self, keys: &ReportKeys) -> Resolution {
        let found = resolve(keys, |key| {
            Ok::<_, Infallible>(self.pointers.get(key).map(|id| Candidate {
                device: *id,
                keys: self.devices.get(id).cloned().unwrap_or_default(),
            }))
        });
        match found {
            Ok(resolution) => resolution,
            Err(never) => match never {},
        }
    }
}

#[test]
fn matching_scenarios() {
    let a_agent = AgentId::generate();
    let pc_a = report(
        a_agent,
        Some(DELL_UUID),
        Some("7XK9Q2J"),
        &["3c:52:82:0a:1b:2c"],
    );
    let pc_a_keys = report_keys(&pc_a);

    enum Want {
        A,
        New,
    }
    let cases: Vec<(&str, Report, Want)> = vec![
        (
            "reinstall: new agent id, same hardware",
            report(
                AgentId::generate(),
                Some(DELL_UUID),
                Some("7XK9Q2J"),
                &["3c:52:82:0a:1b:2c"],
            ),
            Want::A,
        ),
        (
            "NIC replaced: same UUID, new MAC",
            report(
                a_agent,
                Some(DELL_UUID),
                Some("7XK9Q2J"),
                &["00:1b:21:aa:bb:cc"],
            ),
            Want::A,
        ),
        (
            "unprivileged run: no UUID or serial, same MAC",
            report(a_agent, None, None, &["3c:52:82:0a:1b:2c"]),
            Want::A,
        ),
        (
            "USB NIC moved to another PC with its own UUID",
            report(
                AgentId::generate(),
                Some(OTHER_UUID),
                None,
                &["3c:52:82:0a:1b:2c"],
            ),
            Want::New,
        ),
        (
            "same serial, different UUID: not the same board",
            report(AgentId::generate(), Some(OTHER_UUID), Some("7XK9Q2J"), &[]),
            Want::New,
        ),
        (
            "no serial or UUID, different MAC",
            report(AgentId::generate(), None, None, &["00:1b:21:aa:bb:cc"]),
            Want::New,
        ),
        (
            "cloned BIOS UUID, different MAC",
            report(
                AgentId::generate(),
                Some("03000200-0400-0500-0006-000700080009"),
                Some("Default string"),
                &["00:1b:21:aa:bb:cc"],
            ),
            Want::New,
        ),
    ];
    for (name, r, want) in cases {
        let mut known = Known::default();
        let a = known.add(&pc_a_keys.store);
        let resolution = known.resolve(&report_keys(&r));
        match want {
            Want::A => assert_eq!(resolution.matched.map(|m| m.0), Some(a), "{name}"),
            Want::New => assert_eq!(resolution.matched, None, "{name}"),
        }
    }
}

#[test]
fn a_rejected_candidate_is_skipped_and_the_next_key_tried() {
    let mut known = Known::default();
    let usb = "00:24:9b:11:22:33";
    let a =
        known.add(&report_keys(&report(AgentId::generate(), Some(DELL_UUID), None, &[usb])).store);
    let b = known.add(
        &report_keys(&report(
            AgentId::generate(),
            Some(OTHER_UUID),
            None,
            &["3c:52:82:0a:1b:2c"],
        ))
        .store,
    );

    // PC B, now with A's USB adapter plugged in: the USB MAC sorts first.
    let r = report(
        AgentId::generate(),
        Some(OTHER_UUID),
        None,
        &[usb, "3c:52:82:0a:1b:2c"],
    );
    let resolution = known.resolve(&report_keys(&r));
    assert_eq!(resolution.matched.map(|m| m.0), Some(b));

    // Only the USB MAC and no UUID to disagree with: A.
    let r = report(AgentId::generate(), None, None, &[usb]);
    assert_eq!(
        known.resolve(&report_keys(&r)).matched.map(|m| m.0),
        Some(a)
    );

    // A new PC with the USB adapter and its own UUID: A is rejected, logged.
    let r = report(
        AgentId::generate(),
        Some("5a1d5e2a-6b3c-4d8e-a1f2-0c3b4d5e6f70"),
        None,
        &[usb],
    );
    let resolution = known.resolve(&report_keys(&r));
    assert_eq!(resolution.matched, None);
    assert_eq!(resolution.rejected.len(), 1);
    assert_eq!(resolution.rejected[0].device, a);
    assert_eq!(resolution.rejected[0].conflict, KeyKind::Uuid);
}

#[test]
fn an_agent_only_device_is_found_again_when_hardware_appears() {
    let agent = AgentId::generate();
    let mut known = Known::default();
    let d = known.add(&report_keys(&report(agent, None, None, &[])).store);
    let r = report(
        agent,
        Some(DELL_UUID),
        Some("7XK9Q2J"),
        &["3c:52:82:0a:1b:2c"],
    );
    let resolution = known.resolve(&report_keys(&r));
    assert_eq!(resolution.matched, Some((d, IdentityKey::agent(agent))));
}

#[test]
fn resolution_is_deterministic() {
    let mut known = Known::default();
    known.add(
        &report_keys(&report(
            AgentId::generate(),
            None,
            None,
            &["3c:52:82:0a:1b:2c"],
        ))
        .store,
    );
    let second = known.add(
        &report_keys(&report(
            AgentId::generate(),
            None,
            None,
            &["00:1b:21:aa:bb:cc"],
        ))
        .store,
    );
    // A report with both MACs in either order picks the same device: the
    // lexically first MAC, 00:1b:…
    for macs in [
        ["3c:52:82:0a:1b:2c", "00:1b:21:aa:bb:cc"],
        ["00:1b:21:aa:bb:cc", "3c:52:82:0a:1b:2c"],
    ] {
        let r = report(AgentId::generate(), None, None, &macs);
        assert_eq!(
            known.resolve(&report_keys(&r)).matched.map(|m| m.0),
            Some(second)
        );
    }
}
