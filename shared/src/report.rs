//! The report envelope: one snapshot of one PC, sent by the agent and stored
//! by the server exactly once per `report_id`.
//!
//! Sections are optional so that each concern can evolve on its own:
//! `inventory` (this crate's [`crate::inventory`]), `probes` (line quality)
//! and `peripherals` (printers and scanners). Unknown fields are ignored on
//! decode, so an older server accepts a newer agent's additions within the
//! same protocol version.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ReportId};
use crate::inventory::Inventory;
pub use crate::peripherals::Peripherals;
use crate::protocol::PROTOCOL_VERSION;

/// One report from one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Checked before decoding (see [`crate::protocol::check_version`]).
    pub protocol_version: u32,
    /// Makes delivery idempotent: retries carry the same id.
    pub report_id: ReportId,
    /// Which installation sent it (not which device: see [`crate::DeviceId`]).
    pub agent_id: AgentId,
    /// When the agent took the snapshot, by the PC's clock (which may be wrong
    /// on old PCs with a dead CMOS battery; the server also records when it
    /// received the report).
    pub taken_at: DateTime<Utc>,
    /// The agent build that wrote it, for support and compatibility decisions.
    pub agent: AgentInfo,
    #[serde(default)]
    pub inventory: Option<Inventory>,
    #[serde(default)]
    pub probes: Option<Probes>,
    #[serde(default)]
    pub peripherals: Option<Peripherals>,
}

impl Report {
    /// A new report of the current protocol version with a fresh id.
    pub fn new(agent_id: AgentId, agent: AgentInfo, taken_at: DateTime<Utc>) -> Self {
        Report {
            protocol_version: PROTOCOL_VERSION,
            report_id: ReportId::generate(),
            agent_id,
            taken_at,
            agent,
            inventory: None,
            probes: None,
            peripherals: None,
        }
    }
}

/// The agent build that produced a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentInfo {
    /// The agent's crate version, e.g. `0.1.0`.
    pub version: String,
    /// `windows` or `linux`: selects which collectors' quirks apply.
    pub os_family: String,
    /// Whether the agent ran with administrator/root rights: without them some
    /// fields (serial, SMBIOS UUID on Linux) are absent by design, not by
    /// fault. `null` where the agent cannot tell.
    pub privileged: Option<bool>,
}

/// Line-quality measurements (latency, loss, throughput): see
/// [`crate::probes`].
pub use crate::probes::Probes;
