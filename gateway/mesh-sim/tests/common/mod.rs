//! Test helpers: a simulator on port 0 and a raw HTTP client that mints NHSMESH tokens.

// Helpers of integration tests: each test binary uses a subset, and failing loudly is the point.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use gateway_mesh_sim::{RunningSim, SimConfig, start};
use hmac::{Hmac, Mac};
use reqwest::{Method, RequestBuilder, Response};
use sha2::Sha256;

pub const V2: &str = "application/vnd.mesh.v2+json";

/// Token as in spec §4.1.
pub fn token(mailbox: &str, password: &str, count: u64) -> String {
    let nonce = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    let ts = "202501011200";
    let mut mac = Hmac::<Sha256>::new_from_slice(b"TestKey").unwrap();
    mac.update(format!("{mailbox}:{nonce}:{count}:{password}:{ts}").as_bytes());
    let hash = hex::encode(mac.finalize().into_bytes());
    format!("NHSMESH {mailbox}:{nonce}:{count}:{ts}:{hash}")
}

pub fn password(mailbox: &str) -> String {
    SimConfig::demo()
        .mailboxes
        .into_iter()
        .find(|m| m.id == mailbox)
        .map(|m| m.password)
        .unwrap_or_else(|| "password".into())
}

pub struct Sim {
    pub sim: RunningSim,
    pub http: reqwest::Client,
    count: AtomicU64,
}

impl Sim {
    pub async fn start() -> Self {
        Self::with(SimConfig::demo()).await
    }

    pub async fn with(cfg: SimConfig) -> Self {
        let sim = start(cfg, "127.0.0.1:0".parse().unwrap()).await.unwrap();
        Self {
            sim,
            http: reqwest::Client::new(),
            count: AtomicU64::new(0),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.url)
    }

    /// Authenticated request for `mailbox` to `/messageexchange/{mailbox}{path}`, v2 Accept.
    pub fn req(&self, method: Method, mailbox: &str, path: &str) -> RequestBuilder {
        self.raw(method, mailbox, path).header("accept", V2)
    }

    /// Authenticated request without an `Accept` header.
    pub fn raw(&self, method: Method, mailbox: &str, path: &str) -> RequestBuilder {
        let count = self.count.fetch_add(1, Ordering::Relaxed);
        self.http
            .request(
                method,
                self.url(&format!("/messageexchange/{mailbox}{path}")),
            )
            .header("authorization", token(mailbox, &password(mailbox), count))
    }

    /// Sends `body` from `from` to `to` on `workflow`; returns the message id.
    pub async fn send(&self, from: &str, to: &str, workflow: &str, body: &[u8]) -> String {
        let resp = self
            .req(Method::POST, from, "/outbox")
            .header("mex-to", to)
            .header("mex-workflowid", workflow)
            .header("mex-from", from)
            .body(body.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 202);
        json(resp).await["message_id"].as_str().unwrap().to_owned()
    }

    pub async fn inbox(&self, mailbox: &str, query: &str) -> serde_json::Value {
        let resp = self
            .req(Method::GET, mailbox, &format!("/inbox{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        json(resp).await
    }

    pub async fn ack(&self, mailbox: &str, id: &str) -> Response {
        let path = format!("/inbox/{id}/status/acknowledged");
        self.req(Method::PUT, mailbox, &path).send().await.unwrap()
    }

    pub async fn track(&self, mailbox: &str, id: &str) -> Response {
        let path = format!("/outbox/tracking?messageID={id}");
        self.req(Method::GET, mailbox, &path).send().await.unwrap()
    }
}

pub async fn json(resp: Response) -> serde_json::Value {
    let bytes = resp.bytes().await.unwrap();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

pub fn ids(list: &serde_json::Value) -> Vec<String> {
    list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

pub fn header<'a>(resp: &'a Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Sends a small GP Connect-style message from PHARM001.
pub async fn send_to(s: &Sim, to: &str, workflow: &str) -> reqwest::Response {
    s.req(Method::POST, "PHARM001", "/outbox")
        .header("mex-to", to)
        .header("mex-workflowid", workflow)
        .header("mex-localid", "FA001")
        .header("mex-subject", "Consultation for a patient")
        .body("<Bundle/>")
        .send()
        .await
        .unwrap()
}

/// Downloads the single message waiting in `mailbox`.
pub async fn only_report(s: &Sim, mailbox: &str) -> (String, reqwest::Response) {
    let list = ids(&s.inbox(mailbox, "").await);
    assert_eq!(list.len(), 1, "{list:?}");
    let resp = s
        .req(Method::GET, mailbox, &format!("/inbox/{}", list[0]))
        .send()
        .await
        .unwrap();
    (list[0].clone(), resp)
}
