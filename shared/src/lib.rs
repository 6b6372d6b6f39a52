//! The Kiểm kê wire contract: everything `kiemke-agent` and `kiemke-server`
//! say to each other, and nothing else (no I/O, no runtime, no storage).
//!
//! # Layout
//! - [`protocol`]: the protocol version, endpoint paths and header names, and
//!   the version check both sides apply before decoding a report.
//! - [`ids`]: validated identifiers (`AgentId`, `ReportId`, `DeviceId`,
//!   `CommuneCode`).
//! - [`units`]: validated units (`Mbps`).
//! - [`report`]: the versioned report envelope and its sections.
//! - [`site`]: sites inside a commune (kinds, codes) and their lines.
//! - [`inventory`]: the hardware/OS inventory section. Its JSON keys are a
//!   public contract (see `docs/protocol.md`).
//! - [`probes`]: the line-quality section (ping bursts, throughput tests),
//!   also what `kiemke-agent probe ... --json` prints.
//! - [`peripherals`]: the printers and scanners section (local queues, USB
//!   scanners, devices discovered on the LAN), with page counters and
//!   supply levels.
//! - [`validate`]: limits on sizes, counts and ranges, checked by the server on
//!   every report (and by the agent before it spools one).
//! - [`auth`]: enrollment tokens, agent credentials (the `Authorization`
//!   header) and the bodies of `POST /api/v1/enroll`.
//! - [`api`]: the response bodies of the HTTP API (acknowledgement, errors,
//!   device views).
//! - [`lang`]: the user's language (Vietnamese by default, English selectable).
//! - [`firmware`]: the placeholders firmware vendors leave in SMBIOS fields
//!   ("To Be Filled By O.E.M.", the AMI default UUID...), judged the same way
//!   by the agent (reports them as absent) and the server (never keys a
//!   device's identity on them).

pub mod api;
pub mod auth;
pub mod firmware;
pub mod ids;
pub mod inventory;
pub mod lang;
pub mod peripherals;
pub mod probes;
pub mod protocol;
pub mod report;
pub mod site;
pub mod units;
pub mod validate;

pub use ids::{AgentId, CommuneCode, DeviceId, IdError, ReportId};
pub use inventory::Inventory;
pub use lang::Lang;
pub use report::Report;
pub use site::{SiteCode, SiteKind, SiteRef};
pub use units::Mbps;
