use std::collections::BTreeMap;

use chrono::NaiveDate;
use kiemke_shared::{CommuneCode, DeviceId, SiteCode, SiteKind};

use super::*;
use crate::policy::{Policy, Status};
use crate::proposal::input::{LineReading, ReasonInput, Scope};
use crate::proposal::prices::{self, PriceOverride};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn site(code: &str, kind: SiteKind, staff: Option<u32>, held: &[(Category, u32)]) -> SiteInput {
    SiteInput {
        code: Some(SiteCode::parse(code).expect("site")),
        name: kind.label(kiemke_shared::Lang::Vi).to_owned(),
        kind: Some(kind),
        staff,
        held: held.iter().copied().collect::<BTreeMap<_, _>>(),
        line_target_mbps: if kind == SiteKind::ServiceCenter {
            200
        } else {
            100
        },
        line: None,
    }
}

fn device(category: Category, status: Status, year: i32, cost: Option<u64>) -> DeviceInput {
    DeviceInput {
        id: DeviceId::generate(),
        category,
        status,
        site: Some(SiteCode::parse("ttpvhcc").expect("site")),
        hostname: Some("MOTCUA-01".into()),
        model: Some("Dell OptiPlex 3020".into()),
        serial: Some(format!("SN{year}")),
        asset_tag: None,
        in_service: Some(date(year, 3, 15)),
        estimated_years: None,
        cost_vnd: cost,
        residual_vnd: cost.map(|_| 0),
        life: Some((7, "tt141-2025".into())),
        reasons: vec![ReasonInput {
            rule: if status == Status::Replace {
                "service-life"
            } else {
                "os-end-of-support"
            }
            .into(),
            blocking: status == Status::Replace,
            vi: "Hết hạn sử dụng.".into(),
        }],
    }
}

/// Ia Grai: the service center (7 staff, 1 printer, no scanner, a 45 Mbps
/// line against 200) and the headquarters (20 staff unknown? no: 20, 5
/// printers, 1 scanner; no measurement); two desktops past their life, one
/// laptop to watch, one photocopier past its life.
fn commune() -> ProposalInput {
    let mut center = site(
        "ttpvhcc",
        SiteKind::ServiceCenter,
        Some(7),
        &[(Category::Desktop, 6), (Category::Printer, 1)],
    );
    center.line = Some(LineReading {
        best_download_mbps: 45.26,
        best_upload_mbps: 12.0,
        tests: 3,
        measured_on: date(2026, 6, 20),
        verdict: Some(crate::lines::Verdict::Below),
    });
    let hq = site(
        "tru-so",
        SiteKind::Headquarters,
        Some(20),
        &[
            (Category::Printer, 5),
            (Category::Mfp, 1),
            (Category::Scanner, 1),
        ],
    );
    let school = site("truong", SiteKind::School, None, &[]);
    ProposalInput {
        scope: Scope::Commune(CommuneCode::parse("24121").expect("code")),
        as_of: date(2026, 6, 30),
        include_watch: false,
        policy: "test".into(),
        norms: Policy::shipped().norms().clone(),
        province: Some("Gia Lai".into()),
        communes: vec![CommuneInput {
            code: CommuneCode::parse("24121").expect("code"),
            full_name_vi: "xã Ia Grai".into(),
            place_vi: "Ia Grai".into(),
            registered: true,
            sites: vec![center, hq, school],
            devices: vec![
                device(Category::Desktop, Status::Replace, 2013, Some(15_000_000)),
                device(Category::Desktop, Status::Replace, 2018, None),
                device(
                    Category::Photocopier,
                    Status::Replace,
                    2015,
                    Some(60_000_000),
                ),
            ],
            hand_counted: Vec::new(),
        }],
    }
}

fn item<'a>(p: &'a Proposal, key: &str, purpose: Purpose) -> &'a Item {
    p.items
        .iter()
        .find(|i| i.key == key && i.purpose == purpose)
        .unwrap_or_else(|| panic!("no {key} {purpose:?} in {:#?}", p.items))
}

#[test]
fn replacements_shortfalls_and_lines_become_items() {
    let p = build(&commune(), &[]);
    let keys: Vec<_> = p
        .items
        .iter()
        .map(|i| (i.key.as_str(), i.purpose))
        .collect();
    assert_eq!(
        keys,
        [
            ("desktop", Purpose::Replacement),
            ("printer", Purpose::Shortfall),
            ("scanner", Purpose::Shortfall),
            ("photocopier", Purpose::Replacement),
            ("line-upgrade", Purpose::LineUpgrade),
        ]
    );
    let desktops = item(&p, "desktop", Purpose::Replacement);
    assert_eq!((desktops.held, desktops.quantity), (6, 2));
    assert_eq!(
        (desktops.unit_price_vnd, desktops.amount_vnd),
        (20_000_000, 40_000_000)
    );
    assert_eq!(desktops.years_vi, "2013–2018");
    assert_eq!(desktops.original_cost_vnd, Some(15_000_000));
    assert_eq!(desktops.replaces.len(), 2);
    assert!(
        desktops
            .reason_vi
            .contains("hết hạn sử dụng (7 năm theo Thông tư 141/2025/TT-BTC): 2 máy"),
        "{}",
        desktops.reason_vi
    );
    // Center: 7 staff → 3 printers, holds 1 → 2; HQ: 20 → 7, holds 5
    // printers + 1 MFP → 1. Scanners: center 1 short, HQ 2 entitled, 1 held
    // (the MFP is one unit: a printer).
    let printers = item(&p, "printer", Purpose::Shortfall);
    assert_eq!((printers.quantity, printers.amount_vnd), (3, 39_000_000));
    assert!(
        printers.reason_vi.contains("(7 người) được 3 chiếc"),
        "{}",
        printers.reason_vi
    );
    let scanners = item(&p, "scanner", Purpose::Shortfall);
    assert_eq!((scanners.held, scanners.quantity), (1, 2));
    let line = item(&p, "line-upgrade", Purpose::LineUpgrade);
    assert_eq!((line.quantity, line.amount_vnd), (1, 0));
    assert!(line.reason_vi.contains("45,3 Mbps"), "{}", line.reason_vi);
    assert!(line.reason_vi.contains("dưới mục tiêu 200 Mbps"));

    assert_eq!(
        p.total_vnd,
        40_000_000 + 39_000_000 + 44_000_000 + 110_000_000
    );
    assert_eq!(p.total_words_vi, words::amount_vnd(p.total_vnd));
    // Photocopiers held are not seen: no shortfall, and the notes say so;
    // the school has no staff count and no measurement.
    assert!(
        p.notes_vi
            .iter()
            .any(|n| n.contains("máy photocopy hiện có")),
        "{:?}",
        p.notes_vi
    );
    assert!(
        p.notes_vi
            .iter()
            .any(|n| n.contains("chưa nhập số người làm việc tại Trường học"))
    );
    assert!(
        p.notes_vi
            .iter()
            .any(|n| n.contains("chưa có số liệu đo tốc độ đường truyền"))
    );
    assert_eq!(p.by_commune.len(), 1);
    assert_eq!(p.by_commune[0].amount_vnd, p.total_vnd);
}

#[test]
fn a_line_only_slow_pcs_measured_is_not_proposed_for_an_upgrade() {
    let mut input = commune();
    let center = (input.communes[0].sites.iter_mut())
        .find(|s| s.line.is_some())
        .expect("measured site");
    let line = center.line.as_mut().expect("line");
    line.verdict = Some(crate::lines::Verdict::PcLimited);
    let p = build(&input, &[]);
    assert!(
        !p.items.iter().any(|i| i.purpose == Purpose::LineUpgrade),
        "{:?}",
        p.items
    );
    // A proposal frozen before verdicts were kept is judged by its best
    // download, as it was then.
    let mut legacy = commune();
    for s in &mut legacy.communes[0].sites {
        if let Some(l) = s.line.as_mut() {
            l.verdict = None;
        }
    }
    let p = build(&legacy, &[]);
    assert!(p.items.iter().any(|i| i.purpose == Purpose::LineUpgrade));
}

#[test]
fn watch_devices_join_only_when_asked() {
    let mut input = commune();
    input.communes[0]
        .devices
        .push(device(Category::Laptop, Status::Watch, 2020, None));
    assert!(build(&input, &[]).items.iter().all(|i| i.key != "laptop"));
    input.include_watch = true;
    let p = build(&input, &[]);
    let laptops = item(&p, "laptop", Purpose::Replacement);
    assert_eq!(laptops.quantity, 1);
    assert!(laptops.reason_vi.contains("cần theo dõi"));
}

#[test]
fn prices_above_the_norm_need_a_reason_that_is_printed() {
    let input = commune();
    let norms = &input.norms;
    let over = PriceOverride {
        item: "desktop".into(),
        unit_price_vnd: 22_000_000,
        above_norm_reason: None,
    };
    let err = prices::check(norms, std::slice::from_ref(&over)).expect_err("refused");
    assert!(
        err.vi
            .contains("vượt giá tối đa theo định mức (20.000.000 đ)"),
        "{}",
        err.vi
    );
    let unknown = PriceOverride {
        item: "server".into(),
        unit_price_vnd: 1,
        above_norm_reason: None,
    };
    assert!(prices::check(norms, &[unknown]).is_err());

    let justified = PriceOverride {
        above_norm_reason: Some("Cần card đồ họa cho bộ phận bản đồ địa chính".into()),
        ..over
    };
    prices::check(norms, std::slice::from_ref(&justified)).expect("accepted");
    let lower = PriceOverride {
        item: "printer".into(),
        unit_price_vnd: 9_500_000,
        above_norm_reason: None,
    };
    let p = build(&input, &[justified, lower]);
    let desktops = item(&p, "desktop", Purpose::Replacement);
    assert_eq!(desktops.amount_vnd, 44_000_000);
    assert!(
        desktops
            .price_note_vi
            .as_deref()
            .is_some_and(|n| n.contains("vượt mức tối đa 20.000.000 đ") && n.contains("bản đồ")),
        "{:?}",
        desktops.price_note_vi
    );
    assert_eq!(
        item(&p, "printer", Purpose::Shortfall).amount_vnd,
        28_500_000
    );
    assert!(
        item(&p, "printer", Purpose::Shortfall)
            .price_note_vi
            .is_none()
    );
}

#[test]
fn a_consolidation_merges_communes_and_keeps_their_shares() {
    let mut input = commune();
    let mut other = input.communes[0].clone();
    other.code = CommuneCode::parse("24118").expect("code");
    other.full_name_vi = "xã Biển Hồ".into();
    other.devices.truncate(1);
    input.communes.push(other);
    input.scope = Scope::Province;
    let p = build(&input, &[]);
    let desktops = item(&p, "desktop", Purpose::Replacement);
    assert_eq!(desktops.quantity, 3);
    assert_eq!(desktops.by_commune.len(), 2);
    assert_eq!(p.by_commune.len(), 2);
    assert_eq!(
        p.by_commune.iter().map(|c| c.amount_vnd).sum::<u64>(),
        p.total_vnd
    );
    assert_eq!(
        p.by_category.iter().map(|c| c.amount_vnd).sum::<u64>(),
        p.total_vnd
    );
    assert_eq!(p.by_commune[1].name_vi, "Xã Biển Hồ");
}

#[test]
fn the_same_input_gives_the_same_documents() {
    let input = commune();
    let meta = crate::proposal::DocMeta {
        number: Some("12/TTr-UBND".into()),
        date: date(2026, 7, 2),
    };
    let a = crate::proposal::render(&input, &[], &meta);
    let b = crate::proposal::render(&input, &[], &meta);
    let created = "2026-07-02T00:00:00Z";
    assert_eq!(
        crate::proposal::docx::write(&a, created).expect("docx"),
        crate::proposal::docx::write(&b, created).expect("docx")
    );
    assert_eq!(a.text.number, "Số: 12/TTr-UBND");
    assert_eq!(a.text.issuer, "ỦY BAN NHÂN DÂN XÃ IA GRAI");
    assert_eq!(a.text.place_date, "Ia Grai, ngày 02 tháng 7 năm 2026");
    let html = crate::proposal::page::html(&a, Vec::new(), "Dự thảo".into()).expect("html");
    assert!(html.contains("Kính gửi:") && html.contains("Bằng chữ:"));
    let at = chrono::Utc::now();
    let xlsx = crate::proposal::xlsx::write(&a, at).expect("xlsx");
    assert!(xlsx.starts_with(b"PK"));
    assert_eq!(xlsx, crate::proposal::xlsx::write(&b, at).expect("xlsx"));
}

#[test]
fn a_multifunction_printer_is_one_unit_unless_the_norms_count_it_twice() {
    // 15 staff holding one MFP: 5 printers due, 1 held; 1 scanner due.
    let mut input = commune();
    input.communes[0].sites = vec![site(
        "tru-so",
        SiteKind::Headquarters,
        Some(15),
        &[(Category::Mfp, 1)],
    )];
    input.communes[0].devices.clear();
    let p = build(&input, &[]);
    let printers = item(&p, "printer", Purpose::Shortfall);
    assert_eq!((printers.held, printers.quantity), (1, 4));
    // DOMAIN.md: a multifunction device counts as one unit.
    let scanners = item(&p, "scanner", Purpose::Shortfall);
    assert_eq!((scanners.held, scanners.quantity), (0, 1));
    // A province whose norms count it as a scanner held too.
    for item in &mut input.norms.items {
        if item.key == "scanner" {
            item.counts_also = vec![Category::Mfp];
        }
    }
    let p = build(&input, &[]);
    assert!(
        !p.items.iter().any(|i| i.key == "scanner"),
        "{:#?}",
        p.items
    );
}

#[test]
fn photocopiers_entered_by_hand_count_against_the_norm() {
    // 16 staff with one photocopier → 2 due, 1 short; 10 staff, none → 1.
    let mut input = commune();
    input.communes[0].sites = vec![
        site(
            "ttpvhcc",
            SiteKind::ServiceCenter,
            Some(16),
            &[(Category::Photocopier, 1)],
        ),
        site("tru-so", SiteKind::Headquarters, Some(10), &[]),
    ];
    input.communes[0].devices.clear();
    let unknown = build(&input, &[]);
    assert!(!unknown.items.iter().any(|i| i.key == "photocopier"));
    assert!(
        unknown
            .notes_vi
            .iter()
            .any(|n| n.contains("máy photocopy hiện có")),
        "without a register the holdings are unknown: {:?}",
        unknown.notes_vi
    );

    input.communes[0].hand_counted = vec![Category::Photocopier];
    let p = build(&input, &[]);
    let copiers = item(&p, "photocopier", Purpose::Shortfall);
    assert_eq!(
        (copiers.held, copiers.quantity, copiers.amount_vnd),
        (1, 2, 220_000_000)
    );
    assert!(
        copiers.reason_vi.contains("(16 người) được 2 chiếc")
            && copiers.reason_vi.contains("hiện có 1, thiếu 1"),
        "{}",
        copiers.reason_vi
    );
    assert!(
        !p.notes_vi
            .iter()
            .any(|n| n.contains("máy photocopy hiện có"))
    );
}
