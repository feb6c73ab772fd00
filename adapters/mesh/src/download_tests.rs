//! Unit tests of downloads against the scripted server: chunk joining, per-chunk gunzip,
//! streaming to a file, retries and header parsing.

use reqwest::header::{HeaderMap, HeaderValue};

use super::*;
use crate::test_server::{Reply, json, serve};

#[tokio::test]
async fn download_joins_chunks_and_gunzips_each() {
    let server = serve(|req, _| {
        let gz = ("content-encoding", "gzip".to_owned());
        if req.uri.ends_with("/inbox/MSG1") {
            let headers = vec![
                gz,
                ("mex-chunk-range", "1:3".into()),
                ("Mex-MessageID", "MSG1".into()),
                ("MEX-FROM", "X26ABC2".into()),
                ("mex-messagetype", "DATA".into()),
                ("mex-content-type", "text/plain".into()),
                ("mex-subject", "Mr John Smith".into()),
            ];
            (206, headers, chunk::gzip(b"one-").unwrap())
        } else if req.uri.ends_with("/inbox/MSG1/2") {
            (
                206,
                vec![("mex-chunk-range", "2:3".into())],
                b"two-".to_vec(),
            )
        } else if req.uri.ends_with("/inbox/MSG1/3") {
            (
                200,
                vec![gz, ("mex-chunk-range", "3:3".into())],
                chunk::gzip(b"three").unwrap(),
            )
        } else {
            json(
                404,
                r#"{"detail":[{"event":"RECEIVE","code":"20","msg":"Message does not exist"}]}"#,
            )
        }
    })
    .await;
    let client = server.client(|_| {});
    let msg = client.download("MSG1").await.unwrap();
    assert_eq!(msg.body, b"one-two-three");
    assert_eq!(msg.from.as_deref(), Some("X26ABC2"));
    assert_eq!(msg.subject.as_deref(), Some("Mr John Smith"));
    assert_eq!(msg.content_type.as_deref(), Some("text/plain"));
    assert_eq!(msg.message_type, MessageType::Data);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests
            .iter()
            .all(|r| r.header("accept-encoding") == Some("gzip"))
    );

    let err = client.download("NOPE").await.unwrap_err();
    assert_eq!(err.mesh_code(), Some("20"));
    assert_eq!(err.http_status(), Some(404));
}

#[tokio::test]
async fn download_rejects_206_without_range() {
    let server = serve(|_, _| (206, vec![], b"x".to_vec())).await;
    let err = server.client(|_| {}).download("M").await.unwrap_err();
    assert!(matches!(err, MeshError::Protocol(_)), "{err}");
}

#[test]
fn report_headers_are_read_case_insensitively() {
    // spec/mesh.md §9.2, header names in mixed case.
    let mut h = HeaderMap::new();
    for (name, value) in [
        ("Mex-To", "X26ABC1"),
        ("MEX-WORKFLOWID", "TEST_WORKFLOW"),
        ("mex-chunk-range", "1:0"),
        ("Mex-LocalID", "local-123"),
        ("mex-filename", "D651BC40380D49308E4F91223EC3D62C.dat"),
        ("mex-subject", "NDR: hello subject"),
        ("Mex-MessageType", "REPORT"),
        ("mex-messageid", "D651BC40380D49308E4F91223EC3D62C"),
        ("Mex-LinkedMsgID", "F9C970CA3B6E4017A4BE0BE1F4437A64"),
        ("mex-statuscode", "14"),
        ("mex-statusevent", "SEND"),
        (
            "mex-statusdescription",
            "Message not collected by recipient after 5 days",
        ),
        ("mex-statussuccess", "ERROR"),
        ("mex-from", ""),
    ] {
        h.insert(
            reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_static(value),
        );
    }
    let m = meta_from_headers(&h, "requested", 0, 1);
    assert_eq!(m.message_type, MessageType::Report);
    assert_eq!(m.message_id, "D651BC40380D49308E4F91223EC3D62C");
    assert_eq!(
        m.linked_message_id.as_deref(),
        Some("F9C970CA3B6E4017A4BE0BE1F4437A64")
    );
    assert_eq!(m.status_code.as_deref(), Some("14"));
    assert_eq!(m.status_event.as_deref(), Some("SEND"));
    assert_eq!(m.status_success.as_deref(), Some("ERROR"));
    assert_eq!(m.workflow_id.as_deref(), Some("TEST_WORKFLOW"));
    assert_eq!(m.local_id.as_deref(), Some("local-123"));
    assert_eq!(m.from, None);
    assert_eq!(m.to.as_deref(), Some("X26ABC1"));
    let m = meta_from_headers(&HeaderMap::new(), "requested", 0, 1);
    assert_eq!(
        (m.message_id.as_str(), m.message_type),
        ("requested", MessageType::Data)
    );
}

/// Three chunks of `piece(k)`; chunk 2 answers 503 once when `flaky`; odd chunks gzipped.
fn chunked_server(
    flaky: bool,
) -> impl Fn(&crate::test_server::Recorded, usize) -> Reply + Send + Sync + 'static {
    let failed = std::sync::atomic::AtomicBool::new(!flaky);
    move |req, _| {
        let number = match req.uri.rsplit('/').next() {
            Some("2") => 2,
            Some("3") => 3,
            _ => 1,
        };
        if number == 2 && !failed.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return json(503, r#"{"message":"busy"}"#);
        }
        let data = piece(number);
        let mut headers = vec![("mex-chunk-range", format!("{number}:3"))];
        let body = if number % 2 == 1 {
            headers.push(("content-encoding", "gzip".to_owned()));
            chunk::gzip(&data).unwrap()
        } else {
            data
        };
        if number == 1 {
            headers.push(("mex-messageid", "BIG1".to_owned()));
        }
        (if number == 3 { 200 } else { 206 }, headers, body)
    }
}

fn piece(number: usize) -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(31).wrapping_add(number as u32) % 253) as u8)
        .collect()
}

#[tokio::test]
async fn download_to_streams_chunks_into_a_file() {
    let server = serve(chunked_server(true)).await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("big.bin");
    let meta = server
        .client(|_| {})
        .download_to("BIG1", &dest)
        .await
        .unwrap();
    let want = [piece(1), piece(2), piece(3)].concat();
    assert_eq!(std::fs::read(&dest).unwrap(), want);
    assert_eq!((meta.message_id.as_str(), meta.chunks), ("BIG1", 3));
    assert_eq!(meta.size, want.len() as u64);
    // Chunk 2 was fetched twice (503, then 206) and written once.
    let uris: Vec<_> = server.requests().into_iter().map(|r| r.uri).collect();
    assert_eq!(uris.len(), 4, "{uris:?}");

    // The in-memory download gives the same bytes.
    let msg = server.client(|_| {}).download("BIG1").await.unwrap();
    assert_eq!(msg.body, want);
}

#[tokio::test]
async fn failed_download_removes_the_partial_file() {
    let server = serve(|req, _| {
        if req.uri.ends_with("/inbox/M") {
            (
                206,
                vec![("mex-chunk-range", "1:2".into())],
                b"part".to_vec(),
            )
        } else {
            json(
                404,
                r#"{"detail":[{"event":"RECEIVE","code":"20","msg":"Message does not exist"}]}"#,
            )
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("m.bin");
    let err = server
        .client(|_| {})
        .download_to("M", &dest)
        .await
        .unwrap_err();
    assert_eq!(err.mesh_code(), Some("20"));
    assert!(!dest.exists());

    let err = server
        .client(|_| {})
        .download_to("M", &dir.path().join("no/such/dir/m.bin"))
        .await
        .unwrap_err();
    assert!(matches!(err, MeshError::File { .. }), "{err}");
}

#[tokio::test]
async fn cut_gzip_stream_is_a_compression_error() {
    let server = serve(|_, _| {
        let mut gz = chunk::gzip(&piece(1)).unwrap();
        gz.truncate(gz.len() - 4); // drop part of the trailer
        (200, vec![("content-encoding", "gzip".into())], gz)
    })
    .await;
    let err = server.client(|_| {}).download("M").await.unwrap_err();
    assert!(matches!(err, MeshError::Compression(_)), "{err}");
}

#[tokio::test]
async fn empty_report_body_with_gzip_header_is_fine() {
    let server = serve(|_, _| {
        let headers = vec![
            ("content-encoding", "gzip".into()),
            ("mex-messagetype", "REPORT".into()),
        ];
        (200, headers, Vec::new())
    })
    .await;
    let msg = server.client(|_| {}).download("R").await.unwrap();
    assert_eq!(msg.message_type, MessageType::Report);
    assert!(msg.body.is_empty());
}
