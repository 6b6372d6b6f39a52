//! Amounts in Vietnamese words, as the "Bằng chữ: …" line of a Tờ trình
//! writes them: "Ba trăm mười hai triệu đồng chẵn".
//!
//! The readings are the ones finance offices write:
//! - digits: không, một, hai, ba, bốn, năm, sáu, bảy, tám, chín;
//! - tens: "mười" for 10–19, "… mươi" from 20; a unit after "mươi" reads
//!   "mốt" for 1 ("hai mươi mốt"), and after any ten 5 reads "lăm" ("mười
//!   lăm", "hai mươi lăm"); 4 stays "bốn" ("hai mươi bốn": the colloquial
//!   "tư" is not used in documents);
//! - a unit straight after the hundreds reads with "linh" by default
//!   ("một trăm linh một"; [`ZeroTen::Le`] gives the southern "lẻ");
//! - groups of three: nghìn, triệu, tỷ; above a tỷ the count of tỷ is read
//!   again ("một nghìn tỷ", "một tỷ tỷ");
//! - a group after a higher one is read in full, hundreds included ("một
//!   nghìn không trăm linh năm", "một triệu không trăm mười lăm"); groups of
//!   zeros are left out ("một triệu không trăm linh một").
//!
//! No maintained crate reads Vietnamese numbers this way (the general
//! number-to-words crates have no Vietnamese), so this is ours.

const DIGITS: [&str; 10] = [
    "không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín",
];

const BILLION: u64 = 1_000_000_000;

/// How a unit straight after the hundreds is joined ("một trăm linh một").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ZeroTen {
    /// "linh": the northern and official reading, our default.
    #[default]
    Linh,
    /// "lẻ": the southern reading.
    Le,
}

impl ZeroTen {
    fn word(self) -> &'static str {
        match self {
            ZeroTen::Linh => "linh",
            ZeroTen::Le => "lẻ",
        }
    }
}

/// `n` in words, lower case: 1005 → "một nghìn không trăm linh năm".
pub fn number(n: u64) -> String {
    number_with(n, ZeroTen::Linh)
}

/// [`number`] with the chosen reading of a unit after the hundreds.
pub fn number_with(n: u64, zero_ten: ZeroTen) -> String {
    if n == 0 {
        return DIGITS[0].to_owned();
    }
    let mut words = Vec::new();
    read(n, false, zero_ten, &mut words);
    words.join(" ")
}

/// The "Bằng chữ" text of an amount in đồng, capitalised:
/// 312 000 000 → "Ba trăm mười hai triệu đồng chẵn".
pub fn amount_vnd(n: u64) -> String {
    let text = format!("{} đồng chẵn", number(n));
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

/// Appends the words of `n` (> 0). `full`: the number follows a higher
/// part, so its first group is read with its hundreds ("không trăm …").
fn read(n: u64, full: bool, zero_ten: ZeroTen, out: &mut Vec<&'static str>) {
    if n >= BILLION {
        read(n / BILLION, full, zero_ten, out);
        out.push("tỷ");
        let rest = n % BILLION;
        if rest > 0 {
            read(rest, true, zero_ten, out);
        }
        return;
    }
    let groups = [
        (n / 1_000_000, "triệu"),
        ((n / 1000) % 1000, "nghìn"),
        (n % 1000, ""),
    ];
    let mut started = full;
    for (group, unit) in groups {
        if group == 0 {
            continue;
        }
        read_group(group, started, zero_ten, out);
        if !unit.is_empty() {
            out.push(unit);
        }
        started = true;
    }
}

/// One group of three digits (1..=999). `full`: read the hundreds even when
/// zero, because a higher group came before.
fn read_group(g: u64, full: bool, zero_ten: ZeroTen, out: &mut Vec<&'static str>) {
    let (h, t, u) = (
        (g / 100) as usize,
        ((g / 10) % 10) as usize,
        (g % 10) as usize,
    );
    let hundreds = h > 0 || full;
    if hundreds {
        out.extend([DIGITS[h], "trăm"]);
    }
    match t {
        0 => {
            if u > 0 && hundreds {
                out.push(zero_ten.word());
            }
        }
        1 => out.push("mười"),
        _ => out.extend([DIGITS[t], "mươi"]),
    }
    match (t, u) {
        (_, 0) => {}
        (2.., 1) => out.push("mốt"),
        (1.., 5) => out.push("lăm"),
        _ => out.push(DIGITS[u]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_finance_offices_write_them() {
        let cases: &[(u64, &str)] = &[
            (0, "không"),
            (1, "một"),
            (5, "năm"),
            (10, "mười"),
            (11, "mười một"),
            (14, "mười bốn"),
            (15, "mười lăm"),
            (20, "hai mươi"),
            (21, "hai mươi mốt"),
            (24, "hai mươi bốn"),
            (25, "hai mươi lăm"),
            (55, "năm mươi lăm"),
            (99, "chín mươi chín"),
            (100, "một trăm"),
            (101, "một trăm linh một"),
            (105, "một trăm linh năm"),
            (110, "một trăm mười"),
            (111, "một trăm mười một"),
            (115, "một trăm mười lăm"),
            (121, "một trăm hai mươi mốt"),
            (1_000, "một nghìn"),
            (1_005, "một nghìn không trăm linh năm"),
            (1_010, "một nghìn không trăm mười"),
            (1_100, "một nghìn một trăm"),
            (10_000, "mười nghìn"),
            (15_000, "mười lăm nghìn"),
            (21_000, "hai mươi mốt nghìn"),
            (110_000, "một trăm mười nghìn"),
            (1_000_000, "một triệu"),
            (1_000_001, "một triệu không trăm linh một"),
            (1_000_015, "một triệu không trăm mười lăm"),
            (1_001_000, "một triệu không trăm linh một nghìn"),
            (13_000_000, "mười ba triệu"),
            (20_000_000, "hai mươi triệu"),
            (312_000_000, "ba trăm mười hai triệu"),
            (1_000_000_000, "một tỷ"),
            (1_000_000_005, "một tỷ không trăm linh năm"),
            (1_050_000_000, "một tỷ không trăm năm mươi triệu"),
            (
                1_250_500_000,
                "một tỷ hai trăm năm mươi triệu năm trăm nghìn",
            ),
            (1_000_000_000_000, "một nghìn tỷ"),
            (
                2_345_678_901_234,
                "hai nghìn ba trăm bốn mươi lăm tỷ sáu trăm bảy mươi tám triệu chín trăm linh một nghìn hai trăm ba mươi bốn",
            ),
            (1_000_000_000_000_000_000, "một tỷ tỷ"),
            (
                u64::MAX,
                "mười tám tỷ bốn trăm bốn mươi sáu triệu bảy trăm bốn mươi bốn nghìn không trăm bảy mươi ba tỷ bảy trăm linh chín triệu năm trăm năm mươi mốt nghìn sáu trăm mười lăm",
            ),
        ];
        for (n, words) in cases {
            assert_eq!(number(*n), *words, "{n}");
        }
    }

    #[test]
    fn le_is_selectable() {
        assert_eq!(number_with(101, ZeroTen::Le), "một trăm lẻ một");
        assert_eq!(
            number_with(1_005, ZeroTen::Le),
            "một nghìn không trăm lẻ năm"
        );
    }

    #[test]
    fn amounts_are_capitalised_whole_dong() {
        assert_eq!(amount_vnd(312_000_000), "Ba trăm mười hai triệu đồng chẵn");
        assert_eq!(amount_vnd(0), "Không đồng chẵn");
        assert_eq!(
            amount_vnd(1_250_500_000),
            "Một tỷ hai trăm năm mươi triệu năm trăm nghìn đồng chẵn"
        );
    }
}
