//! Parses the 128-byte EDID base block a monitor hands the graphics card:
//! manufacturer, product code, serial, model name and year of manufacture,
//! the monitor's evidence of age. Pure, so the Linux reader (sysfs `edid`
//! files) and tests share it; Windows gets the same fields from WMI.
//!
//! Layout (VESA E-EDID 1.3/1.4): bytes 0-7 header, 8-9 manufacturer (three
//! packed 5-bit letters, big-endian), 10-11 product code (little-endian),
//! 12-15 serial number (little-endian, 0 = none), 16 week, 17 year - 1990,
//! 54-125 four 18-byte descriptors.

use kiemke_shared::firmware;
use kiemke_shared::inventory::Monitor;

const HEADER: [u8; 8] = [0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00];
const BLOCK_LEN: usize = 128;
const DESCRIPTORS: [usize; 4] = [54, 72, 90, 108];
const TAG_SERIAL: u8 = 0xFF;
const TAG_NAME: u8 = 0xFC;

/// Parses an EDID base block; `None` when it is too short or has no EDID
/// header. The connector is left for the caller to fill in.
pub fn parse(bytes: &[u8]) -> Option<Monitor> {
    let block = bytes.get(..BLOCK_LEN)?;
    if block.get(..8)? != HEADER {
        return None;
    }
    let numeric_serial = u32::from_le_bytes([block[12], block[13], block[14], block[15]]);
    Some(Monitor {
        manufacturer: manufacturer([block[8], block[9]]),
        model: descriptor_text(block, TAG_NAME),
        product_code: Some(u16::from_le_bytes([block[10], block[11]])),
        serial: descriptor_text(block, TAG_SERIAL)
            .or_else(|| (numeric_serial != 0).then(|| numeric_serial.to_string())),
        // With week 0xFF, byte 17 is the model year: still a year, still
        // evidence of age.
        year: (block[17] != 0).then(|| 1990 + u16::from(block[17])),
        connector: None,
    })
}

/// Decodes the three-letter PNP id (`DEL`, `SAM`, `HWP`): 5 bits each,
/// 1 = `A`.
fn manufacturer(raw: [u8; 2]) -> Option<String> {
    let packed = u16::from_be_bytes(raw);
    [10u16, 5, 0]
        .iter()
        .map(|shift| {
            let code = ((packed >> shift) & 0x1F) as u8;
            (1..=26)
                .contains(&code)
                .then(|| char::from(b'A' + code - 1))
        })
        .collect()
}

/// The text of the first display descriptor with this tag: up to 13 bytes,
/// ended by 0x0A and padded with spaces.
fn descriptor_text(block: &[u8], tag: u8) -> Option<String> {
    DESCRIPTORS.iter().find_map(|&offset| {
        let d = block.get(offset..offset + 18)?;
        let is_display_descriptor = d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == tag;
        if !is_display_descriptor {
            return None;
        }
        let text = &d[5..];
        let end = text.iter().position(|&b| b == 0x0A).unwrap_or(text.len());
        let ascii: String = text[..end]
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect();
        firmware::text(&ascii)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a valid EDID base block (header, ids, descriptors, checksum)
    /// like a Dell P2219H's.
    pub(crate) fn edid_block(
        pnp: &str,
        product: u16,
        numeric_serial: u32,
        week: u8,
        year: u16,
        name: Option<&str>,
        serial_text: Option<&str>,
    ) -> Vec<u8> {
        let mut b = vec![0u8; 128];
        b[..8].copy_from_slice(&HEADER);
        let letters: Vec<u16> = pnp.bytes().map(|c| u16::from(c - b'A' + 1)).collect();
        let packed = (letters[0] << 10) | (letters[1] << 5) | letters[2];
        b[8..10].copy_from_slice(&packed.to_be_bytes());
        b[10..12].copy_from_slice(&product.to_le_bytes());
        b[12..16].copy_from_slice(&numeric_serial.to_le_bytes());
        b[16] = week;
        b[17] = u8::try_from(year - 1990).expect("year in range");
        b[18] = 1;
        b[19] = 4; // EDID 1.4
        // Descriptor 1: a detailed timing (1920x1080@60, pixel clock 148.5 MHz).
        b[54..56].copy_from_slice(&14850u16.to_le_bytes());
        let mut put = |offset: usize, tag: u8, text: &str| {
            b[offset + 3] = tag;
            let mut bytes = text.as_bytes().to_vec();
            if bytes.len() < 13 {
                bytes.push(0x0A);
            }
            bytes.resize(13, 0x20);
            b[offset + 5..offset + 18].copy_from_slice(&bytes);
        };
        if let Some(serial) = serial_text {
            put(72, TAG_SERIAL, serial);
        }
        put(90, 0xFD, "");
        if let Some(name) = name {
            put(108, TAG_NAME, name);
        }
        let sum = b[..127].iter().fold(0u8, |acc, x| acc.wrapping_add(*x));
        b[127] = 0u8.wrapping_sub(sum);
        b
    }

    #[test]
    fn parses_a_dell_monitor() {
        let bytes = edid_block(
            "DEL",
            0xA0C1,
            0x3032_4C41,
            12,
            2019,
            Some("DELL P2219H"),
            Some("5KZ3T93"),
        );
        assert_eq!(bytes.iter().fold(0u8, |a, x| a.wrapping_add(*x)), 0);
        let monitor = parse(&bytes).expect("valid EDID");
        assert_eq!(
            monitor,
            Monitor {
                manufacturer: Some("DEL".into()),
                model: Some("DELL P2219H".into()),
                product_code: Some(0xA0C1),
                serial: Some("5KZ3T93".into()),
                year: Some(2019),
                connector: None,
            }
        );
    }

    #[test]
    fn numeric_serial_and_model_year() {
        // Samsung, no serial descriptor, week 0xFF: byte 17 is a model year.
        let bytes = edid_block("SAM", 0x0E5A, 1_129_001_264, 0xFF, 2014, None, None);
        let monitor = parse(&bytes).expect("valid EDID");
        assert_eq!(monitor.manufacturer.as_deref(), Some("SAM"));
        assert_eq!(monitor.model, None);
        assert_eq!(monitor.serial.as_deref(), Some("1129001264"));
        assert_eq!(monitor.year, Some(2014));
    }

    #[test]
    fn no_serial_at_all_and_a_full_length_name() {
        let bytes = edid_block("HWP", 0x3344, 0, 1, 2011, Some("HP LE2002x 20"), None);
        let monitor = parse(&bytes).expect("valid EDID");
        assert_eq!(monitor.serial, None);
        assert_eq!(monitor.model.as_deref(), Some("HP LE2002x 20"));
        assert_eq!(monitor.manufacturer.as_deref(), Some("HWP"));
    }

    #[test]
    fn extension_blocks_are_ignored() {
        let mut bytes = edid_block("GSM", 0x5B08, 0, 10, 2016, Some("LG FULL HD"), None);
        bytes.extend_from_slice(&[0x02; 128]);
        assert_eq!(
            parse(&bytes).and_then(|m| m.model).as_deref(),
            Some("LG FULL HD")
        );
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(parse(&[]), None);
        assert_eq!(parse(&HEADER), None, "short");
        let mut bytes = edid_block("DEL", 1, 0, 1, 2019, None, None);
        bytes[1] = 0x00;
        assert_eq!(parse(&bytes), None, "bad header");
        assert_eq!(parse(&[0xAB; 256]), None);
    }
}
