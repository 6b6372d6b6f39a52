//! A fresh application per test: its own temporary store, the real router.

use std::io::Write;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::Utc;
use flate2::Compression;
use flate2::write::GzEncoder;
use kiemke_server::{AppState, ServerConfig, Store, routes};
use kiemke_shared::inventory::{Nic, SystemInfo};
use kiemke_shared::{AgentId, Inventory, Report, protocol};
use tempfile::TempDir;
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub store: Store,
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
            ..ServerConfig::default()
        };
        change(&mut config);
        let store = Store::open(&config.data_dir).expect("store opens");
        let router = routes::router(AppState::new(store.clone(), config));
        TestApp {
            router,
            store,
            _dir: dir,
        }
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

    /// Posts a raw body to the reports endpoint; the answer as JSON.
    pub async fn post_raw(
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
        self.request(request.body(Body::empty()).expect("request"))
            .await
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let (status, _, bytes) = self.get(path, &[]).await;
        (status, serde_json::from_slice(&bytes).expect("JSON body"))
    }
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
