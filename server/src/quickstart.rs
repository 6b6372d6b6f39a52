//! `kiemke-server quickstart`: the first thing a new user runs. Starts the
//! server on its embedded store, runs the agent on this PC once against it,
//! and prints where to see the result; then serves until Ctrl-C.
//!
//! The agent's own state (its id and queue) goes in `<data>/agent`, so a
//! quickstart leaves nothing outside its data directory.

use std::net::SocketAddr;

use anyhow::Context;
use kiemke_agent::config::Overrides;
use kiemke_shared::Lang;
use tokio::sync::oneshot;

use crate::config::{self, ServeArgs};
use crate::serve;

/// Runs the quickstart until Ctrl-C or SIGTERM.
pub async fn quickstart(args: ServeArgs) -> anyhow::Result<()> {
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
    let base = format!("http://{addr}/");
    let agent_dir = config.data_dir.join("agent");

    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let shutdown = async move {
        tokio::select! {
            _ = serve::shutdown_signal() => {},
            _ = stop_rx => {},
        }
    };
    let mut server = tokio::spawn(serve::serve(config, listener, shutdown));

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
