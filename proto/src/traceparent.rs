//! W3C trace context (`traceparent`) parsing and child-span derivation.

use std::fmt;

/// A parsed W3C `traceparent` header: version 00, 16-byte trace id, 8-byte parent span id, flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    /// 32 lowercase hex characters, not all zero.
    pub trace_id: [u8; 16],
    /// 16 lowercase hex characters, not all zero.
    pub span_id: [u8; 8],
    /// Trace flags (bit 0 = sampled).
    pub flags: u8,
}

impl TraceParent {
    /// Parses `00-<trace id>-<span id>-<flags>`; returns `None` for anything invalid, as the W3C
    /// spec says a receiver must then start a new trace rather than fail.
    pub fn parse(s: &str) -> Option<Self> {
        let parts: Vec<&str> = s.trim().split('-').collect();
        if parts.len() < 4 || parts[0].len() != 2 || parts[0] == "ff" {
            return None;
        }
        let trace_id: [u8; 16] = hex_array(parts[1])?;
        let span_id: [u8; 8] = hex_array(parts[2])?;
        let flags: [u8; 1] = hex_array(parts[3])?;
        if trace_id.iter().all(|b| *b == 0) || span_id.iter().all(|b| *b == 0) {
            return None;
        }
        Some(Self {
            trace_id,
            span_id,
            flags: flags[0],
        })
    }

    /// Starts a new sampled trace from random bytes supplied by the caller (keeps this crate free
    /// of a random-number dependency).
    pub fn new_root(random: [u8; 24]) -> Self {
        let mut trace_id = [0u8; 16];
        let mut span_id = [0u8; 8];
        trace_id.copy_from_slice(&random[..16]);
        span_id.copy_from_slice(&random[16..]);
        trace_id[0] |= 1;
        span_id[0] |= 1;
        Self {
            trace_id,
            span_id,
            flags: 1,
        }
    }

    /// Same trace, new span id (the caller's span becomes the parent of what follows).
    pub fn child(&self, span_random: [u8; 8]) -> Self {
        let mut span_id = span_random;
        span_id[0] |= 1;
        Self {
            trace_id: self.trace_id,
            span_id,
            flags: self.flags,
        }
    }

    /// Trace id as 32 hex characters.
    pub fn trace_id_hex(&self) -> String {
        to_hex(&self.trace_id)
    }

    /// Span id as 16 hex characters.
    pub fn span_id_hex(&self) -> String {
        to_hex(&self.span_id)
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id_hex(),
            self.span_id_hex(),
            self.flags
        )
    }
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != N * 2
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_derives_children() {
        let s = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let tp = TraceParent::parse(s).unwrap();
        assert_eq!(tp.to_string(), s);
        let child = tp.child([9; 8]);
        assert_eq!(child.trace_id, tp.trace_id);
        assert_ne!(child.span_id, tp.span_id);
        assert!(
            TraceParent::parse("00-00000000000000000000000000000000-00f067aa0ba902b7-01").is_none()
        );
        assert!(TraceParent::parse("garbage").is_none());
        assert!(
            TraceParent::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none()
        );
    }
}
