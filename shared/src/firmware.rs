//! The placeholders firmware vendors leave in SMBIOS (and EDID) fields: "To
//! Be Filled By O.E.M.", "Default string", "0123456789", an all-zero UUID...
//! Such a value is no information, and a serial or UUID shared by a thousand
//! boards would merge them into one device. The agent reports these values
//! as absent; the server, which cannot trust every agent to have done so,
//! refuses to key a device's identity on them. Both ask this module, so the
//! two never disagree on what is junk. Pure functions, no I/O.

use crate::inventory::clean_text;

/// Placeholder texts, in folded form (lower-case letters and digits only),
/// so that "To Be Filled By O.E.M.", "To be filled by OEM" and
/// "tobefilledbyoem" are one entry.
const PLACEHOLDERS: &[&str] = &[
    // "To Be Filled By O.E.M." and its relatives (AMI, Insyde, Phoenix).
    "tobefilledbyoem",
    "oem",
    "defaultstring",
    "default",
    // The field's own name, left in place of its value.
    "systemserialnumber",
    "systemproductname",
    "systemmanufacturer",
    "systemname",
    "systemversion",
    "chassisserialnumber",
    "chassismanufacture",
    "baseboardserialnumber",
    "serialnumber",
    // "Nothing here", spelled many ways ("N/A" folds to "na").
    "notspecified",
    "notapplicable",
    "notavailable",
    "none",
    "na",
    "null",
    "unknown",
    "invalid",
    "empty",
    // Counting sequences typed into the serial field.
    "0123456789",
    "123456789",
    "1234567890",
    "12345678",
];

/// UUIDs (32 lower-case hex digits) shared by many boards: the AMI default
/// of cloned BIOS images, `03000200-0400-0500-0006-000700080009`, as the
/// kernel prints it and with its first three fields byte-swapped (how some
/// tools read the same SMBIOS bytes).
const PLACEHOLDER_UUIDS: &[&str] = &[
    "03000200040005000006000700080009",
    "00020003000400050006000700080009",
];

/// A serial shorter than this (letters and digits) tells no machine apart.
const MIN_SERIAL_LEN: usize = 4;

/// Whether a firmware text field says nothing: empty, no letters or digits at
/// all, a known placeholder (compared case- and separator-insensitively), or
/// one character repeated ("00000000", "XXXXXXXX").
pub fn is_placeholder_text(s: &str) -> bool {
    let folded = fold(s);
    folded.is_empty() || PLACEHOLDERS.contains(&folded.as_str()) || is_one_repeated_char(&folded)
}

/// Whether a serial number cannot tell one machine from another: a
/// placeholder text, or fewer than four letters and digits.
pub fn is_placeholder_serial(s: &str) -> bool {
    is_placeholder_text(s) || fold(s).chars().count() < MIN_SERIAL_LEN
}

/// A firmware text field cleaned of control characters and surrounding
/// blanks; `None` when nothing is left or it is a placeholder.
pub fn text(raw: &str) -> Option<String> {
    clean_text(raw).filter(|text| !is_placeholder_text(text))
}

/// An SMBIOS UUID in canonical lower-case hyphenated form; `None` when `raw`
/// is not a UUID (braces are allowed, blanks inside are not) or is a
/// placeholder: nil, all-F, the AMI default, a repeating pattern, a counting
/// sequence or almost no distinct digits.
pub fn smbios_uuid(raw: &str) -> Option<String> {
    let cleaned = clean_text(raw)?;
    let bare = cleaned.trim_start_matches('{').trim_end_matches('}');
    if !bare.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let hex: String = bare
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() != 32 || is_placeholder_uuid(hex.as_bytes()) {
        return None;
    }
    Some(format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8)?,
        hex.get(8..12)?,
        hex.get(12..16)?,
        hex.get(16..20)?,
        hex.get(20..32)?
    ))
}

/// Judges 32 lower-case hex digits.
fn is_placeholder_uuid(hex: &[u8]) -> bool {
    let periodic = [1, 2, 4, 8]
        .into_iter()
        .any(|p| hex.iter().zip(hex.iter().skip(p)).all(|(a, b)| a == b));
    let nibble = |b: u8| char::from(b).to_digit(16).unwrap_or(0);
    let counting = hex
        .windows(2)
        .all(|w| nibble(w[1]) == (nibble(w[0]) + 1) % 16);
    let mut distinct = hex.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    periodic
        || counting
        || distinct.len() < 4
        || PLACEHOLDER_UUIDS.iter().any(|p| p.as_bytes() == hex)
}

/// At least three of one character and nothing else, which no real serial,
/// model or vendor is ("00" may still be a real BIOS revision).
fn is_one_repeated_char(folded: &str) -> bool {
    let mut chars = folded.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    chars.clone().all(|c| c == first) && chars.count() >= 2
}

/// Lower-case letters and digits only: "To Be Filled By O.E.M." becomes
/// "tobefilledbyoem".
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts() {
        let cases: &[(&str, Option<&str>)] = &[
            ("To Be Filled By O.E.M.", None),
            ("To be filled by O.E.M.\n", None),
            ("tobefilledbyoem", None),
            ("TO BE FILLED BY OEM", None),
            ("Default string", None),
            ("System Serial Number", None),
            ("System Product Name", None),
            ("System manufacturer", None),
            ("Not Specified", None),
            ("0123456789", None),
            ("None", None),
            ("N/A", None),
            ("O.E.M.", None),
            ("  ", None),
            ("", None),
            ("00000000", None),
            ("0000000000000000", None),
            ("FFFFFFFFFFFF", None),
            ("xxxxxxxxxxxx", None),
            ("..........", None),
            ("-", None),
            ("Dell Inc.", Some("Dell Inc.")),
            ("OptiPlex 3020", Some("OptiPlex 3020")),
            ("  5CG7281XYZ \n", Some("5CG7281XYZ")),
            ("American Megatrends Inc.", Some("American Megatrends Inc.")),
            ("A18", Some("A18")),
            ("HP", Some("HP")),
            ("00", Some("00")),
            ("ABC", Some("ABC")),
        ];
        for (raw, want) in cases {
            assert_eq!(text(raw).as_deref(), *want, "{raw:?}");
            assert_eq!(is_placeholder_text(raw), want.is_none(), "{raw:?}");
        }
    }

    #[test]
    fn serials() {
        let cases: &[(&str, bool)] = &[
            ("7XK9Q2J", false),
            ("CZC1234ABC", false),
            ("WD-WCC4N1234567", false),
            ("To Be Filled By O.E.M.", true),
            ("Default string", true),
            ("System Serial Number", true),
            ("0123456789", true),
            ("12345678", true),
            ("Not Specified", true),
            ("None", true),
            ("N/A", true),
            ("ABC", true),
            ("A-B-C", true),
            ("00000000", true),
            ("XXXXXXXXXX", true),
            ("........", true),
            ("", true),
        ];
        for (raw, junk) in cases {
            assert_eq!(is_placeholder_serial(raw), *junk, "{raw:?}");
        }
    }

    #[test]
    fn uuids() {
        let dell = Some("4c4c4544-0047-3710-8035-b7c04f4a4d32");
        let cases: &[(&str, Option<&str>)] = &[
            ("4C4C4544-0047-3710-8035-B7C04F4A4D32", dell),
            ("4c4c4544-0047-3710-8035-b7c04f4a4d32\n", dell),
            (" {4c4c4544-0047-3710-8035-b7c04f4a4d32} ", dell),
            ("4c4c4544004737108035b7c04f4a4d32", dell),
            (
                "00000000-0000-0000-0000-0019d1234567",
                Some("00000000-0000-0000-0000-0019d1234567"),
            ),
            ("4c4c454400473710 8035b7c04f4a4d32", None),
            ("00000000-0000-0000-0000-000000000000", None),
            ("FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", None),
            ("03000200-0400-0500-0006-000700080009", None),
            ("00020003-0004-0005-0006-000700080009", None),
            ("12345678-1234-5678-1234-567812345678", None),
            ("01010101-0101-0101-0101-010101010101", None),
            ("01234567-89ab-cdef-0123-456789abcdef", None),
            ("00000000-0000-0000-0000-000000000001", None),
            ("11111111-2222-1111-2222-111111112222", None),
            ("4c4c4544-0047-3710-8035", None),
            ("Not Settable", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(smbios_uuid(raw).as_deref(), *want, "{raw:?}");
        }
    }
}
