//! Validated units. Line speeds are decimal megabits per second of goodput,
//! the unit the provincial targets (100 / 200 Mbps) are written in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative, finite speed in decimal Mbps (10^6 bit/s).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Mbps(f64);

/// Why a number is not a valid speed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("speed must be a finite number of Mbps between 0 and {max}, got {0}", max = Mbps::MAX)]
pub struct MbpsError(pub f64);

impl Mbps {
    /// 400 Gbit/s: above any NIC a commune office will own; larger values are
    /// measurement or encoding errors.
    pub const MAX: f64 = 400_000.0;

    pub const ZERO: Mbps = Mbps(0.0);

    /// A computed speed, clamped into the valid range (NaN becomes 0): for
    /// measurements, which are finite by construction.
    pub fn saturating(value: f64) -> Self {
        if value.is_nan() {
            return Self::ZERO;
        }
        Self(value.clamp(0.0, Self::MAX))
    }

    pub fn new(value: f64) -> Result<Self, MbpsError> {
        if value.is_finite() && (0.0..=Self::MAX).contains(&value) {
            Ok(Self(value))
        } else {
            Err(MbpsError(value))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// Whether this speed reaches a target such as the 100 Mbps commune line.
    pub fn meets(self, target: Mbps) -> bool {
        self.0 >= target.0
    }
}

impl fmt::Display for Mbps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Mbps", self.0)
    }
}

impl<'de> Deserialize<'de> for Mbps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Mbps::new(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert!(Mbps::new(100.0).is_ok());
        assert!(Mbps::new(0.0).is_ok());
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e12] {
            assert!(Mbps::new(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Mbps>("-5").is_err());
        assert_eq!(Mbps::saturating(f64::NAN), Mbps::ZERO);
        assert_eq!(Mbps::saturating(-3.0), Mbps::ZERO);
        assert_eq!(Mbps::saturating(1e12).get(), Mbps::MAX);
        let m: Mbps = serde_json::from_str("94.5").expect("valid");
        assert!(!m.meets(Mbps::new(100.0).expect("valid")));
    }
}
