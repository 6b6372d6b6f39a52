//! The create form's fields: read as typed (kept to show again on a
//! refusal), then turned into the API's [`CreateBody`] — the dates and
//! amounts as people type them ("02/07/2026", "18.000.000"), a price per
//! norm item with its reason above the norm, the communes ticked — or a
//! message saying what to fix, in both languages.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use kiemke_shared::CommuneCode;

use super::{CreateBody, MAX_COMMUNES};
use crate::policy::norms::Norms;
use crate::proposal::PriceOverride;
use crate::proposal::prices::LINE_UPGRADE_KEY;

/// The most fields a form may send (prices, reasons, one per commune
/// ticked, and the rest).
pub const MAX_FIELDS: usize = MAX_COMMUNES + 200;
/// The longest value of a field kept to show again.
const MAX_FIELD_CHARS: usize = 600;

/// A form's fields as sent, in order (communes repeat).
pub type Fields = Vec<(String, String)>;

/// What the create form holds, as typed (to show again on a refusal).
#[derive(Debug, Clone, Default)]
pub struct Entered {
    pub include_watch: bool,
    pub number: String,
    pub date: String,
    /// Consolidation: `all` or `selected`.
    pub scope: String,
    pub communes: Vec<String>,
    /// Item key → (unit price, reason above the norm).
    pub prices: BTreeMap<String, (String, String)>,
}

pub fn clip(s: &str) -> String {
    s.chars().take(MAX_FIELD_CHARS).collect()
}

/// Reads the fields; `Err` names what is wrong (vi, en).
pub fn entered(fields: &Fields) -> Result<Entered, (String, String)> {
    if fields.len() > MAX_FIELDS {
        return Err((
            format!("Biểu mẫu có quá nhiều trường (tối đa {MAX_FIELDS})."),
            format!("The form has too many fields (at most {MAX_FIELDS})."),
        ));
    }
    let mut e = Entered {
        scope: "all".into(),
        ..Entered::default()
    };
    for (name, value) in fields {
        let value = clip(value);
        match name.as_str() {
            "include_watch" => e.include_watch = !value.is_empty(),
            "number" => e.number = value,
            "date" => e.date = value,
            "scope" => e.scope = value,
            "commune" => e.communes.push(value),
            other => {
                if let Some(key) = other.strip_prefix("price_") {
                    e.prices.entry(key.to_owned()).or_default().0 = value;
                } else if let Some(key) = other.strip_prefix("reason_") {
                    e.prices.entry(key.to_owned()).or_default().1 = value;
                }
                // Other fields (the CSRF token, checked before) are ignored.
            }
        }
    }
    Ok(e)
}

/// "18.000.000", "18 000 000" or "18000000" đồng.
fn parse_price(text: &str) -> Option<u64> {
    let digits: String = text
        .chars()
        .filter(|c| !matches!(c, '.' | ' ' | '\u{a0}'))
        .collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// "2026-07-02" (what a date field sends) or "02/07/2026".
fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

/// The API's request from the form; `Err` says what to fix (vi, en).
pub fn request(
    e: &Entered,
    norms: &Norms,
    commune: Option<&CommuneCode>,
) -> Result<CreateBody, (String, String)> {
    let number = e.number.trim();
    let date = match e.date.trim() {
        "" => None,
        text => Some(parse_date(text).ok_or_else(|| {
            (
                format!(
                    "Ngày tờ trình \"{text}\" không đúng dạng ngày/tháng/năm, ví dụ 02/07/2026."
                ),
                format!("The date \"{text}\" is not a date such as 2026-07-02."),
            )
        })?),
    };
    let mut prices = Vec::new();
    for (key, (price, reason)) in &e.prices {
        let name = norms
            .item(key)
            .map(|i| i.name_vi.clone())
            .or_else(|| (key == LINE_UPGRADE_KEY).then(|| norms.line_upgrade.name_vi.clone()));
        let Some(name) = name else {
            return Err((
                format!("Không có mục \"{}\" trong định mức.", clip(key)),
                format!("There is no item \"{}\" in the norms.", clip(key)),
            ));
        };
        let (price, reason) = (price.trim(), reason.trim());
        if price.is_empty() {
            if !reason.is_empty() {
                return Err((
                    format!(
                        "{name}: lý do vượt định mức chỉ dùng khi đặt đơn giá; hãy nhập đơn giá \
                         hoặc xóa lý do."
                    ),
                    format!(
                        "{name}: a reason goes with a unit price; enter one or clear the reason."
                    ),
                ));
            }
            continue;
        }
        let Some(unit_price_vnd) = parse_price(price) else {
            return Err((
                format!("{name}: đơn giá \"{price}\" không phải số đồng (ví dụ 18.000.000)."),
                format!(
                    "{name}: the unit price \"{price}\" is not an amount in đồng (e.g. 18000000)."
                ),
            ));
        };
        prices.push(PriceOverride {
            item: key.clone(),
            unit_price_vnd,
            above_norm_reason: (!reason.is_empty()).then(|| reason.to_owned()),
        });
    }
    let communes = if commune.is_none() && e.scope == "selected" {
        if e.communes.is_empty() {
            return Err((
                "Hãy chọn ít nhất một xã, phường, hoặc chọn tất cả.".into(),
                "Tick at least one commune, or choose all of them.".into(),
            ));
        }
        e.communes
            .iter()
            .map(|c| {
                CommuneCode::parse(c.trim()).map_err(|_| {
                    (
                        format!("Mã xã phải gồm 5 chữ số, nhận được \"{}\".", clip(c)),
                        format!("A commune code is 5 digits, got \"{}\".", clip(c)),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };
    Ok(CreateBody {
        commune: commune.cloned(),
        province: commune.is_none(),
        communes,
        include_watch: e.include_watch,
        number: (!number.is_empty()).then(|| number.to_owned()),
        date,
        prices,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn prices_and_dates_read_as_people_type_them() {
        for (text, want) in [
            ("18.000.000", Some(18_000_000)),
            ("18 000 000", Some(18_000_000)),
            ("18000000", Some(18_000_000)),
            ("0", Some(0)),
            ("18,5", None),
            ("-1", None),
            ("", None),
            ("mười", None),
        ] {
            assert_eq!(parse_price(text), want, "{text}");
        }
        let d = NaiveDate::from_ymd_opt(2026, 7, 2);
        assert_eq!(parse_date("2026-07-02"), d);
        assert_eq!(parse_date("02/07/2026"), d);
        assert_eq!(parse_date("2026-13-02"), None);
    }

    #[test]
    fn the_form_becomes_the_apis_request_or_says_what_to_fix() {
        let norms = Policy::shipped().norms().clone();
        let code = CommuneCode::parse("24118").expect("code");
        let read = |pairs: &[(&str, &str)], commune: Option<&CommuneCode>| {
            request(&entered(&fields(pairs)).expect("fields"), &norms, commune)
        };
        let body = read(
            &[
                ("csrf", "x"),
                ("include_watch", "on"),
                ("number", " 7/TTr-UBND "),
                ("date", "2026-07-02"),
                ("price_desktop", "18.000.000"),
                ("reason_desktop", ""),
                ("price_scanner", ""),
                ("price_printer", "15.000.000"),
                ("reason_printer", "Máy in khổ A3"),
            ],
            Some(&code),
        )
        .expect("valid");
        assert_eq!(body.commune, Some(code.clone()));
        assert!(!body.province && body.include_watch);
        assert_eq!(body.number.as_deref(), Some("7/TTr-UBND"));
        assert_eq!(body.date, NaiveDate::from_ymd_opt(2026, 7, 2));
        assert_eq!(body.prices.len(), 2);
        let printer = body.prices.iter().find(|p| p.item == "printer");
        assert_eq!(
            printer.and_then(|p| p.above_norm_reason.as_deref()),
            Some("Máy in khổ A3")
        );

        let all = read(&[("scope", "all"), ("commune", "24118")], None).expect("all");
        assert!(all.province && all.communes.is_empty());
        let some = read(&[("scope", "selected"), ("commune", "24118")], None).expect("some");
        assert_eq!(some.communes, vec![code.clone()]);

        for (pairs, says) in [
            (vec![("date", "31/02/2026")], "31/02/2026"),
            (vec![("price_desktop", "mười triệu")], "mười triệu"),
            (vec![("price_server", "1")], "server"),
            (vec![("reason_desktop", "vì sao")], "lý do"),
            (vec![("scope", "selected")], "ít nhất một xã"),
            (vec![("scope", "selected"), ("commune", "2411")], "2411"),
        ] {
            let commune = pairs.iter().all(|(k, _)| *k != "scope").then_some(&code);
            let (vi, en) = read(&pairs, commune).expect_err("refused");
            assert!(vi.contains(says), "{pairs:?}: {vi}");
            assert!(!en.is_empty());
        }
        let many: Vec<(&str, &str)> = vec![("commune", "24118"); MAX_FIELDS + 1];
        assert!(entered(&fields(&many)).is_err());
    }
}
