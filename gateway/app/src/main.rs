//! `gpc-gateway`: GP Connect messaging (Update Record, Send Document) over MESH for pharmacies,
//! care settings and regional hubs. See the README for the commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use gateway_store::SearchQuery;
use gpc_gateway::commands;
use gpc_gateway::config::{BusConfig, GatewayConfig, TelemetryConfig};
use gpc_gateway::telemetry::{self, BusTarget, TelemetrySettings};

#[derive(Parser)]
#[command(
    name = "gpc-gateway",
    version,
    about = "GP Connect messaging over NHS MESH"
)]
struct Cli {
    /// Configuration file (default: gateway.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the shipped examples end to end on the embedded default (no broker, no MESH needed).
    Demo {
        /// Keep the demo's store and folders here (default: a new temporary folder).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
    /// Run the gateway until SIGTERM/SIGINT.
    Run,
    /// Validate the configuration and print it with secrets redacted.
    CheckConfig,
    /// Map one input file offline; the ITK3 message on stdout, MESH headers on stderr.
    Map {
        /// Route name (default: inferred from the event type).
        #[arg(long)]
        route: Option<String>,
        /// Output format.
        #[arg(long, default_value = "xml")]
        format: String,
        /// The input file.
        input: PathBuf,
    },
    /// Check ITK3 / GP Connect messages against the sender rules.
    Validate {
        /// Files (XML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Operator view of the durable store.
    Messages {
        #[command(subcommand)]
        action: MessagesAction,
    },
    /// Run the MESH simulator (and GP-practice responders) on its own.
    MeshSim {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8700")]
        listen: SocketAddr,
        /// Do not start the GP-practice responders.
        #[arg(long)]
        no_responder: bool,
    },
}

#[derive(Subcommand)]
enum MessagesAction {
    /// Search messages (newest first).
    List {
        #[arg(long)]
        nhs_number: Option<String>,
        #[arg(long)]
        ods: Option<String>,
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        mesh_id: Option<String>,
        #[arg(long)]
        id: Option<String>,
        /// Created at or after (RFC 3339).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Created before (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Show one message with its full history.
    Show {
        /// Correlation id (input event id).
        id: String,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Send failed messages again (the same message, same ITK ids), when their receiver never
    /// acknowledged them: a running gateway picks them up at once.
    Resend {
        /// Correlation ids (input event ids) of failed messages.
        #[arg(required = true)]
        ids: Vec<String>,
    },
}

/// Telemetry settings from the configuration's `telemetry`, `instance` and `bus` keys (read
/// leniently: a broken configuration is reported by the command itself, with every problem).
fn telemetry_settings(
    config: Option<&Path>,
    default_filter: &str,
    export: bool,
) -> TelemetrySettings {
    let figment = GatewayConfig::figment(config);
    let telemetry: TelemetryConfig = figment.extract_inner("telemetry").unwrap_or_default();
    let instance: String = figment
        .extract_inner("instance")
        .unwrap_or_else(|_| GatewayConfig::default().instance);
    let bus: BusConfig = figment.extract_inner("bus").unwrap_or_default();
    let bus = match (&bus.url, &bus.events_file) {
        (Some(_), _) => BusTarget {
            system: gateway_core::telemetry::SYSTEM_RABBITMQ,
            destination: bus.exchange,
        },
        (None, Some(file)) => BusTarget {
            system: gateway_core::telemetry::SYSTEM_JSONL,
            destination: file.display().to_string(),
        },
        (None, None) => BusTarget::default(),
    };
    TelemetrySettings {
        otlp_endpoint: telemetry.otlp_endpoint.filter(|_| export),
        otlp_protocol: telemetry.otlp_protocol,
        trace_context: export,
        json_logs: telemetry.json_logs,
        default_filter: default_filter.to_string(),
        instance,
        bus,
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = cli.config.as_deref();
    let (default_filter, export) = match cli.command {
        Command::Run => ("info", true),
        Command::MeshSim { .. } => ("info", false),
        _ => ("warn", false),
    };
    let guard = match telemetry::init(telemetry_settings(config, default_filter, export)) {
        Ok(g) => g,
        Err(error) => {
            eprintln!("error: telemetry: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let result: anyhow::Result<ExitCode> = match cli.command {
        Command::Demo { data_dir, timeout } => {
            commands::demo::execute(data_dir, Duration::from_secs(timeout))
                .await
                .map(|ok| {
                    if ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                })
        }
        Command::Run => commands::run::execute(config)
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::CheckConfig => commands::check_config::execute(config).map(|()| ExitCode::SUCCESS),
        Command::Map {
            route,
            format,
            input,
        } => commands::map::execute(config, route.as_deref(), &format, &input)
            .map(|()| ExitCode::SUCCESS),
        Command::Validate { files } => commands::validate::execute(&files).map(|failed| {
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
        Command::Messages { action } => match action {
            MessagesAction::List {
                nhs_number,
                ods,
                state,
                mesh_id,
                id,
                since,
                until,
                limit,
                json,
            } => {
                let q = SearchQuery {
                    nhs_number,
                    ods_code: ods,
                    state,
                    mesh_message_id: mesh_id,
                    correlation_id: id,
                    since_ms: since.map(|t| t.timestamp_millis()),
                    until_ms: until.map(|t| t.timestamp_millis()),
                    limit,
                };
                commands::messages::list(config, q, json)
                    .await
                    .map(|()| ExitCode::SUCCESS)
            }
            MessagesAction::Show { id, json } => commands::messages::show(config, &id, json)
                .await
                .map(|()| ExitCode::SUCCESS),
            MessagesAction::Resend { ids } => commands::messages::resend(config, &ids).await,
        },
        Command::MeshSim {
            listen,
            no_responder,
        } => commands::mesh_sim::execute(listen, !no_responder)
            .await
            .map(|()| ExitCode::SUCCESS),
    };
    // Export what is buffered (the last spans and metrics) before the process ends.
    guard.shutdown();
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
