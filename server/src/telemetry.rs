//! Logging: `tracing` to stderr (stdout carries only the address line that
//! scripts and tests read), filtered by `RUST_LOG` (default `info`), with
//! structured fields.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Sets up logging once; later calls (tests, embedding) change nothing.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
