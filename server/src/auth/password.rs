//! Passwords: argon2id hashes in PHC strings (RustCrypto's `argon2` with its
//! default, OWASP-recommended parameters: 19 MiB, 2 passes, 1 lane), the
//! rules a new password must meet, and generated passwords for first starts
//! and resets.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use kiemke_shared::Lang;
use rand::Rng;

/// Shorter passwords are refused.
pub const MIN_LEN: usize = 10;
/// Longer ones too: hashing is deliberately slow, a megabyte password is a
/// way to make it slower.
pub const MAX_LEN: usize = 128;

/// Why a new password is refused (message in the user's language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRule {
    #[error("password shorter than {MIN_LEN} characters")]
    TooShort,
    #[error("password longer than {MAX_LEN} characters")]
    TooLong,
}

impl PasswordRule {
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PasswordRule::TooShort, Lang::Vi) => {
                format!("Mật khẩu phải có ít nhất {MIN_LEN} ký tự.")
            }
            (PasswordRule::TooShort, Lang::En) => {
                format!("The password must have at least {MIN_LEN} characters.")
            }
            (PasswordRule::TooLong, Lang::Vi) => {
                format!("Mật khẩu dài quá {MAX_LEN} ký tự.")
            }
            (PasswordRule::TooLong, Lang::En) => {
                format!("The password is longer than {MAX_LEN} characters.")
            }
        }
    }
}

/// Checks a password a person chose.
pub fn check_rules(password: &str) -> Result<(), PasswordRule> {
    let len = password.chars().count();
    if len < MIN_LEN {
        Err(PasswordRule::TooShort)
    } else if len > MAX_LEN {
        Err(PasswordRule::TooLong)
    } else {
        Ok(())
    }
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Whether `password` matches the PHC string `phc` (false for a damaged
/// string, and for anything over [`MAX_LEN`] without hashing it).
pub fn verify(password: &str, phc: &str) -> bool {
    if password.chars().count() > MAX_LEN {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of no one's password, verified against when the user does not
/// exist so that the answer takes as long as for a real user.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("kiemke-no-such-user").unwrap_or_default())
}

/// A random password that is easy to read out and type: 16 characters
/// without look-alikes (0/O, 1/l/I), about 90 bits.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_and_verify_only_the_password() {
        let phc = hash("mật khẩu đúng 2025").expect("hash");
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("mật khẩu"));
        assert!(verify("mật khẩu đúng 2025", &phc));
        assert!(!verify("mật khẩu sai 2025", &phc));
        assert!(!verify("mật khẩu đúng 2025", "not a phc string"));
        assert!(!verify(&"x".repeat(MAX_LEN + 1), &phc));
        // Same password, another salt.
        assert_ne!(phc, hash("mật khẩu đúng 2025").expect("hash"));
    }

    #[test]
    fn generated_passwords_meet_the_rules_and_differ() {
        let a = generate();
        assert_eq!(a.len(), 16);
        assert!(check_rules(&a).is_ok());
        assert_ne!(a, generate());
        assert_eq!(check_rules("short"), Err(PasswordRule::TooShort));
        assert_eq!(
            check_rules(&"x".repeat(MAX_LEN + 1)),
            Err(PasswordRule::TooLong)
        );
        assert!(PasswordRule::TooShort.message(Lang::Vi).contains("ít nhất"));
    }
}
