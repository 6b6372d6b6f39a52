//! End-to-end tests: one test binary, one module per area.

mod access;
mod backup;
mod bad_input;
mod browser;
mod cli;
mod daemon;
mod discover;
mod durability;
mod fleet;
mod identity;
mod ingest;
mod librespeed;
mod lines;
mod manual_assets;
mod packaging;
mod peripherals;
mod policy;
mod probe;
mod proposal;
mod proposal_web;
mod protocol_doc;
mod shaped;
mod spool;
mod survey_cli;
mod tls;
mod trust;
mod windows;

/// Paths of the real binaries, built by cargo for this crate.
pub fn server_bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_kiemke-server-e2e"))
}

pub fn agent_bin() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_BIN_EXE_kiemke-agent-e2e"))
}

/// Runs the agent binary with `args` on the installation in `data`.
pub fn agent(data: &std::path::Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    std::process::Command::new(agent_bin())
        .args(args)
        .arg("--data")
        .arg(data)
        .env("NO_COLOR", "1")
        .output()
}

/// What a command printed, stdout then stderr.
pub fn text(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
