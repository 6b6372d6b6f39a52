//! Normalising firmware strings into identity keys. Which values are
//! placeholders (a placeholder shared by a hundred PCs would merge them into
//! one device) is decided by [`kiemke_shared::firmware`], the same judgement
//! the agent applies; the server asks again because it cannot trust every
//! agent to have. What stays here is identity-specific: the stored form of a
//! serial and the vendor scope it lives in.

use kiemke_shared::firmware;

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
/// UUID or is a placeholder.
pub(super) fn uuid(raw: &str) -> Option<String> {
    firmware::smbios_uuid(raw)
}

/// The serial as stored (upper-case, no blanks anywhere), or `None` for a
/// placeholder or anything too short to tell machines apart.
pub(super) fn serial(raw: &str) -> Option<String> {
    let serial: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_uppercase)
        .collect();
    (!firmware::is_placeholder_serial(&serial)).then_some(serial)
}

/// The vendor's scope for serials, e.g. `dell`, `hp`, `lenovo`, `unknown`.
pub(super) fn vendor(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or_default().to_lowercase();
    if firmware::is_placeholder_text(&raw) {
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
