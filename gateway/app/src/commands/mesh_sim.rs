//! `gpc-gateway mesh-sim`: the MESH simulator on its own, with GP-practice responders.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use gateway_mesh_sim::SimConfig;
use tokio_util::sync::CancellationToken;

use crate::responder::spawn_practices;

/// Serves until SIGTERM/SIGINT.
///
/// # Errors
/// The address cannot be bound.
pub async fn execute(listen: SocketAddr, respond: bool) -> anyhow::Result<()> {
    let cfg = SimConfig::demo();
    let sim = gateway_mesh_sim::start(cfg.clone(), listen)
        .await
        .context("MESH simulator")?;
    println!("{}", sim.url);
    let stop = CancellationToken::new();
    if respond {
        spawn_practices(&cfg, &sim.url, Duration::from_millis(200), &stop)?;
    }
    let _ = tokio::signal::ctrl_c().await;
    stop.cancel();
    sim.shutdown().await;
    Ok(())
}
