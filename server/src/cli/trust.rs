//! `kiemke-server token|agent|site ...`: the province's enrollment tokens,
//! enrolled agents and sites registry, worked on the store directly.
//!
//! The store is locked by a running server (sled allows one process), so
//! these commands need the server stopped; while it runs, the same actions
//! are in the admin API (`/api/v1/admin/*`, see `docs/enrollment.md`). A
//! locked store is reported in the user's language with both ways out.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use kiemke_shared::auth::TokenId;
use kiemke_shared::{AgentId, CommuneCode, Lang, SiteCode, SiteKind};

use crate::auth::tokens::{self, NewToken};
use crate::config::{ConfigFile, defaults};
use crate::error::AppError;
use crate::routes::admin::{new_site, token_state};
use crate::store::audit::AuditEntry;
use crate::store::{Store, StoreError};

/// Where the store is: the same layers as `serve` (flag, file, default).
#[derive(Debug, Clone, Default, Args)]
pub struct StoreArgs {
    /// Thư mục dữ liệu của máy chủ (the server's data directory)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tệp cấu hình TOML (configuration file)
    #[arg(long, env = "KIEMKE_SERVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Tạo mã đăng ký cho một xã (create an enrollment token)
    Create {
        /// Mã xã, 5 chữ số (commune code)
        #[arg(long)]
        commune: CommuneCode,
        /// Mã điểm trong xã, phải có trong danh sách điểm (site code)
        #[arg(long)]
        site: Option<SiteCode>,
        /// Thời hạn, ví dụ 30d, 12h (lifetime; default 7d)
        #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
        expires: Option<Duration>,
        /// Số máy được đăng ký bằng mã này (uses; default 1)
        #[arg(long, value_name = "N")]
        uses: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Liệt kê mã đăng ký (list tokens)
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Thu hồi mã đăng ký (revoke a token; enrolled agents stay enrolled)
    Revoke {
        id: TokenId,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Liệt kê tác tử đã đăng ký (list enrolled agents)
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Thu hồi một tác tử: báo cáo sau đó bị từ chối (revoke an agent)
    Revoke {
        agent_id: AgentId,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum SiteCommand {
    /// Thêm một điểm (trụ sở, TTPVHCC, trạm y tế...) (add a site)
    Add {
        #[arg(long)]
        commune: CommuneCode,
        /// Mã điểm: chữ thường, số, '-' (e.g. ttpvhcc)
        #[arg(long)]
        code: SiteCode,
        /// headquarters, service-center, health-station, school, village-hall, other
        #[arg(long)]
        kind: SiteKind,
        /// Tên điểm (site name)
        #[arg(long)]
        name: String,
        /// Đường truyền ISP:LOẠI[:MBPS], ví dụ vnpt:internet:100 (repeatable)
        #[arg(long = "line", value_name = "ISP:KIND[:MBPS]")]
        lines: Vec<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Liệt kê điểm (list sites)
    List {
        #[arg(long)]
        commune: Option<CommuneCode>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl TokenCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            TokenCommand::Create { store, .. }
            | TokenCommand::List { store }
            | TokenCommand::Revoke { store, .. } => store,
        }
    }
}

impl AgentCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            AgentCommand::List { store } | AgentCommand::Revoke { store, .. } => store,
        }
    }
}

impl SiteCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            SiteCommand::Add { store, .. } | SiteCommand::List { store, .. } => store,
        }
    }
}

/// Opens the store named by `args` (for the other store commands).
pub(crate) fn open_store(args: &StoreArgs) -> anyhow::Result<(Store, Lang)> {
    open(args)
}

/// Opens the store named by `args`, explaining a lock held by a running server.
fn open(args: &StoreArgs) -> anyhow::Result<(Store, Lang)> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let lang = args.lang.or(file.lang).unwrap_or_default();
    let dir = (args.data_dir.clone().or(file.data_dir))
        .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
    match Store::open(&dir) {
        Ok(store) => Ok((store, lang)),
        Err(StoreError::Locked { path }) => Err(anyhow!(match lang {
            Lang::Vi => format!(
                "Máy chủ Kiểm kê đang chạy và giữ thư mục dữ liệu {}. Hãy dừng máy chủ rồi chạy \
                 lại lệnh này, hoặc dùng API quản trị khi máy chủ đang chạy \
                 (/api/v1/admin, xem docs/enrollment.md).",
                path.display()
            ),
            Lang::En => format!(
                "A Kiểm kê server is running on the data directory {}. Stop it and run this \
                 command again, or use the admin API while it runs (/api/v1/admin, see \
                 docs/enrollment.md).",
                path.display()
            ),
        })),
        Err(e) => Err(anyhow!(e.message(lang))),
    }
}

/// A store or trust failure, told as the API would tell it.
fn told(lang: Lang, failure: impl Into<crate::error::Failure>) -> anyhow::Error {
    anyhow!(AppError::new(lang, failure).body().message)
}

fn when(t: DateTime<Utc>) -> String {
    t.format("%d/%m/%Y %H:%M UTC").to_string()
}

pub fn token(command: TokenCommand) -> anyhow::Result<()> {
    let (store, lang) = open(command.store_args())?;
    let now = Utc::now();
    match command {
        TokenCommand::Create {
            commune,
            site,
            expires,
            uses,
            ..
        } => {
            let new = NewToken {
                commune,
                site,
                lifetime: expires.unwrap_or(tokens::DEFAULT_LIFETIME),
                max_uses: uses.unwrap_or(tokens::DEFAULT_USES),
            };
            let (token, record) = tokens::issue(&store, &new, now).map_err(|e| told(lang, e))?;
            let after = crate::routes::admin::TokenView::new(&record, now);
            store
                .audit(
                    &AuditEntry::new("cli", "token.create", record.id.to_string())
                        .change(None::<&()>, Some(&after)),
                )
                .map_err(|e| told(lang, e))?;
            let place = match &record.site {
                Some(site) => format!("{}/{site}", record.commune),
                None => record.commune.to_string(),
            };
            match lang {
                Lang::Vi => {
                    println!(
                        "Đã tạo mã đăng ký {} cho {place}: đăng ký được {} máy, hết hạn {}.",
                        record.id,
                        record.max_uses,
                        when(record.expires_at)
                    );
                    println!(
                        "Mã đăng ký (chỉ hiện một lần này; gửi cho cán bộ xã qua kênh an toàn):"
                    );
                    println!("{token}");
                    println!(
                        "Trên mỗi máy: kiemke-agent enroll --server https://MÁY-CHỦ --token {token}"
                    );
                }
                Lang::En => {
                    println!(
                        "Created enrollment token {} for {place}: enrolls up to {} PC(s), expires {}.",
                        record.id,
                        record.max_uses,
                        when(record.expires_at)
                    );
                    println!(
                        "The token (shown this once; give it to the commune officer over a safe channel):"
                    );
                    println!("{token}");
                    println!(
                        "On each PC: kiemke-agent enroll --server https://SERVER --token {token}"
                    );
                }
            }
        }
        TokenCommand::List { .. } => {
            let tokens = store.tokens().map_err(|e| told(lang, e))?;
            println!(
                "{}",
                lang.pick(
                    "MÃ            XÃ/ĐIỂM                    ĐÃ DÙNG  HẾT HẠN                 TRẠNG THÁI",
                    "ID            COMMUNE/SITE               USED     EXPIRES                 STATE"
                )
            );
            for t in &tokens {
                let place = match &t.site {
                    Some(site) => format!("{}/{site}", t.commune),
                    None => t.commune.to_string(),
                };
                let state = token_state(t, now);
                let state = match (lang, state) {
                    (Lang::Vi, "active") => "còn dùng được",
                    (Lang::Vi, "expired") => "hết hạn",
                    (Lang::Vi, "exhausted") => "đã dùng hết",
                    (Lang::Vi, _) => "đã thu hồi",
                    (Lang::En, s) => s,
                };
                println!(
                    "{:<13} {:<26} {:>3}/{:<4} {:<23} {state}",
                    t.id,
                    place,
                    t.uses,
                    t.max_uses,
                    when(t.expires_at)
                );
            }
        }
        TokenCommand::Revoke { id, .. } => {
            match store.revoke_token(&id, now).map_err(|e| told(lang, e))? {
                Some(_) => {
                    store
                        .audit(&AuditEntry::new("cli", "token.revoke", id.to_string()))
                        .map_err(|e| told(lang, e))?;
                    println!(
                        "{} {id}",
                        lang.pick("Đã thu hồi mã đăng ký", "Revoked enrollment token")
                    )
                }
                None => bail!("{}", told(lang, crate::auth::TrustError::TokenNotFound(id))),
            }
        }
    }
    Ok(())
}

pub fn agent(command: AgentCommand) -> anyhow::Result<()> {
    let (store, lang) = open(command.store_args())?;
    match command {
        AgentCommand::List { .. } => {
            let agents = store.agents().map_err(|e| told(lang, e))?;
            println!(
                "{}",
                lang.pick(
                    "MÃ TÁC TỬ                             XÃ/ĐIỂM                    MÁY              ĐĂNG KÝ                 TRẠNG THÁI",
                    "AGENT ID                              COMMUNE/SITE               HOST             ENROLLED                STATE"
                )
            );
            for a in &agents {
                let place = match &a.site {
                    Some(site) => format!("{}/{site}", a.commune),
                    None => a.commune.to_string(),
                };
                let state = match (a.revoked_at, lang) {
                    (None, _) => lang.pick("hoạt động", "active").to_owned(),
                    (Some(t), Lang::Vi) => format!("đã thu hồi {}", when(t)),
                    (Some(t), Lang::En) => format!("revoked {}", when(t)),
                };
                println!(
                    "{} {:<26} {:<16} {:<23} {state}",
                    a.agent_id,
                    place,
                    a.hostname.as_deref().unwrap_or("-"),
                    when(a.enrolled_at)
                );
            }
        }
        AgentCommand::Revoke { agent_id, .. } => {
            match store
                .revoke_agent(&agent_id, Utc::now())
                .map_err(|e| told(lang, e))?
            {
                Some(a) => {
                    store
                        .audit(&AuditEntry::new(
                            "cli",
                            "agent.revoke",
                            agent_id.to_string(),
                        ))
                        .map_err(|e| told(lang, e))?;
                    println!(
                        "{} {agent_id} ({}){}",
                        lang.pick("Đã thu hồi tác tử", "Revoked agent"),
                        a.commune,
                        lang.pick(
                            ": các báo cáo sau của tác tử này sẽ bị từ chối.",
                            ": its later reports will be refused."
                        )
                    )
                }
                None => bail!(
                    "{}",
                    told(lang, crate::auth::TrustError::AgentNotFound(agent_id))
                ),
            }
        }
    }
    Ok(())
}

pub fn site(command: SiteCommand) -> anyhow::Result<()> {
    let (store, lang) = open(command.store_args())?;
    match command {
        SiteCommand::Add {
            commune,
            code,
            kind,
            name,
            lines,
            ..
        } => {
            let site = new_site(commune, code, kind, &name, &lines).map_err(|e| told(lang, e))?;
            let added = store.add_site(&site).map_err(|e| told(lang, e))?;
            if !added {
                bail!(
                    "{}",
                    told(lang, crate::auth::TrustError::SiteExists(site.site))
                );
            }
            store
                .audit(
                    &AuditEntry::new("cli", "site.add", site.site.to_string())
                        .change(None::<&()>, Some(&site)),
                )
                .map_err(|e| told(lang, e))?;
            println!(
                "{} {} ({}: {})",
                lang.pick("Đã thêm điểm", "Added site"),
                site.site,
                site.kind.label(lang),
                site.name
            );
        }
        SiteCommand::List { commune, .. } => {
            let sites = store.sites(commune.as_ref()).map_err(|e| told(lang, e))?;
            for s in &sites {
                let lines: Vec<String> = s
                    .lines
                    .iter()
                    .map(|l| {
                        let json = serde_json::to_value((l.isp, l.kind)).unwrap_or_default();
                        let mbps = l
                            .contracted_mbps
                            .map(|m| format!(":{m}"))
                            .unwrap_or_default();
                        format!(
                            "{}:{}{mbps}",
                            json[0].as_str().unwrap_or("?"),
                            json[1].as_str().unwrap_or("?")
                        )
                    })
                    .collect();
                println!(
                    "{:<30} {:<36} {} [{}]",
                    s.site.to_string(),
                    s.kind.label(lang),
                    s.name,
                    lines.join(", ")
                );
            }
            if sites.is_empty() {
                println!("{}", lang.pick("(chưa có điểm nào)", "(no sites)"));
            }
        }
    }
    Ok(())
}
