//! Proposals end to end: two communes' PCs report through enrolled agents
//! (old PCs past their service life, a printer, a slow line measured at the
//! service center); the province registers the communes and their sites'
//! staff; then a commune's Tờ trình and the province's consolidation are
//! made through the API, downloaded, and opened in LibreOffice: the PDF's
//! text carries the header block, the commune's name, every item with its
//! quantity and amount, and the total in figures and words; the annex's
//! totals recomputed by LibreOffice equal the API's. Page 1 of each
//! document is rendered under `target/screenshots/`.

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use kiemke_agent::report;
use kiemke_server::store::Store;
use kiemke_server::store::communes::{CommuneKind, CommuneRecord};
use kiemke_server::store::sites::SiteRecord;
use kiemke_shared::inventory::{DiskKind, Inventory};
use kiemke_shared::peripherals::{
    Connection, Peripheral, PeripheralKind, PeripheralSource, Peripherals,
};
use kiemke_shared::probes::{PerSecond, Probes, RttMethod, SpeedApi, SpeedResult};
use kiemke_shared::{AgentId, CommuneCode, Mbps, Report, SiteCode, SiteKind, SiteRef};
use kiemke_tests::documents::{self, Office};
use kiemke_tests::fixtures::{self, Pc};
use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};
use serde_json::{Value, json};

use crate::server_bin;

const AS_OF: &[&str] = &["--evaluation-date", "2026-06-30"];

/// The communes and sites registries, as the survey pages will fill them:
/// xã Biển Hồ (service center, 7 staff; headquarters, 12 staff) and xã Ia
/// Grai (headquarters, 5 staff).
fn seed_registry(data: &Path) -> anyhow::Result<()> {
    let store = Store::open(data)?;
    for (code, name) in [("24118", "Biển Hồ"), ("24121", "Ia Grai")] {
        store.add_commune(&CommuneRecord {
            code: CommuneCode::parse(code)?,
            kind: CommuneKind::Xa,
            name: name.into(),
            province: "Gia Lai".into(),
            created_at: Utc::now(),
        })?;
    }
    let sites = [
        (
            "24118",
            "ttpvhcc",
            SiteKind::ServiceCenter,
            "Trung tâm Phục vụ hành chính công xã Biển Hồ",
            7,
        ),
        (
            "24118",
            "tru-so",
            SiteKind::Headquarters,
            "Trụ sở UBND xã Biển Hồ",
            12,
        ),
        (
            "24121",
            "tru-so",
            SiteKind::Headquarters,
            "Trụ sở UBND xã Ia Grai",
            5,
        ),
    ];
    for (commune, site, kind, name, staff) in sites {
        store.add_site(&SiteRecord {
            site: SiteRef {
                commune: CommuneCode::parse(commune)?,
                site: SiteCode::parse(site)?,
            },
            kind,
            name: name.into(),
            lines: Vec::new(),
            staff: Some(staff),
            created_at: Utc::now(),
        })?;
    }
    Ok(())
}

/// A PC of 2013 (Pentium G2030, Windows 7, 4 GB, HDD): past its service
/// life and unable to run Windows 11.
fn old_pc(pc: &Pc) -> Inventory {
    let mut inv = fixtures::inventory(pc);
    inv.cpu.brand = Some("Intel(R) Pentium(R) CPU G2030 @ 3.00GHz".into());
    inv.cpu.cores_logical = Some(2);
    inv.bios.vendor = Some("Dell Inc.".into());
    inv.bios.date = NaiveDate::from_ymd_opt(2013, 5, 20);
    inv.os.name = Some("Microsoft Windows 7 Professional".into());
    inv.os.version = Some("6.1.7601".into());
    inv.os.install_date = Utc.with_ymd_and_hms(2014, 1, 15, 2, 0, 0).single();
    inv.disks[0].kind = DiskKind::Hdd;
    inv.tpm.present = Some(false);
    inv
}

/// A PC of 2021 (i5-11400, Windows 10): `watch` for its OS only.
fn recent_pc(pc: &Pc) -> Inventory {
    let mut inv = fixtures::inventory(pc);
    inv.cpu.brand = Some("11th Gen Intel(R) Core(TM) i5-11400 @ 2.60GHz".into());
    inv.cpu.cores_logical = Some(12);
    inv.bios.vendor = Some("Dell Inc.".into());
    inv.bios.date = NaiveDate::from_ymd_opt(2021, 4, 15);
    inv.os.install_date = Utc.with_ymd_and_hms(2022, 1, 15, 2, 0, 0).single();
    inv.memory.total_bytes = Some((8 << 30) - (200 << 20));
    inv.disks[0].kind = DiskKind::Ssd;
    inv.tpm.present = Some(true);
    inv.tpm.version = Some("2.0".into());
    inv
}

fn network_printer() -> Peripheral {
    let mut p = Peripheral::new(
        PeripheralKind::Printer,
        PeripheralSource::Snmp,
        Connection::Network,
    );
    p.ip = Some("10.0.0.50".into());
    p.mac = Some("3c:52:82:00:00:50".into());
    p.vendor = Some("HP".into());
    p.model = Some("HP LaserJet Pro M402dn".into());
    p.serial = Some("PHBQ123456".into());
    p
}

/// A throughput test at 45.3 / 18.0 Mbps.
fn slow_line() -> SpeedResult {
    let per = PerSecond {
        p10: 40.0,
        p50: 45.0,
        p90: 47.0,
    };
    SpeedResult {
        server: "http://127.0.0.1/".into(),
        api: SpeedApi::Kiemke,
        trigger: None,
        started_at: Utc::now(),
        download_mbps: Mbps::saturating(45.3),
        upload_mbps: Mbps::saturating(18.0),
        streams_down: 6,
        streams_up: 4,
        duration_s: 10.0,
        warmup_s: 2.0,
        measured_down_s: 8.0,
        measured_up_s: 8.0,
        bytes_down: 56_000_000,
        bytes_up: 22_000_000,
        measured_bytes_down: 45_300_000,
        measured_bytes_up: 18_000_000,
        download_per_second_mbps: per,
        upload_per_second_mbps: per,
        latency_idle_ms: Some(12.0),
        latency_loaded_ms: Some(80.0),
        latency_method: Some(RttMethod::Icmp),
        interface: Some("eth0".into()),
        link_mbps: Some(1000),
        wireless: Some(false),
        target_mbps: Mbps::saturating(200.0),
        limited_by: None,
        interface_bytes_down: None,
        interface_bytes_up: None,
    }
}

/// An agent enrolled at a site: its id and `Authorization` value.
async fn agent_at(
    server: &ServerProcess,
    commune: &str,
    site: &str,
) -> anyhow::Result<(AgentId, String)> {
    let token = server
        .create_token(json!({"commune": commune, "site": site, "uses": 1, "expires": "1d"}))
        .await?;
    let agent = AgentId::generate();
    Ok((agent, server.enroll(&token, agent).await?))
}

async fn send(server: &ServerProcess, auth: &str, report: &Report) -> anyhow::Result<String> {
    let headers = [
        ("content-type", "application/json"),
        ("content-encoding", "gzip"),
        ("authorization", auth),
    ];
    let (status, ack) = server.post_with(report::encode(report)?, &headers).await?;
    anyhow::ensure!(status == 200, "report: {status} {ack}");
    Ok(ack["device_id"].as_str().unwrap_or_default().to_owned())
}

async fn report_pc(
    server: &ServerProcess,
    commune: &str,
    site: &str,
    inventory: Inventory,
    extra: impl FnOnce(&mut Report),
) -> anyhow::Result<(AgentId, String, String)> {
    let (agent, auth) = agent_at(server, commune, site).await?;
    let mut report = report::build(agent, inventory);
    extra(&mut report);
    let id = send(server, &auth, &report).await?;
    Ok((agent, auth, id))
}

async fn api(
    server: &ServerProcess,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(u16, Value)> {
    let mut request = server
        .http()
        .request(method, server.endpoint(path))
        .bearer_auth(ADMIN_TOKEN);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or_default()))
}

async fn bytes(server: &ServerProcess, path: &str) -> anyhow::Result<Vec<u8>> {
    let response = server
        .http()
        .get(server.endpoint(path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "GET {path}: {}",
        response.status()
    );
    Ok(response.bytes().await?.to_vec())
}

fn items(view: &Value) -> Vec<(String, String, u64, u64)> {
    (view["proposal"]["items"].as_array().into_iter().flatten())
        .map(|i| {
            (
                i["key"].as_str().unwrap_or_default().to_owned(),
                i["purpose"].as_str().unwrap_or_default().to_owned(),
                i["quantity"].as_u64().unwrap_or_default(),
                i["amount_vnd"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn money(n: u64) -> String {
    kiemke_server::proposal::text::money(n)
}

/// Opens the proposal's Word document and workbook in LibreOffice and
/// checks them against the API's view.
fn check_documents(
    office: &Office,
    dir: &Path,
    name: &str,
    view: &Value,
    docx: &[u8],
    xlsx: &[u8],
    expect_in_text: &[&str],
) -> anyhow::Result<()> {
    let docx_path = dir.join(format!("{name}.docx"));
    std::fs::write(&docx_path, docx)?;
    let pdf = office.convert(&docx_path, "pdf", dir)?;
    let text = documents::squeeze(&documents::pdf_text(&pdf)?);
    let png = documents::first_page_png(&pdf, &format!("proposal-{name}-docx"))?;
    assert!(std::fs::metadata(&png)?.len() > 1000, "{}", png.display());

    let total = view["proposal"]["total_vnd"].as_u64().unwrap_or_default();
    let words = view["proposal"]["total_words_vi"]
        .as_str()
        .unwrap_or_default();
    let mut wanted: Vec<String> = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TỜ TRÌNH",
        "Kính gửi:",
        "Nơi nhận:",
        "PHỤ LỤC",
    ]
    .map(str::to_owned)
    .to_vec();
    wanted.extend(expect_in_text.iter().map(|s| (*s).to_owned()));
    wanted.push(format!("Tổng kinh phí đề nghị: {} đồng", money(total)));
    wanted.push(format!("(Bằng chữ: {words})"));
    for item in view["proposal"]["items"].as_array().into_iter().flatten() {
        wanted.push(format!(
            "{}: {} {}, thành tiền {} đồng.",
            item["name_vi"].as_str().unwrap_or_default(),
            item["quantity"],
            item["unit_vi"].as_str().unwrap_or_default().to_lowercase(),
            money(item["amount_vnd"].as_u64().unwrap_or_default())
        ));
    }
    // pdftotext splits some words of justified Vietnamese text at glyph
    // gaps ("đ ồng"): compare without spaces.
    let bare = documents::without_spaces(&text);
    for w in &wanted {
        assert!(
            bare.contains(&documents::without_spaces(w)),
            "{name}.docx → PDF lacks {w:?}:\n{text}"
        );
    }

    // The annex: LibreOffice recomputes the formulas; its amounts and total
    // are the API's.
    let xlsx_path = dir.join(format!("{name}.xlsx"));
    std::fs::write(&xlsx_path, xlsx)?;
    let csv = office.convert(
        &xlsx_path,
        "csv:Text - txt - csv (StarCalc):44,34,76,1",
        dir,
    )?;
    let rows = documents::csv_rows(&csv)?;
    let api_items = view["proposal"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for item in &api_items {
        let no = item["no"].as_u64().unwrap_or_default().to_string();
        let row = rows
            .iter()
            .find(|r| {
                r.first() == Some(&no) && r.get(1).map(String::as_str) == item["name_vi"].as_str()
            })
            .unwrap_or_else(|| panic!("no row for item {no} in {rows:?}"));
        assert_eq!(
            row.get(10).and_then(|c| documents::integer(c)),
            item["amount_vnd"].as_u64(),
            "amount of item {no}: {row:?}"
        );
    }
    let total_row = rows
        .iter()
        .find(|r| r.first().map(String::as_str) == Some("Tổng cộng"))
        .unwrap_or_else(|| panic!("no total row in {rows:?}"));
    assert_eq!(
        total_row.get(10).and_then(|c| documents::integer(c)),
        Some(total),
        "{total_row:?}"
    );
    assert_eq!(
        total_row.get(8).and_then(|c| documents::integer(c)),
        view["proposal"]["total_quantity"].as_u64()
    );
    let xlsx_pdf = office.convert(&xlsx_path, "pdf", dir)?;
    documents::first_page_png(&xlsx_pdf, &format!("proposal-{name}-xlsx"))?;
    Ok(())
}

#[tokio::test]
async fn a_commune_proposal_and_the_province_consolidation_open_in_libreoffice()
-> anyhow::Result<()> {
    // Arrange
    let office = Office::find()?;
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    seed_registry(&data)?;
    let server = ServerProcess::start_with(server_bin(), &data, "127.0.0.1:0", AS_OF)?;
    let pc = |hostname, serial, mac, ip| Pc {
        hostname,
        serial: Some(serial),
        mac: Some(mac),
        ip,
        ..Pc::default()
    };
    // Biển Hồ, service center: an old PC that also measured the line, a
    // recent one that sees the network printer.
    let (agent, auth, _) = report_pc(
        &server,
        "24118",
        "ttpvhcc",
        old_pc(&pc(
            "MOTCUA-01",
            "JQ2G8Y1",
            "f8:bc:12:00:00:01",
            "10.0.0.11",
        )),
        |_| {},
    )
    .await?;
    let probes = Probes {
        pings: Vec::new(),
        speed_tests: vec![slow_line()],
    };
    send(&server, &auth, &report::build_probes(agent, probes)).await?;
    report_pc(
        &server,
        "24118",
        "ttpvhcc",
        recent_pc(&pc(
            "MOTCUA-02",
            "5CG1234ABC",
            "f8:bc:12:00:00:02",
            "10.0.0.12",
        )),
        |r| {
            r.peripherals = Some(Peripherals {
                devices: vec![network_printer()],
                discovery_ran: true,
            });
        },
    )
    .await?;
    // Headquarters: an old PC in the asset register.
    let (_, _, hq_pc) = report_pc(
        &server,
        "24118",
        "tru-so",
        old_pc(&pc(
            "KETOAN-01",
            "8CC3011XYZ",
            "f8:bc:12:00:00:03",
            "10.0.1.11",
        )),
        |_| {},
    )
    .await?;
    let response = server
        .http()
        .put(server.endpoint(&format!("/api/v1/devices/{hq_pc}/asset")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({"asset_tag": "UBND-MT-2017-03", "in_service": "2017-03-15", "cost_vnd": 15_000_000}))
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    // Ia Grai: one old PC.
    report_pc(
        &server,
        "24121",
        "tru-so",
        old_pc(&pc(
            "UBND-IAGRAI",
            "H7K2L9M",
            "f8:bc:12:00:01:01",
            "10.1.0.11",
        )),
        |_| {},
    )
    .await?;

    // Act: a price above the norm without a reason is refused and saves
    // nothing; then the commune's proposal and the consolidation.
    let (status, refused) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/proposals",
        Some(json!({"commune": "24118", "prices": [{"item": "desktop", "unit_price_vnd": 25_000_000}]})),
    )
    .await?;
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap_or_default()
            .contains("vượt giá tối đa theo định mức"),
        "{refused}"
    );
    let (_, list) = api(&server, reqwest::Method::GET, "/api/v1/proposals", None).await?;
    assert_eq!(list["proposals"].as_array().map(Vec::len), Some(0));

    let (status, commune) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/proposals",
        Some(json!({"commune": "24118", "date": "2026-07-02"})),
    )
    .await?;
    assert_eq!(status, 201, "{commune}");
    let (status, province) = api(
        &server,
        reqwest::Method::POST,
        "/api/v1/proposals",
        Some(json!({"province": true, "date": "2026-07-03"})),
    )
    .await?;
    assert_eq!(status, 201, "{province}");

    // Assert: what was proposed, and why.
    assert_eq!(commune["number"], "1/TTr-UBND");
    assert_eq!(commune["state"], "draft");
    assert_eq!(
        items(&commune),
        [
            (
                "desktop".to_owned(),
                "replacement".to_owned(),
                2,
                40_000_000
            ),
            ("printer".to_owned(), "shortfall".to_owned(), 6, 78_000_000),
            ("scanner".to_owned(), "shortfall".to_owned(), 2, 44_000_000),
            ("line-upgrade".to_owned(), "line_upgrade".to_owned(), 1, 0),
        ]
    );
    assert_eq!(commune["proposal"]["total_vnd"], 162_000_000);
    assert_eq!(
        commune["proposal"]["total_words_vi"],
        "Một trăm sáu mươi hai triệu đồng chẵn"
    );
    let desktops = &commune["proposal"]["items"][0];
    assert_eq!(desktops["held"], 3);
    let replaced: Vec<&str> = (desktops["replaces"].as_array().into_iter().flatten())
        .filter_map(|d| d["label"].as_str())
        .collect();
    assert_eq!(replaced.len(), 2);
    assert!(
        replaced.contains(&"Mã TS UBND-MT-2017-03, S/N 8CC3011XYZ"),
        "{replaced:?}"
    );
    let reason = desktops["reason_vi"].as_str().unwrap_or_default();
    assert!(
        reason.contains("hết hạn sử dụng") && reason.contains("Windows 11"),
        "{reason}"
    );
    let line = commune["proposal"]["items"][3]["reason_vi"]
        .as_str()
        .unwrap_or_default();
    assert!(
        line.contains("45,3 Mbps") && line.contains("dưới mục tiêu 200 Mbps"),
        "{line}"
    );

    assert_eq!(province["number"], "1/TTr-SKHCN");
    assert_eq!(province["proposal"]["total_vnd"], 230_000_000);
    let by_commune: Vec<(String, u64)> = (province["proposal"]["by_commune"]
        .as_array()
        .into_iter()
        .flatten())
    .map(|c| {
        (
            c["name_vi"].as_str().unwrap_or_default().to_owned(),
            c["amount_vnd"].as_u64().unwrap_or_default(),
        )
    })
    .collect();
    assert_eq!(
        by_commune,
        [
            ("Xã Biển Hồ".to_owned(), 162_000_000),
            ("Xã Ia Grai".to_owned(), 68_000_000)
        ]
    );

    // The documents, downloaded now (regenerating gives the same bytes)
    // and opened once the server is stopped: the harness's client would
    // otherwise reuse connections the server closed while LibreOffice ran.
    let id = commune["id"].as_u64().unwrap_or_default();
    let pid = province["id"].as_u64().unwrap_or_default();
    let commune_docx = bytes(&server, &format!("/api/v1/proposals/{id}/docx")).await?;
    assert_eq!(
        commune_docx,
        bytes(&server, &format!("/api/v1/proposals/{id}/docx")).await?
    );
    let commune_xlsx = bytes(&server, &format!("/api/v1/proposals/{id}/xlsx")).await?;
    assert_eq!(
        commune_xlsx,
        bytes(&server, &format!("/api/v1/proposals/{id}/xlsx")).await?
    );
    let province_docx = bytes(&server, &format!("/api/v1/proposals/{pid}/docx")).await?;
    let province_xlsx = bytes(&server, &format!("/api/v1/proposals/{pid}/xlsx")).await?;
    let html = String::from_utf8(bytes(&server, &format!("/proposals/{id}")).await?)?;
    assert!(html.contains("Bằng chữ: Một trăm sáu mươi hai triệu đồng chẵn"));

    // States: a draft is not approved before it is submitted.
    let path = format!("/api/v1/proposals/{id}/transition");
    let (status, _) = api(
        &server,
        reqwest::Method::POST,
        &path,
        Some(json!({"to": "approved"})),
    )
    .await?;
    assert_eq!(status, 409);
    let (status, submitted) = api(
        &server,
        reqwest::Method::POST,
        &path,
        Some(json!({"to": "submitted"})),
    )
    .await?;
    assert_eq!(
        (status, submitted["state"].as_str()),
        (200, Some("submitted"))
    );
    assert_eq!(submitted["history"][0]["by"], "admin-token");

    // A later report changes nothing in a saved proposal (its input is
    // frozen), while a new one sees it.
    report_pc(
        &server,
        "24118",
        "tru-so",
        old_pc(&pc(
            "VANTHU-01",
            "9ZZ0001AAA",
            "f8:bc:12:00:00:04",
            "10.0.1.12",
        )),
        |_| {},
    )
    .await?;
    let (_, again) = api(
        &server,
        reqwest::Method::GET,
        &format!("/api/v1/proposals/{id}"),
        None,
    )
    .await?;
    assert_eq!(again["proposal"], commune["proposal"]);

    // The command line, on the stopped server's store.
    server.kill9()?;
    let out = dir.path().join("cli.xlsx");
    let output = std::process::Command::new(server_bin())
        .args([
            "proposal",
            "--commune",
            "24118",
            "--format",
            "xlsx",
            "--evaluation-date",
            "2026-06-30",
            "-o",
        ])
        .arg(&out)
        .arg("--data")
        .arg(&data)
        .output()?;
    let printed = crate::text(&output);
    assert!(output.status.success(), "{printed}");
    // The fourth old PC is in now: 3 desktops.
    assert!(printed.contains("tổng 182.000.000 đồng"), "{printed}");
    assert!(std::fs::metadata(&out)?.len() > 1000);

    // The documents, opened as a reviewer would.
    check_documents(
        &office,
        dir.path(),
        "xa-bien-ho",
        &commune,
        &commune_docx,
        &commune_xlsx,
        &[
            "ỦY BAN NHÂN DÂN XÃ BIỂN HỒ",
            "Số: 1/TTr-UBND",
            "Biển Hồ, ngày 02 tháng 7 năm 2026",
            "xã Biển Hồ",
        ],
    )?;
    check_documents(
        &office,
        dir.path(),
        "tinh-gia-lai",
        &province,
        &province_docx,
        &province_xlsx,
        &[
            "SỞ KHOA HỌC VÀ CÔNG NGHỆ",
            "ỦY BAN NHÂN DÂN TỈNH GIA LAI",
            "Xã Biển Hồ",
            "Xã Ia Grai",
        ],
    )?;
    Ok(())
}
