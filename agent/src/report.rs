//! Builds a report from a fresh inventory (or a batch of probe results),
//! and encodes it for the wire (gzip-compressed JSON: a typical PC's
//! inventory is a few KB).

use std::io::Write;

use chrono::Utc;
use flate2::Compression;
use flate2::write::GzEncoder;
use kiemke_shared::report::{AgentInfo, Probes};
use kiemke_shared::{AgentId, Inventory, Report};

/// Describes this agent build and how it runs.
pub fn agent_info() -> AgentInfo {
    AgentInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        os_family: std::env::consts::OS.to_owned(),
        privileged: crate::state::is_privileged(),
    }
}

/// A new report (fresh id, taken now) carrying this inventory.
pub fn build(agent_id: AgentId, inventory: Inventory) -> Report {
    let mut report = Report::new(agent_id, agent_info(), Utc::now());
    report.inventory = Some(inventory);
    report
}

/// A new report carrying probe results and no inventory (the server
/// attributes it to the device this agent last reported).
pub fn build_probes(agent_id: AgentId, probes: Probes) -> Report {
    let mut report = Report::new(agent_id, agent_info(), Utc::now());
    report.probes = Some(probes);
    report
}

/// The report as gzip-compressed JSON, the form it is spooled and sent in.
pub fn encode(report: &Report) -> Result<Vec<u8>, std::io::Error> {
    let json = serde_json::to_vec(report)?;
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    gz.write_all(&json)?;
    gz.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;

    #[test]
    fn encode_round_trips() {
        let report = build(AgentId::generate(), Inventory::default());
        let bytes = encode(&report).expect("encode");
        let decoded: Report = serde_json::from_reader(GzDecoder::new(&bytes[..])).expect("decode");
        assert_eq!(decoded, report);
    }
}
