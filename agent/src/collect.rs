//! Inventory collectors (to be written).

use kiemke_shared::Inventory;

/// Collects this machine's inventory.
pub fn collect_inventory() -> Inventory {
    Inventory::default()
}
