//! The end-to-end test harness: starts the real server as a process on port 0
//! with its own sled directory, drives the real agent code against it, and
//! offers typed helpers for the API. Set `TEST_LOG=1` to see the server's log.
//!
//! # Layout
//! - [`server`]: [`server::ServerProcess`], start / kill -9 / restart.
//! - [`agent`]: [`agent::TestAgent`], an agent installation with its own
//!   data directory, using the agent library's spool and delivery.
//! - [`browser`]: [`browser::Browser`], headless Chromium over WebDriver,
//!   with screenshots and downloads.
//! - [`cups`]: a private cupsd on a Unix socket, for print-queue tests
//!   (root only).
//! - [`lan`]: an office LAN in network namespaces with snmpsim devices,
//!   for discovery tests (root only).
//! - [`documents`]: LibreOffice, pdftotext and pdftoppm on generated
//!   documents (proposals).
//! - [`fixtures`]: inventories of made-up PCs with chosen hardware identities.
//! - [`netns`]: [`netns::ShapedLink`], two network namespaces joined by a
//!   wire with delay, jitter, loss and rate (needs root), with helpers to run
//!   peers (the server, `iperf3 -s`) on either end.
//! - [`baseline`]: the reference tools across such a link: `iperf3`, `fping`.
//! - [`echo_loss`]: exactly known ping loss on such a link (nftables),
//!   counted per program, for loss figures checked against the truth.
//! - [`measure`]: the agent's probes next to those tools on one link, as
//!   the shaped-link tests and the `kiemke-probe-bench` benchmark run them.
//! - [`web`]: [`web::WebSession`], a browser-like client with a cookie jar
//!   that logs in through `/login` and sends forms with their CSRF token.
//! - [`stats`]: median and the Wilson interval the probe tests judge with.
//! - [`wine`]: the Windows build of the agent under Wine, in a prefix of
//!   its own.

pub mod agent;
pub mod baseline;
pub mod browser;
pub mod cups;
pub mod documents;
pub mod echo_loss;
pub mod fixtures;
pub mod lan;
pub mod measure;
pub mod netns;
pub mod server;
pub mod stats;
pub mod web;
pub mod wine;

/// The team's `shared/` folder (tools the tests run but the repository does
/// not hold: linkemu, the Wine shim): `$KIEMKE_SHARED_DIR` when set
/// (`.ci/run` sets it for a clone that does not sit next to `shared/`), else
/// `<repo>/../shared`.
pub fn shared_dir() -> std::path::PathBuf {
    match std::env::var_os("KIEMKE_SHARED_DIR") {
        Some(dir) => std::path::PathBuf::from(dir),
        None => std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    }
}
