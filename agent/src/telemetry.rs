//! Logging: human-readable lines on stderr, filtered by `KIEMKE_LOG` (or
//! `RUST_LOG`); quiet for one-shot commands, informative for the daemon.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber once; `default_level` applies when no filter is set.
pub fn init(default_level: &str) {
    let filter = std::env::var("KIEMKE_LOG")
        .ok()
        .or_else(|| std::env::var("RUST_LOG").ok())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(format!("{default_level},sled=warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
