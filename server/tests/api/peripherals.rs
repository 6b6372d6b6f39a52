//! Printers and scanners from reports: a network printer seen by several PCs
//! is one device, its page counter is kept as a history, a PC's queue to it
//! joins it, and a serial-less USB scanner is kept per PC and port.

use axum::http::StatusCode;
use kiemke_shared::AgentId;
use kiemke_shared::peripherals::{
    Connection, PageCount, PageCounter, Peripheral, PeripheralKind, PeripheralSource, Peripherals,
    UsbId,
};
use serde_json::Value;

use crate::helpers::{Pc, TestApp, office_pc, report};

fn hp(pages: u64) -> Peripheral {
    let mut p = Peripheral::new(
        PeripheralKind::Printer,
        PeripheralSource::Snmp,
        Connection::Network,
    );
    p.ip = Some("192.168.1.21".into());
    p.mac = Some("9c:8e:99:c1:a2:b3".into());
    p.model = Some("HP LaserJet Pro M402dn".into());
    p.vendor = Some("HP".into());
    p.serial = Some("PHBCK12345".into());
    p.page_count = Some(PageCount {
        total: pages,
        counter: PageCounter::PrinterMib,
    });
    p
}

fn lide() -> Peripheral {
    let mut p = Peripheral::new(
        PeripheralKind::Scanner,
        PeripheralSource::Wmi,
        Connection::Usb,
    );
    p.model = Some("CanoScan LiDE 220".into());
    p.usb = Some(UsbId {
        vendor_id: "04a9".into(),
        product_id: "190f".into(),
    });
    p.port = Some("5&2A0B1F0&0&3".into());
    p
}

fn queue() -> Peripheral {
    let mut p = Peripheral::new(
        PeripheralKind::Printer,
        PeripheralSource::Wmi,
        Connection::Network,
    );
    p.name = Some("HP Mot cua".into());
    p.ip = Some("192.168.1.21".into());
    p.model = Some("HP LaserJet Pro M402-M403".into());
    p
}

async fn post(app: &TestApp, pc: &Pc, devices: Vec<Peripheral>) {
    let mut r = report(AgentId::generate(), pc);
    r.peripherals = Some(Peripherals {
        devices,
        discovery_ran: true,
    });
    let (status, body) = app.post_report(&r).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn pc(n: u8) -> Pc {
    let uuid: &'static str =
        Box::leak(format!("4c4c4544-004b-5a10-8033-b5c04f5435{n:02}").into_boxed_str());
    let serial: &'static str = Box::leak(format!("5KZ3T{n:02}").into_boxed_str());
    Pc {
        uuid: Some(uuid),
        serial: Some(serial),
        macs: vec![],
        ..office_pc()
    }
}

#[tokio::test]
async fn a_network_printer_seen_by_many_pcs_is_one_device_with_a_page_history() {
    let app = TestApp::new();
    post(&app, &pc(1), vec![hp(1000), lide()]).await;
    post(&app, &pc(2), vec![hp(1250), queue(), lide()]).await;
    post(&app, &pc(3), vec![queue()]).await;

    let (status, list) = app.get_json("/api/v1/peripherals").await;
    assert_eq!(status, StatusCode::OK);
    let list = list.as_array().expect("list");
    let printers: Vec<&Value> = list.iter().filter(|d| d["kind"] == "printer").collect();
    assert_eq!(printers.len(), 1, "{list:#?}");
    let printer = printers[0];
    assert_eq!(printer["serial"], "PHBCK12345");
    assert_eq!(
        printer["model"], "HP LaserJet Pro M402dn",
        "SNMP's model wins"
    );
    assert_eq!(printer["seen_by"].as_array().map(Vec::len), Some(3));
    assert_eq!(printer["page_count"]["total"], 1250);

    // Two PCs, each with its own serial-less LiDE on its port: two scanners.
    let scanners = list.iter().filter(|d| d["kind"] == "scanner").count();
    assert_eq!(scanners, 2);

    let id = printer["id"].as_str().expect("id");
    let (status, detail) = app.get_json(&format!("/api/v1/peripherals/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let totals: Vec<u64> = detail["page_history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|s| s["total"].as_u64())
        .collect();
    assert_eq!(totals, [1000, 1250]);
}

#[tokio::test]
async fn a_replacement_printer_on_the_old_address_is_a_new_device() {
    let app = TestApp::new();
    post(&app, &pc(1), vec![hp(1000)]).await;
    let mut new = hp(10);
    new.serial = Some("VNB3K99999".into());
    new.mac = Some("9c:8e:99:00:00:01".into());
    post(&app, &pc(1), vec![new]).await;
    let (_, list) = app.get_json("/api/v1/peripherals").await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list:#}");
}

#[tokio::test]
async fn an_unknown_peripheral_is_404() {
    let app = TestApp::new();
    let (status, _) = app
        .get_json("/api/v1/peripherals/0190b4a6-0000-7000-8000-000000000000")
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
