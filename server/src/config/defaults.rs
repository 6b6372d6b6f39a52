//! Named defaults: what the server runs with when neither the command line
//! nor the configuration file says otherwise. Sized for one province server
//! (a few thousand PCs reporting daily) on modest hardware.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use kiemke_shared::Lang;

/// Loopback only: exposing the server on the network is a decision the
/// operator makes explicitly (`--listen 0.0.0.0:8080`).
pub const LISTEN: SocketAddr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8080));

/// Relative to the working directory, like the agent's data directory.
pub const DATA_DIR: &str = "./kiemke-data";

/// A real report is a few KiB compressed; 4 MiB leaves room for PCs with
/// unusual hardware while refusing abuse before it reaches memory.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// Caps what a gzip body may expand to (a gzip bomb of a few KiB could
/// otherwise expand to gigabytes).
pub const MAX_DECOMPRESSED_BYTES: usize = 16 << 20;

/// Long enough for a slow commune line to upload a report, short enough that
/// a stalled client does not hold a connection slot forever.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Requests handled at once; more are refused at once with 503 and
/// `Retry-After` (agents keep the report and retry with backoff).
pub const MAX_CONCURRENT_REQUESTS: usize = 512;

/// What a 503 asks the client to wait before retrying.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// A client must send a whole request head (line and headers) within this,
/// also between keep-alive requests: a slowloris client is cut off.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Open connections at once; further ones wait in the kernel's backlog.
/// Above the request limit, so keep-alive connections between requests do
/// not starve new clients.
pub const MAX_CONNECTIONS: usize = 2048;
/// Throughput tests one client (agent, else IP address) may start per hour:
/// a daily scheduled test plus a few on demand or by hand.
pub const SPEEDTEST_TESTS_PER_HOUR: u32 = 6;

/// Longest one throughput test may run, both directions and pauses
/// included: the agent's longest test is 2 × 60 s.
pub const SPEEDTEST_MAX_SECONDS: u64 = 150;

/// Most bytes one test may move, both directions: 150 s at over 200 Mbit/s.
pub const SPEEDTEST_MAX_BYTES: u64 = 4 << 30;

/// Tests at once across all clients: each may fill the province's line.
pub const SPEEDTEST_MAX_CONCURRENT: usize = 4;

/// The users are Vietnamese commune and province officers.
pub const LANG: Lang = Lang::Vi;
