//! The binary as a user runs it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gpc-gateway"))
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn demo_runs_every_example_to_its_expected_final_state() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["demo", "--timeout", "60", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Events as JSON lines, then the summary table.
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    for t in [
        "gpc.message.sent",
        "gpc.message.infack",
        "gpc.message.busack",
        "gpc.message.failed",
    ] {
        assert!(types.contains(&t), "demo printed no {t}: {types:?}");
    }
    assert!(
        stdout.contains("7 of 7 example messages reached their expected final state"),
        "{stdout}"
    );
    // The demo leaves its folders behind for inspection: the drop files were settled.
    assert!(
        dir.path()
            .join("drop/json/done/pharmacy-first.json")
            .exists()
    );
    assert!(
        dir.path()
            .join("drop/json/error/invalid-nhs-number.json.error.json")
            .exists()
    );
    for settled in [
        "drop/hl7v2/done/dispense-rds-o13.hl7",
        "drop/csv/done/consultations.csv",
    ] {
        assert!(dir.path().join(settled).exists(), "{settled} not in done/");
    }
}

#[test]
fn check_config_accepts_the_sandbox_example_and_redacts_secrets() {
    let out = bin()
        .args(["check-config", "--config"])
        .arg(root().join("examples/sandbox.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !stdout.contains("pharm001-pass") && !stdout.contains("TestKey"),
        "secret printed:\n{stdout}"
    );
    assert!(stdout.contains("**redacted**"));
}

#[test]
fn check_config_reports_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.toml");
    std::fs::write(
        &f,
        "[mesh]\npoll_interval_secs = 0\n[admin]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["check-config", "--config"])
        .arg(&f)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for key in [
        "mesh.mailboxes",
        "mesh.shared_key",
        "mesh.poll_interval_secs",
        "admin.listen",
    ] {
        assert!(stderr.contains(key), "{key} not reported:\n{stderr}");
    }
}

#[test]
fn map_prints_the_message_and_its_mesh_headers() {
    let out = bin()
        .args(["map", "--config"])
        .arg(root().join("examples/sandbox.toml"))
        .arg(root().join("examples/events/pharmacy-first.json"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("<Bundle xmlns=\"http://hl7.org/fhir\">"));
    assert!(
        stderr.contains("Mex-WorkflowID: GPCONNECT_UPDATE_RECORD"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Mex-To: GPPROVIDER_9000000009_19700101_Smith"),
        "{stderr}"
    );
    assert!(stderr.contains("Mex-From: PHARM001"), "{stderr}");
}

#[test]
fn map_writes_json_when_asked() {
    let out = bin()
        .args(["map", "--format", "json", "--config"])
        .arg(root().join("examples/sandbox.toml"))
        .arg(root().join("examples/events/document-created.json"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let bundle: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert!(
        stderr.contains("Mex-WorkflowID: GPCONNECT_SEND_DOCUMENT"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Content-Type: application/fhir+json"),
        "{stderr}"
    );
}

#[test]
fn validate_rejects_a_broken_message_with_one_line_per_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("broken.xml");
    std::fs::write(
        &f,
        "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"message\"/></Bundle>",
    )
    .unwrap();
    let out = bin().arg("validate").arg(&f).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 1);
}
