//! `gpc-gateway mesh-sim`: the MESH simulator on its own, with GP-practice responders.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use gateway_adapter_mesh::{MeshClient, MeshClientConfig};
use gateway_core::Secret;
use gateway_mesh_sim::SimConfig;
use tokio_util::sync::CancellationToken;

use crate::responder::Responder;

/// Serves until SIGTERM/SIGINT.
///
/// # Errors
/// The address cannot be bound.
pub async fn execute(listen: SocketAddr, respond: bool) -> anyhow::Result<()> {
    let cfg = SimConfig::demo();
    let key = cfg.shared_key.clone();
    let practices: Vec<(String, String, String)> = cfg
        .mailboxes
        .iter()
        .filter(|m| m.id.starts_with("GPPRAC"))
        .map(|m| (m.id.clone(), m.password.clone(), m.ods_code.clone()))
        .collect();
    let sim = gateway_mesh_sim::start(cfg, listen)
        .await
        .context("MESH simulator")?;
    println!("{}", sim.url);
    let stop = CancellationToken::new();
    if respond {
        for (id, password, ods) in practices {
            let client = MeshClient::new(MeshClientConfig::new(
                sim.url.clone(),
                id,
                Secret::new(password),
                Secret::new(key.clone()),
            ))?;
            tokio::spawn(
                Responder::standard(client, &ods).run(Duration::from_millis(200), stop.clone()),
            );
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    stop.cancel();
    sim.shutdown().await;
    Ok(())
}
