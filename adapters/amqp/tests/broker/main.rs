//! Tests against a real RabbitMQ (env `AMQP_URL`, default the local broker). Every test declares
//! its own uniquely named queues and exchange and deletes them at the end. They fail, never skip,
//! when the broker is unreachable.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code
)]

mod common;
mod input;
mod recovery;
mod sink;
mod tls;
mod topology;
