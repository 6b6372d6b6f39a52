//! The protocol document's example is a real, valid report (the document
//! cannot drift from the types without this test failing).

use kiemke_shared::Report;
use kiemke_shared::validate::validate_report;

#[test]
fn the_documented_example_report_decodes_and_validates() {
    let doc = include_str!("../../docs/protocol.md");
    let section = doc
        .split("## Example report")
        .nth(1)
        .expect("example section");
    let json = section
        .split("```json")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("json block");
    let report: Report = serde_json::from_str(json).expect("example decodes as a Report");
    assert_eq!(validate_report(&report), Ok(()));
    let probes = report.probes.as_ref().expect("probes section");
    assert_eq!(probes.pings.len(), 2);
    assert!(probes.speed_tests[0].download_mbps.get() > 90.0);
    let inventory = report.inventory.expect("inventory");
    assert_eq!(inventory.nics[0].hardware_mac(), Some("f8:bc:12:3a:4b:5c"));
}
