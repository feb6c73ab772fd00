//! The `gpc-gateway` application: configuration ([`config`]), the component registry
//! ([`registry`]), the pipeline stages ([`pipeline`]), the topology that wires them ([`runtime`]),
//! the embedded bus, the admin server, telemetry ([`telemetry`]), the GP-practice responder and the
//! CLI commands.
//! This is the only crate that uses `anyhow`.

pub mod admin;
pub mod commands;
pub mod config;
pub mod embedded_bus;
pub mod pipeline;
pub mod registry;
pub mod responder;
pub mod runtime;
pub mod telemetry;
