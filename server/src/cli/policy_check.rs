//! `kiemke-server policy check [--policy FILE]`: validates a policy file
//! and prints what it says, in Vietnamese by default; an invalid file is
//! reported with its line and field, and the exit code is non-zero.

use std::fmt::Write as _;
use std::path::PathBuf;

use kiemke_shared::Lang;

use crate::policy::{Category, Policy, Severity};

/// `policy check` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CheckArgs {
    /// Tệp chính sách cần kiểm tra; bỏ trống: chính sách đi kèm (policy file;
    /// default: the shipped policy)
    #[arg(long, env = "KIEMKE_SERVER_POLICY", value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
}

/// Checks the file and returns the summary to print.
pub fn check(args: &CheckArgs) -> anyhow::Result<String> {
    let lang = args.lang.unwrap_or_default();
    let policy = match &args.policy {
        Some(path) => Policy::load(path).map_err(|e| anyhow::anyhow!(e.message(lang)))?,
        None => Policy::shipped().clone(),
    };
    Ok(summary(&policy, lang))
}

fn percent(bp: u32, lang: Lang) -> String {
    let text = format!("{}.{:02} %", bp / 100, bp % 100);
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// `10.000.000` (Vietnamese) or `10,000,000` (English).
fn thousands(n: u64, lang: Lang) -> String {
    let digits = n.to_string();
    let sep = lang.pick(".", ",");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

fn severity(s: Severity, lang: Lang) -> &'static str {
    match s {
        Severity::Blocking => lang.pick("chặn → đề xuất thay thế", "blocking → replace"),
        Severity::Warning => lang.pick("cảnh báo → cần theo dõi", "warning → watch"),
        Severity::Info => lang.pick("thông tin", "information"),
    }
}

/// A readable account of the policy.
pub fn summary(policy: &Policy, lang: Lang) -> String {
    let f = &policy.file;
    let mut out = String::new();
    let vi = lang == Lang::Vi;
    let _ = writeln!(
        out,
        "{} {}",
        lang.pick("Tệp chính sách hợp lệ:", "The policy file is valid:"),
        policy.name()
    );
    let _ = writeln!(
        out,
        "  {} {}",
        lang.pick("Dấu vân tay:", "Fingerprint:"),
        policy.fingerprint
    );
    let adj = f.assets.life_adjustment_percent.0;
    let _ = writeln!(
        out,
        "\n{} {adj:+} %",
        lang.pick(
            "Thời gian sử dụng và tỷ lệ hao mòn (đã áp dụng điều chỉnh của tỉnh):",
            "Useful lives and wear rates (with the province's adjustment):"
        )
    );
    for v in &f.life {
        let from = v.from.map(|d| d.0.format("%d/%m/%Y").to_string());
        let until = v.until.map(|d| d.0.format("%d/%m/%Y").to_string());
        let span = match (from, until, vi) {
            (None, Some(u), true) => format!("đến {u}"),
            (None, Some(u), false) => format!("until {u}"),
            (Some(f), None, true) => format!("từ {f}"),
            (Some(f), None, false) => format!("from {f}"),
            (Some(f), Some(u), _) => format!("{f}–{u}"),
            (None, None, _) => lang.pick("mọi năm", "every year").to_owned(),
        };
        let _ = writeln!(
            out,
            "  {} ({span}): {}",
            v.id,
            lang.pick(&v.source_vi, &v.source_en)
        );
        for c in Category::ALL {
            let life = policy.adjusted(v.categories.get(c));
            let years = lang.pick("năm", "years");
            let _ = writeln!(
                out,
                "    - {}: {} {years}, {}",
                c.label(lang),
                life.years,
                percent(life.rate_bp, lang)
            );
        }
    }
    let a = &f.assets;
    let _ = writeln!(
        out,
        "\n{} {} đ, {} {} {}",
        lang.pick("Tài sản cố định: nguyên giá từ", "Fixed asset: cost from"),
        thousands(a.fixed_asset_min_cost_vnd, lang),
        lang.pick("thời gian sử dụng từ", "life from"),
        a.fixed_asset_min_life_years,
        lang.pick(
            "năm (dưới ngưỡng: công cụ, dụng cụ, không tính hao mòn)",
            "year(s) (below: a tool, no wear)"
        )
    );
    let _ = writeln!(
        out,
        "{} {} {}",
        lang.pick(
            "Cảnh báo trước khi hết hạn sử dụng:",
            "Watch before the service life ends:"
        ),
        a.watch_window_months.0,
        lang.pick("tháng", "months")
    );
    let targets: Vec<String> = (f.line_targets.site_kinds.iter())
        .map(|(k, v)| format!("{} {v} Mbps", k.label(lang)))
        .collect();
    let _ = writeln!(
        out,
        "{} {} Mbps{}{}",
        lang.pick("Mục tiêu đường truyền: mặc định", "Line targets: default"),
        f.line_targets.default_mbps,
        if targets.is_empty() { "" } else { "; " },
        targets.join("; ")
    );
    let _ = writeln!(out, "\n{}", lang.pick("Quy tắc:", "Rules:"));
    let r = &f.rules;
    let rules = [
        (
            "service-life",
            r.service_life.enabled,
            r.service_life.severity,
            &r.service_life.applies_to,
        ),
        (
            "os-end-of-support",
            r.os_end_of_support.enabled,
            r.os_end_of_support.severity,
            &r.os_end_of_support.applies_to,
        ),
        (
            "cpu-windows11",
            r.cpu_windows11.enabled,
            r.cpu_windows11.severity,
            &r.cpu_windows11.applies_to,
        ),
        ("tpm2", r.tpm2.enabled, r.tpm2.severity, &r.tpm2.applies_to),
        (
            "ram-min",
            r.ram_min.enabled,
            r.ram_min.severity,
            &r.ram_min.applies_to,
        ),
        (
            "system-disk-ssd",
            r.system_disk_ssd.enabled,
            r.system_disk_ssd.severity,
            &r.system_disk_ssd.applies_to,
        ),
        (
            "cpu-threads",
            r.cpu_threads.enabled,
            r.cpu_threads.severity,
            &r.cpu_threads.applies_to,
        ),
        (
            "nic-line-target",
            r.nic_line_target.enabled,
            r.nic_line_target.severity,
            &r.nic_line_target.applies_to,
        ),
        (
            "printer-page-count",
            r.printer_page_count.enabled,
            r.printer_page_count.severity,
            &r.printer_page_count.applies_to,
        ),
        (
            "supplies-errors",
            r.supplies_errors.enabled,
            r.supplies_errors.severity,
            &r.supplies_errors.applies_to,
        ),
    ];
    for (id, enabled, s, applies) in rules {
        let state = if enabled {
            severity(s, lang)
        } else {
            lang.pick("tắt", "off")
        };
        let cats: Vec<&str> = applies.iter().map(|c| c.key()).collect();
        let _ = writeln!(out, "  - {id}: {state} ({})", cats.join(", "));
    }
    let _ = writeln!(
        out,
        "  {} {} GB; {} {}; {} {}",
        lang.pick("RAM tối thiểu", "minimum RAM"),
        r.ram_min.thresholds.min_gib,
        lang.pick("số luồng CPU tối thiểu", "minimum CPU threads"),
        r.cpu_threads.thresholds.min_logical,
        lang.pick(
            "hệ điều hành trong bảng hỗ trợ:",
            "operating systems in the support table:"
        ),
        r.os_end_of_support.thresholds.systems.len()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_reads_in_vietnamese() {
        let text = check(&CheckArgs::default()).expect("valid");
        assert!(text.contains("Tệp chính sách hợp lệ"), "{text}");
        assert!(
            text.contains("máy vi tính để bàn: 7 năm, 14,29 %"),
            "{text}"
        );
        assert!(text.contains("cpu-windows11: chặn"), "{text}");
        assert!(text.contains("nguyên giá từ 10.000.000 đ"), "{text}");
        let en = summary(Policy::shipped(), Lang::En);
        assert!(en.contains("desktop PC: 5 years, 20.00 %"), "{en}");
    }

    #[test]
    fn an_invalid_file_names_line_and_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.toml");
        let text = crate::policy::SHIPPED.replacen("min-gib = 8", "min-gib = \"tám\"", 1);
        std::fs::write(&path, text).expect("write");
        let err = check(&CheckArgs {
            policy: Some(path),
            lang: None,
        })
        .expect_err("invalid");
        let msg = err.to_string();
        assert!(
            msg.contains("dòng") && msg.contains("rules.ram-min.thresholds.min-gib"),
            "{msg}"
        );
    }
}
