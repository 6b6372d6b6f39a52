//! Who may call what: the authorization matrix over every route of
//! `routes::catalog()` (the list the router is built from, so no route is
//! left out) × {anonymous, province admin, province viewer, commune officer
//! of the data's commune, commune officer of another commune}; log-in over
//! the router; CSRF refusals; commune scoping of lists.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use kiemke_server::auth::{Role, accounts, session};
use kiemke_server::routes::{self, Access};
use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource};
use kiemke_shared::{AgentId, CommuneCode};
use serde_json::Value;

use crate::helpers::{COMMUNE, TestApp, is_vietnamese, office_pc, report};

/// The commune the "other" officer belongs to.
const OTHER: &str = "24121";
const PASSWORD: &str = "mat-khau-thu-nghiem";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Admin,
    Viewer,
    OfficerOwn,
    OfficerOther,
}

const EVERYONE: [Who; 5] = [
    Who::Anonymous,
    Who::Admin,
    Who::Viewer,
    Who::OfficerOwn,
    Who::OfficerOther,
];

impl Who {
    fn user(self) -> Option<&'static str> {
        match self {
            Who::Anonymous => None,
            Who::Admin => Some("quan-tri"),
            Who::Viewer => Some("so-khcn"),
            Who::OfficerOwn => Some("can-bo-xa"),
            Who::OfficerOther => Some("can-bo-xa-khac"),
        }
    }
}

/// The app with one user per role, a PC and a network printer reported from
/// [`COMMUNE`], and a user for the user-management routes to act on.
struct World {
    app: TestApp,
    device: String,
    printer: String,
    proposal: String,
    manual_asset: String,
}

async fn world() -> World {
    let app = TestApp::new();
    let commune = |c: &str| CommuneCode::parse(c).expect("code");
    let users = [
        ("quan-tri", Role::ProvinceAdmin),
        ("so-khcn", Role::ProvinceViewer),
        ("can-bo-xa", Role::CommuneOfficer(commune(COMMUNE))),
        ("can-bo-xa-khac", Role::CommuneOfficer(commune(OTHER))),
        ("muc-tieu", Role::ProvinceViewer),
    ];
    for (name, role) in users {
        accounts::create(&app.store, "test", name, role, Some(PASSWORD)).expect("user");
    }
    let mut r = report(AgentId::generate(), &office_pc());
    let mut printer = Peripheral::new(
        PeripheralKind::Printer,
        PeripheralSource::Snmp,
        Connection::Network,
    );
    printer.ip = Some("192.168.1.30".into());
    printer.serial = Some("PHBCK99999".into());
    printer.model = Some("HP LaserJet Pro M402dn".into());
    r.peripherals = Some(kiemke_shared::peripherals::Peripherals {
        devices: vec![printer],
        discovery_ran: true,
    });
    let (status, ack) = app.post_report(&r).await;
    assert_eq!(status, StatusCode::OK, "{ack}");
    let device = ack["device_id"].as_str().expect("device id").to_owned();
    let printers = app.store.list_peripherals().expect("peripherals");
    let printer = printers.first().expect("a printer").id.to_string();
    let mut request =
        Request::post("/api/v1/proposals").header(header::CONTENT_TYPE, "application/json");
    if let Some(bearer) = &app.admin_bearer {
        request = request.header(header::AUTHORIZATION, bearer);
    }
    let body = Body::from(serde_json::json!({ "commune": COMMUNE }).to_string());
    let (status, _, bytes) = app.request(request.body(body).expect("request")).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let proposal: Value = serde_json::from_slice(&bytes).expect("json");
    let proposal = proposal["id"].as_u64().expect("proposal id").to_string();
    let mut request =
        Request::post("/api/v1/manual-assets").header(header::CONTENT_TYPE, "application/json");
    if let Some(bearer) = &app.admin_bearer {
        request = request.header(header::AUTHORIZATION, bearer);
    }
    let body = serde_json::json!({
        "commune": COMMUNE, "category": "photocopier", "model": "Toshiba e-STUDIO 2523A",
    });
    let (status, _, bytes) = app
        .request(request.body(Body::from(body.to_string())).expect("request"))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let asset: Value = serde_json::from_slice(&bytes).expect("json");
    let manual_asset = asset["id"].as_str().expect("asset id").to_owned();
    World {
        app,
        device,
        printer,
        proposal,
        manual_asset,
    }
}

impl World {
    /// A request as `who`: a fresh session (so that log-outs and password
    /// changes in one request do not affect the next), its CSRF token in
    /// the header and in a form body for writes.
    async fn call(&self, who: Who, method: &Method, path: &str) -> (StatusCode, HeaderMap, Value) {
        let write = method != Method::GET;
        // The JSON API's writes name the data's commune in their body where
        // they take one (creating a proposal, an asset, ...); forms carry
        // the CSRF token in their body.
        let json = write && path.starts_with("/api/");
        let mut request = Request::builder().method(method.clone()).uri(path);
        if write {
            let kind = if json {
                "application/json"
            } else {
                "application/x-www-form-urlencoded"
            };
            request = request.header(header::CONTENT_TYPE, kind);
        }
        let mut csrf = String::new();
        if let Some(user) = who.user() {
            let id = session::create(&self.app.store, user, Utc::now()).expect("session");
            csrf = self
                .app
                .store
                .session(&session::id_hash(&id))
                .expect("read")
                .expect("session")
                .csrf;
            request = request.header(header::COOKIE, format!("{}={id}", session::COOKIE));
            if write {
                request = request.header("x-csrf-token", &csrf);
            }
        }
        let body = if json {
            Body::from(serde_json::json!({ "commune": COMMUNE }).to_string())
        } else if write {
            Body::from(format!("csrf={csrf}"))
        } else {
            Body::empty()
        };
        let (status, headers, bytes) = self.app.request(request.body(body).expect("request")).await;
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, json)
    }

    /// `path` with its parameters filled in.
    fn sample_path(&self, path: &str) -> String {
        let id = if path.contains("/peripherals/") {
            self.printer.clone()
        } else if path.contains("/proposals/") {
            self.proposal.clone()
        } else if path.contains("/manual-assets/") {
            self.manual_asset.clone()
        } else if path.contains("/admin/tokens/") {
            kiemke_server::auth::secret::generate_token_id().to_string()
        } else if path.contains("/admin/agents/") {
            AgentId::generate().to_string()
        } else {
            self.device.clone()
        };
        let path = path
            .replace("{id}", &id)
            .replace("{name}", "muc-tieu")
            .replace("{commune}", COMMUNE)
            .replace("{code}", COMMUNE)
            .replace("{site}", "ttpvhcc");
        // An import names the commune it fills.
        if path.ends_with("/manual-assets/import") {
            format!("{path}?commune={COMMUNE}")
        } else {
            path
        }
    }
}

/// A refusal: 401, 403, or a redirect to the log-in that sets no cookie
/// (a log-out also redirects there, clearing the session cookie).
fn denied(status: StatusCode, headers: &HeaderMap) -> bool {
    let to_login = status == StatusCode::SEE_OTHER
        && !headers.contains_key(header::SET_COOKIE)
        && headers
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .is_some_and(|l| l.starts_with("/login"));
    status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN || to_login
}

/// Whether `who` may call a route of kind `access` whose path is `path`.
fn expected(access: Access, who: Who, path: &str) -> bool {
    // Paths that name one commune-bound object (a device, a printer, a
    // commune, a site).
    let names_object = (path.contains("{id}") && !path.contains("/admin/"))
        || path.contains("{code}")
        || path.contains("{commune}");
    match (access, who) {
        (_, Who::Anonymous) => false,
        (Access::User, _) => true,
        (Access::Read, Who::OfficerOther) => !names_object,
        (Access::Read, _) => true,
        (Access::Write, Who::Admin | Who::OfficerOwn) => true,
        (Access::Write, _) => false,
        (Access::Admin, who) => who == Who::Admin,
        (Access::Agent | Access::Public, _) => unreachable!("compared with anonymous"),
    }
}

#[tokio::test]
async fn every_route_allows_exactly_the_roles_it_should() {
    let world = world().await;
    let catalog = routes::catalog();
    assert!(catalog.len() > 30, "the catalog lists every route");
    let mut failures = Vec::new();
    for route in &catalog {
        let path = world.sample_path(&route.path);
        let mut anonymous = None;
        // Callers to be refused go first, so an allowed write (a delete)
        // cannot remove the object before a refusal is checked on it.
        let mut callers = EVERYONE;
        if !matches!(route.access, Access::Agent | Access::Public) {
            callers.sort_by_key(|who| expected(route.access, *who, &route.path));
        }
        for who in callers {
            let (status, headers, body) = world.call(who, &route.method, &path).await;
            assert!(
                !status.is_server_error(),
                "{} {path} as {who:?}: {status} {body}",
                route.method
            );
            // Every listed route is routed: no "no such page" answers.
            let message = body["message"].as_str().unwrap_or_default();
            assert!(
                !message.contains("Không có trang hay API")
                    && status != StatusCode::METHOD_NOT_ALLOWED,
                "{} {} is in the catalog but not routed",
                route.method,
                route.path
            );
            match route.access {
                // Agent and public routes: a session changes nothing.
                Access::Agent | Access::Public => {
                    let first = *anonymous.get_or_insert(status);
                    if status != first {
                        failures.push(format!(
                            "{} {path} as {who:?}: {status}, anonymous got {first}",
                            route.method
                        ));
                    }
                }
                access => {
                    let want = expected(access, who, &route.path);
                    let got = !denied(status, &headers);
                    if want != got {
                        failures.push(format!(
                            "{} {path} ({access:?}) as {who:?}: {status}, expected {} ({body})",
                            route.method,
                            if want { "allowed" } else { "denied" }
                        ));
                    }
                    // Another commune's object is forbidden, not hidden.
                    if who == Who::OfficerOther && !want && who.user().is_some() {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{} {path}", route.method);
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn unknown_paths_are_404_for_everyone() {
    let world = world().await;
    for who in EVERYONE {
        for path in ["/no-such-page", "/api/v1/no-such-api", "/devices"] {
            let (status, _, _) = world.call(who, &Method::GET, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path} as {who:?}");
        }
    }
}

#[tokio::test]
async fn anonymous_pages_redirect_to_the_login_and_the_api_answers_401() {
    let world = world().await;
    let (status, headers, _) = world.call(Who::Anonymous, &Method::GET, "/?lang=en").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/login?next=%2F%3Flang%3Den");
    let (status, _, body) = world
        .call(Who::Anonymous, &Method::GET, "/api/v1/devices")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "unauthorized");
    assert!(is_vietnamese(body["message"].as_str().expect("message")));
}

#[tokio::test]
async fn officers_lists_hold_only_their_commune() {
    let world = world().await;
    let count = |body: &Value| body["total"].as_u64().expect("total");
    let (_, _, own) = world
        .call(Who::OfficerOwn, &Method::GET, "/api/v1/devices")
        .await;
    let (_, _, other) = world
        .call(Who::OfficerOther, &Method::GET, "/api/v1/devices")
        .await;
    assert_eq!((count(&own), count(&other)), (1, 0));
    let (status, _, _) = world
        .call(
            Who::OfficerOther,
            &Method::GET,
            &format!("/api/v1/devices?commune={COMMUNE}"),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, _, own) = world
        .call(Who::OfficerOwn, &Method::GET, "/api/v1/peripherals")
        .await;
    let (_, _, other) = world
        .call(Who::OfficerOther, &Method::GET, "/api/v1/peripherals")
        .await;
    let len = |v: &Value| v.as_array().expect("list").len();
    assert_eq!((len(&own), len(&other)), (1, 0));
    let (_, _, summary) = world
        .call(Who::OfficerOther, &Method::GET, "/api/v1/flags/summary")
        .await;
    assert_eq!(summary["total"]["total"], 0, "{summary}");
    // The device page of another commune: 403 with the reason.
    let (status, _, _) = world
        .call(
            Who::OfficerOther,
            &Method::GET,
            &format!("/devices/{}", world.device),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn writes_from_a_session_without_the_csrf_token_are_refused_and_change_nothing() {
    let world = world().await;
    let id = session::create(&world.app.store, "quan-tri", Utc::now()).expect("session");
    let cookie = format!("{}={id}", session::COOKIE);
    // A form without its token.
    let request = Request::post("/users")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "username=ke-gia-mao&role=province-admin&password=mat-khau-gia-mao",
        ))
        .expect("request");
    let (status, _, bytes) = world.app.request(request).await;
    let body: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let message = body["message"].as_str().expect("message");
    assert!(
        is_vietnamese(message) && message.contains("CSRF"),
        "{message}"
    );
    assert!(world.app.store.user("ke-gia-mao").expect("read").is_none());
    // An API write without the header.
    let request = Request::put(format!("/api/v1/devices/{}/asset", world.device))
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(r#"{"asset_tag": "GIA-MAO"}"#))
        .expect("request");
    let (status, _, _) = world.app.request(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let device = world.device.parse().expect("id");
    assert!(world.app.store.asset(&device).expect("read").is_none());
}

/// The log-in cookie and the form's token, as a browser gets them.
async fn login_form(app: &TestApp) -> (String, String) {
    let (status, headers, bytes) = app
        .get("/login?next=/api/v1/devices", &[("cookie", "x=1")])
        .await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let html = String::from_utf8(bytes.to_vec()).expect("utf-8");
    for input in [r#"name="username""#, r#"name="password""#, r#"name="csrf""#] {
        assert!(html.contains(input), "{input}");
    }
    let token = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("token")
        .to_owned();
    (cookie, token)
}

async fn post_login(app: &TestApp, cookie: &str, form: String) -> (StatusCode, HeaderMap, String) {
    let request = Request::post("/login")
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .expect("request");
    let (status, headers, bytes) = app.request(request).await;
    (
        status,
        headers,
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

#[tokio::test]
async fn logging_in_sets_the_session_cookie_and_redirects_to_next() {
    let world = world().await;
    let app = &world.app;
    let (cookie, token) = login_form(app).await;

    let form = |password: &str, csrf: &str| {
        format!("username=can-bo-xa&password={password}&csrf={csrf}&next=%2Fapi%2Fv1%2Fdevices")
    };
    // Wrong password: 401, the form again, one message for every refusal.
    let (status, _, html) = post_login(app, &cookie, form("sai-mat-khau", &token)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(html.contains("Sai tên đăng nhập hoặc mật khẩu"), "{html}");
    // No token: 403.
    let (status, _, _) = post_login(app, &cookie, form(PASSWORD, "")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Right: 303 to next with the cookie.
    let (status, headers, _) = post_login(app, &cookie, form(PASSWORD, &token)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[header::LOCATION], "/api/v1/devices");
    let set = headers[header::SET_COOKIE].to_str().expect("ascii");
    assert!(
        set.starts_with("kiemke_session=") && set.contains("HttpOnly"),
        "{set}"
    );
    let session = set.split(';').next().expect("pair");
    let (status, _, bytes) = app.get("/api/v1/devices", &[("cookie", session)]).await;
    assert_eq!(status, StatusCode::OK);
    let list: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(list["total"], 1);
    // The audit log has both attempts.
    let log = app.store.audit_log(100, 0).expect("log");
    let actions: Vec<&str> = log.entries.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"login.success") && actions.contains(&"login.failure"));
}
