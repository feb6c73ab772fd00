//! The bus publisher: confirms, routing key, properties, failure and channel replacement.

use gateway_adapter_amqp::{AmqpConfig, AmqpEventSink, CLOUDEVENTS_JSON, declare_topology};
use gateway_core::{BusEvent, EventSink, SinkError};
use lapin::{
    options::{QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, ShortString},
};

use crate::common::{Broker, connect_or_fail, unique_config};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn event(seq: i64, event_type: &str) -> BusEvent {
    BusEvent {
        seq,
        event_type: event_type.to_owned(),
        body: format!(r#"{{"type":"{event_type}","seq":{seq}}}"#).into_bytes(),
        traceparent: Some(TRACEPARENT.to_owned()),
        correlation_id: format!("ev-{seq}"),
    }
}

/// An exclusive, auto-delete queue bound to the test exchange with `binding`.
async fn bound_queue(broker: &Broker, binding: &str) -> String {
    let queue = broker
        .channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let name = queue.name().as_str().to_owned();
    broker
        .channel
        .queue_bind(
            name.as_str().into(),
            broker.cfg.exchange.as_str().into(),
            binding.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    name
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_with_confirms_routing_key_and_headers() {
    let broker = Broker::new().await;
    let queue = bound_queue(&broker, "gpc.message.#").await;
    let sink = AmqpEventSink::new(&broker.conn, &broker.cfg).await.unwrap();
    sink.healthcheck().await.unwrap();

    let events = vec![
        event(1, "gpc.message.sent"),
        event(2, "gpc.message.delivered"),
        event(3, "other.unbound.type"),
        event(4, "gpc.message.failed"),
    ];
    sink.publish_batch(&events).await.unwrap();
    sink.publish_batch(&[]).await.unwrap();

    for expected in [&events[0], &events[1], &events[3]] {
        let got = broker.get(&queue).await.expect("a routed event").delivery;
        let p = &got.properties;
        assert_eq!(got.routing_key.as_str(), expected.event_type);
        assert_eq!(got.exchange.as_str(), broker.cfg.exchange);
        assert_eq!(got.data, expected.body);
        assert_eq!(p.delivery_mode(), &Some(2));
        assert_eq!(
            p.content_type().as_ref().map(ShortString::as_str),
            Some(CLOUDEVENTS_JSON)
        );
        assert_eq!(
            p.correlation_id().as_ref().map(ShortString::as_str),
            Some(expected.correlation_id.as_str())
        );
        let seq = expected.seq.to_string();
        assert_eq!(
            p.message_id().as_ref().map(ShortString::as_str),
            Some(seq.as_str())
        );
        let traceparent = p
            .headers()
            .as_ref()
            .and_then(|h| h.inner().get("traceparent"));
        assert_eq!(
            traceparent,
            Some(&AMQPValue::LongString(TRACEPARENT.into()))
        );
    }
    assert!(
        broker.get(&queue).await.is_none(),
        "unbound type not routed here"
    );
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_exchange_fails_the_batch_then_the_sink_recovers() {
    let cfg = unique_config();
    let conn = connect_or_fail(&cfg).await;
    let sink = AmqpEventSink::new(&conn, &cfg).await.unwrap();

    // The exchange does not exist yet: the broker closes the channel, nothing is published.
    let err = sink
        .publish_batch(&[event(1, "gpc.message.sent")])
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Unavailable(_)), "{err}");

    let broker = Broker::with_config(AmqpConfig { ..cfg }).await;
    declare_topology(&conn, &broker.cfg).await.unwrap();
    let queue = bound_queue(&broker, "#").await;
    sink.publish_batch(&[event(2, "gpc.message.sent")])
        .await
        .unwrap();
    let got = broker.get(&queue).await.expect("published after recovery");
    assert_eq!(got.delivery.data, event(2, "gpc.message.sent").body);
    sink.healthcheck().await.unwrap();
    broker.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthcheck_fails_when_the_connection_is_closed() {
    let cfg = unique_config();
    let conn = connect_or_fail(&cfg).await;
    let sink = AmqpEventSink::new(&conn, &cfg).await.unwrap();
    sink.healthcheck().await.unwrap();
    conn.close(200, "OK".into()).await.unwrap();
    assert!(matches!(
        sink.healthcheck().await,
        Err(SinkError::Unavailable(_))
    ));
}
