//! The HTML pages: Vietnamese by default, English on request, escaped.

use axum::http::{StatusCode, header};
use kiemke_shared::AgentId;
use kiemke_shared::api::ReportAck;

use crate::helpers::{Pc, TestApp, office_pc, report};

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("pages are UTF-8")
}

#[tokio::test]
async fn an_empty_home_page_says_what_to_do() {
    let app = TestApp::new();
    let (status, headers, body) = app.get("/", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    let page = text(&body);
    assert!(page.contains(r#"<html lang="vi">"#));
    assert!(page.contains("Chưa có máy nào gửi báo cáo"), "{page}");
}

#[tokio::test]
async fn the_home_page_lists_devices_in_vietnamese() {
    let app = TestApp::new();
    app.post_report(&report(AgentId::generate(), &office_pc()))
        .await;

    let (status, _, body) = app.get("/", &[]).await;

    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    for expected in [
        "Tên máy",
        "Hãng / mẫu",
        "Hệ điều hành",
        "Bộ xử lý",
        "RAM",
        "Lần báo cáo cuối",
        "Số báo cáo",
        "MOTCUA-PC01",
        "Dell Inc. OptiPlex 3020",
        "1 thiết bị, 1 báo cáo",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in {page}");
    }
}

#[tokio::test]
async fn english_when_chosen_vietnamese_whatever_the_browser_says() {
    let app = TestApp::new();
    let (_, _, by_query) = app.get("/?lang=en", &[]).await;
    let page = text(&by_query);
    assert!(page.contains(r#"<html lang="en">"#), "{page}");
    assert!(page.contains("No PC has reported yet"), "{page}");
    // An English Windows browser still gets Vietnamese until the user switches.
    let (_, _, by_header) = app.get("/", &[("accept-language", "en-GB,en;q=0.8")]).await;
    let page = text(&by_header);
    assert!(page.contains(r#"<html lang="vi">"#), "{page}");
}

#[tokio::test]
async fn a_device_page_shows_its_inventory_and_unknown_ones_are_404() {
    let app = TestApp::new();
    let (_, ack) = app
        .post_report(&report(AgentId::generate(), &office_pc()))
        .await;
    let ack: ReportAck = serde_json::from_value(ack).expect("ack");

    let (status, _, body) = app.get(&format!("/devices/{}", ack.device_id), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let page = text(&body);
    for expected in [
        "MOTCUA-PC01",
        "Card mạng",
        "f8:bc:12:3a:4b:5c",
        "192.168.1.21/24",
        "Lịch sử báo cáo",
        "B5WNJ2",
    ] {
        assert!(page.contains(expected), "missing {expected:?} in {page}");
    }

    let (status, headers, body) = app
        .get("/devices/0190f5a4-8c1e-7b2a-9d3f-1a2b3c4d5e6f", &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers[header::CONTENT_TYPE], "text/html; charset=utf-8");
    assert!(text(&body).contains("Không có thiết bị nào"));
    let (status, _, _) = app.get("/devices/khong-phai-uuid", &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reported_text_is_escaped() {
    let app = TestApp::new();
    let pc = Pc {
        hostname: "<script>alert(1)</script>",
        ..office_pc()
    };
    app.post_report(&report(AgentId::generate(), &pc)).await;
    let (_, _, body) = app.get("/", &[]).await;
    let page = text(&body);
    assert!(!page.contains("<script>"), "{page}");
    assert!(
        page.contains("alert(1)"),
        "the text is shown, escaped: {page}"
    );
}
