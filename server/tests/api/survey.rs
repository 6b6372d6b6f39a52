//! The province survey over HTTP: the JSON API and the pages agree with a
//! seeded fixture, sorting and filtering work by query parameters, the
//! exports carry the API's numbers, and the forms refuse bad input without
//! storing anything.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Duration, Utc};
use kiemke_server::config::AdminToken;
use kiemke_server::fixture::{self, FixtureSpec};
use kiemke_server::policy::Policy;
use kiemke_shared::CommuneCode;

use crate::helpers::TestApp;

const ADMIN: &str = "survey-admin-token-0123456789";
const BEARER: &str = "Bearer survey-admin-token-0123456789";

/// An app holding a small seeded province (8 communes).
fn seeded() -> (TestApp, fixture::Province) {
    let app = TestApp::with_config(|c| {
        c.admin_token = Some(AdminToken::parse(ADMIN).expect("long enough"));
    });
    // Reports received up to two days ago stay "recent" for the survey,
    // which runs on the real clock.
    let spec = FixtureSpec {
        seed: 11,
        communes: 8,
        pcs_min: 20,
        pcs_max: 24,
        now: Utc::now() - Duration::minutes(5),
        province: "Gia Lai".into(),
    };
    let province = fixture::generate(&spec);
    fixture::load::load(
        &app.store,
        &province,
        Policy::shipped(),
        kiemke_server::policy::today(),
        |_, _| {},
    )
    .expect("fixture loads");
    (app, province)
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Vec<u8>) {
    let (status, _, body) = app.get(path, &[("authorization", BEARER)]).await;
    (status, body.to_vec())
}

fn html(body: &[u8]) -> String {
    String::from_utf8(body.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn the_survey_needs_a_viewer() {
    let (app, _) = seeded();
    let anonymous = |path: &str| Request::get(path).body(Body::empty()).expect("request");
    let (status, _, _) = app.request(anonymous("/api/v1/survey")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for path in ["/survey", "/communes/23000", "/export/survey.xlsx"] {
        let (status, headers, _) = app.request(anonymous(path)).await;
        assert!(status.is_redirection(), "{path}: {status}");
        let to = headers["location"].to_str().expect("location");
        assert!(to.starts_with("/login?next="), "{path}: {to}");
    }
}

#[tokio::test]
async fn the_api_and_the_overview_show_each_communes_light() {
    let (app, province) = seeded();
    let (status, body) = get(&app, "/api/v1/survey").await;
    assert_eq!(status, StatusCode::OK);
    let survey: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let communes = survey["communes"].as_array().expect("communes");
    assert_eq!(communes.len(), 8);
    for (built, seen) in province.communes.iter().zip(communes) {
        let unmet = built.profile.expected_unmet();
        let light = match unmet {
            0 => "xanh",
            1..=5 => "vang",
            _ => "do",
        };
        assert_eq!(seen["light"], light, "{}", built.record.name);
        assert_eq!(seen["pcs"], built.pcs.len());
    }
    assert_eq!(survey["totals"]["communes"], 8);

    let (status, body) = get(&app, "/survey").await;
    assert_eq!(status, StatusCode::OK);
    let page = html(&body);
    assert!(
        page.contains("Khảo sát hạ tầng mạng"),
        "Vietnamese by default"
    );
    for c in &province.communes {
        assert!(page.contains(&c.record.full_name_vi()), "{}", c.record.name);
    }

    // Filter by light: only those rows.
    let (_, body) = get(&app, "/survey?light=xanh").await;
    let page = html(&body);
    let greens = province
        .communes
        .iter()
        .filter(|c| c.profile.expected_unmet() == 0)
        .count();
    assert_eq!(page.matches("data-light=\"xanh\"").count(), greens);
    assert_eq!(page.matches("data-light=\"vang\"").count(), 0);

    // Sort by name, descending: rows come in that order.
    let (_, body) = get(&app, "/survey?sort=name&dir=desc&lang=en").await;
    let page = html(&body);
    let mut names: Vec<String> = province
        .communes
        .iter()
        .map(|c| c.record.full_name_vi())
        .collect();
    names.sort();
    names.reverse();
    let positions: Vec<usize> = names
        .iter()
        .map(|n| page.find(n.as_str()).expect("row"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    assert!(page.contains("Province survey"));

    // A bad parameter is refused with a message, not ignored.
    let (status, body) = get(&app, "/survey?sort=population").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html(&body).contains("Cột sắp xếp phải là một trong"));
}

#[tokio::test]
async fn a_commune_page_shows_sites_charts_devices_and_silent_pcs() {
    let (app, province) = seeded();
    let built = province
        .communes
        .iter()
        .find(|c| c.profile.many_silent || c.profile.slow_sites > 0)
        .unwrap_or(&province.communes[0]);
    let code = built.record.code.as_str();
    let (status, body) = get(&app, &format!("/communes/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    let page = html(&body);
    assert!(page.contains(&built.record.full_name_vi()));
    assert_eq!(
        page.matches("<svg class=\"trend\"").count(),
        built.sites.len()
    );
    for site in &built.sites {
        assert!(page.contains(&format!("data-site=\"{}\"", site.site.site)));
    }
    let silent = built.pcs.iter().filter(|p| p.silent).count();
    assert_eq!(page.matches("badge watch\">im lặng").count(), silent);
    // The API has the same devices.
    let (_, body) = get(&app, &format!("/api/v1/survey/communes/{code}")).await;
    let detail: serde_json::Value = serde_json::from_slice(&body).expect("json");
    let pcs = detail["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .filter(|d| d["pc"] == true)
        .count();
    assert_eq!(pcs, built.pcs.len());

    // A PC's page has its lifecycle; a printer's its page counter.
    let devices = detail["devices"].as_array().expect("devices");
    let pc = devices.iter().find(|d| d["pc"] == true).expect("a PC");
    let (status, body) = get(
        &app,
        &format!("/devices/{}", pc["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = html(&body);
    assert!(page.contains("Lịch sử trạng thái") && page.contains("Bằng chứng về tuổi máy"));
    let mut printer = None;
    for c in &province.communes {
        let (_, body) = get(&app, &format!("/api/v1/survey/communes/{}", c.record.code)).await;
        let detail: serde_json::Value = serde_json::from_slice(&body).expect("json");
        printer = detail["devices"]
            .as_array()
            .expect("devices")
            .iter()
            .find(|d| d["page_count"].is_u64())
            .cloned();
        if printer.is_some() {
            break;
        }
    }
    let printer = printer.expect("a network printer in the province");
    let (status, body) = get(
        &app,
        &format!("/devices/{}", printer["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let page = html(&body);
    assert!(
        page.contains("Bộ đếm trang") && page.contains("<svg"),
        "{page}"
    );

    let (status, _) = get(&app, "/communes/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = get(&app, "/api/v1/survey/communes/12ab").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html(&body).contains("5 chữ số"));
}

#[tokio::test]
async fn exports_carry_the_apis_numbers() {
    use calamine::{Data, Reader, Xlsx};
    let (app, province) = seeded();
    let (_, body) = get(&app, "/api/v1/survey").await;
    let survey: serde_json::Value = serde_json::from_slice(&body).expect("json");

    let (status, bytes) = get(&app, "/export/survey.xlsx").await;
    assert_eq!(status, StatusCode::OK);
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).expect("xlsx");
    let names = book.sheet_names();
    assert_eq!(names[0], "Tổng hợp");
    assert!(names.iter().any(|n| n == "Máy vi tính để bàn"), "{names:?}");
    let summary = book.worksheet_range("Tổng hợp").expect("summary");
    let header: Vec<String> = summary
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(ToString::to_string)
        .collect();
    let col = |title: &str| header.iter().position(|h| h == title).expect(title);
    assert_eq!(summary.height(), 1 + province.communes.len());
    for (row, api) in summary
        .rows()
        .skip(1)
        .zip(survey["communes"].as_array().expect("communes"))
    {
        assert_eq!(
            row[col("Mã xã")].to_string(),
            api["code"].as_str().expect("code")
        );
        let number = |title: &str| match &row[col(title)] {
            Data::Float(f) => *f,
            other => panic!("{title}: {other:?}"),
        };
        assert_eq!(number("Số máy tính"), api["pcs"].as_f64().expect("pcs"));
        assert_eq!(
            number("Đề xuất thay thế"),
            api["replace"].as_f64().expect("replace")
        );
        assert_eq!(
            number("Tỷ lệ thay thế (%)"),
            api["replace_share_percent"].as_f64().expect("share")
        );
    }

    let (status, bytes) = get(&app, "/export/survey.csv?table=devices").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = html(&bytes[3..]);
    assert_eq!(
        text.lines().count(),
        1 + survey["totals"]["devices_total"].as_u64().expect("n") as usize
    );
}

#[tokio::test]
async fn forms_create_communes_and_sites_and_refuse_bad_input() {
    let (app, _) = seeded();
    let post = |path: &str, body: &str| {
        Request::post(path)
            .header("authorization", BEARER)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .expect("request")
    };
    let (status, _, body) = app
        .request(post(
            "/communes",
            "code=24A18&kind=xa&name=Ia+Grai&province=Gia+Lai",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html(&body).contains("Mã xã phải gồm 5 chữ số"));
    let code = CommuneCode::parse("24121").expect("code");
    assert!(
        app.store.commune(&code).expect("read").is_none(),
        "nothing stored"
    );

    let (status, headers, _) = app
        .request(post(
            "/communes",
            "code=24121&kind=xa&name=Ia+Grai&province=Gia+Lai",
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/communes/24121?lang=vi");
    assert_eq!(
        app.store
            .commune(&code)
            .expect("read")
            .expect("stored")
            .full_name_vi(),
        "xã Ia Grai"
    );

    let (status, _, body) = app
        .request(post(
            "/communes/24121/sites",
            "code=ttpvhcc&kind=service-center&name=TTPVHCC&lines=vnpt%3Awifi",
        ))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html(&body).contains("Đường truyền dòng 1"),
        "{}",
        html(&body)
    );
    assert!(app.store.sites(Some(&code)).expect("read").is_empty());
    let (status, _, _) = app
        .request(post(
            "/communes/24121/sites",
            "code=ttpvhcc&kind=service-center&name=TTPVHCC&lines=vnpt%3Ainternet%3A300&staff=9",
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let sites = app.store.sites(Some(&code)).expect("read");
    assert_eq!((sites.len(), sites[0].staff), (1, Some(9)));
    // The new commune shows, with its site unmeasured (one unmet criterion
    // for the line, one for no reports, one for no scanner).
    let (_, body) = get(&app, "/api/v1/survey/communes/24121").await;
    let detail: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(detail["light"], "vang");
    assert_eq!(detail["unmet"].as_array().expect("unmet").len(), 3);
}

/// A multipart body with one file field.
fn multipart(file_name: &str, content: &str) -> (String, String) {
    let boundary = "----kiemke-test-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn the_import_previews_then_commits_and_refuses_bad_files_whole() {
    let (app, _) = seeded();
    let send = |path: &str, content_type: String, body: String| {
        Request::post(path)
            .header("authorization", BEARER)
            .header("content-type", content_type)
            .body(Body::from(body))
            .expect("request")
    };
    let bad = "Mã xã,Loại,Tên xã,Tỉnh\n24118,xã,Biển Hồ,Gia Lai\n2412,xã,Ia Grai,Gia Lai\n";
    let (content_type, body) = multipart("xa.csv", bad);
    let (status, _, page) = app
        .request(send("/import/preview", content_type, body))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        html(&page).contains("Dòng 3: mã xã phải gồm 5 chữ số"),
        "{}",
        html(&page)
    );
    let code = CommuneCode::parse("24118").expect("code");
    assert!(app.store.commune(&code).expect("read").is_none());

    let good = "Mã xã,Loại,Tên xã,Tỉnh,Mã điểm,Loại điểm,Tên điểm\n\
                24118,xã,Biển Hồ,Gia Lai,ttpvhcc,service-center,TTPVHCC xã Biển Hồ\n";
    let (content_type, body) = multipart("xa.csv", good);
    let (status, _, page) = app
        .request(send("/import/preview", content_type, body))
        .await;
    let page = html(&page);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("thêm mới: 1 xã, 1 điểm"), "{page}");
    assert!(
        app.store.commune(&code).expect("read").is_none(),
        "a preview writes nothing"
    );
    let data = page
        .split("name=\"data\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the commit form carries the file");
    let (status, headers, _) = app
        .request(send(
            "/import/commit",
            "application/x-www-form-urlencoded".into(),
            format!("format=csv&data={data}"),
        ))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/survey?lang=vi");
    assert_eq!(
        app.store
            .commune(&code)
            .expect("read")
            .expect("imported")
            .full_name_vi(),
        "xã Biển Hồ"
    );
    assert_eq!(app.store.sites(Some(&code)).expect("sites").len(), 1);
}
