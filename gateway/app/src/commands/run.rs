//! `gpc-gateway run`: the production process.

use std::path::Path;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::config::GatewayConfig;
use crate::runtime::{self, StartOptions};

/// Runs until SIGTERM/SIGINT.
///
/// # Errors
/// Invalid configuration or a component that cannot start.
pub async fn execute(config: Option<&Path>) -> anyhow::Result<()> {
    let cfg = GatewayConfig::load(config)?;
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("data_dir {}", cfg.data_dir.display()))?;
    let gw = runtime::start(&cfg, StartOptions::default()).await?;
    let admin_stop = CancellationToken::new();
    let admin = if cfg.admin.enabled {
        let listen = cfg.admin.listen.parse().context("admin.listen")?;
        let (shared, stop) = (gw.shared.clone(), admin_stop.clone());
        Some(tokio::spawn(async move {
            if let Err(error) = crate::admin::serve(shared, listen, stop).await {
                tracing::error!(%error, "Admin server failed.");
            }
        }))
    } else {
        None
    };
    tracing::info!(mailboxes = cfg.mesh.mailboxes.len(), "Gateway running.");
    gw.run_until_signal().await;
    admin_stop.cancel();
    if let Some(a) = admin {
        let _ = a.await;
    }
    Ok(())
}
