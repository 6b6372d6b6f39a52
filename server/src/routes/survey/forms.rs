//! Forms that create and edit communes (province admins) and sites (the
//! commune's officer or a province admin). Invalid input re-shows the form
//! with the values kept, a message saying what to fix, status 400, and
//! nothing stored. On success: 303 to the commune page.
//!
//! Every form carries the session's CSRF token (hidden input `csrf`),
//! checked before anything changes ([`crate::auth::csrf`]); every write is
//! recorded in the audit log with the record before and after.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use kiemke_shared::{CommuneCode, Lang, SiteCode, SiteKind, SiteRef};
use serde::Deserialize;

use super::pages::{other_tag, render};
use super::{Refusal, bad_form, check_csrf, editable};
use crate::auth::Viewer;
use crate::error::{AppError, InLang};
use crate::routes::home::labels::{Labels, labels};
use crate::routes::lang::PageLang;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::communes::{CommuneKind, CommuneRecord};
use crate::store::sites::{Line, SiteRecord};

/// Longest name, province and line list accepted.
const MAX_NAME: usize = 120;
const MAX_LINES: usize = 10;

fn audit<B: serde::Serialize, A: serde::Serialize>(
    store: &crate::store::Store,
    viewer: &Viewer,
    action: &str,
    target: String,
    before: Option<&B>,
    after: Option<&A>,
) -> Result<(), crate::store::StoreError> {
    store.audit(&AuditEntry::new(viewer.user.clone(), action, target).change(before, after))
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct CommuneForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub province: String,
    pub csrf: Option<String>,
}

#[derive(Template)]
#[template(path = "commune_form.html")]
struct CommuneFormPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    /// `None` when creating.
    editing: Option<String>,
    form: CommuneForm,
    error: Option<String>,
    csrf: String,
}

fn commune_page(
    lang: Lang,
    viewer: &Viewer,
    editing: Option<String>,
    form: CommuneForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = CommuneFormPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: labels(lang),
        l: lang,
        editing,
        form,
        error,
        csrf: viewer.csrf_token().to_owned(),
    };
    Ok((status, render(&page, lang)?).into_response())
}

/// Checks a commune form; the message says what to fix.
pub fn parse_commune(
    form: &CommuneForm,
) -> Result<(CommuneCode, CommuneKind, String, String), (String, String)> {
    let code = CommuneCode::parse(form.code.trim()).map_err(|_| {
        (
            format!(
                "Mã xã phải gồm 5 chữ số, nhận được \"{}\".",
                clip(&form.code)
            ),
            format!("A commune code is 5 digits, got \"{}\".", clip(&form.code)),
        )
    })?;
    let kind = match form.kind.trim() {
        "xa" => CommuneKind::Xa,
        "phuong" => CommuneKind::Phuong,
        "dac_khu" | "dac-khu" => CommuneKind::DacKhu,
        other => {
            return Err((
                format!(
                    "Loại phải là xã, phường hoặc đặc khu, nhận được \"{}\".",
                    clip(other)
                ),
                format!(
                    "The kind must be xa, phuong or dac-khu, got \"{}\".",
                    clip(other)
                ),
            ));
        }
    };
    let name = form.name.trim().to_owned();
    let province = form.province.trim().to_owned();
    for (value, vi, en) in [
        (&name, "Tên xã", "The name"),
        (&province, "Tên tỉnh", "The province"),
    ] {
        if value.is_empty()
            || value.chars().count() > MAX_NAME
            || value.chars().any(char::is_control)
        {
            return Err((
                format!("{vi} không được để trống, dài tối đa {MAX_NAME} ký tự."),
                format!("{en} must be 1–{MAX_NAME} characters."),
            ));
        }
    }
    Ok((code, kind, name, province))
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

pub async fn new_commune(PageLang(lang): PageLang, viewer: Viewer) -> Result<Response, AppError> {
    if !viewer.is_province_admin() {
        return Ok(Refusal::Forbidden {
            commune: "—".into(),
        }
        .page(lang));
    }
    let form = CommuneForm {
        kind: "xa".into(),
        province: "Gia Lai".into(),
        ..CommuneForm::default()
    };
    commune_page(lang, &viewer, None, form, None)
}

pub async fn create_commune(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    form: Result<Form<CommuneForm>, FormRejection>,
) -> Result<Response, AppError> {
    if !viewer.is_province_admin() {
        return Ok(Refusal::Forbidden {
            commune: "—".into(),
        }
        .page(lang));
    }
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let Some(form) = form else {
        return commune_page(
            lang,
            &viewer,
            None,
            CommuneForm::default(),
            Some(bad_form(lang)),
        );
    };
    let (code, kind, name, province) = match parse_commune(&form) {
        Ok(parsed) => parsed,
        Err((vi, en)) => {
            return commune_page(
                lang,
                &viewer,
                None,
                form,
                Some(lang.pick(&vi, &en).to_owned()),
            );
        }
    };
    let record = CommuneRecord {
        code: code.clone(),
        kind,
        name,
        province,
        created_at: Utc::now(),
    };
    let who = viewer.clone();
    let added = state
        .store
        .blocking(move |store| {
            let added = store.add_commune(&record)?;
            if added {
                let target = record.code.to_string();
                audit(
                    store,
                    &who,
                    "commune.add",
                    target,
                    None::<&()>,
                    Some(&record),
                )?;
            }
            Ok(added)
        })
        .await
        .in_lang(lang)?;
    if !added {
        let message = lang.pick(
            "Mã xã này đã có trong danh sách.",
            "This commune code is already registered.",
        );
        return commune_page(lang, &viewer, None, form, Some(message.to_owned()));
    }
    Ok(Redirect::to(&format!("/communes/{code}?lang={}", lang.tag())).into_response())
}

pub async fn edit_commune(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = match editable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let wanted = code.clone();
    let record = state
        .store
        .blocking(move |store| store.commune(&wanted))
        .await
        .in_lang(lang)?;
    let Some(record) = record else {
        return Ok(Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .page(lang));
    };
    let form = CommuneForm {
        code: record.code.to_string(),
        kind: match record.kind {
            CommuneKind::Xa => "xa",
            CommuneKind::Phuong => "phuong",
            CommuneKind::DacKhu => "dac-khu",
        }
        .into(),
        name: record.name,
        province: record.province,
        csrf: None,
    };
    commune_page(lang, &viewer, Some(code.to_string()), form, None)
}

pub async fn update_commune(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
    form: Result<Form<CommuneForm>, FormRejection>,
) -> Result<Response, AppError> {
    let code = match editable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let editing = Some(code.to_string());
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let Some(mut form) = form else {
        return commune_page(
            lang,
            &viewer,
            editing,
            CommuneForm::default(),
            Some(bad_form(lang)),
        );
    };
    // The code is the key: it cannot change here.
    form.code = code.to_string();
    let (code, kind, name, province) = match parse_commune(&form) {
        Ok(parsed) => parsed,
        Err((vi, en)) => {
            return commune_page(
                lang,
                &viewer,
                editing,
                form,
                Some(lang.pick(&vi, &en).to_owned()),
            );
        }
    };
    let wanted = code.clone();
    let who = viewer.clone();
    let saved = state
        .store
        .blocking(move |store| {
            let Some(before) = store.commune(&wanted)? else {
                return Ok(false);
            };
            let mut record = before.clone();
            record.kind = kind;
            record.name = name;
            record.province = province;
            store.put_commune(&record)?;
            let target = record.code.to_string();
            audit(
                store,
                &who,
                "commune.edit",
                target,
                Some(&before),
                Some(&record),
            )?;
            Ok(true)
        })
        .await
        .in_lang(lang)?;
    if !saved {
        return Ok(Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .page(lang));
    }
    Ok(Redirect::to(&format!("/communes/{code}?lang={}", lang.tag())).into_response())
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SiteForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    /// One line per row: `ISP:KIND[:MBPS]`.
    #[serde(default)]
    pub lines: String,
    #[serde(default)]
    pub staff: String,
    /// The code being edited; empty when creating.
    #[serde(default)]
    pub original: String,
    pub csrf: Option<String>,
}

#[derive(Template)]
#[template(path = "site_form.html")]
struct SiteFormPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    commune: String,
    form: SiteForm,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    csrf: String,
}

fn site_page(
    lang: Lang,
    viewer: &Viewer,
    commune: &CommuneCode,
    form: SiteForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = SiteFormPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: labels(lang),
        l: lang,
        commune: commune.to_string(),
        form,
        kinds: SiteKind::ALL
            .iter()
            .map(|k| (k.key(), k.label(lang)))
            .collect(),
        error,
        csrf: viewer.csrf_token().to_owned(),
    };
    Ok((status, render(&page, lang)?).into_response())
}

/// A checked site form: where, kind, name, lines, staff.
type ParsedSite = (SiteRef, SiteKind, String, Vec<Line>, Option<u32>);

/// Checks a site form.
pub fn parse_site(commune: &CommuneCode, form: &SiteForm) -> Result<ParsedSite, (String, String)> {
    let site = SiteCode::parse(&form.code).map_err(|_| {
        (
            format!(
                "Mã điểm gồm 1–40 ký tự a–z, 0–9 và '-', ví dụ ttpvhcc; nhận được \"{}\".",
                clip(&form.code)
            ),
            format!(
                "A site code is 1–40 characters of a–z, 0–9 and '-', e.g. ttpvhcc; got \"{}\".",
                clip(&form.code)
            ),
        )
    })?;
    let kind: SiteKind = form.kind.parse().map_err(|_| {
        (
            "Loại điểm không hợp lệ.".to_owned(),
            "Unknown site kind.".to_owned(),
        )
    })?;
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err((
            format!("Tên điểm không được để trống, dài tối đa {MAX_NAME} ký tự."),
            format!("The site name must be 1–{MAX_NAME} characters."),
        ));
    }
    let rows: Vec<&str> = form
        .lines
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if rows.len() > MAX_LINES {
        return Err((
            format!("Tối đa {MAX_LINES} đường truyền mỗi điểm."),
            format!("At most {MAX_LINES} lines per site."),
        ));
    }
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        lines.push(Line::parse(row).map_err(|e| {
            (
                format!("Đường truyền dòng {}: {e}", i + 1),
                format!(
                    "Line {}: {e} (ISP:KIND[:MBPS], e.g. vnpt:internet:100)",
                    i + 1
                ),
            )
        })?);
    }
    let staff = match form.staff.trim() {
        "" => None,
        s => Some(
            s.parse::<u32>()
                .ok()
                .filter(|n| *n <= 10_000)
                .ok_or_else(|| {
                    (
                        "Số cán bộ phải là số nguyên từ 0 đến 10000.".to_owned(),
                        "Staff must be a whole number from 0 to 10000.".to_owned(),
                    )
                })?,
        ),
    };
    Ok((
        SiteRef {
            commune: commune.clone(),
            site,
        },
        kind,
        name,
        lines,
        staff,
    ))
}

pub async fn new_site(
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let code = match editable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = SiteForm {
        kind: SiteKind::Headquarters.key().into(),
        ..SiteForm::default()
    };
    site_page(lang, &viewer, &code, form, None)
}

pub async fn edit_site(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path((code, site)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let code = match editable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let Ok(site) = SiteCode::parse(&site) else {
        return Ok(Refusal::UnknownCommune {
            commune: format!("{code}/{}", clip(&site)),
        }
        .page(lang));
    };
    let wanted = SiteRef {
        commune: code.clone(),
        site,
    };
    let found = state
        .store
        .blocking(move |store| store.site(&wanted))
        .await
        .in_lang(lang)?;
    let Some(record) = found else {
        return Ok(Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .page(lang));
    };
    let form = SiteForm {
        code: record.site.site.to_string(),
        kind: record.kind.key().into(),
        name: record.name.clone(),
        lines: record
            .lines
            .iter()
            .map(|l| {
                let isp = serde_json::to_value(l.isp)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let kind = serde_json::to_value(l.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                match l.contracted_mbps {
                    Some(m) => format!("{isp}:{kind}:{m}"),
                    None => format!("{isp}:{kind}"),
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        staff: record.staff.map(|s| s.to_string()).unwrap_or_default(),
        original: record.site.site.to_string(),
        csrf: None,
    };
    site_page(lang, &viewer, &code, form, None)
}

pub async fn save_site(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
    form: Result<Form<SiteForm>, FormRejection>,
) -> Result<Response, AppError> {
    let code = match editable(&viewer, &code) {
        Ok(code) => code,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let Some(mut form) = form else {
        return site_page(
            lang,
            &viewer,
            &code,
            SiteForm::default(),
            Some(bad_form(lang)),
        );
    };
    if !form.original.is_empty() {
        // Editing: the code is the key and stays.
        form.code.clone_from(&form.original);
    }
    let (site, kind, name, lines, staff) = match parse_site(&code, &form) {
        Ok(parsed) => parsed,
        Err((vi, en)) => {
            return site_page(
                lang,
                &viewer,
                &code,
                form,
                Some(lang.pick(&vi, &en).to_owned()),
            );
        }
    };
    let creating = form.original.is_empty();
    let wanted = code.clone();
    let who = viewer.clone();
    let outcome = state
        .store
        .blocking(move |store| {
            if store.commune(&wanted)?.is_none() {
                return Ok(Err("commune"));
            }
            let existing = store.site(&site)?;
            if creating && existing.is_some() {
                return Ok(Err("exists"));
            }
            let record = SiteRecord {
                created_at: existing.as_ref().map_or_else(Utc::now, |e| e.created_at),
                site,
                kind,
                name,
                lines,
                staff,
            };
            store.put_site(&record)?;
            let action = if existing.is_some() {
                "site.edit"
            } else {
                "site.add"
            };
            let target = record.site.to_string();
            audit(
                store,
                &who,
                action,
                target,
                existing.as_ref(),
                Some(&record),
            )?;
            Ok(Ok(()))
        })
        .await
        .in_lang(lang)?;
    match outcome {
        Ok(()) => {
            Ok(Redirect::to(&format!("/communes/{code}?lang={}", lang.tag())).into_response())
        }
        Err("commune") => Ok(Refusal::UnknownCommune {
            commune: code.to_string(),
        }
        .page(lang)),
        Err(_) => {
            let message = lang.pick(
                "Xã đã có một điểm với mã này.",
                "The commune already has a site with this code.",
            );
            site_page(lang, &viewer, &code, form, Some(message.to_owned()))
        }
    }
}
