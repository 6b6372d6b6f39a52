//! Normalising firmware strings into identity keys, and refusing the
//! placeholders that cheap boards ship with (a placeholder shared by a
//! hundred PCs would merge them into one device).

/// UUIDs (32 hex digits, no dashes) known to be shared by many boards. The
/// first is the well-known value of cloned BIOS images (`03000200-0400-0500-
/// 0006-000700080009`), the second the same bytes in the other byte order.
const JUNK_UUIDS: &[&str] = &[
    "03000200040005000006000700080009",
    "00020003000400050006000700080009",
];

/// Serial placeholders, compared in folded form (lower-case letters and
/// digits only).
const JUNK_SERIALS: &[&str] = &[
    "tobefilledbyoem",
    "defaultstring",
    "systemserialnumber",
    "chassisserialnumber",
    "serialnumber",
    "0123456789",
    "123456789",
    "1234567890",
    "12345678",
    "notspecified",
    "notapplicable",
    "notavailable",
    "none",
    "null",
    "unknown",
    "invalid",
    "empty",
    "oem",
];

/// Vendor placeholders: the serial is then scoped to `unknown`.
const JUNK_VENDORS: &[&str] = &[
    "tobefilledbyoem",
    "systemmanufacturer",
    "defaultstring",
    "notspecified",
    "oem",
    "none",
    "unknown",
];

/// Words dropped from vendor names so that "Dell Inc." and "Dell Inc"
/// (Windows and Linux report the same firmware string slightly differently)
/// give the same scope.
const VENDOR_SUFFIXES: &[&str] = &[
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "co",
    "ltd",
    "limited",
    "llc",
    "gmbh",
    "ag",
    "plc",
];

/// The canonical lower-case hyphenated UUID, or `None` when `raw` is not a
/// UUID or is a placeholder: nil, all-F, a known cloned value, a repeating
/// pattern, a counting sequence or almost no distinct digits.
pub(super) fn uuid(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_start_matches('{').trim_end_matches('}');
    if !raw.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        return None;
    }
    let hex: Vec<u8> = raw
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    if hex.len() != 32 || is_junk_uuid(&hex) {
        return None;
    }
    let s = String::from_utf8(hex).ok()?;
    Some(format!(
        "{}-{}-{}-{}-{}",
        s.get(0..8)?,
        s.get(8..12)?,
        s.get(12..16)?,
        s.get(16..20)?,
        s.get(20..32)?
    ))
}

fn is_junk_uuid(hex: &[u8]) -> bool {
    let periodic = [1, 2, 4, 8]
        .into_iter()
        .any(|p| hex.iter().zip(&hex[p..]).all(|(a, b)| a == b));
    let nibble = |b: u8| (b as char).to_digit(16).unwrap_or(0);
    let counting = hex
        .windows(2)
        .all(|w| nibble(w[1]) == (nibble(w[0]) + 1) % 16);
    let mut distinct: Vec<u8> = hex.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    periodic
        || counting
        || distinct.len() < 4
        || JUNK_UUIDS.iter().any(|junk| junk.as_bytes() == hex)
}

/// The serial as stored (trimmed, upper-case, no inner spaces), or `None` for
/// a placeholder, anything shorter than 4 characters, or one repeated
/// character ("00000000", "XXXXXXX").
pub(super) fn serial(raw: &str) -> Option<String> {
    let serial: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_uppercase)
        .collect();
    let folded = fold(&serial);
    let mut chars = folded.chars();
    let first = chars.next()?;
    let repeated = chars.all(|c| c == first);
    let junk = serial.chars().count() < 4
        || folded.len() < 4
        || repeated
        || JUNK_SERIALS.contains(&folded.as_str());
    (!junk).then_some(serial)
}

/// The vendor's scope for serials, e.g. `dell`, `hp`, `lenovo`, `unknown`.
pub(super) fn vendor(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default().to_lowercase();
    if JUNK_VENDORS.contains(&fold(&raw).as_str()) {
        return "unknown".into();
    }
    let words: Vec<&str> = raw
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !VENDOR_SUFFIXES.contains(w))
        .collect();
    match words.concat().as_str() {
        "" => "unknown".into(),
        "hewlettpackard" => "hp".into(),
        other => other.into(),
    }
}

/// Lower-case letters and digits only: "To Be Filled By O.E.M." becomes
/// "tobefilledbyoem".
fn fold(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}
