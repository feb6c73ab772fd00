//! Wire types shared by every gateway crate: the CloudEvents envelope of input events, the typed
//! `data` of each supported event type (consultations, documents, replacements; JSON Schemas in
//! `proto/schema/`), the output (delivery / acknowledgement) events, and the FHIR STU3 element
//! tree (with the STU3 definitions it is checked against) that the mapping plugins build and
//! the serialisers write.
//!
//! Nothing here does I/O; these are plain data types with serde derives.

pub mod cloudevent;
pub mod consultation;
pub mod document;
pub mod fhir;
pub mod output;
pub mod replacement;
pub mod traceparent;

pub use cloudevent::CloudEvent;
