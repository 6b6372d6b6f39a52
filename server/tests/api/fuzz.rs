//! Fuzzing the report decoder and validator with proptest, on a fixed case
//! budget so it runs in every `cargo test` (and so in CI) in a few seconds.
//!
//! Properties, for every input:
//! - the decoder never panics, and every refusal is a 4xx with a message in
//!   both languages;
//! - a report it accepts passes validation, and encoding it again decodes to
//!   the same report (nothing was half-understood).
//!
//! Inputs: arbitrary bytes; the committed seed corpus (`fuzz/seeds/*.json`,
//! real-shaped protocol 1 reports) mutated at random paths; arbitrary gzip
//! (valid gzip of mutated seeds, then truncated or with flipped bytes); and
//! generated reports with values on both sides of every limit. A failing
//! case is saved by proptest under `proptest-regressions/` (commit it: it is
//! replayed first on every later run).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use kiemke_server::routes::ingest::decode::{self, DecodeError, Encoding, Limits};
use kiemke_shared::validate::{self, MAX_TEXT};
use kiemke_shared::{Lang, Report};
use proptest::collection::vec;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Small limits, so generated inputs reach them.
const LIMITS: Limits = Limits {
    max_body: 256 << 10,
    max_decompressed: 256 << 10,
};

/// The committed seed corpus: each is a protocol version 1 report as agents
/// send them, and must stay accepted (a compatibility check of its own).
const SEEDS: &[(&str, &str)] = &[
    (
        "windows-office-pc",
        include_str!("fuzz/seeds/windows-office-pc.json"),
    ),
    (
        "linux-unprivileged",
        include_str!("fuzz/seeds/linux-unprivileged.json"),
    ),
    ("minimal", include_str!("fuzz/seeds/minimal.json")),
];

/// Cases per property: the whole suite takes a few seconds in a debug build.
const CASES: u32 = 512;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // Shrinking a rare failure may take long; the budget stays bounded.
        max_shrink_iters: 2048,
        ..ProptestConfig::default()
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

/// What must hold for any decoder answer.
fn check(result: Result<Report, DecodeError>) -> Result<(), TestCaseError> {
    match result {
        Ok(report) => {
            prop_assert_eq!(validate::validate_report(&report), Ok(()));
            let again = serde_json::to_vec(&report).expect("an accepted report serialises");
            let decoded = decode::decode(&again, Encoding::Identity, LIMITS);
            prop_assert!(decoded.is_ok(), "re-encoded report refused: {decoded:?}");
            prop_assert_eq!(decoded.ok(), Some(report));
        }
        Err(e) => {
            prop_assert!(e.status().is_client_error(), "{e}: {}", e.status());
            prop_assert!(!e.message(Lang::Vi).is_empty());
            prop_assert!(!e.message(Lang::En).is_empty());
        }
    }
    Ok(())
}

fn seed(index: usize) -> Value {
    serde_json::from_str(SEEDS[index % SEEDS.len()].1).expect("seeds are JSON")
}

/// Leaves chosen to sit on, or just past, the edges the validator checks.
fn edge_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![
            Just(-1i64),
            Just(0),
            Just(1_000_000_000_000_000_000),
            Just(1 << 53)
        ]
        .prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::from),
        prop_oneof![
            Just("x".repeat(MAX_TEXT)),
            Just("ữ".repeat(MAX_TEXT + 1)),
            Just("A\u{0}B".to_owned()),
            Just("0192f0c1-5a3e-7c2b-9d4e-1f2a3b4c5d6e".to_owned()),
            Just("00000000-0000-0000-0000-000000000000".to_owned()),
            Just("1979-12-31".to_owned()),
            Just("2101-01-01T00:00:00Z".to_owned()),
            Just("1980-01-01T00:00:00+07:00".to_owned()),
            Just("3C-52-82-0A-1B-2C".to_owned()),
            Just("192.168.1.300/24".to_owned()),
            Just("fe80::1/129".to_owned()),
            Just("ssd".to_owned()),
            Just("needs_privilege".to_owned()),
        ]
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    edge_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec(("[a-z_]{1,10}", inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One change at one place of a JSON document; the place is picked among
/// all its nodes by `at % nodes`.
#[derive(Debug, Clone)]
enum Mutation {
    Replace {
        at: usize,
        with: Value,
    },
    Remove {
        at: usize,
    },
    /// Repeats an array's first element, to break the count limits.
    Repeat {
        at: usize,
        times: usize,
    },
    Insert {
        at: usize,
        key: String,
        value: Value,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), json_value()).prop_map(|(at, with)| Mutation::Replace { at, with }),
        any::<usize>().prop_map(|at| Mutation::Remove { at }),
        (any::<usize>(), 1usize..140).prop_map(|(at, times)| Mutation::Repeat { at, times }),
        (any::<usize>(), "[a-z_]{1,12}", json_value())
            .prop_map(|(at, key, value)| Mutation::Insert { at, key, value }),
    ]
}

/// Every node's JSON pointer, in document order.
fn pointers(value: &Value, here: String, out: &mut Vec<String>) {
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{here}/{i}"), out);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                let escaped = key.replace('~', "~0").replace('/', "~1");
                pointers(item, format!("{here}/{escaped}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}

fn apply(doc: &mut Value, mutation: &Mutation) {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let pick = |at: usize| all[at % all.len()].clone();
    match mutation {
        Mutation::Replace { at, with } => {
            if let Some(node) = doc.pointer_mut(&pick(*at)) {
                *node = with.clone();
            }
        }
        Mutation::Remove { at } => {
            let path = pick(*at);
            if let Some((parent, key)) = path.rsplit_once('/') {
                match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&key.replace("~1", "/").replace("~0", "~"));
                    }
                    Some(Value::Array(items)) => {
                        if let Ok(i) = key.parse::<usize>() {
                            if i < items.len() {
                                items.remove(i);
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Mutation::Repeat { at, times } => {
            if let Some(Value::Array(items)) = doc.pointer_mut(&pick(*at)) {
                if let Some(first) = items.first().cloned() {
                    items.extend(std::iter::repeat_n(first, *times));
                }
            }
        }
        Mutation::Insert { at, key, value } => {
            if let Some(Value::Object(map)) = doc.pointer_mut(&pick(*at)) {
                map.insert(key.clone(), value.clone());
            }
        }
    }
}

fn mutated_seed() -> impl Strategy<Value = Value> {
    (0..SEEDS.len(), vec(mutation(), 1..6)).prop_map(|(index, mutations)| {
        let mut doc = seed(index);
        for m in &mutations {
            apply(&mut doc, m);
        }
        doc
    })
}

/// A year around the validator's range (1980..=2100), as an RFC 3339 time.
fn time_around_limits() -> impl Strategy<Value = Value> {
    (1970i32..2110, 1u32..13, 1u32..29, 0u32..24)
        .prop_map(|(y, m, d, h)| Value::from(format!("{y:04}-{m:02}-{d:02}T{h:02}:00:00Z")))
}

fn text_around_limits() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => "[ -~àáạảãăâêôơưđ]{0,20}".prop_map(Value::from),
        1 => (MAX_TEXT - 1..MAX_TEXT + 2).prop_map(|n| Value::from("ệ".repeat(n))),
        1 => Just(Value::from("tab\there")),
        1 => Just(Value::Null),
    ]
}

fn number_up_to(max: u64) -> impl Strategy<Value = Value> {
    prop_oneof![
        3 => (0..=max).prop_map(Value::from),
        1 => (max..=max.saturating_add(2)).prop_map(Value::from),
        1 => Just(Value::Null),
    ]
}

/// A report built field by field, each value near a limit of its field.
fn generated_report() -> impl Strategy<Value = Value> {
    let disk =
        (text_around_limits(), number_up_to(validate::MAX_DISK_BYTES)).prop_map(|(model, size)| {
            json!({"name": "sda", "model": model, "serial": null, "size_bytes": size,
                   "kind": "ssd", "bus": "sata", "system": true, "removable": false})
        });
    let nic = (number_up_to(u64::from(validate::MAX_LINK_MBPS)), 0usize..3).prop_map(
        |(mbps, addresses)| {
            json!({"name": "eth0", "mac": "3c:52:82:0a:1b:2c",
                   "addresses": vec!["10.0.0.1/24"; addresses], "link_mbps": mbps,
                   "virtual": false, "loopback": false, "wireless": false, "up": true})
        },
    );
    (
        time_around_limits(),
        text_around_limits(),
        text_around_limits(),
        number_up_to(validate::MAX_MEMORY_BYTES),
        number_up_to(u64::from(validate::MAX_CORES)),
        vec(disk, 0..validate::MAX_DISKS + 2),
        vec(nic, 0..4),
        (1975i32..2105).prop_map(|y| Value::from(format!("{y:04}-06-15"))),
        (1975u16..2105).prop_map(Value::from),
    )
        .prop_map(
            |(taken_at, hostname, serial, memory, cores, disks, nics, bios_date, monitor_year)| {
                json!({
                    "protocol_version": 1,
                    "report_id": "0192f0c1-5a3e-7c2b-9d4e-1f2a3b4c5d6e",
                    "agent_id": "0192f0c0-1111-7222-8333-444455556666",
                    "taken_at": taken_at,
                    "agent": {"version": "0.1.0", "os_family": "linux", "privileged": false},
                    "inventory": {
                        "hostname": hostname,
                        "os": {"name": null, "version": null, "build": null, "kernel": null,
                               "arch": null, "boot_time": null, "install_date": null},
                        "system": {"vendor": null, "model": null, "serial": serial, "uuid": null,
                                   "chassis": null},
                        "bios": {"vendor": null, "version": null, "date": bios_date},
                        "cpu": {"brand": null, "cores_physical": null, "cores_logical": cores,
                                "base_mhz": null},
                        "memory": {"total_bytes": memory},
                        "disks": disks,
                        "nics": nics,
                        "monitors": [{"manufacturer": "DEL", "model": null, "product_code": 1,
                                      "serial": null, "year": monitor_year, "connector": null}],
                    }
                })
            },
        )
}

#[test]
fn every_seed_is_an_accepted_report() {
    for (name, text) in SEEDS {
        let report = decode::decode(text.as_bytes(), Encoding::Identity, LIMITS);
        assert!(report.is_ok(), "seed {name}: {report:?}");
        let gzipped = decode::decode(&gzip(text.as_bytes()), Encoding::Gzip, LIMITS);
        assert_eq!(gzipped.ok(), report.ok(), "seed {name} gzipped");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in vec(any::<u8>(), 0..2048), gzipped in any::<bool>()) {
        let encoding = if gzipped { Encoding::Gzip } else { Encoding::Identity };
        check(decode::decode(&body, encoding, LIMITS))?;
    }

    #[test]
    fn mutated_seed_reports_are_accepted_whole_or_refused_with_a_4xx(doc in mutated_seed()) {
        let body = serde_json::to_vec(&doc).expect("serialises");
        check(decode::decode(&body, Encoding::Identity, LIMITS))?;
    }

    #[test]
    fn arbitrary_gzip_never_panics(
        doc in mutated_seed(),
        cut in any::<prop::sample::Index>(),
        flips in vec((any::<prop::sample::Index>(), 1u8..=255), 0..3),
    ) {
        let mut body = gzip(&serde_json::to_vec(&doc).expect("serialises"));
        for (at, xor) in &flips {
            let i = at.index(body.len());
            body[i] ^= xor;
        }
        let keep = cut.index(body.len() + 1).max(body.len() / 2);
        body.truncate(keep);
        check(decode::decode(&body, Encoding::Gzip, LIMITS))?;
    }

    #[test]
    fn generated_reports_are_accepted_exactly_when_valid(doc in generated_report()) {
        let body = serde_json::to_vec(&doc).expect("serialises");
        let typed: Report = serde_json::from_value(doc).expect("generated reports are well-typed");
        let result = decode::decode(&body, Encoding::Identity, LIMITS);
        prop_assert_eq!(
            result.is_ok(),
            validate::validate_report(&typed).is_ok(),
            "decode: {:?}", result.as_ref().err()
        );
        if let Ok(report) = &result {
            prop_assert_eq!(report, &typed);
        }
        check(result)?;
    }
}
