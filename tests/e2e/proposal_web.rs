//! Proposals in a real browser (headless Chromium over WebDriver) against
//! the real server holding a seeded province: a commune officer opens their
//! commune's page, follows "Lập tờ trình đề xuất", sets a unit price above
//! the norm with its reason (printed in the annex) and creates the
//! proposal, finds it in the list and submits it; an officer of another
//! commune sees neither the list entry nor the page; the province admin
//! consolidates two communes and approves the officer's proposal.
//! Screenshots of the form, the print view, the list and the consolidation
//! land in `<target>/screenshots/`.

use anyhow::{Context, ensure};
use chrono::Utc;
use fantoccini::Locator;
use kiemke_server::fixture::{self, FixtureSpec};
use kiemke_tests::browser::Browser;
use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};
use serde_json::Value;

use crate::browser::{add_user, load_fixture, officer_cookie};
use crate::server_bin;

const OFFICER_PASSWORD: &str = "mat-khau-can-bo-xa-2026";
const OTHER_PASSWORD: &str = "mat-khau-can-bo-khac-2026";
const ADMIN_PASSWORD: &str = "mat-khau-quan-tri-tinh-2026";

fn spec() -> FixtureSpec {
    FixtureSpec {
        seed: 7,
        communes: 3,
        pcs_min: 10,
        pcs_max: 12,
        now: Utc::now(),
        province: "Gia Lai".into(),
    }
}

/// Waits for the print view's state to read `label`.
async fn wait_for_state(browser: &Browser, label: &str) -> anyhow::Result<()> {
    browser
        .client
        .wait()
        .for_element(Locator::XPath(&format!(
            "//span[@id='state' and contains(., '{label}')]"
        )))
        .await
        .with_context(|| format!("the state never read {label:?}"))?;
    Ok(())
}

/// The proposal id of the print view the browser is on.
async fn current_id(browser: &Browser) -> anyhow::Result<u64> {
    let url = browser.client.current_url().await?;
    url.path()
        .strip_prefix("/proposals/")
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("not a print view: {url}"))
}

async fn api(server: &ServerProcess, path: &str) -> anyhow::Result<Value> {
    Ok(server
        .http()
        .get(server.endpoint(path))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn officers_draw_up_and_submit_admins_consolidate_and_approve_in_a_browser()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("server");
    let spec = spec();
    let built = fixture::generate(&spec);
    let own = built.communes[0].record.code.to_string();
    let own_name = built.communes[0].record.full_name_vi();
    let other = built.communes[1].record.code.to_string();
    load_fixture(&data, &spec)?;
    add_user(&data, "canbo", Some(&own), OFFICER_PASSWORD)?;
    add_user(&data, "canbokhac", Some(&other), OTHER_PASSWORD)?;
    add_user(&data, "sokhcn", None, ADMIN_PASSWORD)?;
    let server = ServerProcess::start(server_bin(), &data)?;
    let base = server.url.clone();

    // The officer: from the commune page to a saved draft.
    let browser = Browser::start().await?;
    browser
        .log_in(
            &base,
            "canbo",
            OFFICER_PASSWORD,
            &format!("/communes/{own}"),
        )
        .await?;
    browser
        .client
        .find(Locator::Id("new-proposal"))
        .await
        .context("the commune page links to the proposal form")?
        .click()
        .await?;
    let form = browser
        .client
        .wait()
        .for_element(Locator::Id("proposal-form"))
        .await?;
    let page = browser.text().await?;
    ensure!(
        page.contains(&own_name),
        "the form names the commune: {page}"
    );
    // A desktop above the norm's maximum, with the reason the annex prints.
    let reason = "Máy cho bộ phận một cửa, cấu hình cao hơn";
    let fields = browser.client.form(Locator::Id("proposal-form")).await?;
    fields.set_by_name("price_desktop", "21.000.000").await?;
    fields.set_by_name("reason_desktop", reason).await?;
    browser.screenshot("proposal-form").await?;
    form.find(Locator::Id("create")).await?.click().await?;
    wait_for_state(&browser, "Dự thảo").await?;
    let id = current_id(&browser).await?;
    let page = browser.text().await?;
    ensure!(
        page.contains("TỜ TRÌNH") && page.contains("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
        "{page}"
    );
    let saved = api(&server, &format!("/api/v1/proposals/{id}")).await?;
    ensure!(saved["author"] == "canbo" && saved["scope"]["commune"] == own.as_str());
    ensure!(
        saved["prices"][0]["unit_price_vnd"] == 21_000_000
            && saved["prices"][0]["above_norm_reason"] == reason,
        "{}",
        saved["prices"]
    );
    ensure!(
        page.contains("Đơn giá vượt mức tối đa 20.000.000 đ theo định mức")
            && page.contains(reason),
        "the annex prints the reason: {page}"
    );
    let number = saved["number"].as_str().context("number")?.to_owned();
    let total = kiemke_server::proposal::text::money(
        saved["proposal"]["total_vnd"].as_u64().context("total")?,
    );
    ensure!(
        page.contains(&total),
        "the page shows the API's total {total}"
    );
    browser.screenshot("proposal-print-view").await?;

    // Listed; submitted from the print view.
    browser
        .client
        .find(Locator::LinkText("← Danh sách tờ trình"))
        .await?
        .click()
        .await?;
    let rows = browser
        .client
        .wait()
        .for_element(Locator::Css("#proposals tbody"))
        .await?
        .find_all(Locator::Css("tr"))
        .await?;
    ensure!(rows.len() == 1, "{} rows", rows.len());
    let row = rows[0].text().await?;
    ensure!(
        row.contains(&number) && row.contains("Dự thảo") && row.contains(&own_name),
        "{row}"
    );
    browser.screenshot("proposal-list").await?;
    rows[0]
        .find(Locator::Css(&format!("a[href^='/proposals/{id}']")))
        .await?
        .click()
        .await?;
    browser
        .client
        .wait()
        .for_element(Locator::Id("to-submitted"))
        .await?
        .click()
        .await?;
    wait_for_state(&browser, "Đã trình").await?;
    ensure!(
        browser
            .client
            .find_all(Locator::Id("to-approved"))
            .await?
            .is_empty(),
        "approving is not the officer's"
    );
    browser.close().await;

    // Another commune's officer: neither in the list nor the page.
    let browser = Browser::start().await?;
    browser
        .log_in(&base, "canbokhac", OTHER_PASSWORD, "/proposals")
        .await?;
    browser
        .client
        .wait()
        .for_element(Locator::Id("no-proposals"))
        .await
        .context("another commune's list is empty")?;
    let page = browser.open(&format!("{base}proposals/{id}")).await?;
    ensure!(
        page.contains("Không có quyền truy cập") && !page.contains(&number),
        "{page}"
    );
    let status = server
        .http()
        .get(server.endpoint(&format!("/proposals/{id}")))
        .header("cookie", officer_cookie(&browser).await?)
        .send()
        .await?
        .status();
    ensure!(status == 403, "another commune's proposal: {status}");
    browser.close().await;

    // The province admin: a consolidation of two communes, then a decision.
    let browser = Browser::start().await?;
    browser
        .log_in(&base, "sokhcn", ADMIN_PASSWORD, "/proposals")
        .await?;
    browser
        .client
        .find(Locator::Id("create-province"))
        .await?
        .click()
        .await?;
    let form = browser
        .client
        .wait()
        .for_element(Locator::Id("proposal-form"))
        .await?;
    form.find(Locator::Css("input[name='scope'][value='selected']"))
        .await?
        .click()
        .await?;
    for code in [&own, &other] {
        form.find(Locator::Css(&format!(
            "input[name='commune'][value='{code}']"
        )))
        .await?
        .click()
        .await?;
    }
    form.find(Locator::Id("create")).await?.click().await?;
    wait_for_state(&browser, "Dự thảo").await?;
    let consolidation = current_id(&browser).await?;
    let saved = api(&server, &format!("/api/v1/proposals/{consolidation}")).await?;
    ensure!(saved["scope"]["kind"] == "province", "{}", saved["scope"]);
    ensure!(
        saved["number"]
            .as_str()
            .is_some_and(|n| n.ends_with("/TTr-SKHCN")),
        "{}",
        saved["number"]
    );
    let communes: Vec<&str> = saved["proposal"]["by_commune"]
        .as_array()
        .context("by_commune")?
        .iter()
        .filter_map(|c| c["key"].as_str())
        .collect();
    let mut want = [own.as_str(), other.as_str()];
    want.sort_unstable();
    ensure!(communes == want, "the communes ticked: {communes:?}");
    browser.screenshot("proposal-consolidation").await?;

    browser.open(&format!("{base}proposals/{id}")).await?;
    browser
        .client
        .find(Locator::Id("to-approved"))
        .await?
        .click()
        .await?;
    wait_for_state(&browser, "Đã phê duyệt").await?;
    browser.close().await;
    let saved = api(&server, &format!("/api/v1/proposals/{id}")).await?;
    ensure!(saved["state"] == "approved", "{}", saved["state"]);
    let by: Vec<&str> = saved["history"]
        .as_array()
        .context("history")?
        .iter()
        .filter_map(|t| t["by"].as_str())
        .collect();
    ensure!(by == ["canbo", "sokhcn"], "{by:?}");
    drop(server);
    Ok(())
}
