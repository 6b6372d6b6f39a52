//! HTTPS. [`prepare`] turns the configured [`TlsMode`] into a rustls server
//! configuration: the operator's certificate chain and key, or a certificate
//! from the server's own CA ([`own_ca`]), whose SHA-256 fingerprint agents
//! pin (`kiemke-agent enroll --ca-fingerprint`). [`run`] serves the same
//! router through the same connection loop as plain HTTP
//! ([`crate::routes::connections`]), which bounds the handshake time like
//! the header read time, so a client that connects and stalls does not hold
//! a connection.
//!
//! rustls runs on the `ring` provider, chosen explicitly rather than through
//! a process default.

pub mod own_ca;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::config::{ServerConfig, TlsMode};
use crate::routes;
use crate::state::AppState;

/// Why HTTPS cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    Load { path: PathBuf, detail: String },
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
    #[error("invalid certificate name {0}")]
    Name(String),
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

/// Ready-to-serve TLS, and what the operator needs to tell the agents.
#[derive(Clone)]
pub struct TlsSetup {
    pub config: Arc<rustls::ServerConfig>,
    /// The own CA's SHA-256 fingerprint (`AB:CD:…`), for `--ca-fingerprint`.
    pub ca_fingerprint: Option<String>,
    /// The own CA's certificate file, for `--ca FILE`.
    pub ca_file: Option<PathBuf>,
    /// The names the own certificate is valid for.
    pub names: Vec<String>,
    /// Whether the own CA was created just now.
    pub created: bool,
}

/// SHA-256 of a certificate (DER), as `AB:CD:…` (what `openssl x509
/// -fingerprint -sha256` prints, so an operator can check it either way).
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names the own certificate covers: loopback, this machine's name, the
/// listening address when it is a specific one, and `tls-name`s.
pub fn certificate_names(config: &ServerConfig) -> Vec<String> {
    let mut names: Vec<String> = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
    if let Some(host) = machine_name() {
        names.push(host);
    }
    let ip = config.listen.ip();
    if !ip.is_unspecified() {
        names.push(ip.to_string());
    }
    names.extend(
        config
            .tls_names
            .iter()
            .map(|n| n.trim().to_ascii_lowercase()),
    );
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| !n.is_empty() && seen.insert(n.clone()));
    names
}

fn machine_name() -> Option<String> {
    let name = std::env::var("COMPUTERNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())?;
    let name = name.trim().to_ascii_lowercase();
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    valid.then_some(name)
}

/// Loads or creates the certificates the configuration asks for (`None`:
/// plain HTTP).
pub fn prepare(config: &ServerConfig) -> Result<Option<TlsSetup>, TlsError> {
    match &config.tls {
        TlsMode::Off => Ok(None),
        TlsMode::Files { cert, key } => {
            let chain = read_chain(cert)?;
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Load {
                path: key.clone(),
                detail: e.to_string(),
            })?;
            Ok(Some(TlsSetup {
                config: server_config(chain, key_der)?,
                ca_fingerprint: None,
                ca_file: None,
                names: Vec::new(),
                created: false,
            }))
        }
        TlsMode::SelfSigned => {
            let names = certificate_names(config);
            let ca = own_ca::load_or_create(&config.data_dir.join("tls"), &names, Utc::now())?;
            let ca_file = ca.ca_file();
            let ca_der = CertificateDer::from_pem_slice(ca.ca_pem.as_bytes()).map_err(|e| {
                TlsError::Load {
                    path: ca_file.clone(),
                    detail: e.to_string(),
                }
            })?;
            let chain = CertificateDer::pem_slice_iter(ca.chain_pem.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| TlsError::Load {
                    path: ca.dir.clone(),
                    detail: e.to_string(),
                })?;
            let key = PrivateKeyDer::from_pem_slice(ca.key_pem.as_bytes()).map_err(|e| {
                TlsError::Load {
                    path: ca.dir.clone(),
                    detail: e.to_string(),
                }
            })?;
            Ok(Some(TlsSetup {
                config: server_config(chain, key)?,
                ca_fingerprint: Some(fingerprint(&ca_der)),
                ca_file: Some(ca_file),
                names,
                created: ca.created,
            }))
        }
    }
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Load {
            path: path.to_owned(),
            detail: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::Load {
            path: path.to_owned(),
            detail: "no certificate in the file".into(),
        });
    }
    Ok(chain)
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // HTTP/1.1 only, like the plain listener (see `routes::connections`).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves the application over TLS on `listener` until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn run(
    listener: TcpListener,
    tls: &TlsSetup,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls.config.clone());
    routes::run_with_tls(listener, state, Some(acceptor), shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_look_like_openssl_s() {
        let fp = fingerprint(b"");
        assert_eq!(fp.len(), 32 * 3 - 1);
        assert!(fp.starts_with("E3:B0:C4:42"), "{fp}");
    }

    #[test]
    fn the_own_ca_is_created_once_and_the_certificate_follows_the_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let now = Utc::now();
        let first = own_ca::load_or_create(dir.path(), &names, now).expect("create");
        let again = own_ca::load_or_create(dir.path(), &names, now).expect("reuse");
        let more = [names.clone(), vec!["kiemke.gialai.gov.vn".to_owned()]].concat();
        let renamed = own_ca::load_or_create(dir.path(), &more, now).expect("reissue");

        assert!(first.created && !again.created);
        assert_eq!(first.ca_pem, again.ca_pem);
        assert_eq!(first.chain_pem, again.chain_pem, "reused as is");
        assert_eq!(renamed.ca_pem, first.ca_pem, "same CA: pins stay valid");
        assert_ne!(renamed.chain_pem, first.chain_pem, "new certificate");
        let chain: Vec<_> = CertificateDer::pem_slice_iter(renamed.chain_pem.as_bytes())
            .collect::<Result<_, _>>()
            .expect("chain");
        assert_eq!(chain.len(), 2, "server certificate, then the CA");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("ca-key.pem"))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the CA key is owner-only");
        }
    }
}
