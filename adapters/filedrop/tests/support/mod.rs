//! Helpers for the decoder tests: decoding corpus files and mapping events with the real GP
//! Connect plugin.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};

use chrono::DateTime;
use gateway_adapter_filedrop::{DecodeContext, DecodedItem, Decoder, ItemDecodeError};
use gateway_core::{MailboxDirectory, MapContext, MappingPlugin, Outbound, SeededIds};
use gateway_proto::CloudEvent;

pub type Items = Vec<Result<DecodedItem, ItemDecodeError>>;

struct Directory;

impl MailboxDirectory for Directory {
    fn mailbox_for_ods(&self, ods_code: &str) -> Option<String> {
        (ods_code == "FA001").then(|| "PHARM001".to_owned())
    }
}

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(rel)
}

/// Sorted file paths of a corpus folder.
pub fn files(rel: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(corpus(rel))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

pub fn decode_with(decoder: &dyn Decoder, name: &str, bytes: &[u8]) -> Items {
    let origin = format!("file:drop/{name}");
    decoder.decode(
        bytes,
        &DecodeContext {
            file_name: name,
            origin: &origin,
        },
    )
}

pub fn event(item: &DecodedItem) -> CloudEvent {
    CloudEvent::parse(&item.raw.body).unwrap()
}

/// Maps a consultation event with the GP Connect plugin, as the pipeline would.
pub fn map(event: &CloudEvent) -> Result<Outbound, gateway_core::MapError> {
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: DateTime::parse_from_rfc3339("2026-11-20T12:00:00+00:00").unwrap(),
        ids: &ids,
        mailboxes: &Directory,
    };
    gateway_plugin_gp_connect::plugin().map(event, &cx)
}

/// Every patient value in the corpus, which must never appear in an error reason.
pub const PATIENT_VALUES: &[&str] = &[
    "9000000009",
    "9434765919",
    "Smith",
    "John",
    "Jones",
    "Mary",
    "19700101",
    "19851224",
    "LS1 1AA",
    "High Street",
    "Zo",
];
