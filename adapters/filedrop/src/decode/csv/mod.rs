//! `*.csv` drops: a header row (line 1), then one completed consultation per row.
//!
//! Each column is a data path of the event `data` (`patient.nhsNumber`,
//! `observations.0.systolic`, …), `service`, `consent` or `id`, either as its header or through
//! the drop folder's [`CsvOptions::column_map`]. Cells are trimmed; an empty cell means absent;
//! numbers, whole numbers and booleans are typed by path; `patient.given` and
//! `practitioner.given` take one name each. A bad row fails alone with its line number; a bad
//! header fails the file.
//!
//! The event id is the `id` cell when given, else the UUIDv5 (see `event`) of `csv:` followed by
//! the row's normalised content: the JSON array of `[data path, trimmed cell]` pairs of its
//! non-empty cells after the column map and defaults, sorted by path. Column order, header
//! names, whitespace around cells and the file name therefore do not change the id.

mod paths;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::event::{self, EventParts};
use super::{DecodeContext, DecodedItem, Decoder, ItemDecodeError, count_lines};
use paths::{Kind, Tree};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Settings of one CSV drop folder (the `csv` table of a file-drop input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvOptions {
    /// CSV header → data path (`"NHS No" = "patient.nhsNumber"`). Headers not listed must be
    /// data paths themselves. Default: empty (every header is a data path).
    pub column_map: BTreeMap<String, String>,
    /// Data path → value for what the file does not carry, e.g. `pharmacy.odsCode` or
    /// `service` of a folder that receives one pharmacy's exports; a non-empty cell wins.
    /// Default: empty.
    pub defaults: BTreeMap<String, String>,
    /// Field delimiter, one ASCII character. Default `,`.
    pub delimiter: char,
    /// Skip columns that are neither mapped nor data paths instead of failing the file.
    /// Default `false` (a misspelt header would otherwise lose data silently).
    pub ignore_unknown_columns: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            column_map: BTreeMap::new(),
            defaults: BTreeMap::new(),
            delimiter: ',',
            ignore_unknown_columns: false,
        }
    }
}

impl CsvOptions {
    /// Every problem with these settings, one sentence each (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (header, path) in &self.column_map {
            if paths::kind(path).is_none() {
                p.push(format!(
                    "csv.column_map: column {header:?} maps to {path:?}, which is not a data \
                     path of the consultation event"
                ));
            }
        }
        for (path, value) in &self.defaults {
            match paths::kind(path) {
                None | Some(Kind::Id) => p.push(format!(
                    "csv.defaults: {path:?} is not a data path of the consultation event"
                )),
                Some(kind) => {
                    if let Err(must) = paths::typed(kind, value.trim()) {
                        p.push(format!("csv.defaults: {path:?} must be {must}"));
                    }
                }
            }
        }
        if !self.delimiter.is_ascii() || self.delimiter == '"' {
            p.push("csv.delimiter must be one ASCII character other than a quote".into());
        }
        p
    }
}

/// Decodes CSV drops: one item per data row.
#[derive(Debug, Clone, Default)]
pub struct CsvDecoder {
    options: CsvOptions,
}

/// One column: where its cells go.
#[derive(Debug, Clone)]
struct Column {
    header: String,
    path: String,
    kind: Kind,
}

impl CsvDecoder {
    /// A decoder with `options`.
    pub fn new(options: CsvOptions) -> Self {
        Self { options }
    }

    /// The column of each header (`None` = ignored), or why the header row is unusable.
    fn columns(&self, headers: &csv::ByteRecord) -> Result<Vec<Option<Column>>, String> {
        let mut out = Vec::new();
        let mut unknown = Vec::new();
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        for raw in headers {
            let Ok(header) = std::str::from_utf8(raw).map(str::trim) else {
                return Err("the header row is not valid UTF-8".into());
            };
            if header.is_empty() {
                out.push(None);
                continue;
            }
            let path = self
                .options
                .column_map
                .get(header)
                .map_or(header, String::as_str);
            let Some(kind) = paths::kind(path) else {
                if !self.options.ignore_unknown_columns {
                    unknown.push(safe(header));
                }
                out.push(None);
                continue;
            };
            if let Some(other) = seen.insert(path.to_owned(), header.to_owned()) {
                return Err(format!(
                    "columns {} and {} both map to the data path {path}",
                    safe(&other),
                    safe(header)
                ));
            }
            out.push(Some(Column {
                header: header.to_owned(),
                path: path.to_owned(),
                kind,
            }));
        }
        match unknown.is_empty() {
            true => Ok(out),
            false => Err(format!(
                "the header names columns that are neither data paths of the consultation \
                 event nor in column_map: {} (map them, or set ignore_unknown_columns)",
                unknown.join(", ")
            )),
        }
    }

    /// One data row to an item.
    fn row(
        &self,
        columns: &[Option<Column>],
        record: &csv::ByteRecord,
        cx: &DecodeContext<'_>,
        index: usize,
        line: usize,
    ) -> Result<DecodedItem, ItemDecodeError> {
        let fail = |reason: String| ItemDecodeError {
            line: Some(line),
            reason,
        };
        if record.len() != columns.len() {
            return Err(fail(format!(
                "the row has {} fields but the header has {} (a missing quote or an unquoted \
                 delimiter?)",
                record.len(),
                columns.len()
            )));
        }
        let mut cells: BTreeMap<&str, (String, Kind, &str)> = BTreeMap::new();
        for (path, value) in &self.options.defaults {
            if let Some(kind) = paths::kind(path).filter(|k| *k != Kind::Id) {
                cells.insert(path, (value.trim().to_owned(), kind, "defaults"));
            }
        }
        for (col, raw) in columns.iter().zip(record) {
            let Some(col) = col else { continue };
            let Ok(text) = std::str::from_utf8(raw) else {
                return Err(fail(format!(
                    "column {} is not valid UTF-8",
                    safe(&col.header)
                )));
            };
            let text = text.trim();
            if !text.is_empty() {
                cells.insert(&col.path, (text.to_owned(), col.kind, &col.header));
            }
        }
        cells.retain(|_, (v, _, _)| !v.is_empty());
        let mut tree = Tree::default();
        let mut id = None;
        for (path, (text, kind, header)) in &cells {
            if *kind == Kind::Id {
                id = Some(text.clone());
                continue;
            }
            let value = paths::typed(*kind, text)
                .map_err(|must| fail(format!("column {} ({path}) must be {must}", safe(header))))?;
            if !tree.set(path, value) {
                return Err(fail(format!(
                    "column {} ({path}) conflicts with another column for the same data",
                    safe(header)
                )));
            }
        }
        let ods = cells
            .get("pharmacy.odsCode")
            .map(|(v, _, _)| v.clone())
            .ok_or_else(|| fail("pharmacy.odsCode is empty; it is the event source".into()))?;
        let id = match id {
            Some(id) => id,
            None => {
                let pairs: Vec<(&str, &str)> = cells
                    .iter()
                    .map(|(p, (v, _, _))| (*p, v.as_str()))
                    .collect();
                let normalised = serde_json::to_string(&pairs)
                    .map_err(|_| fail("the row could not be normalised".into()))?;
                event::derived_id(&format!("csv:{normalised}"))
            }
        };
        let time = ["encounter.end", "encounter.start"]
            .iter()
            .filter_map(|p| cells.get(p))
            .map(|(v, _, _)| v.as_str())
            .find(|v| chrono::DateTime::parse_from_rfc3339(v).is_ok())
            .map(str::to_owned);
        let data: Value = tree.into_value();
        let parts = EventParts {
            id,
            ods: &ods,
            event_type: gateway_proto::consultation::EVENT_TYPE,
            time,
            data: &data,
        };
        event::item(parts, cx, index, Some(line))
    }
}

/// Line numbers of increasing byte offsets, counting each byte once.
#[derive(Debug, Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    /// 1-based line of `offset` (offsets must not decrease between calls).
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> usize {
        let offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let from = self.offset.min(offset);
        // A CRLF split across two calls must count once: step back over a lone CR.
        let from = match (
            from.checked_sub(1).and_then(|i| bytes.get(i)),
            bytes.get(from),
        ) {
            (Some(b'\r'), Some(b'\n')) => from + 1,
            _ => from,
        };
        self.line += count_lines(bytes.get(from..offset).unwrap_or_default());
        self.offset = offset.max(from);
        self.line + 1
    }
}

/// A header safe to quote: headers are column names, not patient data, but cap their length.
fn safe(header: &str) -> String {
    let short: String = header.chars().take(60).collect();
    format!("{short:?}")
}

impl Decoder for CsvDecoder {
    fn decode(
        &self,
        bytes: &[u8],
        cx: &DecodeContext<'_>,
    ) -> Vec<Result<DecodedItem, ItemDecodeError>> {
        let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        let file_error = |reason: String| {
            vec![Err(ItemDecodeError {
                line: Some(1),
                reason,
            })]
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(u8::try_from(self.options.delimiter).unwrap_or(b','))
            .has_headers(true)
            .flexible(true)
            .from_reader(bytes);
        let columns = match reader.byte_headers() {
            Ok(h) if h.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) => {
                return file_error("the file is empty: it has no header row".into());
            }
            Ok(h) => match self.columns(h) {
                Ok(c) => c,
                Err(reason) => return file_error(reason),
            },
            Err(_) => return file_error("the header row cannot be read as CSV".into()),
        };
        let mut out = Vec::new();
        let mut record = csv::ByteRecord::new();
        // The reader's own line numbers lag by one after a CRLF, so lines are counted here, from
        // each record's byte offset (once over the file, not from the start for every row).
        let mut lines = LineCounter::default();
        loop {
            let before = reader.position().byte();
            match reader.read_byte_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    let offset = record.position().map_or(before, csv::Position::byte);
                    let line = lines.line_at(bytes, offset);
                    if record.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
                        continue;
                    }
                    let index = out.len();
                    out.push(self.row(&columns, &record, cx, index, line));
                }
                // The reader cannot resynchronise after a broken record: report it and stop.
                Err(_) => {
                    out.push(Err(ItemDecodeError {
                        line: Some(lines.line_at(bytes, before)),
                        reason: "the rest of the file cannot be read as CSV".into(),
                    }));
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
