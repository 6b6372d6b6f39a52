//! Real brand strings (as Windows and Linux report them) with their known
//! launch years and Windows 11 support.

use super::*;

/// (brand string, launch year, on the Windows 11 list: Some/None = unknown)
const KNOWN: &[(&str, u16, Option<bool>)] = &[
    // Intel Core, 1st generation (three-digit numbers, "CPU" before the number)
    (
        "Intel(R) Core(TM) i7 CPU         920  @ 2.67GHz",
        2008,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i5 CPU         750  @ 2.67GHz",
        2009,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i5 CPU       650  @ 3.20GHz",
        2010,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i3 CPU         530  @ 2.93GHz",
        2010,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i5 CPU       M 520  @ 2.40GHz",
        2010,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i7 CPU       Q 720  @ 1.60GHz",
        2009,
        Some(false),
    ),
    // 2nd–7th generation
    ("Intel(R) Core(TM) i5-2400 CPU @ 3.10GHz", 2011, Some(false)),
    ("Intel(R) Core(TM) i3-2120 CPU @ 3.30GHz", 2011, Some(false)),
    (
        "Intel(R) Core(TM) i5-2450M CPU @ 2.50GHz",
        2012,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i3-2350M CPU @ 2.30GHz",
        2011,
        Some(false),
    ),
    ("Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz", 2012, Some(false)),
    ("Intel(R) Core(TM) i3-3220 CPU @ 3.30GHz", 2012, Some(false)),
    ("Intel(R) Core(TM) i3-3210 CPU @ 3.20GHz", 2013, Some(false)),
    (
        "Intel(R) Core(TM) i5-3230M CPU @ 2.60GHz",
        2013,
        Some(false),
    ),
    ("Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz", 2013, Some(false)),
    ("Intel(R) Core(TM) i5-4590 CPU @ 3.30GHz", 2014, Some(false)),
    ("Intel(R) Core(TM) i3-4150 CPU @ 3.50GHz", 2014, Some(false)),
    ("Intel(R) Core(TM) i3-4170 CPU @ 3.70GHz", 2015, Some(false)),
    (
        "Intel(R) Core(TM) i5-4200U CPU @ 1.60GHz",
        2013,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i5-5200U CPU @ 2.20GHz",
        2015,
        Some(false),
    ),
    ("Intel(R) Core(TM) i5-6500 CPU @ 3.20GHz", 2015, Some(false)),
    (
        "Intel(R) Core(TM) i3-6006U CPU @ 2.00GHz",
        2016,
        Some(false),
    ),
    (
        "Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz",
        2016,
        Some(false),
    ),
    ("Intel(R) Core(TM) i5-7400 CPU @ 3.00GHz", 2017, Some(false)),
    // 8th generation onwards: on the Windows 11 list
    ("Intel(R) Core(TM) i3-8100 CPU @ 3.60GHz", 2017, Some(true)),
    ("Intel(R) Core(TM) i5-8500 CPU @ 3.00GHz", 2018, Some(true)),
    ("Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", 2017, Some(true)),
    ("Intel(R) Core(TM) i5-9400 CPU @ 2.90GHz", 2019, Some(true)),
    ("Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz", 2018, Some(true)),
    ("Intel(R) Core(TM) i3-10100 CPU @ 3.60GHz", 2020, Some(true)),
    ("Intel(R) Core(TM) i5-10400 CPU @ 2.90GHz", 2020, Some(true)),
    ("Intel(R) Core(TM) i3-10105 CPU @ 3.70GHz", 2021, Some(true)),
    (
        "Intel(R) Core(TM) i5-10210U CPU @ 1.60GHz",
        2019,
        Some(true),
    ),
    (
        "Intel(R) Core(TM) i5-1035G1 CPU @ 1.00GHz",
        2019,
        Some(true),
    ),
    (
        "11th Gen Intel(R) Core(TM) i5-11400 @ 2.60GHz",
        2021,
        Some(true),
    ),
    (
        "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz",
        2020,
        Some(true),
    ),
    ("12th Gen Intel(R) Core(TM) i5-12400", 2022, Some(true)),
    ("12th Gen Intel(R) Core(TM) i7-12700K", 2021, Some(true)),
    ("12th Gen Intel(R) Core(TM) i5-1235U", 2022, Some(true)),
    ("13th Gen Intel(R) Core(TM) i5-13400", 2023, Some(true)),
    ("13th Gen Intel(R) Core(TM) i7-13700", 2023, Some(true)),
    ("13th Gen Intel(R) Core(TM) i5-1335U", 2023, Some(true)),
    ("14th Gen Intel(R) Core(TM) i5-14400", 2024, Some(true)),
    ("Intel(R) Core(TM) Ultra 5 125H", 2023, Some(true)),
    ("Intel(R) Core(TM) Ultra 7 155U", 2023, Some(true)),
    ("Intel(R) Core(TM) Ultra 5 245K", 2024, Some(true)),
    // Core 2, Pentium, Celeron, Xeon, Intel N
    (
        "Intel(R) Core(TM)2 Duo CPU     E7500  @ 2.93GHz",
        2009,
        Some(false),
    ),
    (
        "Intel(R) Core(TM)2 Quad  CPU   Q8400  @ 2.66GHz",
        2009,
        Some(false),
    ),
    (
        "Pentium(R) Dual-Core  CPU      E5300  @ 2.60GHz",
        2008,
        Some(false),
    ),
    ("Intel(R) Pentium(R) CPU G620 @ 2.60GHz", 2011, Some(false)),
    ("Intel(R) Pentium(R) CPU G2030 @ 3.00GHz", 2013, Some(false)),
    ("Intel(R) Pentium(R) CPU G3240 @ 3.10GHz", 2014, Some(false)),
    ("Intel(R) Pentium(R) CPU G4400 @ 3.30GHz", 2015, Some(false)),
    ("Intel(R) Pentium(R) CPU G4560 @ 3.50GHz", 2017, Some(false)),
    (
        "Intel(R) Pentium(R) Gold G5400 CPU @ 3.70GHz",
        2018,
        Some(true),
    ),
    (
        "Intel(R) Pentium(R) Gold G6400 CPU @ 4.00GHz",
        2020,
        Some(true),
    ),
    ("Intel(R) Pentium(R) Gold G7400", 2022, Some(true)),
    ("Intel(R) Pentium(R) CPU 2020M @ 2.40GHz", 2012, Some(false)),
    (
        "Intel(R) Pentium(R) Silver N5000 CPU @ 1.10GHz",
        2017,
        Some(true),
    ),
    ("Intel(R) Celeron(R) CPU J1900 @ 1.99GHz", 2013, Some(false)),
    ("Intel(R) Celeron(R) N4020 CPU @ 1.10GHz", 2019, Some(true)),
    ("Intel(R) Celeron(R) J4125 CPU @ 2.00GHz", 2019, Some(true)),
    ("Intel(R) Celeron(R) CPU G1840 @ 2.80GHz", 2014, Some(false)),
    ("Intel(R) Celeron(R) G4900 CPU @ 3.10GHz", 2018, Some(true)),
    ("Intel(R) Celeron(R) CPU 1007U @ 1.50GHz", 2013, Some(false)),
    ("Intel(R) Celeron(R) CPU N3060 @ 1.60GHz", 2016, Some(false)),
    (
        "Intel(R) Xeon(R) CPU E3-1230 0 @ 3.20GHz",
        2011,
        Some(false),
    ),
    (
        "Intel(R) Xeon(R) CPU E3-1230 V2 @ 3.30GHz",
        2012,
        Some(false),
    ),
    (
        "Intel(R) Xeon(R) CPU E3-1230 v3 @ 3.30GHz",
        2013,
        Some(false),
    ),
    (
        "Intel(R) Xeon(R) CPU E3-1231 v3 @ 3.40GHz",
        2014,
        Some(false),
    ),
    (
        "Intel(R) Xeon(R) CPU E3-1230 v5 @ 3.40GHz",
        2015,
        Some(false),
    ),
    (
        "Intel(R) Xeon(R) CPU E3-1230 v6 @ 3.50GHz",
        2017,
        Some(false),
    ),
    ("Intel(R) N100", 2023, Some(true)),
    // AMD
    ("AMD Athlon(tm) II X2 250 Processor", 2009, Some(false)),
    (
        "AMD Athlon(tm) X4 860K Quad Core Processor",
        2014,
        Some(false),
    ),
    ("AMD Athlon 200GE with Radeon Vega Graphics", 2018, None),
    (
        "AMD Athlon 3000G with Radeon Vega Graphics",
        2019,
        Some(true),
    ),
    (
        "AMD Athlon Silver 3050U with Radeon Graphics",
        2020,
        Some(true),
    ),
    (
        "AMD A4-5300 APU with Radeon(tm) HD Graphics",
        2012,
        Some(false),
    ),
    (
        "AMD A10-5800K APU with Radeon(tm) HD Graphics",
        2012,
        Some(false),
    ),
    (
        "AMD A6-6400K APU with Radeon(tm) HD Graphics",
        2013,
        Some(false),
    ),
    (
        "AMD A8-7600 Radeon R7, 10 Compute Cores 4C+6G",
        2014,
        Some(false),
    ),
    (
        "AMD A6-9225 RADEON R4, 5 COMPUTE CORES 2C+3G",
        2018,
        Some(false),
    ),
    (
        "AMD A12-9800 RADEON R7, 12 COMPUTE CORES 4C+8G",
        2016,
        Some(false),
    ),
    ("AMD FX(tm)-8350 Eight-Core Processor", 2012, Some(false)),
    ("AMD FX(tm)-6300 Six-Core Processor", 2012, Some(false)),
    ("AMD FX(tm)-4100 Quad-Core Processor", 2011, Some(false)),
    ("AMD Ryzen 5 1600 Six-Core Processor", 2017, Some(false)),
    (
        "AMD Ryzen 3 2200G with Radeon Vega Graphics",
        2018,
        Some(true),
    ),
    (
        "AMD Ryzen 5 2500U with Radeon Vega Mobile Gfx",
        2017,
        Some(true),
    ),
    (
        "AMD Ryzen 5 3400G with Radeon Vega Graphics",
        2019,
        Some(true),
    ),
    (
        "AMD Ryzen 5 3500U with Radeon Vega Mobile Gfx",
        2019,
        Some(true),
    ),
    ("AMD Ryzen 5 3600 6-Core Processor", 2019, Some(true)),
    ("AMD Ryzen 3 3100 4-Core Processor", 2020, Some(true)),
    ("AMD Ryzen 5 4500U with Radeon Graphics", 2020, Some(true)),
    (
        "AMD Ryzen 5 PRO 4650G with Radeon Graphics",
        2020,
        Some(true),
    ),
    ("AMD Ryzen 5 4500 6-Core Processor", 2022, Some(true)),
    ("AMD Ryzen 5 5600G with Radeon Graphics", 2021, Some(true)),
    ("AMD Ryzen 5 5600X 6-Core Processor", 2020, Some(true)),
    ("AMD Ryzen 5 5600 6-Core Processor", 2022, Some(true)),
    ("AMD Ryzen 5 5500U with Radeon Graphics", 2021, Some(true)),
    ("AMD Ryzen 7 5700U with Radeon Graphics", 2021, Some(true)),
    ("AMD Ryzen 5 5625U with Radeon Graphics", 2022, Some(true)),
    ("AMD Ryzen 5 7520U with Radeon Graphics", 2022, Some(true)),
    ("AMD Ryzen 5 7530U with Radeon Graphics", 2023, Some(true)),
    (
        "AMD Ryzen 7 7840HS w/ Radeon 780M Graphics",
        2023,
        Some(true),
    ),
    ("AMD Ryzen 5 7600X 6-Core Processor", 2022, Some(true)),
    (
        "AMD Ryzen 5 8600G w/ Radeon 760M Graphics",
        2024,
        Some(true),
    ),
    ("AMD Ryzen 5 9600X 6-Core Processor", 2024, Some(true)),
    ("AMD Ryzen AI 9 HX 370 w/ Radeon 890M", 2024, Some(true)),
];

#[test]
fn the_shipped_table_parses() {
    let table = CpuTable::parse(SHIPPED).expect("shipped table");
    assert!(table.entries.len() > 100);
}

#[test]
fn real_brand_strings_give_their_launch_year() {
    assert!(KNOWN.len() >= 60, "{} strings", KNOWN.len());
    let table = CpuTable::shipped();
    for (brand, year, windows11) in KNOWN {
        let cpu = table
            .lookup(brand)
            .unwrap_or_else(|| panic!("not recognised: {brand}"));
        assert_eq!(cpu.launch_year, *year, "{brand} → {cpu:?}");
        assert_eq!(cpu.windows11, *windows11, "{brand} → {cpu:?}");
    }
}

#[test]
fn brand_strings_parse_into_readable_models() {
    let table = CpuTable::shipped();
    let cases = [
        (
            "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz",
            "Intel Core i5-3470",
        ),
        (
            "Intel(R) Core(TM) i5 CPU       650  @ 3.20GHz",
            "Intel Core i5-650",
        ),
        (
            "Intel(R) Pentium(R) CPU G2030 @ 3.00GHz",
            "Intel Pentium G2030",
        ),
        (
            "AMD Ryzen 5 5600G with Radeon Graphics",
            "AMD Ryzen 5 5600G",
        ),
        (
            "Intel(R) Xeon(R) CPU E3-1230 v3 @ 3.30GHz",
            "Intel Xeon E3-1230 v3",
        ),
        (
            "AMD A8-7600 Radeon R7, 10 Compute Cores 4C+6G",
            "AMD A8-7600",
        ),
        ("AMD FX(tm)-8350 Eight-Core Processor", "AMD FX-8350"),
        ("Intel(R) Core(TM) Ultra 5 125H", "Intel Core Ultra 5 125H"),
    ];
    for (brand, want) in cases {
        assert_eq!(table.lookup(brand).map(|c| c.model).as_deref(), Some(want));
    }
    let g = table
        .lookup("12th Gen Intel(R) Core(TM) i5-12400")
        .expect("known");
    assert_eq!(g.generation, Some(12));
}

#[test]
fn unknown_strings_give_no_evidence() {
    let table = CpuTable::shipped();
    for brand in [
        "",
        "QEMU Virtual CPU version 2.5+",
        "Common KVM processor",
        "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
        "AMD Ryzen Threadripper 1950X 16-Core Processor",
        "AMD Phenom(tm) II X4 965 Processor",
        "Intel(R) Core(TM) M-5Y10c CPU @ 0.80GHz",
        "Intel(R) Core(TM) i5-99999 CPU",
        "ARMv8 Processor rev 4 (v8l)",
        "Apple M1",
        "AMD Ryzen 7 4980U with Radeon Graphics",
        "VIA Nano processor U2250",
    ] {
        assert_eq!(table.lookup(brand), None, "{brand}");
    }
}

#[test]
fn traps_are_told_apart() {
    let table = CpuTable::shipped();
    let year = |b: &str| table.lookup(b).map(|c| c.launch_year);
    // Ryzen 5 3400G is Zen+ (2019), not Zen 2; still on the Windows 11 list.
    assert_eq!(
        year("AMD Ryzen 5 3400G with Radeon Vega Graphics"),
        Some(2019)
    );
    // A 5-digit desktop i3 vs a 4-digit mobile i5 of the same generation.
    assert_eq!(year("Intel(R) Core(TM) i3-10100 CPU @ 3.60GHz"), Some(2020));
    assert_eq!(
        year("Intel(R) Core(TM) i5-1035G1 CPU @ 1.00GHz"),
        Some(2019)
    );
    // Haswell-E carries "5" but launched before Broadwell.
    assert_eq!(year("Intel(R) Core(TM) i7-5820K CPU @ 3.30GHz"), Some(2014));
}

#[test]
fn invalid_tables_are_refused_with_the_field() {
    let bad = "[windows11]\ncore-min-generation = 8\ncore-ultra = true\nryzen-min-number = 2000\nryzen-ai = true\n[[cpu]]\nfamily = \"core\"\nnumbers = [1]\nyear = 2011\ncolour = 1\n";
    let err = CpuTable::parse(bad).expect_err("unknown field");
    assert!(err.to_string().contains("cpu[0]"), "{err}");
    let bad = bad.replace("colour = 1\n", "").replace("2011", "1900");
    assert!(matches!(
        CpuTable::parse(&bad),
        Err(CpuTableError::Invalid { index: 1, .. })
    ));
}
