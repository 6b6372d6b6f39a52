//! The one place that knows the junk firmware vendors leave in SMBIOS and
//! EDID text fields ("To Be Filled By O.E.M.", "Default string", an all-zero
//! UUID...). Such a value is no information, and a serial of "0123456789"
//! shared by a thousand boards would merge them into one device, so it is
//! reported as absent. Used by the Linux (DMI) and Windows (WMI) readers
//! alike.

use kiemke_shared::inventory::clean_text;

/// Placeholders compared case-insensitively against the whole (trimmed)
/// value.
const PLACEHOLDERS: &[&str] = &[
    "to be filled by o.e.m.",
    "to be filled by oem",
    "default string",
    "default",
    "system serial number",
    "system product name",
    "system manufacturer",
    "system name",
    "system version",
    "chassis serial number",
    "chassis manufacture",
    "base board serial number",
    "serial number",
    "not specified",
    "not applicable",
    "not available",
    "0123456789",
    "123456789",
    "1234567890",
    "none",
    "n/a",
    "na",
    "null",
    "unknown",
    "oem",
    "o.e.m.",
    "invalid",
    "empty",
    "xxxxxxxxxxxx",
];

/// A well-known default UUID (AMI boards) that many machines share.
const PLACEHOLDER_UUIDS: &[&str] = &["03000200-0400-0500-0006-000700080009"];

/// Cleans a firmware text field; `None` when empty or a known placeholder.
pub fn firmware_text(raw: &str) -> Option<String> {
    let text = clean_text(raw)?;
    let lower = text.to_lowercase();
    if PLACEHOLDERS.contains(&lower.as_str()) || is_one_repeated_char(&lower) {
        return None;
    }
    Some(text)
}

/// Cleans an SMBIOS UUID to lower case; `None` when it is not a UUID or is a
/// placeholder (all zeros, all `F`, the AMI default).
pub fn firmware_uuid(raw: &str) -> Option<String> {
    let text = clean_text(raw)?.to_ascii_lowercase();
    let hex: String = text.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    if is_one_repeated_char(&hex) || PLACEHOLDER_UUIDS.contains(&text.as_str()) {
        return None;
    }
    Some(text)
}

/// `00000000`, `FFFFFFFF`, `..........`: one character repeated (ignoring
/// separators), which no real serial or UUID is.
fn is_one_repeated_char(value: &str) -> bool {
    let mut chars = value.chars().filter(|c| !matches!(c, '-' | ' ' | ':'));
    let Some(first) = chars.next() else {
        return true;
    };
    let mut count = 1;
    for c in chars {
        if c != first {
            return false;
        }
        count += 1;
    }
    count >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_placeholders_are_absent() {
        let junk = [
            "To Be Filled By O.E.M.",
            "To be filled by O.E.M.\n",
            "Default string",
            "System Serial Number",
            "System Product Name",
            "System manufacturer",
            "Not Specified",
            "0123456789",
            "None",
            "N/A",
            "  ",
            "00000000",
            "0000000000000000",
            "FFFFFFFFFFFF",
            "..........",
        ];
        for raw in junk {
            assert_eq!(firmware_text(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn real_values_are_kept() {
        let real = [
            ("Dell Inc.", "Dell Inc."),
            ("OptiPlex 3020", "OptiPlex 3020"),
            ("  5CG7281XYZ \n", "5CG7281XYZ"),
            ("A18", "A18"),
            ("HP", "HP"),
            ("00", "00"),
        ];
        for (raw, want) in real {
            assert_eq!(firmware_text(raw).as_deref(), Some(want), "{raw:?}");
        }
    }

    #[test]
    fn uuids() {
        let cases = [
            (
                "4C4C4544-0047-3710-8035-B7C04F4A4D32",
                Some("4c4c4544-0047-3710-8035-b7c04f4a4d32"),
            ),
            ("00000000-0000-0000-0000-000000000000", None),
            ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None),
            ("03000200-0400-0500-0006-000700080009", None),
            ("Not Settable", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(firmware_uuid(raw).as_deref(), want, "{raw:?}");
        }
    }
}
