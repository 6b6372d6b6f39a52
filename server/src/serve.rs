//! Running the server: bind, open the store, set up TLS, announce the
//! address, serve until ctrl-c or SIGTERM, flush. [`serve`] takes an already
//! bound listener and a shutdown future so that other commands (e.g. a
//! quickstart) and tests can run the real server on port 0 and stop it when
//! they choose; [`serve_prepared`] takes the store and TLS already set up.
//!
//! Plain HTTP off loopback only happens with `--insecure-http`, and then a
//! warning says so on every start.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;

use anyhow::{Context, anyhow};
use kiemke_shared::Lang;
use tokio::net::TcpListener;

use crate::config::ServerConfig;
use crate::policy::Policy;
use crate::routes;
use crate::state::AppState;
use crate::store::Store;
use crate::tls::TlsSetup;

/// Binds the listening socket, with a message the operator can act on.
pub async fn bind(addr: SocketAddr, lang: Lang) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| {
        let hint = match (e.kind(), lang) {
            (std::io::ErrorKind::AddrInUse, Lang::Vi) => {
                " (cổng đang được một chương trình khác dùng; hãy dừng chương trình đó \
                 hoặc chọn cổng khác bằng --listen)"
            }
            (std::io::ErrorKind::AddrInUse, Lang::En) => {
                " (another program is using the port; stop it or choose another port with --listen)"
            }
            _ => "",
        };
        match lang {
            Lang::Vi => anyhow!("Không mở được cổng {addr}: {e}{hint}"),
            Lang::En => anyhow!("Cannot listen on {addr}: {e}{hint}"),
        }
    })
}

/// The line printed on stdout once the server is ready; scripts and tests
/// find the port in it (it always ends with `http://IP:PORT/`).
pub fn ready_line(addr: SocketAddr, lang: Lang) -> String {
    ready_line_for(addr, false, lang)
}

/// [`ready_line`] for a server that may speak HTTPS (ends with
/// `https://IP:PORT/` then).
pub fn ready_line_for(addr: SocketAddr, tls: bool, lang: Lang) -> String {
    let scheme = if tls { "https" } else { "http" };
    match lang {
        Lang::Vi => format!("Kiểm kê đang chạy tại {scheme}://{addr}/"),
        Lang::En => format!("Kiểm kê is running at {scheme}://{addr}/"),
    }
}

/// The lines that tell the operator how agents will trust this server.
fn tls_lines(tls: Option<&TlsSetup>, addr: SocketAddr, insecure: bool, lang: Lang) -> Vec<String> {
    let Some(tls) = tls else {
        if insecure && !addr.ip().is_loopback() {
            return vec![
                lang.pick(
                    "CẢNH BÁO: máy chủ nhận kết nối HTTP KHÔNG MÃ HÓA từ mạng (--insecure-http). \
                     Mã đăng ký và báo cáo có thể bị đọc trộm trên đường truyền.",
                    "WARNING: the server accepts UNENCRYPTED HTTP from the network \
                     (--insecure-http). Tokens and reports can be read on the line.",
                )
                .to_owned(),
            ];
        }
        return Vec::new();
    };
    let mut lines = Vec::new();
    if let Some(fp) = &tls.ca_fingerprint {
        if tls.created {
            lines.push(
                lang.pick(
                    "Đã tạo CA riêng của máy chủ (lần chạy đầu).",
                    "Created the server's own CA (first start).",
                )
                .to_owned(),
            );
        }
        lines.push(match lang {
            Lang::Vi => format!("Dấu vân tay CA (SHA-256): {fp}"),
            Lang::En => format!("CA fingerprint (SHA-256): {fp}"),
        });
        if let Some(file) = &tls.ca_file {
            lines.push(match lang {
                Lang::Vi => format!("Tệp CA: {}", file.display()),
                Lang::En => format!("CA file: {}", file.display()),
            });
        }
        lines.push(match lang {
            Lang::Vi => format!("Chứng chỉ dùng được cho: {}", tls.names.join(", ")),
            Lang::En => format!("Certificate valid for: {}", tls.names.join(", ")),
        });
    }
    lines
}

/// Loads the policy, opens the store in `config.data_dir`, brings the
/// devices' flags up to date, prints [`ready_line`], and serves
/// on `listener` until `shutdown` completes; then waits for requests in
/// flight and flushes the store.
pub async fn serve(
    config: ServerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let lang = config.lang;
    let store = Store::open(&config.data_dir).map_err(|e| anyhow!(e.message(lang)))?;
    let tls = crate::tls::prepare(&config).map_err(|e| {
        anyhow!(
            "{}: {e}",
            lang.pick("Không thiết lập được HTTPS", "Cannot set up HTTPS")
        )
    })?;
    serve_prepared(config, store, tls, listener, shutdown).await
}

/// [`serve`] with the store open and TLS prepared (`None`: plain HTTP).
pub async fn serve_prepared(
    config: ServerConfig,
    store: Store,
    tls: Option<TlsSetup>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let lang = config.lang;
    let data_dir = config.data_dir.clone();
    let policy = match &config.policy_file {
        Some(path) => Policy::load(path).map_err(|e| anyhow!(e.message(lang)))?,
        None => Policy::shipped().clone(),
    };
    let insecure_http = config.insecure_http;
    // The first start on an empty store: an administrator to log in with.
    let first_admin = store
        .blocking(|store| {
            crate::auth::accounts::ensure_first_admin(store)
                .map_err(|e| crate::store::StoreError::Task(e.to_string()))
        })
        .await
        .map_err(|e| anyhow!(e.message(lang)))?;
    if let Some(password) = first_admin {
        announce(&crate::auth::accounts::first_admin_line(&password, lang))
            .context("cannot write to stdout")?;
    }
    let state = AppState::new(store.clone(), config).with_policy(policy);
    refresh_flags(&state)
        .await
        .map_err(|e| anyhow!(e.message(lang)))?;
    let daily = tokio::spawn(refresh_flags_daily(state.clone()));
    let addr = listener
        .local_addr()
        .context("cannot read the listening address")?;
    for line in tls_lines(tls.as_ref(), addr, insecure_http, lang) {
        announce(&line).context("cannot write to stdout")?;
    }
    announce(&ready_line_for(addr, tls.is_some(), lang)).context("cannot write to stdout")?;
    tracing::info!(%addr, data_dir = %data_dir.display(), tls = tls.is_some(), "máy chủ đã sẵn sàng / server ready");

    let served = match &tls {
        Some(tls) => crate::tls::run(listener, tls, state, shutdown).await,
        None => routes::run(listener, state, shutdown).await,
    };
    // The refresh task holds a store handle: end it so the store closes.
    daily.abort();
    let _ = daily.await;
    let flushed = store.flush().await;
    served?;
    flushed.map_err(|e| anyhow!(e.message(lang)))?;
    tracing::info!("máy chủ đã dừng / server stopped");
    Ok(())
}

/// Recomputes every device's flags when they were computed with another
/// policy or on another day.
async fn refresh_flags(state: &AppState) -> Result<(), crate::store::StoreError> {
    let (policy, as_of) = (state.policy.clone(), state.as_of());
    let done = state
        .store
        .blocking(move |store| {
            if store.flags_stale(&policy, as_of)? {
                store.recompute_all(&policy, as_of).map(Some)
            } else {
                Ok(None)
            }
        })
        .await?;
    if let Some(done) = done {
        tracing::info!(
            devices = done.devices, changed = done.changed, policy = %state.policy.name(), %as_of,
            "đã đánh giá lại trạng thái thiết bị / flags recomputed"
        );
    }
    Ok(())
}

/// Recomputes the survey's out-of-date commune rows in the background: at
/// start (after a policy change every commune is out of date, and a page
/// view would otherwise pay for all of them) and then hourly (rows that
/// time alone changes: PCs turning silent, tests leaving the line window).
/// Page views still refresh what ingests marked since.
async fn refresh_survey(state: &AppState) {
    let policy = state.policy.clone();
    let started = std::time::Instant::now();
    match (state.store)
        .blocking(move |store| crate::survey::refresh(store, &policy, chrono::Utc::now()))
        .await
    {
        Ok(0) => {}
        Ok(communes) => tracing::info!(
            communes,
            ms = started.elapsed().as_millis(),
            "đã cập nhật số liệu khảo sát / survey rows refreshed"
        ),
        Err(e) => {
            tracing::error!(cause = %e, "không cập nhật được số liệu khảo sát / survey refresh failed")
        }
    }
}

/// Service lives end on dates, not on reports: re-evaluate when the day
/// changes, checking hourly, then catch up the survey's out-of-date rows
/// ([`refresh_survey`]); and fold old probe samples into daily rollups once
/// a day (`crate::store::line_rollups`). The first round runs at start.
async fn refresh_flags_daily(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    tick.tick().await;
    let mut retained_on = None;
    loop {
        if let Err(e) = refresh_flags(&state).await {
            tracing::error!(cause = %e, "không đánh giá lại được trạng thái / flag refresh failed");
        }
        refresh_survey(&state).await;
        // Probe retention once a day (the first time at start).
        let today = chrono::Utc::now().date_naive();
        if retained_on != Some(today) {
            retained_on = Some(today);
            let retention = state.config.probe_retention;
            match (state.store)
                .blocking(move |store| store.apply_line_retention(chrono::Utc::now(), retention))
                .await
            {
                Ok(done) => tracing::info!(?done, "đã gộp kết quả đo cũ / probe retention applied"),
                Err(e) => {
                    tracing::error!(cause = %e, "không gộp được kết quả đo cũ / probe retention failed")
                }
            }
        }
        tick.tick().await;
    }
}

/// Prints one line on stdout and flushes it at once (stdout may be a pipe
/// that a test or script is reading). Not async: the stdout lock must not be
/// held across an await.
fn announce(line: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()
}

/// Completes on ctrl-c or (on Unix) SIGTERM, the signal service managers
/// send to stop a service.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(cause = %e, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::warn!(cause = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("đang dừng máy chủ / shutting down");
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::fixture;

    /// At start every commune is out of date (here: just loaded, as after a
    /// bulk load or a policy change); the background catch-up recomputes
    /// them all, so the first page view finds nothing left to do.
    #[tokio::test]
    async fn the_background_catch_up_leaves_no_commune_out_of_date() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        fixture::load::small_province(&store, 3, 3, (5, 8));
        let policy = Policy::shipped();
        let stale = |store: &Store| {
            store
                .stale_survey_aggregates(&policy.fingerprint, Utc::now())
                .expect("stale")
                .len()
        };
        assert_eq!(stale(&store), 3, "loaded: every commune out of date");

        let state =
            AppState::new(store.clone(), ServerConfig::default()).with_policy(policy.clone());
        refresh_survey(&state).await;

        assert_eq!(stale(&store), 0, "caught up");
        let (_, left) = store
            .survey_overview_checked(&policy.fingerprint, Utc::now())
            .expect("overview rows");
        assert!(left.is_empty(), "the overview has nothing to recompute");
    }
}
