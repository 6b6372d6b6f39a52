//! Who may write what: reports need an enrolled agent's credential, carry
//! that agent's id, and are filed under its commune; enrollment tokens
//! expire, run out and can be revoked; the admin API needs its token.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use kiemke_server::ServerConfig;
use kiemke_server::config::AdminToken;
use kiemke_shared::AgentId;
use kiemke_shared::auth::{EnrollResponse, EnrollmentToken};
use kiemke_shared::protocol;
use serde_json::{Value, json};

use crate::helpers::{COMMUNE, Pc, TestApp, is_vietnamese, office_pc, report};

const JSON: (&str, &str) = ("content-type", "application/json");
const ADMIN: &str = "test-admin-token-0123456789abcdef";

fn body(r: &kiemke_shared::Report) -> Vec<u8> {
    serde_json::to_vec(r).expect("serialises")
}

#[tokio::test]
async fn a_report_without_a_valid_credential_is_401_and_stores_nothing() {
    let app = TestApp::new();
    let agent = AgentId::generate();
    let r = report(agent, &office_pc());
    let enrolled = app.credential(agent);
    let last = if enrolled.ends_with('0') { "1" } else { "0" };
    let wrong_secret = format!("{}{last}", &enrolled[..enrolled.len() - 1]);
    // Well formed, but no such agent was ever enrolled.
    let stranger = format!("Bearer {}.{}", AgentId::generate(), "ab".repeat(32));
    let cases: [(&str, Vec<(&str, &str)>); 5] = [
        ("no header", vec![JSON]),
        (
            "not bearer",
            vec![JSON, ("authorization", "Basic YWRtaW46YWRtaW4=")],
        ),
        ("garbage", vec![JSON, ("authorization", "Bearer abc")]),
        ("wrong secret", vec![JSON, ("authorization", &wrong_secret)]),
        ("unknown agent", vec![JSON, ("authorization", &stranger)]),
    ];

    for (name, headers) in cases {
        let (status, answer) = app.post_with(body(&r), &headers).await;

        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {answer}");
        assert_eq!(answer["error"], "unauthorized", "{name}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(
            is_vietnamese(message) && message.contains("đăng ký"),
            "{name}: {message}"
        );
    }
    assert_eq!(app.store.report_count(), 0);
    assert_eq!(app.store.device_count(), 0);
}

#[tokio::test]
async fn an_agent_cannot_send_as_another_agent() {
    let app = TestApp::new();
    let (a, b) = (AgentId::generate(), AgentId::generate());
    let a_auth = app.credential(a);
    app.credential(b);
    let as_b = report(b, &office_pc());

    let (status, answer) = app
        .post_with(body(&as_b), &[JSON, ("authorization", &a_auth)])
        .await;

    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(answer["error"], "forbidden");
    assert_eq!(answer["field"], "agent_id");
    assert_eq!(app.store.report_count(), 0);
}

#[tokio::test]
async fn a_revoked_agent_gets_401_agent_revoked() {
    let app = TestApp::new();
    let agent = AgentId::generate();
    let (status, _) = app.post_report(&report(agent, &office_pc())).await;
    assert_eq!(status, StatusCode::OK);

    app.store
        .revoke_agent(&agent, chrono::Utc::now())
        .expect("revoke")
        .expect("exists");
    let (status, answer) = app.post_report(&report(agent, &office_pc())).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "agent_revoked");
    assert!(
        answer["message"]
            .as_str()
            .unwrap_or_default()
            .contains("thu hồi")
    );
    assert_eq!(app.store.report_count(), 1);
}

#[tokio::test]
async fn reports_are_filed_under_the_agents_commune_and_never_merge_across_communes() {
    let app = TestApp::new();
    let here = AgentId::generate();
    let there = AgentId::generate();
    app.credential(here);
    let other_commune = app.create_token("24121", 1);
    let there_auth = app.enroll_with(&other_commune, there);
    // Same hardware identity claimed from another commune.
    let pc = office_pc();

    let (_, first) = app.post_report(&report(here, &pc)).await;
    let (status, second) = app
        .post_with(
            body(&report(there, &pc)),
            &[JSON, ("authorization", &there_auth)],
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(
        first["device_id"], second["device_id"],
        "a device per commune"
    );
    let id: kiemke_shared::ReportId =
        serde_json::from_value(second["report_id"].clone()).expect("id");
    let stored = app.store.report(&id).expect("read").expect("stored");
    let origin = stored.origin.expect("origin recorded");
    assert_eq!(origin.commune.as_str(), "24121");
    assert_eq!(app.store.device_count(), 2);
}

async fn enroll(app: &TestApp, token: &str, agent: AgentId) -> (StatusCode, Value) {
    let request = Request::post(protocol::ENROLL_PATH)
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"token": token, "agent_id": agent, "hostname": "MOTCUA-PC01"}).to_string(),
        ))
        .expect("request");
    let (status, _, bytes) = app.request(request).await;
    (status, serde_json::from_slice(&bytes).expect("json"))
}

#[tokio::test]
async fn enrollment_issues_a_working_credential_once_per_use() {
    let app = TestApp::new();
    let token = app.create_token(COMMUNE, 1).to_string();
    let agent = AgentId::generate();

    let (status, answer) = enroll(&app, &token, agent).await;
    let (again, refusal) = enroll(&app, &token, AgentId::generate()).await;

    assert_eq!(status, StatusCode::OK, "{answer}");
    let enrolled: EnrollResponse = serde_json::from_value(answer).expect("EnrollResponse");
    assert_eq!(enrolled.commune.as_str(), COMMUNE);
    assert_eq!(enrolled.credential.agent_id, agent);
    let auth = enrolled.credential.authorization();
    let (status, ack) = app
        .post_with(
            body(&report(agent, &office_pc())),
            &[JSON, ("authorization", &auth)],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    assert_eq!(again, StatusCode::FORBIDDEN, "{refusal}");
    assert_eq!(refusal["error"], "token_exhausted");
    assert!(is_vietnamese(
        refusal["message"].as_str().unwrap_or_default()
    ));
}

#[tokio::test]
async fn bad_revoked_and_malformed_tokens_are_refused() {
    let app = TestApp::new();
    let token = app.create_token(COMMUNE, 5);
    let wrong = EnrollmentToken {
        id: token.id.clone(),
        secret: kiemke_server::auth::secret::generate(),
    };

    let (wrong_status, wrong_body) = enroll(&app, &wrong.to_string(), AgentId::generate()).await;
    let (bad_status, bad_body) = enroll(&app, "kkt_nope", AgentId::generate()).await;
    app.store
        .revoke_token(&token.id, chrono::Utc::now())
        .expect("revoke");
    let (revoked_status, revoked_body) =
        enroll(&app, &token.to_string(), AgentId::generate()).await;

    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_body["error"], "token_invalid");
    assert_eq!(bad_status, StatusCode::UNPROCESSABLE_ENTITY, "{bad_body}");
    assert_eq!(bad_body["field"], "token");
    assert_eq!(revoked_status, StatusCode::FORBIDDEN);
    assert_eq!(revoked_body["error"], "token_revoked");
    assert_eq!(app.store.agents().expect("list").len(), 0);
}

async fn admin(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", protocol::ADMIN_PATH))
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let (status, _, bytes) = app
        .request(request.body(Body::from(body.to_string())).expect("request"))
        .await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn with_admin() -> TestApp {
    TestApp::with_config(|c: &mut ServerConfig| {
        c.admin_token = Some(AdminToken::parse(ADMIN).expect("long enough"));
    })
}

#[tokio::test]
async fn the_admin_api_is_off_without_a_token_and_closed_without_the_right_one() {
    let off = TestApp::with_config(|c: &mut ServerConfig| c.admin_token = None);
    let on = with_admin();

    let (off_status, off_body) = admin(&off, "GET", "/tokens", Some(ADMIN), Value::Null).await;
    let (none, _) = admin(&on, "GET", "/tokens", None, Value::Null).await;
    let (wrong, _) = admin(
        &on,
        "GET",
        "/tokens",
        Some("x".repeat(40).as_str()),
        Value::Null,
    )
    .await;

    assert_eq!(off_status, StatusCode::FORBIDDEN, "{off_body}");
    assert!(
        off_body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("admin-token")
    );
    assert_eq!(none, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_admin_api_manages_sites_tokens_and_agents() {
    let app = with_admin();
    let site = json!({
        "commune": COMMUNE, "code": "ttpvhcc", "kind": "service-center",
        "name": "Trung tâm Phục vụ hành chính công", "lines": ["vnpt:internet:200"]
    });

    let (added, _) = admin(&app, "POST", "/sites", Some(ADMIN), site.clone()).await;
    let (again, _) = admin(&app, "POST", "/sites", Some(ADMIN), site).await;
    let (unknown_site, unknown) = admin(
        &app,
        "POST",
        "/tokens",
        Some(ADMIN),
        json!({"commune": COMMUNE, "site": "tram-y-te"}),
    )
    .await;
    let (created, token) = admin(
        &app,
        "POST",
        "/tokens",
        Some(ADMIN),
        json!({"commune": COMMUNE, "site": "ttpvhcc", "expires": "30d", "uses": 3}),
    )
    .await;
    let agent = AgentId::generate();
    let (_, enrolled) = enroll(&app, token["token"].as_str().unwrap_or_default(), agent).await;
    let (_, tokens) = admin(&app, "GET", "/tokens", Some(ADMIN), Value::Null).await;
    let (_, agents) = admin(&app, "GET", "/agents", Some(ADMIN), Value::Null).await;
    let (revoked, _) = admin(
        &app,
        "POST",
        &format!("/agents/{agent}/revoke"),
        Some(ADMIN),
        Value::Null,
    )
    .await;

    assert_eq!(added, StatusCode::CREATED);
    assert_eq!(again, StatusCode::CONFLICT);
    assert_eq!(unknown_site, StatusCode::UNPROCESSABLE_ENTITY, "{unknown}");
    assert_eq!(created, StatusCode::CREATED, "{token}");
    assert_eq!(enrolled["site"], "ttpvhcc");
    assert_eq!(enrolled["site_name"], "Trung tâm Phục vụ hành chính công");
    assert_eq!(tokens["tokens"][0]["uses"], 1);
    assert_eq!(tokens["tokens"][0]["state"], "active");
    assert_eq!(agents["agents"][0]["agent_id"], json!(agent));
    let listed = format!("{tokens}{agents}");
    assert!(!listed.contains("sha256:"), "no hashes listed: {listed}");
    assert!(!listed.contains(token["token"].as_str().unwrap_or("-")));
    assert_eq!(revoked, StatusCode::OK);
    let credential: EnrollResponse = serde_json::from_value(enrolled).expect("enrolled");
    let (status, answer) = app
        .post_with(
            body(&report(agent, &Pc::default())),
            &[
                JSON,
                ("authorization", &credential.credential.authorization()),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{answer}");
    assert_eq!(answer["error"], "agent_revoked");
}
