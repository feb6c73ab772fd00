//! The gateway's checker and the independent `tools/fhir-validate` agree: the single-defect
//! mutants of `selftest.py` that fall within what our checker covers are re-created here on
//! the same fixture text, and both checkers must reject every one (ours with the same rule id),
//! while both accept the unmutated bases. The fixtures' synthetic NHS number is first replaced
//! by a valid one (selftest downgrades that rule instead), and the Send Document example gets
//! the custodian it lacks, so that every base is valid for both.
//!
//! All files go to one validate.py run (its start-up dominates the cost).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use gateway_plugin_gp_connect::{Severity, ValidateOptions, check_message};
use gateway_testkit::fhir_validate::{shared_dir, workspace_root};

#[path = "support/edit.rs"]
mod edit;
#[path = "support/mutants.rs"]
mod mutants;

use edit::{ack1, json_base, pf1, sd1};
use mutants::{Mutant, mutants};

/// Runs validate.py once over `files`: file → error rule ids.
fn python_errors(files: &[PathBuf]) -> Vec<BTreeSet<String>> {
    let venv = std::env::var_os("FHIR_VALIDATE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/fhir-validate-venv"));
    let out = Command::new(venv.join("bin/python"))
        .arg(shared_dir().join("tools/fhir-validate/validate.py"))
        .arg("--json")
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run fhir-validate (run scripts/test.sh): {e}"));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["issues"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["severity"] == "error")
                .map(|i| i["rule"].as_str().unwrap().to_owned())
                .collect()
        })
        .collect()
}

fn our_errors(text: &str) -> BTreeSet<String> {
    check_message(text.as_bytes(), &ValidateOptions::default())
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule.to_owned())
        .collect()
}

#[test]
fn both_checkers_accept_the_bases_and_reject_every_mutant() {
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<Mutant> = vec![
        ("base: pharmacy first", pf1(), ""),
        ("base: send document", sd1(), ""),
        ("base: ITK008M", ack1(), ""),
        ("base: JSON", json_base(), ""),
    ];
    cases.extend(mutants());
    let files: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, text, _))| {
            let ext = if text.trim_start().starts_with('{') {
                "json"
            } else {
                "xml"
            };
            let p = dir.path().join(format!("case-{i:02}.{ext}"));
            std::fs::write(&p, text).unwrap();
            p
        })
        .collect();
    let python = python_errors(&files);
    assert_eq!(python.len(), cases.len());
    let mut failures = Vec::new();
    for ((name, text, rule), theirs) in cases.iter().zip(&python) {
        let ours = our_errors(text);
        let agree = if rule.is_empty() {
            ours.is_empty() && theirs.is_empty()
        } else {
            ours.contains(*rule) && theirs.contains(*rule)
        };
        if !agree {
            failures.push(format!(
                "{name}: expected {rule:?}; ours {ours:?}; validate.py {theirs:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(cases.len() >= 40);
}
