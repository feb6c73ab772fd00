//! Test helpers shared by unit and integration tests: the MESH client conformance suite (run
//! against the real mesh-sandbox and against our simulator) and a wrapper around the independent
//! `tools/fhir-validate` checker.

pub mod fhir_validate;
pub mod mesh_conformance;
