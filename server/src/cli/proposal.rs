//! `kiemke-server proposal --commune CODE|--province [--communes A,B]
//! [--format docx|xlsx|html] -o FILE [--data DIR]`: writes a proposal's
//! document from a stopped server's store (the running server holds the
//! store: use `POST /api/v1/proposals` then). Nothing is saved: the number
//! is printed blank unless `--number` gives one.

use std::path::PathBuf;

use anyhow::{Context, anyhow, bail};
use chrono::NaiveDate;
use kiemke_shared::{CommuneCode, Lang};

use crate::config::{ConfigFile, defaults};
use crate::policy::Policy;
use crate::proposal::gather::{self, Request};
use crate::proposal::{self, DocMeta, Scope};
use crate::store::{Store, StoreError};

/// The document to write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Tờ trình (Word)
    #[default]
    Docx,
    /// Phụ lục (Excel)
    Xlsx,
    /// Bản in (HTML)
    Html,
}

/// `proposal` flags.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("scope").required(true).args(["commune", "province"])))]
pub struct ProposalArgs {
    /// Tờ trình của xã/phường này (commune code)
    #[arg(long, value_name = "CODE")]
    pub commune: Option<CommuneCode>,
    /// Tờ trình tổng hợp của tỉnh (the province's consolidation)
    #[arg(long)]
    pub province: bool,
    /// Chỉ tổng hợp các xã này, cách nhau bởi dấu phẩy (only these communes)
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "CODE,...",
        requires = "province"
    )]
    pub communes: Vec<CommuneCode>,
    /// Đề xuất cả thiết bị cần theo dõi (propose `watch` devices too)
    #[arg(long)]
    pub include_watch: bool,
    /// Định dạng: docx, xlsx, html
    #[arg(long, value_enum, default_value_t = Format::Docx)]
    pub format: Format,
    /// Tệp kết quả (output file)
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// Số tờ trình, ví dụ 12/TTr-UBND (document number)
    #[arg(long, value_name = "NUMBER")]
    pub number: Option<String>,
    /// Ngày của tờ trình, YYYY-MM-DD; mặc định hôm nay (document date)
    #[arg(long, value_name = "DATE")]
    pub date: Option<NaiveDate>,
    /// Ngày đánh giá, YYYY-MM-DD (evaluation date; default today)
    #[arg(long, value_name = "DATE")]
    pub evaluation_date: Option<NaiveDate>,
    /// Tệp chính sách (policy file with the norms; default: the shipped one)
    #[arg(long, env = "KIEMKE_SERVER_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Thư mục dữ liệu của máy chủ (the server's data directory)
    #[arg(long = "data", env = "KIEMKE_SERVER_DATA", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Tệp cấu hình TOML, để lấy data-dir (configuration file)
    #[arg(long, env = "KIEMKE_SERVER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Ngôn ngữ của thông báo: vi hoặc en (language of messages)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

/// Writes the document; returns the line to print.
pub fn run(args: &ProposalArgs) -> anyhow::Result<String> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let lang = args.lang.or(file.lang).unwrap_or_default();
    let data_dir = (args.data_dir.clone())
        .or(file.data_dir)
        .unwrap_or_else(|| PathBuf::from(defaults::DATA_DIR));
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| anyhow!(e.message(lang)))?,
        None => Policy::shipped().clone(),
    };
    let store = Store::open(&data_dir).map_err(|e| match e {
        StoreError::Locked { .. } => anyhow!(lang.pick(
            "Máy chủ Kiểm kê đang chạy và giữ thư mục dữ liệu. Khi máy chủ chạy, hãy lập tờ trình \
             qua API (POST /api/v1/proposals) hoặc trang web, hoặc dừng máy chủ rồi chạy lại lệnh này.",
            "A Kiểm kê server is running and holds the data directory. While it runs, make the \
             proposal through the API (POST /api/v1/proposals) or the web page, or stop it first."
        )),
        e => anyhow!(e.message(lang)),
    })?;
    if let Some(n) = &args.number
        && (n.trim().is_empty() || n.chars().count() > 40)
    {
        bail!(lang.pick(
            "Số tờ trình không được trống, tối đa 40 ký tự.",
            "The number must not be empty, at most 40 characters."
        ));
    }
    let as_of = args.evaluation_date.unwrap_or_else(crate::policy::today);
    let scope = match &args.commune {
        Some(code) => Scope::Commune(code.clone()),
        None => Scope::Province,
    };
    let request = Request {
        scope,
        communes: args.communes.clone(),
        include_watch: args.include_watch,
        as_of,
    };
    let input = gather::gather(&store, &policy, &request).map_err(|e| anyhow!(e.message(lang)))?;
    let meta = DocMeta {
        number: args.number.clone(),
        date: args.date.unwrap_or(as_of),
    };
    let rendered = proposal::render(&input, &[], &meta);
    let bytes = match args.format {
        Format::Docx => {
            let created = format!("{}T00:00:00Z", meta.date);
            proposal::docx::write(&rendered, &created)?
        }
        Format::Xlsx => proposal::xlsx::write(
            &rendered,
            meta.date.and_time(chrono::NaiveTime::MIN).and_utc(),
        )
        .map_err(|e| anyhow!("cannot write the workbook: {e}"))?,
        Format::Html => proposal::page::html(&rendered, Vec::new(), String::new())
            .map_err(|e| anyhow!("cannot render the page: {e}"))?
            .into_bytes(),
    };
    std::fs::write(&args.output, bytes).with_context(|| {
        format!(
            "{} {}",
            lang.pick("Không ghi được tệp", "Cannot write"),
            args.output.display()
        )
    })?;
    let p = &rendered.proposal;
    Ok(match lang {
        Lang::Vi => format!(
            "Đã ghi {}: {} mục, {} đơn vị, tổng {} đồng ({}).\n",
            args.output.display(),
            p.items.len(),
            p.total_quantity,
            proposal::text::money(p.total_vnd),
            p.total_words_vi
        ),
        Lang::En => format!(
            "Wrote {}: {} items, {} units, total {} đồng.\n",
            args.output.display(),
            p.items.len(),
            p.total_quantity,
            proposal::text::money(p.total_vnd)
        ),
    })
}
