//! How the agent trusts the server's certificate. Chosen at enrollment and
//! kept in the enrollment file:
//!
//! - [`ServerTrust::System`]: the public CAs built into the agent (a server
//!   with a certificate from a public CA).
//! - [`ServerTrust::Ca`]: only this CA (`enroll --ca FILE`); the built-in
//!   CAs are not used for this server.
//! - [`ServerTrust::Fingerprint`]: only a CA whose SHA-256 fingerprint is
//!   pinned (`enroll --ca-fingerprint HEX`, as the server printed it). The
//!   server sends its CA in its chain; [`PinnedCa`] picks the certificate
//!   with the pinned fingerprint out of that chain and verifies the server's
//!   certificate against it (signature, validity, name) like any CA.
//!
//! There is no path that accepts an unverified certificate.

use std::sync::Arc;

use kiemke_shared::auth::hex;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which certificates the agent accepts from its server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ServerTrust {
    System,
    /// A CA certificate in PEM.
    Ca {
        pem: String,
    },
    /// SHA-256 of the CA certificate (DER), 64 lowercase hex digits.
    Fingerprint {
        sha256: String,
    },
}

/// Why a trust setting cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("not a SHA-256 fingerprint (64 hex digits, colons allowed): {0:?}")]
    Fingerprint(String),
    #[error("no certificate in the CA file: {0}")]
    CaPem(String),
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("TLS setup failed: {0}")]
    Verifier(String),
}

/// Normalises a fingerprint as printed by the server (`AB:CD:…`) or by
/// other tools (`abcd…`, spaces) to 64 lowercase hex digits.
pub fn parse_fingerprint(s: &str) -> Result<String, TlsError> {
    let digits: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | ' ' | '-'))
        .collect::<String>()
        .to_ascii_lowercase();
    let digits = digits.strip_prefix("sha256").unwrap_or(&digits).to_owned();
    if digits.len() == 64 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digits)
    } else {
        Err(TlsError::Fingerprint(s.chars().take(120).collect()))
    }
}

/// Checks that a PEM file holds at least one certificate.
pub fn check_ca_pem(pem: &str) -> Result<(), TlsError> {
    let certs: Vec<_> = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| TlsError::CaPem(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::CaPem("empty".into()));
    }
    Ok(())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration for `trust` (`None`: reqwest's own, with the
/// built-in public CAs).
pub fn client_config(trust: &ServerTrust) -> Result<Option<rustls::ClientConfig>, TlsError> {
    let builder = || {
        rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
    };
    let mut config = match trust {
        ServerTrust::System => return Ok(None),
        ServerTrust::Ca { pem } => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots.add(cert.map_err(|e| TlsError::CaPem(e.to_string()))?)?;
            }
            if roots.is_empty() {
                return Err(TlsError::CaPem("empty".into()));
            }
            builder()?
                .with_root_certificates(roots)
                .with_no_client_auth()
        }
        ServerTrust::Fingerprint { sha256 } => builder()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedCa {
                sha256: parse_fingerprint(sha256)?,
                provider: provider(),
            }))
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Some(config))
}

/// The server's chain does not hold the pinned CA.
#[derive(thiserror::Error)]
#[error("no certificate with the pinned SHA-256 {0} in the server's chain")]
struct PinMismatch(String);

// rustls shows the cause with `Debug`: make it read like the message.
impl std::fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Verifies the server's certificate against the CA with a pinned
/// fingerprint, found in the chain the server presents.
#[derive(Debug)]
pub struct PinnedCa {
    sha256: String,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let pinned = |c: &CertificateDer<'_>| hex(&Sha256::digest(c.as_ref())) == self.sha256;
        // The server's own certificate pinned directly: it is exactly the one.
        if pinned(end_entity) {
            return Ok(ServerCertVerified::assertion());
        }
        let Some(anchor) = intermediates.iter().find(|c| pinned(c)) else {
            return Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(PinMismatch(self.sha256.clone()))),
            )));
        };
        let mut roots = RootCertStore::empty();
        roots.add(anchor.clone().into_owned())?;
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_in_any_common_spelling() {
        let canonical = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let colons = canonical
            .as_bytes()
            .chunks(2)
            .map(|p| String::from_utf8_lossy(p).to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        for spelling in [canonical.to_owned(), colons, format!("sha256:{canonical}")] {
            assert_eq!(
                parse_fingerprint(&spelling).ok().as_deref(),
                Some(canonical)
            );
        }
        for bad in ["", "abcd", &canonical[1..], &canonical.replace('e', "g")] {
            assert!(parse_fingerprint(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trust_settings_build_or_refuse() {
        assert!(matches!(client_config(&ServerTrust::System), Ok(None)));
        let pinned = ServerTrust::Fingerprint {
            sha256: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855".into(),
        };
        assert!(matches!(client_config(&pinned), Ok(Some(_))));
        let empty = ServerTrust::Ca { pem: String::new() };
        assert!(client_config(&empty).is_err());
        assert!(check_ca_pem("not a pem").is_err());
    }
}
