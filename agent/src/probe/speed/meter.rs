//! Counting bytes in short buckets, and choosing the measured window.
//!
//! Every stream adds the body bytes it moves to the bucket of the moment
//! (100 ms buckets from the start of the direction), lock-free. Afterwards
//! [`Window::choose`] discards the warm-up: at least the first
//! `min_warmup`, and longer while throughput is still climbing (TCP slow
//! start, late streams), up to half the test. Goodput is the bytes of the
//! buckets inside the window divided by the window's length: no averaging
//! of averages, no fudge factor.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kiemke_shared::probes::PerSecond;

use crate::probe::stats;

/// Width of one bucket.
pub const BUCKET: Duration = Duration::from_millis(100);
const BUCKETS_PER_SECOND: usize = 10;

/// Bytes per bucket for one direction, shared by its streams.
#[derive(Debug)]
pub struct Meter {
    start: Instant,
    buckets: Vec<AtomicU64>,
    total: AtomicU64,
    /// The latest end of an [`Meter::add_spread`] span, in ns from the
    /// start: when the last acknowledged byte was known to have arrived.
    last_acknowledged_ns: AtomicU64,
    /// Set when the server ended a response early or refused a stream.
    server_limited: AtomicBool,
    /// The first stream failure, for the message when nothing got through.
    first_error: OnceLock<String>,
}

impl Meter {
    /// A meter for a direction of `duration` starting at `start`.
    pub fn new(start: Instant, duration: Duration) -> Meter {
        let n = duration.as_millis().div_ceil(BUCKET.as_millis()) as usize;
        Meter {
            start,
            buckets: (0..n).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            last_acknowledged_ns: AtomicU64::new(0),
            server_limited: AtomicBool::new(false),
            first_error: OnceLock::new(),
        }
    }

    /// Counts `bytes` moved now.
    pub fn add(&self, bytes: usize) {
        self.add_at(Instant::now(), bytes);
    }

    pub fn add_at(&self, at: Instant, bytes: usize) {
        let bytes = bytes as u64;
        self.total.fetch_add(bytes, Ordering::Relaxed);
        let index = at.saturating_duration_since(self.start).as_millis() / BUCKET.as_millis();
        if let Some(b) = self.buckets.get(index as usize) {
            b.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Counts `bytes` known to have arrived somewhere between `from` and
    /// `to`, spread evenly over that span's buckets. An upload request's
    /// bytes are only known to have reached the server when its answer
    /// comes back; on its own connection they arrived steadily in between
    /// (each request starts with that connection's queue empty: the
    /// previous answer came after all earlier bytes), so an even spread is
    /// what the receiver saw, and bytes still queued at the deadline land
    /// after it, outside the window.
    pub fn add_spread(&self, from: Instant, to: Instant, bytes: u64) {
        self.total.fetch_add(bytes, Ordering::Relaxed);
        let ns = |at: Instant| at.saturating_duration_since(self.start).as_nanos();
        let (a, b) = (ns(from), ns(to).max(ns(from)));
        self.last_acknowledged_ns
            .fetch_max(u64::try_from(b).unwrap_or(u64::MAX), Ordering::Relaxed);
        let width = BUCKET.as_nanos();
        if a == b {
            if let Some(bucket) = self.buckets.get((a / width) as usize) {
                bucket.fetch_add(bytes, Ordering::Relaxed);
            }
            return;
        }
        // Cumulative shares, so the rounding never adds or loses a byte.
        let upto = |t: u128| (u128::from(bytes) * (t.clamp(a, b) - a) / (b - a)) as u64;
        for (index, bucket) in self.buckets.iter().enumerate() {
            let (lo, hi) = (index as u128 * width, (index as u128 + 1) * width);
            if hi <= a || lo >= b {
                continue;
            }
            bucket.fetch_add(upto(hi) - upto(lo), Ordering::Relaxed);
        }
    }

    pub fn mark_server_limited(&self) {
        self.server_limited.store(true, Ordering::Relaxed);
    }

    /// Keeps the first stream failure (later ones are usually its echo).
    pub fn note_error(&self, error: String) {
        tracing::debug!(%error, "luồng đo tốc độ dừng / throughput stream stopped");
        let _ = self.first_error.set(error);
    }

    pub fn first_error(&self) -> Option<&str> {
        self.first_error.get().map(String::as_str)
    }

    pub fn server_limited(&self) -> bool {
        self.server_limited.load(Ordering::Relaxed)
    }

    /// All bytes counted, including any after the last bucket.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// When the last acknowledged byte was known to have arrived, from the
    /// start; `None` if nothing was acknowledged.
    pub fn last_acknowledged(&self) -> Option<Duration> {
        match self.last_acknowledged_ns.load(Ordering::Relaxed) {
            0 => None,
            ns => Some(Duration::from_nanos(ns)),
        }
    }

    pub fn snapshot(&self) -> Vec<u64> {
        self.buckets
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect()
    }
}

/// The measured part of a direction, and what it measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Warm-up discarded.
    pub warmup: Duration,
    pub measured: Duration,
    pub bytes: u64,
    pub mbps: f64,
    pub per_second: PerSecond,
}

impl Window {
    /// Chooses the window over `buckets` (see the module docs): the first
    /// whole second `s ≥ min_warmup` whose preceding second already carried
    /// at least 90 % of second `s`'s bytes, capped at half the buckets.
    pub fn choose(buckets: &[u64], min_warmup: Duration) -> Window {
        let seconds: Vec<u64> = buckets
            .chunks_exact(BUCKETS_PER_SECOND)
            .map(|c| c.iter().sum())
            .collect();
        let min_s = min_warmup.as_secs_f64().ceil() as usize;
        let max_s = (buckets.len() / 2) / BUCKETS_PER_SECOND;
        let mut warm_s = min_s.min(max_s);
        while warm_s < max_s {
            let (before, at) = (seconds.get(warm_s.wrapping_sub(1)), seconds.get(warm_s));
            match (before, at) {
                (Some(b), Some(a)) if (*b as f64) < 0.9 * (*a as f64) => warm_s += 1,
                _ => break,
            }
        }
        let first = (warm_s * BUCKETS_PER_SECOND).min(buckets.len());
        let bytes: u64 = buckets[first..].iter().sum();
        let measured = BUCKET * u32::try_from(buckets.len() - first).unwrap_or(u32::MAX);
        let per_second: Vec<f64> = seconds
            .iter()
            .skip(warm_s)
            .map(|b| stats::mbps(*b, 1.0))
            .collect();
        Window {
            warmup: BUCKET * u32::try_from(first).unwrap_or(u32::MAX),
            measured,
            bytes,
            mbps: stats::mbps(bytes, measured.as_secs_f64()),
            per_second: stats::per_second(&per_second),
        }
    }
}

impl Window {
    /// The window of a direction counted at acknowledgement (uploads): the
    /// warm-up as [`Window::choose`] finds it, but the window runs to `end`,
    /// the last acknowledgement, and holds every byte acknowledged after the
    /// warm-up (`total` minus the warm-up's buckets). Bytes still queued at
    /// the deadline arrive after it, and the line was busy carrying them
    /// until they did, so they count with the time they took, not as if
    /// they had arrived by the deadline. Per-second figures stay those of
    /// the buckets.
    pub fn until_acknowledged(
        buckets: &[u64],
        min_warmup: Duration,
        total: u64,
        end: Duration,
    ) -> Window {
        let window = Window::choose(buckets, min_warmup);
        let first = (window.warmup.as_millis() / BUCKET.as_millis()) as usize;
        let before: u64 = buckets.iter().take(first).sum();
        let measured = end.saturating_sub(window.warmup);
        if measured < BUCKET {
            return window;
        }
        let bytes = total.saturating_sub(before);
        Window {
            measured,
            bytes,
            mbps: stats::mbps(bytes, measured.as_secs_f64()),
            ..window
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 250 000 bytes per 100 ms bucket is 100 Mbps.
    const B100: u64 = 1_250_000;

    #[test]
    fn bytes_land_in_their_bucket() {
        let start = Instant::now();
        let m = Meter::new(start, Duration::from_secs(1));
        m.add_at(start, 10);
        m.add_at(start + Duration::from_millis(150), 20);
        m.add_at(start + Duration::from_millis(999), 30);
        // After the end: counted in the total only.
        m.add_at(start + Duration::from_millis(1000), 40);
        let s = m.snapshot();
        assert_eq!(s.len(), 10);
        assert_eq!((s[0], s[1], s[9]), (10, 20, 30));
        assert_eq!(m.total(), 100);
    }

    #[test]
    fn acknowledged_bytes_spread_over_their_span() {
        let start = Instant::now();
        let ms = |n: u64| start + Duration::from_millis(n);
        let m = Meter::new(start, Duration::from_secs(1));
        // 400 bytes over 100..500 ms: 100 in each of buckets 1..=4.
        m.add_spread(ms(100), ms(500), 400);
        // 1000 bytes over 850..1350 ms: 850–900 ms is 100 bytes (bucket
        // 8), 900–1000 ms 200 (bucket 9), the rest after the end, in the
        // total only.
        m.add_spread(ms(850), ms(1350), 1000);
        let s = m.snapshot();
        assert_eq!(&s[..6], &[0, 100, 100, 100, 100, 0]);
        assert_eq!((s[8], s[9]), (100, 200));
        assert_eq!(m.total(), 1400);
        // An instant span lands in one bucket.
        m.add_spread(ms(620), ms(620), 7);
        assert_eq!(m.snapshot()[6], 7);
    }

    #[test]
    fn an_acknowledged_window_runs_to_the_last_answer() {
        // 10 s at 100 Mbps in the buckets, and 1 s more acknowledged after
        // the deadline (the queue draining): 9 s of 100 Mbps after a 2 s
        // warm-up.
        let buckets = vec![B100; 100];
        let total = 110 * B100;
        let w = Window::until_acknowledged(
            &buckets,
            Duration::from_secs(2),
            total,
            Duration::from_secs(11),
        );
        assert_eq!(w.warmup, Duration::from_secs(2));
        assert_eq!(w.measured, Duration::from_secs(9));
        assert_eq!(w.bytes, 90 * B100);
        assert!((w.mbps - 100.0).abs() < 1e-9, "{}", w.mbps);
        let m = Meter::new(Instant::now(), Duration::from_secs(1));
        assert_eq!(m.last_acknowledged(), None);
    }

    #[test]
    fn a_flat_test_keeps_the_minimum_warmup() {
        let buckets = vec![B100; 100];
        let w = Window::choose(&buckets, Duration::from_secs(2));
        assert_eq!(w.warmup, Duration::from_secs(2));
        assert_eq!(w.measured, Duration::from_secs(8));
        assert_eq!(w.bytes, 80 * B100);
        assert!((w.mbps - 100.0).abs() < 1e-9, "{}", w.mbps);
        assert!((w.per_second.p50 - 100.0).abs() < 1e-9);
    }

    #[test]
    fn a_slow_ramp_extends_the_warmup() {
        // Seconds 0..4 ramp 10, 30, 60, 80, then 100 Mbps. Second 2 is
        // preceded by 30 (< 90 % of 60), second 3 by 60 (< 90 % of 80),
        // second 4 by 80 (< 90 % of 100); second 5 by 100: it starts there.
        let mut buckets = Vec::new();
        for mbps in [10, 30, 60, 80, 100, 100, 100, 100, 100, 100, 100, 100] {
            buckets.extend(std::iter::repeat_n(B100 * mbps / 100, 10));
        }
        let w = Window::choose(&buckets, Duration::from_secs(2));
        assert_eq!(w.warmup, Duration::from_secs(5));
        assert!((w.mbps - 100.0).abs() < 1e-9, "{}", w.mbps);
    }

    #[test]
    fn the_warmup_never_takes_more_than_half() {
        // Climbing all the time: capped at 5 of 10 seconds.
        let buckets: Vec<u64> = (0..100).map(|i| 1000 * (i as u64 + 1)).collect();
        let w = Window::choose(&buckets, Duration::from_secs(2));
        assert_eq!(w.warmup, Duration::from_secs(5));
        assert_eq!(w.measured, Duration::from_secs(5));
    }

    #[test]
    fn per_second_percentiles_show_dips() {
        let mut buckets = vec![B100; 100];
        // Second 6 at half speed.
        for b in &mut buckets[60..70] {
            *b = B100 / 2;
        }
        let w = Window::choose(&buckets, Duration::from_secs(2));
        assert!(w.per_second.p10 < 90.0 && (w.per_second.p90 - 100.0).abs() < 1e-9);
        // 70 full buckets and 10 half: 75 × 1.25 MB over 8 s.
        assert!((w.mbps - 93.75).abs() < 1e-9, "{}", w.mbps);
    }
}
