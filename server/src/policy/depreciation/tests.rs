//! Depreciation figures computed by hand, as an accountant would.

use super::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn shipped() -> &'static Policy {
    Policy::shipped()
}

/// A desktop bought 15/03/2019 for 15,000,000 đ.
///
/// Under TT 23/2023 (and TT 45/2018 before it, same figures): life 5 years,
/// rate 20 %/year. Annual wear = 15,000,000 × 20 % = 3,000,000 đ, charged at
/// each 31 December, the entry year in full:
///
/// | year | wear      | accumulated | residual   |
/// |------|-----------|-------------|------------|
/// | 2019 | 3,000,000 |  3,000,000  | 12,000,000 |
/// | 2020 | 3,000,000 |  6,000,000  |  9,000,000 |
/// | 2021 | 3,000,000 |  9,000,000  |  6,000,000 |
/// | 2022 | 3,000,000 | 12,000,000  |  3,000,000 |
/// | 2023 | 3,000,000 | 15,000,000  |          0 |
/// | 2024 |         0 | 15,000,000  |          0 |  fully worn, still in use:
/// | 2025 |         0 | 15,000,000  |          0 |  stays at 0 (TT 23 Đ5.3)
///
/// On 31/12/2025 (TT 23): accumulated 15,000,000, residual 0. Service life
/// 5 years: ended 15/03/2024 → past (hết hạn sử dụng).
///
/// On 31/12/2026 (TT 141: 7 years, 14.29 %): the rule changes on
/// 01/01/2026 with residual 0 and 7 − 5 = 2 years left: 0 / 2 = 0 wear, so
/// accumulated 15,000,000, residual 0 (a worn asset is not revived). Service
/// life 7 years: ended 15/03/2026 → still past.
#[test]
fn the_2019_desktop_under_tt23_and_tt141() {
    let p = shipped();
    let cost = 15_000_000;
    let in_service = date(2019, 3, 15);
    let cases = [
        (date(2019, 12, 30), 0, 15_000_000),
        (date(2019, 12, 31), 3_000_000, 12_000_000),
        (date(2021, 12, 31), 9_000_000, 6_000_000),
        (date(2023, 12, 31), 15_000_000, 0),
        (date(2025, 12, 31), 15_000_000, 0),
        (date(2026, 12, 31), 15_000_000, 0),
    ];
    for (as_of, accumulated, residual) in cases {
        let w = wear(p, Category::Desktop, in_service, cost, as_of);
        assert!(w.fixed_asset);
        assert_eq!(
            (w.accumulated_vnd, w.residual_vnd),
            (accumulated, residual),
            "{as_of}"
        );
    }
    let w = wear(p, Category::Desktop, in_service, cost, date(2026, 12, 31));
    let years: Vec<(i32, &str, u64)> = w
        .years
        .iter()
        .map(|y| (y.year, y.regime.as_str(), y.wear_vnd))
        .collect();
    assert_eq!(years.len(), 8);
    assert_eq!(years[0], (2019, "tt23-2023", 3_000_000));
    assert_eq!(years[7], (2026, "tt141-2025", 0));

    let tt23 = service_life(p, Category::Desktop, in_service, date(2025, 12, 31));
    assert_eq!(
        (tt23.regime.as_str(), tt23.life_years, tt23.ends, tt23.state),
        ("tt23-2023", 5, date(2024, 3, 15), ServiceLife::Past)
    );
    let tt141 = service_life(p, Category::Desktop, in_service, date(2026, 12, 31));
    assert_eq!(
        (
            tt141.regime.as_str(),
            tt141.life_years,
            tt141.ends,
            tt141.state
        ),
        ("tt141-2025", 7, date(2026, 3, 15), ServiceLife::Past)
    );
}

/// A laptop bought 10/06/2023 for 20,000,000 đ straddles the change.
///
/// TT 23: 20,000,000 × 20 % = 4,000,000 đ/year for 2023, 2024, 2025 →
/// accumulated 12,000,000, residual 8,000,000 on 31/12/2025.
/// TT 141 from 2026: life 7 years, 3 already charged → 4 years left;
/// 8,000,000 / 4 = 2,000,000 đ/year for 2026–2029:
/// 31/12/2026: accumulated 14,000,000, residual 6,000,000;
/// 31/12/2029: accumulated 20,000,000, residual 0.
/// Service life under TT 141: 7 years → ends 10/06/2030; on 31/12/2029 it
/// ends within 12 months → `ends-soon`.
#[test]
fn a_rate_change_wears_the_residual_over_the_remaining_life() {
    let p = shipped();
    let in_service = date(2023, 6, 10);
    let cases = [
        (date(2025, 12, 31), 12_000_000, 8_000_000),
        (date(2026, 12, 31), 14_000_000, 6_000_000),
        (date(2028, 12, 31), 18_000_000, 2_000_000),
        (date(2029, 12, 31), 20_000_000, 0),
        (date(2031, 12, 31), 20_000_000, 0),
    ];
    for (as_of, accumulated, residual) in cases {
        let w = wear(p, Category::Laptop, in_service, 20_000_000, as_of);
        assert_eq!(
            (w.accumulated_vnd, w.residual_vnd),
            (accumulated, residual),
            "{as_of}"
        );
    }
    let s = service_life(p, Category::Laptop, in_service, date(2029, 12, 31));
    assert_eq!(
        (s.ends, s.state),
        (date(2030, 6, 10), ServiceLife::EndsSoon)
    );
}

/// 14.29 % × 7 = 100.03 %: six years of round(20,000,000 × 14.29 %) =
/// 2,858,000 đ (17,148,000), and the seventh takes the rest, 2,852,000 đ.
#[test]
fn the_last_year_takes_the_rounding_remainder() {
    let p = shipped();
    let w = wear(
        p,
        Category::Desktop,
        date(2026, 2, 1),
        20_000_000,
        date(2034, 12, 31),
    );
    let wears: Vec<u64> = w.years.iter().map(|y| y.wear_vnd).collect();
    assert_eq!(
        wears[..7],
        [
            2_858_000, 2_858_000, 2_858_000, 2_858_000, 2_858_000, 2_858_000, 2_852_000
        ]
    );
    assert_eq!(w.residual_vnd, 0);
}

/// A printer for 4,500,000 đ is a tool (< 10,000,000 đ): no wear, but its
/// service life still ends (TT 141: 7 years from 01/07/2018 = 01/07/2025).
#[test]
fn a_cheap_printer_gets_a_service_life_test_and_no_wear() {
    let p = shipped();
    let in_service = date(2018, 7, 1);
    let w = wear(
        p,
        Category::Printer,
        in_service,
        4_500_000,
        date(2026, 12, 31),
    );
    assert!(!w.fixed_asset);
    assert_eq!(
        (w.accumulated_vnd, w.residual_vnd, w.years.len()),
        (0, 4_500_000, 0)
    );
    let s = service_life(p, Category::Printer, in_service, date(2026, 12, 31));
    assert_eq!(
        (s.life_years, s.ends, s.state),
        (7, date(2025, 7, 1), ServiceLife::Past)
    );
    // Exactly at the threshold it is a fixed asset.
    assert!(
        wear(
            p,
            Category::Printer,
            in_service,
            10_000_000,
            date(2026, 12, 31)
        )
        .fixed_asset
    );
}

/// +20 %: TT 23's 5 years become 6 (16.67 %/year), TT 141's 7 become 8
/// (8.4 rounded; 12.5 %/year). The 2019 desktop: 15,000,000 × 16.67 % =
/// 2,500,500 đ/year; 2019–2023 = 12,502,500; 2024 takes the rest, 2,497,500.
/// Its service life under TT 141 +20 % is 8 years: ends 15/03/2027, so on
/// 31/12/2026 it ends within 12 months instead of being past.
#[test]
fn a_province_adjustment_changes_the_life() {
    let text = crate::policy::SHIPPED.replacen(
        "life-adjustment-percent = 0",
        "life-adjustment-percent = 20",
        1,
    );
    let p = Policy::parse(&text, "t").expect("valid");
    let in_service = date(2019, 3, 15);
    let w = wear(
        &p,
        Category::Desktop,
        in_service,
        15_000_000,
        date(2023, 12, 31),
    );
    assert_eq!((w.accumulated_vnd, w.residual_vnd), (12_502_500, 2_497_500));
    let w = wear(
        &p,
        Category::Desktop,
        in_service,
        15_000_000,
        date(2024, 12, 31),
    );
    assert_eq!(w.residual_vnd, 0);
    let s = service_life(&p, Category::Desktop, in_service, date(2026, 12, 31));
    assert_eq!(
        (s.life_years, s.ends, s.state),
        (8, date(2027, 3, 15), ServiceLife::EndsSoon)
    );
    let down = crate::policy::SHIPPED.replacen(
        "life-adjustment-percent = 0",
        "life-adjustment-percent = -20",
        1,
    );
    let p = Policy::parse(&down, "t").expect("valid");
    // −20 %: 7 → 5.6 → 6 years.
    assert_eq!(
        service_life(&p, Category::Desktop, in_service, date(2026, 12, 31)).life_years,
        6
    );
}

#[test]
fn next_year_convention_starts_wear_a_year_later() {
    let text = crate::policy::SHIPPED.replacen(
        "first-year-wear = \"full\"",
        "first-year-wear = \"next-year\"",
        1,
    );
    let p = Policy::parse(&text, "t").expect("valid");
    let w = wear(
        &p,
        Category::Desktop,
        date(2019, 3, 15),
        15_000_000,
        date(2019, 12, 31),
    );
    assert_eq!(w.accumulated_vnd, 0);
    let w = wear(
        &p,
        Category::Desktop,
        date(2019, 3, 15),
        15_000_000,
        date(2020, 12, 31),
    );
    assert_eq!(w.accumulated_vnd, 3_000_000);
}
