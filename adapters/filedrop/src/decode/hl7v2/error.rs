//! Why one HL7v2 message could not become an event. Every reason names the segment, field and
//! line it concerns and never quotes a value from the message (values are patient data); the
//! few codes it does quote (segment ids, message types, character-set names) are checked to be
//! short identifiers first.

use super::escape::EscapeProblem;

/// Why one message failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Hl7Error {
    /// The message's structure is broken at `line`.
    #[error("line {line}: {problem}")]
    Syntax {
        /// 1-based line in the file.
        line: usize,
        /// What is wrong, in words a person can act on.
        problem: String,
    },
    /// MSH-18 names a character set the gateway does not read.
    #[error(
        "MSH-18 declares the character set {0}, which is not supported (supported: ASCII, \
         UNICODE UTF-8, 8859/1); if the data really is UTF-8 or ISO-8859-1, set `charset` for \
         this drop folder"
    )]
    Charset(String),
    /// Bytes that are not text in the message's character set.
    #[error("line {line} is not valid {charset} text{hint}")]
    NotText {
        /// 1-based line in the file.
        line: usize,
        /// Character set expected.
        charset: &'static str,
        /// What to do about it.
        hint: &'static str,
    },
    /// A value with an escape sequence that cannot be decoded faithfully.
    #[error("{field} {problem}")]
    Escape {
        /// Where, e.g. `PID-5.1 (line 3)`.
        field: String,
        /// What.
        problem: EscapeProblem,
    },
    /// The message is larger than configured.
    #[error(
        "the message is {size} bytes, more than the limit of {limit} bytes (max_message_bytes)"
    )]
    TooLarge {
        /// Size of the message.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// MSH-9 names a message type without a mapping.
    #[error(
        "message type {0} is not supported (supported: RDS^O13, ORU^R01 with blood pressure, \
         MDM^T02 with a PDF)"
    )]
    UnsupportedType(String),
    /// A required segment is absent.
    #[error("the {message} message has no {segment} segment ({what})")]
    NoSegment {
        /// Message type, e.g. `RDS^O13`.
        message: &'static str,
        /// Segment id.
        segment: &'static str,
        /// What it would have given.
        what: &'static str,
    },
    /// A required field is empty.
    #[error("{field} ({what}) is empty")]
    Missing {
        /// Where, e.g. `PID-7 (line 3)`.
        field: String,
        /// What it means, e.g. `birth date`.
        what: &'static str,
    },
    /// A field is present but unusable.
    #[error("{field} ({what}) {problem}")]
    Invalid {
        /// Where, e.g. `RXD-4 (line 9)`.
        field: String,
        /// What it means.
        what: &'static str,
        /// What is wrong, e.g. `is not a number`.
        problem: String,
    },
}

/// `s` if it is a short code safe to quote in a reason, else a placeholder.
pub(crate) fn quote_code(s: &str) -> String {
    let ok = !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " ^/-_.".contains(c));
    match ok {
        true => format!("\"{s}\""),
        false => "(unreadable)".to_owned(),
    }
}
