//! The survey in a real browser (headless Chromium over WebDriver) against
//! the real server holding a seeded province: a commune officer sees only
//! their commune (another commune's page is 403), a province admin sees the
//! overview with each commune's light as the fixture was built, opens a
//! commune and a device, and downloads the XLSX; LibreOffice opens that
//! workbook and its numbers equal the API's. Screenshots of the overview, a
//! commune and a device page land in `<target>/screenshots/`.

use std::io::Write;
use std::process::{Command, Stdio};

use anyhow::{Context, ensure};
use chrono::Utc;
use fantoccini::Locator;
use kiemke_server::fixture::{self, FixtureSpec};
use kiemke_tests::browser::Browser;
use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};

use crate::{server_bin, text};

/// The fixture both the server (through `kiemke-server fixture`) and the
/// test (to know each commune's profile) generate from the same seed.
fn spec() -> FixtureSpec {
    FixtureSpec {
        seed: 2026,
        communes: 6,
        pcs_min: 20,
        pcs_max: 22,
        now: Utc::now(),
        province: "Gia Lai".into(),
    }
}

fn run_server_command(
    args: &[&str],
    data: &std::path::Path,
    stdin: Option<&str>,
) -> anyhow::Result<()> {
    let mut child = Command::new(server_bin())
        .args(args)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())?;
    }
    let output = child.wait_with_output()?;
    ensure!(output.status.success(), "{args:?}: {}", text(&output));
    Ok(())
}

/// Loads the fixture province `spec` describes into `data` with the
/// server's own `fixture` command (the same generator the test reads).
pub(crate) fn load_fixture(data: &std::path::Path, spec: &FixtureSpec) -> anyhow::Result<()> {
    let (seed, communes) = (spec.seed.to_string(), spec.communes.to_string());
    let (pcs_min, pcs_max) = (spec.pcs_min.to_string(), spec.pcs_max.to_string());
    run_server_command(
        &[
            "fixture",
            "--seed",
            &seed,
            "--communes",
            &communes,
            "--pcs-min",
            &pcs_min,
            "--pcs-max",
            &pcs_max,
        ],
        data,
        None,
    )
}

/// Adds a user with `user add`: an officer of `commune`, or a province
/// administrator without one.
pub(crate) fn add_user(
    data: &std::path::Path,
    name: &str,
    commune: Option<&str>,
    password: &str,
) -> anyhow::Result<()> {
    let mut args = vec!["user", "add", name, "--role"];
    match commune {
        Some(code) => args.extend(["commune-officer", "--commune", code]),
        None => args.push("province-admin"),
    }
    args.push("--password-stdin");
    run_server_command(&args, data, Some(password))
}

const OFFICER_PASSWORD: &str = "mat-khau-can-bo-xa-2026";
const ADMIN_PASSWORD: &str = "mat-khau-quan-tri-tinh-2026";

#[tokio::test(flavor = "multi_thread")]
async fn officers_see_their_commune_admins_the_province_and_the_xlsx_matches_the_api()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let spec = spec();
    let built = fixture::generate(&spec);
    let own = built.communes[0].record.code.to_string();
    let other = built.communes[1].record.code.to_string();
    load_fixture(&data, &spec)?;
    add_user(&data, "canbo", Some(&own), OFFICER_PASSWORD)?;
    add_user(&data, "sokhcn", None, ADMIN_PASSWORD)?;
    let server = ServerProcess::start(server_bin(), &data)?;
    let base = server.url.clone();

    // A commune officer: their commune, nothing else.
    let browser = Browser::start().await?;
    browser
        .log_in(
            &base,
            "canbo",
            OFFICER_PASSWORD,
            &format!("/communes/{own}"),
        )
        .await?;
    let page = browser.text().await?;
    ensure!(
        page.contains(&built.communes[0].record.full_name_vi()),
        "{page}"
    );
    browser
        .client
        .goto(&format!("{base}communes/{other}"))
        .await?;
    let page = browser.text().await?;
    ensure!(
        page.contains("Không có quyền truy cập"),
        "another commune: {page}"
    );
    let overview = browser.open(&format!("{base}survey")).await?;
    let rows = browser
        .client
        .find_all(Locator::Css("#communes tbody tr"))
        .await?;
    ensure!(
        rows.len() == 1,
        "the officer's overview has their commune only: {overview}"
    );
    let status = server
        .http()
        .get(server.endpoint(&format!("/communes/{other}")))
        .header("cookie", officer_cookie(&browser).await?)
        .send()
        .await?
        .status();
    ensure!(status == 403, "another commune's page: {status}");
    browser.close().await;

    // The province admin: the overview with the lights the fixture built.
    let browser = Browser::start().await?;
    browser
        .log_in(&base, "sokhcn", ADMIN_PASSWORD, "/survey")
        .await?;
    for commune in &built.communes {
        let want = match commune.profile.expected_unmet() {
            0 => "xanh",
            1..=5 => "vang",
            _ => "do",
        };
        let row = browser
            .client
            .find(Locator::Css(&format!(
                "tr[data-code='{}']",
                commune.record.code
            )))
            .await
            .with_context(|| format!("row of {}", commune.record.code))?;
        let light = row.attr("data-light").await?.unwrap_or_default();
        ensure!(
            light == want,
            "{}: {light}, built as {want}",
            commune.record.name
        );
    }
    let shot = browser.screenshot("survey-overview").await?;
    ensure!(
        std::fs::metadata(&shot)?.len() > 10_000,
        "{}",
        shot.display()
    );

    // A commune, then one of its PCs.
    browser
        .client
        .find(Locator::Css(&format!("tr[data-code='{own}'] a")))
        .await?
        .click()
        .await?;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#sites"))
        .await?;
    ensure!(
        browser
            .client
            .find_all(Locator::Css("svg.trend"))
            .await?
            .len()
            == built.communes[0].sites.len()
    );
    browser.screenshot("survey-commune").await?;
    browser
        .client
        .find(Locator::Css("#devices a[href^='/devices/']"))
        .await?
        .click()
        .await?;
    browser
        .client
        .wait()
        .for_element(Locator::Css("#status"))
        .await?;
    browser.screenshot("survey-device").await?;

    // The workbook, as a user downloads it.
    browser.client.goto(&format!("{base}survey")).await?;
    browser
        .client
        .find(Locator::Id("export-xlsx"))
        .await?
        .click()
        .await?;
    let downloaded = browser.downloaded(".xlsx").await?;
    let xlsx = dir.path().join("khao-sat.xlsx");
    std::fs::copy(&downloaded, &xlsx)?;
    browser.close().await;

    // LibreOffice opens it; its summary sheet has the API's numbers.
    let api: serde_json::Value = server
        .http()
        .get(server.endpoint("/api/v1/survey"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .json()
        .await?;
    let rows = libreoffice_csv(&xlsx, dir.path())?;
    let header = &rows[0];
    let col = |title: &str| {
        header
            .iter()
            .position(|h| h == title)
            .with_context(|| title.to_owned())
    };
    let communes = api["communes"].as_array().context("communes")?;
    ensure!(rows.len() == 1 + communes.len(), "{} rows", rows.len());
    for (row, c) in rows[1..].iter().zip(communes) {
        ensure!(row[col("Mã xã")?] == c["code"].as_str().unwrap_or_default());
        for (title, key) in [
            ("Số máy tính", "pcs"),
            ("Đề xuất thay thế", "replace"),
            ("Tỷ lệ thay thế (%)", "replace_share_percent"),
            ("Cần theo dõi", "watch"),
            ("Điểm đạt mục tiêu đường truyền", "sites_meeting_target"),
            ("Tổng thiết bị", "devices_total"),
            ("Máy tính im lặng > 7 ngày", "silent_pcs"),
        ] {
            let cell: f64 = row[col(title)?]
                .parse()
                .with_context(|| format!("{title}: {:?}", row[col(title).unwrap_or(0)]))?;
            let want = c[key].as_f64().with_context(|| key.to_owned())?;
            ensure!(
                (cell - want).abs() < 1e-9,
                "{}: {title} {cell} vs API {want}",
                c["code"]
            );
        }
        ensure!(row[col("Đèn")?] == light_label(c["light"].as_str().unwrap_or_default()));
    }
    drop(server);
    Ok(())
}

fn light_label(key: &str) -> &'static str {
    match key {
        "xanh" => "XANH",
        "vang" => "VÀNG",
        _ => "ĐỎ",
    }
}

/// The browser's session cookie, for a request outside the browser.
pub(crate) async fn officer_cookie(browser: &Browser) -> anyhow::Result<String> {
    let cookie = browser.client.get_named_cookie("kiemke_session").await?;
    Ok(format!("kiemke_session={}", cookie.value()))
}

/// The first sheet of `xlsx` as LibreOffice exports it to CSV (UTF-8,
/// comma-separated), parsed.
fn libreoffice_csv(
    xlsx: &std::path::Path,
    scratch: &std::path::Path,
) -> anyhow::Result<Vec<Vec<String>>> {
    let out = scratch.join("libreoffice-out");
    let profile = scratch.join("libreoffice-profile");
    std::fs::create_dir_all(&out)?;
    let output = Command::new("libreoffice")
        .arg(format!("-env:UserInstallation=file://{}", profile.display()))
        .args(["--headless", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1", "--outdir"])
        .arg(&out)
        .arg(xlsx)
        .output()
        .context("LibreOffice is not installed: apt-get install libreoffice-calc-nogui (.ci/run installs it)")?;
    ensure!(output.status.success(), "libreoffice: {}", text(&output));
    let stem = xlsx.file_stem().context("file name")?;
    let csv_path = out.join(stem).with_extension("csv");
    let bytes = std::fs::read(&csv_path)
        .with_context(|| format!("{}: {}", csv_path.display(), text(&output)))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut rows = Vec::new();
    for record in reader.records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}
