//! Escape sequences, decoded only at the value boundary: after a field has been split into
//! repetitions, components and subcomponents, so an escaped delimiter never splits anything.
//!
//! | sequence | result |
//! | --- | --- |
//! | `\F\` `\S\` `\T\` `\R\` `\E\` | the message's field, component, subcomponent, repetition, escape character |
//! | `\Xhh…\` | the bytes `hh…` read in the message's character set (must be valid text) |
//! | `\.br\`, `\.sp\`, `\.sp<n>\` | a line break |
//! | `\H\` `\N\`, other `\.xx\` formatting commands, `\Z…\` | removed (highlighting, layout and local escapes carry no text) |
//! | `\C2842\` (ISO-IR 6, ASCII), and `\C2D41\` (ISO-IR 100) in an 8859/1 message | removed: they switch to the character set already in force |
//! | any other `\C…\`, every `\M…\` | the message is rejected: the gateway does not switch character sets inside a value, and guessing would corrupt names |
//! | anything else, an unterminated or empty sequence, or one containing a delimiter | kept literally (senders that forget to escape a backslash) |

use std::fmt;

use super::parse::{Charset, Delims};

/// Why a value's escape sequences cannot be decoded faithfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EscapeProblem {
    /// `\C…\` switching to a character set other than the message's.
    CharsetSwitch,
    /// `\M…\` multi-byte character-set switch.
    MultiByte,
    /// `\X…\` that is not whole hexadecimal bytes forming valid text.
    BadHex,
}

impl fmt::Display for EscapeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CharsetSwitch => {
                "uses a \\C..\\ escape that switches to another character set, which is not \
                 supported; send the text in the message's character set (MSH-18) instead"
            }
            Self::MultiByte => {
                "uses a \\M..\\ multi-byte character-set escape, which is not supported; send \
                 the text as UTF-8 (MSH-18 UNICODE UTF-8) instead"
            }
            Self::BadHex => {
                "has a \\X..\\ escape that is not whole hexadecimal bytes forming valid text in \
                 the message's character set"
            }
        })
    }
}

/// Decodes the escape sequences of one value (see the module table).
///
/// # Errors
/// [`EscapeProblem`] for character-set switches and undecodable hexadecimal data.
pub(crate) fn decode(raw: &str, d: &Delims, charset: Charset) -> Result<String, EscapeProblem> {
    let Some(esc) = d.escape else {
        return Ok(raw.to_owned());
    };
    if !raw.contains(esc) {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(start) = rest.find(esc) {
        out.push_str(&rest[..start]);
        let after = &rest[start + esc.len_utf8()..];
        let seq = after.find(esc).map(|end| &after[..end]);
        match seq {
            Some(seq) if !seq.is_empty() && !seq.chars().any(|c| d.is_delimiter(c)) => {
                apply(seq, esc, d, charset, &mut out)?;
                rest = &after[seq.len() + esc.len_utf8()..];
            }
            // Not a sequence: keep the escape character and look again after it.
            _ => {
                out.push(esc);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn apply(
    seq: &str,
    esc: char,
    d: &Delims,
    charset: Charset,
    out: &mut String,
) -> Result<(), EscapeProblem> {
    let delimiter = match seq {
        "F" => Some(d.field),
        "S" => Some(d.component),
        "T" => d.subcomponent,
        "R" => d.repetition,
        "E" => Some(esc),
        _ => None,
    };
    if let Some(c) = delimiter {
        out.push(c);
        return Ok(());
    }
    let (head, tail) = seq.split_at(seq.chars().next().map_or(0, char::len_utf8));
    match head {
        "X" => out.push_str(&hex_text(tail, charset)?),
        "C" => {
            let no_op = tail.eq_ignore_ascii_case("2842")
                || (charset == Charset::Latin1 && tail.eq_ignore_ascii_case("2D41"));
            if !no_op {
                return Err(EscapeProblem::CharsetSwitch);
            }
        }
        "M" => return Err(EscapeProblem::MultiByte),
        "Z" => {}
        "H" | "N" if tail.is_empty() => {}
        "." => {
            let cmd = tail.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
            if cmd == "br" || cmd == "sp" {
                out.push('\n');
            }
        }
        _ => {
            out.push(esc);
            out.push_str(seq);
            out.push(esc);
        }
    }
    Ok(())
}

/// The text of the hexadecimal bytes `hex` in `charset`.
fn hex_text(hex: &str, charset: Charset) -> Result<String, EscapeProblem> {
    if hex.is_empty() || !hex.len().is_multiple_of(2) || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(EscapeProblem::BadHex);
    }
    let bytes: Vec<u8> = hex
        .as_bytes()
        .chunks(2)
        .filter_map(|pair| std::str::from_utf8(pair).ok())
        .filter_map(|pair| u8::from_str_radix(pair, 16).ok())
        .collect();
    match charset {
        Charset::Utf8 => String::from_utf8(bytes).map_err(|_| EscapeProblem::BadHex),
        Charset::Latin1 => Ok(bytes.into_iter().map(char::from).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d() -> Delims {
        Delims::standard()
    }

    fn dec(raw: &str) -> String {
        decode(raw, &d(), Charset::Utf8).unwrap()
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(dec(r"a\F\b\S\c\T\d\R\e\E\f"), r"a|b^c&d~e\f");
        assert_eq!(dec("plain"), "plain");
        assert_eq!(dec("café\\F\\crème"), "café|crème");
    }

    #[test]
    fn delimiters_follow_the_message() {
        let custom = Delims {
            field: '#',
            component: '$',
            repetition: Some('*'),
            escape: Some('!'),
            subcomponent: Some('%'),
        };
        let out = decode("a!F!b!S!c!E!d", &custom, Charset::Utf8).unwrap();
        assert_eq!(out, "a#b$c!d");
    }

    #[test]
    fn hex_formatting_and_unknown() {
        assert_eq!(dec(r"x\X0D0A\y"), "x\r\ny");
        assert_eq!(dec(r"caf\XC3A9\"), "café");
        assert_eq!(decode(r"caf\XE9\", &d(), Charset::Latin1).unwrap(), "café");
        assert_eq!(dec(r"line1\.br\line2\.sp2\x"), "line1\nline2\nx");
        assert_eq!(dec(r"\H\bold\N\ \.in+4\ \Zlocal\done"), "bold  done");
        assert_eq!(dec(r"C:\temp"), r"C:\temp");
        assert_eq!(dec(r"a\\b"), r"a\\b");
        assert_eq!(dec(r"\Q\"), r"\Q\");
        assert_eq!(dec(r"\C2842\ok"), "ok");
    }

    #[test]
    fn rejected_sequences() {
        assert_eq!(
            decode(r"\XE9\", &d(), Charset::Utf8),
            Err(EscapeProblem::BadHex)
        );
        assert_eq!(
            decode(r"\X0\", &d(), Charset::Utf8),
            Err(EscapeProblem::BadHex)
        );
        assert_eq!(
            decode(r"\XZZ\", &d(), Charset::Utf8),
            Err(EscapeProblem::BadHex)
        );
        assert_eq!(
            decode(r"\C2D41\x", &d(), Charset::Utf8),
            Err(EscapeProblem::CharsetSwitch)
        );
        assert!(decode(r"\C2D41\x", &d(), Charset::Latin1).is_ok());
        assert_eq!(
            decode(r"\M2442\x", &d(), Charset::Utf8),
            Err(EscapeProblem::MultiByte)
        );
    }
}
