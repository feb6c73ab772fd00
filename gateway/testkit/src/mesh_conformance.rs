//! MESH conformance suite: runs [`gateway_adapter_mesh::MeshClient`] against a MESH server (the
//! NHS mesh-sandbox or our simulator) through the public API only, plus the one test-only admin
//! endpoint every target must offer, `POST /messageexchange/admin/report`. No mailbox is ever
//! reset, so the suite can share a server with other tests.
//!
//! Every check tags its messages with a fresh run id, looks only at ids it sent, acknowledges
//! whatever it leaves in an inbox, and returns `Err` describing the failed step.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use gateway_adapter_mesh::{
    InboxMessage, MeshClient, MeshClientConfig, MeshError, MessageType, OutboundMessage,
};
use gateway_core::Secret;

/// A MESH server and two of its mailboxes.
#[derive(Debug, Clone)]
pub struct ConformanceTarget {
    /// Base URL, e.g. `http://127.0.0.1:8700`.
    pub base_url: String,
    /// Environment shared secret.
    pub shared_key: String,
    /// Sending mailbox and its password.
    pub sender: (String, String),
    /// Receiving mailbox and its password.
    pub recipient: (String, String),
    /// Extra CA bundle (PEM) for a TLS target.
    pub ca_bundle: Option<PathBuf>,
    /// Client certificate (PEM) for an mTLS target.
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM) for an mTLS target.
    pub client_key: Option<PathBuf>,
}

impl ConformanceTarget {
    /// The sandbox's demo mailboxes `X26ABC1` → `X26ABC2` (password `password`, key `TestKey`).
    pub fn sandbox(base_url: impl Into<String>) -> Self {
        let mailbox = |id: &str| (id.to_owned(), "password".to_owned());
        Self {
            base_url: base_url.into(),
            shared_key: "TestKey".to_owned(),
            sender: mailbox("X26ABC1"),
            recipient: mailbox("X26ABC2"),
            ca_bundle: None,
            client_cert: None,
            client_key: None,
        }
    }

    /// Client configuration for `mailbox` with this target's TLS settings.
    pub fn config(&self, mailbox: &(String, String)) -> MeshClientConfig {
        let (password, key) = (Secret::new(&*mailbox.1), Secret::new(&*self.shared_key));
        let mut cfg = MeshClientConfig::new(&*self.base_url, &*mailbox.0, password, key);
        cfg.connect_timeout = Duration::from_secs(5);
        cfg.request_timeout = Duration::from_secs(30);
        cfg.ca_bundle.clone_from(&self.ca_bundle);
        cfg.client_cert.clone_from(&self.client_cert);
        cfg.client_key.clone_from(&self.client_key);
        cfg
    }

    fn client(&self, mailbox: &(String, String)) -> Result<MeshClient, String> {
        MeshClient::new(self.config(mailbox)).step("building client")
    }
}

/// Labels a client error with the step that failed.
trait Step<T> {
    fn step(self, what: &str) -> Result<T, String>;
}

impl<T> Step<T> for Result<T, MeshError> {
    fn step(self, what: &str) -> Result<T, String> {
        self.map_err(|e| format!("{what}: {e}"))
    }
}

/// Runs every check, continuing after failures, and reports all failures together.
///
/// # Errors
///
/// One line per failed check.
pub async fn run_all(t: &ConformanceTarget) -> Result<(), String> {
    let results = [
        ("handshake", handshake(t).await),
        ("round_trip", send_receive_acknowledge(t).await),
        ("chunked(plain)", chunked_round_trip(t, false).await),
        ("chunked(gzip)", chunked_round_trip(t, true).await),
        ("inbox_paging", inbox_paging(t).await),
        ("workflow_filter", workflow_filter(t).await),
        ("wrong_password", wrong_password(t).await),
        ("unknown_recipient", unknown_recipient(t).await),
        ("report_injection", report_injection(t).await),
    ];
    let failures: Vec<String> = results
        .into_iter()
        .filter_map(|(name, r)| r.err().map(|e| format!("{name}: {e}")))
        .collect();
    ensure(failures.is_empty(), failures.join("\n"))
}

/// Both mailboxes complete the handshake.
pub async fn handshake(t: &ConformanceTarget) -> Result<(), String> {
    for mailbox in [&t.sender, &t.recipient] {
        t.client(mailbox)?.handshake().await.step(&mailbox.0)?;
    }
    Ok(())
}

/// Send → listed → download identical → acknowledge → unlisted → tracking says acknowledged.
pub async fn send_receive_acknowledge(t: &ConformanceTarget) -> Result<(), String> {
    let (sender, recipient) = (t.client(&t.sender)?, t.client(&t.recipient)?);
    let run = run_id();
    let mut body = format!("{{\"run\":\"{run}\"}}").into_bytes();
    body.extend([0u8, 0xff, 0xfe, b'\n']); // bytes must survive untouched, not only text
    let msg = outbound(t, &run, "TEST_WORKFLOW", body);
    let id = sender.send(&msg).await.step("send")?;
    with_cleanup(&recipient, [id.clone()], async {
        let before = sender.track(&id).await.step("track before ack")?;
        let text = format!("tracking before ack: {before:?}");
        ensure(before.status == "accepted", text)?;
        wait_listed(&recipient, None, &id, true).await?;
        let got = recipient.download(&id).await.step("download")?;
        check_same(&got, &id, &msg, t)?;
        recipient.acknowledge(&id).await.step("acknowledge")?;
        wait_listed(&recipient, None, &id, false).await?;
        let after = sender.track(&id).await.step("track after ack")?;
        let to_recipient = |r: &str| r.eq_ignore_ascii_case(&t.recipient.0);
        let ok = after.status == "acknowledged"
            && after.status_success != Some(false)
            && after.recipient.as_deref().is_none_or(to_recipient);
        ensure(ok, format!("tracking after ack: {after:?}"))
    })
    .await
}

/// A three-chunk message (64 KiB chunks), gzipped per chunk or not, round-trips unchanged.
pub async fn chunked_round_trip(t: &ConformanceTarget, compress: bool) -> Result<(), String> {
    const CHUNK: usize = 64 * 1024;
    let mut cfg = t.config(&t.sender);
    cfg.chunk_size = CHUNK;
    cfg.compress = compress;
    let sender = MeshClient::new(cfg).step("building client")?;
    let recipient = t.client(&t.recipient)?;
    let run = run_id();
    // Noise interleaved with text (compressible yet not trivial): 2 full chunks and a tail.
    let noise = |i: usize| (i.wrapping_mul(2_654_435_761) >> 13) as u8;
    let body: Vec<u8> = (0..2 * CHUNK + 10_000)
        .map(|i| if i % 2 == 0 { noise(i) } else { b'a' })
        .collect();
    let mut msg = outbound(t, &run, "TEST_WORKFLOW", body);
    msg.content_type = "text/plain".to_owned();
    let id = sender.send(&msg).await.step("send")?;
    with_cleanup(&recipient, [id.clone()], async {
        wait_listed(&recipient, None, &id, true).await?;
        let got = recipient.download(&id).await.step("download")?;
        check_same(&got, &id, &msg, t)?;
        recipient.acknowledge(&id).await.step("acknowledge")
    })
    .await
}

/// With pages of 10 and at least 12 waiting messages, the first page holds at most 10 ids and a
/// `next` link, and following the links finds all 12.
pub async fn inbox_paging(t: &ConformanceTarget) -> Result<(), String> {
    let (sender, recipient) = (t.client(&t.sender)?, t.client(&t.recipient)?);
    let run = run_id();
    let mut ids = Vec::new();
    for n in 0..12 {
        let local = format!("{run}-{n}");
        let msg = outbound(t, &local, "TEST_WORKFLOW", local.clone().into());
        ids.push(sender.send(&msg).await.step("send")?);
    }
    with_cleanup(&recipient, ids.clone(), async {
        for id in &ids {
            wait_listed(&recipient, None, id, true).await?;
        }
        let page = recipient.list_inbox_page(None, Some(10)).await;
        let page = page.step("first page")?;
        let (len, next) = (page.messages.len(), page.next.is_some());
        let text = format!("first page: {len} ids, next link {next}");
        ensure(len <= 10 && next, text)?;
        let all = recipient.list_inbox_with(None, Some(10)).await;
        let all = all.step("paged list")?;
        let missing: Vec<_> = ids.iter().filter(|id| !all.contains(id)).collect();
        ensure(missing.is_empty(), format!("paging misses {missing:?}"))
    })
    .await
}

/// `*_ACK*` lists a `TEST_WORKFLOW_ACK` message but not a `TEST_WORKFLOW` one; an exact filter
/// the reverse.
pub async fn workflow_filter(t: &ConformanceTarget) -> Result<(), String> {
    let (sender, recipient) = (t.client(&t.sender)?, t.client(&t.recipient)?);
    let run = run_id();
    let ack = outbound(t, &run, "TEST_WORKFLOW_ACK", b"ack".to_vec());
    let data = outbound(t, &run, "TEST_WORKFLOW", b"data".to_vec());
    let ack_id = sender.send(&ack).await.step("send ack")?;
    let data_id = sender.send(&data).await.step("send data");
    let sent = [Some(ack_id.clone()), data_id.clone().ok()];
    let sent = sent.into_iter().flatten();
    with_cleanup(&recipient, sent, async {
        let data_id = data_id?;
        wait_listed(&recipient, Some("*_ACK*"), &ack_id, true).await?;
        let acks = recipient.list_inbox(Some("*_ACK*")).await;
        let acks = acks.step("list *_ACK*")?;
        ensure(!acks.contains(&data_id), "*_ACK* listed a data message")?;
        let exact = recipient.list_inbox(Some("TEST_WORKFLOW")).await;
        let exact = exact.step("list exact")?;
        let ok = exact.contains(&data_id) && !exact.contains(&ack_id);
        ensure(ok, "exact filter did not select just the data message")
    })
    .await
}

/// A wrong password gives an auth error that names the mailbox.
pub async fn wrong_password(t: &ConformanceTarget) -> Result<(), String> {
    let client = t.client(&(t.sender.0.clone(), format!("wrong-{}", run_id())))?;
    let list = client.list_inbox(None).await.map(drop);
    for (what, result) in [("handshake", client.handshake().await), ("list", list)] {
        match result {
            Err(e @ MeshError::Auth { .. }) if e.to_string().contains(&t.sender.0) => {}
            other => return Err(format!("{what}: want auth error: {other:?}")),
        }
    }
    Ok(())
}

/// Sending to an unregistered mailbox fails synchronously with MESH code 12.
pub async fn unknown_recipient(t: &ConformanceTarget) -> Result<(), String> {
    let run = run_id();
    let mut msg = outbound(t, &run, "TEST_WORKFLOW", b"x".to_vec());
    msg.to = format!("NOSUCH{}", &run[..8]).to_ascii_uppercase();
    match t.client(&t.sender)?.send(&msg).await {
        Err(e @ MeshError::Status { .. }) if e.mesh_code() == Some("12") => {
            let ok = !e.is_retryable() && !e.outcome_unknown();
            ensure(ok, format!("code 12 misclassified: {e:?}"))
        }
        other => Err(format!("want a status error with code 12, got {other:?}")),
    }
}

/// An injected `error` report (EPL-153) about a sent message reaches the sender as a REPORT.
pub async fn report_injection(t: &ConformanceTarget) -> Result<(), String> {
    let (sender, recipient) = (t.client(&t.sender)?, t.client(&t.recipient)?);
    let run = run_id();
    let msg = outbound(t, &run, "TEST_WORKFLOW", b"report me".to_vec());
    let id = sender.send(&msg).await.step("send")?;
    with_cleanup(&recipient, [id.clone()], async {
        let report_id = inject_report(t, &id, &run).await?;
        with_cleanup(&sender, [report_id.clone()], async {
            wait_listed(&sender, None, &report_id, true).await?;
            let r = sender.download(&report_id).await.step("download report")?;
            let is_report = r.message_type == MessageType::Report && r.body.is_empty();
            let linked = r.linked_message_id.as_deref() == Some(&*id);
            let local = r.local_id.as_deref() == Some(&*run);
            let code = r.status_code.as_deref() == Some("EPL-153");
            let failed = r.status_success.as_deref() == Some("ERROR");
            let ok = is_report && linked && local && code && failed;
            ensure(ok, format!("unexpected report {r:?}"))?;
            sender.acknowledge(&report_id).await.step("ack report")
        })
        .await
    })
    .await
}

/// `POST {base}/messageexchange/admin/report` (no MESH auth, but the target's TLS settings);
/// returns the report's id.
async fn inject_report(t: &ConformanceTarget, linked: &str, run: &str) -> Result<String, String> {
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut http = reqwest::Client::builder().timeout(Duration::from_secs(30));
    if let Some(bundle) = &t.ca_bundle {
        let certs = reqwest::Certificate::from_pem_bundle(&read(bundle)?);
        http = http.tls_certs_merge(certs.map_err(|e| format!("ca bundle: {e}"))?);
    }
    if let (Some(cert), Some(key)) = (&t.client_cert, &t.client_key) {
        let pem = [read(cert)?, b"\n".to_vec(), read(key)?].concat();
        let identity = reqwest::Identity::from_pem(&pem).map_err(|e| format!("identity: {e}"))?;
        http = http.identity(identity);
    }
    let base = t.base_url.trim_end_matches('/');
    let url = format!("{base}/messageexchange/admin/report");
    let request = serde_json::json!({
        "mailbox_id": t.sender.0, "status": "error", "code": "EPL-153",
        "description": "NHS number not found", "workflow_id": "TEST_WORKFLOW",
        "linked_message_id": linked, "local_id": run, "subject": format!("conformance {run}"),
    });
    let http = http.build().map_err(|e| format!("admin client: {e}"))?;
    let response = http.post(url).json(&request).send().await;
    let response = response.map_err(|e| format!("admin report: {e}"))?;
    let status = response.status();
    let body = response.json::<serde_json::Value>().await;
    let body = body.map_err(|e| format!("admin report {status}: {e}"))?;
    match body.get("message_id").and_then(serde_json::Value::as_str) {
        Some(id) if status.is_success() => Ok(id.to_owned()),
        _ => Err(format!("admin report answered {status}: {body}")),
    }
}

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn ensure(condition: bool, message: impl Into<String>) -> Result<(), String> {
    condition.then_some(()).ok_or_else(|| message.into())
}

fn outbound(t: &ConformanceTarget, run: &str, workflow: &str, body: Vec<u8>) -> OutboundMessage {
    OutboundMessage {
        to: t.recipient.0.clone(),
        workflow_id: workflow.to_owned(),
        subject: Some(format!("conformance {run}")),
        local_id: Some(run.to_owned()),
        file_name: Some(format!("{run}.bin")),
        content_type: "application/fhir+json".to_owned(),
        body: body.into(),
    }
}

/// Downloaded headers and body equal what was sent (mailbox ids compared case-insensitively).
fn check_same(
    got: &InboxMessage,
    id: &str,
    sent: &OutboundMessage,
    t: &ConformanceTarget,
) -> Result<(), String> {
    let same = |a: Option<&str>, b: &str| a.is_some_and(|a| a.eq_ignore_ascii_case(b));
    let (wf, ct) = (sent.workflow_id.as_str(), sent.content_type.as_str());
    let checks = [
        ("message_id", got.message_id.eq_ignore_ascii_case(id)),
        ("message_type", got.message_type == MessageType::Data),
        ("from", same(got.from.as_deref(), &t.sender.0)),
        ("to", same(got.to.as_deref(), &t.recipient.0)),
        ("workflow_id", got.workflow_id.as_deref() == Some(wf)),
        ("local_id", got.local_id == sent.local_id),
        ("subject", got.subject == sent.subject),
        ("file_name", got.file_name == sent.file_name),
        ("content_type", got.content_type.as_deref() == Some(ct)),
        ("body", got.body == sent.body),
    ];
    let wrong: Vec<_> = checks
        .iter()
        .filter_map(|(n, ok)| (!ok).then_some(*n))
        .collect();
    // InboxMessage's Debug hides subject and body, so this is safe to print.
    let text = format!("download differs in {wrong:?}: {got:?}");
    ensure(wrong.is_empty(), text)
}

/// Polls until `id` is (or is no longer) listed: real MESH lists are eventually consistent, so
/// one look right after a send or acknowledge could be stale.
async fn wait_listed(
    client: &MeshClient,
    filter: Option<&str>,
    id: &str,
    present: bool,
) -> Result<(), String> {
    for attempt in 0..20 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let ids = client.list_inbox(filter).await.step("list")?;
        if ids.iter().any(|i| i == id) == present {
            return Ok(());
        }
    }
    let state = ["still listed", "never listed"][usize::from(present)];
    let mailbox = client.mailbox_id();
    Err(format!(
        "{id} {state} in {mailbox} inbox (filter {filter:?})"
    ))
}

/// Runs `check`, then acknowledges `ids` (best effort) so no check leaves messages behind.
async fn with_cleanup(
    client: &MeshClient,
    ids: impl IntoIterator<Item = String>,
    check: impl Future<Output = Result<(), String>>,
) -> Result<(), String> {
    let result = check.await;
    for id in ids {
        // Usually already acknowledged, which answers 200 again; failures do not matter here.
        let _ = client.acknowledge(&id).await;
    }
    result
}
