//! The policy file: the shipped one is valid; invalid ones are refused with
//! the line and the field.

use super::*;

#[test]
fn the_shipped_policy_is_valid() {
    let policy = Policy::parse(SHIPPED, "kiemke-policy.toml").expect("valid");
    assert_eq!(policy.file.life.len(), 2);
    let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let (v, life) = policy.life_on(Category::Desktop, date(2025, 12, 31));
    assert_eq!(
        (v.id.as_str(), life.years, life.rate_bp),
        ("tt23-2023", 5, 2000)
    );
    let (v, life) = policy.life_on(Category::Desktop, date(2026, 1, 1));
    assert_eq!(
        (v.id.as_str(), life.years, life.rate_bp),
        ("tt141-2025", 7, 1429)
    );
    let (_, life) = policy.life_on(Category::NetworkGear, date(2026, 1, 1));
    assert_eq!((life.years, life.rate_bp), (5, 2000));
    // The first version also covers the years before it.
    assert_eq!(policy.version_on(date(2015, 6, 1)).id, "tt23-2023");
    assert_eq!(
        policy
            .file
            .line_targets
            .for_site(Some(kiemke_shared::SiteKind::ServiceCenter)),
        200
    );
    assert_eq!(policy.file.line_targets.for_site(None), 100);
}

/// (what to change in the shipped file, the field named, the line named)
#[test]
fn invalid_files_name_the_line_and_the_field() {
    let line_of = |needle: &str| {
        SHIPPED
            .lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
            .expect("needle in shipped file")
    };
    let cases = [
        (
            (
                "life-adjustment-percent = 0",
                "life-adjustment-percent = 30",
            ),
            "assets.life-adjustment-percent",
            line_of("life-adjustment-percent"),
            "±20",
        ),
        (
            ("watch-window-months = 12", "watch-window-monts = 12"),
            "assets",
            line_of("watch-window-months"),
            "unknown field",
        ),
        (
            (
                "desktop = { years = 7, rate-percent = 14.29 }",
                "desktop = { years = 7, rate-percent = 20 }",
            ),
            "life[1].categories.desktop",
            line_of("desktop = { years = 7"),
            "years × rate-percent",
        ),
        (
            ("from = \"2026-01-01\"", "from = \"2026-02-01\""),
            "life[1].from",
            line_of("from = \"2026-01-01\""),
            "ngay sau",
        ),
        (
            (
                "severity = \"warning\"\napplies-to = [\"desktop\", \"laptop\", \"tablet\"]",
                "severity = \"fatal\"\napplies-to = [\"desktop\", \"laptop\", \"tablet\"]",
            ),
            "rules.os-end-of-support.severity",
            line_of("vi = \"Hệ điều hành") - 2,
            "unknown variant",
        ),
    ];
    for ((from, to), field, line, words) in cases {
        let text = SHIPPED.replacen(from, to, 1);
        assert_ne!(text, SHIPPED, "{from}");
        let err = Policy::parse(&text, "test.toml").expect_err(field);
        let PolicyError::Invalid {
            field: got,
            line: got_line,
            message,
            ..
        } = &err
        else {
            panic!("{err}");
        };
        assert!(got.starts_with(field), "{field}: {err}");
        assert_eq!(*got_line, Some(line), "{field}: {err}");
        let vi = err.message(Lang::Vi);
        assert!(
            vi.contains(&format!("dòng {line}")) && vi.contains(field),
            "{vi}"
        );
        assert!(
            message.contains(words) || vi.contains(words),
            "{field}: {vi}"
        );
    }
}

#[test]
fn toml_dates_and_adjustments() {
    let text = SHIPPED
        .replacen("until = \"2025-12-31\"", "until = 2025-12-31", 1)
        .replacen(
            "life-adjustment-percent = 0",
            "life-adjustment-percent = 20",
            1,
        );
    let policy = Policy::parse(&text, "t").expect("unquoted TOML dates work");
    let date = NaiveDate::from_ymd_opt(2025, 1, 1).expect("date");
    // +20 %: 5 years → 6 years (16.67 %); 7 → 8.4 → 8 years (12.5 %).
    let (_, life) = policy.life_on(Category::Desktop, date);
    assert_eq!((life.years, life.rate_bp), (6, 1667));
    let (_, life) = policy.life_on(Category::Desktop, date.with_year(2026).expect("date"));
    assert_eq!((life.years, life.rate_bp), (8, 1250));
    assert_ne!(policy.fingerprint, Policy::shipped().fingerprint);
}

#[test]
fn docs_policy_md_explains_every_rule_and_regime() {
    let doc = include_str!("../../../docs/policy.md");
    let policy = Policy::shipped();
    for version in &policy.file.life {
        assert!(doc.contains(&format!("`{}`", version.id)), "{}", version.id);
    }
    for c in Category::ALL {
        assert!(doc.contains(&format!("`{}`", c.key())), "{c}");
    }
    for rule in [
        "service-life",
        "os-end-of-support",
        "cpu-windows11",
        "tpm2",
        "ram-min",
        "system-disk-ssd",
        "cpu-threads",
        "nic-line-target",
        "printer-page-count",
        "supplies-errors",
    ] {
        assert!(doc.contains(&format!("`{rule}`")), "{rule}");
        assert!(SHIPPED.contains(&format!("[rules.{rule}]")), "{rule}");
    }
}

#[test]
fn the_shipped_policy_has_norms() {
    let policy = Policy::parse(SHIPPED, "kiemke-policy.toml").expect("valid");
    let norms = policy.file.norms.as_ref().expect("a [norms] section");
    let max = |key: &str| norms.item(key).map(|i| i.max_price_vnd);
    assert_eq!(max("desktop"), Some(20_000_000));
    assert_eq!(max("laptop"), Some(25_000_000));
    assert_eq!(max("printer"), Some(13_000_000));
    assert_eq!(max("scanner"), Some(22_000_000));
    assert_eq!(max("photocopier"), Some(110_000_000));
    assert_eq!(max("shredder"), Some(10_000_000));
    assert_eq!(
        norms.item("printer").and_then(|i| i.staff_per_unit),
        Some(3)
    );
    assert_eq!(
        norms.item("scanner").and_then(|i| i.staff_per_unit),
        Some(15)
    );
    assert_eq!(
        norms.replacing(Category::Mfp).map(|i| i.key.as_str()),
        Some("printer")
    );
    // A file without norms uses the shipped ones; a price above its
    // maximum is refused naming the field.
    let without = SHIPPED.split("\n[norms]").next().expect("text");
    let policy = Policy::parse(without, "no-norms.toml").expect("valid");
    assert_eq!(policy.norms(), norms);
    let over = SHIPPED.replace(
        "max-price-vnd = 13000000",
        "max-price-vnd = 13000000\nprice-vnd = 14000000",
    );
    let err = Policy::parse(&over, "over.toml")
        .expect_err("refused")
        .to_string();
    assert!(err.contains("norms.items[2].price-vnd"), "{err}");
}
