//! Exactly known ping loss on a shaped link, counted per program.
//!
//! The wire's own loss (`linkemu --loss-pct`) is random: over 500 probes
//! at 2 % its realised rate leaves the binomial 95 % interval in one run of
//! twenty, whatever the probe does. Here nftables drops exactly every
//! `every`-th ICMP echo request of each program as it leaves the client
//! namespace (`numgen inc`: 2 % is 1 in 50, so any 500 requests lose
//! exactly 10), and counts on both ends what was dropped and what the
//! server namespace received. The two programs pinging side by side are
//! told apart by their packets' size: the agent's requests carry 56 bytes
//! (`agent/src/probe/ping.rs`), fping is run with [`FPING_PAYLOAD`].
//! A probe's loss figure can then be checked against the truth, request by
//! request, rather than against the wire's dice.

use std::io::Write;

use anyhow::Context;

use crate::netns::{ShapedLink, Side};

/// IPv4 header + ICMP header, before the payload.
const HEADERS: u16 = 20 + 8;
/// The agent's echo payload, in bytes.
pub const AGENT_PAYLOAD: u16 = 56;
/// fping's payload in these tests (`-b`): not the agent's.
pub const FPING_PAYLOAD: u16 = 40;
const TABLE: &str = "kiemke_loss";

/// One program's echo requests, by the length of their IP packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub name: &'static str,
    pub ip_len: u16,
}

pub const AGENT: Flow = Flow {
    name: "agent",
    ip_len: HEADERS + AGENT_PAYLOAD,
};
pub const FPING: Flow = Flow {
    name: "fping",
    ip_len: HEADERS + FPING_PAYLOAD,
};

/// What happened to one program's echo requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ledger {
    /// Dropped on purpose on the client's way out.
    pub dropped: u64,
    /// Received by the server namespace.
    pub delivered: u64,
}

impl std::ops::Sub for Ledger {
    type Output = Ledger;
    fn sub(self, earlier: Ledger) -> Ledger {
        Ledger {
            dropped: self.dropped - earlier.dropped,
            delivered: self.delivered - earlier.delivered,
        }
    }
}

/// The nftables rules installed on a link (they go with its namespaces).
pub struct EchoLoss {
    flows: Vec<Flow>,
}

impl EchoLoss {
    /// Drops every `every`-th echo request of each of `flows` leaving the
    /// client, and counts each flow's drops and deliveries.
    pub fn install(link: &ShapedLink, every: u32, flows: &[Flow]) -> anyhow::Result<Self> {
        let mut client = format!(
            "table inet {TABLE} {{\n  chain out {{\n    type filter hook output priority 0; policy accept;\n"
        );
        let mut server = format!(
            "table inet {TABLE} {{\n  chain in {{\n    type filter hook input priority 0; policy accept;\n"
        );
        for f in flows {
            client.push_str(&format!(
                "    icmp type echo-request ip length {} numgen inc mod {every} == 0 counter name \"{}_dropped\" drop\n",
                f.ip_len, f.name
            ));
            server.push_str(&format!(
                "    icmp type echo-request ip length {} counter name \"{}_delivered\"\n",
                f.ip_len, f.name
            ));
        }
        client.push_str("  }\n");
        server.push_str("  }\n");
        for f in flows {
            client.push_str(&format!("  counter {}_dropped {{}}\n", f.name));
            server.push_str(&format!("  counter {}_delivered {{}}\n", f.name));
        }
        client.push_str("}\n");
        server.push_str("}\n");
        for (side, script) in [(Side::Client, client), (Side::Server, server)] {
            let mut file = tempfile::NamedTempFile::new()?;
            file.write_all(script.as_bytes())?;
            let output = link
                .command_in(side, "nft")
                .arg("-f")
                .arg(file.path())
                .output()
                .context("Failed to run nft (package nftables)")?;
            anyhow::ensure!(
                output.status.success(),
                "nft -f failed: {}\n{script}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(EchoLoss {
            flows: flows.to_vec(),
        })
    }

    /// The counts so far of `flow` on `link`.
    pub fn ledger(&self, link: &ShapedLink, flow: Flow) -> anyhow::Result<Ledger> {
        anyhow::ensure!(self.flows.contains(&flow), "{} is not counted", flow.name);
        Ok(Ledger {
            dropped: counter(link, Side::Client, &format!("{}_dropped", flow.name))?,
            delivered: counter(link, Side::Server, &format!("{}_delivered", flow.name))?,
        })
    }
}

fn counter(link: &ShapedLink, side: Side, name: &str) -> anyhow::Result<u64> {
    let output = link
        .command_in(side, "nft")
        .args(["list", "counter", "inet", TABLE, name])
        .output()
        .context("Failed to run nft")?;
    let text = String::from_utf8_lossy(&output.stdout);
    packets(&text).with_context(|| {
        format!(
            "no packet count for {name}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The `packets N` figure of `nft list counter`.
fn packets(listing: &str) -> Option<u64> {
    let mut words = listing.split_whitespace();
    words.find(|w| *w == "packets")?;
    words.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_packet_count_of_a_counter() {
        let listing = "table inet kiemke_loss {\n\tcounter agent_dropped {\n\t\tpackets 10 bytes 840\n\t}\n}\n";
        assert_eq!(packets(listing), Some(10));
        assert_eq!(packets("table inet x {}"), None);
    }

    #[test]
    fn the_programs_packets_differ_in_size() {
        assert_ne!(AGENT.ip_len, FPING.ip_len);
        assert_eq!(AGENT.ip_len, 84, "ping's usual 84-byte packet");
    }
}
