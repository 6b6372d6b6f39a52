//! `kiemke-server commune add|list|import`, `export survey`, and `fixture`:
//! the survey's registry, exports and demo data from the command line, on
//! a stopped server's store (sled allows one process; while the server
//! runs, the web pages do the same).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, anyhow};
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};
use kiemke_shared::{CommuneCode, Lang};

use super::trust::{StoreArgs, open_store};
use crate::export::{self, Table};
use crate::fixture::{self, FixtureSpec};
use crate::import;
use crate::policy::Policy;
use crate::store::Store;
use crate::store::audit::AuditEntry;
use crate::store::communes::{CommuneKind, CommuneRecord};
use crate::survey;

#[derive(Debug, Subcommand)]
pub enum CommuneCommand {
    /// Thêm một xã, phường (add a commune)
    Add {
        /// Mã xã, 5 chữ số (official commune code)
        #[arg(long)]
        code: CommuneCode,
        /// xa, phuong hoặc dac-khu
        #[arg(long, value_parser = parse_kind, default_value = "xa")]
        kind: CommuneKind,
        /// Tên, không kèm chữ "xã"/"phường" (name)
        #[arg(long)]
        name: String,
        /// Tỉnh (province)
        #[arg(long, default_value = "Gia Lai")]
        province: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Liệt kê xã, phường (list communes)
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Nhập danh sách xã và điểm từ tệp CSV/XLSX, tất cả hoặc không (import
    /// communes and sites, all or nothing; see docs/survey.md)
    Import {
        /// Tệp .csv hoặc .xlsx (file)
        file: PathBuf,
        /// Chỉ kiểm tra và in những gì sẽ thay đổi (check only)
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl CommuneCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            CommuneCommand::Add { store, .. }
            | CommuneCommand::List { store }
            | CommuneCommand::Import { store, .. } => store,
        }
    }
}

fn parse_kind(s: &str) -> Result<CommuneKind, String> {
    import::communes::parse_commune_kind(s).ok_or_else(|| format!("{s:?}: xa, phuong, dac-khu"))
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Chuyển một máy sang điểm khác của xã, giữ nguyên lịch sử (move a
    /// device to another site of its commune, keeping its history)
    Move {
        /// Mã thiết bị (device id)
        device: kiemke_shared::DeviceId,
        /// Mã điểm mới trong cùng xã (the new site's code)
        #[arg(long)]
        site: kiemke_shared::SiteCode,
        #[command(flatten)]
        store: StoreArgs,
    },
}

impl DeviceCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            DeviceCommand::Move { store, .. } => store,
        }
    }
}

pub fn device(command: DeviceCommand) -> anyhow::Result<()> {
    let (store, lang) = open_store(command.store_args())?;
    let DeviceCommand::Move { device, site, .. } = command;
    let record = store.device_record(&device)?.ok_or_else(|| {
        anyhow!(match lang {
            Lang::Vi => format!("Không có thiết bị nào có mã {device}."),
            Lang::En => format!("There is no device {device}."),
        })
    })?;
    let commune = record
        .origin
        .as_ref()
        .map(|o| o.commune.clone())
        .ok_or_else(|| {
            anyhow!(lang.pick(
                "Thiết bị chưa thuộc xã nào (chưa báo cáo qua tác tử đã đăng ký).",
                "The device belongs to no commune yet (no report from an enrolled agent)."
            ))
        })?;
    let to = kiemke_shared::SiteRef { commune, site };
    if store.site(&to)?.is_none() {
        anyhow::bail!(match lang {
            Lang::Vi => format!("Xã không có điểm {to}: thêm điểm trước (kiemke-server site add)."),
            Lang::En =>
                format!("The commune has no site {to}: add it first (kiemke-server site add)."),
        });
    }
    store.move_device(&device, &to)?;
    store.audit(
        &AuditEntry::new(cli_user(), "device.move", device.to_string())
            .change(record.origin.as_ref(), Some(&to)),
    )?;
    println!("{} {device} → {to}", lang.pick("Đã chuyển", "Moved"));
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Xlsx,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Xuất khảo sát (export the survey)
    Survey(ExportArgs),
}

impl ExportCommand {
    pub fn store_args(&self) -> &StoreArgs {
        match self {
            ExportCommand::Survey(a) => &a.store,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// xlsx hoặc csv
    #[arg(long, value_enum, default_value = "xlsx")]
    pub format: Format,
    /// Chỉ một xã (one commune)
    #[arg(long)]
    pub commune: Option<CommuneCode>,
    /// Bảng của tệp CSV: summary (mỗi xã một dòng) hoặc devices (CSV table)
    #[arg(long, value_enum, default_value = "summary")]
    pub table: Table,
    /// Tệp ghi ra (output file)
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Tệp chính sách (policy file; the shipped one by default)
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Debug, Args)]
pub struct FixtureArgs {
    /// Hạt giống: cùng hạt giống cho cùng dữ liệu (seed)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Số xã (communes)
    #[arg(long, default_value_t = 135)]
    pub communes: usize,
    /// Số máy tính mỗi xã, tối thiểu và tối đa (PCs per commune)
    #[arg(long, default_value_t = 20)]
    pub pcs_min: usize,
    #[arg(long, default_value_t = 80)]
    pub pcs_max: usize,
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Who the audit log names for a command.
fn cli_user() -> String {
    format!(
        "cli:{}",
        std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "?".into())
    )
}

pub fn commune(command: CommuneCommand) -> anyhow::Result<()> {
    let (store, lang) = open_store(command.store_args())?;
    match command {
        CommuneCommand::Add {
            code,
            kind,
            name,
            province,
            ..
        } => {
            let record = CommuneRecord {
                code: code.clone(),
                kind,
                name: name.trim().to_owned(),
                province: province.trim().to_owned(),
                created_at: Utc::now(),
            };
            if record.name.is_empty() || record.name.chars().count() > 120 {
                anyhow::bail!(lang.pick(
                    "Tên xã không được để trống, dài tối đa 120 ký tự.",
                    "The name must be 1–120 characters."
                ));
            }
            if !store.add_commune(&record)? {
                anyhow::bail!(match lang {
                    Lang::Vi => format!("Mã xã {code} đã có trong danh sách."),
                    Lang::En => format!("Commune {code} is already registered."),
                });
            }
            store.audit(
                &AuditEntry::new(cli_user(), "commune.add", code.to_string())
                    .change(None::<&()>, Some(&record)),
            )?;
            println!(
                "{} {} ({code})",
                lang.pick("Đã thêm", "Added"),
                record.full_name_vi()
            );
        }
        CommuneCommand::List { .. } => {
            let mut out = std::io::stdout().lock();
            for c in store.communes()? {
                let sites = store.sites(Some(&c.code))?.len();
                writeln!(
                    out,
                    "{}  {:<32} {:<12} {sites} {}",
                    c.code,
                    c.full_name_vi(),
                    c.province,
                    lang.pick("điểm", "sites")
                )?;
            }
        }
        CommuneCommand::Import { file, dry_run, .. } => {
            let bytes = std::fs::read(&file).with_context(|| {
                format!(
                    "{} {}",
                    lang.pick("không đọc được", "cannot read"),
                    file.display()
                )
            })?;
            let format =
                import::table::Format::from_name(&file.to_string_lossy()).ok_or_else(|| {
                    anyhow!(lang.pick(
                        "Tệp phải là .csv hoặc .xlsx.",
                        "The file must be .csv or .xlsx."
                    ))
                })?;
            let plan = import::communes::plan(&store, &bytes, format, Utc::now())
                .map_err(|errors| anyhow!(import::communes::report_errors(&errors, lang)))?;
            print!("{}", plan.describe(lang));
            if dry_run {
                println!(
                    "{}",
                    lang.pick("(chạy thử: chưa ghi gì)", "(dry run: nothing written)")
                );
            } else {
                let written = plan.apply(&store, &cli_user())?;
                println!(
                    "{} {written}",
                    lang.pick("Số bản ghi đã ghi:", "Records written:")
                );
            }
        }
    }
    Ok(())
}

/// Prints "label: done/all" on one stderr line, rewritten in place.
fn progress_line(
    lang: Lang,
    what_vi: &'static str,
    what_en: &'static str,
) -> impl FnMut(usize, usize) {
    move |done, all| {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{} {done}/{all}", lang.pick(what_vi, what_en));
        if done == all {
            let _ = writeln!(err);
        }
        let _ = err.flush();
    }
}

pub fn export(command: ExportCommand) -> anyhow::Result<()> {
    let ExportCommand::Survey(args) = command;
    let (store, lang) = open_store(&args.store)?;
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| anyhow!(e.message(lang)))?,
        None => Policy::shipped().clone(),
    };
    eprintln!(
        "{}",
        lang.pick("Đang đọc dữ liệu khảo sát...", "Reading the survey...")
    );
    let (survey, details) =
        survey::with_devices(&store, &policy, args.commune.as_ref(), Utc::now())?;
    if let Some(code) = &args.commune
        && details.is_empty()
    {
        anyhow::bail!(match lang {
            Lang::Vi => format!("Không có xã nào có mã {code}."),
            Lang::En => format!("There is no commune {code}."),
        });
    }
    let bytes = match args.format {
        Format::Xlsx => export::xlsx::write(
            &export::sheets(&survey, &details, lang),
            progress_line(lang, "Đang ghi các trang tính:", "Writing sheets:"),
        )?,
        Format::Csv => {
            let sheet = match args.table {
                Table::Summary => export::summary_table(&survey, lang),
                Table::Devices => export::device_table(&details, None, lang),
            };
            export::csv::write(&sheet)?
        }
    };
    std::fs::write(&args.output, &bytes).with_context(|| {
        format!(
            "{} {}",
            lang.pick("không ghi được", "cannot write"),
            args.output.display()
        )
    })?;
    println!(
        "{} {} ({} {}, {} byte)",
        lang.pick("Đã ghi", "Wrote"),
        args.output.display(),
        survey.communes.len(),
        lang.pick("xã", "communes"),
        bytes.len()
    );
    Ok(())
}

/// Loads a generated province into `store` with a progress line.
pub fn load_fixture(
    store: &Store,
    spec: &FixtureSpec,
    lang: Lang,
) -> anyhow::Result<fixture::load::Loaded> {
    let province = fixture::generate(spec);
    let loaded = fixture::load::load(
        store,
        &province,
        Policy::shipped(),
        crate::policy::today(),
        progress_line(
            lang,
            "Đang nạp dữ liệu mẫu, số xã:",
            "Loading demo data, communes:",
        ),
    )?;
    store.audit(&AuditEntry::new(
        cli_user(),
        "fixture.load",
        format!("seed {} ({} communes)", spec.seed, loaded.communes),
    ))?;
    Ok(loaded)
}

pub fn fixture(args: FixtureArgs) -> anyhow::Result<()> {
    let (store, lang) = open_store(&args.store)?;
    if args.pcs_min == 0
        || args.pcs_min > args.pcs_max
        || args.communes == 0
        || args.communes > 10_000
    {
        anyhow::bail!(lang.pick(
            "Cần 1–10000 xã và 1 ≤ pcs-min ≤ pcs-max.",
            "Needs 1–10000 communes and 1 ≤ pcs-min ≤ pcs-max."
        ));
    }
    let spec = FixtureSpec {
        seed: args.seed,
        communes: args.communes,
        pcs_min: args.pcs_min,
        pcs_max: args.pcs_max,
        now: Utc::now(),
        province: "Gia Lai".into(),
    };
    let loaded = load_fixture(&store, &spec, lang)?;
    println!(
        "{}: {} {}, {} {}, {} {}, {} {}",
        lang.pick("Đã nạp", "Loaded"),
        loaded.communes,
        lang.pick("xã", "communes"),
        loaded.sites,
        lang.pick("điểm", "sites"),
        loaded.devices,
        lang.pick("máy tính", "PCs"),
        loaded.reports,
        lang.pick("báo cáo", "reports")
    );
    Ok(())
}
