//! `kiemke-server asset`: manual assets from the command line (with the
//! server stopped; while it runs, the same through `/api/v1/manual-assets`).
//! - `asset import FILE [--commune CODE]`: a CSV or XLSX list
//!   (`docs/import-tai-san.md`), all or nothing, line-numbered errors;
//!   importing the same file again changes nothing;
//! - `asset add --commune --category --model [...]`: one asset;
//! - `asset list [--commune]`.

use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::{NaiveDate, Utc};
use clap::Subcommand;
use kiemke_shared::{CommuneCode, SiteCode};

use super::trust::{StoreArgs, open};
use crate::import::assets::parse_category;
use crate::import::table::MAX_FILE_BYTES;
use crate::policy::Category;
use crate::routes::manual_assets::import_blocking;
use crate::store::manual_assets::NewManualAsset;

#[derive(Debug, Subcommand)]
pub enum AssetCommand {
    /// Nhập danh sách tài sản từ tệp CSV hoặc XLSX (import a CSV/XLSX list)
    Import {
        /// Tệp .csv hoặc .xlsx theo mẫu docs/import-tai-san.md
        file: PathBuf,
        /// Mã xã của mọi dòng (khi tệp không có cột "Mã xã")
        #[arg(long)]
        commune: Option<CommuneCode>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Thêm một tài sản (add one asset)
    Add {
        #[arg(long)]
        commune: CommuneCode,
        #[arg(long)]
        site: Option<SiteCode>,
        /// máy photocopy, máy scan, máy in, thiết bị mạng, khác... hoặc
        /// photocopier, scanner, printer, network-gear, other
        #[arg(long, value_parser = category)]
        category: Category,
        #[arg(long)]
        model: String,
        #[arg(long)]
        serial: Option<String>,
        /// Ngày đưa vào sử dụng (YYYY-MM-DD)
        #[arg(long)]
        in_service: Option<NaiveDate>,
        /// Nguyên giá (đồng)
        #[arg(long)]
        cost_vnd: Option<u64>,
        /// Nguồn vốn
        #[arg(long)]
        funding_source: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Liệt kê tài sản nhập tay (list manual assets)
    List {
        #[arg(long)]
        commune: Option<CommuneCode>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn category(text: &str) -> Result<Category, String> {
    parse_category(text).ok_or_else(|| format!("loại tài sản không nhận ra: {text}"))
}

impl AssetCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            AssetCommand::Import { store, .. }
            | AssetCommand::Add { store, .. }
            | AssetCommand::List { store, .. } => store,
        }
    }
}

pub fn asset(command: AssetCommand) -> anyhow::Result<()> {
    let (store, lang) = open(command.store_args())?;
    match command {
        AssetCommand::Import { file, commune, .. } => {
            let size = std::fs::metadata(&file)
                .with_context(|| format!("{}", file.display()))?
                .len();
            if size > MAX_FILE_BYTES as u64 {
                bail!(
                    "{}",
                    lang.pick(
                        "Tệp lớn hơn 5 MB: hãy chia thành nhiều tệp.",
                        "The file is larger than 5 MB: split it."
                    )
                );
            }
            let bytes = std::fs::read(&file).with_context(|| format!("{}", file.display()))?;
            match import_blocking(&store, &bytes, commune.as_ref())? {
                Ok(s) => println!(
                    "{}",
                    match lang {
                        kiemke_shared::Lang::Vi => format!(
                            "Đã nhập: {} tài sản mới, {} cập nhật, {} không đổi.",
                            s.created, s.updated, s.unchanged
                        ),
                        kiemke_shared::Lang::En => format!(
                            "Imported: {} new, {} updated, {} unchanged.",
                            s.created, s.updated, s.unchanged
                        ),
                    }
                ),
                Err(errors) => {
                    for e in &errors {
                        eprintln!("{}", e.message(lang));
                    }
                    bail!(
                        "{}",
                        match lang {
                            kiemke_shared::Lang::Vi =>
                                format!("Không nhập tài sản nào: tệp có {} lỗi.", errors.len()),
                            kiemke_shared::Lang::En =>
                                format!("Nothing imported: {} error(s).", errors.len()),
                        }
                    );
                }
            }
        }
        AssetCommand::Add {
            commune,
            site,
            category,
            model,
            serial,
            in_service,
            cost_vnd,
            funding_source,
            ..
        } => {
            let asset = NewManualAsset {
                commune,
                site,
                category,
                model,
                serial,
                in_service,
                cost_vnd,
                funding_source,
                note: None,
                source_line: None,
            };
            match store.add_manual_asset(&asset, Utc::now())? {
                Ok(a) => println!("{} {}", lang.pick("Đã thêm tài sản", "Added asset"), a.id),
                Err(id) => bail!(
                    "{} {id}",
                    lang.pick(
                        "Tài sản có số serial này đã được đăng ký:",
                        "An asset with this serial is already registered:"
                    )
                ),
            }
        }
        AssetCommand::List { commune, .. } => {
            for a in store.manual_assets(commune.as_ref())? {
                let x = &a.asset;
                println!(
                    "{}\t{}/{}\t{}\t{}\t{}\t{}",
                    a.id,
                    x.commune,
                    x.site.as_ref().map_or("-", SiteCode::as_str),
                    x.category.label(lang),
                    x.model,
                    x.serial.as_deref().unwrap_or("-"),
                    x.in_service.map(|d| d.to_string()).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}
