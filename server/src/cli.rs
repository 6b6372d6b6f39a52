//! The command line: `kiemke-server serve --listen ADDR --data DIR
//! [--config FILE] [--policy FILE] [--lang vi|en]`, `quickstart`, `backup` /
//! `restore` (see [`crate::backup`]), `policy check [--policy FILE]`, `flags
//! [--commune CODE] [--json]`. `main.rs` only calls [`main`]. More
//! subcommands join [`Command`]; those that run a server reuse
//! [`ServeArgs`] and [`crate::serve::serve`]; `token`, `agent` and `site`
//! (in [`trust`]) and `user` (in [`users`]) work on a stopped server's store.

pub mod assets;
pub mod survey;
pub mod trust;
pub mod users;

mod flags;
mod policy_check;
mod proposal;
mod retention;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kiemke_shared::Lang;

use crate::backup::{BackupArgs, RestoreArgs};
use crate::config::{self, ServeArgs};
use crate::{backup, serve, telemetry};

/// Máy chủ Kiểm kê: nhận báo cáo từ các máy tính của xã và hiển thị danh sách
/// thiết bị. (Kiểm kê server: receives reports from commune PCs and shows the
/// device inventory.)
#[derive(Debug, Parser)]
#[command(name = "kiemke-server", version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Chạy máy chủ (run the server)
    Serve(ServeArgs),
    /// Chạy thử: máy chủ cùng kho dữ liệu nhúng và kiểm kê máy này một lần,
    /// rồi in địa chỉ để mở (try it: the server plus this PC's inventory)
    Quickstart(crate::quickstart::QuickstartArgs),
    /// Sao lưu cơ sở dữ liệu, kể cả khi máy chủ đang chạy (back up the store,
    /// also while the server runs)
    Backup(BackupArgs),
    /// Khôi phục bản sao lưu vào một thư mục dữ liệu trống (restore a backup
    /// into an empty data directory)
    Restore(RestoreArgs),
    /// Mã đăng ký tác tử: tạo, liệt kê, thu hồi (enrollment tokens)
    #[command(subcommand)]
    Token(trust::TokenCommand),
    /// Tác tử đã đăng ký: liệt kê, thu hồi (enrolled agents)
    #[command(subcommand)]
    Agent(trust::AgentCommand),
    /// Danh sách điểm của xã: thêm, liệt kê (sites registry)
    #[command(subcommand)]
    Site(trust::SiteCommand),
    /// Người dùng giao diện web: thêm, liệt kê, đổi mật khẩu, vô hiệu hóa
    /// (web users)
    #[command(subcommand)]
    User(users::UserCommand),
    /// Tài sản nhập tay: nhập từ CSV/XLSX, thêm, liệt kê (manual assets)
    #[command(subcommand)]
    Asset(assets::AssetCommand),
    /// Danh sách xã, phường: thêm, liệt kê, nhập từ tệp (communes registry)
    #[command(subcommand)]
    Commune(survey::CommuneCommand),
    /// Xuất dữ liệu (exports)
    #[command(subcommand)]
    Export(survey::ExportCommand),
    /// Thiết bị: chuyển sang điểm khác (devices: move to another site)
    #[command(subcommand)]
    Device(survey::DeviceCommand),
    /// Nạp dữ liệu mẫu của một tỉnh giả lập (load a made-up province)
    Fixture(survey::FixtureArgs),
    /// Chính sách vòng đời thiết bị (lifecycle policy)
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// In các thiết bị cần theo dõi hoặc đề xuất thay thế, kèm lý do (print
    /// flagged devices with their reasons)
    Flags(flags::FlagsArgs),
    /// Lập tờ trình đề xuất trang bị (Word, Excel hoặc bản in) từ kho dữ
    /// liệu của máy chủ đã dừng (write an equipment proposal)
    Proposal(proposal::ProposalArgs),
    /// Đo hiệu năng: mô phỏng tác tử, truy vấn (benchmarks)
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
    /// Gộp kết quả đo đường truyền cũ theo ngày ngay bây giờ (fold old line
    /// probe samples into daily rollups now)
    Retention(retention::RetentionArgs),
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Kiểm tra tệp chính sách và in tóm tắt (validate a policy file)
    Check(policy_check::CheckArgs),
}

impl Command {
    /// The language for messages before the configuration is loaded.
    fn lang(&self) -> Lang {
        match self {
            Command::Serve(args) => args.lang.unwrap_or_default(),
            Command::Quickstart(args) => args.serve.lang.unwrap_or_default(),
            Command::Commune(c) => c.store_args().lang.unwrap_or_default(),
            Command::Export(c) => c.store_args().lang.unwrap_or_default(),
            Command::Fixture(args) => args.store.lang.unwrap_or_default(),
            Command::Device(c) => c.store_args().lang.unwrap_or_default(),
            Command::Backup(args) => args.lang.unwrap_or_default(),
            Command::Restore(args) => args.lang.unwrap_or_default(),
            Command::Token(c) => c.store_args().lang.unwrap_or_default(),
            Command::Agent(c) => c.store_args().lang.unwrap_or_default(),
            Command::Site(c) => c.store_args().lang.unwrap_or_default(),
            Command::User(c) => c.store_args().lang.unwrap_or_default(),
            Command::Asset(c) => c.store_args().lang.unwrap_or_default(),
            Command::Policy(PolicyCommand::Check(args)) => args.lang.unwrap_or_default(),
            Command::Flags(args) => args.lang.unwrap_or_default(),
            Command::Proposal(args) => args.lang.unwrap_or_default(),
            Command::Bench(c) => c.lang(),
            Command::Retention(args) => args.store.lang.unwrap_or_default(),
        }
    }
}

/// Parses the command line, runs the command, and turns a failure into a
/// message on stderr and a non-zero exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Serve(_) | Command::Quickstart(_)) {
        crate::sigpipe::restore_default();
    }
    telemetry::init();
    let lang = cli.command.lang();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!(
                "{}: {e}",
                lang.pick("Lỗi: không khởi động được", "Error: cannot start")
            );
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{} {e:#}", lang.pick("Lỗi:", "Error:"));
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let config = config::load(&args)?;
            let listener = serve::bind(config.listen, config.lang).await?;
            serve::serve(config, listener, serve::shutdown_signal()).await
        }
        Command::Quickstart(args) => crate::quickstart::quickstart(args).await,
        Command::Backup(args) => backup::backup_command(args).await,
        Command::Restore(args) => {
            tokio::task::spawn_blocking(move || backup::restore_command(args)).await?
        }
        Command::Token(command) => trust::token(command),
        Command::Agent(command) => trust::agent(command),
        Command::Site(command) => trust::site(command),
        Command::User(command) => users::user(command),
        Command::Asset(command) => assets::asset(command),
        Command::Commune(command) => {
            tokio::task::spawn_blocking(move || survey::commune(command)).await?
        }
        Command::Export(command) => {
            tokio::task::spawn_blocking(move || survey::export(command)).await?
        }
        Command::Device(command) => {
            tokio::task::spawn_blocking(move || survey::device(command)).await?
        }
        Command::Fixture(args) => {
            tokio::task::spawn_blocking(move || survey::fixture(args)).await?
        }
        Command::Policy(PolicyCommand::Check(args)) => print(policy_check::check(&args)?),
        Command::Flags(args) => {
            print(tokio::task::spawn_blocking(move || flags::run(&args)).await??)
        }
        Command::Proposal(args) => {
            print(tokio::task::spawn_blocking(move || proposal::run(&args)).await??)
        }
        Command::Bench(command) => crate::bench::run(command).await,
        Command::Retention(args) => {
            print(tokio::task::spawn_blocking(move || retention::run(&args)).await??)
        }
    }
}

/// Writes a command's output to stdout.
fn print(text: String) -> anyhow::Result<()> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    Ok(stdout.flush()?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "kiemke-server",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data",
            "/tmp/x",
            "--lang",
            "en",
        ])
        .expect("parses");
        let Command::Serve(args) = cli.command else {
            panic!("expected serve");
        };
        assert_eq!(args.listen.map(|a| a.port()), Some(0));
        assert_eq!(args.lang, Some(Lang::En));
    }
}
