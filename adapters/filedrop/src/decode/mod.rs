//! Decoders turn the bytes of one dropped file into pipeline events. Each format is one
//! [`Decoder`]: JSON is built in, HL7v2 and CSV sit behind the cargo features `hl7v2` and `csv`
//! (both on by default) and slot in through [`decoder_for`].

#[cfg(feature = "csv")]
mod csv;
#[cfg(any(feature = "hl7v2", feature = "csv"))]
mod event;
#[cfg(feature = "hl7v2")]
mod hl7v2;
mod json;

use gateway_core::RawEvent;

#[cfg(feature = "csv")]
pub use self::csv::{CsvDecoder, CsvOptions};
#[cfg(feature = "hl7v2")]
pub use hl7v2::{CharsetPolicy, Hl7v2Decoder, Hl7v2Options, LocalTimeZone};
pub use json::JsonDecoder;

use crate::DropFormat;

/// What a decoder knows about the file it decodes.
#[derive(Debug, Clone, Copy)]
pub struct DecodeContext<'a> {
    /// The file's name as dropped, e.g. `a.json`.
    pub file_name: &'a str,
    /// The origin prefix, `file:<dir name>/<file name>`; each item's origin is this plus
    /// `#<index>`.
    pub origin: &'a str,
}

impl DecodeContext<'_> {
    /// The origin of the item at `index`: `file:<dir name>/<file name>#<index>`.
    pub fn item_origin(&self, index: usize) -> String {
        format!("{}#{index}", self.origin)
    }
}

/// One message or row read from a file, ready for the pipeline.
#[derive(Debug, Clone)]
pub struct DecodedItem {
    /// The event as the pipeline receives it.
    pub raw: RawEvent,
    /// 1-based line where the item starts (CSV row, first line of an HL7v2 message), if known.
    pub line: Option<usize>,
}

/// One message or row that could not be decoded. It is recorded in the file's sidecar with stage
/// `input` and never handed to the pipeline.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ItemDecodeError {
    /// 1-based line of the problem, if known.
    pub line: Option<usize>,
    /// A sentence a person can act on. Never contains file contents (patient data).
    pub reason: String,
}

/// Turns the bytes of one file into items. Decoding is pure and synchronous; the caller runs it off
/// the async threads.
pub trait Decoder: Send + Sync {
    /// Decodes a whole file. Element `i` of the result is the item with 0-based index `i` (the
    /// message or row number used in the sidecar). A file that cannot be split into items at all
    /// is one `Err` at index 0.
    fn decode(
        &self,
        bytes: &[u8],
        cx: &DecodeContext<'_>,
    ) -> Vec<Result<DecodedItem, ItemDecodeError>>;
}

/// The decoder for `format` with default options. Drop folders with their own settings (a CSV
/// column map, an HL7v2 service) build their decoder and pass it to
/// [`FileDropInput::with_decoder`](crate::FileDropInput::with_decoder).
pub fn decoder_for(format: &DropFormat) -> Box<dyn Decoder> {
    match format {
        DropFormat::Json => Box::new(JsonDecoder),
        #[cfg(feature = "hl7v2")]
        DropFormat::Hl7v2 => Box::new(Hl7v2Decoder::default()),
        #[cfg(feature = "csv")]
        DropFormat::Csv => Box::new(CsvDecoder::default()),
    }
}

/// 1-based line number of byte `offset` in `bytes` (LF, CRLF and lone CR all end a line).
pub(crate) fn line_at(bytes: &[u8], offset: usize) -> usize {
    let end = offset.min(bytes.len());
    count_lines(&bytes[..end]) + 1
}

/// Number of line ends in `bytes`, counting CRLF once.
pub(crate) fn count_lines(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut prev_cr = false;
    for &b in bytes {
        match b {
            b'\r' => n += 1,
            b'\n' if !prev_cr => n += 1,
            _ => {}
        }
        prev_cr = b == b'\r';
    }
    n
}
