//! Authentication failures (spec §15.8) and who may see which message (spec §2 access rules).

mod common;

use common::{Sim, V2, header, json, token};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn token_rejections() {
    let s = Sim::start().await;
    let get = |auth: Option<String>, accept: &str| {
        let mut r = s
            .http
            .get(s.url("/messageexchange/PHARM001/inbox"))
            .header("accept", accept);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let cases = [
        (
            Some(token("PHARM001", "wrong", 0)),
            "Invalid Authentication Token",
        ),
        (
            Some(token("GPPRAC01", "gpprac01-pass", 0)),
            "Mailbox id does not match token",
        ),
        (None, "Error reading from Authorization header"),
        (
            Some("NHSMESH PHARM001:n:abc:202501011200:00".into()),
            "Error reading from Authorization header",
        ),
    ];
    for (auth, msg) in cases {
        let resp = get(auth, V2).await.unwrap();
        assert_eq!(resp.status(), 403);
        assert_eq!(header(&resp, "content-type"), Some(V2));
        assert_eq!(
            json(resp).await,
            json!({"detail":[{"event":"","code":"","msg":msg}]})
        );
    }
    let resp = get(Some(token("PHARM001", "wrong", 0)), "application/json")
        .await
        .unwrap();
    assert_eq!(
        json(resp).await,
        json!({"errorEvent":"","errorCode":"","errorDescription":"Invalid Authentication Token"})
    );
    let resp = s
        .http
        .get(s.url("/messageexchange/NOSUCH/inbox"))
        .header("authorization", token("NOSUCH", "password", 0))
        .header("accept", V2)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        json(resp).await,
        json!({"detail":[{"event":"SEND","code":"EPL-151","msg":"No mailbox matched"}]})
    );
}

#[tokio::test]
async fn access_rules() {
    let s = Sim::start().await;
    let id = s.send("X26ABC1", "X26ABC2", "TEST_WORKFLOW", b"x").await;
    let get = |mb: &'static str, path: String| s.req(Method::GET, mb, &path).send();
    let resp = get("X26ABC3", format!("/inbox/{id}")).await.unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        json(resp).await,
        json!({"detail":[{"event":"","code":"","msg":"Forbidden"}]})
    );
    assert_eq!(s.ack("X26ABC3", &id).await.status(), 403);
    let resp = s.ack("X26ABC2", "NOSUCHID").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(
        json(resp).await,
        json!({"detail":[{"event":"RECEIVE","code":"20","msg":"Message does not exist"}]})
    );
    // HEAD: the sender may look, a stranger gets 404.
    let head = |mb: &'static str| s.req(Method::HEAD, mb, &format!("/inbox/{id}")).send();
    assert_eq!(head("X26ABC1").await.unwrap().status(), 200);
    assert_eq!(head("X26ABC3").await.unwrap().status(), 404);
    let count = json(get("X26ABC2", "/count".into()).await.unwrap()).await;
    assert_eq!(count, json!({"count": 1}));
}
