//! Proposals over HTTP: who may ask, what is refused (in Vietnamese, with
//! nothing saved), and the order of states.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kiemke_server::config::AdminToken;
use serde_json::{Value, json};

use crate::helpers::TestApp;

const ADMIN: &str = "test-admin-token-0123456789abcdef";

fn app() -> TestApp {
    TestApp::with_config(|c| {
        c.admin_token = Some(AdminToken::parse(ADMIN).expect("long enough"));
    })
}

async fn call(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {ADMIN}"));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let (status, _, bytes) = app.request(request.body(body).expect("request")).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn proposals_need_the_admin_token() {
    let app = app();
    let (status, _, _) = app
        .request(
            Request::get("/api/v1/proposals")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_requests_are_explained_and_save_nothing() {
    let app = app();
    let cases = [
        (json!({}), "commune"),
        (json!({"commune": "24118", "province": true}), "commune"),
        (
            json!({"commune": "24118", "communes": ["24121"]}),
            "communes",
        ),
        (json!({"commune": "24118", "number": " "}), "number"),
        (json!({"commune": "24118", "colour": "red"}), "colour"),
        (json!({"commune": "2411"}), "commune"),
        (
            json!({"commune": "24118", "prices": [{"item": "server", "unit_price_vnd": 1}]}),
            "prices[0].item",
        ),
        (
            json!({"commune": "24118", "prices": [{"item": "scanner", "unit_price_vnd": 30000000}]}),
            "prices[0].above_norm_reason",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = call(&app, "POST", "/api/v1/proposals", Some(body.clone())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {answer}");
        assert_eq!(answer["error"], "invalid_field", "{answer}");
        assert!(
            answer["field"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field.split('[').next().unwrap_or(field)),
            "{body} → {answer}"
        );
        assert!(
            !answer["message"].as_str().unwrap_or_default().is_ascii(),
            "{answer}"
        );
    }
    let (_, list) = call(&app, "GET", "/api/v1/proposals", None).await;
    assert_eq!(list["proposals"], json!([]));
    let (status, _) = call(&app, "GET", "/api/v1/proposals/12", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&app, "GET", "/api/v1/proposals/abc/docx", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_proposal_moves_draft_submitted_approved_and_no_other_way() {
    let app = app();
    let (status, created) = call(
        &app,
        "POST",
        "/api/v1/proposals",
        Some(json!({"commune": "24118", "number": "07/TTr-UBND", "date": "2026-07-02"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["number"], "07/TTr-UBND");
    // A commune nobody registered: named by its code, and the notes say so.
    assert_eq!(created["text"]["issuer"], "ỦY BAN NHÂN DÂN XÃ 24118");
    assert_eq!(created["proposal"]["total_words_vi"], "Không đồng chẵn");
    let path = format!("/api/v1/proposals/{}/transition", created["id"]);
    for (to, expected) in [
        ("approved", StatusCode::CONFLICT),
        ("submitted", StatusCode::OK),
        ("submitted", StatusCode::CONFLICT),
        ("approved", StatusCode::OK),
        ("draft", StatusCode::CONFLICT),
    ] {
        let (status, answer) = call(&app, "POST", &path, Some(json!({"to": to}))).await;
        assert_eq!(status, expected, "→ {to}: {answer}");
    }
    let (_, view) = call(
        &app,
        "GET",
        &format!("/api/v1/proposals/{}", created["id"]),
        None,
    )
    .await;
    assert_eq!(view["state"], "approved");
    assert_eq!(view["history"].as_array().map(Vec::len), Some(2));
    let (status, _, html) = app
        .request(
            Request::get(format!("/proposals/{}", created["id"]))
                .header("authorization", format!("Bearer {ADMIN}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8_lossy(&html);
    assert!(
        html.contains("Số: 07/TTr-UBND") && html.contains("Đã phê duyệt"),
        "{html}"
    );
}

#[tokio::test]
async fn photocopiers_entered_by_hand_count_against_the_staff_norm() {
    let app = app();
    let code = kiemke_shared::CommuneCode::parse("24118").expect("code");
    app.store
        .add_site(&kiemke_server::store::sites::SiteRecord {
            site: kiemke_shared::SiteRef {
                commune: code.clone(),
                site: kiemke_shared::SiteCode::parse("ttpvhcc").expect("site"),
            },
            kind: kiemke_shared::SiteKind::ServiceCenter,
            name: "Trung tâm Phục vụ hành chính công".into(),
            lines: Vec::new(),
            staff: Some(16),
            created_at: chrono::Utc::now(),
        })
        .expect("site");
    let copiers = |body: &Value| -> Vec<(u64, u64)> {
        (body["proposal"]["items"].as_array().into_iter().flatten())
            .filter(|i| i["key"] == "photocopier")
            .map(|i| {
                (
                    i["held"].as_u64().unwrap_or(99),
                    i["quantity"].as_u64().unwrap_or(99),
                )
            })
            .collect()
    };
    // No register of assets entered by hand: photocopiers held are unknown.
    let (status, before) = call(
        &app,
        "POST",
        "/api/v1/proposals",
        Some(json!({"commune": "24118"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{before}");
    assert_eq!(copiers(&before), []);
    // One copier entered at the center: 16 staff → 2 due, 1 held, 1 short.
    let (status, asset) = call(
        &app,
        "POST",
        "/api/v1/manual-assets",
        Some(json!({"commune": "24118", "site": "ttpvhcc", "category": "photocopier", "model": "Toshiba e-STUDIO 2523A"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asset}");
    let (status, after) = call(
        &app,
        "POST",
        "/api/v1/proposals",
        Some(json!({"commune": "24118"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{after}");
    assert_eq!(copiers(&after), [(1, 1)], "{}", after["proposal"]["items"]);
    // The first proposal was frozen without it.
    let (_, again) = call(
        &app,
        "GET",
        &format!("/api/v1/proposals/{}", before["id"]),
        None,
    )
    .await;
    assert_eq!(again["proposal"], before["proposal"]);
}
