//! The web pages, for province and commune officers: `GET /` lists the
//! devices, `GET /devices/{id}` shows one. Server-rendered from askama
//! templates compiled into the binary (`server/templates/`), no JavaScript,
//! no external assets; Vietnamese unless `?lang=en` (see `routes::lang`) for
//! English.

mod device_view;
pub(crate) mod format;
pub(crate) mod labels;
mod lifecycle_view;

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use kiemke_shared::api::DeviceSummary;
use kiemke_shared::{DeviceId, Lang};

use self::device_view::{Fact, Table};
use self::labels::Labels;
use crate::auth::Viewer;
use crate::error::{AppError, Failure, InLang};
use crate::routes::devices::{HISTORY_LIMIT, Page};
use crate::routes::lang::PageLang;
use crate::state::AppState;

/// Devices per page of the list.
const PAGE_SIZE: usize = 200;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    summary: String,
    rows: Vec<DeviceRow>,
    prev_href: Option<String>,
    next_href: Option<String>,
}

/// One line of the device list, formatted.
struct DeviceRow {
    href: String,
    hostname: String,
    vendor_model: String,
    os: String,
    cpu: String,
    ram: String,
    last_seen: String,
    report_count: u64,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    heading: String,
    /// The lifecycle policy's verdict; `None` before the first evaluation.
    status: Option<device_view::StatusView>,
    facts: Vec<Fact>,
    tables: Vec<Table>,
    /// A printer's page-counter trend (inline SVG).
    chart: Option<String>,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    message: String,
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::Vi => Lang::En,
        Lang::En => Lang::Vi,
    }
}

fn render(page: &impl Template, lang: Lang) -> Result<Html<String>, AppError> {
    page.render()
        .map(Html)
        .map_err(|e| AppError::new(lang, Failure::Internal(e.into())))
}

fn row(d: &DeviceSummary, lang: Lang) -> DeviceRow {
    DeviceRow {
        href: format!("/devices/{}?lang={}", d.id, lang.tag()),
        hostname: d.hostname.clone().unwrap_or_else(|| d.id.to_string()),
        vendor_model: format::join(&[d.vendor.as_deref(), d.model.as_deref()], " "),
        os: format::text(d.os_name.as_deref()),
        cpu: format::text(d.cpu_brand.as_deref()),
        ram: format::ram(d.memory_total_bytes, lang),
        last_seen: format::time(d.last_seen),
        report_count: d.report_count,
    }
}

pub async fn index(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Html<String>, AppError> {
    let Query(page) =
        page.map_err(|e| AppError::new(lang, Failure::InvalidQuery(e.body_text())))?;
    let offset = page.offset.unwrap_or(0);
    let scope = viewer.commune_scope().cloned();
    let (list, reports) = state
        .store
        .blocking(move |store| match scope {
            None => Ok((store.list_devices(PAGE_SIZE, offset)?, store.report_count())),
            // An officer sees their own commune's devices.
            Some(own) => {
                let filter = crate::store::flags::DeviceFilter {
                    commune: Some(own.as_str().to_owned()),
                    ..Default::default()
                };
                let flagged = store.list_flagged(&filter, PAGE_SIZE, offset)?;
                let devices: Vec<DeviceSummary> =
                    flagged.devices.into_iter().map(|d| d.summary).collect();
                let reports = devices.iter().map(|d| d.report_count).sum();
                let list = kiemke_shared::api::DeviceList {
                    devices,
                    total: flagged.total,
                };
                Ok((list, reports))
            }
        })
        .await
        .in_lang(lang)?;
    let t = labels::labels(lang);
    let summary = match lang {
        Lang::Vi => format!(
            "{} thiết bị, {reports} báo cáo. {}",
            list.total, t.time_zone_note
        ),
        Lang::En => format!(
            "{} devices, {reports} reports. {}",
            list.total, t.time_zone_note
        ),
    };
    let href = |offset: usize| format!("/?offset={offset}&lang={}", lang.tag());
    let shown_to = offset.saturating_add(list.devices.len());
    let page = HomePage {
        lang: lang.tag(),
        other_lang: other(lang).tag(),
        t,
        summary,
        rows: list.devices.iter().map(|d| row(d, lang)).collect(),
        prev_href: (offset > 0).then(|| href(offset.saturating_sub(PAGE_SIZE))),
        next_href: ((shown_to as u64) < list.total).then(|| href(shown_to)),
    };
    render(&page, lang)
}

pub async fn device(
    viewer: Viewer,
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let t = labels::labels(lang);
    let not_found = |message: String| -> Result<Response, AppError> {
        let page = NotFoundPage {
            lang: lang.tag(),
            other_lang: other(lang).tag(),
            t,
            message,
        };
        Ok((StatusCode::NOT_FOUND, render(&page, lang)?).into_response())
    };
    let id = match id.parse::<DeviceId>() {
        Ok(id) => id,
        Err(e) => {
            return not_found(
                AppError::new(lang, Failure::InvalidDeviceId(e))
                    .body()
                    .message,
            );
        }
    };
    let commune = state
        .store
        .blocking(move |store| store.device_commune(&id))
        .await
        .in_lang(lang)?;
    if let Some(commune) = commune
        && let Err(refusal) = viewer.check_read(commune.as_ref())
    {
        let message = refusal.message(lang);
        return Ok((refusal.status(), not_found(message)?).into_response());
    }
    let found = state
        .store
        .blocking(move |store| {
            Ok((
                store.device(&id, HISTORY_LIMIT)?,
                store.flags(&id)?,
                store.flag_history(&id, HISTORY_LIMIT)?,
            ))
        })
        .await
        .in_lang(lang)?;
    let (Some(detail), flags, history) = found else {
        // A printer or scanner seen by PCs has a page too.
        let peripheral = state
            .store
            .blocking(move |store| {
                let communes = store.peripheral_communes(&id)?;
                Ok(store.peripheral(&id)?.zip(communes))
            })
            .await
            .in_lang(lang)?;
        if let Some((p, communes)) = peripheral {
            if viewer
                .commune_scope()
                .is_some_and(|own| !communes.contains(own))
            {
                let refusal = viewer
                    .check_read(communes.iter().next())
                    .err()
                    .map(|r| (r.status(), r.message(lang)));
                if let Some((status, message)) = refusal {
                    return Ok((status, not_found(message)?).into_response());
                }
            }
            let mut page_facts = lifecycle_view::peripheral_facts(&p, lang);
            page_facts.push(Fact {
                label: lang.pick("Mã thiết bị", "Device id"),
                value: p.device.id.to_string(),
            });
            let page = DevicePage {
                lang: lang.tag(),
                other_lang: other(lang).tag(),
                t,
                heading: (p.device.names.iter().next().cloned())
                    .or_else(|| p.device.model.clone())
                    .unwrap_or_else(|| p.device.id.to_string()),
                status: None,
                facts: page_facts,
                tables: vec![lifecycle_view::supplies(&p, lang)],
                chart: lifecycle_view::page_trend(&p.page_history, lang),
            };
            return Ok(render(&page, lang)?.into_response());
        }
        return not_found(
            AppError::new(lang, Failure::DeviceNotFound(id))
                .body()
                .message,
        );
    };
    let page = DevicePage {
        lang: lang.tag(),
        other_lang: other(lang).tag(),
        t,
        heading: device_view::heading(&detail),
        status: flags.as_ref().map(|f| device_view::status(f, lang)),
        facts: device_view::facts(&detail, t, lang),
        tables: {
            let mut tables = device_view::tables(&detail, t, lang);
            tables.extend(lifecycle_view::tables(flags.as_ref(), &history, lang));
            tables
        },
        chart: None,
    };
    Ok(render(&page, lang)?.into_response())
}
