//! How values read on a page: sizes, times (Vietnam time), missing values.

use chrono::{DateTime, FixedOffset, Utc};
use kiemke_shared::Lang;

/// Shown for a value the PC did not report.
pub const MISSING: &str = "—";

/// Vietnam has one time zone, UTC+7, and no daylight saving.
fn vietnam() -> Option<FixedOffset> {
    FixedOffset::east_opt(7 * 3600)
}

/// `03/11/2025 15:04`, in Vietnam time.
pub fn time(t: DateTime<Utc>) -> String {
    match vietnam() {
        Some(tz) => t.with_timezone(&tz).format("%d/%m/%Y %H:%M").to_string(),
        None => t.format("%d/%m/%Y %H:%M UTC").to_string(),
    }
}

/// A decimal number with the language's decimal separator: `7,8` or `7.8`.
fn decimal(value: f64, lang: Lang) -> String {
    let text = if value >= 100.0 || (value - value.round()).abs() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}

/// RAM as the OS counts it (binary units, labelled GB as Windows does).
pub fn ram(bytes: Option<u64>, lang: Lang) -> String {
    bytes.map_or_else(
        || MISSING.to_owned(),
        |b| format!("{} GB", decimal(b as f64 / f64::from(1u32 << 30), lang)),
    )
}

/// Disk sizes as their makers count them (decimal units).
pub fn disk(bytes: Option<u64>, lang: Lang) -> String {
    match bytes {
        None => MISSING.to_owned(),
        Some(b) if b >= 1_000_000_000_000 => format!("{} TB", decimal(b as f64 / 1e12, lang)),
        Some(b) => format!("{} GB", decimal(b as f64 / 1e9, lang)),
    }
}

pub fn text(value: Option<&str>) -> String {
    value.map_or_else(|| MISSING.to_owned(), str::to_owned)
}

/// Joins the present parts with a separator; `—` when none are present.
pub fn join(parts: &[Option<&str>], separator: &str) -> String {
    let present: Vec<&str> = parts.iter().flatten().copied().collect();
    if present.is_empty() {
        MISSING.to_owned()
    } else {
        present.join(separator)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn values_read_naturally() {
        assert_eq!(ram(Some(8 << 30), Lang::Vi), "8 GB");
        assert_eq!(ram(Some(8_300_000_000), Lang::Vi), "7,7 GB");
        assert_eq!(ram(Some(8_300_000_000), Lang::En), "7.7 GB");
        assert_eq!(ram(None, Lang::Vi), "—");
        assert_eq!(disk(Some(500_107_862_016), Lang::Vi), "500 GB");
        assert_eq!(disk(Some(2_000_398_934_016), Lang::En), "2 TB");
        let t = Utc
            .with_ymd_and_hms(2025, 11, 3, 20, 30, 0)
            .single()
            .expect("valid");
        assert_eq!(time(t), "04/11/2025 03:30");
        assert_eq!(
            join(&[Some("Dell Inc."), None, Some("OptiPlex 3020")], " "),
            "Dell Inc. OptiPlex 3020"
        );
        assert_eq!(join(&[None, None], " "), "—");
    }
}
