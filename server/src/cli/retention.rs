//! `kiemke-server retention [--raw-days N] [--rollup-days N]`: folds old
//! line-probe samples into daily rollups now, on a stopped server's store
//! (a running server does it once a day; see
//! `crate::store::line_rollups`).

use clap::Args;
use kiemke_shared::Lang;

use super::trust::{StoreArgs, open_store};
use crate::store::line_rollups::Retention;

#[derive(Debug, Args)]
pub struct RetentionArgs {
    /// Số ngày giữ kết quả đo chi tiết (days of raw samples kept)
    #[arg(long, default_value_t = Retention::default().raw_days)]
    pub raw_days: u32,
    /// Số ngày giữ bản gộp theo ngày (days of daily rollups kept)
    #[arg(long, default_value_t = Retention::default().rollup_days)]
    pub rollup_days: u32,
    #[command(flatten)]
    pub store: StoreArgs,
}

pub fn run(args: &RetentionArgs) -> anyhow::Result<String> {
    let (store, lang) = open_store(&args.store)?;
    if args.raw_days == 0 || args.rollup_days < args.raw_days {
        anyhow::bail!(
            "{}",
            lang.pick(
                "--raw-days phải lớn hơn 0 và không quá --rollup-days",
                "--raw-days must be above 0 and at most --rollup-days"
            )
        );
    }
    let done = store
        .apply_line_retention(
            chrono::Utc::now(),
            Retention {
                raw_days: args.raw_days,
                rollup_days: args.rollup_days,
            },
        )
        .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
    Ok(match lang {
        Lang::Vi => format!(
            "Đã gộp {} kết quả đo thành {} bản theo ngày; đã xóa {} bản gộp quá hạn.\n",
            done.samples_rolled_up, done.days_written, done.rollups_dropped
        ),
        Lang::En => format!(
            "Folded {} samples into {} daily rollups; dropped {} expired rollups.\n",
            done.samples_rolled_up, done.days_written, done.rollups_dropped
        ),
    })
}
