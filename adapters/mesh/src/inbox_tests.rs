//! Unit tests of listing, paging and acknowledgement against the scripted server.

use reqwest::header::HeaderValue;

use super::*;
use crate::test_server::{json, serve};

#[tokio::test]
async fn list_follows_next_links_and_dedupes() {
    let server = serve(|req, _| {
        if req.uri.contains("continue_from=page2") {
            json(200, r#"{"messages":["C","D"],"links":{"self":"x"},"approx_inbox_count":4}"#)
        } else {
            json(
                200,
                r#"{"messages":["A","B","C"],"links":{"self":"x","next":"/messageexchange/X26ABC1/inbox?max_results=10&continue_from=page2"},"approx_inbox_count":4}"#,
            )
        }
    })
    .await;
    let client = server.client(|_| {});
    let ids = client
        .list_inbox_with(Some("*_ACK*"), Some(10))
        .await
        .unwrap();
    assert_eq!(ids, ["A", "B", "C", "D"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        requests[0].uri,
        "/messageexchange/X26ABC1/inbox?max_results=10&workflow_filter=*_ACK*"
    );
    assert_eq!(
        requests[1].uri,
        "/messageexchange/X26ABC1/inbox?max_results=10&continue_from=page2"
    );

    let page = client.list_inbox_page(None, None).await.unwrap();
    assert_eq!(page.approx_inbox_count, Some(4));
    assert!(page.next.is_some());
    assert_eq!(server.requests()[2].uri, "/messageexchange/X26ABC1/inbox");
}

#[tokio::test]
async fn list_retries_server_errors_with_fresh_tokens() {
    let server = serve(|_, index| match index {
        0 => json(503, r#"{"message":"busy"}"#),
        1 => json(429, ""),
        _ => json(
            200,
            r#"{"messages":["A"],"links":{"self":"x"},"approx_inbox_count":1}"#,
        ),
    })
    .await;
    let ids = server.client(|_| {}).list_inbox(None).await.unwrap();
    assert_eq!(ids, ["A"]);
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    let tokens: Vec<_> = requests
        .iter()
        .map(|r| r.header("authorization").unwrap())
        .collect();
    assert!(tokens[0] != tokens[1] && tokens[1] != tokens[2]);
    for r in &requests {
        let accepts: Vec<_> = r.headers.get_all("accept").iter().collect();
        assert_eq!(
            accepts,
            [HeaderValue::from_static("application/vnd.mesh.v2+json")]
        );
    }
}

#[tokio::test]
async fn list_gives_up_on_non_retryable_errors() {
    let server = serve(|_, _| {
        json(
            400,
            r#"{"detail":[{"type":"x","loc":["query","max_results"],"msg":"too small"}]}"#,
        )
    })
    .await;
    let err = server
        .client(|_| {})
        .list_inbox_with(None, Some(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, MeshError::Status { status: 400, .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("query max_results: too small"),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn next_links_resolve_on_our_server_only() {
    let server = serve(|_, _| json(200, "{}")).await;
    let client = server.client(|c| c.base_url = format!("{}/mesh/", c.base_url));
    let url = client
        .resolve_link("/messageexchange/X26ABC1/inbox?continue_from=z")
        .unwrap();
    assert_eq!(url.path(), "/mesh/messageexchange/X26ABC1/inbox");
    assert_eq!(url.query(), Some("continue_from=z"));
    let url = client
        .resolve_link("/mesh/messageexchange/X26ABC1/inbox")
        .unwrap();
    assert_eq!(url.path(), "/mesh/messageexchange/X26ABC1/inbox");
    let err = client.resolve_link("https://evil.example/messageexchange/X26ABC1/inbox");
    assert!(matches!(err, Err(MeshError::Protocol(_))));
}

#[tokio::test]
async fn acknowledge_puts_status_with_empty_body() {
    let server = serve(|_, _| (200, vec![], vec![])).await;
    server.client(|_| {}).acknowledge("MSG1").await.unwrap();
    let r = &server.requests()[0];
    assert_eq!(r.method, reqwest::Method::PUT);
    assert_eq!(
        r.uri,
        "/messageexchange/X26ABC1/inbox/MSG1/status/acknowledged"
    );
    assert_eq!(r.header("content-length"), Some("0"));
}
