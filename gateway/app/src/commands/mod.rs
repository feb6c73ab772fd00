//! One module per CLI command (contract §2).

pub mod check_config;
pub mod demo;
pub mod map;
pub mod mesh_sim;
pub mod messages;
pub mod run;
pub mod validate;
