//! The acknowledgement state machine (spec §7.4): which state change and which output events an
//! ITK3 response or a MESH report causes, given the message's current state. Duplicate and
//! out-of-order responses (business before infrastructure) never break it.

use chrono::Utc;
use gateway_core::MessageState::{self, Busack, Failed, Infack, Received, Sent};
use gateway_plugin_gp_connect::response::{ItkResponse, ResponseKind};
use gateway_proto::output::{AckData, BUSACK, FAILED, FailedData, FailureStage, INFACK};
use gateway_store::{MessageRef, NewEvent, Transition};

use super::events;

const OPEN: [MessageState; 3] = [Received, Sent, Infack];

/// The transition an ITK3 response causes.
pub(crate) fn response(source: &str, msg: &MessageRef, r: &ItkResponse, now_ms: i64) -> Transition {
    let infra = r.kind == ResponseKind::Infrastructure;
    let (ack_type, stage) = if infra {
        (INFACK, FailureStage::Infack)
    } else {
        (BUSACK, FailureStage::Busack)
    };
    let ack = AckData {
        correlation_id: msg.id.clone(),
        positive: r.positive,
        code: r.code.clone(),
        display: r.display.clone(),
        diagnostics: r.diagnostics.clone(),
    };
    let ack_event = || event(source, msg, ack_type, &r.code, &ack);
    let mut t = Transition {
        message_id: msg.id.clone(),
        expect: OPEN.to_vec(),
        to: None,
        infack_code: infra.then(|| r.code.clone()),
        busack_code: (!infra).then(|| r.code.clone()),
        failure: None,
        events: Vec::new(),
        note: format!(
            "{} ack {} {}",
            if infra { "infrastructure" } else { "business" },
            r.code,
            r.display
        ),
        now_ms,
    };
    let already_positive_infack =
        matches!(msg.state, Infack | Busack) || msg.infack_code.as_deref() == Some("20013");
    if infra && r.code == "20007" && already_positive_infack {
        // A resend after an unknown outcome: the receiver already has the message.
        t.note = "duplicate-message response (20007) after a positive ack: recorded, not a failure"
            .into();
        t.expect = Vec::new();
        return t;
    }
    if infra && msg.infack_code.as_deref() == Some(r.code.as_str()) {
        t.note = format!("repeated infrastructure ack {}: recorded", r.code);
        t.expect = Vec::new();
        return t;
    }
    if r.positive {
        if infra && msg.state == Busack {
            // The business ack overtook this one: report it, keep the state.
            t.expect = vec![Busack];
        } else if infra {
            t.expect = vec![Received, Sent];
            t.to = Some(Infack);
        } else {
            t.to = Some(Busack);
        }
        t.events.push(ack_event());
        return t;
    }
    let reason = failure_reason(r, infra);
    let data = FailedData {
        correlation_id: msg.id.clone(),
        stage,
        code: r.code.clone(),
        reason: reason.clone(),
        retryable: false,
    };
    t.to = Some(Failed);
    t.failure = Some((stage, r.code.clone(), reason));
    t.events.push(ack_event());
    t.events
        .push(event(source, msg, FAILED, stage.as_str(), &data));
    t
}

/// The transition a MESH REPORT (non-delivery, routing failure) causes.
pub(crate) fn report(
    source: &str,
    msg: &MessageRef,
    code: &str,
    description: &str,
    now_ms: i64,
) -> Transition {
    let (stage, reason) = report_reason(code, description);
    let data = FailedData {
        correlation_id: msg.id.clone(),
        stage,
        code: code.to_string(),
        reason: reason.clone(),
        retryable: false,
    };
    Transition {
        message_id: msg.id.clone(),
        expect: OPEN.to_vec(),
        to: Some(Failed),
        infack_code: None,
        busack_code: None,
        failure: Some((stage, code.to_string(), reason)),
        events: vec![event(source, msg, FAILED, stage.as_str(), &data)],
        note: format!("MESH report {code}"),
        now_ms,
    }
}

/// The transition of an acknowledgement that did not arrive in time.
pub(crate) fn timeout(source: &str, msg: &MessageRef, now_ms: i64) -> Transition {
    let (code, waited) = if msg.state == Sent {
        ("infack-timeout", "infrastructure acknowledgement")
    } else {
        ("busack-timeout", "business acknowledgement")
    };
    let reason = format!(
        "no {waited} arrived in time: check with the practice whether the consultation reached \
         the patient record, and send it by another route if not"
    );
    let data = FailedData {
        correlation_id: msg.id.clone(),
        stage: FailureStage::Timeout,
        code: code.into(),
        reason: reason.clone(),
        retryable: false,
    };
    Transition {
        message_id: msg.id.clone(),
        expect: vec![msg.state],
        to: Some(Failed),
        infack_code: None,
        busack_code: None,
        failure: Some((FailureStage::Timeout, code.into(), reason)),
        events: vec![event(source, msg, FAILED, "timeout", &data)],
        note: code.to_string(),
        now_ms,
    }
}

fn event<T: serde::Serialize>(
    source: &str,
    msg: &MessageRef,
    event_type: &str,
    discriminator: &str,
    data: &T,
) -> NewEvent {
    events::build(
        source,
        event_type,
        &msg.id,
        discriminator,
        Some(&msg.traceparent),
        Utc::now(),
        data,
    )
}

fn failure_reason(r: &ItkResponse, infra: bool) -> String {
    let level = if infra { "infrastructure" } else { "business" };
    let mut s = match r.code.as_str() {
        "20010" => "the GP practice does not accept GP Connect Update Record (20010): send the \
                    consultation as a PDF by another route (e.g. Send Document or secure e-mail)"
            .to_string(),
        "30002" => "the practice does not know the patient (30002): check the patient's \
                    registered practice and demographics"
            .to_string(),
        "30003" => "the patient is no longer registered at this practice (30003)".to_string(),
        _ => format!(
            "negative {level} acknowledgement {} ({})",
            r.code, r.display
        ),
    };
    if let Some(d) = &r.diagnostics {
        s.push_str(": ");
        s.push_str(d);
    }
    s
}

fn report_reason(code: &str, description: &str) -> (FailureStage, String) {
    let what = match code {
        "14" => {
            return (
                FailureStage::Expired,
                "MESH expired the message: the practice did not collect it within 5 days (14)"
                    .into(),
            );
        }
        "EPL-150" => "MESH found several practice mailboxes for the patient",
        "EPL-151" => "MESH found no practice mailbox for the patient's registered practice",
        "EPL-152" => "MESH says the NHS number is invalid",
        "EPL-153" => "MESH could not find the NHS number",
        "EPL-154" => "the NHS number does not match the demographics (birth date / surname)",
        _ => "MESH could not deliver the message",
    };
    (
        FailureStage::MeshReport,
        format!("{what} ({code}: {description}); correct the patient details or route and resend"),
    )
}
