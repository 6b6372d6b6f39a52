//! Accepting connections, with the limits a slow or hostile client meets
//! before any request exists: at most `max-connections` open at once (the
//! next waits in the kernel's backlog, as in mini-redis), and a client must
//! send a complete request head within `header-read-timeout` (also between
//! keep-alive requests), or its connection is closed. Once a request has
//! its head, the router's layers take over (request timeout, load shedding).
//!
//! `axum::serve` offers neither knob, so this is the same hyper-util loop it
//! runs, plus the two limits and graceful shutdown. With a TLS acceptor the
//! handshake runs first, within the same `header-read-timeout`, so a client
//! that connects and stalls mid-handshake is dropped like a slow one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request};
use axum::{BoxError, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::Service;

/// Limits on connections (from the server configuration).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// Longest wait for a complete request head (slowloris).
    pub header_read_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

/// How long to back off when `accept` fails (e.g. out of file descriptors)
/// before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` (over TLS when `tls` is given) until
/// `shutdown` completes; then stops accepting, asks every open connection to
/// finish its request in flight, and waits for them.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // never closed
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(cause = %e, "không nhận được kết nối / accept failed");
                    tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (app, watcher, tls) = (app.clone(), graceful.watcher(), tls.clone());
        tokio::spawn(async move {
            let served = match tls {
                None => serve_connection(stream, peer, app, limits, watcher).await,
                Some(acceptor) => {
                    let handshake = acceptor.accept(stream);
                    match tokio::time::timeout(limits.header_read_timeout, handshake).await {
                        Ok(Ok(stream)) => {
                            serve_connection(stream, peer, app, limits, watcher).await
                        }
                        Ok(Err(e)) => Err(e.into()),
                        Err(elapsed) => Err(elapsed.into()),
                    }
                }
            };
            if let Err(e) = served {
                tracing::debug!(cause = %e, "kết nối kết thúc với lỗi / connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Serves one HTTP/1.1 connection from `peer` on any byte stream, with the header read
/// timeout; `graceful` can ask it to stop after its request in flight.
///
/// HTTP/1.1 only: detecting HTTP/2 means waiting for the client's first
/// bytes *before* the header timer starts, so a client that connects and
/// says nothing would hold its connection forever. Agents speak HTTP/1.1; a
/// TLS front must offer only `http/1.1` in ALPN.
pub fn serve_connection<S>(
    io: S,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    graceful: Watcher,
) -> impl Future<Output = Result<(), BoxError>> + Send + 'static
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // Handlers that need the client's address (the throughput test limiter)
    // find it as axum's `ConnectInfo`, as with `into_make_service_with_connect_info`.
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().call(request)
    });
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .into_owned();
    graceful.watch(connection)
}
