//! Equipment-upgrade proposals: from what the inventory flagged, the Tờ
//! trình a commune leader signs (Word), its annex (Excel), and a print view;
//! per commune, and consolidated for the province.
//!
//! # Layout
//! - [`input`]: what a proposal is built from, frozen with it when saved.
//! - [`gather`]: reads that input from the store.
//! - [`lines`]: the one function that says which sites' lines are below
//!   target (from stored throughput tests, until per-site line status).
//! - [`prices`]: unit prices set by the author, checked against the norms.
//! - [`build`]: input and prices → items, totals, notes (pure).
//! - [`words`]: amounts in Vietnamese words ("Bằng chữ: …").
//! - [`text`]: the document's words, shared by every format.
//! - [`docx`], [`xlsx`], [`page`]: the Word document, the workbook, the
//!   print view (HTML).
//!
//! Saved proposals (number, date, state, author, frozen input) live in
//! [`crate::store::proposals`]; the HTTP routes in
//! [`crate::routes::proposals`]; the command in `cli/proposal.rs`.

pub mod build;
pub mod docx;
pub mod gather;
pub mod input;
pub mod lines;
pub mod page;
pub mod prices;
pub mod text;
pub mod words;
pub mod xlsx;

pub use build::{Item, Proposal, Purpose};
pub use input::{ProposalInput, Scope};
pub use prices::PriceOverride;
pub use text::DocMeta;

/// A built proposal with the words of its document.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rendered {
    pub proposal: Proposal,
    pub text: text::DocText,
}

/// Builds the proposal and its document text.
pub fn render(input: &ProposalInput, prices: &[PriceOverride], meta: &DocMeta) -> Rendered {
    let proposal = build::build(input, prices);
    let text = text::document(input, &proposal, meta);
    Rendered { proposal, text }
}
