//! HTTPS with a local certificate authority, so programs that hard-code `https://` and verify
//! certificates (the tea SDKs, the `ram_role_arn` credential providers, curl) talk to rolestack
//! unchanged once they trust one CA.
//!
//! The CA (`<data-dir>/ca.pem`, its key `ca.key`, 0600) is made on first start ([`LabCa::generate`])
//! and loaded afterwards. The TLS front-end presents, for the name a client asks for (SNI), a
//! certificate issued by that CA — when the name is one rolestack answers for: `localhost`, and
//! Alibaba Cloud's service names ([`rolestack_core::endpoints`]), virtual-hosted buckets
//! included. A connection without SNI (by IP address) gets the loopback certificate (`localhost`,
//! `127.0.0.1`, `::1`). Any other name also gets that one, so a client that asked for it fails
//! verification: rolestack never pretends to be a host it does not serve, and a client that does
//! not trust the CA gets a certificate error, never a silent downgrade.
//!
//! Leaf certificates share one key made at start and are issued on first use, then cached.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

/// Why the CA could not be made or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("TLS: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("{0}")]
    Pem(String),
}

/// The CA's certificate and key, as stored in the data directory (PEM).
#[derive(Debug, Clone)]
pub struct CaFiles {
    pub certificate_pem: String,
    pub key_pem: String,
}

/// Most leaf certificates kept; past this the cache starts afresh (names are few in practice).
const CACHE_LIMIT: usize = 4096;

/// The local CA, able to issue leaf certificates.
pub struct LabCa {
    certificate_pem: String,
    issuer: Issuer,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    loopback: Arc<CertifiedKey>,
}

/// What issuing a leaf certificate needs.
struct Issuer {
    ca_der: CertificateDer<'static>,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
    /// The one key every leaf certificate certifies.
    leaf_key: KeyPair,
    leaf_signer: Arc<dyn rustls::sign::SigningKey>,
}

impl Issuer {
    /// A leaf certificate for `names` (DNS names or IP addresses), valid for 90 days.
    fn issue(&self, names: &[String]) -> Result<Arc<CertifiedKey>, TlsError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        for n in names {
            params.subject_alt_names.push(match n.parse::<IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName(n.clone().try_into()?),
            });
        }
        params.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(90);
        let cert = params.signed_by(&self.leaf_key, &self.ca, &self.ca_key)?;
        Ok(Arc::new(CertifiedKey::new(vec![cert.der().clone(), self.ca_der.clone()], self.leaf_signer.clone())))
    }
}

impl std::fmt::Debug for LabCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LabCa").finish_non_exhaustive()
    }
}

impl LabCa {
    /// A new CA: ECDSA P-256, valid for ten years, its common name unique to this installation.
    pub fn generate() -> Result<CaFiles, TlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let id: String = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        params.distinguished_name.push(DnType::CommonName, format!("rolestack local CA {id}"));
        params.distinguished_name.push(DnType::OrganizationName, "rolestack");
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        Ok(CaFiles { certificate_pem: cert.pem(), key_pem: key.serialize_pem() })
    }

    /// Loads the CA from its files and prepares the loopback certificate.
    pub fn load(files: &CaFiles) -> Result<LabCa, TlsError> {
        let ca_key = KeyPair::from_pem(&files.key_pem)?;
        let ca = CertificateParams::from_ca_cert_pem(&files.certificate_pem)?.self_signed(&ca_key)?;
        let ca_der = CertificateDer::from_pem_slice(files.certificate_pem.as_bytes())
            .map_err(|e| TlsError::Pem(format!("the CA certificate is not PEM: {e}")))?;
        let leaf_key = KeyPair::generate()?;
        let leaf_signer =
            rustls::crypto::ring::sign::any_supported_type(&PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())))?;
        let issuer = Issuer { ca_der, ca, ca_key, leaf_key, leaf_signer };
        let loopback = issuer.issue(&["localhost".into(), "127.0.0.1".into(), "::1".into()])?;
        Ok(LabCa { certificate_pem: files.certificate_pem.clone(), issuer, cache: Mutex::new(HashMap::new()), loopback })
    }

    /// The CA certificate (PEM), what clients trust.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The certificate to present for a requested server name.
    fn for_name(&self, name: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = name.map(|n| n.trim_end_matches('.').to_ascii_lowercase()) else { return self.loopback.clone() };
        if !serves(&name) {
            return self.loopback.clone();
        }
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(&name) {
            return c.clone();
        }
        match self.issuer.issue(std::slice::from_ref(&name)) {
            Ok(c) => {
                if cache.len() >= CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(name, c.clone());
                c
            }
            Err(e) => {
                tracing::error!(name, error = %e, "could not issue a certificate");
                self.loopback.clone()
            }
        }
    }

    /// The rustls configuration of the TLS front-end (HTTP/1.1 and HTTP/2 by ALPN).
    pub fn server_config(self: &Arc<Self>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Resolver(self.clone())));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// Whether rolestack presents a certificate for `name`.
fn serves(name: &str) -> bool {
    name == "localhost" || rolestack_core::endpoints::classify(name).is_some()
}

#[derive(Debug)]
struct Resolver(Arc<LabCa>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.for_name(hello.server_name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca() -> LabCa {
        LabCa::load(&LabCa::generate().unwrap()).unwrap()
    }

    #[test]
    fn issues_for_service_names_only() {
        let ca = ca();
        let sts = ca.for_name(Some("sts.aliyuncs.com"));
        let bucket = ca.for_name(Some("ramroletest.oss-cn-hangzhou.aliyuncs.com"));
        let other = ca.for_name(Some("example.com"));
        assert_eq!(sts.cert.len(), 2, "leaf and CA");
        assert_ne!(sts.cert[0], ca.loopback.cert[0]);
        assert_ne!(bucket.cert[0], sts.cert[0]);
        assert_eq!(other.cert[0], ca.loopback.cert[0], "an unknown name gets the loopback certificate");
        assert_eq!(ca.for_name(None).cert[0], ca.loopback.cert[0]);
        assert!(Arc::ptr_eq(&ca.for_name(Some("STS.aliyuncs.com.")), &sts), "cached, case and root dot ignored");
    }

    #[test]
    fn the_stored_ca_reloads() {
        let files = LabCa::generate().unwrap();
        let a = LabCa::load(&files).unwrap();
        let b = LabCa::load(&files).unwrap();
        assert_eq!(a.certificate_pem(), b.certificate_pem());
        assert!(files.certificate_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(LabCa::load(&CaFiles { certificate_pem: files.certificate_pem, key_pem: "junk".into() }).is_err());
    }
}
