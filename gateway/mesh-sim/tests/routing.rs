//! GPPROVIDER routing with asynchronous EPL-15x reports (spec §10), and the admin endpoints.

mod common;

use common::{Sim, gzip, header, ids, json, only_report, send_to};
use gateway_mesh_sim::SimConfig;
use reqwest::Method;
use serde_json::json;

const UR: &str = "GPCONNECT_UPDATE_RECORD";

#[tokio::test]
async fn routes_to_the_registered_practice() {
    let s = Sim::start().await;
    let resp = send_to(&s, "GPPROVIDER_9000000017_19800202_Jones", UR).await;
    assert_eq!(resp.status(), 202);
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&s.inbox("GPPRAC02", "").await), vec![id.clone()]);
    let dl = s
        .req(Method::GET, "GPPRAC02", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&dl, "mex-to"), Some("GPPRAC02"));
    let track = json(s.track("PHARM001", &id).await).await;
    assert_eq!(track["recipient"], "GPPRAC02");
    assert_eq!(track["recipient_ods_code"], "A99902");
    // Unknown but valid patient → the default practice.
    let resp = send_to(&s, "GPPROVIDER_9000000025_19550109_MOWERS", UR).await;
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    assert_eq!(ids(&s.inbox("GPPRAC01", "").await), vec![id]);
    // Routing applies to the GP Connect workflows only; elsewhere it is an unknown mailbox.
    let resp = send_to(&s, "GPPROVIDER_9000000009_19700101_SMITH", "TEST_WORKFLOW").await;
    assert_eq!(resp.status(), 417);
}

#[tokio::test]
async fn invalid_nhs_number_gives_an_epl_152_report() {
    let s = Sim::start().await;
    let resp = send_to(&s, "GPPROVIDER_1234567890_19700101_SMITH", UR).await;
    assert_eq!(resp.status(), 202);
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    let (report_id, resp) = only_report(&s, "PHARM001").await;
    assert_eq!(resp.status(), 200);
    for (name, value) in [
        ("mex-messagetype", "REPORT"),
        ("mex-messageid", report_id.as_str()),
        ("mex-linkedmsgid", id.as_str()),
        ("mex-to", "PHARM001"),
        ("mex-statuscode", "EPL-152"),
        ("mex-statusevent", "SEND"),
        ("mex-statusdescription", "Invalid NHS Number"),
        ("mex-statussuccess", "ERROR"),
        ("mex-workflowid", UR),
        ("mex-localid", "FA001"),
        ("mex-chunk-range", "1:0"),
        ("mex-total-chunks", "0"),
    ] {
        assert_eq!(header(&resp, name), Some(value), "{name}");
    }
    assert_eq!(header(&resp, "mex-from"), None);
    assert!(resp.bytes().await.unwrap().is_empty());
    let track = json(s.track("PHARM001", &id).await).await;
    assert_eq!(track["status"], "error");
    assert_eq!(track["status_success"], false);
    assert_eq!(s.ack("PHARM001", &report_id).await.status(), 200);
    assert!(ids(&s.inbox("PHARM001", "").await).is_empty());
}

#[tokio::test]
async fn unknown_patient_without_default_gives_epl_153_also_when_chunked() {
    let mut cfg = SimConfig::demo();
    cfg.default_practice = None;
    let s = Sim::with(cfg).await;
    let resp = s
        .req(Method::POST, "PHARM001", "/outbox")
        .header("mex-to", "GPPROVIDER_9000000025_19550109_MOWERS")
        .header("mex-workflowid", UR)
        .header("mex-chunk-range", "1:2")
        .header("content-encoding", "gzip")
        .body(gzip(b"part one"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    // Nothing is reported until the upload completes.
    assert!(ids(&s.inbox("PHARM001", "").await).is_empty());
    let resp = s
        .req(Method::POST, "PHARM001", &format!("/outbox/{id}/2"))
        .header("mex-chunk-range", "2:2")
        .header("content-encoding", "gzip")
        .body(gzip(b"part two"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let (_, report) = only_report(&s, "PHARM001").await;
    assert_eq!(header(&report, "mex-statuscode"), Some("EPL-153"));
    assert_eq!(header(&report, "mex-linkedmsgid"), Some(id.as_str()));
    for practice in ["GPPRAC01", "GPPRAC02"] {
        assert!(ids(&s.inbox(practice, "").await).is_empty());
    }
}

#[tokio::test]
async fn admin_reports_events_and_reset() {
    let s = Sim::start().await;
    let id = s.send("X26ABC1", "X26ABC2", "TEST_WORKFLOW", b"x").await;
    let admin = |body: serde_json::Value| {
        s.http
            .post(s.url("/messageexchange/admin/report"))
            .json(&body)
            .send()
    };
    let resp = admin(
        json!({"mailbox_id":"X26ABC1","code":"ignored","description":"ignored",
        "workflow_id":"TEST_WORKFLOW","linked_message_id":id,"local_id":"local-123",
        "subject":"hello subject"}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let report_id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    let (listed, r) = only_report(&s, "X26ABC1").await;
    assert_eq!(listed, report_id);
    for (name, value) in [
        ("mex-statuscode", "14"),
        ("mex-statusevent", "SEND"),
        (
            "mex-statusdescription",
            "Message not collected by recipient after 5 days",
        ),
        ("mex-subject", "NDR: hello subject"),
        ("mex-localid", "local-123"),
        ("mex-linkedmsgid", id.as_str()),
    ] {
        assert_eq!(header(&r, name), Some(value), "{name}");
    }
    assert_eq!(
        header(&r, "mex-filename"),
        Some(format!("{report_id}.dat").as_str())
    );
    s.ack("X26ABC1", &report_id).await;
    let resp = admin(
        json!({"mailbox_id":"X26ABC1","status":"error","code":"EPL-153",
        "description":"NHS number not found","workflow_id":"GPCONNECT_UPDATE_RECORD",
        "linked_message_id":id}),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    let (_, r) = only_report(&s, "X26ABC1").await;
    assert_eq!(header(&r, "mex-statuscode"), Some("EPL-153"));
    assert_eq!(header(&r, "mex-statusevent"), Some("TRANSFER"));
    let resp = admin(json!({"mailbox_id":"NOSUCH","code":"1","description":"d","workflow_id":"W"}));
    assert_eq!(resp.await.unwrap().status(), 404);
    let resp = admin(json!({"mailbox_id":"X26ABC1"})).await.unwrap();
    assert_eq!(resp.status(), 400);

    // A status event makes the message undownloadable and shows in tracking.
    let event = s
        .http
        .post(s.url(&format!("/messageexchange/admin/message/{id}/event")))
        .json(&json!({"status":"undeliverable"}))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 200);
    let dl = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(dl.status(), 410);
    assert_eq!(
        json(dl).await,
        json!({"detail":[{"event":"SEND","code":"Message already accepted",
                          "msg":"Message no longer available for download"}]})
    );
    assert_eq!(
        json(s.track("X26ABC1", &id).await).await["status"],
        "undeliverable"
    );

    s.send("X26ABC1", "X26ABC2", "TEST_WORKFLOW", b"y").await;
    let reset = s
        .http
        .delete(s.url("/admin/reset/X26ABC2"))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    assert!(ids(&s.inbox("X26ABC2", "").await).is_empty());
    assert_eq!(ids(&s.inbox("X26ABC1", "").await).len(), 1);
    let reset = s
        .http
        .delete(s.url("/messageexchange/admin/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(reset).await, json!({"message":"all mailboxes reset"}));
    assert!(ids(&s.inbox("X26ABC1", "").await).is_empty());
    let health = s.http.get(s.url("/_ping")).send().await.unwrap();
    assert_eq!(json(health).await["status"], "running");
}
