//! The MESH client conformance suite, the same one run against the real mesh-sandbox.

use gateway_mesh_sim::{SimConfig, start};
use gateway_testkit::mesh_conformance::{ConformanceTarget, run_all};

#[tokio::test]
async fn simulator_passes_the_mesh_conformance_suite() {
    let sim = start(SimConfig::demo(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let target = ConformanceTarget::sandbox(sim.url.clone());
    let result = run_all(&target).await;
    sim.shutdown().await;
    if let Err(failures) = result {
        panic!("conformance failures:\n{failures}");
    }
}
