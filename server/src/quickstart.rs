//! `kiemke-server quickstart`: the first thing a new user runs. Starts the
//! server on its embedded store, runs the agent on this PC once against it,
//! and prints where to see the result; then serves until Ctrl-C.
//!
//! The agent's own state (its id, queue and enrollment) goes in
//! `<data>/agent`, so a quickstart leaves nothing outside its data directory.
//! The local agent is enrolled like any other — a one-use token created for
//! it, exchanged over HTTP(S) — under the placeholder commune `00000`; a
//! later quickstart on the same directory reuses that enrollment.

use std::net::SocketAddr;

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::Utc;
use kiemke_agent::config::Overrides;
use kiemke_agent::enrollment::{self, EnrollOptions};
use kiemke_agent::tls::ServerTrust;
use kiemke_shared::auth::EnrollmentToken;
use kiemke_shared::{CommuneCode, Lang};
use tokio::sync::oneshot;

use crate::auth::tokens::{self, NewToken};
use crate::config::{self, ServeArgs};
use crate::serve;
use crate::store::Store;
use crate::tls::TlsSetup;

/// The commune the quickstart's own agent is filed under ("not a real
/// commune": no official code is 00000).
pub const QUICKSTART_COMMUNE: &str = "00000";

/// `quickstart [--demo]` with the `serve` flags.
#[derive(Debug, clap::Args)]
pub struct QuickstartArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Nạp một tỉnh mẫu (135 xã, thiết bị, đường truyền) để xem thử khảo sát
    /// toàn tỉnh; chỉ khi kho dữ liệu chưa có xã nào (load a demo province
    /// into an empty store)
    #[arg(long)]
    pub demo: bool,
}

/// Runs the quickstart until Ctrl-C or SIGTERM.
pub async fn quickstart(args: QuickstartArgs) -> anyhow::Result<()> {
    let demo = args.demo;
    let args = args.serve;
    let config = config::load(&args)?;
    let lang = config.lang;
    let listener = match serve::bind(config.listen, lang).await {
        Ok(listener) => listener,
        // The default port is taken (another program, or an earlier
        // quickstart): a first try should still just work.
        Err(e) if args.listen.is_none() => {
            eprintln!(
                "{e:#}\n{}",
                lang.pick("Dùng một cổng trống khác.", "Using another free port.")
            );
            serve::bind(SocketAddr::new(config.listen.ip(), 0), lang).await?
        }
        Err(e) => return Err(e),
    };
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    let store = Store::open(&config.data_dir).map_err(|e| anyhow!(e.message(lang)))?;
    if demo {
        let demo_store = store.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            if demo_store.communes()?.is_empty() {
                let spec = crate::fixture::FixtureSpec::province(1, Utc::now());
                crate::cli::survey::load_fixture(&demo_store, &spec, lang)?;
            }
            Ok(())
        })
        .await??;
    }
    let tls = crate::tls::prepare(&config).map_err(|e| {
        anyhow!(
            "{}: {e}",
            lang.pick("Không thiết lập được HTTPS", "Cannot set up HTTPS")
        )
    })?;
    // The local agent reaches the server on loopback (a name the server's
    // own certificate is valid for).
    let scheme = if tls.is_some() { "https" } else { "http" };
    let local = if addr.ip().is_unspecified() {
        SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    let base = format!("{scheme}://{local}/");
    let agent_dir = config.data_dir.join("agent");
    let token = enrollment_token(&store, &agent_dir)?;

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            _ = serve::shutdown_signal() => {},
            _ = stop_rx => {},
        }
    };
    let request_timeout = config.request_timeout;
    let trust = trust_of(tls.as_ref());
    let mut server = tokio::spawn(serve::serve_prepared(
        config, store, tls, listener, shutdown,
    ));
    if let Some(token) = token {
        let options = EnrollOptions {
            server: kiemke_agent::deliver::parse_server_url(&base)?,
            token,
            trust,
            insecure_http: false,
            lang,
            timeout: request_timeout,
        };
        let enrolled = tokio::select! {
            enrolled = enrollment::enroll(&agent_dir, options) => enrolled,
            ended = &mut server => return ended.context("server task failed")?,
        };
        if let Err(e) = enrolled {
            let _ = stop_tx.send(());
            let _ = server.await;
            return Err(anyhow!(e).context(lang.pick(
                "không đăng ký được tác tử của máy này",
                "cannot enroll this PC's agent",
            )));
        }
    }

    let agent_config = kiemke_agent::config::load(&Overrides {
        server: Some(base.clone()),
        data_dir: Some(agent_dir),
        lang: Some(lang),
        ..Overrides::default()
    })?;
    let outcome = tokio::select! {
        outcome = kiemke_agent::cli::report_once(&agent_config) => outcome,
        // The server stopped before the agent finished: its error says why.
        ended = &mut server => return ended.context("server task failed")?,
    };
    match outcome {
        Ok(done) if done.summary.last_error.is_none() => {
            let device = done
                .summary
                .last_device
                .map(|id| format!("{base}devices/{id}"));
            print_done(lang, &base, device.as_deref());
        }
        Ok(done) => {
            let _ = stop_tx.send(());
            let _ = server.await;
            anyhow::bail!(
                "{}: {}",
                lang.pick(
                    "tác tử không gửi được báo cáo",
                    "the agent could not deliver its report"
                ),
                done.summary.last_error.unwrap_or_default()
            );
        }
        Err(e) => {
            let _ = stop_tx.send(());
            let _ = server.await;
            return Err(e.context(lang.pick("tác tử không chạy được", "the agent failed")));
        }
    }
    server.await.context("server task failed")?
}

/// A one-use token for the local agent, unless it is already enrolled with
/// this store (an earlier quickstart on the same directory).
fn enrollment_token(store: &Store, agent_dir: &Path) -> anyhow::Result<Option<EnrollmentToken>> {
    let agent_id = kiemke_agent::state::load_or_create_agent_id(agent_dir)?;
    let enrolled_here = store
        .agent(&agent_id)
        .map_err(|e| anyhow!(e))?
        .is_some_and(|a| a.revoked_at.is_none());
    if enrolled_here && enrollment::load(agent_dir)?.is_some() {
        return Ok(None);
    }
    let new = NewToken {
        commune: CommuneCode::parse(QUICKSTART_COMMUNE)?,
        site: None,
        lifetime: Duration::from_secs(3600),
        max_uses: 1,
    };
    let (token, _) = tokens::issue(store, &new, Utc::now()).map_err(|e| anyhow!(e))?;
    Ok(Some(token))
}

/// The local agent pins the server's own CA; a certificate from the
/// operator is trusted through the public CAs.
fn trust_of(tls: Option<&TlsSetup>) -> ServerTrust {
    match tls.and_then(|t| t.ca_fingerprint.as_deref()) {
        Some(fp) => ServerTrust::Fingerprint {
            sha256: fp.replace(':', "").to_ascii_lowercase(),
        },
        None => ServerTrust::System,
    }
}

fn print_done(lang: Lang, base: &str, device: Option<&str>) {
    match lang {
        Lang::Vi => {
            println!("Đã kiểm kê máy tính này và gửi báo cáo về máy chủ.");
            if let Some(device) = device {
                println!("Thông tin máy này: {device}");
            }
            println!("Danh sách thiết bị: {base}");
            println!("Mở địa chỉ trên bằng trình duyệt. Nhấn Ctrl-C để dừng máy chủ.");
        }
        Lang::En => {
            println!("This PC has been inventoried and its report sent to the server.");
            if let Some(device) = device {
                println!("This PC: {device}");
            }
            println!("All devices: {base}");
            println!("Open the address above in a browser. Press Ctrl-C to stop the server.");
        }
    }
}
