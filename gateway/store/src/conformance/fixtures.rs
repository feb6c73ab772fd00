//! Inputs the conformance cases (and backend-specific tests) build on.

use gateway_core::{MessageState, Outbound};
use gateway_proto::output::FailureStage;

use crate::{InboxRecord, IngestItem, NewEvent, NewMessage, NewReject, Transition};

/// A built message numbered `n` (distinct ITK ids and body per `n`).
pub fn outbound(n: u32) -> Outbound {
    Outbound {
        route: "update-record".into(),
        mailbox: "PHARM001".into(),
        workflow_id: "GPCONNECT_UPDATE_RECORD".into(),
        mex_to: "GPPROVIDER_9000000009_19700101_Smith".into(),
        mex_subject: "subject".into(),
        local_id: "FA001".into(),
        file_name: "f.xml".into(),
        content_type: "application/fhir+xml".into(),
        body: format!("<Bundle n=\"{n}\"/>").into_bytes(),
        itk_message_id: format!("itk-{n}"),
        itk_bundle_id: format!("bundle-{n}"),
        document_id: format!("doc-{n}"),
        sender_reference: "urn:uuid:x".into(),
        nhs_number: "9000000009".into(),
    }
}

/// A new message with correlation id `ev-{n}`, received at 1000 ms.
pub fn message(n: u32) -> IngestItem {
    message_at(n, 1000)
}

/// A new message with correlation id `ev-{n}`, received at `now_ms`.
pub fn message_at(n: u32, now_ms: i64) -> IngestItem {
    IngestItem::Message(Box::new(NewMessage {
        correlation_id: format!("ev-{n}"),
        event_type: "t".into(),
        origin: "test".into(),
        traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".into(),
        outbound: outbound(n),
        now_ms,
    }))
}

/// A rejected input with correlation id `id` and one failed event.
pub fn reject(id: &str) -> IngestItem {
    IngestItem::Reject(NewReject {
        correlation_id: id.into(),
        origin: "test".into(),
        stage: FailureStage::Mapping,
        code: "invalid-event".into(),
        reason: "data.patient.nhsNumber fails the modulus-11 check".into(),
        event: ev("gpc.message.failed"),
        now_ms: 1,
    })
}

/// An output event of type `t` (body = type).
pub fn ev(t: &str) -> NewEvent {
    NewEvent {
        event_type: t.into(),
        body: t.as_bytes().to_vec(),
        traceparent: None,
    }
}

/// A transition of `ev-1` to `to` from `expect`, recording infack code 20013 and one event.
pub fn infack(to: MessageState, expect: Vec<MessageState>) -> Transition {
    Transition {
        message_id: "ev-1".into(),
        expect,
        to: Some(to),
        infack_code: Some("20013".into()),
        busack_code: None,
        failure: None,
        events: vec![ev("gpc.message.infack")],
        note: "infack 20013".into(),
        now_ms: 5,
    }
}

/// A correlated inbox item for `ev-1` with MESH id `id`.
pub fn inbox_record(id: &str, transition: Transition) -> InboxRecord {
    InboxRecord {
        mailbox: "PHARM001".into(),
        mesh_message_id: id.into(),
        kind: "itk-response".into(),
        message_id: Some("ev-1".into()),
        body: vec![],
        summary: "20013".into(),
        transition: Some(transition),
        now_ms: 5,
    }
}
