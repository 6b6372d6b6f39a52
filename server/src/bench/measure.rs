//! What the benchmarks measure besides counts: latency percentiles, errors
//! grouped by kind, a process's resident memory (from `/proc`), and the
//! size of a directory on disk.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Latencies of one phase, sorted on [`Latencies::finish`].
#[derive(Debug, Clone, Default)]
pub struct Latencies {
    micros: Vec<u64>,
}

impl Latencies {
    pub fn push(&mut self, d: Duration) {
        self.micros
            .push(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn extend(&mut self, other: Latencies) {
        self.micros.extend(other.micros);
    }

    pub fn finish(&mut self) {
        self.micros.sort_unstable();
    }

    pub fn len(&self) -> usize {
        self.micros.len()
    }

    pub fn is_empty(&self) -> bool {
        self.micros.is_empty()
    }

    /// The `p`-th percentile (0 < p ≤ 100) of the sorted latencies, nearest
    /// rank; `None` when there are none.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.micros.is_empty() {
            return None;
        }
        let n = self.micros.len();
        // Nearest rank: ceil(p/100 · n), at least 1.
        let rank = ((p / 100.0) * n as f64).ceil().max(1.0) as usize;
        Some(Duration::from_micros(self.micros[rank.min(n) - 1]))
    }
}

/// Failed requests by kind ("HTTP 503", "quá thời gian chờ", ...).
pub type Errors = BTreeMap<String, u64>;

/// Milliseconds with one decimal, or "–".
pub fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "–".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3))
}

/// A process's resident memory now and at its peak, in KiB (`VmRSS`,
/// `VmHWM` in `/proc/PID/status`); `None` off Linux or when it is gone.
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Bytes of every file under `dir` (recursively; what `du --apparent-size`
/// counts).
pub fn dir_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            dir_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// `n` bytes as KiB, MiB or GiB with one decimal.
pub fn bytes(n: u64) -> String {
    let n = n as f64;
    if n >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", n / (1024.0 * 1024.0 * 1024.0))
    } else if n >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", n / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", n / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut l = Latencies::default();
        assert_eq!(l.percentile(50.0), None);
        for ms in (1..=100).rev() {
            l.push(Duration::from_millis(ms));
        }
        l.finish();
        assert_eq!(l.percentile(50.0), Some(Duration::from_millis(50)));
        assert_eq!(l.percentile(95.0), Some(Duration::from_millis(95)));
        assert_eq!(l.percentile(99.0), Some(Duration::from_millis(99)));
        assert_eq!(l.percentile(100.0), Some(Duration::from_millis(100)));
        assert_eq!(ms(l.percentile(0.1)), "1.0");
    }

    #[test]
    fn our_own_memory_and_a_directory_are_measured() {
        let (rss, peak) = rss_kib(std::process::id()).expect("Linux /proc");
        assert!(rss > 0 && peak >= rss, "{rss} {peak}");
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        std::fs::write(dir.path().join("a"), [0u8; 100]).expect("write");
        std::fs::write(dir.path().join("sub/b"), [0u8; 50]).expect("write");
        assert_eq!(dir_bytes(dir.path()).expect("size"), 150);
    }
}
