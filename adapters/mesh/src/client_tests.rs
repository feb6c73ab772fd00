//! Unit tests of handshake and send against the scripted server: headers, chunking, gzip and
//! the no-retry rule for the first `POST .../outbox`.

use bytes::Bytes;

use crate::test_server::{json, serve};
use crate::{MeshError, OutboundMessage, chunk, verify_token};

fn message(body: &'static [u8]) -> OutboundMessage {
    OutboundMessage {
        to: "X26ABC2".into(),
        workflow_id: "TEST_WORKFLOW".into(),
        subject: Some("hello subject".into()),
        local_id: Some("local-1".into()),
        file_name: Some("b.json".into()),
        content_type: "application/fhir+json".into(),
        body: Bytes::from_static(body),
    }
}

#[tokio::test]
async fn handshake_sends_client_headers_and_a_valid_token() {
    let server = serve(|_, _| (200, vec![], vec![])).await;
    server.client(|_| {}).handshake().await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, reqwest::Method::POST);
    assert_eq!(r.uri, "/messageexchange/X26ABC1");
    for name in ["mex-clientversion", "mex-osname", "mex-osversion"] {
        assert!(r.header(name).is_some_and(|v| !v.is_empty()), "{name}");
    }
    let token = verify_token(r.header("authorization").unwrap(), "password", "TestKey").unwrap();
    assert_eq!(token.mailbox_id, "X26ABC1");
    assert!(
        r.header("authorization")
            .unwrap()
            .starts_with("NHSMESH X26ABC1:")
    );
}

#[tokio::test]
async fn single_send_carries_every_header() {
    let server = serve(|_, _| json(202, r#"{"message_id":"ID1"}"#)).await;
    let id = server.client(|_| {}).send(&message(b"{}")).await.unwrap();
    assert_eq!(id, "ID1");
    let r = &server.requests()[0];
    assert_eq!(r.uri, "/messageexchange/X26ABC1/outbox");
    for (name, value) in [
        ("mex-from", "X26ABC1"),
        ("mex-to", "X26ABC2"),
        ("mex-workflowid", "TEST_WORKFLOW"),
        ("mex-subject", "hello subject"),
        ("mex-localid", "local-1"),
        ("mex-filename", "b.json"),
        ("mex-chunk-range", "1:1"),
        ("content-type", "application/fhir+json"),
        ("mex-content-type", "application/fhir+json"),
        ("accept", "application/vnd.mesh.v2+json"),
    ] {
        assert_eq!(r.header(name), Some(value), "{name}");
    }
    assert_eq!(r.header("content-encoding"), None);
    assert_eq!(r.body.as_ref(), b"{}");
}

#[tokio::test]
async fn first_post_is_never_retried() {
    for status in [503, 504] {
        let server = serve(move |_, _| json(status, r#"{"message":"down"}"#)).await;
        let err = server
            .client(|_| {})
            .send(&message(b"x"))
            .await
            .unwrap_err();
        assert_eq!(err.http_status(), Some(status));
        assert!(err.is_retryable());
        assert_eq!(err.outcome_unknown(), status == 504);
        assert_eq!(server.requests().len(), 1);
    }
}

#[tokio::test]
async fn accepted_send_without_id_is_unconfirmed() {
    let server = serve(|_, _| (202, vec![], b"<html>ok</html>".to_vec())).await;
    let err = server
        .client(|_| {})
        .send(&message(b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MeshError::SendUnconfirmed(_)) && err.outcome_unknown(),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_recipient_and_bad_credentials() {
    let server = serve(|req, _| {
        if req.uri.ends_with("/outbox") {
            json(
                417,
                r#"{"detail":[{"event":"SEND","code":"12","msg":"Unregistered to address"}]}"#,
            )
        } else {
            json(
                403,
                r#"{"detail":[{"event":"","code":"","msg":"Invalid Authentication Token"}]}"#,
            )
        }
    })
    .await;
    let client = server.client(|_| {});
    let err = client.send(&message(b"x")).await.unwrap_err();
    assert!(matches!(err, MeshError::Status { status: 417, .. }));
    assert_eq!(err.mesh_code(), Some("12"));
    let err = client.handshake().await.unwrap_err();
    assert!(
        matches!(err, MeshError::Auth { ref mailbox, .. } if mailbox == "X26ABC1"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 2, "403 is not retried");
}

#[tokio::test]
async fn chunked_compressed_send_uploads_in_order() {
    let server = serve(|req, _| {
        if req.uri.ends_with("/outbox") {
            json(202, r#"{"message_id":"ID9"}"#)
        } else {
            (202, vec![], b"null".to_vec())
        }
    })
    .await;
    let client = server.client(|c| {
        c.chunk_size = 4;
        c.compress = true;
    });
    let id = client.send(&message(b"aaaabbbbcc")).await.unwrap();
    assert_eq!(id, "ID9");
    let requests = server.requests();
    let uris: Vec<_> = requests.iter().map(|r| r.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            "/messageexchange/X26ABC1/outbox",
            "/messageexchange/X26ABC1/outbox/ID9/2",
            "/messageexchange/X26ABC1/outbox/ID9/3"
        ]
    );
    let ranges: Vec<_> = requests
        .iter()
        .map(|r| r.header("mex-chunk-range").unwrap())
        .collect();
    assert_eq!(ranges, ["1:3", "2:3", "3:3"]);
    let joined: Vec<u8> = requests
        .iter()
        .flat_map(|r| chunk::gunzip(&r.body).unwrap())
        .collect();
    assert_eq!(joined, b"aaaabbbbcc");
    assert!(
        requests
            .iter()
            .all(|r| r.header("content-encoding") == Some("gzip"))
    );
    assert_eq!(requests[0].header("mex-content-compressed"), Some("Y"));
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        requests[0].header("mex-content-type"),
        Some("application/fhir+json")
    );
}

#[tokio::test]
async fn chunk_uploads_are_retried_and_a_late_423_means_done() {
    let server = serve(|req, index| {
        if req.uri.ends_with("/outbox") {
            json(202, r#"{"message_id":"ID7"}"#)
        } else if index == 1 {
            json(502, "")
        } else {
            json(423, r#"{"message":"no longer uploading"}"#)
        }
    })
    .await;
    let client = server.client(|c| c.chunk_size = 5);
    assert_eq!(client.send(&message(b"0123456789")).await.unwrap(), "ID7");
    assert_eq!(server.requests().len(), 3);

    // A 423 on the first attempt of a chunk is a real failure, reported with the message id.
    let server = serve(|req, _| {
        if req.uri.ends_with("/outbox") {
            json(202, r#"{"message_id":"ID8"}"#)
        } else {
            json(423, "")
        }
    })
    .await;
    let err = server
        .client(|c| c.chunk_size = 5)
        .send(&message(b"0123456789"))
        .await
        .unwrap_err();
    let MeshError::ChunkUpload {
        message_id,
        chunk,
        total,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!((message_id.as_str(), *chunk, *total), ("ID8", 2, 2));
    assert!(!err.outcome_unknown());
}

#[tokio::test]
async fn configured_proxy_carries_every_request() {
    let proxy = serve(|_, _| (200, vec![], vec![])).await;
    let client = proxy.client(|c| {
        c.proxy = Some(c.base_url.clone());
        c.base_url = "http://mesh.invalid:8700".into();
    });
    client.handshake().await.unwrap();
    assert_eq!(
        proxy.requests()[0].uri,
        "http://mesh.invalid:8700/messageexchange/X26ABC1"
    );

    let mut cfg = crate::MeshClientConfig::new(
        "http://127.0.0.1:1",
        "X26ABC1",
        gateway_core::Secret::new("p"),
        gateway_core::Secret::new("k"),
    );
    cfg.proxy = Some("::not a url::".into());
    assert!(matches!(
        crate::MeshClient::new(cfg),
        Err(MeshError::Config(_))
    ));
}

#[tokio::test]
async fn send_timeout_is_outcome_unknown_and_not_retried() {
    // A server that accepts and never answers: the request was sent, its fate is unknown.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    let mut cfg = crate::MeshClientConfig::new(
        base,
        "X26ABC1",
        gateway_core::Secret::new("p"),
        gateway_core::Secret::new("k"),
    );
    cfg.request_timeout = std::time::Duration::from_millis(300);
    let err = crate::MeshClient::new(cfg)
        .unwrap()
        .send(&message(b"x"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MeshError::Timeout {
                may_have_reached_server: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown() && err.is_retryable());
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test]
async fn send_file_uploads_the_same_chunks_as_send() {
    let server = serve(|req, _| {
        if req.uri.ends_with("/outbox") {
            json(202, r#"{"message_id":"IDF"}"#)
        } else {
            (202, vec![], b"null".to_vec())
        }
    })
    .await;
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 97) as u8).collect();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, &body).unwrap();
    let msg = crate::OutboundFile {
        to: "X26ABC2".into(),
        workflow_id: "TEST_WORKFLOW".into(),
        subject: Some("hello subject".into()),
        local_id: Some("local-1".into()),
        file_name: Some("b.bin".into()),
        content_type: "application/octet-stream".into(),
        path: file.path().to_path_buf(),
    };
    let client = server.client(|c| {
        c.chunk_size = 40_000;
        c.compress = true;
    });
    assert_eq!(client.send_file(&msg).await.unwrap(), "IDF");
    let requests = server.requests();
    let ranges: Vec<_> = requests
        .iter()
        .map(|r| r.header("mex-chunk-range").unwrap())
        .collect();
    assert_eq!(ranges, ["1:3", "2:3", "3:3"]);
    assert_eq!(requests[0].header("mex-subject"), Some("hello subject"));
    let joined: Vec<u8> = requests
        .iter()
        .flat_map(|r| chunk::gunzip(&r.body).unwrap())
        .collect();
    assert_eq!(joined, body);

    // Bad metadata fails before the file is even opened.
    let mut bad = msg.clone();
    bad.workflow_id = String::new();
    bad.path = "/nonexistent".into();
    assert!(matches!(
        client.send_file(&bad).await,
        Err(MeshError::InvalidMessage(_))
    ));
    let mut missing = msg;
    missing.path = "/nonexistent/payload.bin".into();
    assert!(matches!(
        client.send_file(&missing).await,
        Err(MeshError::File { .. })
    ));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn auth_error_reports_a_skewed_server_clock() {
    let skewed = (chrono::Utc::now() + chrono::TimeDelta::hours(3))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let server = serve(move |req, _| {
        let body = br#"{"detail":[{"event":"","code":"","msg":"Invalid Authentication Token"}]}"#;
        let date = if req.uri.ends_with("/inbox") {
            chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
        } else {
            skewed.clone()
        };
        (403, vec![("date", date)], body.to_vec())
    })
    .await;
    let client = server.client(|_| {});
    let err = client.handshake().await.unwrap_err();
    let MeshError::Auth { clock_skew, .. } = &err else {
        panic!("{err}")
    };
    let skew = clock_skew.unwrap();
    assert!(skew > chrono::TimeDelta::minutes(175), "{skew}");
    assert!(
        err.to_string().contains("ahead of the local clock"),
        "{err}"
    );
    let err = client.list_inbox(None).await.unwrap_err();
    assert!(
        matches!(
            err,
            MeshError::Auth {
                clock_skew: None,
                ..
            }
        ),
        "{err}"
    );
}
