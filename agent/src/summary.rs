//! Readable inventory summary (to be written).

use kiemke_shared::{Inventory, Lang};

/// Renders the summary printed by `kiemke-agent inventory`.
pub fn render(inventory: &Inventory, lang: Lang) -> String {
    let _ = lang;
    format!("{:?}", inventory.hostname)
}
