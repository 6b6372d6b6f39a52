//! The little statistics the probe tests judge with: a median, and the
//! Wilson score interval for a loss proportion (how far a measured loss rate
//! may honestly be from the link's configured one after n probes).

/// The median (mean of the middle two for an even count), `None` if empty.
pub fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 0 {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// z for a two-sided 95 % interval.
pub const Z95: f64 = 1.959_963_985;

/// The Wilson score interval, in percent, for a proportion `p_pct` observed
/// over `n` trials at normal quantile `z`. Used the other way round here: a
/// measured loss rate outside the interval around the configured one is
/// unlikely (< 5 %) to be chance.
pub fn wilson_interval_pct(p_pct: f64, n: u64, z: f64) -> (f64, f64) {
    let n = n as f64;
    let p = p_pct / 100.0;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    (
        100.0 * (centre - half).max(0.0),
        100.0 * (centre + half).min(1.0),
    )
}

/// `a / b` as a signed percentage difference: +3.0 means a is 3 % above b.
pub fn diff_pct(a: f64, b: f64) -> f64 {
    100.0 * (a - b) / b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
    }

    #[test]
    fn wilson_interval_matches_known_values() {
        // p = 2 %, n = 500: 1.09 % .. 3.64 % (textbook Wilson, z = 1.96).
        let (low, high) = wilson_interval_pct(2.0, 500, Z95);
        assert!((low - 1.09).abs() < 0.005, "{low}");
        assert!((high - 3.64).abs() < 0.005, "{high}");
        // Never outside 0..100.
        let (low, high) = wilson_interval_pct(0.0, 10, Z95);
        assert_eq!(low, 0.0);
        assert!(high > 0.0 && high < 100.0);
    }

    #[test]
    fn diff_is_relative_to_the_second() {
        assert!((diff_pct(105.0, 100.0) - 5.0).abs() < 1e-9);
        assert!((diff_pct(95.0, 100.0) + 5.0).abs() < 1e-9);
    }
}
