//! Round trips and error shapes over HTTP, checked against the recorded sandbox exchanges
//! (spec §15).

mod common;

use common::{Sim, V2, header, ids, json, token};
use reqwest::Method;
use serde_json::json;

const SUBJECT: &str = "Pharmacy First consultation for Mr John Smith, NHS Number: 9000000009, \
                       seen at Test Pharmacy, ODS code: FA001, version 1";
const BODY: &str = r#"{"resourceType":"Bundle","id":"example","type":"message"}"#;

#[tokio::test]
async fn send_list_download_ack_track_round_trip() {
    let s = Sim::start().await;
    // §15.1, with the fixed token of the spec.
    let resp = s
        .http
        .post(s.url("/messageexchange/PHARM001/outbox"))
        .header("authorization", token("PHARM001", "pharm001-pass", 0))
        .header("accept", V2)
        .header("content-type", "application/fhir+json")
        .header("mex-from", "PHARM001")
        .header("mex-to", "GPPRAC01")
        .header("mex-workflowid", "GPCONNECT_UPDATE_RECORD")
        .header("mex-subject", SUBJECT)
        .header("mex-localid", "FA001")
        .header("mex-filename", "update-record.json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(header(&resp, "content-type"), Some("application/json"));
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();

    let tracked = json(s.track("PHARM001", &id).await).await;
    assert_eq!(tracked["status"], "accepted");

    // §15.2
    let list = s.inbox("GPPRAC01", "").await;
    assert_eq!(
        list,
        json!({"messages":[id],"links":{"self":"/messageexchange/GPPRAC01/inbox"},"approx_inbox_count":1})
    );

    // §15.3
    let resp = s
        .req(Method::GET, "GPPRAC01", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let expect = [
        ("mex-from", "PHARM001"),
        ("mex-to", "GPPRAC01"),
        ("mex-workflowid", "GPCONNECT_UPDATE_RECORD"),
        ("mex-chunk-range", "1:1"),
        ("mex-total-chunks", "1"),
        ("mex-addresstype", "ALL"),
        ("mex-localid", "FA001"),
        ("mex-filename", "update-record.json"),
        ("mex-subject", SUBJECT),
        ("mex-version", "1.0"),
        ("mex-messagetype", "DATA"),
        ("mex-messageid", id.as_str()),
        ("mex-statuscode", "00"),
        ("mex-statusevent", "TRANSFER"),
        ("mex-statusdescription", "Transferred to recipient mailbox"),
        ("mex-statussuccess", "SUCCESS"),
        ("mex-content-type", "application/fhir+json"),
        ("content-type", "application/fhir+json"),
    ];
    for (name, value) in expect {
        assert_eq!(header(&resp, name), Some(value), "{name}");
    }
    assert_eq!(header(&resp, "mex-statustimestamp").unwrap().len(), 14);
    assert!(header(&resp, "last-modified").unwrap().ends_with(" UTC"));
    assert_eq!(resp.text().await.unwrap(), BODY);

    let head = s
        .req(Method::HEAD, "GPPRAC01", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "mex-messageid"), Some(id.as_str()));

    // §15.4: v2 acknowledge is an empty 200; a repeat changes nothing.
    let ack = s.ack("GPPRAC01", &id).await;
    assert_eq!(ack.status(), 200);
    assert!(ack.bytes().await.unwrap().is_empty());
    assert_eq!(s.ack("GPPRAC01", &id).await.status(), 200);
    assert!(ids(&s.inbox("GPPRAC01", "").await).is_empty());
    // Real MESH no longer serves acknowledged messages.
    let gone = s
        .req(Method::GET, "GPPRAC01", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 410);

    // §15.5
    let resp = s.track("PHARM001", &id).await;
    assert_eq!(header(&resp, "content-type"), Some(V2));
    let t = json(resp).await;
    for (k, v) in [
        ("message_id", id.as_str()),
        ("local_id", "FA001"),
        ("workflow_id", "GPCONNECT_UPDATE_RECORD"),
        ("filename", "update-record.json"),
        ("recipient", "GPPRAC01"),
        ("recipient_ods_code", "A99901"),
        ("recipient_org_code", "A99901"),
        ("status", "acknowledged"),
    ] {
        assert_eq!(t[k], v, "{k}");
    }
    assert_eq!(t["status_success"], true);
    assert!(t["expiry_time"].as_str().unwrap() > t["upload_timestamp"].as_str().unwrap());
    assert!(t.get("status_code").is_none());

    // Tracking by the recipient is a 404, not a 403.
    let resp = s.track("GPPRAC01", &id).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        json(resp).await,
        json!({"detail":[{"event":"","code":"","msg":"Not Found"}]})
    );
}

#[tokio::test]
async fn v1_shapes_without_v2_accept() {
    let s = Sim::start().await;
    let v1 =
        |m: Method, mb: &str, path: &str| s.raw(m, mb, path).header("accept", "application/json");
    let hs = v1(Method::POST, "X26ABC1", "")
        .header("mex-clientversion", "test==1")
        .header("mex-osname", "Linux")
        .header("mex-osversion", "6")
        .send()
        .await
        .unwrap();
    assert_eq!(json(hs).await, json!({"mailboxId":"X26ABC1"}));
    let resp = v1(Method::POST, "X26ABC1", "/outbox")
        .header("mex-to", "X26ABC2")
        .header("mex-workflowid", "TEST_WORKFLOW")
        .body("hello")
        .send()
        .await
        .unwrap();
    let id = json(resp).await["messageID"].as_str().unwrap().to_owned();
    let list = json(v1(Method::GET, "X26ABC2", "/inbox").send().await.unwrap()).await;
    assert_eq!(list, json!({"messages":[id]}));
    let track = json(
        v1(
            Method::GET,
            "X26ABC1",
            &format!("/outbox/tracking?messageID={id}"),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(track["status"], "Accepted");
    assert_eq!(track["messageType"], "Data");
    assert_eq!(track["statusSuccess"], "SUCCESS");
    assert_eq!(track["fileSize"], 5);
    let by_local = |local: &'static str| {
        s.raw(Method::GET, "X26ABC1", &format!("/outbox/tracking/{local}"))
            .send()
    };
    assert_eq!(
        by_local("nothing-sent-with-this").await.unwrap().status(),
        404
    );
    assert_eq!(track["sender"], "X26ABC1");
    let path = format!("/inbox/{id}/status/acknowledged");
    let ack = json(v1(Method::PUT, "X26ABC2", &path).send().await.unwrap()).await;
    assert_eq!(ack, json!({"messageId": id}));

    // Handshake: v2 is an empty 200; missing client headers are a validation error.
    let hs = s
        .req(Method::GET, "X26ABC1", "")
        .header("mex-clientversion", "test==1")
        .header("mex-osname", "Linux")
        .header("mex-osversion", "6")
        .send()
        .await
        .unwrap();
    assert_eq!(hs.status(), 200);
    assert!(hs.bytes().await.unwrap().is_empty());
    let bad = s.req(Method::POST, "X26ABC1", "").send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        json(bad).await["detail"][0]["loc"],
        json!(["header", "mex-clientversion"])
    );
}

#[tokio::test]
async fn send_validation_errors() {
    let s = Sim::start().await;
    let send = |headers: &[(&str, &str)], body: &'static str| {
        let mut r = s.req(Method::POST, "X26ABC1", "/outbox");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(body).send()
    };
    let base = [("mex-to", "X26ABC2"), ("mex-workflowid", "TEST_WORKFLOW")];
    let with = |extra: (&'static str, &'static str)| {
        let mut h = base.to_vec();
        h.retain(|(k, _)| *k != extra.0);
        h.push(extra);
        h
    };
    let long_subject: &'static str = Box::leak("x".repeat(501).into_boxed_str());
    // (request headers, body, expected status, expected error detail)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, u16, serde_json::Value);
    let cases: Vec<Case<'_>> = vec![
        (
            with(("mex-to", "NOSUCH")),
            "x",
            417,
            json!({"event":"SEND","code":"12","msg":"Unregistered to address"}),
        ),
        (
            with(("mex-to", "   ")),
            "x",
            400,
            json!({"event":"SEND","code":"08","msg":"TO_DTS missing"}),
        ),
        (
            base.to_vec(),
            "",
            417,
            json!({"event":"COLLECT","code":"02","msg":"Data file is missing or inaccessible."}),
        ),
        (
            with(("content-encoding", "br")),
            "x",
            422,
            json!({"event":"SEND","code":"UnsupportedContentEncoding","msg":"Unsupported content encoding"}),
        ),
        (
            with(("mex-chunk-range", "2:3")),
            "x",
            417,
            json!({"event":"SEND","code":"InvalidHeaderChunks","msg":"Invalid chunk values sent in mex-Chunk-Range header"}),
        ),
        (
            with(("mex-workflowid", "https://x")),
            "x",
            400,
            json!({"event":"TRANSFER","code":"06","msg":"MalformedControlFile"}),
        ),
        (
            with(("mex-subject", "a\tb")),
            "x",
            400,
            json!({"event":"TRANSFER","code":"06","msg":"MalformedControlFile"}),
        ),
        (
            with(("mex-content-checksum", "md5=abc")),
            "x",
            400,
            json!({"event":"SEND","code":"Invalid checksum","msg":"Invalid checksum"}),
        ),
        (
            vec![base[0]],
            "x",
            400,
            json!({"type":"missing","loc":["header","mex-workflowid"],"msg":"Field required"}),
        ),
        (
            vec![base[1]],
            "x",
            400,
            json!({"type":"missing","loc":["header","mex-to"],"msg":"Field required"}),
        ),
        (
            with(("mex-subject", long_subject)),
            "x",
            400,
            json!({"type":"string_too_long","loc":["header","mex-subject"],"msg":"String should have at most 500 characters","ctx":{"max_length":500}}),
        ),
    ];
    for (headers, body, status, detail) in cases {
        let resp = send(&headers, body).await.unwrap();
        assert_eq!(resp.status(), status, "{headers:?}");
        assert_eq!(
            json(resp).await,
            json!({ "detail": [detail] }),
            "{headers:?}"
        );
    }
    let resp = s
        .raw(Method::POST, "X26ABC1", "/outbox")
        .header("accept", "application/vnd.mesh.v1+json")
        .header("mex-to", "NOSUCH")
        .header("mex-workflowid", "W")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        json(resp).await,
        json!({"errorEvent":"SEND","errorCode":"12","errorDescription":"Unregistered to address"})
    );
    let resp = s
        .raw(Method::GET, "X26ABC1", "/inbox")
        .header("accept", "application/vnd.mesh.vX+json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        json(resp).await["errorDescription"],
        "Accept header api format incorrect"
    );
}
