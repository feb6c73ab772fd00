//! The gateway's core vocabulary: what a mapping plugin receives and returns ([`mapping`]), how
//! input adapters hand events to the pipeline and learn their fate ([`ingest`]), what the bus
//! publisher sends ([`bus`]), the durable message states ([`state`]), secrets that never print
//! ([`secret`]) and the telemetry names every crate shares ([`telemetry`]).
//!
//! No I/O lives here: adapters, the store and the app depend on this crate, never the reverse.

pub mod bus;
pub mod ids;
pub mod ingest;
pub mod mapping;
pub mod secret;
pub mod state;
pub mod telemetry;

pub use bus::{BusEvent, EventSink, SinkError};
pub use ids::{IdSource, SeededIds};
pub use ingest::{Ingest, IngestError, IngestOutcome, RawEvent};
pub use mapping::{MailboxDirectory, MapContext, MapError, MappingPlugin, Outbound};
pub use secret::Secret;
pub use state::MessageState;
