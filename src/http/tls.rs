//! rustls configuration for mutually authenticated TLS between providers (protocol-06
//! §4.1), with the ring crypto provider.
//!
//! * Server side: a client certificate is **required** and must chain to the configured
//!   CA (rustls `WebPkiClientVerifier`); a connection without one fails in the handshake.
//!   Which domain it authenticates is checked per request against `From`
//!   ([`cert_authenticates`]).
//! * Client side: the peer's server certificate must chain to the same CA and match the
//!   peer's domain (SNI = the domain); we present our own certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why a TLS identity could not be loaded or configured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read or parsed.
    #[error("{what}: cannot read PEM from {path}: {detail}")]
    Pem {
        /// Which file (CA, certificate, key).
        what: &'static str,
        /// Its path.
        path: String,
        /// The parser's message.
        detail: String,
    },
    /// A PEM file held no certificate.
    #[error("{0}: no certificate found")]
    NoCertificate(String),
    /// rustls refused the configuration.
    #[error("rustls configuration: {0}")]
    Rustls(#[from] rustls::Error),
    /// The client certificate verifier could not be built.
    #[error("client verifier: {0}")]
    Verifier(#[from] rustls::server::VerifierBuilderError),
}

/// Our TLS identity: our domain, our certificate chain and key, and the CA we trust.
#[derive(Debug)]
pub struct Identity {
    /// Our provider domain.
    pub domain: String,
    ca: Vec<CertificateDer<'static>>,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self {
            domain: self.domain.clone(),
            ca: self.ca.clone(),
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

fn certs_from(
    what: &'static str,
    name: &str,
    pem: &[u8],
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let v: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(pem).collect();
    let v = v.map_err(|e| TlsError::Pem {
        what,
        path: name.to_owned(),
        detail: e.to_string(),
    })?;
    if v.is_empty() {
        return Err(TlsError::NoCertificate(name.to_owned()));
    }
    Ok(v)
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|e| TlsError::Pem {
        what,
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Identity {
    /// Builds an identity from PEM text.
    pub fn from_pem(
        domain: &str,
        ca_pem: &[u8],
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, TlsError> {
        let ca = certs_from("CA certificate", "ca", ca_pem)?;
        let chain = certs_from("certificate", domain, cert_pem)?;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem {
            what: "private key",
            path: domain.to_owned(),
            detail: e.to_string(),
        })?;
        Ok(Self {
            domain: domain.to_owned(),
            ca,
            chain,
            key,
        })
    }

    /// Loads `ca.pem`, `<domain>.pem` and `<domain>.key.pem` from a folder written by
    /// `mimi-ref certs`.
    pub fn load(dir: &Path, domain: &str) -> Result<Self, TlsError> {
        use super::certs::{ca_path, cert_path, key_path};
        let ca = read("CA certificate", &ca_path(dir))?;
        let cert = read("certificate", &cert_path(dir, domain))?;
        let key = read("private key", &key_path(dir, domain))?;
        Self::from_pem(domain, &ca, &cert, &key)
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, TlsError> {
        let mut roots = RootCertStore::empty();
        for c in &self.ca {
            roots.add(c.clone())?;
        }
        Ok(Arc::new(roots))
    }

    /// The server configuration: our certificate, and a mandatory client certificate
    /// chained to the CA (protocol-06 §4.1 "mutually authenticated").
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let verifier =
            WebPkiClientVerifier::builder_with_provider(self.roots()?, provider()).build()?;
        let mut cfg = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(self.chain.clone(), self.key.clone_key())?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(cfg))
    }

    /// The client configuration: trust the CA, present our certificate.
    pub fn client_config(&self) -> Result<ClientConfig, TlsError> {
        let mut cfg = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots()?)
            .with_client_auth_cert(self.chain.clone(), self.key.clone_key())?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(cfg)
    }

    /// A client configuration that trusts the CA but presents no certificate (tests of
    /// refusal use it).
    pub fn client_config_without_cert(&self) -> Result<ClientConfig, TlsError> {
        let mut cfg = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots()?)
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(cfg)
    }
}

/// Whether the (already chain-verified) end-entity certificate authenticates `domain`
/// (RFC 6125 name matching, as protocol-06 §4.1 requires for the source provider).
pub fn cert_authenticates(cert: &CertificateDer<'_>, domain: &str) -> bool {
    let Ok(name) = ServerName::try_from(domain) else {
        return false;
    };
    if !matches!(name, ServerName::DnsName(_)) {
        return false;
    }
    match rustls::server::ParsedCertificate::try_from(cert) {
        Ok(parsed) => rustls::client::verify_server_name(&parsed, &name).is_ok(),
        Err(_) => false,
    }
}
