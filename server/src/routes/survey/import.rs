//! `GET /import`, `POST /import/preview`, `POST /import/commit`: a
//! province admin loads the list of communes and sites from a CSV or XLSX
//! file. The preview shows what would be added and changed, or every error
//! with its line, and writes nothing; the commit re-checks the same file
//! (carried in the preview form) against the store as it is now and writes
//! it in one transaction.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use kiemke_shared::Lang;
use serde::Deserialize;

use super::Refusal;
use super::pages::{other_tag, render};
use crate::auth::Viewer;
use crate::error::{AppError, InLang};
use crate::import::communes::{self, Change, Plan};
use crate::import::table::{self, Format};
use crate::routes::home::labels::{Labels, labels};
use crate::routes::lang::PageLang;
use crate::state::AppState;

/// One line of the preview.
pub struct PreviewRow {
    pub line: usize,
    pub change_key: &'static str,
    pub change: &'static str,
    pub what: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    csrf: String,
    file_name: String,
    errors: Vec<String>,
    summary: Vec<String>,
    rows: Vec<PreviewRow>,
    /// The file, for the commit form (URL-safe base64), when it is valid
    /// and changes something.
    data: Option<String>,
    format: &'static str,
}

fn page(lang: Lang, viewer: &Viewer, status: StatusCode) -> (ImportPage, StatusCode) {
    (
        ImportPage {
            lang: lang.tag(),
            other_lang: other_tag(lang),
            t: labels(lang),
            l: lang,
            csrf: viewer.csrf_token().to_owned(),
            file_name: String::new(),
            errors: Vec::new(),
            summary: Vec::new(),
            rows: Vec::new(),
            data: None,
            format: "csv",
        },
        status,
    )
}

fn show((page, status): (ImportPage, StatusCode), lang: Lang) -> Result<Response, AppError> {
    Ok((status, render(&page, lang)?).into_response())
}

fn admin_only(viewer: &Viewer) -> Result<(), Refusal> {
    if viewer.is_province_admin() {
        Ok(())
    } else {
        Err(Refusal::Forbidden {
            commune: "—".into(),
        })
    }
}

/// The form's CSRF token, or the header's (API-style callers).
fn csrf_ok(viewer: &Viewer, headers: &HeaderMap, field: Option<&str>) -> bool {
    let token = field
        .or_else(|| {
            headers
                .get(crate::auth::csrf::HEADER)
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or("");
    crate::auth::csrf::verify(viewer, token).is_ok()
}

pub async fn form(PageLang(lang): PageLang, viewer: Viewer) -> Result<Response, AppError> {
    if let Err(refusal) = admin_only(&viewer) {
        return Ok(refusal.page(lang));
    }
    show(page(lang, &viewer, StatusCode::OK), lang)
}

fn preview_rows(plan: &Plan, lang: Lang) -> Vec<PreviewRow> {
    let key = |c: Change| match c {
        Change::New => "ok",
        Change::Changed => "watch",
        Change::Unchanged => "none",
    };
    let mut rows: Vec<PreviewRow> = (plan.communes.iter())
        .map(|p| PreviewRow {
            line: p.line,
            change_key: key(p.change),
            change: p.change.label(lang),
            what: lang.pick("Xã", "Commune").to_owned(),
            name: format!("{} {}", p.record.code, p.record.full_name_vi()),
        })
        .collect();
    rows.extend(plan.sites.iter().map(|p| PreviewRow {
        line: p.line,
        change_key: key(p.change),
        change: p.change.label(lang),
        what: lang.pick("Điểm", "Site").to_owned(),
        name: format!("{} {}", p.record.site, p.record.name),
    }));
    rows.sort_by_key(|r| r.line);
    rows
}

pub async fn preview(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    if let Err(refusal) = admin_only(&viewer) {
        return Ok(refusal.page(lang));
    }
    let mut csrf = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut unreadable = multipart.is_err();
    if let Ok(mut multipart) = multipart {
        loop {
            match multipart.next_field().await {
                Ok(Some(field)) => {
                    let name = field.name().unwrap_or_default().to_owned();
                    let file_name = field.file_name().unwrap_or_default().to_owned();
                    match field.bytes().await {
                        Ok(bytes) if name == "csrf" => {
                            csrf = Some(String::from_utf8_lossy(&bytes).into_owned());
                        }
                        Ok(bytes) if name == "file" => file = Some((file_name, bytes.to_vec())),
                        Ok(_) => {}
                        Err(_) => {
                            unreadable = true;
                            break;
                        }
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    unreadable = true;
                    break;
                }
            }
        }
    }
    if !csrf_ok(&viewer, &headers, csrf.as_deref()) {
        return Ok(Refusal::Csrf.page(lang));
    }
    let (mut shown, _) = page(lang, &viewer, StatusCode::OK);
    let bad = |mut shown: ImportPage, vi: String, en: String| {
        shown.errors = vec![lang.pick(&vi, &en).to_owned()];
        show((shown, StatusCode::BAD_REQUEST), lang)
    };
    let Some((file_name, bytes)) = file.filter(|_| !unreadable) else {
        return bad(
            shown,
            format!(
                "Hãy chọn một tệp .csv hoặc .xlsx (tối đa {} byte).",
                table::MAX_FILE_BYTES
            ),
            format!(
                "Choose a .csv or .xlsx file (at most {} bytes).",
                table::MAX_FILE_BYTES
            ),
        );
    };
    shown.file_name.clone_from(&file_name);
    let Some(format) = Format::from_name(&file_name) else {
        return bad(
            shown,
            format!("Tệp \"{file_name}\" không phải .csv hoặc .xlsx."),
            format!("\"{file_name}\" is not a .csv or .xlsx file."),
        );
    };
    let encoded = URL_SAFE_NO_PAD.encode(&bytes);
    let planned = state
        .store
        .blocking(move |store| Ok(communes::plan(store, &bytes, format, Utc::now())))
        .await
        .in_lang(lang)?;
    shown.format = match format {
        Format::Csv => "csv",
        Format::Xlsx => "xlsx",
    };
    match planned {
        Err(errors) => {
            shown.errors = errors.iter().map(|e| e.text(lang)).collect();
            show((shown, StatusCode::BAD_REQUEST), lang)
        }
        Ok(plan) => {
            for change in [Change::New, Change::Changed, Change::Unchanged] {
                let (c, s) = plan.count(change);
                shown.summary.push(match lang {
                    Lang::Vi => format!("{}: {c} xã, {s} điểm", change.label(lang)),
                    Lang::En => format!("{}: {c} communes, {s} sites", change.label(lang)),
                });
            }
            let changes = plan.count(Change::New).0
                + plan.count(Change::New).1
                + plan.count(Change::Changed).0
                + plan.count(Change::Changed).1;
            shown.rows = preview_rows(&plan, lang);
            shown.data = (changes > 0).then_some(encoded);
            show((shown, StatusCode::OK), lang)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CommitForm {
    #[serde(default)]
    pub data: String,
    #[serde(default)]
    pub format: String,
    pub csrf: Option<String>,
}

pub async fn commit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    headers: HeaderMap,
    form: Result<Form<CommitForm>, FormRejection>,
) -> Result<Response, AppError> {
    if let Err(refusal) = admin_only(&viewer) {
        return Ok(refusal.page(lang));
    }
    let form = form.ok().map(|Form(f)| f);
    if !csrf_ok(
        &viewer,
        &headers,
        form.as_ref().and_then(|f| f.csrf.as_deref()),
    ) {
        return Ok(Refusal::Csrf.page(lang));
    }
    let (mut shown, _) = page(lang, &viewer, StatusCode::OK);
    let decoded = form.as_ref().and_then(|f| {
        let format = match f.format.as_str() {
            "csv" => Format::Csv,
            "xlsx" => Format::Xlsx,
            _ => return None,
        };
        Some((URL_SAFE_NO_PAD.decode(&f.data).ok()?, format))
    });
    let Some((bytes, format)) = decoded else {
        shown.errors = vec![
            lang.pick(
                "Không đọc được tệp đã xem trước: hãy chọn tệp và xem trước lại.",
                "The previewed file could not be read: choose the file and preview it again.",
            )
            .to_owned(),
        ];
        return show((shown, StatusCode::BAD_REQUEST), lang);
    };
    let who = viewer.user.clone();
    let outcome = state
        .store
        .blocking(
            move |store| match communes::plan(store, &bytes, format, Utc::now()) {
                Ok(plan) => plan.apply(store, &who).map(Ok),
                Err(errors) => Ok(Err(errors)),
            },
        )
        .await
        .in_lang(lang)?;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/survey?lang={}", lang.tag())).into_response()),
        Err(errors) => {
            shown.errors = errors.iter().map(|e| e.text(lang)).collect();
            show((shown, StatusCode::BAD_REQUEST), lang)
        }
    }
}
