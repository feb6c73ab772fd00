//! The gateway's metric instruments, one method per thing that happens. Every attribute value is
//! from a bounded set (systems, configured queue / mailbox names, routes, stages, codes).

use opentelemetry::KeyValue;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter, MeterProvider as _};
use opentelemetry_sdk::metrics::SdkMeterProvider;

use gateway_core::telemetry as tm;

/// Bucket bounds (seconds) for operation and stage durations.
const DURATION_BOUNDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Bucket bounds (seconds) for the bus publish lag (a bus outage makes it minutes or hours).
const LAG_BOUNDS: &[f64] = &[
    0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Every instrument. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Metrics {
    consumed: Counter<u64>,
    sent: Counter<u64>,
    operation_duration: Histogram<f64>,
    process_duration: Histogram<f64>,
    http_duration: Histogram<f64>,
    settled: Counter<u64>,
    errors: Counter<u64>,
    retries: Counter<u64>,
    dead_lettered: Counter<u64>,
    acks_awaiting: Gauge<u64>,
    acks_oldest_age: Gauge<f64>,
    store_messages: Gauge<u64>,
    publish_lag: Histogram<f64>,
    outbox_oldest_age: Gauge<f64>,
    mailbox_up: Gauge<u64>,
}

fn kv(key: &'static str, value: impl Into<opentelemetry::Value>) -> KeyValue {
    KeyValue::new(key, value)
}

impl Metrics {
    /// Creates the instruments on `provider`.
    pub fn new(provider: &SdkMeterProvider) -> Self {
        let m: Meter = provider.meter("gpc-gateway");
        let seconds = |name: &'static str, help: &'static str, bounds: &[f64]| {
            m.f64_histogram(name)
                .with_unit("s")
                .with_description(help)
                .with_boundaries(bounds.to_vec())
                .build()
        };
        let count = |name: &'static str, help: &'static str| {
            m.u64_counter(name)
                .with_unit("{message}")
                .with_description(help)
                .build()
        };
        Self {
            consumed: count(tm::METRIC_CONSUMED, "Input events consumed, by outcome."),
            sent: count(
                tm::METRIC_SENT,
                "Messages sent to MESH and events published.",
            ),
            operation_duration: seconds(
                tm::METRIC_OPERATION_DURATION,
                "MESH sends, inbox polls and bus publish batches.",
                DURATION_BOUNDS,
            ),
            process_duration: seconds(
                tm::METRIC_PROCESS_DURATION,
                "Processing time per message and stage.",
                DURATION_BOUNDS,
            ),
            http_duration: seconds(
                tm::METRIC_HTTP_DURATION,
                "HTTP requests to the MESH API.",
                DURATION_BOUNDS,
            ),
            settled: count(tm::METRIC_SETTLED, "Messages reaching a final state."),
            errors: m
                .u64_counter(tm::METRIC_ERRORS)
                .with_unit("{error}")
                .with_description("Errors by stage.")
                .build(),
            retries: count(tm::METRIC_RETRIES, "MESH sends waiting for a retry."),
            dead_lettered: count(
                tm::METRIC_DEAD_LETTERED,
                "Invalid inputs dead-lettered or moved to error/.",
            ),
            acks_awaiting: m
                .u64_gauge(tm::METRIC_ACKS_AWAITING)
                .with_unit("{message}")
                .with_description("Messages waiting for an acknowledgement.")
                .build(),
            acks_oldest_age: m
                .f64_gauge(tm::METRIC_ACKS_OLDEST_AGE)
                .with_unit("s")
                .with_description("Wait of the oldest message for its acknowledgement.")
                .build(),
            store_messages: m
                .u64_gauge(tm::METRIC_STORE_MESSAGES)
                .with_unit("{message}")
                .with_description("Messages in the store by state.")
                .build(),
            publish_lag: seconds(
                tm::METRIC_PUBLISH_LAG,
                "From an output event being stored to the bus confirming it.",
                LAG_BOUNDS,
            ),
            outbox_oldest_age: m
                .f64_gauge(tm::METRIC_OUTBOX_OLDEST_AGE)
                .with_unit("s")
                .with_description("Age of the oldest output event not yet published.")
                .build(),
            mailbox_up: m
                .u64_gauge(tm::METRIC_MAILBOX_UP)
                .with_description("1 when the mailbox's last MESH poll or handshake succeeded.")
                .build(),
        }
    }

    /// One input event's outcome (`accepted`, `duplicate`, `rejected`).
    pub fn consumed(&self, system: &str, destination: &str, route: &str, outcome: &'static str) {
        self.consumed.add(
            1,
            &[
                kv(tm::MESSAGING_SYSTEM, system.to_string()),
                kv(tm::MESSAGING_DESTINATION, destination.to_string()),
                kv(tm::GATEWAY_ROUTE, route.to_string()),
                kv(tm::GATEWAY_OUTCOME, outcome),
            ],
        );
    }

    /// An invalid input dead-lettered (or moved to `error/`).
    pub fn dead_lettered(&self, system: &str, stage: &str, error_type: &str) {
        self.dead_lettered.add(
            1,
            &[
                kv(tm::MESSAGING_SYSTEM, system.to_string()),
                kv(tm::GATEWAY_STAGE, stage.to_string()),
                kv(tm::ERROR_TYPE, error_type.to_string()),
            ],
        );
    }

    /// A message reached a final state (`completed` or `failed` at `stage`).
    pub fn settled(&self, outcome: &'static str, stage: &str) {
        self.settled.add(
            1,
            &[
                kv(tm::GATEWAY_OUTCOME, outcome),
                kv(tm::GATEWAY_STAGE, stage.to_string()),
            ],
        );
    }

    /// An error at `stage`.
    pub fn error(&self, stage: &'static str, error_type: &str) {
        self.errors.add(
            1,
            &[
                kv(tm::GATEWAY_STAGE, stage),
                kv(tm::ERROR_TYPE, error_type.to_string()),
            ],
        );
    }

    /// One MESH send attempt (`sent`, `retry`, `failed`) and how long it took.
    pub fn mesh_send(
        &self,
        mailbox: &str,
        workflow: &str,
        outcome: &'static str,
        error_type: Option<&str>,
        seconds: f64,
    ) {
        self.sent.add(
            1,
            &[
                kv(tm::MESSAGING_SYSTEM, tm::SYSTEM_MESH),
                kv(tm::MESSAGING_DESTINATION, workflow.to_string()),
                kv(tm::GATEWAY_MAILBOX, mailbox.to_string()),
                kv(tm::GATEWAY_OUTCOME, outcome),
            ],
        );
        let mut attrs = vec![
            kv(tm::MESSAGING_SYSTEM, tm::SYSTEM_MESH),
            kv(tm::MESSAGING_OPERATION_NAME, "send"),
            kv(tm::GATEWAY_MAILBOX, mailbox.to_string()),
        ];
        if let Some(e) = error_type {
            attrs.push(kv(tm::ERROR_TYPE, e.to_string()));
            self.error(tm::STAGE_MESH_SEND, e);
            if outcome == "retry" {
                self.retries.add(
                    1,
                    &[
                        kv(tm::GATEWAY_MAILBOX, mailbox.to_string()),
                        kv(tm::ERROR_TYPE, e.to_string()),
                    ],
                );
            }
        }
        self.operation_duration.record(seconds, &attrs);
    }

    /// One inbox poll of `mailbox`.
    pub fn mesh_poll(&self, mailbox: &str, error_type: Option<&str>, seconds: f64) {
        let mut attrs = vec![
            kv(tm::MESSAGING_SYSTEM, tm::SYSTEM_MESH),
            kv(tm::MESSAGING_OPERATION_NAME, "receive"),
            kv(tm::GATEWAY_MAILBOX, mailbox.to_string()),
        ];
        if let Some(e) = error_type {
            attrs.push(kv(tm::ERROR_TYPE, e.to_string()));
            self.error(tm::STAGE_MESH_POLL, e);
        }
        self.operation_duration.record(seconds, &attrs);
    }

    /// Time one message spent in `stage`.
    pub fn process(&self, stage: &'static str, route: &str, seconds: f64) {
        self.process_duration.record(
            seconds,
            &[
                kv(tm::GATEWAY_STAGE, stage),
                kv(tm::GATEWAY_ROUTE, route.to_string()),
            ],
        );
    }

    /// One HTTP request to the MESH API.
    pub fn http_request(&self, r: &HttpRequest<'_>, seconds: f64) {
        let mut attrs = vec![
            kv(tm::GATEWAY_MAILBOX, r.mailbox.to_string()),
            kv(tm::GATEWAY_MESH_OPERATION, r.operation.to_string()),
            kv(tm::HTTP_METHOD, r.method.to_string()),
        ];
        if let Some(s) = r.status {
            attrs.push(kv(tm::HTTP_STATUS_CODE, s));
        }
        if let Some(e) = r.error_type {
            attrs.push(kv(tm::ERROR_TYPE, e.to_string()));
        }
        self.http_duration.record(seconds, &attrs);
    }

    /// One bus publish batch, and each event of it when it was confirmed.
    pub fn publish_batch(
        &self,
        system: &str,
        destination: &str,
        event_types: &[&str],
        error_type: Option<&str>,
        seconds: f64,
    ) {
        let mut attrs = vec![
            kv(tm::MESSAGING_SYSTEM, system.to_string()),
            kv(tm::MESSAGING_OPERATION_NAME, "send"),
            kv(tm::MESSAGING_DESTINATION, destination.to_string()),
        ];
        if let Some(e) = error_type {
            attrs.push(kv(tm::ERROR_TYPE, e.to_string()));
            self.error(tm::STAGE_PUBLISH, e);
        } else {
            for t in event_types {
                self.sent.add(
                    1,
                    &[
                        kv(tm::MESSAGING_SYSTEM, system.to_string()),
                        kv(tm::MESSAGING_DESTINATION, destination.to_string()),
                        kv(tm::GATEWAY_EVENT_TYPE, t.to_string()),
                        kv(tm::GATEWAY_OUTCOME, "published"),
                    ],
                );
            }
        }
        self.operation_duration.record(seconds, &attrs);
    }

    /// From an output event being stored to the bus confirming it.
    pub fn publish_lag(&self, seconds: f64) {
        self.publish_lag.record(seconds.max(0.0), &[]);
    }

    /// Age of the oldest unpublished output event (0 when none waits).
    pub fn outbox_oldest_age(&self, seconds: f64) {
        self.outbox_oldest_age.record(seconds.max(0.0), &[]);
    }

    /// Messages waiting for an acknowledgement of `kind`, and the wait of the oldest.
    pub fn acks_awaiting(&self, kind: &'static str, count: u64, oldest_seconds: f64) {
        let attrs = [kv(tm::GATEWAY_ACK_KIND, kind)];
        self.acks_awaiting.record(count, &attrs);
        self.acks_oldest_age.record(oldest_seconds.max(0.0), &attrs);
    }

    /// Messages in the store in `state`.
    pub fn store_messages(&self, state: &str, count: u64) {
        self.store_messages
            .record(count, &[kv(tm::GATEWAY_STATE, state.to_string())]);
    }

    /// Whether `mailbox`'s last MESH call succeeded.
    pub fn mailbox_up(&self, mailbox: &str, up: bool) {
        self.mailbox_up.record(
            u64::from(up),
            &[kv(tm::GATEWAY_MAILBOX, mailbox.to_string())],
        );
    }
}

/// One MESH API request, as seen by the request span.
#[derive(Debug, Default, Clone)]
pub struct HttpRequest<'a> {
    /// Mailbox id.
    pub mailbox: &'a str,
    /// MESH operation (`send`, `download`, ...).
    pub operation: &'a str,
    /// HTTP method.
    pub method: &'a str,
    /// Response status, when a response arrived.
    pub status: Option<i64>,
    /// Error class, when the request failed.
    pub error_type: Option<&'a str>,
}
