//! Splits the bytes of an HL7v2 file into messages, before any decoding: segments end at CR, LF
//! or CRLF alike, a UTF-8 BOM (at the start of the file or of any line, as left by
//! concatenating files) and MLLP framing bytes are dropped, blank lines are skipped, each `MSH`
//! starts a message, and the batch envelope segments `FHS`/`BHS`/`BTS`/`FTS` end the message
//! before them without being part of any. Working on bytes keeps this step independent of the
//! character set, which is only known once a message's MSH-18 has been read.

/// A segment's bytes (line end and framing removed) and its 1-based line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawSegment<'a> {
    /// 1-based line number in the file.
    pub(crate) line: usize,
    /// The segment, without its line end.
    pub(crate) bytes: &'a [u8],
}

/// One part of a file.
#[derive(Debug)]
pub(crate) enum Chunk<'a> {
    /// A message: its first segment is the `MSH`.
    Message(Vec<RawSegment<'a>>),
    /// Lines outside any message (before the first `MSH`, or after a batch trailer).
    Stray {
        /// First such line.
        first: usize,
        /// Last such line.
        last: usize,
    },
}

/// Why a file could not be split into messages at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SplitError {
    /// Nothing but blank lines.
    #[error("the file is empty")]
    Empty,
    /// No line starts with `MSH`.
    #[error(
        "the file contains no MSH segment, so it holds no HL7v2 message (is it an HL7v2 file?)"
    )]
    NoMessage,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";
/// MLLP start-of-block and end-of-block bytes.
const MLLP: [u8; 2] = [0x0B, 0x1C];

/// Splits `bytes` into messages and stray lines, in file order.
///
/// # Errors
/// [`SplitError`] when the file holds no message at all. An empty batch (only envelope
/// segments) is not an error: it yields no chunks.
pub(crate) fn split(bytes: &[u8]) -> Result<Vec<Chunk<'_>>, SplitError> {
    let mut chunks = Vec::new();
    let mut current: Option<Vec<RawSegment<'_>>> = None;
    let mut stray: Option<(usize, usize)> = None;
    let (mut messages, mut content) = (0usize, false);
    for seg in lines(bytes) {
        let t = trim(seg.bytes);
        if t.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        content = true;
        let seg = RawSegment {
            line: seg.line,
            bytes: t,
        };
        let envelope = is_envelope(t);
        if t.starts_with(b"MSH") || envelope {
            if let Some((first, last)) = stray.take() {
                chunks.push(Chunk::Stray { first, last });
            }
            if let Some(m) = current.take() {
                chunks.push(Chunk::Message(m));
            }
            if !envelope {
                messages += 1;
                current = Some(vec![seg]);
            }
            continue;
        }
        match current.as_mut() {
            Some(m) => m.push(seg),
            None => {
                let s = stray.get_or_insert((seg.line, seg.line));
                s.1 = seg.line;
            }
        }
    }
    if let Some((first, last)) = stray {
        chunks.push(Chunk::Stray { first, last });
    }
    if let Some(m) = current {
        chunks.push(Chunk::Message(m));
    }
    match (content, messages) {
        (false, _) => Err(SplitError::Empty),
        (true, 0) if chunks.iter().any(|c| matches!(c, Chunk::Stray { .. })) => {
            Err(SplitError::NoMessage)
        }
        _ => Ok(chunks),
    }
}

/// `FHS`, `BHS`, `BTS`, `FTS` followed by a separator or the line end.
fn is_envelope(t: &[u8]) -> bool {
    let id = t.get(..3).unwrap_or_default();
    let next_ok = t.get(3).is_none_or(|b| !b.is_ascii_alphanumeric());
    next_ok && matches!(id, b"FHS" | b"BHS" | b"BTS" | b"FTS")
}

/// Drops a leading BOM and MLLP framing bytes.
fn trim(line: &[u8]) -> &[u8] {
    let mut t = line;
    loop {
        if let Some(rest) = t.strip_prefix(BOM) {
            t = rest;
        } else if let Some((first, rest)) = t.split_first()
            && MLLP.contains(first)
        {
            t = rest;
        } else {
            break;
        }
    }
    while let Some((last, rest)) = t.split_last()
        && MLLP.contains(last)
    {
        t = rest;
    }
    t
}

/// The lines of `bytes` (CR, LF and CRLF each end one line), with 1-based numbers that agree with
/// [`crate::decode::line_at`].
fn lines(bytes: &[u8]) -> impl Iterator<Item = RawSegment<'_>> {
    let mut rest = bytes;
    let mut line = 0usize;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        line += 1;
        let end = rest
            .iter()
            .position(|&b| b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        let (seg, tail) = rest.split_at(end);
        rest = match tail {
            [b'\r', b'\n', tail @ ..] | [b'\r' | b'\n', tail @ ..] => tail,
            _ => &[],
        };
        Some(RawSegment { line, bytes: seg })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(bytes: &[u8]) -> Vec<String> {
        split(bytes)
            .unwrap()
            .iter()
            .map(|c| match c {
                Chunk::Message(segs) => segs
                    .iter()
                    .map(|s| format!("{}:{}", s.line, String::from_utf8_lossy(s.bytes)))
                    .collect::<Vec<_>>()
                    .join(","),
                Chunk::Stray { first, last } => format!("stray {first}-{last}"),
            })
            .collect()
    }

    #[test]
    fn cr_lf_and_crlf_split_alike() {
        for sep in ["\r", "\n", "\r\n"] {
            let text = ["MSH|^~\\&|A", "PID|1", "MSH|^~\\&|B", "PID|2", ""].join(sep);
            assert_eq!(
                shape(text.as_bytes()),
                ["1:MSH|^~\\&|A,2:PID|1", "3:MSH|^~\\&|B,4:PID|2"],
                "{sep:?}"
            );
        }
    }

    #[test]
    fn bom_framing_blank_lines_and_batches() {
        let text = "\u{feff}FHS|^~\\&\nBHS|^~\\&\n\x0bMSH|^~\\&|A\n\nPID|1\x1c\n\
                    BTS|1\nFTS|1\n\u{feff}MSH|^~\\&|B\n";
        assert_eq!(
            shape(text.as_bytes()),
            ["3:MSH|^~\\&|A,5:PID|1", "8:MSH|^~\\&|B"]
        );
    }

    #[test]
    fn stray_lines_and_file_errors() {
        assert_eq!(
            shape(b"junk\nmore\nMSH|^~\\&|A\nBTS|1\nafter"),
            ["stray 1-2", "3:MSH|^~\\&|A", "stray 5-5"]
        );
        assert_eq!(split(b"").unwrap_err(), SplitError::Empty);
        assert_eq!(split(b" \r\n\r\n").unwrap_err(), SplitError::Empty);
        assert_eq!(split(b"PID|1\nPV1|1").unwrap_err(), SplitError::NoMessage);
        assert!(split(b"FHS|^~\\&\nFTS|0").unwrap().is_empty());
    }
}
