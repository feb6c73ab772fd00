//! `gpc-gateway messages list|show|resend`: the operator's view of the store.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use gateway_store::{ResendOutcome, SearchQuery, Store};

use crate::config::{GatewayConfig, StoreKind};

async fn open(config: Option<&Path>) -> anyhow::Result<Arc<dyn Store>> {
    let cfg: GatewayConfig = GatewayConfig::figment(config).extract()?;
    if cfg.store.kind == StoreKind::Sqlite {
        let path = cfg.resolve(&cfg.store.path);
        anyhow::ensure!(path.exists(), "no store at {}", path.display());
    }
    crate::runtime::open_store(&cfg).await
}

/// Lists messages matching `q`.
///
/// # Errors
/// Store unavailable.
pub async fn list(config: Option<&Path>, q: SearchQuery, json: bool) -> anyhow::Result<()> {
    let rows = open(config).await?.search(q).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!(
        "{:<40} {:<9} {:<26} {:<34} REASON",
        "ID", "STATE", "WORKFLOW", "MESH ID"
    );
    for r in rows {
        println!(
            "{:<40} {:<9} {:<26} {:<34} {}",
            r.id,
            r.state,
            r.workflow_id,
            r.mesh_message_id.unwrap_or_default(),
            r.fail_reason.unwrap_or_default()
        );
    }
    Ok(())
}

/// Shows one message and its history.
///
/// # Errors
/// Store unavailable or no such message.
pub async fn show(config: Option<&Path>, id: &str, json: bool) -> anyhow::Result<()> {
    let detail = open(config)
        .await?
        .history(id)
        .await?
        .with_context(|| format!("no message {id}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
        return Ok(());
    }
    let s = &detail.summary;
    println!(
        "id: {}\nstate: {}\nroute: {}\nworkflow: {}\nsender ODS: {}\nITK message id: {}\nMESH message id: {}",
        s.id,
        s.state,
        s.route,
        s.workflow_id,
        s.ods_code,
        s.itk_message_id,
        s.mesh_message_id.clone().unwrap_or_default()
    );
    if let Some(r) = &s.fail_reason {
        println!("failure: {r}");
    }
    println!("history:");
    for (at, state, note) in &detail.history {
        let t = chrono::DateTime::from_timestamp_millis(*at)
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        println!("  {t}  {state:<9} {note}");
    }
    Ok(())
}

/// Puts failed messages back in the queue, one line per id; exit 1 when any was refused.
///
/// # Errors
/// Store unavailable.
pub async fn resend(config: Option<&Path>, ids: &[String]) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    let mut refused = 0;
    for id in ids {
        let line = match store.resend(id, crate::pipeline::now_ms()).await? {
            ResendOutcome::Queued => format!("{id}: queued to be sent again"),
            outcome => {
                refused += 1;
                refusal(id, &outcome)
            }
        };
        println!("{line}");
    }
    Ok(if refused == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn refusal(id: &str, outcome: &ResendOutcome) -> String {
    match outcome {
        ResendOutcome::NotFound => format!("{id}: refused: no such message"),
        ResendOutcome::NotFailed(state) => {
            format!("{id}: refused: the message is {state}; only failed messages are resent")
        }
        ResendOutcome::ReceiverHasIt(code) => format!(
            "{id}: refused: the receiving system acknowledged this message (ITK code {code}), so \
             an identical resend would be discarded as a duplicate; publish a corrected event \
             (a replacement) instead"
        ),
        ResendOutcome::Queued => format!("{id}: queued to be sent again"),
    }
}
