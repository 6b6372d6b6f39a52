//! `/api/v1/admin/*`: the province's administration API — enrollment tokens,
//! enrolled agents and the sites registry — for when the server is running
//! (the `kiemke-server token|agent|site` commands need it stopped: the store
//! is locked by the running server). Every route takes [`Admin`], so none
//! runs without the configured admin token; without one the API is off.
//!
//! | method and path | body → answer |
//! |---|---|
//! | `POST tokens` | `{"commune", "site"?, "expires"?: "30d", "uses"?: N}` → `201` [`NewTokenView`] (the token, once) |
//! | `GET tokens` | → `{"tokens": [TokenView]}` |
//! | `POST tokens/{id}/revoke` | → [`TokenView`] |
//! | `GET agents` | → `{"agents": [AgentView]}` |
//! | `POST agents/{agent_id}/revoke` | → [`AgentView`] |
//! | `GET sites[?commune=CODE]` | → `{"sites": [SiteRecord]}` |
//! | `POST sites` | `{"commune", "code", "kind", "name", "lines"?: ["vnpt:internet:100"]}` → `201` [`SiteRecord`] |

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::routing::{MethodRouter, get, post};
use chrono::{DateTime, Utc};
use kiemke_shared::auth::TokenId;
use kiemke_shared::{AgentId, CommuneCode, Lang, SiteCode, SiteKind, SiteRef};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::tokens::{self, NewToken};
use crate::auth::{Admin, TrustError, Viewer};
use crate::error::{AppError, InLang};
use crate::routes::lang::RequestLang;
use crate::state::AppState;
use crate::store::audit::AuditEntry;
use crate::store::sites::{Line, SiteRecord};
use crate::store::trust::{AgentRecord, TokenRecord};

/// The admin routes (path relative to `/api/v1/admin`, method, handler),
/// listed in `routes::catalog`.
pub fn entries() -> Vec<(&'static str, Method, MethodRouter<AppState>)> {
    vec![
        ("/tokens", Method::GET, get(list_tokens)),
        ("/tokens", Method::POST, post(create_token)),
        ("/tokens/{id}/revoke", Method::POST, post(revoke_token)),
        ("/agents", Method::GET, get(list_agents)),
        ("/agents/{id}/revoke", Method::POST, post(revoke_agent)),
        ("/sites", Method::GET, get(list_sites)),
        ("/sites", Method::POST, post(add_site)),
    ]
}

/// A token as listed (never its secret, nor its hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenView {
    pub id: TokenId,
    pub commune: CommuneCode,
    pub site: Option<SiteCode>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub max_uses: u32,
    pub uses: u32,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `active`, `expired`, `exhausted` or `revoked`, as of the request.
    pub state: String,
}

impl TokenView {
    pub fn new(t: &TokenRecord, now: DateTime<Utc>) -> TokenView {
        TokenView {
            id: t.id.clone(),
            commune: t.commune.clone(),
            site: t.site.clone(),
            created_at: t.created_at,
            expires_at: t.expires_at,
            max_uses: t.max_uses,
            uses: t.uses,
            revoked_at: t.revoked_at,
            state: token_state(t, now).into(),
        }
    }
}

/// A token's state in one word (as of `now`).
pub fn token_state(t: &TokenRecord, now: DateTime<Utc>) -> &'static str {
    use crate::store::trust::EnrollRefusal as R;
    match t.check(now) {
        Ok(()) => "active",
        Err(R::TokenExpired { .. }) => "expired",
        Err(R::TokenExhausted { .. }) => "exhausted",
        Err(_) => "revoked",
    }
}

/// A newly created token: the only answer that carries its secret.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewTokenView {
    pub token: String,
    #[serde(flatten)]
    pub info: TokenView,
}

/// An enrolled agent as listed (never its credential, nor its hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentView {
    pub agent_id: AgentId,
    pub commune: CommuneCode,
    pub site: Option<SiteCode>,
    pub hostname: Option<String>,
    pub enrolled_at: DateTime<Utc>,
    pub credential_issued_at: DateTime<Utc>,
    pub token_id: TokenId,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&AgentRecord> for AgentView {
    fn from(a: &AgentRecord) -> AgentView {
        AgentView {
            agent_id: a.agent_id,
            commune: a.commune.clone(),
            site: a.site.clone(),
            hostname: a.hostname.clone(),
            enrolled_at: a.enrolled_at,
            credential_issued_at: a.credential_issued_at,
            token_id: a.token_id.clone(),
            revoked_at: a.revoked_at,
        }
    }
}

fn parse<T: DeserializeOwned>(lang: Lang, body: &Bytes) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        AppError::new(
            lang,
            TrustError::Invalid {
                field: if field == "." {
                    "body"
                } else {
                    leak_field(&field)
                },
                detail: e.inner().to_string(),
            },
        )
    })
}

/// The few field names the admin bodies have, as `'static` names.
fn leak_field(path: &str) -> &'static str {
    const FIELDS: [&str; 9] = [
        "commune", "site", "expires", "uses", "code", "kind", "name", "lines", "body",
    ];
    let head = path.split(['.', '[']).next().unwrap_or_default();
    FIELDS.into_iter().find(|f| *f == head).unwrap_or("body")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateToken {
    commune: CommuneCode,
    #[serde(default)]
    site: Option<SiteCode>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    uses: Option<u32>,
}

async fn create_token(
    _: Admin,
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    body: Bytes,
) -> Result<(StatusCode, Json<NewTokenView>), AppError> {
    let request: CreateToken = parse(lang, &body)?;
    let lifetime = match &request.expires {
        Some(text) => humantime::parse_duration(text).map_err(|e| {
            AppError::new(
                lang,
                TrustError::Invalid {
                    field: "expires",
                    detail: e.to_string(),
                },
            )
        })?,
        None => tokens::DEFAULT_LIFETIME,
    };
    let new = NewToken {
        commune: request.commune,
        site: request.site,
        lifetime,
        max_uses: request.uses.unwrap_or(tokens::DEFAULT_USES),
    };
    let now = Utc::now();
    let (token, record) = state
        .store
        .blocking(move |store| Ok(tokens::issue(store, &new, now)))
        .await
        .in_lang(lang)?
        .in_lang(lang)?;
    let after = TokenView::new(&record, now);
    audit(
        &state,
        lang,
        AuditEntry::new(&viewer.user, "token.create", record.id.to_string())
            .change(None::<&()>, Some(&after)),
    )
    .await?;
    tracing::info!(token_id = %record.id, commune = %record.commune, site = ?record.site,
        max_uses = record.max_uses, expires_at = %record.expires_at, "đã tạo mã đăng ký / token created");
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            token: token.to_string(),
            info: TokenView::new(&record, now),
        }),
    ))
}

#[derive(Serialize)]
struct Tokens {
    tokens: Vec<TokenView>,
}

async fn list_tokens(
    _: Admin,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<Tokens>, AppError> {
    let now = Utc::now();
    let tokens = state.store.blocking(|s| s.tokens()).await.in_lang(lang)?;
    Ok(Json(Tokens {
        tokens: tokens.iter().map(|t| TokenView::new(t, now)).collect(),
    }))
}

async fn revoke_token(
    _: Admin,
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, AppError> {
    let id = TokenId::parse(&id).map_err(|e| {
        AppError::new(
            lang,
            TrustError::Invalid {
                field: "id",
                detail: e.to_string(),
            },
        )
    })?;
    let now = Utc::now();
    let lookup = id.clone();
    let token = state
        .store
        .blocking(move |s| s.revoke_token(&lookup, now))
        .await
        .in_lang(lang)?
        .ok_or_else(|| AppError::new(lang, TrustError::TokenNotFound(id)))?;
    tracing::info!(token_id = %token.id, "đã thu hồi mã đăng ký / token revoked");
    let after = TokenView::new(&token, now);
    audit(
        &state,
        lang,
        AuditEntry::new(&viewer.user, "token.revoke", token.id.to_string())
            .change(None::<&()>, Some(&after)),
    )
    .await?;
    Ok(Json(TokenView::new(&token, now)))
}

#[derive(Serialize)]
struct Agents {
    agents: Vec<AgentView>,
}

async fn list_agents(
    _: Admin,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
) -> Result<Json<Agents>, AppError> {
    let agents = state.store.blocking(|s| s.agents()).await.in_lang(lang)?;
    Ok(Json(Agents {
        agents: agents.iter().map(AgentView::from).collect(),
    }))
}

async fn revoke_agent(
    _: Admin,
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Json<AgentView>, AppError> {
    let id: AgentId = id.parse().map_err(|e: kiemke_shared::IdError| {
        AppError::new(
            lang,
            TrustError::Invalid {
                field: "id",
                detail: e.to_string(),
            },
        )
    })?;
    let agent = state
        .store
        .blocking(move |s| s.revoke_agent(&id, Utc::now()))
        .await
        .in_lang(lang)?
        .ok_or_else(|| AppError::new(lang, TrustError::AgentNotFound(id)))?;
    tracing::info!(agent_id = %agent.agent_id, commune = %agent.commune, "đã thu hồi tác tử / agent revoked");
    let after = AgentView::from(&agent);
    audit(
        &state,
        lang,
        AuditEntry::new(&viewer.user, "agent.revoke", agent.agent_id.to_string())
            .change(None::<&()>, Some(&after)),
    )
    .await?;
    Ok(Json(AgentView::from(&agent)))
}

#[derive(Deserialize)]
struct SitesQuery {
    commune: Option<CommuneCode>,
}

#[derive(Serialize)]
struct Sites {
    sites: Vec<SiteRecord>,
}

async fn list_sites(
    _: Admin,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    query: Result<Query<SitesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Sites>, AppError> {
    let Query(query) = query.map_err(|e| {
        AppError::new(
            lang,
            TrustError::Invalid {
                field: "commune",
                detail: e.body_text(),
            },
        )
    })?;
    let sites = state
        .store
        .blocking(move |s| s.sites(query.commune.as_ref()))
        .await
        .in_lang(lang)?;
    Ok(Json(Sites { sites }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddSite {
    commune: CommuneCode,
    code: SiteCode,
    kind: SiteKind,
    name: String,
    #[serde(default)]
    lines: Vec<String>,
}

/// A site's name is shown in lists and documents.
pub const MAX_SITE_NAME: usize = 200;

/// Checks a new site's fields (shared with `kiemke-server site add`).
pub fn new_site(
    commune: CommuneCode,
    code: SiteCode,
    kind: SiteKind,
    name: &str,
    lines: &[String],
) -> Result<SiteRecord, TrustError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_SITE_NAME {
        return Err(TrustError::Invalid {
            field: "name",
            detail: format!("1..={MAX_SITE_NAME}"),
        });
    }
    let lines = lines
        .iter()
        .map(|l| Line::parse(l))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|detail| TrustError::Invalid {
            field: "lines",
            detail,
        })?;
    Ok(SiteRecord {
        site: SiteRef {
            commune,
            site: code,
        },
        kind,
        name: name.to_owned(),
        lines,
        staff: None,
        created_at: Utc::now(),
    })
}

async fn add_site(
    _: Admin,
    viewer: Viewer,
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    body: Bytes,
) -> Result<(StatusCode, Json<SiteRecord>), AppError> {
    let r: AddSite = parse(lang, &body)?;
    let site = new_site(r.commune, r.code, r.kind, &r.name, &r.lines).in_lang(lang)?;
    let record = site.clone();
    let added = state
        .store
        .blocking(move |s| s.add_site(&record))
        .await
        .in_lang(lang)?;
    if !added {
        return Err(AppError::new(lang, TrustError::SiteExists(site.site)));
    }
    tracing::info!(site = %site.site, kind = %site.kind, "đã thêm điểm / site added");
    audit(
        &state,
        lang,
        AuditEntry::new(&viewer.user, "site.add", site.site.to_string())
            .change(None::<&()>, Some(&site)),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(site)))
}

/// Records an admin write in the audit log (see `store::audit`).
async fn audit(state: &AppState, lang: Lang, entry: AuditEntry) -> Result<(), AppError> {
    state
        .store
        .blocking(move |store| store.audit(&entry))
        .await
        .in_lang(lang)
}
