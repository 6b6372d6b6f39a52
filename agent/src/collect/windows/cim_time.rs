//! CIM datetimes as WMI writes them: `yyyymmddHHMMSS.mmmmmmsUUU`, where `s`
//! is `+` or `-` and `UUU` the UTC offset in minutes, e.g.
//! `20190513000000.000000+000`. Unknown parts are asterisks
//! (`20190513******.******+***`), which BIOS release dates often use.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

/// The date part alone (a BIOS release date); `None` unless the first eight
/// characters are a valid date.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let digits = raw.trim().get(..8)?;
    NaiveDate::parse_from_str(digits, "%Y%m%d")
        .ok()
        .filter(|d| d.year() >= 1980)
}

/// A full datetime (install date, boot time) in UTC; an unknown (asterisk)
/// offset is taken as UTC, unknown time digits as zero.
pub fn parse_datetime(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let date = parse_date(raw)?;
    let time = raw.get(8..14)?.replace('*', "0");
    let part = |at: usize| time.get(at..at + 2)?.parse::<u32>().ok();
    let naive = date.and_hms_opt(part(0)?, part(2)?, part(4)?)?;
    let offset_minutes = raw
        .get(21..25)
        .and_then(|o| {
            let sign = match o.get(..1)? {
                "+" => 1,
                "-" => -1,
                _ => return None,
            };
            o.get(1..)?.parse::<i32>().ok().map(|m| sign * m)
        })
        .unwrap_or(0);
    let offset = FixedOffset::east_opt(offset_minutes * 60)?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let cases = [
            (
                "20190513000000.000000+000",
                NaiveDate::from_ymd_opt(2019, 5, 13),
            ),
            (
                "20140401******.******+***",
                NaiveDate::from_ymd_opt(2014, 4, 1),
            ),
            ("20140401", NaiveDate::from_ymd_opt(2014, 4, 1)),
            ("2019051", None),
            ("00000000000000.000000+000", None),
            ("19000101000000.000000+000", None),
            ("garbage!", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_date(raw), want, "{raw}");
        }
    }

    #[test]
    fn datetimes() {
        let cases = [
            (
                "20190513000000.000000+000",
                Some("2019-05-13T00:00:00+00:00"),
            ),
            // Vietnam is UTC+7: 420 minutes.
            (
                "20200302083015.500000+420",
                Some("2020-03-02T01:30:15+00:00"),
            ),
            (
                "20190113200517.500000-180",
                Some("2019-01-13T23:05:17+00:00"),
            ),
            (
                "20190513******.******+***",
                Some("2019-05-13T00:00:00+00:00"),
            ),
            ("20190513", None),
            ("20191313000000.000000+000", None),
            ("20190513250000.000000+000", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                parse_datetime(raw).map(|d| d.to_rfc3339()).as_deref(),
                want,
                "{raw}"
            );
        }
    }
}
