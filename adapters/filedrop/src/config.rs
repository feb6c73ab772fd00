//! Configuration of one drop folder.

use std::path::PathBuf;
use std::time::Duration;

/// What the files in a drop folder contain, which decides the file extensions taken and the
/// [`Decoder`](crate::Decoder) used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropFormat {
    /// `*.json`: one CloudEvent object, or a JSON array of them.
    Json,
    /// `*.hl7` (and `*.txt`, which many dispensing systems write): one or many HL7v2 messages,
    /// optionally in FHS/BHS batches.
    #[cfg(feature = "hl7v2")]
    Hl7v2,
    /// `*.csv`: a header row, then one consultation per row.
    #[cfg(feature = "csv")]
    Csv,
}

impl DropFormat {
    /// The main file extension (without the dot) of this format.
    pub fn extension(&self) -> &'static str {
        self.extensions().first().copied().unwrap_or("json")
    }

    /// Every file extension (without the dot, matched case-insensitively) that marks a candidate
    /// file of this format. HL7v2 also takes `.txt` because dispensing systems commonly write
    /// their exports under that name; the folder, not the name, decides the format.
    pub fn extensions(&self) -> &'static [&'static str] {
        match self {
            Self::Json => &["json"],
            #[cfg(feature = "hl7v2")]
            Self::Hl7v2 => &["hl7", "txt"],
            #[cfg(feature = "csv")]
            Self::Csv => &["csv"],
        }
    }
}

/// Configuration of one watched drop folder.
///
/// `done/`, `error/` and `.claimed/` are created inside [`dir`](Self::dir) as needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDropConfig {
    /// The drop folder. No default: it must exist when the input starts.
    pub dir: PathBuf,
    /// What the files contain. No default.
    pub format: DropFormat,
    /// How long a file's size and modification time must stay unchanged before it is taken.
    /// Default 1 s. Zero takes a file as soon as it is seen.
    pub settle_time: Duration,
    /// Interval of the periodic rescan that backs up file-system events (which are only hints,
    /// and absent on some network file systems). Default 2 s.
    pub rescan_interval: Duration,
    /// Most events handed to the pipeline in one ingest call; larger files are split. Default 256.
    pub max_batch: usize,
    /// Optional completion-marker suffix for senders that write slowly, e.g. `.ready`: when set,
    /// `a.json` is taken only once `a.json.ready` exists too (the settle time still applies), and
    /// the marker follows the file into `done/` or `error/`. Default: none.
    pub completion_marker: Option<String>,
}

impl FileDropConfig {
    /// A configuration for `dir` with every other setting at its default.
    pub fn new(dir: PathBuf, format: DropFormat) -> Self {
        Self {
            dir,
            format,
            settle_time: Duration::from_secs(1),
            rescan_interval: Duration::from_secs(2),
            max_batch: 256,
            completion_marker: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let cfg = FileDropConfig::new(PathBuf::from("/drop/json"), DropFormat::Json);
        assert_eq!(cfg.settle_time, Duration::from_secs(1));
        assert_eq!(cfg.rescan_interval, Duration::from_secs(2));
        assert_eq!(cfg.max_batch, 256);
        assert_eq!(cfg.completion_marker, None);
        assert_eq!(cfg.format.extension(), "json");
    }

    #[test]
    #[cfg(all(feature = "hl7v2", feature = "csv"))]
    fn extensions_per_format() {
        assert_eq!(DropFormat::Hl7v2.extension(), "hl7");
        assert_eq!(DropFormat::Hl7v2.extensions(), ["hl7", "txt"]);
        assert_eq!(DropFormat::Csv.extensions(), ["csv"]);
    }
}
