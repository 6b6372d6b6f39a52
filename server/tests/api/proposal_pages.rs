//! Proposals through the web pages and forms (sessions, CSRF tokens, HTML
//! answers): an officer creates their commune's proposal and submits it,
//! the province admin consolidates and decides; refusals (another commune,
//! no CSRF token, bad input, the wrong role, the wrong order) are HTML pages
//! in the user's language that change nothing.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::Utc;
use kiemke_server::auth::{Role, accounts, session};
use kiemke_server::store::communes::{CommuneKind, CommuneRecord};
use kiemke_server::store::proposals::{ProposalState, SavedProposal};
use kiemke_shared::{AgentId, CommuneCode};

use crate::helpers::{COMMUNE, TestApp, office_pc, report};

const OTHER: &str = "24121";

struct World {
    app: TestApp,
}

/// A logged-in user: the session cookie and the forms' CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn code(c: &str) -> CommuneCode {
    CommuneCode::parse(c).expect("code")
}

async fn world() -> World {
    let app = TestApp::new();
    let users = [
        ("quan-tri", Role::ProvinceAdmin),
        ("so-khcn", Role::ProvinceViewer),
        ("can-bo-xa", Role::CommuneOfficer(code(COMMUNE))),
        ("can-bo-xa-khac", Role::CommuneOfficer(code(OTHER))),
    ];
    for (name, role) in users {
        accounts::create(&app.store, "test", name, role, Some("mat-khau-thu-nghiem"))
            .expect("user");
    }
    for (c, name) in [(COMMUNE, "Ia Grai"), (OTHER, "Đức Cơ")] {
        app.store
            .add_commune(&CommuneRecord {
                code: code(c),
                kind: CommuneKind::Xa,
                name: name.into(),
                province: "Gia Lai".into(),
                created_at: Utc::now(),
            })
            .expect("commune");
    }
    let (status, ack) = app
        .post_report(&report(AgentId::generate(), &office_pc()))
        .await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    World { app }
}

impl World {
    fn session(&self, user: &str) -> Session {
        let id = session::create(&self.app.store, user, Utc::now()).expect("session");
        let csrf = self
            .app
            .store
            .session(&session::id_hash(&id))
            .expect("read")
            .expect("session")
            .csrf;
        Session {
            cookie: format!("{}={id}", session::COOKIE),
            csrf,
        }
    }

    async fn get(&self, who: &Session, path: &str) -> (StatusCode, String) {
        let (status, _, bytes) = self.app.get(path, &[("cookie", &who.cookie)]).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Posts a form (`pairs`, URL-encoded) as `who`.
    async fn post(
        &self,
        who: &Session,
        path: &str,
        pairs: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(path)
            .header(header::COOKIE, &who.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let (status, headers, bytes) = self.app.request(request).await;
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    fn saved(&self) -> Vec<SavedProposal> {
        self.app.store.proposals(None).expect("proposals")
    }
}

fn encode(s: &str) -> String {
    kiemke_server::auth::viewer::encode_component(s)
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// The id in a `303` to the print view.
fn redirected_id(status: StatusCode, headers: &HeaderMap, body: &str) -> u64 {
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = headers[header::LOCATION].to_str().expect("ascii");
    location
        .strip_prefix("/proposals/")
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not the print view: {location}"))
}

#[tokio::test]
async fn an_officer_creates_submits_and_the_admin_approves_through_the_pages() {
    let w = world().await;
    let officer = w.session("can-bo-xa");
    let admin = w.session("quan-tri");
    let other = w.session("can-bo-xa-khac");

    // The commune page leads to the form; the form carries the token.
    let (status, page) = w.get(&officer, &format!("/communes/{COMMUNE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("/communes/{COMMUNE}/proposals/new"))
            && page.contains("Lập tờ trình đề xuất")
    );
    let (status, form) = w
        .get(&officer, &format!("/communes/{COMMUNE}/proposals/new"))
        .await;
    assert_eq!(status, StatusCode::OK, "{form}");
    assert!(form.contains("xã Ia Grai") && form.contains(&officer.csrf));
    assert!(form.contains(r#"name="price_desktop""#) && form.contains("20.000.000"));

    let (status, headers, body) = w
        .post(
            &officer,
            &format!("/communes/{COMMUNE}/proposals"),
            &[
                ("csrf", &officer.csrf),
                ("number", ""),
                ("date", "2026-07-02"),
                ("price_desktop", "18.000.000"),
                ("reason_desktop", ""),
            ],
        )
        .await;
    let id = redirected_id(status, &headers, &body);
    let saved = w.saved();
    assert_eq!(saved.len(), 1);
    let p = &saved[0];
    assert_eq!(
        (p.id, p.number.as_str(), p.author.as_str()),
        (id, "1/TTr-UBND", "can-bo-xa")
    );
    assert_eq!(p.prices.len(), 1);
    assert_eq!(p.prices[0].unit_price_vnd, 18_000_000);
    assert_eq!(p.date.to_string(), "2026-07-02");

    // Listed for the officer and the province, not for another commune.
    let (status, list) = w.get(&officer, "/proposals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("1/TTr-UBND") && list.contains("Dự thảo") && list.contains("xã Ia Grai"),
        "{list}"
    );
    assert!(
        list.contains(&format!("/api/v1/proposals/{id}/docx"))
            && list.contains(&format!("/api/v1/proposals/{id}/xlsx"))
    );
    let (_, list) = w.get(&w.session("so-khcn"), "/proposals").await;
    assert!(list.contains("1/TTr-UBND"));
    let (status, list) = w.get(&other, "/proposals").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !list.contains("1/TTr-UBND") && list.contains("Chưa có tờ trình nào"),
        "{list}"
    );
    let (status, page) = w.get(&other, &format!("/proposals/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        page.contains("Không có quyền truy cập") && !page.contains("TỜ TRÌNH"),
        "{page}"
    );

    // The officer submits; approving is not theirs.
    let (_, view) = w.get(&officer, &format!("/proposals/{id}")).await;
    assert!(view.contains(r#"id="to-submitted""#) && !view.contains(r#"id="to-approved""#));
    let (status, headers, body) = w
        .post(
            &officer,
            &format!("/proposals/{id}/transition"),
            &[("csrf", &officer.csrf), ("to", "submitted")],
        )
        .await;
    assert_eq!(redirected_id(status, &headers, &body), id);
    assert_eq!(w.saved()[0].state, ProposalState::Submitted);
    let (_, view) = w.get(&officer, &format!("/proposals/{id}?lang=en")).await;
    assert!(
        view.contains("Submitted") && !view.contains(r#"id="to-approved""#),
        "{view}"
    );

    // The admin sees the decisions and approves.
    let (_, view) = w.get(&admin, &format!("/proposals/{id}")).await;
    assert!(view.contains(r#"id="to-approved""#) && view.contains(r#"id="to-rejected""#));
    let (status, headers, body) = w
        .post(
            &admin,
            &format!("/proposals/{id}/transition"),
            &[
                ("csrf", &admin.csrf),
                ("to", "approved"),
                ("note", "Đồng ý"),
            ],
        )
        .await;
    redirected_id(status, &headers, &body);
    let p = &w.saved()[0];
    assert_eq!(p.state, ProposalState::Approved);
    let by: Vec<&str> = p.history.iter().map(|t| t.by.as_str()).collect();
    assert_eq!(by, ["can-bo-xa", "quan-tri"]);
    assert_eq!(p.history[1].note.as_deref(), Some("Đồng ý"));
    let (_, view) = w.get(&officer, &format!("/proposals/{id}")).await;
    assert!(
        view.contains("can-bo-xa: Dự thảo → Đã trình")
            && view.contains("quan-tri: Đã trình → Đã phê duyệt (Đồng ý)"),
        "the page shows who moved it: {view}"
    );
    let log = w.app.store.audit_log(100, 0).expect("log");
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "proposal.transition")
            .count(),
        2
    );
    assert!(actions.contains(&"proposal.create"));
    let (_, list) = w.get(&officer, "/proposals?lang=en").await;
    assert!(list.contains("Approved") && list.contains("Equipment-upgrade proposals"));
}

#[tokio::test]
async fn refused_forms_answer_in_the_page_and_save_nothing() {
    let w = world().await;
    let officer = w.session("can-bo-xa");
    let other = w.session("can-bo-xa-khac");
    let viewer = w.session("so-khcn");
    let path = format!("/communes/{COMMUNE}/proposals");

    // Another commune's officer, a province viewer: 403, an HTML page.
    for who in [&other, &viewer] {
        let (status, headers, page) = w.post(who, &path, &[("csrf", &who.csrf)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{page}");
        assert!(
            is_html(&headers) && page.contains("Không có quyền"),
            "{page}"
        );
        let (status, _) = w.get(who, &format!("{path}/new")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Only province admins consolidate.
    let (status, headers, page) = w
        .post(&officer, "/proposals", &[("csrf", &officer.csrf)])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        is_html(&headers) && page.contains("quản trị tỉnh"),
        "{page}"
    );
    // No token, a wrong token.
    for token in ["", "sai-ma"] {
        let (status, headers, page) = w.post(&officer, &path, &[("csrf", token)]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(
            is_html(&headers) && page.contains("Biểu mẫu đã hết hạn"),
            "{page}"
        );
    }
    // Bad input: the form again, the values kept, the reason said.
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("price_scanner", "30.000.000")], "vượt giá tối đa"),
        (&[("price_desktop", "mười tám triệu")], "không phải số đồng"),
        (&[("date", "30/02/2026")], "không đúng dạng"),
        (&[("number", &"9".repeat(41))], "tối đa 40 ký tự"),
        (&[("price_may-chu", "1")], "Không có mục"),
    ];
    for (fields, says) in cases {
        let mut pairs = vec![("csrf", officer.csrf.as_str())];
        pairs.extend_from_slice(fields);
        let (status, headers, page) = w.post(&officer, &path, &pairs).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{fields:?}: {page}");
        assert!(is_html(&headers), "{fields:?}");
        assert!(
            page.contains(r#"id="error""#) && page.contains(says),
            "{fields:?}: {page}"
        );
        assert!(
            page.contains(&encode_html(fields[0].1)),
            "the value is kept: {fields:?}"
        );
    }
    // In English when chosen.
    let (status, _, page) = w
        .post(
            &officer,
            &format!("{path}?lang=en"),
            &[("csrf", &officer.csrf), ("price_scanner", "30.000.000")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("above the norm"), "{page}");
    assert!(w.saved().is_empty(), "nothing saved");
    // The language switch of a page shown after a POST asks for its path.
    let (status, page) = w.get(&officer, &format!("{path}?lang=vi")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"id="proposal-form""#));

    // A proposal to refuse changes on.
    let (status, headers, body) = w.post(&officer, &path, &[("csrf", &officer.csrf)]).await;
    let id = redirected_id(status, &headers, &body);
    let transition = format!("/proposals/{id}/transition");
    let refusals = [
        (&other, "submitted", StatusCode::FORBIDDEN, "Không có quyền"),
        (
            &viewer,
            "submitted",
            StatusCode::FORBIDDEN,
            "không được làm việc",
        ),
        (&officer, "approved", StatusCode::FORBIDDEN, "quản trị tỉnh"),
        (
            &officer,
            "archived",
            StatusCode::BAD_REQUEST,
            "không hợp lệ",
        ),
    ];
    for (who, to, want, says) in refusals {
        let (status, headers, page) = w
            .post(who, &transition, &[("csrf", &who.csrf), ("to", to)])
            .await;
        assert_eq!(status, want, "{to}: {page}");
        assert!(is_html(&headers) && page.contains(says), "{to}: {page}");
    }
    let admin = w.session("quan-tri");
    let (status, _, page) = w
        .post(
            &admin,
            &transition,
            &[("csrf", &admin.csrf), ("to", "approved")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page.contains("Dự thảo") && page.contains(r#"id="error""#),
        "{page}"
    );
    let (status, _, _) = w.post(&officer, &transition, &[("to", "submitted")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no token");
    let (status, page) = w.get(&officer, &format!("{transition}?lang=en")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Proposal 1/TTr-UBND – Draft"), "{page}");
    let p = &w.saved()[0];
    assert_eq!((p.state, p.history.len()), (ProposalState::Draft, 0));
}

fn encode_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&#34;")
}

#[tokio::test]
async fn the_admin_consolidates_the_communes_chosen_with_a_price_above_the_norm_and_its_reason() {
    let w = world().await;
    let admin = w.session("quan-tri");
    let (status, form) = w.get(&admin, "/proposals/new").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("xã Ia Grai")
            && form.contains("xã Đức Cơ")
            && form.contains(r#"value="selected""#)
    );
    let (status, _) = w.get(&w.session("so-khcn"), "/proposals/new").await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _, page) = w
        .post(
            &admin,
            "/proposals",
            &[("csrf", &admin.csrf), ("scope", "selected")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("Hãy chọn ít nhất một xã"), "{page}");

    let reason = "Máy scan khổ A3 cho bộ phận một cửa";
    let (status, headers, body) = w
        .post(
            &admin,
            "/proposals",
            &[
                ("csrf", &admin.csrf),
                ("scope", "selected"),
                ("commune", COMMUNE),
                ("include_watch", "on"),
                ("price_scanner", "30.000.000"),
                ("reason_scanner", reason),
            ],
        )
        .await;
    let id = redirected_id(status, &headers, &body);
    let p = &w.saved()[0];
    assert_eq!((p.id, p.number.as_str()), (id, "1/TTr-SKHCN"));
    assert!(p.commune().is_none() && p.input.include_watch);
    let codes: Vec<&str> = p.input.communes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, [COMMUNE]);
    assert_eq!(p.prices[0].above_norm_reason.as_deref(), Some(reason));
    let (_, list) = w.get(&admin, "/proposals").await;
    assert!(list.contains("Tổng hợp 1 xã, phường: xã Ia Grai"), "{list}");
    // The consolidation is the province's: officers see neither it nor its page.
    let officer = w.session("can-bo-xa");
    let (_, list) = w.get(&officer, "/proposals").await;
    assert!(!list.contains("1/TTr-SKHCN"));
    let (status, _) = w.get(&officer, &format!("/proposals/{id}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
