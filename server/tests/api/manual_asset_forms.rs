//! The commune page's manual assets over HTTP forms, as a commune officer
//! with a session: the list on the page, add / edit / delete, CSRF, errors
//! shown in the page in the user's language with nothing changed, another
//! commune's officer refused, every write audited.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::Utc;
use kiemke_server::auth::{Role, accounts, session};
use kiemke_shared::CommuneCode;

use crate::helpers::{COMMUNE, TestApp};

/// A session for `user`: its cookie and CSRF token.
fn login(app: &TestApp, user: &str) -> (String, String) {
    let id = session::create(&app.store, user, Utc::now()).expect("session");
    let csrf = app
        .store
        .session(&session::id_hash(&id))
        .expect("read")
        .expect("session")
        .csrf;
    (format!("{}={id}", session::COOKIE), csrf)
}

async fn send(
    app: &TestApp,
    cookie: &str,
    method: &str,
    path: &str,
    form: Option<String>,
) -> (StatusCode, Option<String>, String) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie);
    if form.is_some() {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let body = form.map_or_else(Body::empty, Body::from);
    let (status, headers, bytes) = app.request(request.body(body).expect("request")).await;
    let location = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned);
    (
        status,
        location,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let v: String = v
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{k}={v}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The error paragraph of a form page.
fn error_of(html: &str) -> &str {
    html.split_once("id=\"error\">")
        .and_then(|(_, rest)| rest.split_once("</p>"))
        .map_or("", |(e, _)| e)
}

fn audited(app: &TestApp, action: &str) -> usize {
    app.store
        .audit_log(1000, 0)
        .expect("audit")
        .entries
        .iter()
        .filter(|e| e.action == action && e.who == "can-bo-xa")
        .count()
}

#[tokio::test]
async fn an_officer_adds_edits_and_deletes_manual_assets_on_the_commune_page() {
    let app = TestApp::new();
    let code = CommuneCode::parse(COMMUNE).expect("code");
    accounts::create(
        &app.store,
        "test",
        "can-bo-xa",
        Role::CommuneOfficer(code.clone()),
        Some("mat-khau-thu-nghiem"),
    )
    .expect("officer");
    accounts::create(
        &app.store,
        "test",
        "can-bo-xa-khac",
        Role::CommuneOfficer(CommuneCode::parse("24121").expect("code")),
        Some("mat-khau-thu-nghiem"),
    )
    .expect("other officer");
    // The commune and its site, as the province admin makes them.
    let bearer = app.admin_bearer.clone().expect("admin token");
    for (path, body) in [
        (
            "/communes".to_owned(),
            format!("code={COMMUNE}&kind=xa&name=Ia+Grai&province=Gia+Lai"),
        ),
        (
            format!("/communes/{COMMUNE}/sites"),
            "code=ttpvhcc&kind=service-center&name=TTPVHCC&lines=vnpt%3Ainternet%3A200".into(),
        ),
    ] {
        let request = Request::post(path)
            .header(header::AUTHORIZATION, &bearer)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let (status, _, bytes) = app.request(request).await;
        assert_eq!(
            status,
            StatusCode::SEE_OTHER,
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }
    let (cookie, csrf) = login(&app, "can-bo-xa");
    let page = format!("/communes/{COMMUNE}");

    // The page has the section and the link to add.
    let (status, _, html) = send(&app, &cookie, "GET", &page, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"manual-assets\"") && html.contains("Chưa có tài sản nào."));
    let new = format!("/communes/{COMMUNE}/manual-assets/new");
    assert!(html.contains(&new), "{html}");
    let (status, _, form) = send(&app, &cookie, "GET", &new, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains(&format!("value=\"{csrf}\"")) && form.contains("value=\"ttpvhcc\""));

    let create = format!("/communes/{COMMUNE}/manual-assets");
    let good = [
        ("category", "photocopier"),
        ("model", "Ricoh MP 2014"),
        ("serial", "E334M123456"),
        ("site", "ttpvhcc"),
        ("in_service", "15/08/2019"),
        ("cost", "45.000.000"),
        ("funding", "Ngân sách xã"),
        ("note", ""),
    ];
    // Without the CSRF token: refused, nothing stored.
    let (status, _, _) = send(&app, &cookie, "POST", &create, Some(encode(&good))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        app.store
            .manual_assets(Some(&code))
            .expect("read")
            .is_empty()
    );

    // Bad input: the form again, values kept, the message in Vietnamese,
    // or English when asked; nothing stored.
    let mut bad = good.to_vec();
    bad[4] = ("in_service", "31/02/2019");
    bad[5] = ("cost", "bốn lăm triệu");
    bad.push(("csrf", &csrf));
    let (status, _, html) = send(&app, &cookie, "POST", &create, Some(encode(&bad))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error_of(&html).to_lowercase();
    assert!(
        error.contains("31/02/2019") && error.contains("nguyên giá"),
        "{error}"
    );
    assert!(html.contains("value=\"Ricoh MP 2014\""), "values kept");
    let (status, _, html) = send(
        &app,
        &cookie,
        "POST",
        &format!("{create}?lang=en"),
        Some(encode(&bad)),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let error = error_of(&html).to_lowercase();
    assert!(
        error.contains("cost") && !error.contains("nguyên giá"),
        "{error}"
    );
    eprintln!("vi/en errors shown: {error}");
    let mut unknown_site = good.to_vec();
    unknown_site[3] = ("site", "khong-co");
    unknown_site.push(("csrf", &csrf));
    let (status, _, _) = send(&app, &cookie, "POST", &create, Some(encode(&unknown_site))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        app.store
            .manual_assets(Some(&code))
            .expect("read")
            .is_empty()
    );
    assert_eq!(audited(&app, "manual_asset.create"), 0);

    // A good form: stored, back to the page, listed, audited.
    let mut ok = good.to_vec();
    ok.push(("csrf", &csrf));
    let (status, location, _) = send(&app, &cookie, "POST", &create, Some(encode(&ok))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("/communes/{COMMUNE}?lang=vi#manual-assets").as_str())
    );
    let assets = app.store.manual_assets(Some(&code)).expect("read");
    assert_eq!(assets.len(), 1);
    let asset = &assets[0];
    assert_eq!(asset.asset.cost_vnd, Some(45_000_000));
    assert_eq!(
        asset.asset.site.as_ref().map(|s| s.as_str()),
        Some("ttpvhcc")
    );
    assert_eq!(audited(&app, "manual_asset.create"), 1);
    let (_, _, html) = send(&app, &cookie, "GET", &page, None).await;
    assert!(
        html.contains(&format!("data-asset=\"{}\"", asset.id))
            && html.contains("Ricoh MP 2014")
            && html.contains("45.000.000")
            && html.contains("15/08/2019"),
        "{html}"
    );
    // The same serial again is refused in the page.
    let (status, _, html) = send(&app, &cookie, "POST", &create, Some(encode(&ok))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("đã được đăng ký"), "{html}");
    assert_eq!(app.store.manual_assets(Some(&code)).expect("read").len(), 1);

    // Edit: the form shows the stored values; a bad edit changes nothing;
    // a good one updates and is audited with before and after.
    let edit = format!("/communes/{COMMUNE}/manual-assets/{}/edit", asset.id);
    let (status, _, form) = send(&app, &cookie, "GET", &edit, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("value=\"E334M123456\"") && form.contains("value=\"15/08/2019\""));
    let save = format!("/communes/{COMMUNE}/manual-assets/{}", asset.id);
    let mut empty_model = ok.clone();
    empty_model[1] = ("model", "");
    let (status, _, _) = send(&app, &cookie, "POST", &save, Some(encode(&empty_model))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        app.store.manual_assets(Some(&code)).expect("read")[0]
            .asset
            .model,
        "Ricoh MP 2014"
    );
    let mut renamed = ok.clone();
    renamed[1] = ("model", "Ricoh MP 2014AD");
    let (status, _, _) = send(&app, &cookie, "POST", &save, Some(encode(&renamed))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let stored = app.store.manual_assets(Some(&code)).expect("read");
    assert_eq!(
        (stored.len(), stored[0].asset.model.as_str(), stored[0].id),
        (1, "Ricoh MP 2014AD", asset.id)
    );
    assert_eq!(audited(&app, "manual_asset.update"), 1);

    // Another commune's officer may neither open nor delete it.
    let (other, other_csrf) = login(&app, "can-bo-xa-khac");
    let (status, _, _) = send(&app, &other, "GET", &edit, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let delete = format!("/communes/{COMMUNE}/manual-assets/{}/delete", asset.id);
    let (status, _, _) = send(
        &app,
        &other,
        "POST",
        &delete,
        Some(format!("csrf={other_csrf}")),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.manual_assets(Some(&code)).expect("read").len(), 1);

    // Delete: CSRF needed, then gone from the store and the page, audited.
    let (status, _, _) = send(&app, &cookie, "POST", &delete, Some(String::new())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(app.store.manual_assets(Some(&code)).expect("read").len(), 1);
    let (status, _, _) = send(&app, &cookie, "POST", &delete, Some(format!("csrf={csrf}"))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .manual_assets(Some(&code))
            .expect("read")
            .is_empty()
    );
    assert_eq!(audited(&app, "manual_asset.delete"), 1);
    let (_, _, html) = send(&app, &cookie, "GET", &page, None).await;
    assert!(!html.contains("data-asset="), "{html}");
}
