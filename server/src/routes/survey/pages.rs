//! The survey's pages: the province overview (`/survey`: one table of
//! communes, sorted and filtered by query parameters so it works without
//! JavaScript, with the province's totals) and a commune (`/communes/{code}`:
//! its light and unmet criteria, sites with their lines and 30-day charts,
//! devices with status and reasons, silent PCs).

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};
use kiemke_shared::Lang;
use serde::Deserialize;

use super::{Refusal, readable};
use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::lines::Verdict;
use crate::policy::{Category, Status};
use crate::routes::home::format;
use crate::routes::home::labels::Labels;
use crate::routes::lang::PageLang;
use crate::state::AppState;
use crate::survey::{self, CommuneSummary, Light};

/// The other language's tag, for `base.html`'s switch link.
pub fn other_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::Vi => "en",
        Lang::En => "vi",
    }
}

#[derive(Template)]
#[template(path = "survey_error.html")]
pub struct ErrorPage {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub t: &'static Labels,
    pub l: Lang,
    pub heading: &'static str,
    pub message: String,
}

impl ErrorPage {
    pub fn new(lang: Lang, status: StatusCode, message: String) -> ErrorPage {
        let heading = match status {
            StatusCode::FORBIDDEN => lang.pick("Không có quyền truy cập", "Access denied"),
            StatusCode::NOT_FOUND => lang.pick("Không tìm thấy", "Not found"),
            _ => lang.pick("Yêu cầu không hợp lệ", "Invalid request"),
        };
        ErrorPage {
            lang: lang.tag(),
            other_lang: other_tag(lang),
            t: crate::routes::home::labels::labels(lang),
            l: lang,
            heading,
            message,
        }
    }
}

pub fn render(page: &impl Template, lang: Lang) -> Result<Response, AppError> {
    page.render()
        .map(|html| Html(html).into_response())
        .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))
}

/// `?sort=&dir=&light=&q=` of the overview.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct OverviewQuery {
    /// code, name, light, devices, replace, lines, last, silent.
    pub sort: Option<String>,
    /// asc or desc.
    pub dir: Option<String>,
    /// xanh, vang or do.
    pub light: Option<String>,
    /// Part of the commune's name or code.
    pub q: Option<String>,
}

const SORT_KEYS: [&str; 8] = [
    "code", "name", "light", "devices", "replace", "lines", "last", "silent",
];

/// One commune row, formatted.
pub struct OverviewRow {
    pub code: String,
    pub href: String,
    pub name: String,
    pub light_key: &'static str,
    pub light: &'static str,
    pub unmet: Vec<String>,
    pub pcs: u64,
    pub printers: u64,
    pub scanners: u64,
    pub other: u64,
    pub total: u64,
    pub replace: String,
    pub watch: String,
    pub lines: String,
    pub last: String,
    pub silent: u64,
}

/// A sortable column header.
pub struct Column {
    pub label: &'static str,
    pub href: String,
    /// ▲ or ▼ on the sorted column.
    pub mark: &'static str,
}

#[derive(Template)]
#[template(path = "survey.html")]
pub struct OverviewPage {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub t: &'static Labels,
    pub l: Lang,
    pub columns: Vec<Column>,
    pub rows: Vec<OverviewRow>,
    pub totals: Vec<(String, String)>,
    pub q: String,
    pub light: String,
    pub sort: String,
    pub dir: String,
    pub export_xlsx: String,
    pub export_csv: String,
    pub may_create: bool,
}

fn count(c: &CommuneSummary, categories: &[Category]) -> u64 {
    categories
        .iter()
        .filter_map(|k| c.devices_by_category.get(k))
        .sum()
}

const PRINTERS: [Category; 3] = [Category::Printer, Category::Mfp, Category::Photocopier];
const SCANNERS: [Category; 1] = [Category::Scanner];
const OTHER: [Category; 2] = [Category::NetworkGear, Category::Other];

fn percent(value: f64, lang: Lang) -> String {
    let text = format!("{value:.1} %");
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

fn when(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| format::MISSING.to_owned(), format::time)
}

fn overview_row(c: &CommuneSummary, lang: Lang) -> OverviewRow {
    OverviewRow {
        href: format!("/communes/{}?lang={}", c.code, lang.tag()),
        code: c.code.clone(),
        name: c.name.clone(),
        light_key: c.light.key(),
        light: c.light.label(lang),
        unmet: c.unmet.iter().map(|u| u.text(lang).to_owned()).collect(),
        pcs: c.pcs,
        printers: count(c, &PRINTERS),
        scanners: count(c, &SCANNERS),
        other: count(c, &OTHER),
        total: c.devices_total,
        replace: percent(c.replace_share_percent, lang),
        watch: percent(c.watch_share_percent, lang),
        lines: format!("{}/{}", c.sites_meeting_target, c.sites),
        last: when(c.last_report),
        silent: c.silent_pcs,
    }
}

fn invalid(field: &str, vi: String, en: String) -> Refusal {
    Refusal::Invalid {
        field: field.into(),
        vi,
        en,
    }
}

/// Filters and sorts the communes as the query asks.
pub fn select<'a>(
    communes: &'a [CommuneSummary],
    query: &OverviewQuery,
) -> Result<Vec<&'a CommuneSummary>, Refusal> {
    let sort = query.sort.as_deref().unwrap_or("code");
    if !SORT_KEYS.contains(&sort) {
        return Err(invalid(
            "sort",
            format!("Cột sắp xếp phải là một trong {}.", SORT_KEYS.join(", ")),
            format!("sort must be one of {}.", SORT_KEYS.join(", ")),
        ));
    }
    let desc = match query.dir.as_deref().unwrap_or("asc") {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(invalid(
                "dir",
                "Chiều sắp xếp phải là asc hoặc desc.".into(),
                "dir must be asc or desc.".into(),
            ));
        }
    };
    let light = match query.light.as_deref().filter(|l| !l.is_empty()) {
        None => None,
        Some(l) => Some(l.parse::<Light>().map_err(|_| {
            invalid(
                "light",
                "Đèn phải là xanh, vang hoặc do.".into(),
                "light must be xanh, vang or do.".into(),
            )
        })?),
    };
    let q = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    if q.chars().count() > 100 {
        return Err(invalid(
            "q",
            "Từ khóa tìm kiếm dài tối đa 100 ký tự.".into(),
            "The search text is at most 100 characters.".into(),
        ));
    }
    let mut rows: Vec<&CommuneSummary> = (communes.iter())
        .filter(|c| light.is_none_or(|l| c.light == l))
        .filter(|c| q.is_empty() || c.name.to_lowercase().contains(&q) || c.code.contains(&q))
        .collect();
    rows.sort_by(|a, b| {
        let order = match sort {
            "name" => a.name.cmp(&b.name),
            "light" => (a.light, a.unmet.len()).cmp(&(b.light, b.unmet.len())),
            "devices" => a.devices_total.cmp(&b.devices_total),
            "replace" => a.replace_share_percent.total_cmp(&b.replace_share_percent),
            "lines" => (a.sites_meeting_target * 1000)
                .checked_div(a.sites.max(1))
                .cmp(&(b.sites_meeting_target * 1000).checked_div(b.sites.max(1))),
            "last" => a.last_report.cmp(&b.last_report),
            "silent" => a.silent_pcs.cmp(&b.silent_pcs),
            _ => std::cmp::Ordering::Equal,
        };
        let order = order.then_with(|| a.code.cmp(&b.code));
        if desc { order.reverse() } else { order }
    });
    Ok(rows)
}

fn query_string(lang: Lang, pairs: &[(&str, &str)]) -> String {
    let mut out = format!("lang={}", lang.tag());
    for (k, v) in pairs {
        if !v.is_empty() {
            out.push('&');
            out.push_str(k);
            out.push('=');
            out.push_str(&urlencode(v));
        }
    }
    out
}

/// Percent-encodes a query value (the few characters a search can hold).
pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub async fn overview(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    query: Result<Query<OverviewQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(query) =
        query.map_err(|e| AppError::new(lang, Failure::InvalidQuery(e.body_text())))?;
    let survey = super::api::visible_overview(&state, &viewer)
        .await
        .in_lang(lang)?;
    let rows = match select(&survey.communes, &query) {
        Ok(rows) => rows,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let sort = query.sort.clone().unwrap_or_else(|| "code".into());
    let dir = query.dir.clone().unwrap_or_else(|| "asc".into());
    let q = query.q.clone().unwrap_or_default();
    let light = query.light.clone().unwrap_or_default();
    let column = |key: &str, label: &'static str| {
        let next = if sort == key && dir == "asc" {
            "desc"
        } else {
            "asc"
        };
        Column {
            label,
            href: format!(
                "/survey?{}",
                query_string(
                    lang,
                    &[("sort", key), ("dir", next), ("light", &light), ("q", &q)]
                )
            ),
            mark: match (sort == key, dir.as_str()) {
                (true, "desc") => " ▼",
                (true, _) => " ▲",
                _ => "",
            },
        }
    };
    let columns = vec![
        column("code", lang.pick("Mã xã", "Code")),
        column("name", lang.pick("Xã, phường", "Commune")),
        column("light", lang.pick("Đèn", "Light")),
        column("devices", lang.pick("Thiết bị", "Devices")),
        column("replace", lang.pick("Đề xuất thay thế", "Replace")),
        column(
            "lines",
            lang.pick("Đường truyền đạt", "Lines meeting target"),
        ),
        column("last", lang.pick("Báo cáo gần nhất", "Last report")),
        column(
            "silent",
            lang.pick("Máy im lặng > 7 ngày", "Silent > 7 days"),
        ),
    ];
    let t = &survey.totals;
    let totals = vec![
        (
            lang.pick("Số xã, phường", "Communes").to_owned(),
            t.communes.to_string(),
        ),
        (
            lang.pick("XANH / VÀNG / ĐỎ", "GREEN / YELLOW / RED")
                .to_owned(),
            format!("{} / {} / {}", t.xanh, t.vang, t.do_),
        ),
        (
            lang.pick("Tổng thiết bị", "Devices").to_owned(),
            t.devices_total.to_string(),
        ),
        (lang.pick("Máy tính", "PCs").to_owned(), t.pcs.to_string()),
        (
            lang.pick("Máy tính đề xuất thay thế", "PCs due for replacement")
                .to_owned(),
            t.replace.to_string(),
        ),
        (
            lang.pick("Máy tính cần theo dõi", "PCs to watch")
                .to_owned(),
            t.watch.to_string(),
        ),
        (
            lang.pick(
                "Điểm có đường truyền đạt mục tiêu",
                "Sites whose line meets its target",
            )
            .to_owned(),
            format!("{}/{}", t.sites_meeting_target, t.sites),
        ),
        (
            lang.pick("Máy tính im lặng quá 7 ngày", "PCs silent over 7 days")
                .to_owned(),
            t.silent_pcs.to_string(),
        ),
    ];
    let page = OverviewPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: crate::routes::home::labels::labels(lang),
        l: lang,
        columns,
        rows: rows.iter().map(|c| overview_row(c, lang)).collect(),
        totals,
        q,
        light,
        sort,
        dir,
        export_xlsx: format!("/export/survey.xlsx?lang={}", lang.tag()),
        export_csv: format!("/export/survey.csv?lang={}", lang.tag()),
        may_create: viewer.is_province_admin(),
    };
    render(&page, lang)
}

/// A site row of the commune page.
pub struct SiteRow {
    pub code: String,
    pub name: String,
    pub kind: &'static str,
    pub target: u32,
    pub best_down: String,
    pub best_up: String,
    pub tests: u32,
    pub meets_key: &'static str,
    pub meets: &'static str,
    pub chart: String,
    pub edit_href: String,
}

/// A device row of the commune page.
pub struct DeviceRow {
    pub href: Option<String>,
    pub name: String,
    pub category: &'static str,
    pub site: String,
    pub model: String,
    pub status_key: &'static str,
    pub status: &'static str,
    pub reasons: Vec<String>,
    pub in_service: String,
    pub last_seen: String,
    pub silent: bool,
}

#[derive(Template)]
#[template(path = "commune.html")]
pub struct CommunePage {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub t: &'static Labels,
    pub l: Lang,
    pub code: String,
    pub name: String,
    pub light_key: &'static str,
    pub light: &'static str,
    pub unmet: Vec<String>,
    pub facts: Vec<(String, String)>,
    pub sites: Vec<SiteRow>,
    pub devices: Vec<DeviceRow>,
    pub silent: Vec<DeviceRow>,
    pub may_edit: bool,
    /// The commune's manual assets (see `assets`).
    pub manual_assets: Vec<super::assets::AssetRow>,
    pub back_href: String,
    pub export_xlsx: String,
    pub export_csv: String,
}

fn mbps(value: Option<f64>, lang: Lang) -> String {
    value.map_or_else(
        || format::MISSING.to_owned(),
        |v| {
            let text = format!("{v:.1}");
            match lang {
                Lang::Vi => text.replace('.', ","),
                Lang::En => text,
            }
        },
    )
}

pub async fn commune(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = match readable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let policy = state.policy.clone();
    let wanted = code.clone();
    let now = Utc::now();
    let detail = state
        .store
        .blocking(move |store| survey::commune(store, &policy, &wanted, now))
        .await
        .in_lang(lang)?;
    let Some(detail) = detail else {
        return Ok(Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .page(lang));
    };
    let wanted = code.clone();
    let manual_assets = state
        .store
        .blocking(move |store| store.manual_assets(Some(&wanted)))
        .await
        .in_lang(lang)?;
    let manual_assets = super::assets::rows(&manual_assets, lang);
    let s = &detail.survey;
    let days = state.policy.file.traffic_light.line_window_days;
    let sites = (s.sites.iter())
        .map(|site| SiteRow {
            code: site.code.clone(),
            name: site.name.clone(),
            kind: site.kind.label(lang),
            target: site.target_mbps,
            best_down: mbps(site.best_download_mbps, lang),
            best_up: mbps(site.best_upload_mbps, lang),
            tests: site.tests,
            meets_key: match site.meets_target {
                Some(true) => "ok",
                Some(false) => "replace",
                None => "watch",
            },
            meets: match site.verdict {
                Verdict::Meets => lang.pick("Đạt", "Meets"),
                Verdict::Below => lang.pick("Chưa đạt", "Below target"),
                Verdict::PcLimited => lang.pick(
                    "Chưa kết luận (card mạng máy đo chậm)",
                    "Inconclusive (slow PC links)",
                ),
                Verdict::NoData => lang.pick("Chưa đo", "Not measured"),
            },
            chart: super::chart::line_trend(
                site,
                now,
                days,
                &format!(
                    "{} — {}",
                    site.name,
                    lang.pick(
                        "tốc độ tải xuống tốt nhất mỗi ngày",
                        "best download per day"
                    )
                ),
            ),
            edit_href: format!(
                "/communes/{}/sites/{}/edit?lang={}",
                s.code,
                site.code,
                lang.tag()
            ),
        })
        .collect();
    let row = |d: &survey::DeviceLine| DeviceRow {
        href: Some(format!("/devices/{}?lang={}", d.id, lang.tag())),
        name: d.name.clone(),
        category: d.category.label(lang),
        site: d.site.clone().unwrap_or_else(|| format::MISSING.to_owned()),
        model: format::join(&[d.vendor.as_deref(), d.model.as_deref()], " "),
        status_key: d.status.map_or("none", Status::key),
        status: d
            .status
            .map_or(lang.pick("Chưa đánh giá", "Not evaluated"), |st| {
                st.label(lang)
            }),
        reasons: match lang {
            Lang::Vi => d.reasons_vi.clone(),
            Lang::En => d.reasons_en.clone(),
        },
        in_service: match (d.in_service_from, d.in_service_to) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}–{b}"),
            _ => format::MISSING.to_owned(),
        },
        last_seen: format::time(d.last_seen),
        silent: d.silent,
    };
    let devices: Vec<DeviceRow> = detail.devices.iter().map(row).collect();
    let silent = detail
        .devices
        .iter()
        .filter(|d| d.silent)
        .map(row)
        .collect();
    let facts = vec![
        (
            lang.pick("Mã xã", "Commune code").to_owned(),
            s.code.clone(),
        ),
        (
            lang.pick("Tổng thiết bị", "Devices").to_owned(),
            s.devices_total.to_string(),
        ),
        (lang.pick("Máy tính", "PCs").to_owned(), s.pcs.to_string()),
        (
            lang.pick("Đề xuất thay thế", "Due for replacement")
                .to_owned(),
            format!("{} ({})", s.replace, percent(s.replace_share_percent, lang)),
        ),
        (
            lang.pick("Cần theo dõi", "To watch").to_owned(),
            format!("{} ({})", s.watch, percent(s.watch_share_percent, lang)),
        ),
        (
            lang.pick(
                "Điểm có đường truyền đạt mục tiêu",
                "Sites meeting their line target",
            )
            .to_owned(),
            format!("{}/{}", s.sites_meeting_target, s.sites.len()),
        ),
        (
            lang.pick("Báo cáo gần nhất", "Last report").to_owned(),
            when(s.last_report),
        ),
    ];
    let page = CommunePage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: crate::routes::home::labels::labels(lang),
        l: lang,
        code: s.code.clone(),
        name: s.name.clone(),
        light_key: s.light.key(),
        light: s.light.label(lang),
        unmet: s.unmet.iter().map(|u| u.text(lang).to_owned()).collect(),
        facts,
        sites,
        devices,
        silent,
        may_edit: viewer.may_edit(&code),
        manual_assets,
        back_href: format!("/survey?lang={}", lang.tag()),
        export_xlsx: format!("/export/survey.xlsx?commune={}&lang={}", s.code, lang.tag()),
        export_csv: format!("/export/survey.csv?commune={}&lang={}", s.code, lang.tag()),
    };
    render(&page, lang)
}
