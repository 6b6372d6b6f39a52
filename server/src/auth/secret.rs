//! Secrets: drawn from the operating system's CSPRNG (through `rand`'s
//! thread RNG, a ChaCha generator seeded and reseeded from the OS), stored as
//! SHA-256 hashes, and compared in constant time.
//!
//! A plain SHA-256 is the right hash here: the secrets are 256 random bits,
//! so there is nothing to brute-force and a slow password hash would only
//! cost CPU on every report.

use kiemke_shared::auth::{SECRET_BYTES, Secret, TokenId, hex};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A new random secret.
pub fn generate() -> Secret {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    Secret::from_bytes(&bytes)
}

/// A new random token id (48 bits: ids are public, uniqueness is checked).
pub fn generate_token_id() -> TokenId {
    let mut bytes = [0u8; TokenId::LEN / 2];
    rand::rng().fill_bytes(&mut bytes);
    TokenId::from_bytes(&bytes)
}

/// What the store keeps of a secret: `sha256:<hex>`.
pub fn hash(secret: &Secret) -> String {
    format!(
        "sha256:{}",
        hex(&Sha256::digest(secret.expose().as_bytes()))
    )
}

/// Whether `secret` is the one whose [`hash`] is `stored`, in time that does
/// not depend on where the two differ.
pub fn verify(secret: &Secret, stored: &str) -> bool {
    let computed = hash(secret);
    computed.len() == stored.len() && bool::from(computed.as_bytes().ct_eq(stored.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_verify_only_against_their_hash() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        let stored = hash(&a);
        assert!(stored.starts_with("sha256:") && stored.len() == 7 + 64);
        assert!(!stored.contains(a.expose()), "the hash is not the secret");
        assert!(verify(&a, &stored));
        assert!(!verify(&b, &stored));
        assert!(!verify(&a, ""));
        assert!(!verify(&a, &stored[..stored.len() - 1]));
    }

    #[test]
    fn the_hash_is_sha256_of_the_hex_secret() {
        // Pinned, so that a change of encoding cannot silently lock every
        // enrolled agent out.
        let secret = Secret::from_bytes(&[0; SECRET_BYTES]);
        assert_eq!(
            hash(&secret),
            "sha256:60e05bd1b195af2f94112fa7197a5c88289058840ce7c6df9693756bc6250f55"
        );
    }
}
