//! `*.hl7` drops: HL7v2 messages (ER7 encoding) to domain events.
//!
//! The parser is our own (`split` → `parse` → `fields` → `escape`) rather than `hl7-parser`
//! 0.3: that crate is UTF-8 only, its escape decoder handles only `\X0A\`/`\X0D\` of the
//! `\Xhh\` sequences and slices by character count (so text with non-ASCII characters decodes
//! wrongly), and it reads exactly five MSH delimiter characters (shifting every MSH field of a
//! message with four encoding characters plus an MSH-2 truncation character, or with fewer).
//! HL7v2 ER7 is simple enough that a few hundred lines, fuzzed, give us what the file drop needs:
//! per-message delimiters and character sets, line numbers for every segment, errors that name
//! segment and field without quoting values, and no panics on any input.
//!
//! Mapped types: `RDS^O13` and `ORU^R01` → `uk.nhs.pharmacy.consultation.completed.v1`;
//! `MDM^T02` → `uk.nhs.consultation.document.created.v1`. Each message succeeds or fails alone.

mod error;
mod escape;
mod fields;
mod mdm;
mod oru;
mod parse;
mod rds;
mod segments;
mod split;
mod time;

use serde::{Deserialize, Serialize};

pub use time::LocalTimeZone;

use super::event::{self, EventParts};
use super::{DecodeContext, DecodedItem, Decoder, ItemDecodeError};
use error::Hl7Error;
use split::{Chunk, RawSegment};

/// How to choose the character set of a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CharsetPolicy {
    /// Respect MSH-18: empty, `ASCII` and `UNICODE UTF-8` read as UTF-8, `8859/1` as ISO-8859-1
    /// (transcoded); any other declared set fails the message.
    #[default]
    #[serde(rename = "msh18")]
    Msh18,
    /// Read every message as UTF-8 whatever MSH-18 says (for senders whose MSH-18 is wrong).
    #[serde(rename = "utf-8")]
    Utf8,
    /// Read every message as ISO-8859-1 whatever MSH-18 says.
    #[serde(rename = "iso-8859-1")]
    Iso8859_1,
}

/// Settings of one HL7v2 drop folder (the `hl7v2` table of a file-drop input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Hl7v2Options {
    /// Service of `RDS^O13` dispenses (`pharmacy-first`, `blood-pressure-check`, `contraception`,
    /// `urgent-supply`). Default `pharmacy-first`. `ORU^R01` takes its service from OBR-4.
    pub default_service: String,
    /// CareConnect-MedicationSupplyType-1 code of dispensed items (HL7v2 has no field for it).
    /// Default: `emergency-supply` when the service is `urgent-supply`, else
    /// `patient-group-direction`.
    pub supply_type: Option<String>,
    /// Character set: `msh18` (default), `utf-8` or `iso-8859-1`.
    pub charset: CharsetPolicy,
    /// Zone of timestamps without an offset when MSH-7 has none either: `Europe/London`
    /// (default) or `UTC`.
    pub local_time_zone: LocalTimeZone,
    /// Largest message accepted, in bytes; larger ones fail alone. Default 20 MiB (GP systems
    /// may refuse documents over 5 MB anyway).
    pub max_message_bytes: usize,
}

impl Default for Hl7v2Options {
    fn default() -> Self {
        Self {
            default_service: "pharmacy-first".into(),
            supply_type: None,
            charset: CharsetPolicy::Msh18,
            local_time_zone: LocalTimeZone::EuropeLondon,
            max_message_bytes: 20 * 1024 * 1024,
        }
    }
}

/// Services the contract defines.
const SERVICES: [&str; 4] = [
    "pharmacy-first",
    "blood-pressure-check",
    "contraception",
    "urgent-supply",
];

impl Hl7v2Options {
    /// Every problem with these settings, one sentence each (empty when valid).
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !SERVICES.contains(&self.default_service.as_str()) {
            p.push(format!(
                "hl7v2.default_service must be one of: {}",
                SERVICES.join(", ")
            ));
        }
        if self.max_message_bytes == 0 {
            p.push("hl7v2.max_message_bytes must be greater than zero".into());
        }
        if self
            .supply_type
            .as_deref()
            .is_some_and(|s| s.trim().is_empty())
        {
            p.push("hl7v2.supply_type must not be empty when set".into());
        }
        p
    }

    /// The supply type for dispenses of `service`.
    fn supply_type_for(&self, service: &str) -> String {
        match (&self.supply_type, service) {
            (Some(s), _) => s.clone(),
            (None, "urgent-supply") => "emergency-supply".into(),
            (None, _) => "patient-group-direction".into(),
        }
    }
}

/// Decodes HL7v2 drops: every message in the file becomes one item (see the crate README for
/// which segment and field feeds each event field).
#[derive(Debug, Clone, Default)]
pub struct Hl7v2Decoder {
    options: Hl7v2Options,
}

impl Hl7v2Decoder {
    /// A decoder with `options`.
    pub fn new(options: Hl7v2Options) -> Self {
        Self { options }
    }

    fn message(
        &self,
        segs: &[RawSegment<'_>],
        cx: &DecodeContext<'_>,
        index: usize,
    ) -> Result<DecodedItem, ItemDecodeError> {
        let line = segs.first().map(|s| s.line);
        let fail = |e: Hl7Error| ItemDecodeError {
            line,
            reason: e.to_string(),
        };
        let size: usize = segs.iter().map(|s| s.bytes.len() + 1).sum();
        if size > self.options.max_message_bytes {
            return Err(fail(Hl7Error::TooLarge {
                size,
                limit: self.options.max_message_bytes,
            }));
        }
        let msg = parse::parse(segs, self.options.charset).map_err(fail)?;
        let h = segments::header(&msg, self.options.local_time_zone).map_err(fail)?;
        let id = event::derived_id(&format!("hl7v2:{}:{}", h.ods, h.control_id));
        let (kind, trigger) = (h.message_type.0.as_str(), h.message_type.1.as_str());
        match (kind, trigger) {
            ("RDS", "O13") | ("ORU", "R01") => {
                let data = match kind {
                    "RDS" => rds::build(&msg, &h, &self.options),
                    _ => oru::build(&msg, &h),
                }
                .map_err(fail)?;
                let parts = EventParts {
                    id,
                    ods: &h.ods,
                    event_type: gateway_proto::consultation::EVENT_TYPE,
                    time: h.time.clone(),
                    data: &data,
                };
                event::item(parts, cx, index, line)
            }
            ("MDM", "T02") => {
                let data = mdm::build(&msg, &h).map_err(fail)?;
                let parts = EventParts {
                    id,
                    ods: &h.ods,
                    event_type: mdm::EVENT_TYPE,
                    time: h.time.clone(),
                    data: &data,
                };
                event::item(parts, cx, index, line)
            }
            _ => Err(fail(Hl7Error::UnsupportedType(segments::type_label(&h)))),
        }
    }
}

impl Decoder for Hl7v2Decoder {
    fn decode(
        &self,
        bytes: &[u8],
        cx: &DecodeContext<'_>,
    ) -> Vec<Result<DecodedItem, ItemDecodeError>> {
        let chunks = match split::split(bytes) {
            Ok(chunks) => chunks,
            Err(e) => {
                return vec![Err(ItemDecodeError {
                    line: Some(1),
                    reason: e.to_string(),
                })];
            }
        };
        chunks
            .iter()
            .enumerate()
            .map(|(index, chunk)| match chunk {
                Chunk::Message(segs) => self.message(segs, cx, index),
                Chunk::Stray { first, last } => Err(ItemDecodeError {
                    line: Some(*first),
                    reason: format!(
                        "lines {first} to {last} are not part of any message (no MSH segment \
                         before them, or they follow a batch trailer)"
                    ),
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
