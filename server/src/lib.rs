//! `kiemke-server`: the province server. Agents on commune office PCs POST
//! their reports here; the server stores each report once, works out which
//! physical device it came from, and shows the inventory.
//!
//! # Layout
//! - [`backup`]: `kiemke-server backup` / `restore`: the commands around
//!   `store::backup` (a stopped server's store, or a running server's through
//!   `routes::admin`).
//! - [`cli`]: the command line (`kiemke-server serve ...`); `main.rs` only
//!   calls [`cli::main`].
//! - [`config`]: CLI flags over a TOML file over named defaults.
//! - [`serve`]: binding, the ready line, serving until ctrl-c/SIGTERM.
//! - [`sigpipe`]: one-shot commands end quietly when their reader goes
//!   away (`... | head -1`).
//! - [`quickstart`]: `kiemke-server quickstart`: the server plus one run of
//!   the agent on this PC, for a first look.
//! - [`telemetry`]: logging setup (stderr, `RUST_LOG`).
//! - [`state`]: [`state::AppState`], what every handler can reach.
//! - [`routes`]: the HTTP interface, one module per resource: `ingest`
//!   (`POST /api/v1/reports`, with its pure `decode` step), `devices`
//!   (`GET /api/v1/devices[/{id}]`), `health`, `home` (the HTML pages),
//!   `lang` (the request's language), and `admin` (online backups).
//! - [`error`]: [`error::AppError`], errors as localized JSON responses.
//! - [`auth`]: who may do what: agent credentials and the admin token
//!   (extractors), secrets and their hashes, issuing enrollment tokens.
//! - [`tls`]: HTTPS: the operator's certificate, or the server's own CA
//!   generated in the data directory.
//! - [`store`]: the embedded database (sled), device identity
//!   (`store::identity`) and backups (`store::backup`); the only module that
//!   touches sled.
//! - [`backup`]: the `backup` and `restore` commands.
//! - [`proposal`]: equipment-upgrade proposals (Tờ trình, annex, print
//!   view) from the flagged devices, lines and norms.
//! - [`import`]: reading officers' CSV/XLSX lists (`import::table`, shared):
//!   the manual asset list (`import::assets`), communes and sites
//!   (`import::communes`), all or nothing.
//! - [`lines`]: each site's line status (target, availability, latency)
//!   from the probe time series (`store::probes`).
//! - [`export`]: the survey as XLSX and CSV.
//! - [`fixture`]: a made-up province (communes, sites, PCs, printers,
//!   line measurements) for demos, tests and simulations.
//! - [`survey`]: the province-wide survey: per-commune figures, line status
//!   per site, the traffic light.

pub mod auth;
pub mod backup;
pub mod bench;
pub mod cli;
pub mod config;
pub mod error;
pub mod export;
pub mod fixture;
pub mod import;
pub mod lines;
pub mod policy;
pub mod proposal;
pub mod quickstart;
pub mod routes;
pub mod serve;
pub mod sigpipe;
pub mod state;
pub mod store;
pub mod survey;
pub mod telemetry;
pub mod tls;

pub use config::ServerConfig;
pub use serve::serve;
pub use state::AppState;
pub use store::Store;
