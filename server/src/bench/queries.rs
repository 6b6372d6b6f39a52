//! `kiemke-server bench queries --devices N`: a province (or a country)
//! of about `N` PCs from the fixture generator, loaded through the store's
//! ingest ([`crate::fixture::load`]) into a new data directory; then a real
//! `serve` child process on it, and the pages and exports a province
//! administrator uses, timed over HTTP (with the admin token: a province
//! administrator's rights): the overview (page and API), a commune page,
//! the list of PCs flagged `replace`, the province's XLSX export and a
//! consolidated proposal. Then the server's memory, the store's size, and
//! the time to restart and serve the overview again.
//!
//! `--data DIR` loads into `DIR` and keeps it; a later run with the same
//! `--data` (and the same `--devices`/`--seed`, which pick the commune
//! page) skips the load and measures that store as it is — opened by this
//! build, so a store from an older build is upgraded first (the time is
//! printed). Its earlier runs' writes stay in it (e.g. the proposals the
//! previous run created).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use clap::Args;
use kiemke_shared::Lang;

use super::measure::{self, Latencies};
use super::spawn::SpawnedServer;
use crate::fixture::{self, FixtureSpec};
use crate::policy::Policy;

pub const MAX_DEVICES: usize = 400_000;

/// `kiemke-server bench queries`.
#[derive(Debug, Args)]
pub struct QueriesArgs {
    /// Số máy tính của tỉnh giả lập, khoảng (PCs, about)
    #[arg(long, default_value_t = 10_000)]
    pub devices: usize,
    /// Số lần đo mỗi truy vấn (samples per query)
    #[arg(long, default_value_t = 20)]
    pub samples: usize,
    /// Số ngày lịch sử đo đường truyền của mỗi điểm (days of probe history
    /// per site)
    #[arg(long, default_value_t = 90)]
    pub probe_days: u32,
    /// Mỗi điểm đo ping một lần mỗi chừng ấy phút (minutes between bursts)
    #[arg(long, default_value_t = 60)]
    pub probe_every_minutes: u32,
    /// Hạt giống (seed)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Ngôn ngữ: vi hoặc en (language)
    #[arg(long, env = "KIEMKE_SERVER_LANG", value_name = "vi|en")]
    pub lang: Option<Lang>,
    /// Thư mục kho: nạp vào đó và giữ lại; nếu đã có kho thì dùng lại, không
    /// nạp (store directory: loaded and kept; reused without loading when
    /// it already holds a store)
    #[arg(long, value_name = "DIR")]
    pub data: Option<std::path::PathBuf>,
}

struct Query {
    name_vi: &'static str,
    name_en: &'static str,
    post: Option<serde_json::Value>,
    path: String,
    samples: usize,
}

/// `kiemke-server bench queries`.
pub async fn command(args: QueriesArgs) -> anyhow::Result<()> {
    let lang = args.lang.unwrap_or_default();
    if args.devices == 0 || args.devices > MAX_DEVICES {
        bail!("--devices: 1..={MAX_DEVICES}");
    }
    if args.samples == 0 || args.samples > 1_000 {
        bail!("--samples: 1..=1000");
    }
    // 20–80 PCs per commune, 50 on average.
    let spec = FixtureSpec {
        communes: args.devices.div_ceil(50),
        ..FixtureSpec::province(args.seed, Utc::now())
    };
    let started = Instant::now();
    let province = fixture::generate(&spec);
    let pcs = province.pcs();
    let middle = province.communes[province.communes.len() / 2]
        .record
        .code
        .clone();
    eprintln!(
        "{}",
        match lang {
            Lang::Vi => format!(
                "Nạp {} xã, {pcs} máy tính qua đường nhận báo cáo của kho...",
                spec.communes
            ),
            Lang::En => format!(
                "Loading {} communes, {pcs} PCs through the store's ingest...",
                spec.communes
            ),
        }
    );
    let as_of = spec.now.date_naive();
    let (probe_days, every) = (args.probe_days.min(400), args.probe_every_minutes.max(1));
    let now = spec.now;
    let (data, seed) = (args.data.clone(), args.seed);
    let reuse = (data.as_deref())
        .is_some_and(|d| std::fs::read_dir(d).is_ok_and(|mut e| e.next().is_some()));
    let (server, loaded, history_note) = tokio::task::spawn_blocking(move || {
        let mut loaded = None;
        let mut history_note = String::new();
        let prepare = |dir: &std::path::Path| {
            let opening = Instant::now();
            let store =
                crate::store::Store::open(dir).map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            if reuse {
                loaded = Some(fixture::load::Loaded {
                    communes: store.communes().map_err(|e| anyhow::anyhow!(e.message(lang)))?.len(),
                    sites: (store.sites(None))
                        .map_err(|e| anyhow::anyhow!(e.message(lang)))?
                        .len(),
                    reports: usize::try_from(store.report_count()).unwrap_or(usize::MAX),
                    devices: usize::try_from(store.device_count()).unwrap_or(usize::MAX),
                });
                history_note = match lang {
                    Lang::Vi => format!(
                        "Dùng lại kho đã nạp ở {} (không nạp lại); mở kho mất {:.1} s",
                        dir.display(),
                        opening.elapsed().as_secs_f64()
                    ),
                    Lang::En => format!(
                        "Reused the store loaded earlier in {} (no load); opening it took {:.1} s",
                        dir.display(),
                        opening.elapsed().as_secs_f64()
                    ),
                };
                return Ok(());
            }
            let done = fixture::load::load(&store, &province, Policy::shipped(), as_of, |d, n| {
                if d % 50 == 0 || d == n {
                    eprint!("\r{d}/{n}    ");
                }
            })
            .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
            eprintln!();
            loaded = Some(done);
            // Each site's probe PC: `probe_days` daily reports of bursts,
            // through the ingest; then the retention a server applies.
            if probe_days > 0 {
                use rand::SeedableRng;
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x005e_ed0f_1157);
                let mut reports = 0usize;
                for (i, commune) in province.communes.iter().enumerate() {
                    for pc in commune.pcs.iter().take(commune.sites.len()) {
                        let history = fixture::hardware::probe_history(
                            &mut rng,
                            pc.agent_id,
                            now,
                            probe_days,
                            every,
                        );
                        for (report, at) in &history {
                            store
                                .ingest_blocking_from(report, Some(&pc.origin), *at)
                                .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
                            reports += 1;
                        }
                    }
                    if (i + 1) % 50 == 0 || i + 1 == province.communes.len() {
                        eprint!("\r{}/{}    ", i + 1, province.communes.len());
                    }
                }
                eprintln!();
                let before = measure::dir_bytes(dir)?;
                let done = store
                    .apply_line_retention(now, crate::store::line_rollups::Retention::default())
                    .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
                let after = measure::dir_bytes(dir)?;
                history_note = match lang {
                    Lang::Vi => format!(
                        "Lịch sử đo: {probe_days} ngày, mỗi {every} phút một lần ping ({reports} báo cáo); \
                         kho {} trước khi gộp, {} sau khi gộp {} kết quả cũ hơn 30 ngày thành {} bản theo ngày",
                        measure::bytes(before),
                        measure::bytes(after),
                        done.samples_rolled_up,
                        done.days_written
                    ),
                    Lang::En => format!(
                        "Probe history: {probe_days} days, a burst every {every} min ({reports} reports); \
                         store {} before retention, {} after folding {} samples older than 30 days into {} daily rollups",
                        measure::bytes(before),
                        measure::bytes(after),
                        done.samples_rolled_up,
                        done.days_written
                    ),
                };
            }
            Ok(())
        };
        let server = match &data {
            Some(dir) => {
                SpawnedServer::start_in(dir.clone(), None, lang, Duration::from_secs(600), prepare)?
            }
            None => SpawnedServer::start(lang, Duration::from_secs(600), prepare)?,
        };
        anyhow::Ok((server, loaded, history_note))
    })
    .await??;
    let mut server = server;
    let loaded = loaded.context("loaded")?;
    let load_time = started.elapsed();

    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?;
    let queries = [
        Query {
            name_vi: "tổng quan tỉnh (lần đầu, tính mọi xã)",
            name_en: "province overview (first, every commune computed)",
            post: None,
            path: "/survey".into(),
            samples: 1,
        },
        Query {
            name_vi: "tổng quan tỉnh (trang)",
            name_en: "province overview (page)",
            post: None,
            path: "/survey".into(),
            samples: args.samples,
        },
        Query {
            name_vi: "tổng quan tỉnh (API)",
            name_en: "province overview (API)",
            post: None,
            path: "/api/v1/survey".into(),
            samples: args.samples,
        },
        Query {
            name_vi: "trang một xã",
            name_en: "a commune page",
            post: None,
            path: format!("/communes/{middle}"),
            samples: args.samples,
        },
        Query {
            name_vi: "máy cần thay (1000 đầu)",
            name_en: "PCs flagged replace (first 1000)",
            post: None,
            path: "/api/v1/devices?status=replace&limit=1000".into(),
            samples: args.samples,
        },
        Query {
            name_vi: "xuất XLSX cả tỉnh",
            name_en: "XLSX export of the province",
            post: None,
            path: "/export/survey.xlsx".into(),
            samples: args.samples.min(5),
        },
        Query {
            name_vi: "tờ trình tổng hợp của tỉnh",
            name_en: "consolidated province proposal",
            post: Some(serde_json::json!({"province": true})),
            path: "/api/v1/proposals".into(),
            samples: args.samples.min(3),
        },
    ];
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{}",
        match lang {
            Lang::Vi => format!(
                "Tỉnh giả lập: {} xã, {} điểm, {} máy tính ({} báo cáo), {} {:.0} s",
                loaded.communes,
                loaded.sites,
                loaded.devices,
                loaded.reports,
                if reuse { "chuẩn bị" } else { "nạp trong" },
                load_time.as_secs_f64()
            ),
            Lang::En => format!(
                "Fixture: {} communes, {} sites, {} PCs ({} reports), {} {:.0} s",
                loaded.communes,
                loaded.sites,
                loaded.devices,
                loaded.reports,
                if reuse { "ready in" } else { "loaded in" },
                load_time.as_secs_f64()
            ),
        }
    );
    if !history_note.is_empty() {
        let _ = writeln!(out, "{history_note}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{}",
        lang.pick(
            "| truy vấn | đường dẫn | số lần | p50 ms | p95 ms | tối đa ms | kích thước |",
            "| query | path | samples | p50 ms | p95 ms | max ms | size |"
        )
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for q in &queries {
        let mut latencies = Latencies::default();
        let mut size = 0;
        let mut failed = None;
        for _ in 0..q.samples {
            let url = format!("{}{}", server.url.trim_end_matches('/'), q.path);
            let request = match &q.post {
                Some(body) => http.post(url).json(body),
                None => http.get(url),
            };
            let sent = Instant::now();
            let response = request.bearer_auth(&server.admin_token).send().await?;
            let status = response.status();
            let body = response.bytes().await?;
            latencies.push(sent.elapsed());
            if !status.is_success() {
                // A refusal is a finding (e.g. the request timeout): shown
                // in the row, and the query is not repeated.
                failed = Some(format!("HTTP {}", status.as_u16()));
                break;
            }
            size = body.len() as u64;
        }
        latencies.finish();
        let _ = writeln!(
            out,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            lang.pick(q.name_vi, q.name_en),
            q.path,
            q.samples,
            measure::ms(latencies.percentile(50.0)),
            measure::ms(latencies.percentile(95.0)),
            measure::ms(latencies.percentile(100.0)),
            failed.unwrap_or_else(|| measure::bytes(size)),
        );
    }
    let _ = writeln!(out);
    if let Some((rss, peak)) = measure::rss_kib(server.pid()) {
        let _ = writeln!(
            out,
            "{} {} ({} {})",
            lang.pick("RAM máy chủ (VmRSS):", "Server RSS (VmRSS):"),
            measure::bytes(rss * 1024),
            lang.pick("đỉnh", "peak"),
            measure::bytes(peak * 1024)
        );
    }
    let disk = measure::dir_bytes(&server.data_dir)?;
    let _ = writeln!(
        out,
        "{} {} ({} {})",
        lang.pick("Kho dữ liệu trên đĩa:", "Store on disk:"),
        measure::bytes(disk),
        measure::bytes(disk / (loaded.devices.max(1) as u64)),
        lang.pick("mỗi máy tính", "per PC"),
    );
    // Recovery: kill, start on the same store, first overview served.
    let restarted = server.restart(lang, Duration::from_secs(600))?;
    let sent = Instant::now();
    let response = http
        .get(format!("{}/survey", server.url.trim_end_matches('/')))
        .bearer_auth(&server.admin_token)
        .send()
        .await?;
    let ok = response.status().is_success();
    let _ = response.bytes().await?;
    let first = sent.elapsed();
    let _ = writeln!(
        out,
        "{} {:.2} s + {:.0} ms{}",
        lang.pick(
            "Khởi động lại (kill -9): sẵn sàng sau, rồi trang tổng quan đầu tiên:",
            "Restart after kill -9: ready after, then the first overview:"
        ),
        restarted.as_secs_f64(),
        first.as_secs_f64() * 1e3,
        if ok { "" } else { " (!)" }
    );
    print!("{out}");
    Ok(())
}
