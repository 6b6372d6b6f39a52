//! `kiemke-server`: the province server. Agents on commune office PCs POST
//! their reports here; the server stores each report once, works out which
//! physical device it came from, and shows the inventory.
//!
//! # Layout
//! - [`cli`]: the command line (`kiemke-server serve ...`); `main.rs` only
//!   calls [`cli::main`].
//! - [`config`]: CLI flags over a TOML file over named defaults.
//! - [`serve`]: binding, the ready line, serving until ctrl-c/SIGTERM.
//! - [`quickstart`]: `kiemke-server quickstart`: the server plus one run of
//!   the agent on this PC, for a first look.
//! - [`telemetry`]: logging setup (stderr, `RUST_LOG`).
//! - [`state`]: [`state::AppState`], what every handler can reach.
//! - [`routes`]: the HTTP interface, one module per resource: `ingest`
//!   (`POST /api/v1/reports`, with its pure `decode` step), `devices`
//!   (`GET /api/v1/devices[/{id}]`), `health`, `home` (the HTML pages), and
//!   `lang` (the request's language).
//! - [`error`]: [`error::AppError`], errors as localized JSON responses.
//! - [`store`]: the embedded database (sled) and device identity
//!   (`store::identity`); the only module that touches sled.

pub mod cli;
pub mod config;
pub mod error;
pub mod policy;
pub mod quickstart;
pub mod routes;
pub mod serve;
pub mod state;
pub mod store;
pub mod telemetry;

pub use config::ServerConfig;
pub use serve::serve;
pub use state::AppState;
pub use store::Store;
