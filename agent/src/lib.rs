//! `kiemke-agent`: the small agent on each commune office PC. It inventories
//! the machine, and delivers reports to the province server through a durable
//! spool, so that nothing is lost when the line or the server is down.
//!
//! # Layout
//! - [`collect`]: the inventory collectors (Linux: sysfs/procfs; Windows:
//!   WMI), one module per source, all returning parts of
//!   [`kiemke_shared::Inventory`]. Never panic, never fail as a whole: a
//!   missing source is a `null` plus a note.
//! - [`probe`]: line probes: ping bursts (ICMP, or TCP/HTTP round trips
//!   where ICMP is not allowed) and multi-stream throughput tests.
//! - [`discover`]: LAN discovery of printers and network gear (ICMP sweep,
//!   then SNMP), for `kiemke-agent discover` and the daily report.
//! - [`peripherals`]: printers and scanners attached to this PC (CUPS, USB,
//!   SANE on Linux; WMI on Windows).
//! - [`summary`]: the readable Vietnamese/English summary printed by
//!   `kiemke-agent inventory`.
//! - [`report`]: builds a [`kiemke_shared::Report`] from a fresh inventory.
//! - [`spool`]: the on-disk queue (sled) of reports not yet acknowledged.
//! - [`deliver`]: sends spooled reports to the server, with backoff and jitter.
//! - [`daemon`]: `kiemke-agent run`: inventory on start and on an interval.
//! - [`state`]: the agent's data directory and its persistent agent id.
//! - [`enrollment`]: `kiemke-agent enroll`: a token exchanged for this
//!   agent's credential, kept (owner-only) in the data directory.
//! - [`tls`]: how the server's certificate is trusted (public CAs, one CA
//!   file, or a pinned CA fingerprint); never unverified.
//! - [`config`]: CLI flags over a TOML file over named defaults.
//! - [`cli`]: the command line; `main.rs` only calls [`cli::main`].
//! - [`telemetry`]: logging setup (stderr; on Windows also the Event Log
//!   and a rotating file under `%ProgramData%`).
//! - [`activity`]: when the agent last reported and its last error, for
//!   `status`.
//! - [`service`]: `install`, `uninstall` and the service's state: a
//!   Windows service, or a systemd unit on Linux.
//! - [`sigpipe`]: one-shot commands end quietly when their reader goes
//!   away (`status | head -1`).

pub mod activity;
pub mod cli;
pub mod collect;
pub mod config;
pub mod daemon;
pub mod deliver;
pub mod discover;
pub mod enrollment;
pub mod peripherals;
pub mod probe;
pub mod report;
pub mod service;
pub mod sigpipe;
pub mod spool;
pub mod state;
pub mod summary;
pub mod telemetry;
pub mod tls;
