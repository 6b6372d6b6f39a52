//! `kiemke-server bench ...`: load and query benchmarks that print figures
//! (they judge nothing; `docs/benchmarks.md` keeps their output).
//!
//! - [`fleet`]: simulated agents enroll and report over real HTTP, then send
//!   the same bodies to the floor endpoint (`crate::routes::bench`).
//! - [`queries`]: the pages and exports of a loaded province, timed.
//! - [`measure`]: latency percentiles, errors by kind, a process's memory,
//!   a directory's size.
//! - [`spawn`]: a real `kiemke-server serve` child process on loopback with
//!   its store in a temporary directory.

pub mod fleet;
pub mod measure;
pub mod queries;
pub mod spawn;

use clap::Subcommand;

/// The `bench` subcommands.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Mô phỏng nhiều tác tử gửi báo cáo tới máy chủ (simulate a fleet of
    /// agents reporting)
    Fleet(fleet::FleetArgs),
    /// Đo thời gian các trang và bản xuất trên một tỉnh giả lập (time the
    /// pages and exports over a made-up province)
    Queries(queries::QueriesArgs),
}

impl BenchCommand {
    pub fn lang(&self) -> kiemke_shared::Lang {
        match self {
            BenchCommand::Fleet(args) => args.lang.unwrap_or_default(),
            BenchCommand::Queries(args) => args.lang.unwrap_or_default(),
        }
    }
}

/// Runs a `bench` subcommand.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Fleet(args) => fleet::command(args).await,
        BenchCommand::Queries(args) => queries::command(args).await,
    }
}
