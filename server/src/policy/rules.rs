//! The minimum-configuration rules: each reads the inventory (or a
//! printer's counters) and, when its threshold is not met, gives a
//! [`Reason`] with the rule's id, severity, the value seen and the
//! threshold, in Vietnamese and English (texts from the policy file).

use chrono::NaiveDate;
use kiemke_shared::Inventory;
use kiemke_shared::inventory::DiskKind;

use super::Policy;
use super::category::Category;
use super::cpu::CpuModel;
use super::file::{Rule, Severity};
use super::flags::Reason;

/// What a printer, scanner or copier reports (from the peripherals work;
/// no agent sends it yet).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterFacts {
    pub page_count: Option<u64>,
    /// The model's rated life in pages, where known.
    pub rated_life_pages: Option<u64>,
    /// Errors the device reports (e.g. `toner empty`, `paper jam`).
    pub errors: Vec<String>,
}

/// Fills a rule's template.
pub fn reason<T>(
    id: &str,
    rule: &Rule<T>,
    severity: Severity,
    value: Option<String>,
    threshold: Option<String>,
    detail: (&str, &str),
) -> Reason {
    let fill = |template: &str, detail: &str| {
        template
            .replace("{value}", value.as_deref().unwrap_or("?"))
            .replace("{threshold}", threshold.as_deref().unwrap_or("?"))
            .replace("{detail}", detail)
    };
    Reason {
        rule: id.to_owned(),
        severity,
        vi: fill(&rule.vi, detail.0),
        en: fill(&rule.en, detail.1),
        value,
        threshold,
    }
}

fn simple<T>(id: &str, rule: &Rule<T>, value: String, threshold: Option<String>) -> Reason {
    reason(id, rule, rule.severity, Some(value), threshold, ("", ""))
}

/// Every configuration rule that applies to `category`.
pub fn evaluate(
    policy: &Policy,
    category: Category,
    inv: Option<&Inventory>,
    cpu: Option<&CpuModel>,
    line_target_mbps: u32,
    printer: Option<&PrinterFacts>,
    as_of: NaiveDate,
) -> Vec<Reason> {
    let rules = &policy.file.rules;
    let mut out = Vec::new();
    if let Some(inv) = inv {
        if rules.os_end_of_support.applies(category) {
            out.extend(os_end_of_support(policy, inv, as_of));
        }
        if rules.cpu_windows11.applies(category) {
            if let Some(cpu) = cpu.filter(|c| c.windows11 == Some(false)) {
                let threshold =
                    "Intel Core thế hệ 8+ / Ryzen 2000+ / Intel Core 8th gen+".to_owned();
                out.push(simple(
                    "cpu-windows11",
                    &rules.cpu_windows11,
                    cpu.model.clone(),
                    Some(threshold),
                ));
            }
        }
        if rules.tpm2.applies(category) {
            let value = match (inv.tpm.present, inv.tpm.version.as_deref()) {
                (Some(false), _) => Some("TPM: không có / none".to_owned()),
                (Some(true), Some(v)) if !v.trim_start().starts_with('2') => {
                    Some(format!("TPM {v}"))
                }
                _ => None,
            };
            out.extend(value.map(|v| simple("tpm2", &rules.tpm2, v, Some("TPM 2.0".into()))));
        }
        if rules.ram_min.applies(category) {
            let t = &rules.ram_min.thresholds;
            let min = u64::from(t.min_gib) << 30;
            let allowed = min / 100 * u64::from(100 - t.tolerance_percent.min(50));
            if let Some(total) = inv.memory.total_bytes.filter(|b| *b < allowed) {
                #[allow(clippy::cast_precision_loss)]
                let gib = total as f64 / f64::from(1u32 << 30);
                out.push(simple(
                    "ram-min",
                    &rules.ram_min,
                    format!("{gib:.1} GB"),
                    Some(format!("{} GB", t.min_gib)),
                ));
            }
        }
        if rules.system_disk_ssd.applies(category) {
            if let Some(disk) = inv
                .disks
                .iter()
                .find(|d| d.system && d.kind == DiskKind::Hdd)
            {
                let name = disk.model.clone().unwrap_or_else(|| disk.name.clone());
                out.push(simple(
                    "system-disk-ssd",
                    &rules.system_disk_ssd,
                    name,
                    Some("SSD".into()),
                ));
            }
        }
        if rules.cpu_threads.applies(category) {
            let min = rules.cpu_threads.thresholds.min_logical;
            if let Some(n) = inv.cpu.cores_logical.filter(|n| *n < min) {
                out.push(simple(
                    "cpu-threads",
                    &rules.cpu_threads,
                    n.to_string(),
                    Some(min.to_string()),
                ));
            }
        }
        if rules.nic_line_target.applies(category) {
            let best = (inv.nics.iter())
                .filter(|n| !n.is_virtual && !n.loopback && n.up != Some(false))
                .filter_map(|n| n.link_mbps)
                .max();
            if let Some(best) = best.filter(|b| *b < line_target_mbps) {
                out.push(simple(
                    "nic-line-target",
                    &rules.nic_line_target,
                    format!("{best} Mbps"),
                    Some(format!("{line_target_mbps} Mbps")),
                ));
            }
        }
    }
    if let Some(p) = printer {
        let rule = &rules.printer_page_count;
        if rule.applies(category) {
            if let (Some(count), Some(rated)) =
                (p.page_count, p.rated_life_pages.filter(|r| *r > 0))
            {
                let share = rule.thresholds.max_share_percent;
                if u128::from(count) * 100 > u128::from(rated) * u128::from(share) {
                    out.push(simple(
                        "printer-page-count",
                        rule,
                        format!("{count}/{rated}"),
                        Some(format!("{share} %")),
                    ));
                }
            }
        }
        if rules.supplies_errors.applies(category) && !p.errors.is_empty() {
            out.push(simple(
                "supplies-errors",
                &rules.supplies_errors,
                p.errors.join(", "),
                None,
            ));
        }
    }
    out
}

/// The OS out of vendor support: the first matching row of the table whose
/// end date has passed.
fn os_end_of_support(policy: &Policy, inv: &Inventory, as_of: NaiveDate) -> Option<Reason> {
    let rule = &policy.file.rules.os_end_of_support;
    let name = inv.os.name.as_deref()?;
    let version = inv.os.version.as_deref().unwrap_or("");
    let lower = name.to_lowercase();
    let has = |w: &String| lower.contains(&w.to_lowercase());
    let build: Option<u32> = version.split('.').nth(2).and_then(|b| b.parse().ok());
    let row = rule.thresholds.systems.iter().find(|s| {
        s.name_contains.iter().all(has)
            && (s.name_any.is_empty() || s.name_any.iter().any(has))
            && !s.name_excludes.iter().any(has)
            && s.version_prefix
                .as_deref()
                .is_none_or(|p| version_matches(version, p))
            && s.build_from.is_none_or(|f| build.is_some_and(|b| b >= f))
            && s.build_to.is_none_or(|t| build.is_some_and(|b| b <= t))
    })?;
    (row.end.0 <= as_of).then(|| {
        simple(
            "os-end-of-support",
            rule,
            format!("{} ({name} {version})", row.label).replace(" )", ")"),
            Some(row.end.0.format("%d/%m/%Y").to_string()),
        )
    })
}

/// `12` matches `12` and `12.5` but not `120`; a prefix ending in `.`
/// matches plainly.
fn version_matches(version: &str, prefix: &str) -> bool {
    version.starts_with(prefix)
        && (prefix.ends_with('.')
            || !version[prefix.len()..].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests;
