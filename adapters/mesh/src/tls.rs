//! TLS set-up: the mutual-TLS client identity and extra trusted CAs (real MESH demands a client
//! certificate per system and environment, and NHS environment CAs are not in public roots).

use std::path::Path;

use reqwest::ClientBuilder;

use crate::{MeshClientConfig, MeshError};

/// Adds the configured identity and CA bundle to `builder`.
pub(crate) fn configure(
    mut builder: ClientBuilder,
    cfg: &MeshClientConfig,
) -> Result<ClientBuilder, MeshError> {
    if let Some(bundle) = &cfg.ca_bundle {
        let pem = read(bundle, "ca bundle")?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| tls_error(bundle, "ca bundle", e))?;
        if certs.is_empty() {
            return Err(MeshError::Tls {
                detail: format!("ca bundle {} holds no certificate", bundle.display()),
                source: None,
            });
        }
        builder = builder.tls_certs_merge(certs);
    }
    if let (Some(cert), Some(key)) = (&cfg.client_cert, &cfg.client_key) {
        // reqwest wants certificate chain and key in one PEM buffer.
        let mut pem = read(cert, "client certificate")?;
        pem.push(b'\n');
        pem.extend(read(key, "client key")?);
        let identity =
            reqwest::Identity::from_pem(&pem).map_err(|e| tls_error(cert, "client identity", e))?;
        builder = builder.identity(identity);
    }
    Ok(builder)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, MeshError> {
    std::fs::read(path).map_err(|e| MeshError::Tls {
        detail: format!("reading {what} {}", path.display()),
        source: Some(Box::new(e)),
    })
}

fn tls_error(path: &Path, what: &str, e: reqwest::Error) -> MeshError {
    MeshError::Tls {
        detail: format!("parsing {what} {}", path.display()),
        source: Some(Box::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use gateway_core::Secret;

    use crate::{MeshClient, MeshClientConfig, MeshError};

    fn cfg() -> MeshClientConfig {
        MeshClientConfig::new(
            "https://127.0.0.1:8701",
            "X26ABC1",
            Secret::new("p"),
            Secret::new("k"),
        )
    }

    #[test]
    fn pem_identity_and_ca_bundle_load() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
        let mut c = cfg();
        c.ca_bundle = Some(dir.join("client.pem"));
        c.client_cert = Some(dir.join("client.pem"));
        c.client_key = Some(dir.join("client.key"));
        MeshClient::new(c).unwrap();
    }

    #[test]
    fn missing_files_are_tls_errors_naming_the_file() {
        let mut c = cfg();
        c.ca_bundle = Some("/nonexistent/ca.pem".into());
        let err = MeshClient::new(c).unwrap_err();
        assert!(matches!(err, MeshError::Tls { .. }));
        assert!(err.to_string().contains("/nonexistent/ca.pem"), "{err}");

        let mut c = cfg();
        c.client_cert = Some("/nonexistent/client.pem".into());
        c.client_key = Some("/nonexistent/client.key".into());
        assert!(matches!(MeshClient::new(c), Err(MeshError::Tls { .. })));
    }

    #[test]
    fn garbage_pem_is_rejected() {
        let dir = std::env::temp_dir().join(format!("mesh-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a pem").unwrap();
        let mut c = cfg();
        c.ca_bundle = Some(junk.clone());
        assert!(matches!(MeshClient::new(c), Err(MeshError::Tls { .. })));
        let mut c = cfg();
        c.client_cert = Some(junk.clone());
        c.client_key = Some(junk);
        assert!(matches!(MeshClient::new(c), Err(MeshError::Tls { .. })));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
