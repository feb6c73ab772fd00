//! NHSMESH token checking, exactly like the sandbox's full auth mode (spec §4.3): no replay or
//! clock-window checks, so the fixed test vectors of §4.2 stay valid.

use axum::http::{HeaderMap, StatusCode, header};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::errors::ApiError;
use crate::headers::header_text;
use crate::sim::{MailboxInfo, Sim};

const READING: &str = "Error reading from Authorization header";
const MISMATCH: &str = "Mailbox id does not match token";
const INVALID: &str = "Invalid Authentication Token";

/// The five `:`-separated token fields (missing ones are empty) and how many there were.
struct TokenParts<'a> {
    mailbox: &'a str,
    nonce: &'a str,
    nonce_count: &'a str,
    timestamp: &'a str,
    hash: &'a str,
    parts: usize,
}

fn parse(token: &str) -> TokenParts<'_> {
    let token = token.trim();
    // The sandbox drops a case-insensitive "NHSMESH" plus whatever single character follows it,
    // and also accepts a token without the scheme.
    let rest = if token.len() >= 7 && token.as_bytes()[..7].eq_ignore_ascii_case(b"NHSMESH") {
        let mut after = token[7..].chars();
        after.next();
        after.as_str()
    } else {
        token
    };
    let mut fields = [""; 5];
    let mut parts = 0;
    for (i, field) in rest.split(':').enumerate() {
        if let Some(slot) = fields.get_mut(i) {
            *slot = field;
        }
        parts += 1;
    }
    let [mailbox, nonce, nonce_count, timestamp, hash] = fields;
    TokenParts {
        mailbox,
        nonce,
        nonce_count,
        timestamp,
        hash,
        parts,
    }
}

/// HMAC-SHA256 over `mailbox:nonce:count:password:timestamp` keyed with the shared key (§4.1).
fn mac(key: &str, t: &TokenParts<'_>, password: &str) -> Option<Hmac<Sha256>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok()?;
    for (i, piece) in [t.mailbox, t.nonce, t.nonce_count, password, t.timestamp]
        .iter()
        .enumerate()
    {
        if i > 0 {
            mac.update(b":");
        }
        mac.update(piece.as_bytes());
    }
    Some(mac)
}

/// Checks the `Authorization` header for mailbox `path_mailbox` (already upper case) and
/// returns the authenticated mailbox.
///
/// # Errors
///
/// HTTP 403 with the sandbox's descriptions, in the sandbox's order of checks.
pub(crate) fn authorise<'a>(
    sim: &'a Sim,
    path_mailbox: &str,
    headers: &HeaderMap,
) -> Result<&'a MailboxInfo, ApiError> {
    let forbidden = |msg: &'static str| ApiError::plain(StatusCode::FORBIDDEN, msg);
    let raw = header_text(headers, header::AUTHORIZATION.as_str()).unwrap_or_default();
    let token = raw.trim();
    if token.is_empty() {
        return Err(forbidden(READING));
    }
    let parts = parse(token);
    if parts.mailbox != path_mailbox {
        return Err(forbidden(MISMATCH));
    }
    let count_ok =
        !parts.nonce_count.is_empty() && parts.nonce_count.bytes().all(|b| b.is_ascii_digit());
    if parts.parts != 5 || !count_ok || parts.mailbox.contains(' ') {
        return Err(forbidden(READING));
    }
    let Some(mailbox) = sim.mailboxes.get(path_mailbox) else {
        return Err(ApiError::mesh(
            StatusCode::FORBIDDEN,
            "SEND",
            "EPL-151",
            "No mailbox matched",
        ));
    };
    // Hex comparison is case-insensitive in the sandbox; decoding first gives the same answer
    // and lets the MAC comparison run in constant time.
    let given = hex::decode(parts.hash).map_err(|_| forbidden(INVALID))?;
    let mac = mac(&sim.shared_key, &parts, &mailbox.password).ok_or_else(|| forbidden(INVALID))?;
    mac.verify_slice(&given).map_err(|_| forbidden(INVALID))?;
    Ok(mailbox)
}

/// Computes the lowercase hex token hash (for tests and tools).
#[cfg(test)]
pub(crate) fn token_hash(
    key: &str,
    mailbox: &str,
    nonce: &str,
    count: &str,
    password: &str,
    timestamp: &str,
) -> String {
    let t = TokenParts {
        mailbox,
        nonce,
        nonce_count: count,
        timestamp,
        hash: "",
        parts: 5,
    };
    mac(key, &t, password)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::config::SimConfig;

    const NONCE: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    const TS: &str = "202501011200";

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    fn msg(err: ApiError) -> String {
        match err {
            ApiError::Mesh(e) => {
                assert_eq!(e.status, StatusCode::FORBIDDEN);
                e.msg.into_owned()
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn spec_vectors() {
        let vectors = [
            (
                "PHARM001",
                "pharm001-pass",
                "0",
                "f341629d01796a01ce680fa32141f10bf290c74e6d0636fae555d7e2885fa8d0",
            ),
            (
                "PHARM001",
                "pharm001-pass",
                "1",
                "5819a3cd7811c4352695bcc0907d2decf417c9490ee6f75ed7ec1091722448a4",
            ),
            (
                "PHARM001",
                "pharm001-pass",
                "2",
                "26a95b2eb0fa50b3c6b840bdb75b6335b4ed38f96e87a411dc3411c8e2d39254",
            ),
            (
                "GPPRAC01",
                "gpprac01-pass",
                "0",
                "3acebbc6a2ee07c1daa74f214384e5ece8f182c744792694935e01f10203fd9d",
            ),
            (
                "GPPRAC01",
                "gpprac01-pass",
                "1",
                "f14dac1e4d24eff098911baec31b9ecb5c468aff52a140fc9937790d8bfa00d3",
            ),
            (
                "GPPRAC01",
                "gpprac01-pass",
                "2",
                "f6c76793d0c1f8843be67733dab0464604842f94fc186dba7b24a133484d832f",
            ),
            (
                "GPPRAC01",
                "gpprac01-pass",
                "3",
                "23562a358b58aa98a1a8713a845331dd4380bff4b00d09776ee522eaf15ced21",
            ),
            (
                "X26ABC1",
                "password",
                "0",
                "de573101858d030d95234cdb5b95da8474f743909c169d108edcc7260464fe91",
            ),
        ];
        let sim = Sim::new(SimConfig::demo());
        for (mb, pw, count, hash) in vectors {
            assert_eq!(token_hash("TestKey", mb, NONCE, count, pw, TS), hash);
            let h = headers(&format!("NHSMESH {mb}:{NONCE}:{count}:{TS}:{hash}"));
            assert_eq!(authorise(&sim, mb, &h).unwrap().id, mb);
            // Upper-case hex and a scheme-less token are accepted too.
            let h = headers(&format!(
                "{mb}:{NONCE}:{count}:{TS}:{}",
                hash.to_uppercase()
            ));
            assert!(authorise(&sim, mb, &h).is_ok());
        }
    }

    #[test]
    fn agrees_with_the_mesh_client_tokens() {
        use gateway_adapter_mesh::{nhsmesh_token, verify_token};
        let sim = Sim::new(SimConfig::demo());
        for count in [0, 1, 42, u64::MAX] {
            let good = nhsmesh_token("PHARM001", "pharm001-pass", "TestKey", NONCE, count, TS);
            assert!(authorise(&sim, "PHARM001", &headers(&good)).is_ok());
            assert!(verify_token(&good, "pharm001-pass", "TestKey").is_ok());
            let bad = nhsmesh_token("PHARM001", "nope", "TestKey", NONCE, count, TS);
            assert_eq!(
                msg(authorise(&sim, "PHARM001", &headers(&bad)).unwrap_err()),
                INVALID
            );
            assert!(verify_token(&bad, "pharm001-pass", "TestKey").is_err());
        }
    }

    #[test]
    fn nonce_count_is_hashed_as_sent() {
        // The sandbox hashes the count text itself, so "007" is a different token from "7".
        let sim = Sim::new(SimConfig::demo());
        let hash = token_hash("TestKey", "PHARM001", NONCE, "007", "pharm001-pass", TS);
        let h = headers(&format!("NHSMESH PHARM001:{NONCE}:007:{TS}:{hash}"));
        assert!(authorise(&sim, "PHARM001", &h).is_ok());
        let hash = token_hash("TestKey", "PHARM001", NONCE, "7", "pharm001-pass", TS);
        let h = headers(&format!("NHSMESH PHARM001:{NONCE}:007:{TS}:{hash}"));
        assert!(authorise(&sim, "PHARM001", &h).is_err());
    }

    #[test]
    fn rejections() {
        let sim = Sim::new(SimConfig::demo());
        let good = "f341629d01796a01ce680fa32141f10bf290c74e6d0636fae555d7e2885fa8d0";
        let run = |v: Option<&str>, mb: &str| {
            let h = v.map(headers).unwrap_or_default();
            msg(authorise(&sim, mb, &h).unwrap_err())
        };
        assert_eq!(run(None, "PHARM001"), READING);
        assert_eq!(run(Some("   "), "PHARM001"), READING);
        assert_eq!(
            run(
                Some(&format!("NHSMESH PHARM001:{NONCE}:abc:{TS}:{good}")),
                "PHARM001"
            ),
            READING
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH PHARM001:{NONCE}:0:{TS}")),
                "PHARM001"
            ),
            READING
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH PHARM001:{NONCE}:0:{TS}:{good}")),
                "GPPRAC01"
            ),
            MISMATCH
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH pharm001:{NONCE}:0:{TS}:{good}")),
                "PHARM001"
            ),
            MISMATCH
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH PHARM001:{NONCE}:1:{TS}:{good}")),
                "PHARM001"
            ),
            INVALID
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH PHARM001:{NONCE}:0:{TS}:zz")),
                "PHARM001"
            ),
            INVALID
        );
        assert_eq!(
            run(
                Some(&format!("NHSMESH NOSUCH:{NONCE}:0:{TS}:{good}")),
                "NOSUCH"
            ),
            "No mailbox matched"
        );
        let mut cfg = SimConfig::demo();
        cfg.shared_key = "OtherKey".into();
        let other = Sim::new(cfg);
        let h = headers(&format!("NHSMESH PHARM001:{NONCE}:0:{TS}:{good}"));
        assert_eq!(msg(authorise(&other, "PHARM001", &h).unwrap_err()), INVALID);
    }
}
