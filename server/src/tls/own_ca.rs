//! The server's own CA, for provinces without a certificate from a public
//! CA: generated once in `<data>/tls/`, reused on every later start, and
//! pinned by agents through its SHA-256 fingerprint.
//!
//! Files (keys owner-only on Unix):
//! - `ca.pem`, `ca-key.pem`: the CA (20 years). Its key signs only this
//!   server's certificate; losing it means re-pinning every agent.
//! - `server.pem` (certificate then CA), `server-key.pem`: the server
//!   certificate (5 years), for the names in `server-names.json`. It is
//!   reissued by the same CA when the names change or it nears expiry, so the
//!   agents' pin stays valid.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, Utc};
use kiemke_shared::auth::hex;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TlsError;

const CA_CERT: &str = "ca.pem";
const CA_KEY: &str = "ca-key.pem";
const SERVER_CERT: &str = "server.pem";
const SERVER_KEY: &str = "server-key.pem";
const SERVER_NAMES: &str = "server-names.json";

const CA_YEARS: i32 = 20;
const SERVER_DAYS: i64 = 5 * 365;
/// A server certificate this close to expiry is reissued at start.
const RENEW_BEFORE_DAYS: i64 = 60;

/// The PEM files of the own CA and the current server certificate.
#[derive(Debug, Clone)]
pub struct OwnCa {
    pub dir: PathBuf,
    pub ca_pem: String,
    pub chain_pem: String,
    pub key_pem: String,
    /// Whether the CA was created by this call (first start).
    pub created: bool,
}

impl OwnCa {
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join(CA_CERT)
    }
}

/// What the server certificate was issued for.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Issued {
    names: Vec<String>,
    not_after: DateTime<Utc>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

fn rcgen_err(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

/// Writes a file atomically; `secret` files are owner-only on Unix (on
/// Windows the data directory's ACL, set by the installer, protects them).
fn write(path: &Path, text: &str, secret: bool) -> Result<(), TlsError> {
    let tmp = path.with_extension("tmp");
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    file.write_all(text.as_bytes()).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// A day as rcgen takes it: (year, month, day).
fn ymd(t: DateTime<Utc>) -> (i32, u8, u8) {
    // month() is 1..=12 and day() 1..=31: the conversions cannot fail.
    let month = u8::try_from(t.month()).unwrap_or(1);
    let day = u8::try_from(t.day()).unwrap_or(1);
    (t.year(), month, day)
}

fn validity(params: &mut CertificateParams, from: DateTime<Utc>, to: DateTime<Utc>) {
    let (y, m, d) = ymd(from);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(to);
    params.not_after = rcgen::date_time_ymd(y, m, d);
}

/// The CA's parameters, rebuilt the same way from its key every time: the
/// subject carries a short hash of the CA's public key, so two servers' CAs
/// never share a name, and a server certificate can be reissued after a
/// restart without parsing the stored CA certificate.
fn ca_params(key: &KeyPair, now: DateTime<Utc>) -> CertificateParams {
    let tag = hex(&Sha256::digest(key.public_key_raw())[..4]);
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Kiểm kê");
    name.push(DnType::CommonName, format!("Kiểm kê CA {tag}"));
    let mut params = CertificateParams::default();
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(
        &mut params,
        now - Duration::days(1),
        now.with_year(now.year() + CA_YEARS)
            .unwrap_or(now + Duration::days(365 * 20)),
    );
    params
}

/// Loads the CA and server certificate from `dir`, creating or reissuing
/// what is missing, stale, or issued for other names.
pub fn load_or_create(dir: &Path, names: &[String], now: DateTime<Utc>) -> Result<OwnCa, TlsError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
    }
    let (ca_cert, ca_key) = (dir.join(CA_CERT), dir.join(CA_KEY));
    let (ca_pem, ca_key_pem, created) = if ca_cert.exists() && ca_key.exists() {
        let cert = fs::read_to_string(&ca_cert).map_err(io(&ca_cert))?;
        let key = fs::read_to_string(&ca_key).map_err(io(&ca_key))?;
        (cert, key, false)
    } else {
        let key = KeyPair::generate().map_err(rcgen_err)?;
        let cert = ca_params(&key, now).self_signed(&key).map_err(rcgen_err)?;
        let (cert, key) = (cert.pem(), key.serialize_pem());
        write(&ca_key, &key, true)?;
        write(&ca_cert, &cert, false)?;
        (cert, key, true)
    };
    let ca_key = KeyPair::from_pem(&ca_key_pem).map_err(|e| TlsError::Load {
        path: ca_key.clone(),
        detail: e.to_string(),
    })?;

    let (server_cert, server_key, issued_file) = (
        dir.join(SERVER_CERT),
        dir.join(SERVER_KEY),
        dir.join(SERVER_NAMES),
    );
    let issued: Option<Issued> = fs::read_to_string(&issued_file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let current = !created
        && server_cert.exists()
        && server_key.exists()
        && issued.is_some_and(|i| {
            i.names == names && i.not_after - now > Duration::days(RENEW_BEFORE_DAYS)
        });
    if !current {
        let key = KeyPair::generate().map_err(rcgen_err)?;
        let mut params = CertificateParams::new(names.to_vec())
            .map_err(|e| TlsError::Name(format!("{names:?}: {e}")))?;
        let mut name = DistinguishedName::new();
        name.push(DnType::OrganizationName, "Kiểm kê");
        name.push(
            DnType::CommonName,
            names.first().cloned().unwrap_or_else(|| "kiemke".into()),
        );
        params.distinguished_name = name;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let not_after = now + Duration::days(SERVER_DAYS);
        validity(&mut params, now - Duration::days(1), not_after);
        let issuer = Issuer::new(ca_params(&ca_key, now), &ca_key);
        let cert = params.signed_by(&key, &issuer).map_err(rcgen_err)?;
        write(&server_key, &key.serialize_pem(), true)?;
        write(&server_cert, &format!("{}{ca_pem}", cert.pem()), false)?;
        let issued = Issued {
            names: names.to_vec(),
            not_after,
        };
        let json =
            serde_json::to_string_pretty(&issued).map_err(|e| TlsError::Generate(e.to_string()))?;
        write(&issued_file, &json, false)?;
    }
    Ok(OwnCa {
        dir: dir.to_owned(),
        chain_pem: fs::read_to_string(&server_cert).map_err(io(&server_cert))?,
        key_pem: fs::read_to_string(&server_key).map_err(io(&server_key))?,
        ca_pem,
        created,
    })
}
