//! `gpc-gateway map`: offline — one input file through decoding, mapping, validation and ITK3
//! wrapping; the message on stdout, the MESH headers on stderr.

use std::path::Path;

use anyhow::{Context, bail};
use chrono::Utc;
use gateway_core::{MapContext, SeededIds};
use gateway_plugin_gp_connect::OutputFormat;
use gateway_proto::CloudEvent;

use crate::config::GatewayConfig;
use crate::pipeline::Directory;
use crate::registry::Registry;

/// Prints the message a route would send.
///
/// # Errors
/// Unreadable input, no matching route, mapping or validation failure (each problem listed).
pub fn execute(
    config: Option<&Path>,
    route: Option<&str>,
    format: &str,
    input: &Path,
) -> anyhow::Result<()> {
    let output = match format {
        "xml" => OutputFormat::Xml,
        "json" => OutputFormat::Json,
        other => bail!("--format {other}: expected xml or json"),
    };
    let body = std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))?;
    let event = CloudEvent::parse(&body)?;
    let (cfg, directory) = match config {
        Some(c) => {
            let cfg: GatewayConfig = GatewayConfig::figment(Some(c)).extract()?;
            let mailboxes = cfg.mesh.mailboxes.iter();
            let dir =
                Directory::new(mailboxes.map(|(id, m)| (id.as_str(), m.ods_codes.as_slice())));
            (cfg, dir)
        }
        None => {
            eprintln!("note: no --config given; the sender mailbox is shown as UNCONFIGURED");
            (
                GatewayConfig::default(),
                Directory::new([("UNCONFIGURED", &[][..])]),
            )
        }
    };
    let registry = Registry::with_format(&cfg, Some(output));
    let plugin = match route {
        Some(r) => registry
            .for_route(r)
            .with_context(|| format!("no route named {r:?}"))?,
        None => registry.for_type(&event.event_type).with_context(|| {
            format!(
                "no route maps event type {:?} (supported: {})",
                event.event_type,
                registry.event_types().join(", ")
            )
        })?,
    };
    let ids = SeededIds::new(&event.id);
    let cx = MapContext {
        now: Utc::now().fixed_offset(),
        ids: &ids,
        mailboxes: &directory,
    };
    let out = plugin
        .map(&event, &cx)
        .map_err(|e| anyhow::anyhow!("mapping failed:\n  - {}", e.problems.join("\n  - ")))?;
    use std::io::Write;
    std::io::stdout().write_all(&out.body)?;
    println!();
    for (k, v) in [
        ("Mex-From", out.mailbox.as_str()),
        ("Mex-To", out.mex_to.as_str()),
        ("Mex-WorkflowID", out.workflow_id.as_str()),
        ("Mex-Subject", out.mex_subject.as_str()),
        ("Mex-LocalID", out.local_id.as_str()),
        ("Mex-FileName", out.file_name.as_str()),
        ("Content-Type", out.content_type.as_str()),
    ] {
        eprintln!("{k}: {v}");
    }
    Ok(())
}
