//! Telemetry names, kept in one place so dashboards, alerts and code agree.
//!
//! Attribute keys follow the OpenTelemetry semantic conventions where one exists (the app's tests
//! check them against `opentelemetry-semantic-conventions`); ours start with `gateway.`. Metric
//! names are OpenTelemetry names; the Prometheus exposition (`/metrics`) turns dots into
//! underscores, appends the unit (`_seconds`) and `_total` for counters, as the OpenTelemetry
//! Prometheus compatibility rules say. Attribute values are bounded sets: never an id of a single
//! message, never patient data.

// ---- Attribute keys (semantic conventions) ----

/// Span / metric attribute: messaging system.
pub const MESSAGING_SYSTEM: &str = "messaging.system";
/// Span attribute: destination (queue, exchange, MESH workflow or mailbox).
pub const MESSAGING_DESTINATION: &str = "messaging.destination.name";
/// Span attribute: operation type (`receive`, `process`, `send`, `settle`).
pub const MESSAGING_OPERATION_TYPE: &str = "messaging.operation.type";
/// Span / metric attribute: operation name (`send`, `receive`, `acknowledge`, ...).
pub const MESSAGING_OPERATION_NAME: &str = "messaging.operation.name";
/// Span attribute: message id (CloudEvent id, MESH message id).
pub const MESSAGING_MESSAGE_ID: &str = "messaging.message.id";
/// Span attribute: number of messages in a batch.
pub const MESSAGING_BATCH_COUNT: &str = "messaging.batch.message_count";
/// Span / metric attribute: error class (a machine code, never a message text).
pub const ERROR_TYPE: &str = "error.type";
/// Span / metric attribute: HTTP method.
pub const HTTP_METHOD: &str = "http.request.method";
/// Span / metric attribute: HTTP status code of the response.
pub const HTTP_STATUS_CODE: &str = "http.response.status_code";

/// Messaging system value for RabbitMQ.
pub const SYSTEM_RABBITMQ: &str = "rabbitmq";
/// Messaging system value for NHS MESH.
pub const SYSTEM_MESH: &str = "nhs_mesh";
/// Messaging system value for file drops (not a semantic-conventions value; ours).
pub const SYSTEM_FILE_DROP: &str = "file_drop";
/// Messaging system value for the embedded bus (JSON lines on stdout or in a file).
pub const SYSTEM_JSONL: &str = "jsonl";

// ---- Attribute keys (ours) ----

/// Route (mapping plugin id, e.g. `update-record`; `none` when no plugin took the event).
pub const GATEWAY_ROUTE: &str = "gateway.route";
/// MESH workflow id (`GPCONNECT_UPDATE_RECORD`).
pub const GATEWAY_WORKFLOW: &str = "gateway.workflow";
/// Pipeline stage (values below).
pub const GATEWAY_STAGE: &str = "gateway.stage";
/// Outcome of an operation (`accepted`, `duplicate`, `rejected`, `sent`, `retry`, `failed`,
/// `published`, `completed`).
pub const GATEWAY_OUTCOME: &str = "gateway.outcome";
/// Sending MESH mailbox id (a configured, bounded set).
pub const GATEWAY_MAILBOX: &str = "gateway.mesh.mailbox";
/// MESH API operation (`handshake`, `send`, `send_chunk`, `list_inbox`, `download`,
/// `acknowledge`, `track`).
pub const GATEWAY_MESH_OPERATION: &str = "gateway.mesh.operation";
/// Span attribute: the MESH message id of our message (on acks: of the message acknowledged).
pub const GATEWAY_MESH_MESSAGE_ID: &str = "gateway.mesh.message_id";
/// Span attribute: ITK3 MessageHeader.id of our message.
pub const GATEWAY_ITK_MESSAGE_ID: &str = "gateway.itk.message_id";
/// Span attribute: ITK3 response code (`20013`, `30001`, ...).
pub const GATEWAY_ITK_CODE: &str = "gateway.itk.code";
/// Span attribute: whether an ITK3 response is positive.
pub const GATEWAY_ACK_POSITIVE: &str = "gateway.ack.positive";
/// Acknowledgement kind: `infrastructure` or `business`.
pub const GATEWAY_ACK_KIND: &str = "gateway.ack.kind";
/// Span attribute: the input event id a message belongs to (its correlation id).
pub const GATEWAY_CORRELATION_ID: &str = "gateway.correlation_id";
/// Span attribute: send attempt number (1 = first).
pub const GATEWAY_ATTEMPT: &str = "gateway.attempt";
/// Output event type (`gpc.message.sent`, ...).
pub const GATEWAY_EVENT_TYPE: &str = "gateway.event.type";
/// Durable message state (`received`, `sent`, `infack`, `busack`, `failed`).
pub const GATEWAY_STATE: &str = "gateway.state";
/// Inbox item kind (`itk-response`, `report`, `unmatched`).
pub const GATEWAY_INBOX_KIND: &str = "gateway.inbox.kind";

/// Acknowledgement kind value: ITK3 infrastructure ack.
pub const ACK_INFRASTRUCTURE: &str = "infrastructure";
/// Acknowledgement kind value: ITK3 business ack.
pub const ACK_BUSINESS: &str = "business";

/// Stage value: input parsing (envelope, type).
pub const STAGE_INPUT: &str = "input";
/// Stage value: mapping (event → ITK3 message, including the ITK3 wrap and sender checks).
pub const STAGE_MAP: &str = "map";
/// Stage value: wrapping the document in the ITK3 message bundle (inside a mapping plugin).
pub const STAGE_WRAP: &str = "wrap";
/// Stage value: sender checks on the serialised ITK3 message (inside a mapping plugin).
pub const STAGE_VALIDATE: &str = "validate";
/// Stage value: from receipt to durable in the store.
pub const STAGE_INGEST: &str = "ingest";
/// Stage value: MESH send.
pub const STAGE_MESH_SEND: &str = "mesh-send";
/// Stage value: MESH inbox poll.
pub const STAGE_MESH_POLL: &str = "mesh-poll";
/// Stage value: MESH tracking.
pub const STAGE_MESH_TRACK: &str = "mesh-track";
/// Stage value: acknowledgement / report correlation.
pub const STAGE_CORRELATE: &str = "correlate";
/// Stage value: acknowledgement timeout sweep.
pub const STAGE_TIMEOUT: &str = "timeout";
/// Stage value: bus publish.
pub const STAGE_PUBLISH: &str = "publish";
/// Stage value: store access.
pub const STAGE_STORE: &str = "store";

// ---- Span names (the `tracing` name; the exported name is `otel.name`) ----

/// One HTTP request to the MESH API (the app turns these into [`METRIC_HTTP_DURATION`]).
pub const SPAN_MESH_REQUEST: &str = "mesh.request";

// ---- Metrics ----

/// Counter: input events consumed, by system, destination, route and outcome
/// (`accepted`, `duplicate`, `rejected`).
pub const METRIC_CONSUMED: &str = "messaging.client.consumed.messages";
/// Counter: messages sent, by system (`nhs_mesh`: send attempts by outcome `sent` / `retry` /
/// `failed`; `rabbitmq` / `jsonl`: output events published, by event type).
pub const METRIC_SENT: &str = "messaging.client.sent.messages";
/// Histogram (seconds): one MESH send (all chunks), one inbox poll, one bus publish batch.
pub const METRIC_OPERATION_DURATION: &str = "messaging.client.operation.duration";
/// Histogram (seconds): processing per message and stage (`map`, `ingest`, `correlate`).
pub const METRIC_PROCESS_DURATION: &str = "messaging.process.duration";
/// Histogram (seconds): one HTTP request to the MESH API, by mailbox, operation and status.
pub const METRIC_HTTP_DURATION: &str = "http.client.request.duration";
/// Counter: messages reaching a final state, by outcome (`completed`, `failed`) and stage.
pub const METRIC_SETTLED: &str = "gateway.messages.settled";
/// Counter: errors by stage and error type (each failed operation once, retries included).
pub const METRIC_ERRORS: &str = "gateway.errors";
/// Counter: MESH sends that failed temporarily and wait for a retry, by mailbox and error type.
pub const METRIC_RETRIES: &str = "gateway.mesh.send.retries";
/// Counter: invalid inputs dead-lettered (AMQP) or moved to `error/` (file drops), by system,
/// stage and error type.
pub const METRIC_DEAD_LETTERED: &str = "gateway.inputs.dead_lettered";
/// Gauge: messages waiting for an acknowledgement, by kind.
pub const METRIC_ACKS_AWAITING: &str = "gateway.acks.awaiting";
/// Gauge (seconds): how long the oldest message has waited for its acknowledgement, by kind.
pub const METRIC_ACKS_OLDEST_AGE: &str = "gateway.acks.oldest_age";
/// Gauge: messages in the store by state.
pub const METRIC_STORE_MESSAGES: &str = "gateway.store.messages";
/// Histogram (seconds): from an output event being stored to the bus confirming it.
pub const METRIC_PUBLISH_LAG: &str = "gateway.bus.publish.lag";
/// Gauge (seconds): age of the oldest output event not yet published (0 when drained).
pub const METRIC_OUTBOX_OLDEST_AGE: &str = "gateway.outbox.oldest_age";
/// Gauge: 1 when the mailbox's last MESH call (poll, handshake) succeeded, else 0.
pub const METRIC_MAILBOX_UP: &str = "gateway.mesh.mailbox.up";

/// Every metric the gateway exports (README table, tests, dashboard checks).
pub const ALL_METRICS: &[&str] = &[
    METRIC_CONSUMED,
    METRIC_SENT,
    METRIC_OPERATION_DURATION,
    METRIC_PROCESS_DURATION,
    METRIC_HTTP_DURATION,
    METRIC_SETTLED,
    METRIC_ERRORS,
    METRIC_RETRIES,
    METRIC_DEAD_LETTERED,
    METRIC_ACKS_AWAITING,
    METRIC_ACKS_OLDEST_AGE,
    METRIC_STORE_MESSAGES,
    METRIC_PUBLISH_LAG,
    METRIC_OUTBOX_OLDEST_AGE,
    METRIC_MAILBOX_UP,
];
