//! Imports of the spreadsheets officers keep (CSV and XLSX).
//!
//! - [`table`]: reading a CSV or XLSX file into header + numbered rows of
//!   text, with size and row limits (shared by every import).
//! - [`assets`]: the manual asset list (photocopiers, scanners without a
//!   network, UPS, network gear): columns, validation, line-numbered errors.

pub mod assets;
pub mod table;
