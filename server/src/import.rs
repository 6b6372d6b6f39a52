//! Imports from the files provinces already keep: the list of communes and
//! their sites as CSV or XLSX ([`communes`]), read through a generic
//! tabular reader ([`table`]) that numbers every row as the user sees it
//! in their spreadsheet, so errors can say "dòng 12".
//!
//! Imports are all or nothing: every row is checked first, every error is
//! reported with its line, and only a file without errors is written, in
//! one transaction. Importing the same file again changes nothing.

pub mod communes;
pub mod table;
