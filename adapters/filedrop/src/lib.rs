//! File-drop input: watches a drop folder, takes each complete file by an atomic rename into
//! `.claimed/`, decodes it into events, hands them to the pipeline ([`gateway_core::Ingest`]) and,
//! once every outcome is durable, moves the file to `done/`, or to `error/` next to a
//! `<name>.error.json` sidecar that says per message what was wrong (contract §4 and §8).
//!
//! Crash safety comes from three rules: a file is only ever moved, never deleted or overwritten;
//! it leaves `.claimed/` only after the pipeline has made its outcomes durable; and whatever is in
//! `.claimed/` is processed again on the next pass, which is safe because ingest is idempotent by
//! event id. Several gateway processes may share one folder: the claim rename and an advisory lock
//! on the claimed file make sure only one of them processes a given file.
//!
//! Formats are [`Decoder`]s; JSON is built in, HL7v2 (`Hl7v2Decoder`) and CSV (`CsvDecoder`)
//! are the cargo features `hl7v2` and `csv`, both on by default. They turn each
//! message or row into a CloudEvent with a derived, stable id (see the README).

mod config;
mod decode;
mod fsops;
mod settle;
mod sidecar;
mod source;
mod watch;

use std::path::PathBuf;

pub use config::{DropFormat, FileDropConfig};
#[cfg(feature = "hl7v2")]
pub use decode::{CharsetPolicy, Hl7v2Decoder, Hl7v2Options, LocalTimeZone};
#[cfg(feature = "csv")]
pub use decode::{CsvDecoder, CsvOptions};
pub use decode::{DecodeContext, DecodedItem, Decoder, ItemDecodeError, JsonDecoder, decoder_for};
pub use source::FileDropInput;

/// Why a file-drop pass or the input as a whole failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileDropError {
    /// The drop folder or one of its `.claimed/`, `done/`, `error/` folders is not usable.
    #[error("drop folder {path} is not usable")]
    Dir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file-system operation on one file failed; the file stays where it was.
    #[error("could not {op} {path}")]
    Io {
        /// What was being done, e.g. `claim`, `read`, `settle`.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The pipeline could not make outcomes durable: the file stays in `.claimed/` for a retry.
    #[error("pipeline could not make outcomes durable")]
    Ingest(#[source] gateway_core::IngestError),
    /// The pipeline broke its contract of one outcome per event: the file stays in `.claimed/`.
    #[error("pipeline returned {got} outcomes for {sent} events")]
    OutcomeCount {
        /// Events handed over.
        sent: usize,
        /// Outcomes returned.
        got: usize,
    },
    /// A blocking file-system task did not complete.
    #[error("blocking file task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl FileDropError {
    /// Whether this error concerns the pipeline as a whole, so that the rest of the pass is
    /// pointless, rather than one file.
    fn aborts_pass(&self) -> bool {
        matches!(
            self,
            Self::Dir { .. } | Self::Ingest(_) | Self::OutcomeCount { .. }
        )
    }
}
