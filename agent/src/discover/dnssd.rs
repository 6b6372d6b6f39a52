//! mDNS/DNS-SD: printers and scanners that announce themselves
//! (`_ipp._tcp`, `_printer._tcp`, `_uscan._tcp`, `_scanner._tcp`), browsed
//! with `mdns-sd` for a fixed window while the sweep runs. A device that
//! announces a scan service (eSCL `_uscan._tcp`, or `_scanner._tcp`) and a
//! print service is a multifunction printer; [`merge`] folds announcements
//! into the SNMP results by IP address, so a printer that answers SNMP and
//! announces eSCL becomes printer+scanner, and one that only announces
//! itself is still listed.
//!
//! Only addresses inside the swept subnets are kept: the browse hears the
//! whole link, and discovery reports what it was asked to look at.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use kiemke_shared::peripherals::{Connection, Peripheral, PeripheralKind, PeripheralSource};
use mdns_sd::{ServiceDaemon, ServiceEvent};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Subnet;

/// The service types browsed, fully qualified.
pub const SERVICE_TYPES: [&str; 4] = [
    "_ipp._tcp.local.",
    "_printer._tcp.local.",
    "_uscan._tcp.local.",
    "_scanner._tcp.local.",
];

/// Announcements kept at most (a hostile or broken link cannot grow the
/// report past this).
pub const MAX_ANNOUNCEMENTS: usize = 256;
/// Longest instance name or TXT value kept.
const MAX_TEXT: usize = 200;

/// One resolved service instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub ip: Ipv4Addr,
    /// The service type, e.g. `_uscan._tcp.local.`.
    pub service: String,
    /// The instance name ("HP LaserJet Pro M402dn [C1A2B3]").
    pub instance: String,
    /// TXT `ty` (the model as the device names it), when announced.
    pub model: Option<String>,
}

impl Announcement {
    fn scans(&self) -> bool {
        self.service.starts_with("_uscan.") || self.service.starts_with("_scanner.")
    }

    fn prints(&self) -> bool {
        self.service.starts_with("_ipp.") || self.service.starts_with("_printer.")
    }
}

fn clip(s: &str) -> String {
    s.chars().take(MAX_TEXT).collect()
}

/// Browses every [`SERVICE_TYPES`] for `window` and returns what resolved
/// to an address in `subnets`. Never fails: without multicast (no
/// interface, port refused) it logs and returns nothing.
pub async fn browse(window: Duration, subnets: Vec<Subnet>) -> Vec<Announcement> {
    let daemon = match ServiceDaemon::new() {
        Ok(d) => d,
        Err(e) => {
            tracing::debug!(cause = %e, "không dùng được mDNS / mDNS unavailable");
            return Vec::new();
        }
    };
    let deadline = Instant::now() + window;
    let mut tasks = JoinSet::new();
    for ty in SERVICE_TYPES {
        let receiver = match daemon.browse(ty) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(service = ty, cause = %e, "không duyệt được / cannot browse");
                continue;
            }
        };
        tasks.spawn(async move {
            let mut found = Vec::new();
            while let Ok(Ok(event)) = tokio::time::timeout_at(deadline, receiver.recv_async()).await
            {
                if let ServiceEvent::ServiceResolved(service) = event {
                    let model = service
                        .txt_properties
                        .get_property_val_str("ty")
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| clip(s.trim()));
                    let instance = service
                        .fullname
                        .strip_suffix(&format!(".{}", service.ty_domain))
                        .unwrap_or(&service.fullname);
                    for ip in service.get_addresses_v4() {
                        found.push(Announcement {
                            ip,
                            service: service.ty_domain.clone(),
                            instance: clip(instance),
                            model: model.clone(),
                        });
                    }
                }
                if found.len() >= MAX_ANNOUNCEMENTS {
                    break;
                }
            }
            found
        });
    }
    let mut all = Vec::new();
    while let Some(done) = tasks.join_next().await {
        if let Ok(found) = done {
            all.extend(found);
        }
    }
    if let Ok(status) = daemon.shutdown() {
        // The daemon thread confirms; do not wait long for it.
        let _ = tokio::time::timeout(Duration::from_secs(1), status.recv_async()).await;
    }
    all.retain(|a| subnets.iter().any(|s| s.contains(a.ip)));
    all.sort_by(|a, b| (a.ip, &a.service, &a.instance).cmp(&(b.ip, &b.service, &b.instance)));
    all.dedup();
    all.truncate(MAX_ANNOUNCEMENTS);
    all
}

/// The devices the announcements describe, one per address.
pub fn devices(announcements: &[Announcement]) -> Vec<Peripheral> {
    let mut by_ip: BTreeMap<Ipv4Addr, Vec<&Announcement>> = BTreeMap::new();
    for a in announcements {
        by_ip.entry(a.ip).or_default().push(a);
    }
    by_ip
        .into_iter()
        .map(|(ip, list)| {
            let scans = list.iter().any(|a| a.scans());
            let prints = list.iter().any(|a| a.prints());
            let kind = match (prints, scans) {
                (true, true) => PeripheralKind::Mfp,
                (false, true) => PeripheralKind::Scanner,
                _ => PeripheralKind::Printer,
            };
            let mut device = Peripheral::new(kind, PeripheralSource::Mdns, Connection::Network);
            device.ip = Some(ip.to_string());
            // Prefer the print service's names: they are what users see.
            let first = list
                .iter()
                .find(|a| a.prints())
                .or_else(|| list.first())
                .copied();
            device.name = first.map(|a| a.instance.clone());
            device.model = list.iter().find_map(|a| a.model.clone());
            device
        })
        .collect()
}

/// Folds DNS-SD devices into the SNMP ones by IP: a printer that announces
/// a scan service becomes an MFP, missing model and name are filled in;
/// devices only DNS-SD found are added.
pub fn merge(snmp: &mut Vec<Peripheral>, dnssd: Vec<Peripheral>) {
    for found in dnssd {
        let same = snmp.iter_mut().find(|d| d.ip.is_some() && d.ip == found.ip);
        match same {
            Some(known) => {
                let scans = matches!(found.kind, PeripheralKind::Mfp | PeripheralKind::Scanner);
                if scans && known.kind == PeripheralKind::Printer {
                    known.kind = PeripheralKind::Mfp;
                }
                if known.kind == PeripheralKind::Other {
                    known.kind = found.kind;
                }
                if known.model.is_none() {
                    known.model = found.model;
                }
                if known.name.is_none() {
                    known.name = found.name;
                }
            }
            None => snmp.push(found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(ip: [u8; 4], service: &str, model: Option<&str>) -> Announcement {
        Announcement {
            ip: Ipv4Addr::from(ip),
            service: service.to_owned(),
            instance: format!("dev {}", ip[3]),
            model: model.map(str::to_owned),
        }
    }

    #[test]
    fn scan_and_print_services_make_an_mfp_and_merge_by_ip() {
        let found = devices(&[
            ann([10, 0, 0, 11], "_uscan._tcp.local.", Some("HP M428fdw")),
            ann([10, 0, 0, 11], "_ipp._tcp.local.", Some("HP M428fdw")),
            ann([10, 0, 0, 20], "_ipp._tcp.local.", Some("Epson L3250")),
            ann([10, 0, 0, 30], "_scanner._tcp.local.", None),
        ]);
        let kinds: Vec<_> = found.iter().map(|d| (d.ip.clone(), d.kind)).collect();
        assert_eq!(
            kinds,
            [
                (Some("10.0.0.11".into()), PeripheralKind::Mfp),
                (Some("10.0.0.20".into()), PeripheralKind::Printer),
                (Some("10.0.0.30".into()), PeripheralKind::Scanner),
            ]
        );

        let mut snmp_printer = Peripheral::new(
            PeripheralKind::Printer,
            PeripheralSource::Snmp,
            Connection::Network,
        );
        snmp_printer.ip = Some("10.0.0.11".into());
        snmp_printer.model = Some("HP LaserJet Pro MFP M428fdw".into());
        let mut snmp = vec![snmp_printer];
        merge(&mut snmp, found);
        assert_eq!(
            snmp.len(),
            3,
            "the scanner-announcing printer is one device"
        );
        assert_eq!(snmp[0].kind, PeripheralKind::Mfp);
        assert_eq!(snmp[0].source, PeripheralSource::Snmp);
        assert_eq!(
            snmp[0].model.as_deref(),
            Some("HP LaserJet Pro MFP M428fdw"),
            "SNMP's model wins"
        );
        assert_eq!(snmp[0].name.as_deref(), Some("dev 11"));
        assert_eq!(snmp[1].source, PeripheralSource::Mdns);
        assert_eq!(snmp[1].model.as_deref(), Some("Epson L3250"));
    }
}
