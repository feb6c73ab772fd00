//! The NHSMESH authorisation token (spec/mesh.md §4): build, parse and verify.
//!
//! Building is used by [`crate::MeshClient`]; parsing and verification exist so that our MESH
//! simulator checks tokens exactly as tolerantly as the NHS mesh-sandbox does.

use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The scheme word that starts every token header value.
const SCHEME: &str = "NHSMESH";

/// Builds the full `Authorization` header value:
/// `NHSMESH <mailbox>:<nonce>:<nonce_count>:<timestamp>:<hex HMAC-SHA256>`.
///
/// The HMAC key is the environment shared secret and the HMAC input is
/// `<mailbox>:<nonce>:<nonce_count>:<password>:<timestamp>` (the password is never in the header).
pub fn nhsmesh_token(
    mailbox_id: &str,
    password: &str,
    shared_key: &str,
    nonce: &str,
    nonce_count: u64,
    timestamp: &str,
) -> String {
    let nonce_count = nonce_count.to_string();
    let fields = TokenFields {
        mailbox_id,
        nonce,
        nonce_count: &nonce_count,
        timestamp,
    };
    let hash = fields
        .mac(password, shared_key)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{SCHEME} {mailbox_id}:{nonce}:{nonce_count}:{timestamp}:{hash}")
}

/// The hashed token fields, all as the text that travels in the header.
struct TokenFields<'a> {
    mailbox_id: &'a str,
    nonce: &'a str,
    nonce_count: &'a str,
    timestamp: &'a str,
}

impl TokenFields<'_> {
    /// HMAC-SHA256 keyed with the shared secret over `mailbox:nonce:count:password:timestamp`.
    /// The count is hashed as text, exactly as sent (the sandbox hashes `007` as `007`).
    fn mac(&self, password: &str, shared_key: &str) -> Option<HmacSha256> {
        // HMAC accepts keys of any length, so this never fails; `None` is only a type-level path.
        let mut mac = HmacSha256::new_from_slice(shared_key.as_bytes()).ok()?;
        let pieces = [
            self.mailbox_id,
            self.nonce,
            self.nonce_count,
            password,
            self.timestamp,
        ];
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                mac.update(b":");
            }
            mac.update(piece.as_bytes());
        }
        Some(mac)
    }
}

/// The five fields of a parsed NHSMESH token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    /// Mailbox id as written in the token (not upper-cased).
    pub mailbox_id: String,
    /// Client nonce.
    pub nonce: String,
    /// Nonce counter, as sent: ASCII digits of any length (leading zeros and values beyond
    /// `u64` are kept, because the HMAC covers this text). See [`ParsedToken::nonce_count_value`].
    pub nonce_count: String,
    /// `yyyyMMddHHmm` UTC as sent (not validated by the parser).
    pub timestamp: String,
    /// Hex HMAC-SHA256 as sent.
    pub hash: String,
}

impl ParsedToken {
    /// The nonce counter as a number; `None` when it does not fit a `u64`.
    pub fn nonce_count_value(&self) -> Option<u64> {
        self.nonce_count.parse().ok()
    }

    /// True when the token timestamp is a valid `yyyyMMddHHmm` within `max_skew` of `now`.
    ///
    /// The sandbox never checks this; real MESH allows ±2 hours.
    pub fn timestamp_within(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        max_skew: chrono::Duration,
    ) -> bool {
        let Ok(ts) = chrono::NaiveDateTime::parse_from_str(&self.timestamp, "%Y%m%d%H%M") else {
            return false;
        };
        let delta = now.naive_utc() - ts;
        delta.abs() <= max_skew
    }
}

/// Why a token was rejected by [`verify_token`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Missing or unparseable header (sandbox text: "Error reading from Authorization header").
    #[error("error reading from authorization header")]
    Malformed,
    /// The hash does not match (sandbox text: "Invalid Authentication Token").
    #[error("invalid authentication token")]
    InvalidHash,
}

/// Parses a token header value as tolerantly as mesh-sandbox (spec/mesh.md §4.3).
///
/// The value is trimmed; a case-insensitive `NHSMESH` prefix plus one following character is
/// removed (a prefix-less token is accepted too); the rest must split on `:` into exactly five
/// parts with a non-empty mailbox id without spaces and a nonce count of ASCII digits only
/// (Python's `str.isdigit`: no sign, no surrounding spaces, any length).
pub fn parse_token(header: &str) -> Option<ParsedToken> {
    let value = header.trim();
    let body = match value.get(..SCHEME.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(SCHEME) => {
            // The sandbox drops the scheme and exactly one separator character, whatever it is.
            let rest = &value[SCHEME.len()..];
            let mut chars = rest.chars();
            chars.next()?;
            chars.as_str()
        }
        _ => value,
    };
    let parts: Vec<&str> = body.split(':').collect();
    let [mailbox_id, nonce, count, timestamp, hash] = parts.as_slice() else {
        return None;
    };
    if mailbox_id.is_empty() || mailbox_id.contains(' ') {
        return None;
    }
    // The sandbox checks `str.isdigit()` and hashes the text: "007" stays "007", " 7" is refused.
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(ParsedToken {
        mailbox_id: (*mailbox_id).to_owned(),
        nonce: (*nonce).to_owned(),
        nonce_count: (*count).to_owned(),
        timestamp: (*timestamp).to_owned(),
        hash: (*hash).to_owned(),
    })
}

/// Parses `header` and checks its hash against `password` and `shared_key`.
///
/// Mailbox matching, replay and clock-window checks are left to the caller (the simulator), as
/// they need server state; see [`ParsedToken::timestamp_within`].
///
/// # Errors
///
/// [`TokenError::Malformed`] when the header does not parse, [`TokenError::InvalidHash`] when the
/// hash (compared case-insensitively, in constant time) does not match.
pub fn verify_token(
    header: &str,
    password: &str,
    shared_key: &str,
) -> Result<ParsedToken, TokenError> {
    let token = parse_token(header).ok_or(TokenError::Malformed)?;
    let sent = hex::decode(token.hash.to_ascii_lowercase()).map_err(|_| TokenError::InvalidHash)?;
    let fields = TokenFields {
        mailbox_id: &token.mailbox_id,
        nonce: &token.nonce,
        nonce_count: &token.nonce_count,
        timestamp: &token.timestamp,
    };
    let mac = fields
        .mac(password, shared_key)
        .ok_or(TokenError::InvalidHash)?;
    mac.verify_slice(&sent)
        .map_err(|_| TokenError::InvalidHash)?;
    Ok(token)
}

/// Mints a fresh token per request: one UUID nonce per client and an incrementing counter, as the
/// NHS Python client does, so that no two requests of a client ever share a token.
#[derive(Debug)]
pub(crate) struct TokenSource {
    nonce: String,
    count: AtomicU64,
}

impl TokenSource {
    pub(crate) fn new() -> Self {
        Self {
            nonce: uuid::Uuid::new_v4().to_string(),
            count: AtomicU64::new(0),
        }
    }

    /// The next header value, stamped with the current UTC minute.
    pub(crate) fn next(&self, mailbox_id: &str, password: &str, shared_key: &str) -> String {
        let count = self.count.fetch_add(1, Ordering::Relaxed);
        let timestamp = chrono::Utc::now().format("%Y%m%d%H%M").to_string();
        nhsmesh_token(
            mailbox_id,
            password,
            shared_key,
            &self.nonce,
            count,
            &timestamp,
        )
    }
}

#[cfg(test)]
#[path = "token_tests.rs"]
mod tests;
