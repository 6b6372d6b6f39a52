//! Small SVG charts rendered on the server (no JavaScript, no external
//! assets): a site's best download per day against its target.

use std::fmt::Write;

use chrono::{DateTime, Duration, Utc};

use crate::survey::SiteLine;

const WIDTH: f64 = 300.0;
const HEIGHT: f64 = 80.0;
const PAD: f64 = 4.0;

/// The last `days` days of a site's daily best download as an inline SVG,
/// with the target as a dashed line; days without a test leave gaps.
pub fn line_trend(site: &SiteLine, now: DateTime<Utc>, days: u32, label: &str) -> String {
    let today = (now + Duration::hours(7)).date_naive();
    let first = today - Duration::days(i64::from(days.saturating_sub(1)));
    let target = f64::from(site.target_mbps);
    let top = (site.daily.iter().map(|d| d.download_mbps))
        .fold(target * 1.25, f64::max)
        .max(1.0);
    let x = |day: i64| PAD + (WIDTH - 2.0 * PAD) * day as f64 / f64::from(days.max(2) - 1);
    let y = |mbps: f64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * mbps / top;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg class="trend" role="img" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg"><title>{}</title><rect width="{WIDTH}" height="{HEIGHT}" fill="#fff" stroke="#d7dbe0"/>"##,
        askama_escape(label)
    );
    let ty = y(target);
    let _ = write!(
        svg,
        r##"<line x1="{PAD}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#a61b1b" stroke-dasharray="4 3"/>"##,
        WIDTH - PAD
    );
    let mut points = String::new();
    for d in &site.daily {
        let day = (d.date - first).num_days();
        if (0..i64::from(days)).contains(&day) {
            let _ = write!(points, "{:.1},{:.1} ", x(day), y(d.download_mbps));
        }
    }
    if !points.is_empty() {
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="#1f5fa8" stroke-width="2" points="{}"/>"##,
            points.trim_end()
        );
        for p in points.split_whitespace() {
            if let Some((cx, cy)) = p.split_once(',') {
                let _ = write!(
                    svg,
                    r##"<circle cx="{cx}" cy="{cy}" r="2" fill="#1f5fa8"/>"##
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Escapes text for an SVG `<title>`.
fn askama_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::survey::DailyBest;

    #[test]
    fn the_chart_plots_each_day_and_the_target() {
        let now = Utc
            .with_ymd_and_hms(2026, 6, 30, 3, 0, 0)
            .single()
            .expect("date");
        let site = SiteLine {
            code: "ttpvhcc".into(),
            name: "TTPVHCC <x>".into(),
            kind: kiemke_shared::SiteKind::ServiceCenter,
            target_mbps: 200,
            best_download_mbps: Some(250.0),
            best_upload_mbps: Some(100.0),
            tests: 2,
            verdict: crate::lines::Verdict::Meets,
            meets_target: Some(true),
            daily: vec![
                DailyBest {
                    date: NaiveDate::from_ymd_opt(2026, 6, 1).expect("date"),
                    download_mbps: 150.0,
                },
                DailyBest {
                    date: NaiveDate::from_ymd_opt(2026, 6, 30).expect("date"),
                    download_mbps: 250.0,
                },
            ],
        };
        let svg = line_trend(&site, now, 30, &site.name);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("stroke-dasharray"));
        assert!(svg.contains("TTPVHCC &lt;x&gt;"));
        // The last day sits at the right edge.
        assert!(svg.contains("cx=\"296.0\""), "{svg}");
    }
}
