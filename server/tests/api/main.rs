//! The server's HTTP interface, driven through `router()` with `oneshot`
//! (no socket) and, in `serve`, through a real socket on port 0.

mod access;
mod devices;
mod flags;
mod fuzz;
mod helpers;
mod identity;
mod ingest;
mod limits;
mod manual_asset_forms;
mod pages;
mod peripherals;
mod proposal_pages;
mod proposals;
mod serve;
mod speedtest;
mod survey;
mod trust;
