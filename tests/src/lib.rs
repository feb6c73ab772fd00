//! Integration-test harness: the real mesh-sandbox (started by `scripts/test.sh`), the real
//! RabbitMQ, the `gpc-gateway` binary as a child process (so tests can SIGKILL it), and a GP
//! practice that validates what it receives with the independent fhir-validate tool.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    missing_docs,
    unreachable_pub
)]

pub mod broker;
pub mod bus;
pub mod gateway;
pub mod otlp;
pub mod practice;

use std::time::Duration;

/// The mesh-sandbox base URL (`MESH_SANDBOX_URL`, default the shared script's).
pub fn sandbox_url() -> String {
    std::env::var("MESH_SANDBOX_URL").unwrap_or_else(|_| "http://127.0.0.1:8700".into())
}

/// The broker URL (`AMQP_URL`, default the local RabbitMQ).
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// Empties the given sandbox mailboxes; fails the test with instructions when the sandbox is down.
pub async fn reset_mailboxes(mailboxes: &[&str]) {
    let http = reqwest::Client::new();
    for mb in mailboxes {
        let url = format!("{}/admin/reset/{mb}", sandbox_url());
        let resp = http.delete(&url).send().await.unwrap_or_else(|e| {
            panic!(
                "mesh-sandbox unreachable at {} ({e}); run scripts/test.sh",
                sandbox_url()
            )
        });
        assert!(resp.status().is_success(), "reset {mb}: {}", resp.status());
    }
}

/// Polls `f` until it returns `Some`, up to `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A consultation event (contract §8 shape) for a sandbox test patient.
pub fn consultation_event(id: &str, patient: Patient) -> Vec<u8> {
    let (nhs, family, given, dob) = match patient {
        Patient::Smith => ("9000000009", "Smith", "John", "1970-01-01"),
        Patient::Jones => ("9000000017", "Jones", "Mary", "1980-02-02"),
    };
    serde_json::to_vec(&serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:nhs:ods:FA001",
        "type": "uk.nhs.pharmacy.consultation.completed.v1",
        "time": "2026-11-20T10:15:00Z",
        "datacontenttype": "application/json",
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "data": {
            "service": "pharmacy-first",
            "consent": true,
            "patient": { "nhsNumber": nhs, "family": family, "given": [given],
                         "birthDate": dob, "gender": "male", "postcode": "LS1 1AA" },
            "pharmacy": { "odsCode": "FA001", "name": "High Street Pharmacy" },
            "practitioner": { "family": "Patel", "given": ["Asha"], "gphcNumber": "2012345" },
            "encounter": { "start": "2026-11-20T09:40:00Z", "end": "2026-11-20T10:05:00Z" },
            "presentingComplaint": { "code": "68566005", "display": "Urinary tract infectious disease" },
            "clinicalNotes": { "clinicalSummary": "Uncomplicated lower UTI; nitrofurantoin supplied." },
            "medicationsSupplied": [{
                "code": "24549911000001107", "display": "Nitrofurantoin 50mg capsules",
                "quantity": { "value": 28, "unit": "capsule" },
                "dosageText": "One capsule four times a day", "patientInstruction": "Take with food",
                "supplyType": "patient-group-direction", "daysSupply": 7 }]
        }
    }))
    .unwrap()
}

/// Sandbox test patients (each routes to one practice through the sandbox's routing stubs).
#[derive(Debug, Clone, Copy)]
pub enum Patient {
    /// 9000000009, routes to GPPRAC01.
    Smith,
    /// 9000000017, routes to GPPRAC02.
    Jones,
}

/// The test trace id carried by [`consultation_event`].
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
