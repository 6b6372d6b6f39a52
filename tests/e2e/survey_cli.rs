//! The survey's commands on a stopped server's store: `fixture`, `export
//! survey` (XLSX with a progress line, CSV with a BOM), `commune import`
//! (all or nothing with line numbers, then idempotent), `commune list`.

use std::path::Path;
use std::process::{Command, Output};

use crate::{server_bin, text};

fn server(data: &Path, args: &[&str]) -> Output {
    Command::new(server_bin())
        .args(args)
        .arg("--data")
        .arg(data)
        .output()
        .expect("runs")
}

#[test]
fn the_survey_commands_export_and_import() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out = server(
        &data,
        &[
            "fixture",
            "--communes",
            "3",
            "--pcs-min",
            "20",
            "--pcs-max",
            "20",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Đã nạp: 3 xã"), "{}", text(&out));

    let xlsx = dir.path().join("khao-sat.xlsx");
    let out = server(
        &data,
        &[
            "export",
            "survey",
            "--format",
            "xlsx",
            "-o",
            xlsx.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Đang ghi các trang tính:"),
        "progress: {}",
        text(&out)
    );
    assert!(
        std::fs::read(&xlsx).expect("written").starts_with(b"PK"),
        "a zip (xlsx)"
    );

    let csv = dir.path().join("khao-sat.csv");
    let out = server(
        &data,
        &[
            "export",
            "survey",
            "--format",
            "csv",
            "--commune",
            "23003",
            "-o",
            csv.to_str().expect("utf-8"),
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let bytes = std::fs::read(&csv).expect("written");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(
        String::from_utf8_lossy(&bytes).lines().count(),
        2,
        "header + one commune"
    );

    let out = server(
        &data,
        &[
            "export",
            "survey",
            "--commune",
            "99999",
            "-o",
            csv.to_str().expect("utf-8"),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Không có xã nào có mã 99999"),
        "{}",
        text(&out)
    );

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "Mã xã,Tên xã,Tỉnh\n24118,Biển Hồ,Gia Lai\n2412,Ia Grai,Gia Lai\n",
    )
    .expect("write");
    let out = server(&data, &["commune", "import", bad.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("Dòng 3: mã xã phải gồm 5 chữ số"),
        "{}",
        text(&out)
    );
    let listed = text(&server(&data, &["commune", "list"]));
    assert!(!listed.contains("24118"), "nothing imported: {listed}");

    let good = dir.path().join("good.csv");
    std::fs::write(&good, "Mã xã;Tên xã;Tỉnh\n24118;Biển Hồ;Gia Lai\n").expect("write");
    let out = server(&data, &["commune", "import", good.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Số bản ghi đã ghi: 1"),
        "{}",
        text(&out)
    );
    let out = server(&data, &["commune", "import", good.to_str().expect("utf-8")]);
    assert!(
        text(&out).contains("Số bản ghi đã ghi: 0"),
        "idempotent: {}",
        text(&out)
    );
    assert!(text(&server(&data, &["commune", "list"])).contains("24118  xã Biển Hồ"));
}
