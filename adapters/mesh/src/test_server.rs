//! A scripted HTTP server for unit tests: records every request and answers through a closure,
//! so client behaviour (headers, retries, paging, chunking) can be checked without a sandbox.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use gateway_core::Secret;

use crate::{MeshClient, MeshClientConfig};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub(crate) method: Method,
    pub(crate) uri: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Status, headers and body of a scripted answer.
pub(crate) type Reply = (u16, Vec<(&'static str, String)>, Vec<u8>);

pub(crate) struct TestServer {
    pub(crate) base: String,
    pub(crate) requests: Arc<Mutex<Vec<Recorded>>>,
}

impl TestServer {
    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub(crate) fn client(&self, configure: impl FnOnce(&mut MeshClientConfig)) -> MeshClient {
        let mut cfg = MeshClientConfig::new(
            self.base.as_str(),
            "X26ABC1",
            Secret::new("password"),
            Secret::new("TestKey"),
        );
        configure(&mut cfg);
        MeshClient::new(cfg).unwrap()
    }
}

/// Serves `handler(request, index of the request)` on an ephemeral loopback port.
pub(crate) async fn serve<F>(handler: F) -> TestServer
where
    F: Fn(&Recorded, usize) -> Reply + Send + Sync + 'static,
{
    let requests = Arc::new(Mutex::new(Vec::new()));
    let handler = Arc::new(handler);
    let seen = requests.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let (handler, seen) = (handler.clone(), seen.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
            let recorded = Recorded {
                method: parts.method,
                uri: parts.uri.to_string(),
                headers: parts.headers,
                body,
            };
            let index = {
                let mut seen = seen.lock().unwrap();
                seen.push(recorded.clone());
                seen.len() - 1
            };
            let (status, headers, body) = handler(&recorded, index);
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response.body(Body::from(body)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer { base, requests }
}

/// A JSON reply.
pub(crate) fn json(status: u16, body: &str) -> Reply {
    (
        status,
        vec![("content-type", "application/vnd.mesh.v2+json".to_owned())],
        body.into(),
    )
}
