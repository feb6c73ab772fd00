//! `gpc-gateway check-config`: loads, validates, prints the effective config with secrets redacted.

use std::path::Path;

/// Exit code 0 when valid.
///
/// # Errors
/// The configuration cannot be read or is invalid (every problem listed).
pub fn execute(config: Option<&Path>) -> anyhow::Result<()> {
    let cfg = crate::config::GatewayConfig::load(config)?;
    // Secrets serialise as "**redacted**".
    println!("{}", toml::to_string_pretty(&cfg)?);
    eprintln!("configuration is valid");
    Ok(())
}
