//! The arithmetic of probe results, kept pure so it can be checked by hand:
//! loss, RTT percentiles, jitter, per-second throughput percentiles.
//!
//! Percentiles interpolate linearly between the closest ranks (the method of
//! Excel's `PERCENTILE.INC` and NumPy's default): with sorted values
//! `v[0..n]`, the p-th percentile sits at rank `p/100 × (n − 1)`. So the
//! median of an even count is the mean of the two middle values.

use kiemke_shared::probes::{PerSecond, RttSummary};

/// `100 × lost / sent`; 100 when nothing was sent (nothing got through).
pub fn loss_pct(sent: u32, received: u32) -> f64 {
    if sent == 0 {
        return 100.0;
    }
    let lost = sent.saturating_sub(received);
    100.0 * f64::from(lost) / f64::from(sent)
}

/// The p-th percentile (0..=100) of already sorted, finite values.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let rank = (p.clamp(0.0, 100.0) / 100.0) * last as f64;
    let low = rank.floor() as usize;
    let high = rank.ceil() as usize;
    let (a, b) = (*sorted.get(low)?, *sorted.get(high)?);
    Some(a + (b - a) * (rank - low as f64))
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// min / median / p95 / max of the RTTs of the replies; `None` without any.
pub fn rtt_summary(rtts_ms: &[f64]) -> Option<RttSummary> {
    let v = sorted(rtts_ms);
    Some(RttSummary {
        min: *v.first()?,
        median: percentile(&v, 50.0)?,
        p95: percentile(&v, 95.0)?,
        max: *v.last()?,
    })
}

/// Mean absolute difference of consecutive RTTs, in the order the probes
/// were sent (lost probes are skipped: the difference is taken between the
/// replies on either side). `None` with fewer than two replies.
pub fn jitter(rtts_in_order_ms: &[f64]) -> Option<f64> {
    if rtts_in_order_ms.len() < 2 {
        return None;
    }
    let diffs: f64 = rtts_in_order_ms
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .sum();
    Some(diffs / (rtts_in_order_ms.len() - 1) as f64)
}

/// p10 / p50 / p90 of per-second throughputs; zeros when there are none.
pub fn per_second(mbps: &[f64]) -> PerSecond {
    let v = sorted(mbps);
    PerSecond {
        p10: percentile(&v, 10.0).unwrap_or(0.0),
        p50: percentile(&v, 50.0).unwrap_or(0.0),
        p90: percentile(&v, 90.0).unwrap_or(0.0),
    }
}

/// Decimal megabits per second of `bytes` over `seconds`.
pub fn mbps(bytes: u64, seconds: f64) -> f64 {
    if seconds <= 0.0 {
        return 0.0;
    }
    bytes as f64 * 8.0 / seconds / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn loss() {
        let cases = [
            (20, 20, 0.0),
            (20, 19, 5.0),
            (3, 1, 66.666_666_666_666_67),
            (10, 0, 100.0),
            (0, 0, 100.0),
        ];
        for (sent, received, want) in cases {
            assert!(close(loss_pct(sent, received), want), "{sent} {received}");
        }
    }

    #[test]
    fn rtt_summary_by_hand() {
        // Sorted: 10 11 12 13 14 15 16 17 18 40.
        // Median: rank 4.5 → (14 + 15) / 2 = 14.5.
        // p95: rank 0.95 × 9 = 8.55 → 18 + 0.55 × (40 − 18) = 30.1.
        let rtts = [12.0, 10.0, 40.0, 11.0, 13.0, 15.0, 14.0, 18.0, 16.0, 17.0];
        let s = rtt_summary(&rtts).expect("replies");
        assert!(close(s.min, 10.0));
        assert!(close(s.median, 14.5));
        assert!(close(s.p95, 30.1), "{}", s.p95);
        assert!(close(s.max, 40.0));

        let one = rtt_summary(&[7.5]).expect("one reply");
        assert!(close(one.min, 7.5) && close(one.median, 7.5) && close(one.p95, 7.5));
        // Odd count: the middle value.
        let odd = rtt_summary(&[3.0, 1.0, 2.0]).expect("replies");
        assert!(close(odd.median, 2.0));
        assert_eq!(rtt_summary(&[]), None);
    }

    #[test]
    fn jitter_by_hand() {
        // |12−10| + |11−12| + |15−11| = 2 + 1 + 4 = 7, over 3 differences.
        let j = jitter(&[10.0, 12.0, 11.0, 15.0]).expect("replies");
        assert!(close(j, 7.0 / 3.0), "{j}");
        // Constant RTT: no jitter, however high the RTT.
        assert_eq!(jitter(&[50.0, 50.0, 50.0]), Some(0.0));
        assert_eq!(jitter(&[10.0]), None);
    }

    #[test]
    fn per_second_percentiles_by_hand() {
        // Sorted 90 92 94 96 98: p10 at rank 0.4 → 90.8; p50 → 94;
        // p90 at rank 3.6 → 96 + 0.6 × 2 = 97.2.
        let p = per_second(&[94.0, 98.0, 90.0, 96.0, 92.0]);
        assert!(
            close(p.p10, 90.8) && close(p.p50, 94.0) && close(p.p90, 97.2),
            "{p:?}"
        );
        let none = per_second(&[]);
        assert_eq!((none.p10, none.p50, none.p90), (0.0, 0.0, 0.0));
    }

    #[test]
    fn mbps_is_decimal() {
        // 12.5 MB in one second is 100 Mbps (decimal megabits, no fudge).
        assert!(close(mbps(12_500_000, 1.0), 100.0));
        assert!(close(mbps(1_000_000, 0.0), 0.0));
    }
}
