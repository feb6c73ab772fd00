//! Chunked and gzip transfers (spec §15.7), inbox paging and workflow filters.

mod common;

use common::{Sim, gzip, header, ids, json};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn chunked_gzip_upload_and_download() {
    let s = Sim::start().await;
    let parts: [&[u8]; 3] = [b"first chunk ", b"second chunk ", b"third"];
    let resp = s
        .req(Method::POST, "X26ABC1", "/outbox")
        .header("mex-to", "X26ABC2")
        .header("mex-workflowid", "TEST_WORKFLOW")
        .header("mex-chunk-range", "1:3")
        .header("content-encoding", "gzip")
        .header("content-type", "application/octet-stream")
        .header("mex-content-type", "text/plain")
        .body(gzip(parts[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    let id = json(resp).await["message_id"].as_str().unwrap().to_owned();
    assert_eq!(
        json(s.track("X26ABC1", &id).await).await["status"],
        "uploading"
    );
    assert!(ids(&s.inbox("X26ABC2", "").await).is_empty());
    let early = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(early.status(), 410);

    let chunk = |n: u32, range: Option<&str>, gz: bool, mb: &'static str| {
        let mut r = s.req(Method::POST, mb, &format!("/outbox/{id}/{n}"));
        if let Some(range) = range {
            r = r.header("mex-chunk-range", range);
        }
        if gz {
            r = r.header("content-encoding", "gzip");
        }
        r.body(gzip(parts[(n as usize - 1).min(2)])).send()
    };
    let resp = chunk(2, None, true, "X26ABC1").await.unwrap();
    assert_eq!(resp.status(), 417);
    assert_eq!(json(resp).await["message_id"], id.as_str());
    let resp = chunk(2, Some("2:3"), false, "X26ABC1").await.unwrap();
    assert_eq!(resp.status(), 417);
    assert_eq!(
        json(resp).await,
        json!({"detail":[{"event":"","code":"","msg":"cannot change content encoding"}]})
    );
    assert_eq!(
        chunk(2, Some("2:3"), true, "X26ABC3")
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        chunk(4, Some("4:5"), true, "X26ABC1")
            .await
            .unwrap()
            .status(),
        406
    );
    let resp = chunk(2, Some("2:3"), true, "X26ABC1").await.unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(resp.text().await.unwrap(), "null");
    let resp = s
        .raw(Method::POST, "X26ABC1", &format!("/outbox/{id}/3"))
        .header("mex-chunk-range", "3:3")
        .header("content-encoding", "gzip")
        .body(gzip(parts[2]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(json(resp).await, json!({"messageID": id, "blockID": 3}));
    assert_eq!(
        chunk(3, Some("3:3"), true, "X26ABC1")
            .await
            .unwrap()
            .status(),
        423
    );
    let unknown = s
        .req(Method::POST, "X26ABC1", "/outbox/NOSUCH/2")
        .header("mex-chunk-range", "2:3")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    assert_eq!(ids(&s.inbox("X26ABC2", "").await), vec![id.clone()]);
    // No Accept-Encoding: gunzipped.
    let r1 = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r1.status(), 206);
    assert_eq!(header(&r1, "mex-chunk-range"), Some("1:3"));
    assert_eq!(header(&r1, "content-encoding"), None);
    assert_eq!(
        header(&r1, "content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(header(&r1, "mex-content-type"), Some("text/plain"));
    assert_eq!(&r1.bytes().await.unwrap()[..], parts[0]);
    // Accept-Encoding gzip: the stored bytes.
    let r2 = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}/2"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), 206);
    assert_eq!(header(&r2, "content-encoding"), Some("gzip"));
    assert_eq!(r2.bytes().await.unwrap().to_vec(), gzip(parts[1]));
    let r3 = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}/3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r3.status(), 200);
    assert_eq!(header(&r3, "mex-chunk-range"), Some("3:3"));
    assert_eq!(&r3.bytes().await.unwrap()[..], parts[2]);
    let r4 = s
        .req(Method::GET, "X26ABC2", &format!("/inbox/{id}/4"))
        .send()
        .await
        .unwrap();
    assert_eq!(r4.status(), 404);
    assert_eq!(json(r4).await["detail"][0]["code"], "20");
    let track = json(s.track("X26ABC1", &id).await).await;
    assert_eq!(track["status"], "accepted");
}

#[tokio::test]
async fn paging_with_continue_from() {
    let s = Sim::start().await;
    let mut sent = Vec::new();
    for i in 0..25 {
        sent.push(
            s.send(
                "X26ABC1",
                "X26ABC2",
                "TEST_WORKFLOW",
                format!("m{i}").as_bytes(),
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let mut query = "?max_results=10".to_owned();
    let mut pages = 0;
    loop {
        let page = s.inbox("X26ABC2", &query).await;
        assert_eq!(page["approx_inbox_count"], 25);
        assert!(
            page["links"]["self"]
                .as_str()
                .unwrap()
                .contains("max_results=10")
        );
        seen.extend(ids(&page));
        pages += 1;
        match page["links"]["next"].as_str() {
            Some(next) => {
                query = next
                    .trim_start_matches("/messageexchange/X26ABC2/inbox")
                    .into()
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, sent);
    // Acknowledging part of the first page does not disturb the cursor.
    let first = s.inbox("X26ABC2", "?max_results=10").await;
    let next = first["links"]["next"].as_str().unwrap().to_owned();
    for id in &sent[..5] {
        s.ack("X26ABC2", id).await;
    }
    let second = s
        .inbox(
            "X26ABC2",
            next.trim_start_matches("/messageexchange/X26ABC2/inbox"),
        )
        .await;
    assert_eq!(ids(&second), sent[10..20]);
    assert_eq!(second["approx_inbox_count"], 20);

    let bad = s
        .req(Method::GET, "X26ABC2", "/inbox?max_results=5")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        json(bad).await["detail"][0]["loc"],
        json!(["query", "max_results"])
    );
    let bad = s
        .req(Method::GET, "X26ABC2", "/inbox?continue_from=short")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // v1 clients page by message id.
    let v1 = s
        .raw(
            Method::GET,
            "X26ABC2",
            &format!("/inbox?max_results=10&continue_from={}", sent[14]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&json(v1).await), sent[15..25]);
}

#[tokio::test]
async fn workflow_filter_forms() {
    let s = Sim::start().await;
    let wf = [
        "GPCONNECT_UPDATE_RECORD",
        "GPCONNECT_UPDATE_RECORD_ACK",
        "TEST_WORKFLOW",
    ];
    let mut sent = Vec::new();
    for w in wf {
        sent.push(s.send("X26ABC1", "X26ABC2", w, b"x").await);
    }
    let cases: [(&str, &[usize]); 7] = [
        ("GPCONNECT_UPDATE_RECORD", &[0]),
        ("!GPCONNECT_UPDATE_RECORD", &[1, 2]),
        ("GPCONNECT*", &[0, 1]),
        ("!GPCONNECT*", &[2]),
        ("*_ACK*", &[1]),
        ("!*_ACK*", &[0, 2]),
        ("*UPDATE*", &[0, 1]),
    ];
    for (filter, want) in cases {
        let q = format!(
            "?workflow_filter={}",
            filter.replace('*', "%2A").replace('!', "%21")
        );
        let page = s.inbox("X26ABC2", &q).await;
        let want: Vec<String> = want.iter().map(|&i| sent[i].clone()).collect();
        assert_eq!(ids(&page), want, "{filter}");
        assert_eq!(page["approx_inbox_count"], 3);
    }
    let page = s.inbox("X26ABC2", "?workflow_filter=*_ACK*").await;
    assert_eq!(
        page["links"]["self"],
        "/messageexchange/X26ABC2/inbox?workflow_filter=%2A_ACK%2A"
    );
}
