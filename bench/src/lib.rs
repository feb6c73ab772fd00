//! Benchmark harness for the gateway: a null relay (consume → MESH POST → confirmed publish →
//! ack) as the reference, a load generator that drives either side through RabbitMQ and measures
//! throughput and publish-to-output latency, and the report that compares them. See
//! `bench/README.md` and `bench/run.sh`.
//!
//! Both sides declare their topology with the gateway's own
//! [`gateway_adapter_amqp::declare_topology`], so the queues they consume are identical
//! (durable quorum queues with the same arguments).

pub mod amqp;
pub mod report;
pub mod stats;
pub mod template;
