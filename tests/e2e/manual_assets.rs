//! Manual assets end to end: a CSV and an XLSX list imported through the
//! API; the same file again changes nothing; a file with three bad rows
//! imports nothing and names the three lines; edit and delete; the CLI
//! imports the same way on a stopped server's store.

use kiemke_tests::server::{ADMIN_TOKEN, ServerProcess};
use serde_json::{Value, json};

use crate::{server_bin, text};

const HEADER: &str = "STT,Loại tài sản,Tên tài sản / Model,Số serial,Mã điểm,Ngày đưa vào sử dụng,Nguyên giá (đồng),Nguồn vốn\n";

fn good_csv() -> String {
    format!(
        "{HEADER}\
         1,Máy photocopy,Ricoh MP 2014,E334M123456,,15/08/2019,\"45.000.000\",Ngân sách xã\n\
         2,Máy scan,Canon DR-C225,,,2021,18500000,\n\
         3,Máy scan,Canon DR-C225,,,2021,18500000,\n\
         4,Bộ lưu điện,Santak C1K,,,,,\n"
    )
}

fn xlsx() -> anyhow::Result<Vec<u8>> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2018, 3, 1)?;
    let format = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    for (col, h) in [
        "Loại tài sản",
        "Tên tài sản / Model",
        "Số serial",
        "Ngày đưa vào sử dụng",
        "Nguyên giá",
    ]
    .iter()
    .enumerate()
    {
        sheet.write(0, u16::try_from(col)?, *h)?;
    }
    sheet.write(1, 0, "Thiết bị mạng")?;
    sheet.write(1, 1, "Cisco SG350-28")?;
    sheet.write(1, 2, "DNI2233X0AB")?;
    sheet.write_datetime_with_format(1, 3, &date, &format)?;
    sheet.write(1, 4, 12_000_000)?;
    Ok(book.save_to_buffer()?)
}

async fn import(server: &ServerProcess, body: Vec<u8>) -> anyhow::Result<(u16, Value)> {
    let response = server
        .http()
        .post(server.endpoint("/api/v1/manual-assets/import?commune=24118"))
        .bearer_auth(ADMIN_TOKEN)
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await?))
}

async fn list(server: &ServerProcess) -> anyhow::Result<Vec<Value>> {
    let response = server
        .http()
        .get(server.endpoint("/api/v1/manual-assets?commune=24118"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "list: {}", response.status());
    Ok(response.json().await?)
}

#[tokio::test]
async fn lists_import_all_or_nothing_and_twice_changes_nothing() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = ServerProcess::start(server_bin(), &dir.path().join("server"))?;

    // A good CSV: four assets (two identical scanners without serials).
    let (status, summary) = import(&server, good_csv().into_bytes()).await?;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary, json!({"created": 4, "updated": 0, "unchanged": 0}));
    let before = list(&server).await?;
    assert_eq!(before.len(), 4);

    // The same file again: nothing new.
    let (status, summary) = import(&server, good_csv().into_bytes()).await?;
    assert_eq!(status, 200);
    assert_eq!(summary, json!({"created": 0, "updated": 0, "unchanged": 4}));
    assert_eq!(list(&server).await?, before);

    // Three bad rows among good ones: nothing imported, lines 3, 4, 6.
    let bad = format!(
        "{HEADER}\
         1,Máy in,HP LaserJet M402dn,PHB1,,01/01/2020,5000000,\n\
         2,Tủ lạnh,LG,,,,,\n\
         3,Máy in,,,,,,\n\
         4,Máy in,Brother HL-L2321D,BR9,,,4000000,\n\
         5,Máy in,Canon LBP 2900,,,31/02/2020,,\n"
    );
    let (status, refused) = import(&server, bad.into_bytes()).await?;
    assert_eq!(status, 422, "{refused}");
    let lines: Vec<u64> = refused["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["line"].as_u64())
        .collect();
    assert_eq!(lines, [3, 4, 6]);
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Dòng 3:")),
        "{refused}"
    );
    assert_eq!(
        list(&server).await?,
        before,
        "a refused file changes nothing"
    );

    // An XLSX list: its date and amount read as the officer typed them.
    let (status, summary) = import(&server, xlsx()?).await?;
    assert_eq!(
        (status, summary["created"].as_u64()),
        (200, Some(1)),
        "{summary}"
    );
    let (_, again) = import(&server, xlsx()?).await?;
    assert_eq!(again["unchanged"], 1);
    let all = list(&server).await?;
    let switch = all
        .iter()
        .find(|a| a["serial"] == "DNI2233X0AB")
        .expect("the switch");
    assert_eq!(
        (
            switch["category"].as_str(),
            switch["in_service"].as_str(),
            switch["cost_vnd"].as_u64()
        ),
        (Some("network-gear"), Some("2018-03-01"), Some(12_000_000))
    );

    // Edit and delete one.
    let id = switch["id"].as_str().unwrap_or_default().to_owned();
    let mut edited = switch.clone();
    for key in ["id", "key", "created_at", "updated_at"] {
        edited.as_object_mut().map(|o| o.remove(key));
    }
    edited["note"] = json!("Tủ mạng tầng 2");
    let response = server
        .http()
        .put(server.endpoint(&format!("/api/v1/manual-assets/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&edited)
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    let response = server
        .http()
        .delete(server.endpoint(&format!("/api/v1/manual-assets/{id}")))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await?;
    assert_eq!(response.status(), 204);
    assert_eq!(list(&server).await?.len(), 4);
    let anonymous = server
        .http()
        .get(server.endpoint("/api/v1/manual-assets"))
        .send()
        .await?;
    assert_eq!(anonymous.status(), 401);
    Ok(())
}

#[test]
fn the_cli_imports_a_list_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("tai-san.csv");
    std::fs::write(&file, good_csv())?;
    let data = dir.path().join("server");
    let run = |args: &[&str]| {
        std::process::Command::new(server_bin())
            .args(args)
            .arg("--data")
            .arg(&data)
            .env("NO_COLOR", "1")
            .output()
    };
    let file_arg = file.to_string_lossy().into_owned();
    let first = run(&["asset", "import", &file_arg, "--commune", "24118"])?;
    assert!(first.status.success(), "{}", text(&first));
    assert!(text(&first).contains("4 tài sản mới"), "{}", text(&first));
    let second = run(&["asset", "import", &file_arg, "--commune", "24118"])?;
    assert!(
        text(&second).contains("0 tài sản mới, 0 cập nhật, 4 không đổi"),
        "{}",
        text(&second)
    );
    std::fs::write(&file, format!("{HEADER}1,Tủ lạnh,LG,,,,,\n"))?;
    let bad = run(&["asset", "import", &file_arg, "--commune", "24118"])?;
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("Dòng 2: loại tài sản \"Tủ lạnh\""),
        "{}",
        text(&bad)
    );
    Ok(())
}
