//! The readable results of `kiemke-agent probe ping` and `probe speed`
//! (without `--json`): Vietnamese by default, with the Vietnamese decimal
//! comma (94,3 Mbps); English on request.

use std::fmt::Write as _;

use kiemke_shared::Lang;
use kiemke_shared::probes::{PingResult, RttMethod, SpeedApi, SpeedResult};

/// A number with `decimals` digits, decimal comma in Vietnamese.
pub fn num(x: f64, decimals: usize, lang: Lang) -> String {
    let s = format!("{x:.decimals$}");
    match lang {
        Lang::Vi => s.replace('.', ","),
        Lang::En => s,
    }
}

fn method(m: RttMethod, port: Option<u16>, lang: Lang) -> String {
    match (m, port) {
        (RttMethod::Icmp, _) => "ICMP (ping)".to_owned(),
        (m, Some(port)) => format!(
            "{} {} {port}{}",
            m.label(lang),
            lang.pick("cổng", "port"),
            lang.pick(
                " (không phải ICMP; thời gian gồm cả phần máy đích xử lý)",
                " (not ICMP; includes the far end's handling time)"
            )
        ),
        (m, None) => m.label(lang).to_owned(),
    }
}

/// The ping summary.
pub fn ping(r: &PingResult, lang: Lang) -> String {
    let t = |vi, en| lang.pick(vi, en);
    let mut out = String::new();
    let address = r.address.as_deref().unwrap_or("?");
    let _ = writeln!(
        out,
        "{} {} ({address}) {} {}",
        t("Đo tới", "Probing"),
        r.target,
        t("bằng", "by"),
        method(r.method, r.port, lang)
    );
    let _ = writeln!(
        out,
        "{} {}, {} {}, {} {} %",
        t("Đã gửi", "Sent"),
        r.sent,
        t("nhận", "received"),
        r.received,
        t("mất", "lost"),
        num(r.loss_pct, 1, lang)
    );
    match &r.rtt_ms {
        Some(s) => {
            let _ = writeln!(
                out,
                "{} (ms): {} {} · {} {} · p95 {} · {} {}",
                t("Độ trễ", "Round trip"),
                t("thấp nhất", "min"),
                num(s.min, 2, lang),
                t("trung vị", "median"),
                num(s.median, 2, lang),
                num(s.p95, 2, lang),
                t("cao nhất", "max"),
                num(s.max, 2, lang)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{}",
                t("Không nhận được phản hồi nào.", "No reply was received.")
            );
        }
    }
    if let Some(j) = r.jitter_ms {
        let _ = writeln!(
            out,
            "{}: {} ms",
            t("Độ dao động (jitter)", "Jitter"),
            num(j, 2, lang)
        );
    }
    out
}

/// The throughput test summary.
pub fn speed(r: &SpeedResult, lang: Lang) -> String {
    let t = |vi, en| lang.pick(vi, en);
    let mut out = String::new();
    let api = match r.api {
        SpeedApi::Kiemke => t("máy chủ Kiểm kê", "Kiểm kê server"),
        SpeedApi::Librespeed => t("máy chủ LibreSpeed", "LibreSpeed server"),
    };
    let _ = writeln!(
        out,
        "{} {} ({api})",
        t("Đo tốc độ tới", "Throughput test against"),
        r.server
    );
    let mbps = |x: f64| format!("{} Mbps", num(x, 1, lang));
    let _ = writeln!(
        out,
        "{}: {}  ({} {}, p10/p50/p90 {} / {} / {})",
        t("Tải xuống", "Download"),
        mbps(r.download_mbps.get()),
        r.streams_down,
        t("luồng", "streams"),
        num(r.download_per_second_mbps.p10, 1, lang),
        num(r.download_per_second_mbps.p50, 1, lang),
        num(r.download_per_second_mbps.p90, 1, lang),
    );
    let _ = writeln!(
        out,
        "{}: {}  ({} {}, p10/p50/p90 {} / {} / {})",
        t("Tải lên", "Upload"),
        mbps(r.upload_mbps.get()),
        r.streams_up,
        t("luồng", "streams"),
        num(r.upload_per_second_mbps.p10, 1, lang),
        num(r.upload_per_second_mbps.p50, 1, lang),
        num(r.upload_per_second_mbps.p90, 1, lang),
    );
    let ms = |x: Option<f64>| x.map_or("?".to_owned(), |v| format!("{} ms", num(v, 1, lang)));
    let _ = writeln!(
        out,
        "{}: {} {}, {} {} ({})",
        t("Độ trễ", "Latency"),
        t("khi rảnh", "idle"),
        ms(r.latency_idle_ms),
        t("khi tải nặng", "loaded"),
        ms(r.latency_loaded_ms),
        r.latency_method.map_or("?", |m| m.label(lang))
    );
    let link = match (&r.interface, r.link_mbps) {
        (Some(i), Some(l)) => format!("{i}, {l} Mbps"),
        (Some(i), None) => format!(
            "{i}, {}",
            t("không rõ tốc độ liên kết", "link speed unknown")
        ),
        _ => t("không xác định", "unknown").to_owned(),
    };
    let wifi = if r.wireless == Some(true) {
        " (Wi-Fi)"
    } else {
        ""
    };
    let _ = writeln!(out, "{}: {link}{wifi}", t("Card mạng", "Interface"));
    let meets = r.download_mbps.meets(r.target_mbps) && r.upload_mbps.meets(r.target_mbps);
    let verdict = match (meets, lang) {
        (true, Lang::Vi) => "đạt",
        (false, Lang::Vi) => "chưa đạt",
        (true, Lang::En) => "met",
        (false, Lang::En) => "not met",
    };
    let _ = writeln!(
        out,
        "{} {}: {verdict}",
        t("Mức yêu cầu", "Target"),
        mbps(r.target_mbps.get())
    );
    if let Some(l) = r.limited_by {
        let _ = writeln!(out, "{}: {}", t("Lưu ý", "Note"), l.explain(lang));
    }
    let _ = writeln!(
        out,
        "{} {} s {} {} s {}.",
        t("Mỗi chiều đo", "Each direction ran"),
        num(r.duration_s, 0, lang),
        t("(bỏ", "(the first"),
        num(r.warmup_s, 1, lang),
        t("đầu để khởi động)", "discarded as warm-up)")
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_uses_the_decimal_comma() {
        assert_eq!(num(94.26, 1, Lang::Vi), "94,3");
        assert_eq!(num(94.25, 2, Lang::En), "94.25");
    }
}
