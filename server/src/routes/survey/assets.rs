//! The commune's manual assets on the web (photocopiers, USB scanners on
//! PCs without an agent, projectors, UPS...): the list on the commune page
//! ([`rows`]) and the forms that add, edit and delete one, for the
//! commune's officer and province admins:
//! - `GET /communes/{code}/manual-assets/new`, `POST /communes/{code}/manual-assets`;
//! - `GET /communes/{code}/manual-assets/{id}/edit`,
//!   `POST /communes/{code}/manual-assets/{id}` (save),
//!   `POST /communes/{code}/manual-assets/{id}/delete`.
//!
//! A form is checked exactly like a row of the import (the same parser, so
//! the same rules and messages: category words, dates, costs, placeholder
//! serials, sites of the commune); invalid input re-shows the form with the
//! values kept and the message, status 400, nothing stored. Every form
//! carries the session's CSRF token; every write is audited like the API's
//! (`manual_asset.create|update|delete`, before and after). On success: 303
//! to the commune page.

use askama::Template;
use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use kiemke_shared::{CommuneCode, DeviceId, Lang};
use serde::Deserialize;

use super::pages::{other_tag, render};
use super::{Refusal, bad_form, check_csrf, editable};
use crate::auth::Viewer;
use crate::error::{AppError, InLang};
use crate::import::assets as import_assets;
use crate::import::table::{Row, Table};
use crate::policy::Category;
use crate::routes::home::labels::{Labels, labels};
use crate::routes::lang::PageLang;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::manual_assets::{ManualAsset, NewManualAsset};

/// One manual asset on the commune page.
#[derive(Debug, Clone)]
pub struct AssetRow {
    pub id: String,
    pub category: &'static str,
    pub model: String,
    pub serial: String,
    pub site: String,
    pub in_service: String,
    pub cost: String,
    pub funding: String,
    pub edit_href: String,
}

/// The commune page's rows for `assets`.
pub fn rows(assets: &[ManualAsset], lang: Lang) -> Vec<AssetRow> {
    let dash = || crate::routes::home::format::MISSING.to_owned();
    assets
        .iter()
        .map(|a| AssetRow {
            id: a.id.to_string(),
            category: a.asset.category.label(lang),
            model: a.asset.model.clone(),
            serial: a.asset.serial.clone().unwrap_or_else(dash),
            site: a.asset.site.as_ref().map_or_else(dash, ToString::to_string),
            in_service: a
                .asset
                .in_service
                .map_or_else(dash, |d| d.format("%d/%m/%Y").to_string()),
            cost: a.asset.cost_vnd.map_or_else(dash, |c| dong(c, lang)),
            funding: a.asset.funding_source.clone().unwrap_or_else(dash),
            edit_href: format!(
                "/communes/{}/manual-assets/{}/edit?lang={}",
                a.asset.commune,
                a.id,
                lang.tag()
            ),
        })
        .collect()
}

/// `45.000.000` (vi) or `45,000,000` (en).
fn dong(value: u64, lang: Lang) -> String {
    let digits = value.to_string();
    let sep = match lang {
        Lang::Vi => '.',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// The form as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AssetForm {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub site: String,
    #[serde(default)]
    pub in_service: String,
    #[serde(default)]
    pub cost: String,
    #[serde(default)]
    pub funding: String,
    #[serde(default)]
    pub note: String,
    pub csrf: Option<String>,
}

impl AssetForm {
    fn of(asset: &NewManualAsset) -> AssetForm {
        AssetForm {
            category: asset.category.key().to_owned(),
            model: asset.model.clone(),
            serial: asset.serial.clone().unwrap_or_default(),
            site: asset
                .site
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            in_service: asset
                .in_service
                .map(|d| d.format("%d/%m/%Y").to_string())
                .unwrap_or_default(),
            cost: asset.cost_vnd.map(|c| c.to_string()).unwrap_or_default(),
            funding: asset.funding_source.clone().unwrap_or_default(),
            note: asset.note.clone().unwrap_or_default(),
            csrf: None,
        }
    }

    /// The form as a one-row table of the import's layout.
    fn table(&self) -> Table {
        let cells = [
            &self.category,
            &self.model,
            &self.serial,
            &self.site,
            &self.in_service,
            &self.cost,
            &self.funding,
            &self.note,
        ];
        Table {
            header_line: 1,
            headers: [
                "category",
                "model",
                "serial",
                "site",
                "in service",
                "cost",
                "funding",
                "note",
            ]
            .map(str::to_owned)
            .to_vec(),
            rows: vec![Row {
                line: 2,
                cells: cells.iter().map(|c| c.trim().to_owned()).collect(),
            }],
        }
    }
}

#[derive(Template)]
#[template(path = "manual_asset_form.html")]
struct AssetFormPage {
    lang: &'static str,
    other_lang: &'static str,
    t: &'static Labels,
    l: Lang,
    commune: String,
    /// `None` when adding.
    editing: Option<String>,
    form: AssetForm,
    categories: Vec<(&'static str, &'static str)>,
    sites: Vec<(String, String)>,
    error: Option<String>,
    csrf: String,
}

async fn form_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    commune: &CommuneCode,
    editing: Option<String>,
    form: AssetForm,
    error: Option<String>,
) -> Result<Response, AppError> {
    let wanted = commune.clone();
    let sites = state
        .store
        .blocking(move |s| s.sites(Some(&wanted)))
        .await
        .in_lang(lang)?
        .into_iter()
        .map(|s| (s.site.site.to_string(), s.name))
        .collect();
    let page = AssetFormPage {
        lang: lang.tag(),
        other_lang: other_tag(lang),
        t: labels(lang),
        l: lang,
        commune: commune.to_string(),
        editing,
        form,
        categories: Category::ALL
            .into_iter()
            .map(|c| (c.key(), c.label(lang)))
            .collect(),
        sites,
        error: error.clone(),
        csrf: viewer.csrf_token().to_owned(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page, lang)?).into_response())
}

/// The commune, if the viewer may edit it.
/// The commune's asset `id`, or a refusal page (unknown id, or another
/// commune's asset).
async fn owned(
    state: &AppState,
    lang: Lang,
    commune: &CommuneCode,
    id: &str,
) -> Result<Result<ManualAsset, Response>, AppError> {
    let missing = || {
        Refusal::Invalid {
            field: "id".into(),
            vi: format!(
                "Xã {commune} không có tài sản nào có mã {}.",
                id.chars().take(40).collect::<String>()
            ),
            en: format!(
                "Commune {commune} has no asset with id {}.",
                id.chars().take(40).collect::<String>()
            ),
        }
        .page(lang)
    };
    let Ok(parsed) = id.parse::<DeviceId>() else {
        return Ok(Err(missing()));
    };
    let found = state
        .store
        .blocking(move |s| s.manual_asset(&parsed))
        .await
        .in_lang(lang)?;
    Ok(match found {
        Some(asset) if &asset.asset.commune == commune => Ok(asset),
        _ => Err(missing()),
    })
}

/// Checks a form like an import row of `commune`: the asset, or the
/// message to show.
async fn parse_form(
    state: &AppState,
    lang: Lang,
    commune: &CommuneCode,
    form: &AssetForm,
) -> Result<Result<NewManualAsset, String>, AppError> {
    let table = form.table();
    let wanted = commune.clone();
    let parsed = state
        .store
        .blocking(move |store| {
            let lookup_error = std::cell::RefCell::new(None);
            let known = |site: &kiemke_shared::SiteRef| match store.site(site) {
                Ok(found) => found.is_some(),
                Err(e) => {
                    lookup_error.borrow_mut().get_or_insert(e);
                    false
                }
            };
            let parsed =
                import_assets::parse(&table, Some(&wanted), &known, crate::policy::today());
            match lookup_error.into_inner() {
                Some(e) => Err(e),
                None => Ok(parsed),
            }
        })
        .await
        .in_lang(lang)?;
    Ok(match parsed {
        Ok(mut assets) if assets.len() == 1 => {
            let mut asset = assets.remove(0);
            asset.source_line = None;
            Ok(asset)
        }
        Ok(_) => Err(lang
            .pick("Biểu mẫu trống.", "The form is empty.")
            .to_owned()),
        Err(errors) => Err(errors
            .iter()
            .map(|e| sentence(lang.pick(&e.vi, &e.en)))
            .collect::<Vec<_>>()
            .join(" ")),
    })
}

/// An import message ("cannot read ...") as a sentence of its own.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn audit_entry(
    viewer: &Viewer,
    action: &str,
    id: &DeviceId,
    before: Option<&ManualAsset>,
    after: Option<&ManualAsset>,
) -> AuditEntry {
    AuditEntry::new(viewer.user.clone(), action, id.to_string()).change(before, after)
}

fn to_commune(commune: &CommuneCode, lang: Lang) -> Response {
    Redirect::to(&format!(
        "/communes/{commune}?lang={}#manual-assets",
        lang.tag()
    ))
    .into_response()
}

pub async fn new(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let commune = match editable(&viewer, &code) {
        Ok(c) => c,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = AssetForm {
        category: Category::Photocopier.key().to_owned(),
        ..AssetForm::default()
    };
    form_page(&state, lang, &viewer, &commune, None, form, None).await
}

pub async fn create(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path(code): Path<String>,
    form: Result<Form<AssetForm>, FormRejection>,
) -> Result<Response, AppError> {
    let commune = match editable(&viewer, &code) {
        Ok(c) => c,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let Some(form) = form else {
        let error = Some(bad_form(lang));
        return form_page(
            &state,
            lang,
            &viewer,
            &commune,
            None,
            AssetForm::default(),
            error,
        )
        .await;
    };
    let asset = match parse_form(&state, lang, &commune, &form).await? {
        Ok(asset) => asset,
        Err(message) => {
            return form_page(&state, lang, &viewer, &commune, None, form, Some(message)).await;
        }
    };
    let who = viewer.clone();
    let added = state
        .store
        .blocking(move |s| {
            let added = s.add_manual_asset(&asset, Utc::now())?;
            if let Ok(new) = &added {
                s.audit(&audit_entry(
                    &who,
                    "manual_asset.create",
                    &new.id,
                    None,
                    Some(new),
                ))?;
            }
            Ok::<_, crate::store::StoreError>(added)
        })
        .await
        .in_lang(lang)?;
    match added {
        Ok(_) => Ok(to_commune(&commune, lang)),
        Err(existing) => {
            let message = match lang {
                Lang::Vi => format!("Tài sản có số serial này đã được đăng ký (mã {existing})."),
                Lang::En => {
                    format!("An asset with this serial is already registered (id {existing}).")
                }
            };
            form_page(&state, lang, &viewer, &commune, None, form, Some(message)).await
        }
    }
}

pub async fn edit(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path((code, id)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let commune = match editable(&viewer, &code) {
        Ok(c) => c,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let asset = match owned(&state, lang, &commune, &id).await? {
        Ok(a) => a,
        Err(page) => return Ok(page),
    };
    let form = AssetForm::of(&asset.asset);
    form_page(
        &state,
        lang,
        &viewer,
        &commune,
        Some(asset.id.to_string()),
        form,
        None,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path((code, id)): Path<(String, String)>,
    form: Result<Form<AssetForm>, FormRejection>,
) -> Result<Response, AppError> {
    let commune = match editable(&viewer, &code) {
        Ok(c) => c,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let old = match owned(&state, lang, &commune, &id).await? {
        Ok(a) => a,
        Err(page) => return Ok(page),
    };
    let editing = Some(old.id.to_string());
    let Some(form) = form else {
        let error = Some(bad_form(lang));
        let form = AssetForm::of(&old.asset);
        return form_page(&state, lang, &viewer, &commune, editing, form, error).await;
    };
    let asset = match parse_form(&state, lang, &commune, &form).await? {
        Ok(asset) => asset,
        Err(message) => {
            return form_page(
                &state,
                lang,
                &viewer,
                &commune,
                editing,
                form,
                Some(message),
            )
            .await;
        }
    };
    let who = viewer.clone();
    let asset_id = old.id;
    state
        .store
        .blocking(move |s| {
            if let Some(new) = s.update_manual_asset(&asset_id, &asset, Utc::now())? {
                s.audit(&audit_entry(
                    &who,
                    "manual_asset.update",
                    &asset_id,
                    Some(&old),
                    Some(&new),
                ))?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await
        .in_lang(lang)?;
    Ok(to_commune(&commune, lang))
}

pub async fn delete(
    State(state): State<AppState>,
    PageLang(lang): PageLang,
    viewer: Viewer,
    Path((code, id)): Path<(String, String)>,
    form: Result<Form<AssetForm>, FormRejection>,
) -> Result<Response, AppError> {
    let commune = match editable(&viewer, &code) {
        Ok(c) => c,
        Err(refusal) => return Ok(refusal.page(lang)),
    };
    let form = form.ok().map(|Form(f)| f);
    if let Err(refusal) = check_csrf(&viewer, form.as_ref().and_then(|f| f.csrf.as_deref())) {
        return Ok(refusal.page(lang));
    }
    let old = match owned(&state, lang, &commune, &id).await? {
        Ok(a) => a,
        Err(page) => return Ok(page),
    };
    let who = viewer.clone();
    state
        .store
        .blocking(move |s| {
            if s.delete_manual_asset(&old.id)? {
                s.audit(&audit_entry(
                    &who,
                    "manual_asset.delete",
                    &old.id,
                    Some(&old),
                    None,
                ))?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await
        .in_lang(lang)?;
    Ok(to_commune(&commune, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_grouped_per_language() {
        assert_eq!(dong(45_000_000, Lang::Vi), "45.000.000");
        assert_eq!(dong(18_500_000, Lang::En), "18,500,000");
        assert_eq!(dong(999, Lang::Vi), "999");
        assert_eq!(sentence("đã có"), "Đã có");
    }
}
