//! `kiemke-server`: the province server. Agents on commune office PCs POST
//! their reports here; the server stores each report once, works out which
//! physical device it came from, and shows the inventory.
//!
//! # Layout
//! - [`config`]: CLI flags over a TOML file over named defaults.
//! - [`store`]: the embedded database (sled) and device identity; the only
//!   module that touches sled.

pub mod config;
pub mod store;
