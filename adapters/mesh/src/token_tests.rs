//! Token tests: every vector of spec/mesh.md §4.2, parsing tolerance and rejection cases.

use super::*;

const NONCE: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
const TS: &str = "202501011200";

/// Every vector of spec/mesh.md §4.2, as full header values.
const VECTORS: &[(&str, &str, u64, &str)] = &[
    (
        "PHARM001",
        "pharm001-pass",
        0,
        "f341629d01796a01ce680fa32141f10bf290c74e6d0636fae555d7e2885fa8d0",
    ),
    (
        "PHARM001",
        "pharm001-pass",
        1,
        "5819a3cd7811c4352695bcc0907d2decf417c9490ee6f75ed7ec1091722448a4",
    ),
    (
        "PHARM001",
        "pharm001-pass",
        2,
        "26a95b2eb0fa50b3c6b840bdb75b6335b4ed38f96e87a411dc3411c8e2d39254",
    ),
    (
        "GPPRAC01",
        "gpprac01-pass",
        0,
        "3acebbc6a2ee07c1daa74f214384e5ece8f182c744792694935e01f10203fd9d",
    ),
    (
        "GPPRAC01",
        "gpprac01-pass",
        1,
        "f14dac1e4d24eff098911baec31b9ecb5c468aff52a140fc9937790d8bfa00d3",
    ),
    (
        "GPPRAC01",
        "gpprac01-pass",
        2,
        "f6c76793d0c1f8843be67733dab0464604842f94fc186dba7b24a133484d832f",
    ),
    (
        "GPPRAC01",
        "gpprac01-pass",
        3,
        "23562a358b58aa98a1a8713a845331dd4380bff4b00d09776ee522eaf15ced21",
    ),
    (
        "X26ABC1",
        "password",
        0,
        "de573101858d030d95234cdb5b95da8474f743909c169d108edcc7260464fe91",
    ),
];

#[test]
fn reproduces_the_worked_example_header() {
    assert_eq!(
        nhsmesh_token("PHARM001", "pharm001-pass", "TestKey", NONCE, 0, TS),
        "NHSMESH PHARM001:3f2504e0-4f89-11d3-9a0c-0305e82c3301:0:202501011200:\
         f341629d01796a01ce680fa32141f10bf290c74e6d0636fae555d7e2885fa8d0"
    );
}

#[test]
fn reproduces_every_vector() {
    for (mailbox, password, count, hash) in VECTORS {
        let expected = format!("NHSMESH {mailbox}:{NONCE}:{count}:{TS}:{hash}");
        assert_eq!(
            nhsmesh_token(mailbox, password, "TestKey", NONCE, *count, TS),
            expected
        );
    }
}

#[test]
fn parse_and_verify_round_trip() {
    for (mailbox, password, count, hash) in VECTORS {
        let header = nhsmesh_token(mailbox, password, "TestKey", NONCE, *count, TS);
        let parsed = verify_token(&header, password, "TestKey").unwrap();
        assert_eq!(
            parsed,
            ParsedToken {
                mailbox_id: (*mailbox).to_owned(),
                nonce: NONCE.to_owned(),
                nonce_count: count.to_string(),
                timestamp: TS.to_owned(),
                hash: (*hash).to_owned(),
            }
        );
    }
}

#[test]
fn parse_is_tolerant_like_the_sandbox() {
    let hash = VECTORS[0].3;
    let bare = format!("PHARM001:{NONCE}:0:{TS}:{hash}");
    for header in [
        format!("  nhsmesh {bare}  "),
        format!("NHSMESH_{bare}"),
        bare.clone(),
        format!("NhSmEsH {bare}"),
    ] {
        assert!(
            verify_token(&header, "pharm001-pass", "TestKey").is_ok(),
            "{header}"
        );
    }
}

#[test]
fn parse_rejects_malformed_tokens() {
    let hash = VECTORS[0].3;
    for header in [
        String::new(),
        "NHSMESH ".to_owned(),
        format!("NHSMESH PHARM001:{NONCE}:0:{TS}"),
        format!("NHSMESH PHARM001:{NONCE}:0:{TS}:{hash}:extra"),
        format!("NHSMESH PHARM001:{NONCE}:abc:{TS}:{hash}"),
        format!("NHSMESH PHARM001:{NONCE}:-1:{TS}:{hash}"),
        format!("NHSMESH PHARM 001:{NONCE}:0:{TS}:{hash}"),
        format!("NHSMESH :{NONCE}:0:{TS}:{hash}"),
    ] {
        assert_eq!(parse_token(&header), None, "{header}");
        assert_eq!(
            verify_token(&header, "pharm001-pass", "TestKey"),
            Err(TokenError::Malformed)
        );
    }
}

#[test]
fn verify_rejects_wrong_secrets_and_tampering() {
    let header = nhsmesh_token("PHARM001", "pharm001-pass", "TestKey", NONCE, 0, TS);
    assert_eq!(
        verify_token(&header, "wrong", "TestKey"),
        Err(TokenError::InvalidHash)
    );
    assert_eq!(
        verify_token(&header, "pharm001-pass", "Banana"),
        Err(TokenError::InvalidHash)
    );
    let tampered = header.replace(":0:", ":1:");
    assert_eq!(
        verify_token(&tampered, "pharm001-pass", "TestKey"),
        Err(TokenError::InvalidHash)
    );
    let not_hex = header.replace("f341629d", "zz41629d");
    assert_eq!(
        verify_token(&not_hex, "pharm001-pass", "TestKey"),
        Err(TokenError::InvalidHash)
    );
}

#[test]
fn verify_compares_hash_case_insensitively() {
    let header = nhsmesh_token("PHARM001", "pharm001-pass", "TestKey", NONCE, 0, TS);
    let (head, hash) = header.rsplit_once(':').unwrap();
    let upper = format!("{head}:{}", hash.to_uppercase());
    assert!(verify_token(&upper, "pharm001-pass", "TestKey").is_ok());
}

#[test]
fn token_source_counts_up_and_stamps_utc_minutes() {
    let source = TokenSource::new();
    let first = parse_token(&source.next("X26ABC1", "password", "TestKey")).unwrap();
    let second = verify_token(
        &source.next("X26ABC1", "password", "TestKey"),
        "password",
        "TestKey",
    )
    .unwrap();
    assert_eq!(first.nonce, second.nonce);
    assert_eq!(
        (first.nonce_count.as_str(), second.nonce_count.as_str()),
        ("0", "1")
    );
    assert_eq!(second.nonce_count_value(), Some(1));
    assert_eq!(first.timestamp.len(), 12);
    assert!(second.timestamp_within(chrono::Utc::now(), chrono::Duration::minutes(2)));
    assert!(!second.timestamp_within(
        chrono::Utc::now() + chrono::Duration::hours(3),
        chrono::Duration::hours(2)
    ));
}

/// A header whose hash covers `count` exactly as written.
fn header_with_count(count: &str) -> String {
    let fields = TokenFields {
        mailbox_id: "PHARM001",
        nonce: NONCE,
        nonce_count: count,
        timestamp: TS,
    };
    let mac = fields.mac("pharm001-pass", "TestKey").unwrap();
    let hash = hex::encode(mac.finalize().into_bytes());
    format!("NHSMESH PHARM001:{NONCE}:{count}:{TS}:{hash}")
}

#[test]
fn nonce_count_is_hashed_as_the_text_sent() {
    // Like the sandbox: "007" is its own token, and a hash made over "7" does not match it.
    let parsed = verify_token(&header_with_count("007"), "pharm001-pass", "TestKey").unwrap();
    assert_eq!(parsed.nonce_count, "007");
    assert_eq!(parsed.nonce_count_value(), Some(7));
    let seven = header_with_count("7");
    let (_, hash_of_seven) = seven.rsplit_once(':').unwrap();
    let mixed = format!("NHSMESH PHARM001:{NONCE}:007:{TS}:{hash_of_seven}");
    assert_eq!(
        verify_token(&mixed, "pharm001-pass", "TestKey"),
        Err(TokenError::InvalidHash)
    );
}

#[test]
fn nonce_counts_beyond_u64_are_kept_as_text() {
    let huge = "123456789012345678901234567890";
    let parsed = verify_token(&header_with_count(huge), "pharm001-pass", "TestKey").unwrap();
    assert_eq!(parsed.nonce_count, huge);
    assert_eq!(parsed.nonce_count_value(), None);
    let max = u64::MAX.to_string();
    let header = nhsmesh_token("PHARM001", "pharm001-pass", "TestKey", NONCE, u64::MAX, TS);
    assert_eq!(header, header_with_count(&max));
    assert_eq!(
        verify_token(&header, "pharm001-pass", "TestKey")
            .unwrap()
            .nonce_count_value(),
        Some(u64::MAX)
    );
}

#[test]
fn spaces_or_signs_around_the_count_are_malformed() {
    // `str.isdigit()` is false for all of these, so the sandbox answers "Error reading from
    // Authorization header" even when the hash was made over exactly that text.
    for count in [" 7", "7 ", " 7 ", "+7", "-7", "7\t", "0x7", "\u{0663}", ""] {
        let header = header_with_count(count);
        assert_eq!(parse_token(&header), None, "{count:?}");
        assert_eq!(
            verify_token(&header, "pharm001-pass", "TestKey"),
            Err(TokenError::Malformed),
            "{count:?}"
        );
    }
}
