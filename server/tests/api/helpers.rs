//! A fresh application per test: its own temporary store, the real router.
//!
//! Reports need an enrolled agent's credential. [`TestApp::post_raw`] sends
//! as the agent named in the body, enrolling it on first use through the
//! store (the stand-in for `kiemke-agent enroll`: a real token, a real
//! enrollment), so tests about reports do not each repeat enrollment; tests
//! about trust use [`TestApp::post_with`] and choose the header themselves.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Mutex;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::Utc;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use kiemke_server::auth::secret;
use kiemke_server::auth::tokens::{self, NewToken};
use kiemke_server::config::AdminToken;
use kiemke_server::store::trust::Enrollment;
use kiemke_server::{AppState, ServerConfig, Store, routes};
use kiemke_shared::CommuneCode;
use kiemke_shared::auth::{AgentCredential, EnrollmentToken};
use kiemke_shared::inventory::{Nic, SystemInfo};
use kiemke_shared::{AgentId, Inventory, Report, protocol};
use tempfile::TempDir;
use tower::ServiceExt;

/// The commune the harness enrolls agents in.
pub const COMMUNE: &str = "24118";

/// The admin token test apps run with (unless a test sets another).
pub const ADMIN_TOKEN: &str = "api-test-admin-token-0123456789";

pub struct TestApp {
    pub router: Router,
    pub store: Store,
    /// A token for [`COMMUNE`] with plenty of uses, created on first need.
    token: Mutex<Option<EnrollmentToken>>,
    /// Credentials of the agents enrolled so far (`Authorization` values).
    credentials: Mutex<HashMap<AgentId, String>>,
    /// Sends bodies that name no agent (malformed ones).
    default_agent: AgentId,
    /// `Authorization` value [`TestApp::get`] sends when a test sends none
    /// (the read API needs a viewer).
    pub admin_bearer: Option<String>,
    _dir: TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with_config(|_| {})
    }

    pub fn with_config(change: impl FnOnce(&mut ServerConfig)) -> TestApp {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = ServerConfig {
            data_dir: dir.path().to_owned(),
            admin_token: Some(AdminToken::parse(ADMIN_TOKEN).expect("long enough")),
            ..ServerConfig::default()
        };
        change(&mut config);
        let admin_bearer = (config.admin_token.as_ref()).map(|t| format!("Bearer {}", t.expose()));
        let store = Store::open(&config.data_dir).expect("store opens");
        let router = routes::router(AppState::new(store.clone(), config));
        TestApp {
            router,
            store,
            token: Mutex::new(None),
            credentials: Mutex::new(HashMap::new()),
            default_agent: AgentId::generate(),
            admin_bearer,
            _dir: dir,
        }
    }

    /// A token for `commune`, as `kiemke-server token create` makes it.
    pub fn create_token(&self, commune: &str, uses: u32) -> EnrollmentToken {
        let new = NewToken {
            commune: CommuneCode::parse(commune).expect("commune"),
            site: None,
            lifetime: std::time::Duration::from_secs(24 * 3600),
            max_uses: uses,
        };
        tokens::issue(&self.store, &new, Utc::now())
            .expect("token")
            .0
    }

    /// Enrolls `agent` with `token`; its `Authorization` header value.
    pub fn enroll_with(&self, token: &EnrollmentToken, agent: AgentId) -> String {
        let enrollment = Enrollment {
            agent_id: agent,
            hostname: None,
            credential: secret::generate(),
        };
        self.store
            .enroll(token, &enrollment, Utc::now())
            .expect("store")
            .expect("enrolled");
        AgentCredential {
            agent_id: agent,
            secret: enrollment.credential,
        }
        .authorization()
    }

    /// The `Authorization` value of `agent`, enrolled in [`COMMUNE`] on first use.
    pub fn credential(&self, agent: AgentId) -> String {
        if let Some(known) = self.credentials.lock().expect("lock").get(&agent) {
            return known.clone();
        }
        let token = self
            .token
            .lock()
            .expect("lock")
            .get_or_insert_with(|| self.create_token(COMMUNE, 10_000))
            .clone();
        let header = self.enroll_with(&token, agent);
        self.credentials
            .lock()
            .expect("lock")
            .insert(agent, header.clone());
        header
    }

    pub async fn request(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 64 << 20).await.expect("body");
        (parts.status, parts.headers, bytes)
    }

    /// Posts a raw body to the reports endpoint as the agent the body names
    /// (or a default agent when it names none), enrolled on first use; the
    /// answer as JSON.
    pub async fn post_raw(
        &self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, serde_json::Value) {
        let agent = agent_in(&body).unwrap_or(self.default_agent);
        let auth = self.credential(agent);
        let mut headers = headers.to_vec();
        headers.push(("authorization", &auth));
        self.post_with(body, &headers).await
    }

    /// Posts a raw body with exactly these headers (no credential added).
    pub async fn post_with(
        &self,
        body: Vec<u8>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, serde_json::Value) {
        let mut request = Request::post(protocol::REPORTS_PATH);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (status, _, bytes) = self
            .request(request.body(Body::from(body)).expect("request"))
            .await;
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
        });
        (status, json)
    }

    pub async fn post_report(&self, report: &Report) -> (StatusCode, serde_json::Value) {
        let body = serde_json::to_vec(report).expect("serialises");
        self.post_raw(body, &[("content-type", "application/json")])
            .await
    }

    pub async fn get(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = Request::get(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let identified = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        });
        if let (false, Some(bearer)) = (identified, &self.admin_bearer) {
            request = request.header("authorization", bearer);
        }
        self.request(request.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let (status, _, bytes) = self.get(path, &[]).await;
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }
}

/// The `agent_id` a (possibly gzipped) report body names, if it is readable.
fn agent_in(body: &[u8]) -> Option<AgentId> {
    let mut text = Vec::new();
    if body.starts_with(&[0x1f, 0x8b]) {
        GzDecoder::new(body)
            .take(1 << 20)
            .read_to_end(&mut text)
            .ok()?;
    } else {
        text = body.to_vec();
    }
    let value: serde_json::Value = serde_json::from_slice(&text).ok()?;
    value.get("agent_id")?.as_str()?.parse().ok()
}

/// What makes one PC this PC, for a test.
#[derive(Clone, Default)]
pub struct Pc {
    pub hostname: &'static str,
    pub uuid: Option<&'static str>,
    pub serial: Option<&'static str>,
    pub macs: Vec<&'static str>,
    pub ip: &'static str,
}

pub fn inventory(pc: &Pc) -> Inventory {
    Inventory {
        hostname: Some(pc.hostname.into()),
        system: SystemInfo {
            vendor: Some("Dell Inc.".into()),
            model: Some("OptiPlex 3020".into()),
            serial: pc.serial.map(String::from),
            uuid: pc.uuid.map(String::from),
            ..SystemInfo::default()
        },
        nics: (pc.macs.iter())
            .map(|mac| Nic {
                name: "Ethernet".into(),
                mac: Some((*mac).into()),
                addresses: vec![format!(
                    "{}/24",
                    if pc.ip.is_empty() {
                        "192.168.1.10"
                    } else {
                        pc.ip
                    }
                )],
                link_mbps: Some(100),
                is_virtual: false,
                loopback: false,
                wireless: false,
                up: Some(true),
            })
            .collect(),
        ..Inventory::default()
    }
}

/// A report from `agent` about `pc`.
pub fn report(agent: AgentId, pc: &Pc) -> Report {
    // Built from JSON so that the test does not depend on how the agent
    // section's optional fields are typed.
    let info = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "os_family": "windows", "privileged": true
    }))
    .expect("agent info");
    let mut report = Report::new(agent, info, Utc::now());
    report.inventory = Some(inventory(pc));
    report
}

pub fn office_pc() -> Pc {
    Pc {
        hostname: "MOTCUA-PC01",
        uuid: Some("4c4c4544-0042-3510-8057-b4c04f4e4a32"),
        serial: Some("B5WNJ2"),
        macs: vec!["f8:bc:12:3a:4b:5c"],
        ip: "192.168.1.21",
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(bytes).expect("in memory");
    gz.finish().expect("in memory")
}

/// Whether a message is written in Vietnamese with its diacritics.
pub fn is_vietnamese(message: &str) -> bool {
    message
        .chars()
        .any(|c| "ạảãáàâầấậẩẫăằắặẳẵêềếệểễôồốộổỗơờớợởỡưừứựửữđịỉĩíìọỏõóòụủũúùỳýỵỷỹẹẻẽéè".contains(c))
}
