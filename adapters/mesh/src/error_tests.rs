//! Error classification and message tests.

use super::*;

#[test]
fn auth_error_names_mailbox_and_hints_at_clock_and_credentials() {
    let body = br#"{"detail":[{"event":"","code":"","msg":"Invalid Authentication Token"}]}"#;
    let err = MeshError::from_response(403, body, "X26ABC1");
    let text = err.to_string();
    assert!(matches!(err, MeshError::Auth { .. }));
    assert!(text.contains("X26ABC1"), "{text}");
    assert!(text.contains("Invalid Authentication Token"), "{text}");
    assert!(
        text.contains("clock") && text.contains("password"),
        "{text}"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.mesh_code(), None);
}

#[test]
fn status_error_carries_code_and_classification() {
    let body = br#"{"detail":[{"event":"SEND","code":"12","msg":"Unregistered to address"}]}"#;
    let err = MeshError::from_response(417, body, "X26ABC1");
    assert_eq!(err.mesh_code(), Some("12"));
    assert_eq!(err.http_status(), Some(417));
    assert!(!err.is_retryable() && !err.outcome_unknown());
    assert_eq!(
        err.to_string(),
        "mesh answered http 417 to mailbox X26ABC1 (code 12): Unregistered to address"
    );
}

#[test]
fn retry_and_unknown_outcome_by_status() {
    let status = |s| MeshError::from_response(s, b"", "MB");
    for s in [425, 429, 500, 502, 503, 504] {
        assert!(status(s).is_retryable(), "{s}");
    }
    for s in [400, 404, 410, 417, 422, 423] {
        assert!(!status(s).is_retryable(), "{s}");
    }
    assert!(status(504).outcome_unknown());
    assert!(!status(503).outcome_unknown() && !status(429).outcome_unknown());
    assert!(MeshError::SendUnconfirmed("x".into()).outcome_unknown());
}

#[test]
fn only_a_failed_final_chunk_leaves_the_outcome_unknown() {
    let chunk = |chunk, total| MeshError::ChunkUpload {
        message_id: "ID".into(),
        chunk,
        total,
        source: Box::new(MeshError::from_response(504, b"", "MB")),
    };
    assert!(chunk(3, 3).outcome_unknown());
    assert!(!chunk(2, 3).outcome_unknown());
    assert!(chunk(2, 3).is_retryable());
}

#[test]
fn clock_skew_is_reported_only_beyond_five_minutes() {
    let now = chrono::DateTime::parse_from_rfc3339("2026-11-21T04:06:17Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let skew = |date| clock_skew(Some(date), now);
    assert_eq!(skew("Sat, 21 Nov 2026 04:10:17 GMT"), None);
    assert_eq!(
        skew("Sat, 21 Nov 2026 06:16:17 GMT"),
        Some(chrono::TimeDelta::minutes(130))
    );
    assert_eq!(
        skew("Sat, 21 Nov 2026 03:56:16 UTC"),
        Some(chrono::TimeDelta::seconds(-601))
    );
    assert_eq!(skew("yesterday"), None);
    assert_eq!(clock_skew(None, now), None);
}

#[test]
fn auth_error_names_the_skew() {
    let mut err = MeshError::from_response(403, b"", "X26ABC1");
    if let MeshError::Auth { clock_skew, .. } = &mut err {
        *clock_skew = Some(chrono::TimeDelta::minutes(-130));
    }
    let text = err.to_string();
    assert!(
        text.ends_with("the server clock (date header) is 2h 10m behind the local clock"),
        "{text}"
    );
    let plain = MeshError::from_response(403, b"", "X26ABC1").to_string();
    assert!(!plain.contains("date header"), "{plain}");
}

#[test]
fn file_errors_name_the_file() {
    let err = MeshError::File {
        action: "reading mesh payload file",
        path: "/data/out/big.bin".into(),
        source: std::io::Error::from(std::io::ErrorKind::NotFound),
    };
    assert_eq!(
        err.to_string(),
        "reading mesh payload file /data/out/big.bin failed"
    );
    assert!(!err.is_retryable() && !err.outcome_unknown());
}
