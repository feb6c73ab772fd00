//! MESH API client for the gateway's MESH sink: the NHSMESH token ([`nhsmesh_token`]), sending
//! with chunking and per-chunk gzip ([`MeshClient::send`], or [`MeshClient::send_file`] streaming
//! a payload file), inbox listing, download ([`MeshClient::download`], or
//! [`MeshClient::download_to`] streaming into a file) and acknowledgement, outbox tracking
//! ([`TrackingInfo::is_delivered`]), and MESH reports (downloaded as [`MessageType::Report`]).
//!
//! Large messages cost about one chunk of memory: chunks are slices of the body or are read
//! from the file one at a time, gzipped one at a time, and downloads are streamed piece by piece
//! (`examples/mesh-bigfile.rs` measures it).
//!
//! Owns the wire protocol of `spec/mesh.md` and nothing above it: no retry of the first
//! `POST .../outbox` (duplicate risk; see [`MeshError::outcome_unknown`]), no persistence, no
//! polling schedule. One [`MeshClient`] per mailbox holds one pooled rustls HTTP client with the
//! mailbox's mTLS identity. Subjects, recipients and payloads carry patient data and are never
//! logged.
//!
//! [`parse_token`] and [`verify_token`] exist for the in-process MESH simulator.

mod chunk;
mod client;
mod config;
mod download;
mod error;
mod error_body;
mod inbox;
mod message;
mod outbox;
mod payload;
mod tls;
mod token;
mod tracking;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod test_server;

pub use client::MeshClient;
pub use config::{
    DEFAULT_CHUNK_SIZE, DEFAULT_CONNECT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, MeshClientConfig,
};
pub use error::{BoxError, CLOCK_SKEW_HINT, MeshError};
pub use error_body::ErrorBody;
pub use inbox::InboxPage;
pub use message::{
    InboxHeaders, InboxMessage, InboxMessageMeta, MessageType, OutboundFile, OutboundMessage,
    TrackingInfo,
};
pub use token::{ParsedToken, TokenError, nhsmesh_token, parse_token, verify_token};
