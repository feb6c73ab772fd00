//! Request header helpers: `Accept` version negotiation and byte-faithful header text.

use std::borrow::Cow;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::errors::ApiError;

/// Parses `Accept` like MESH: split on `;` (not `,`), the first piece naming `vnd.mesh` must be
/// exactly `application/vnd.mesh.v<N>+json`. `None` means a malformed header (HTTP 400);
/// anything without `vnd.mesh` is version 1.
pub(crate) fn parse_accept(accept: Option<&str>) -> Option<u32> {
    let accept = match accept {
        Some(a) if !a.is_empty() => a,
        _ => return Some(1),
    };
    for piece in accept.split(';') {
        let piece = piece.trim();
        if piece.is_empty() || !piece.contains("vnd.mesh") {
            continue;
        }
        let digits = piece
            .strip_prefix("application/vnd.mesh.v")?
            .strip_suffix("+json")?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Absurdly long version numbers are still "a higher version", i.e. v2 shapes.
        return Some(digits.parse().unwrap_or(u32::MAX));
    }
    Some(1)
}

/// API version for a successful response; a malformed `Accept` is a 400.
pub(crate) fn api_version(headers: &HeaderMap) -> Result<u32, ApiError> {
    let accept = header_text(headers, header::ACCEPT.as_str());
    parse_accept(accept.as_deref()).ok_or_else(|| {
        ApiError::plain(
            StatusCode::BAD_REQUEST,
            "Accept header api format incorrect",
        )
    })
}

/// API version used to shape an error body (a malformed `Accept` gets v1 shapes).
pub(crate) fn error_api_version(headers: &HeaderMap) -> u32 {
    parse_accept(header_text(headers, header::ACCEPT.as_str()).as_deref()).unwrap_or(1)
}

/// First value of header `name` as text. Bytes above 0x7F are read as Latin-1 (as HTTP servers
/// traditionally do), so values round-trip byte for byte via [`to_header_value`].
pub(crate) fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<Cow<'a, str>> {
    headers.get(name).map(|v| value_text(v))
}

pub(crate) fn value_text(value: &HeaderValue) -> Cow<'_, str> {
    let bytes = value.as_bytes();
    if bytes.is_ascii() {
        // ASCII is valid UTF-8, so this never falls back.
        match std::str::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(String::new()),
        }
    } else {
        Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect())
    }
}

/// Encodes text read by [`header_text`] back into a header value (Latin-1); `None` when the
/// value cannot be a header (control characters).
pub(crate) fn to_header_value(text: &str) -> Option<HeaderValue> {
    if text.is_ascii() {
        return HeaderValue::from_str(text).ok();
    }
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect();
    HeaderValue::from_bytes(&bytes).ok()
}

/// MESH rejects any `Mex-*` value containing 0x00–0x1F (tab included) with code 06.
pub(crate) fn has_control_chars(text: &str) -> bool {
    text.chars().any(|c| u32::from(c) < 0x20)
}

/// `Mex-To`, `Mex-WorkflowID` and `Mex-Content-Checksum` may not be URLs (code 06).
pub(crate) fn looks_like_url(text: &str) -> bool {
    let lower = |n: usize| text.get(..n).map(str::to_ascii_lowercase);
    lower(7).as_deref() == Some("http://") || lower(8).as_deref() == Some("https://")
}

/// Python-style truthiness of `Mex-Content-Compressed` / `Mex-Content-Encrypted`.
pub(crate) fn truthy(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "y" | "yes" | "t" | "true" | "on" | "1"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_versions() {
        assert_eq!(parse_accept(None), Some(1));
        assert_eq!(parse_accept(Some("application/json")), Some(1));
        assert_eq!(parse_accept(Some("*/*")), Some(1));
        assert_eq!(parse_accept(Some("application/vnd.mesh.v1+json")), Some(1));
        assert_eq!(parse_accept(Some("application/vnd.mesh.v2+json")), Some(2));
        assert_eq!(parse_accept(Some("application/vnd.mesh.v3+json")), Some(3));
        assert_eq!(parse_accept(Some("application/vnd.mesh.vX+json")), None);
        assert_eq!(
            parse_accept(Some("application/vnd.mesh.v2+json, application/json")),
            None
        );
        assert_eq!(
            parse_accept(Some("application/vnd.mesh.v2+json; q=1")),
            Some(2)
        );
    }

    #[test]
    fn latin1_round_trip() {
        let value = HeaderValue::from_bytes(b"Zo\xeb\tx").unwrap();
        let text = value_text(&value);
        assert_eq!(text, "Zo\u{eb}\tx");
        assert!(has_control_chars(&text));
        let back = to_header_value("Zo\u{eb}").unwrap();
        assert_eq!(back.as_bytes(), b"Zo\xeb");
    }

    #[test]
    fn urls_and_flags() {
        assert!(looks_like_url("HTTPS://x"));
        assert!(looks_like_url("http://x"));
        assert!(!looks_like_url("GPCONNECT_UPDATE_RECORD"));
        assert!(truthy("Y") && truthy(" yes ") && !truthy("N") && !truthy(""));
    }
}
