//! TLS to the database, over rustls (ring), configured like libpq: `sslmode` and `sslrootcert` in
//! the connection string.
//!
//! | `sslmode` | what rolestack does |
//! |---|---|
//! | absent, `disable` | plain TCP (the embedded default never needs more) |
//! | `prefer` | TLS when the server offers it, plain otherwise; a certificate it offers is verified |
//! | `require`, `verify-ca`, `verify-full` | TLS or no connection |
//!
//! Whenever TLS is used the server's certificate chain is verified against `sslrootcert` (a PEM
//! file of CA certificates) or, without it, the Web PKI roots, and its name against the host:
//! rolestack never accepts an unverified database certificate (stricter than libpq's `require`,
//! which encrypts without verifying; see docs/scale-out.md).

use std::sync::Arc;

use postgres::config::SslMode;
use postgres::{Client, Config, NoTls};
use rolestack_core::{Error, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use tokio_postgres_rustls::MakeRustlsConnect;

/// How connections to the database are made.
#[derive(Clone)]
pub enum DatabaseTls {
    Off,
    On { connector: MakeRustlsConnect, mode: SslMode },
}

fn tls_err(what: impl std::fmt::Display) -> Error {
    Error::Store(format!("postgres TLS: {what}"))
}

impl DatabaseTls {
    /// From libpq's `sslmode` and `sslrootcert` (both optional).
    pub fn new(sslmode: Option<&str>, root_cert: Option<&str>) -> Result<DatabaseTls> {
        let mode = match sslmode.unwrap_or("disable") {
            "disable" => return Ok(DatabaseTls::Off),
            "prefer" => SslMode::Prefer,
            "require" | "verify-ca" | "verify-full" => SslMode::Require,
            other => return Err(tls_err(format!("unknown sslmode {other:?} (disable, prefer, require, verify-ca or verify-full)"))),
        };
        let mut roots = rustls::RootCertStore::empty();
        match root_cert {
            Some(path) => {
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                    .map_err(|e| tls_err(format!("sslrootcert {path}: {e}")))?
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|e| tls_err(format!("sslrootcert {path}: {e}")))?;
                if certs.is_empty() {
                    return Err(tls_err(format!("sslrootcert {path} holds no certificate")));
                }
                for cert in certs {
                    roots.add(cert).map_err(|e| tls_err(format!("sslrootcert {path}: {e}")))?;
                }
            }
            None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(DatabaseTls::On { connector: MakeRustlsConnect::new(config), mode })
    }

    /// Sets the connection's `sslmode`.
    pub fn configure(&self, config: &mut Config) {
        match self {
            DatabaseTls::Off => config.ssl_mode(SslMode::Disable),
            DatabaseTls::On { mode, .. } => config.ssl_mode(*mode),
        };
    }

    pub(crate) fn connect(&self, config: &Config) -> Result<Client> {
        let client = match self {
            DatabaseTls::Off => config.connect(NoTls),
            DatabaseTls::On { connector, .. } => config.connect(connector.clone()),
        };
        client.map_err(|e| {
            // The cause too ("invalid peer certificate: UnknownIssuer", ...), not only "TLS handshake".
            let mut text = format!("postgres: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            Error::Store(text)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes() {
        assert!(matches!(DatabaseTls::new(None, None).unwrap(), DatabaseTls::Off));
        assert!(matches!(DatabaseTls::new(Some("disable"), None).unwrap(), DatabaseTls::Off));
        assert!(matches!(DatabaseTls::new(Some("verify-full"), None).unwrap(), DatabaseTls::On { mode: SslMode::Require, .. }));
        assert!(DatabaseTls::new(Some("allow-anything"), None).is_err());
        assert!(DatabaseTls::new(Some("require"), Some("/nonexistent/ca.pem")).is_err());
    }
}
