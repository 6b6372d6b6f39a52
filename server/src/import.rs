//! Imports of the spreadsheets officers and provinces keep (CSV and XLSX).
//!
//! - [`table`]: reading a CSV or XLSX file into header + numbered rows of
//!   text, with size and row limits (shared by every import), so errors can
//!   say "dòng 12".
//! - [`assets`]: the manual asset list (photocopiers, scanners without a
//!   network, UPS, network gear): columns, validation, line-numbered errors.
//! - [`communes`]: the province's list of communes and their sites.
//!
//! Imports are all or nothing: every row is checked first, every error is
//! reported with its line, and only a file without errors is written.
//! Importing the same file again changes nothing.

pub mod assets;
pub mod communes;
pub mod table;
