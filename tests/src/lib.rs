//! The end-to-end test harness: starts the real server as a process on port 0
//! with its own sled directory, drives the real agent code against it, and
//! offers typed helpers for the API. Set `TEST_LOG=1` to see the server's log.
//!
//! # Layout
//! - [`server`]: [`server::ServerProcess`], start / kill -9 / restart.
//! - [`agent`]: [`agent::TestAgent`], an agent installation with its own
//!   data directory, using the agent library's spool and delivery.
//! - [`cups`]: a private cupsd on a Unix socket, for print-queue tests
//!   (root only).
//! - [`lan`]: an office LAN in network namespaces with snmpsim devices,
//!   for discovery tests (root only).
//! - [`fixtures`]: inventories of made-up PCs with chosen hardware identities.

pub mod agent;
pub mod cups;
pub mod fixtures;
pub mod lan;
pub mod server;
