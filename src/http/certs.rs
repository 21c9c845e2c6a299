//! Development certificates (rcgen): one CA and, per provider domain, one certificate that
//! serves as both TLS server and TLS client certificate, as protocol-06 §4.1 needs for
//! mutually authenticated TLS between providers.
//!
//! Files written into the output directory (all PEM):
//! * `ca.pem` — the CA certificate every provider trusts; `ca.key.pem` — its key (kept
//!   only so more domains can be added later by hand; a development convenience);
//! * `<domain>.pem` — the domain's certificate (DNS SAN = the domain, EKUs serverAuth and
//!   clientAuth); `<domain>.key.pem` — its private key (PKCS#8);
//! * `README.txt` — what these files are.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// A domain is not a plausible DNS name (non-empty labels of letters, digits and `-`).
    #[error("RFC 6125 / protocol-06 §4.1: {0:?} is not a DNS domain name")]
    BadDomain(String),
    /// No domains were given.
    #[error("no domains given")]
    NoDomains,
    /// rcgen failed.
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// The file of a domain's certificate in a certificate directory.
pub fn cert_path(dir: &Path, domain: &str) -> PathBuf {
    dir.join(format!("{domain}.pem"))
}

/// The file of a domain's private key.
pub fn key_path(dir: &Path, domain: &str) -> PathBuf {
    dir.join(format!("{domain}.key.pem"))
}

/// The file of the CA certificate.
pub fn ca_path(dir: &Path) -> PathBuf {
    dir.join("ca.pem")
}

/// Whether `d` looks like a DNS name we can put in a certificate.
pub fn valid_domain(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// PEM text of a CA and of its domain certificates.
pub struct DevPki {
    /// The CA certificate.
    pub ca_cert_pem: String,
    /// The CA key.
    pub ca_key_pem: String,
    /// Per domain: (domain, certificate PEM, key PEM).
    pub domains: Vec<(String, String, String)>,
}

/// Makes a CA named `ca_name` and one certificate per domain signed by it.
pub fn generate(ca_name: &str, domains: &[String]) -> Result<DevPki, CertsError> {
    if domains.is_empty() {
        return Err(CertsError::NoDomains);
    }
    if let Some(bad) = domains.iter().find(|d| !valid_domain(d)) {
        return Err(CertsError::BadDomain(bad.clone()));
    }
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, ca_name);
    ca_params.distinguished_name = dn;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let mut out = Vec::new();
    for d in domains {
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(vec![d.clone()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, d.as_str());
        p.distinguished_name = dn;
        p.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &ca_cert, &ca_key)?;
        out.push((d.clone(), cert.pem(), key.serialize_pem()));
    }
    Ok(DevPki {
        ca_cert_pem: ca_cert.pem(),
        ca_key_pem: ca_key.serialize_pem(),
        domains: out,
    })
}

const README: &str = "\
Development certificates made by `mimi-ref certs`. NOT for production.

ca.pem              the development CA; every provider trusts it (server and client side)
ca.key.pem          the CA's private key (kept so more domains can be signed by hand)
<domain>.pem        the provider certificate of <domain>: DNS SAN <domain>, extended key
                    usages serverAuth and clientAuth, signed by the CA. The same
                    certificate serves inbound HTTPS and authenticates outbound requests
                    (mutually authenticated TLS, draft-ietf-mimi-protocol-06 section 4.1).
<domain>.key.pem    its private key (PKCS#8)

`mimi-ref serve --domain <domain> --certs <this folder> ...` reads ca.pem, <domain>.pem
and <domain>.key.pem.
";

/// Writes a [`DevPki`] into `dir` (created if missing), with a README.txt.
pub fn write(dir: &Path, pki: &DevPki) -> Result<(), CertsError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CertsError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let put = |path: PathBuf, text: &str| std::fs::write(&path, text).map_err(io(&path));
    put(ca_path(dir), &pki.ca_cert_pem)?;
    put(dir.join("ca.key.pem"), &pki.ca_key_pem)?;
    for (d, cert, key) in &pki.domains {
        put(cert_path(dir, d), cert)?;
        put(key_path(dir, d), key)?;
    }
    put(dir.join("README.txt"), README)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_checked() {
        assert!(valid_domain("a.example"));
        assert!(!valid_domain("a..example"));
        assert!(!valid_domain("-a.example"));
        assert!(!valid_domain("a b"));
        assert!(matches!(
            generate("t", &["x/y".into()]),
            Err(CertsError::BadDomain(_))
        ));
        assert!(matches!(generate("t", &[]), Err(CertsError::NoDomains)));
    }
}
