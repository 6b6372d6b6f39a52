//! Device identity: which physical PC a report comes from.
//!
//! The same PC must stay one device after an agent reinstall (new agent id),
//! a rename (new host name) or a new IP address, so identity comes from the
//! hardware, never from the host name. Each report yields *keys*, strongest
//! first:
//!
//! 1. the SMBIOS system UUID, unless it is a known placeholder;
//! 2. the system serial, scoped by its normalised vendor
//!    (`serial:{vendor}:{serial}`), unless it is a placeholder;
//! 3. the MACs of physical NICs with globally administered addresses;
//! 4. the agent id, only stored for a report with none of the above (an
//!    unprivileged agent in a container with only virtual NICs).
//!
//! [`resolve`] looks the keys up in that order. The first device found is
//! the candidate, unless it holds a key of a *stronger* kind that the report
//! also has, with a different value: a USB network adapter moved from PC A
//! (UUID X) to PC B (UUID Y) must not merge B into A. A rejected candidate is
//! skipped and the next key tried; with no acceptable candidate the report
//! starts a new device.
//!
//! Everything here is pure and deterministic: keys are sorted, and the store
//! supplies the look-ups.

use std::collections::BTreeSet;
use std::fmt;

use kiemke_shared::{AgentId, DeviceId, Report};
use serde::{Deserialize, Serialize};

/// The kinds of key, strongest first (the derived order is the strength).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KeyKind {
    Uuid,
    Serial,
    Mac,
    Agent,
}

impl KeyKind {
    const ALL: [KeyKind; 4] = [KeyKind::Uuid, KeyKind::Serial, KeyKind::Mac, KeyKind::Agent];

    fn prefix(self) -> &'static str {
        match self {
            KeyKind::Uuid => "uuid",
            KeyKind::Serial => "serial",
            KeyKind::Mac => "mac",
            KeyKind::Agent => "agent",
        }
    }
}

/// One identity key, e.g. `uuid:4c4c4544-…` or `serial:dell:7XK9Q2J`.
/// Its string form is the key of the store's identity tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct IdentityKey {
    kind: KeyKind,
    value: String,
}

impl IdentityKey {
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The SMBIOS UUID key, or `None` for a malformed or placeholder UUID.
    pub fn smbios_uuid(raw: &str) -> Option<IdentityKey> {
        normalize::uuid(raw).map(|value| IdentityKey {
            kind: KeyKind::Uuid,
            value,
        })
    }

    /// The vendor-scoped serial key, or `None` for a placeholder serial.
    pub fn serial(vendor: Option<&str>, serial: &str) -> Option<IdentityKey> {
        let serial = normalize::serial(serial)?;
        let vendor = normalize::vendor(vendor);
        Some(IdentityKey {
            kind: KeyKind::Serial,
            value: format!("{vendor}:{serial}"),
        })
    }

    /// A MAC key; the caller passes only hardware MACs (`Nic::hardware_mac`).
    pub fn mac(mac: &str) -> IdentityKey {
        IdentityKey {
            kind: KeyKind::Mac,
            value: mac.to_ascii_lowercase(),
        }
    }

    pub fn agent(id: AgentId) -> IdentityKey {
        IdentityKey {
            kind: KeyKind::Agent,
            value: id.to_string(),
        }
    }

    /// Parses the string form written by `Display`.
    pub fn parse(s: &str) -> Option<IdentityKey> {
        let (prefix, value) = s.split_once(':')?;
        let kind = KeyKind::ALL.into_iter().find(|k| k.prefix() == prefix)?;
        (!value.is_empty()).then(|| IdentityKey {
            kind,
            value: value.to_owned(),
        })
    }
}

impl fmt::Display for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.prefix(), self.value)
    }
}

impl From<IdentityKey> for String {
    fn from(key: IdentityKey) -> String {
        key.to_string()
    }
}

impl TryFrom<String> for IdentityKey {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        IdentityKey::parse(&s).ok_or_else(|| format!("not an identity key: {s:?}"))
    }
}

/// The pointer from an agent installation to the device it last reported
/// for. Not an identity key (it never decides which device an inventory
/// belongs to): it attributes reports without an inventory section, such as
/// the agent's batched probe results.
pub fn reporter_key(agent: AgentId) -> String {
    format!("reporter:{agent}")
}

/// The keys of one report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportKeys {
    /// Looked up, strongest first. The agent id is always last: it finds a
    /// device first seen without hardware keys once the agent can read them.
    pub lookup: Vec<IdentityKey>,
    /// Pointed at the chosen device: the hardware keys, or the agent id when
    /// there are none (an agent id alone must not claim hardware).
    pub store: Vec<IdentityKey>,
}

/// Derives a report's identity keys from its inventory.
pub fn report_keys(report: &Report) -> ReportKeys {
    let mut hardware = Vec::new();
    if let Some(inv) = &report.inventory {
        let system = &inv.system;
        hardware.extend(system.uuid.as_deref().and_then(IdentityKey::smbios_uuid));
        hardware.extend(
            (system.serial.as_deref())
                .and_then(|s| IdentityKey::serial(system.vendor.as_deref(), s)),
        );
        let macs: BTreeSet<IdentityKey> = (inv.nics.iter())
            .filter_map(|nic| nic.hardware_mac().map(IdentityKey::mac))
            .collect();
        hardware.extend(macs);
    }
    let agent = IdentityKey::agent(report.agent_id);
    let store = if hardware.is_empty() {
        vec![agent.clone()]
    } else {
        hardware.clone()
    };
    let mut lookup = hardware;
    lookup.push(agent);
    ReportKeys { lookup, store }
}

/// A device found by a key, with all the keys it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub device: DeviceId,
    pub keys: BTreeSet<IdentityKey>,
}

/// A candidate turned down, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub device: DeviceId,
    pub found_by: IdentityKey,
    /// The stronger kind on which the report and the device disagree.
    pub conflict: KeyKind,
}

/// What [`resolve`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The existing device and the key that found it; `None`: a new device.
    pub matched: Option<(DeviceId, IdentityKey)>,
    pub rejected: Vec<Rejection>,
}

/// Chooses the device for a report's keys (see the module docs). `lookup`
/// returns the device a key points at, if any.
pub fn resolve<E>(
    keys: &ReportKeys,
    mut lookup: impl FnMut(&IdentityKey) -> Result<Option<Candidate>, E>,
) -> Result<Resolution, E> {
    let mut rejected: Vec<Rejection> = Vec::new();
    for key in &keys.lookup {
        let Some(candidate) = lookup(key)? else {
            continue;
        };
        if rejected.iter().any(|r| r.device == candidate.device) {
            continue;
        }
        match stronger_conflict(&keys.lookup, &candidate.keys, key.kind) {
            Some(conflict) => rejected.push(Rejection {
                device: candidate.device,
                found_by: key.clone(),
                conflict,
            }),
            None => {
                return Ok(Resolution {
                    matched: Some((candidate.device, key.clone())),
                    rejected,
                });
            }
        }
    }
    Ok(Resolution {
        matched: None,
        rejected,
    })
}

/// The first kind stronger than `found_by` for which both sides hold keys
/// and none of them agree.
fn stronger_conflict(
    report: &[IdentityKey],
    device: &BTreeSet<IdentityKey>,
    found_by: KeyKind,
) -> Option<KeyKind> {
    KeyKind::ALL
        .into_iter()
        .take_while(|kind| *kind < found_by)
        .find(|kind| {
            let ours: Vec<&IdentityKey> = report.iter().filter(|k| k.kind == *kind).collect();
            let theirs = device.iter().filter(|k| k.kind == *kind).count();
            !ours.is_empty() && theirs > 0 && !ours.iter().any(|k| device.contains(*k))
        })
}

mod normalize;

#[cfg(test)]
mod tests;
