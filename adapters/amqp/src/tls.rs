//! TLS settings for `amqps://` connections: extra trusted CA certificates and a client identity.

use std::path::Path;

use lapin::tcp::{OwnedIdentity, OwnedTLSConfig};
use rustls_pki_types::{CertificateDer, pem::PemObject};

use crate::{config::AmqpConfig, error::AmqpError};

/// Whether `url` asks for TLS (`amqps://`, any case).
pub(crate) fn is_amqps(url: &str) -> bool {
    url.get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("amqps://"))
}

/// Reads the CA bundle and client identity named in `cfg` into lapin's TLS configuration.
///
/// Both files are checked here, so a bad file is reported by name before any connection
/// attempt: the CA bundle must hold at least one PEM certificate, the identity must be a
/// PKCS#12 file that opens with the configured password (empty when none) and holds a
/// private key with its certificate.
///
/// # Errors
/// [`AmqpError::TlsFile`] naming the file that is missing, unreadable or invalid.
pub(crate) fn tls_config(cfg: &AmqpConfig) -> Result<OwnedTLSConfig, AmqpError> {
    let cert_chain = cfg.tls_ca_bundle.as_deref().map(ca_bundle).transpose()?;
    let identity = match &cfg.tls_client_identity {
        Some(path) => {
            let password = cfg
                .tls_client_identity_password
                .as_ref()
                .map_or("", |p| p.expose());
            Some(pkcs12_identity(path, password)?)
        }
        None => None,
    };
    Ok(OwnedTLSConfig {
        identity,
        cert_chain,
    })
}

fn tls_error(path: &Path, problem: impl Into<String>) -> AmqpError {
    AmqpError::TlsFile {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

fn read(path: &Path) -> Result<Vec<u8>, AmqpError> {
    std::fs::read(path).map_err(|e| tls_error(path, format!("cannot read it: {e}")))
}

/// The PEM text of a CA bundle with at least one certificate.
fn ca_bundle(path: &Path) -> Result<String, AmqpError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error(path, format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(tls_error(path, "holds no PEM certificate"));
    }
    String::from_utf8(bytes).map_err(|_| tls_error(path, "not a PEM certificate bundle"))
}

/// A PKCS#12 identity, checked to open with `password` and to hold a key and certificate.
fn pkcs12_identity(path: &Path, password: &str) -> Result<OwnedIdentity, AmqpError> {
    let der = read(path)?;
    let store = p12_keystore::KeyStore::from_pkcs12(&der, password).map_err(|e| {
        tls_error(
            path,
            format!("not a PKCS#12 file, or the password is wrong ({e})"),
        )
    })?;
    match store.private_key_chain() {
        Some((_, chain)) if !chain.chain().is_empty() => {}
        Some(_) => return Err(tls_error(path, "holds a private key but no certificate")),
        None => return Err(tls_error(path, "holds no private key")),
    }
    Ok(OwnedIdentity::PKCS12 {
        der,
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::Secret;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn cfg(ca: Option<&str>, identity: Option<&str>, password: Option<&str>) -> AmqpConfig {
        AmqpConfig {
            url: Secret::new("amqps://localhost:5671/%2f"),
            tls_ca_bundle: ca.map(fixture),
            tls_client_identity: identity.map(fixture),
            tls_client_identity_password: password.map(Secret::new),
            ..AmqpConfig::default()
        }
    }

    #[test]
    fn amqps_is_recognised_in_any_case() {
        assert!(is_amqps("amqps://h/%2f"));
        assert!(is_amqps("AMQPS://h"));
        assert!(!is_amqps("amqp://h"));
        assert!(!is_amqps("amqp"));
    }

    #[test]
    fn builds_from_real_files() {
        let tls = tls_config(&cfg(Some("ca.pem"), Some("client.p12"), Some("test-only"))).unwrap();
        let ca = std::fs::read_to_string(fixture("ca.pem")).unwrap();
        assert_eq!(tls.cert_chain.as_deref(), Some(ca.as_str()));
        let der = std::fs::read(fixture("client.p12")).unwrap();
        assert_eq!(
            tls.identity,
            Some(OwnedIdentity::PKCS12 {
                der,
                password: "test-only".to_owned()
            })
        );
    }

    #[test]
    fn nothing_configured_means_the_defaults() {
        assert_eq!(
            tls_config(&cfg(None, None, None)).unwrap(),
            OwnedTLSConfig::default()
        );
    }

    #[test]
    fn a_missing_identity_is_named() {
        let msg = tls_config(&cfg(None, Some("nope.p12"), None))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("nope.p12") && msg.contains("cannot read"),
            "{msg}"
        );
    }

    #[test]
    fn a_garbled_identity_is_named() {
        let msg = tls_config(&cfg(None, Some("garbled.p12"), Some("test-only")))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("garbled.p12") && msg.contains("PKCS#12"),
            "{msg}"
        );
    }

    #[test]
    fn a_wrong_password_is_reported_without_the_password() {
        let msg = tls_config(&cfg(None, Some("client.p12"), Some("hunter2")))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("client.p12") && msg.contains("password"),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[test]
    fn a_pem_file_is_not_an_identity_and_a_key_is_not_a_ca_bundle() {
        let msg = tls_config(&cfg(None, Some("client.pem"), None))
            .unwrap_err()
            .to_string();
        assert!(msg.contains("client.pem"), "{msg}");
        let msg = tls_config(&cfg(Some("client.key"), None, None))
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("client.key") && msg.contains("no PEM"),
            "{msg}"
        );
        assert!(!msg.contains("PRIVATE KEY-----\n"), "{msg}");
    }
}
