//! `gpc-gateway validate FILE…`: the sender checks (spec §9) on ITK3 messages.

use std::path::PathBuf;

/// Prints one line per problem; returns how many files failed.
///
/// # Errors
/// A file cannot be read.
pub fn execute(files: &[PathBuf]) -> anyhow::Result<usize> {
    let mut failed = 0;
    for f in files {
        let bytes = std::fs::read(f).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?;
        let problems = gateway_plugin_gp_connect::validate::validate_message(&bytes);
        if problems.is_empty() {
            println!("{}: valid", f.display());
        } else {
            failed += 1;
            for p in &problems {
                println!("{}: {p}", f.display());
            }
        }
    }
    Ok(failed)
}
