//! `amqps://` end to end: a `socat` TLS terminator (test server certificate, client certificate
//! required) in front of the plain broker, so the broker's own configuration stays untouched.

use std::{path::PathBuf, process::Stdio, time::Duration};

use gateway_adapter_amqp::{AmqpConfig, AmqpError, connect};
use gateway_core::Secret;
use lapin::{options::QueueDeclareOptions, types::FieldTable};
use tokio::process::{Child, Command};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The plain broker's `host:port` behind the terminator: env `AMQP_TLS_UPSTREAM`, else local.
fn upstream() -> String {
    std::env::var("AMQP_TLS_UPSTREAM").unwrap_or_else(|_| "127.0.0.1:5672".to_owned())
}

/// Starts `socat` on a free port; returns it (killed on drop) and the port.
async fn terminator() -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!(
        "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
        fixture("server.pem").display(),
        fixture("server.key").display(),
        fixture("ca.pem").display(),
    );
    let child = Command::new("socat")
        .arg(listen)
        .arg(format!("TCP:{}", upstream()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the TLS end-to-end test needs `socat` on PATH (apt-get install socat)");
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return (child, port);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("socat did not start listening on port {port}");
}

fn tls_config(port: u16) -> AmqpConfig {
    AmqpConfig {
        url: Secret::new(format!("amqps://guest:guest@localhost:{port}/%2f")),
        tls_ca_bundle: Some(fixture("ca.pem")),
        tls_client_identity: Some(fixture("client.p12")),
        tls_client_identity_password: Some(Secret::new("test-only")),
        ..AmqpConfig::default()
    }
}

#[tokio::test]
async fn amqps_with_a_client_certificate_reaches_the_broker() {
    crate::common::init_logs();
    let (_socat, port) = terminator().await;
    let conn = connect(&tls_config(port))
        .await
        .unwrap_or_else(|e| panic!("amqps connect failed: {}", chain(&e)));
    let channel = conn.create_channel().await.unwrap();
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    assert!(queue.name().as_str().starts_with("amq.gen-"));
    conn.close(200, "OK".into()).await.unwrap();
}

#[tokio::test]
async fn the_terminator_refuses_a_client_without_a_certificate() {
    crate::common::init_logs();
    let (_socat, port) = terminator().await;
    let cfg = AmqpConfig {
        tls_client_identity: None,
        tls_client_identity_password: None,
        ..tls_config(port)
    };
    let err = connect(&cfg).await.unwrap_err();
    assert!(matches!(err, AmqpError::Connect(_)), "{}", chain(&err));
}

#[tokio::test]
async fn the_test_ca_is_needed_to_trust_the_server() {
    crate::common::init_logs();
    let (_socat, port) = terminator().await;
    let cfg = AmqpConfig {
        tls_ca_bundle: None,
        ..tls_config(port)
    };
    let err = connect(&cfg).await.unwrap_err();
    assert!(matches!(err, AmqpError::Connect(_)), "{}", chain(&err));
}

#[tokio::test]
async fn a_garbled_identity_fails_before_connecting_and_is_named() {
    let cfg = AmqpConfig {
        tls_client_identity: Some(fixture("garbled.p12")),
        ..tls_config(1)
    };
    let err = connect(&cfg).await.unwrap_err();
    assert!(err.to_string().contains("garbled.p12"), "{err}");
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
