//! The readable inventory summary printed by `kiemke-agent inventory`, so a
//! commune officer (or the province technician on the phone with them) can
//! check what the agent will report. Vietnamese by default, English on
//! request. A value the agent could not read says why: "cần quyền quản trị"
//! (run as administrator/root to get it) is not the same as "không có".
//!
//! Sizes: disks in decimal GB, as printed on the box and in the shop
//! (500 GB); memory in binary GiB rounded to a whole number and written "GB",
//! as Windows and the shop call it (8 GB).

use std::fmt::Write as _;

use kiemke_shared::inventory::{Disk, DiskKind, Monitor, Nic, NoteReason};
use kiemke_shared::{Inventory, Lang};

/// Renders the summary printed by `kiemke-agent inventory`.
pub fn render(inventory: &Inventory, lang: Lang) -> String {
    let summary = Summary {
        inv: inventory,
        lang,
    };
    let mut out = String::new();
    summary.write(&mut out);
    out
}

struct Summary<'a> {
    inv: &'a Inventory,
    lang: Lang,
}

/// A summary entry: one value, or a list of items (disks, NICs, monitors).
enum Entry {
    One(Option<String>),
    Many(Vec<String>),
}
use Entry::{Many, One};

/// Width of the label column, in characters.
const LABEL_WIDTH: usize = 24;

impl Summary<'_> {
    fn t<'s>(&self, vi: &'s str, en: &'s str) -> &'s str {
        self.lang.pick(vi, en)
    }

    fn write(&self, out: &mut String) {
        let inv = self.inv;
        let t = |vi, en| self.t(vi, en);
        line(out, t("THÔNG TIN MÁY TÍNH", "COMPUTER INVENTORY"), "");

        let install = inv
            .os
            .install_date
            .map(|d| d.format("%d/%m/%Y").to_string());
        let ram = inv
            .memory
            .total_bytes
            .map(|b| format!("{} GB", gib_rounded(b)));
        let disks = inv.disks.iter().map(|d| self.disk(d)).collect();
        let nics = inv.nics.iter().filter(|n| !n.loopback);
        let nics = nics.map(|n| self.nic(n)).collect();
        let monitors = inv.monitors.iter().map(|m| self.monitor(m)).collect();
        let entries = [
            (
                t("Tên máy", "Computer name"),
                "hostname",
                One(inv.hostname.clone()),
            ),
            (t("Hệ điều hành", "Operating system"), "os", One(self.os())),
            (
                t("Ngày cài đặt HĐH", "OS installed on"),
                "os.install_date",
                One(install),
            ),
            (
                t("Hãng / Mẫu máy", "Vendor / model"),
                "system.model",
                One(self.vendor_model()),
            ),
            (
                t("Số sê-ri", "Serial number"),
                "system.serial",
                One(inv.system.serial.clone()),
            ),
            ("UUID", "system.uuid", One(inv.system.uuid.clone())),
            (
                t("BIOS (ngày phát hành)", "BIOS (release date)"),
                "bios",
                One(self.bios()),
            ),
            (t("Bộ xử lý", "Processor"), "cpu", One(self.cpu())),
            (t("Bộ nhớ (RAM)", "Memory (RAM)"), "memory", One(ram)),
            (t("Ổ đĩa", "Disks"), "disks", Many(disks)),
            (t("Card mạng", "Network adapters"), "nics", Many(nics)),
            ("TPM", "tpm", One(self.tpm())),
            (t("Màn hình", "Monitors"), "monitors", Many(monitors)),
        ];
        for (label, field, value) in entries {
            let label = format!("{label}:");
            match value {
                One(Some(value)) => line(out, &label, &value),
                Many(items) if !items.is_empty() => {
                    line(out, &label, "");
                    for item in items {
                        let _ = writeln!(out, "  - {item}");
                    }
                }
                One(None) | Many(_) => line(out, &label, self.absent(field)),
            }
        }

        if inv
            .notes
            .iter()
            .any(|n| n.reason == NoteReason::NeedsPrivilege)
        {
            out.push('\n');
            out.push_str(t(
                "Một số thông tin cần quyền quản trị: chạy lại với quyền Administrator \
                 (Windows) hoặc root (Linux) để đọc đủ.\n",
                "Some fields need administrator rights: run again as Administrator \
                 (Windows) or root (Linux) to read them all.\n",
            ));
        }
    }

    /// Why `field` is empty: the most specific note for it or a parent
    /// (`system.serial`, then `system`).
    fn absent(&self, field: &str) -> &str {
        let reason = self
            .inv
            .notes
            .iter()
            .filter(|n| n.field == field || field.starts_with(&format!("{}.", n.field)))
            .max_by_key(|n| n.field.len())
            .map(|n| n.reason);
        match reason {
            Some(NoteReason::NeedsPrivilege) => {
                self.t("cần quyền quản trị", "needs administrator rights")
            }
            Some(NoteReason::Failed) => self.t("không đọc được", "could not be read"),
            Some(NoteReason::NotAvailable) | None => self.t("không có", "none"),
        }
    }

    fn os(&self) -> Option<String> {
        let os = &self.inv.os;
        let mut text = os.name.clone()?;
        if let Some(version) = &os.version {
            let _ = write!(text, " {version}");
        }
        if let Some(build) = os
            .build
            .as_ref()
            .filter(|b| Some(*b) != os.version.as_ref())
        {
            let _ = write!(text, " ({} {build})", self.t("bản dựng", "build"));
        }
        if let Some(arch) = &os.arch {
            let _ = write!(text, ", {arch}");
        }
        Some(text)
    }

    fn vendor_model(&self) -> Option<String> {
        let system = &self.inv.system;
        let mut text = match (&system.vendor, &system.model) {
            (Some(vendor), Some(model)) => format!("{vendor} / {model}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => return None,
        };
        if let Some(chassis) = system.chassis {
            let _ = write!(text, " ({})", chassis.label(self.lang));
        }
        Some(text)
    }

    fn bios(&self) -> Option<String> {
        let bios = &self.inv.bios;
        let parts: Vec<&str> = [bios.vendor.as_deref(), bios.version.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let date = bios.date.map(|d| d.format("%d/%m/%Y").to_string());
        match (parts.is_empty(), date) {
            (true, None) => None,
            (true, Some(date)) => Some(date),
            (false, None) => Some(parts.join(" ")),
            (false, Some(date)) => Some(format!("{} ({date})", parts.join(" "))),
        }
    }

    fn cpu(&self) -> Option<String> {
        let cpu = &self.inv.cpu;
        let mut text = cpu.brand.clone()?;
        let mut details = Vec::new();
        if let Some(cores) = cpu.cores_physical {
            details.push(format!("{cores} {}", self.t("nhân", "cores")));
        }
        if let Some(threads) = cpu.cores_logical {
            details.push(format!("{threads} {}", self.t("luồng", "threads")));
        }
        if let Some(mhz) = cpu.base_mhz {
            details.push(format!("{mhz} MHz"));
        }
        if !details.is_empty() {
            let _ = write!(text, " — {}", details.join(", "));
        }
        Some(text)
    }

    fn disk(&self, disk: &Disk) -> String {
        let kind = match disk.kind {
            DiskKind::Ssd => "SSD",
            DiskKind::Hdd => "HDD",
            DiskKind::Unknown => self.t("không rõ loại", "unknown type"),
        };
        let mut text = disk.name.clone();
        if let Some(model) = &disk.model {
            let _ = write!(text, " {model}");
        }
        let mut details = Vec::new();
        if let Some(bytes) = disk.size_bytes {
            details.push(format!("{} GB", gb_decimal(bytes)));
        }
        details.push(kind.to_owned());
        if let Some(bus) = &disk.bus {
            details.push(bus.clone());
        }
        if disk.removable {
            details.push(self.t("tháo rời", "removable").to_owned());
        }
        let _ = write!(text, ": {}", details.join(", "));
        if disk.system {
            let _ = write!(text, " {}", self.t("(ổ hệ thống)", "(system disk)"));
        }
        text
    }

    fn nic(&self, nic: &Nic) -> String {
        let mut details = Vec::new();
        if let Some(mac) = &nic.mac {
            details.push(mac.clone());
        }
        details.push(match nic.link_mbps {
            Some(mbps) => format!("{mbps} Mbps"),
            None => self.t("không rõ tốc độ", "speed unknown").to_owned(),
        });
        if nic.wireless {
            details.push("Wi-Fi".to_owned());
        }
        if nic.is_virtual {
            details.push(self.t("ảo", "virtual").to_owned());
        }
        match nic.up {
            Some(true) => details.push(self.t("đang kết nối", "connected").to_owned()),
            Some(false) => details.push(self.t("không kết nối", "disconnected").to_owned()),
            None => {}
        }
        let mut text = format!("{}: {}", nic.name, details.join(", "));
        if !nic.addresses.is_empty() {
            let _ = write!(text, "; {}", nic.addresses.join(" "));
        }
        text
    }

    fn tpm(&self) -> Option<String> {
        let tpm = &self.inv.tpm;
        match (tpm.present?, &tpm.version) {
            (true, Some(version)) => Some(version.clone()),
            (true, None) => Some(
                self.t("có (không rõ phiên bản)", "present (version unknown)")
                    .to_owned(),
            ),
            (false, _) => Some(self.t("không có", "none").to_owned()),
        }
    }

    fn monitor(&self, monitor: &Monitor) -> String {
        let name = [monitor.manufacturer.as_deref(), monitor.model.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut text = if name.is_empty() {
            self.t("màn hình không rõ tên", "unnamed monitor")
                .to_owned()
        } else {
            name
        };
        if let Some(year) = monitor.year {
            let _ = write!(text, " ({} {year})", self.t("sản xuất năm", "made in"));
        }
        if let Some(connector) = &monitor.connector {
            let _ = write!(text, ", {connector}");
        }
        text
    }
}

fn line(out: &mut String, label: &str, value: &str) {
    let pad = LABEL_WIDTH.saturating_sub(label.chars().count());
    let _ = writeln!(
        out,
        "{label}{}{value}",
        " ".repeat(if value.is_empty() { 0 } else { pad })
    );
}

/// Decimal gigabytes, as disk makers count them.
fn gb_decimal(bytes: u64) -> u64 {
    (bytes + 500_000_000) / 1_000_000_000
}

/// Binary gibibytes rounded to a whole number: 8 GiB of RAM minus what the
/// firmware reserves still reads "8".
fn gib_rounded(bytes: u64) -> u64 {
    const GIB: u64 = 1 << 30;
    (bytes + GIB / 2) / GIB
}

#[cfg(test)]
mod tests;
