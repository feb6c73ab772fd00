//! Publishing rejected input to the dead-letter queue (contract §8 "Dead letters").

use std::time::Duration;

use gateway_proto::output::FailureStage;
use lapin::{
    BasicProperties, Channel, Confirmation,
    options::BasicPublishOptions,
    types::{AMQPValue, FieldTable, LongString, ShortString},
};

use crate::error::AmqpError;

/// Header: the stage that rejected the message (`input`, `mapping`).
pub const HEADER_STAGE: &str = "x-gpc-stage";
/// Header: a sentence a person can act on.
pub const HEADER_REASON: &str = "x-gpc-reason";
/// Header: the machine-readable failure code.
pub const HEADER_CODE: &str = "x-gpc-code";
/// Header: the input event id, when it could be read.
pub const HEADER_CORRELATION_ID: &str = "x-gpc-correlation-id";

/// One rejected input message, borrowed from its delivery and its outcome.
pub(crate) struct DeadLetter<'a> {
    pub(crate) body: &'a [u8],
    pub(crate) original: &'a BasicProperties,
    pub(crate) stage: FailureStage,
    pub(crate) code: &'a str,
    pub(crate) reason: &'a str,
    pub(crate) correlation_id: Option<&'a str>,
}

impl DeadLetter<'_> {
    /// Persistent properties keeping the original's identity, content type and headers, plus why
    /// the message was rejected. The expiration is deliberately dropped: a dead letter must stay.
    fn properties(&self) -> BasicProperties {
        let o = self.original;
        let mut headers = o.headers().clone().unwrap_or_default();
        headers.insert(ShortString::from(HEADER_STAGE), long(self.stage.as_str()));
        headers.insert(ShortString::from(HEADER_REASON), long(self.reason));
        headers.insert(ShortString::from(HEADER_CODE), long(self.code));
        if let Some(id) = self.correlation_id {
            headers.insert(ShortString::from(HEADER_CORRELATION_ID), long(id));
        }
        let mut p = BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(headers);
        if let Some(v) = o.content_type() {
            p = p.with_content_type(v.clone());
        }
        if let Some(v) = o.content_encoding() {
            p = p.with_content_encoding(v.clone());
        }
        if let Some(v) = o.correlation_id() {
            p = p.with_correlation_id(v.clone());
        }
        if let Some(v) = o.message_id() {
            p = p.with_message_id(v.clone());
        }
        if let Some(v) = o.timestamp() {
            p = p.with_timestamp(*v);
        }
        if let Some(v) = o.kind() {
            p = p.with_type(v.clone());
        }
        if let Some(v) = o.app_id() {
            p = p.with_app_id(v.clone());
        }
        p
    }
}

fn long(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value))
}

/// Publishes every letter to `queue` through the default exchange on a confirm-mode channel,
/// pipelined, then waits for all confirms.
///
/// `mandatory` is set so a missing dead-letter queue is an error rather than a silent drop.
///
/// # Errors
/// [`AmqpError::DeadLetter`] on any publish error, nack, returned message or timeout: the caller
/// must then not acknowledge the input.
pub(crate) async fn publish(
    channel: &Channel,
    queue: &ShortString,
    letters: &[DeadLetter<'_>],
    timeout: Duration,
) -> Result<(), AmqpError> {
    let mut confirms = Vec::with_capacity(letters.len());
    for letter in letters {
        let confirm = channel
            .basic_publish(
                ShortString::default(),
                queue.clone(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                letter.body,
                letter.properties(),
            )
            .await
            .map_err(|e| AmqpError::DeadLetter(format!("publish failed: {e}")))?;
        confirms.push(confirm);
    }
    let all = async {
        for confirm in confirms {
            match confirm.await {
                Ok(Confirmation::Ack(None)) => {}
                Ok(Confirmation::Ack(Some(returned))) => {
                    return Err(AmqpError::DeadLetter(format!(
                        "the broker returned the message ({}): does queue `{queue}` exist?",
                        returned.reply_text
                    )));
                }
                Ok(Confirmation::Nack(_)) => {
                    return Err(AmqpError::DeadLetter(
                        "the broker refused (nack)".to_owned(),
                    ));
                }
                Ok(Confirmation::NotRequested) => {
                    return Err(AmqpError::DeadLetter(
                        "channel is not in confirm mode".to_owned(),
                    ));
                }
                Err(e) => return Err(AmqpError::DeadLetter(format!("confirm failed: {e}"))),
            }
        }
        Ok(())
    };
    tokio::time::timeout(timeout, all)
        .await
        .map_err(|_| AmqpError::DeadLetter(format!("no confirm within {timeout:?}")))?
}

/// The value of a string header (long or short string), if present and UTF-8.
pub(crate) fn header_str(headers: Option<&FieldTable>, key: &str) -> Option<String> {
    match headers?.inner().get(key)? {
        AMQPValue::LongString(s) => String::from_utf8(s.as_bytes().to_vec()).ok(),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_keep_identity_and_say_why() {
        let mut original_headers = FieldTable::default();
        original_headers.insert("traceparent".into(), long("00-abc-def-01"));
        let original = BasicProperties::default()
            .with_content_type("application/cloudevents+json".into())
            .with_message_id("m1".into())
            .with_expiration("60000".into())
            .with_headers(original_headers);
        let letter = DeadLetter {
            body: b"{}",
            original: &original,
            stage: FailureStage::Mapping,
            code: "unknown-service",
            reason: "The service is not supported.",
            correlation_id: Some("ev-1"),
        };
        let p = letter.properties();
        let h = p.headers().as_ref();
        assert_eq!(header_str(h, HEADER_STAGE).as_deref(), Some("mapping"));
        assert_eq!(
            header_str(h, HEADER_REASON).as_deref(),
            Some("The service is not supported.")
        );
        assert_eq!(
            header_str(h, HEADER_CODE).as_deref(),
            Some("unknown-service")
        );
        assert_eq!(
            header_str(h, HEADER_CORRELATION_ID).as_deref(),
            Some("ev-1")
        );
        assert_eq!(
            header_str(h, "traceparent").as_deref(),
            Some("00-abc-def-01")
        );
        assert_eq!(p.delivery_mode(), &Some(2));
        assert_eq!(p.expiration(), &None);
        assert_eq!(
            p.content_type().as_ref().map(ShortString::as_str),
            Some("application/cloudevents+json")
        );
        assert_eq!(p.message_id().as_ref().map(ShortString::as_str), Some("m1"));
    }
}
