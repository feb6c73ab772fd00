//! The MESH conformance suite over TLS and mutual TLS against real mesh-sandbox instances, and
//! the errors a misconfigured TLS client gets. The instances come from `tests/tls-sandboxes.sh`
//! (run by scripts/test.sh), which exports `MESH_SANDBOX_TLS_URL`, `MESH_SANDBOX_TLS_DIR`,
//! `MESH_SANDBOX_MTLS_URL` and `MESH_SANDBOX_MTLS_DIR` (each dir holds `ca.pem`, `client.pem`,
//! `client.key`). Fails, never skips, when they are missing.

use std::path::PathBuf;

use gateway_adapter_mesh::{MeshClient, MeshError};
use gateway_testkit::mesh_conformance::{ConformanceTarget, run_all};

/// An environment variable that scripts/test.sh exports, or why it is missing.
fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| {
        format!(
            "{name} is not set: run scripts/test.sh, which starts the TLS and mTLS mesh-sandbox \
             instances with adapters/mesh/tests/tls-sandboxes.sh and exports it (or run \
             `eval \"$(adapters/mesh/tests/tls-sandboxes.sh start)\"` yourself)"
        )
    })
}

/// A sandbox target with the CA bundle of `dir` and, for mTLS, its client certificate.
fn target(url_var: &str, dir_var: &str, client_cert: bool) -> Result<ConformanceTarget, String> {
    let dir = PathBuf::from(env(dir_var)?);
    let mut t = ConformanceTarget::sandbox(env(url_var)?);
    t.ca_bundle = Some(dir.join("ca.pem"));
    if client_cert {
        t.client_cert = Some(dir.join("client.pem"));
        t.client_key = Some(dir.join("client.key"));
    }
    Ok(t)
}

/// The sender's client for `t`.
fn client(t: &ConformanceTarget) -> Result<MeshClient, String> {
    MeshClient::new(t.config(&t.sender)).map_err(|e| e.to_string())
}

#[tokio::test]
async fn conformance_over_tls() {
    let t = target("MESH_SANDBOX_TLS_URL", "MESH_SANDBOX_TLS_DIR", false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(t.base_url.starts_with("https://"), "{}", t.base_url);
    if let Err(failures) = run_all(&t).await {
        panic!(
            "MESH conformance failures over TLS ({}):\n{failures}",
            t.base_url
        );
    }
}

#[tokio::test]
async fn conformance_over_mutual_tls() {
    let t = target("MESH_SANDBOX_MTLS_URL", "MESH_SANDBOX_MTLS_DIR", true)
        .unwrap_or_else(|e| panic!("{e}"));
    if let Err(failures) = run_all(&t).await {
        panic!(
            "MESH conformance failures over mTLS ({}):\n{failures}",
            t.base_url
        );
    }
}

#[tokio::test]
async fn mtls_without_a_client_certificate_names_the_mailbox() {
    let t = target("MESH_SANDBOX_MTLS_URL", "MESH_SANDBOX_MTLS_DIR", false)
        .unwrap_or_else(|e| panic!("{e}"));
    let c = client(&t).unwrap();
    for result in [c.handshake().await, c.list_inbox(None).await.map(drop)] {
        let err = result.unwrap_err();
        let text = err.to_string();
        eprintln!("{text}");
        // Python's TLS server closes the connection without an alert, so the client can only
        // tell a closed connection with a hint (retryable); a server sending the TLS 1.3
        // "certificate required" alert gives TlsSession instead.
        assert!(
            matches!(&err, MeshError::Transport { mailbox, hint: Some(_), .. }
                | MeshError::TlsSession { mailbox, .. } if mailbox == "X26ABC1"),
            "{err:?}"
        );
        assert!(
            text.contains("X26ABC1") && text.contains("client certificate"),
            "{text}"
        );
        assert!(text.contains("set client_cert and client_key"), "{text}");
    }
}

#[tokio::test]
async fn tls_without_the_ca_bundle_says_the_server_is_not_trusted() {
    let mut t = target("MESH_SANDBOX_TLS_URL", "MESH_SANDBOX_TLS_DIR", false)
        .unwrap_or_else(|e| panic!("{e}"));
    t.ca_bundle = None;
    let err = client(&t).unwrap().handshake().await.unwrap_err();
    let text = err.to_string();
    eprintln!("{text}");
    assert!(matches!(err, MeshError::TlsSession { .. }), "{err:?}");
    assert!(
        text.contains("X26ABC1") && text.contains("ca_bundle"),
        "{text}"
    );
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn mtls_with_a_certificate_from_another_ca_is_refused() {
    let mut t = target("MESH_SANDBOX_MTLS_URL", "MESH_SANDBOX_MTLS_DIR", false)
        .unwrap_or_else(|e| panic!("{e}"));
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls");
    t.client_cert = Some(fixtures.join("client.pem"));
    t.client_key = Some(fixtures.join("client.key"));
    let err = client(&t).unwrap().handshake().await.unwrap_err();
    let text = err.to_string();
    eprintln!("{text}");
    assert!(
        matches!(
            err,
            MeshError::Transport { hint: Some(_), .. } | MeshError::TlsSession { .. }
        ),
        "{err:?}"
    );
    assert!(
        text.contains("X26ABC1") && text.contains("client_cert"),
        "{text}"
    );
}
