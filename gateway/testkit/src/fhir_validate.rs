//! Runs the independent STU3 + ITK3 checker (`../shared/tools/fhir-validate/validate.py`) on a
//! message. Its virtualenv is made by `scripts/test.sh` (or by hand with that tool's `setup.sh`)
//! at `$FHIR_VALIDATE_VENV`, default `<workspace>/target/fhir-validate-venv`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The outcome of one validator run.
#[derive(Debug)]
pub struct Report {
    /// Exit status was 0 (no errors).
    pub valid: bool,
    /// Everything the validator printed.
    pub output: String,
}

/// Workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shared folder beside the project root.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("GPC_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared"))
}

fn python() -> Result<PathBuf, String> {
    let venv = std::env::var_os("FHIR_VALIDATE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/fhir-validate-venv"));
    let py = venv.join("bin/python");
    if py.exists() {
        Ok(py)
    } else {
        Err(format!(
            "fhir-validate venv not found at {}: run scripts/test.sh, or \
             FHIR_VALIDATE_VENV={} ../shared/tools/fhir-validate/setup.sh",
            venv.display(),
            venv.display()
        ))
    }
}

/// Validates `bytes` (XML or JSON), optionally cross-checking the MESH metadata.
///
/// # Errors
/// When the validator cannot be run at all (missing venv): the caller's test must then fail.
pub fn validate_bytes(
    bytes: &[u8],
    mex_to: Option<&str>,
    workflow_id: Option<&str>,
) -> Result<Report, String> {
    let dir = tempfile_dir()?;
    let ext = if bytes.trim_ascii_start().starts_with(b"{") {
        "json"
    } else {
        "xml"
    };
    let file = dir.join(format!("message.{ext}"));
    std::fs::write(&file, bytes).map_err(|e| e.to_string())?;
    let result = validate_file(&file, mex_to, workflow_id);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Validates a file.
///
/// # Errors
/// When the validator cannot be run at all.
pub fn validate_file(
    file: &Path,
    mex_to: Option<&str>,
    workflow_id: Option<&str>,
) -> Result<Report, String> {
    let script = shared_dir().join("tools/fhir-validate/validate.py");
    let mut cmd = Command::new(python()?);
    cmd.arg(script);
    if let Some(m) = mex_to {
        cmd.args(["--mex-to", m]);
    }
    if let Some(w) = workflow_id {
        cmd.args(["--workflow-id", w]);
    }
    cmd.arg(file);
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run fhir-validate: {e}"))?;
    let mut output = String::from_utf8_lossy(&out.stdout).into_owned();
    output.push_str(&String::from_utf8_lossy(&out.stderr));
    match out.status.code() {
        Some(0) => Ok(Report {
            valid: true,
            output,
        }),
        Some(1) => Ok(Report {
            valid: false,
            output,
        }),
        _ => Err(format!("fhir-validate could not run: {output}")),
    }
}

fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("gpc-fhirval-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
