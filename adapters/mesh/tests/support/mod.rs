//! Helpers shared by the sandbox integration tests and the `mesh-bigfile` example.

pub(crate) mod bigfile;
