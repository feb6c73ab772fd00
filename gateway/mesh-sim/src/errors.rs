//! Error types: the public start-up error and the MESH API error bodies (v1, v2, validation and
//! the generic detail-less shape), rendered once the requested API version is known.

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::headers::error_api_version;

/// Errors from starting the simulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// Address that was asked for.
        addr: std::net::SocketAddr,
        /// Underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bound socket did not report its address.
    #[error("cannot read the bound address")]
    LocalAddr(#[source] std::io::Error),
}

pub(crate) const JSON: &str = "application/json";
pub(crate) const V2_JSON: &str = "application/vnd.mesh.v2+json";
const INTERNAL_MESSAGE: &str = "An internal error occurred.\n\nPlease contact support.";

/// An API failure; its body shape depends on the caller's `Accept`, so it is carried to
/// [`render_errors`] in the response extensions and rendered there.
#[derive(Clone, Debug)]
pub(crate) enum ApiError {
    /// MESH error with event/code/description (codes empty when MESH has none).
    Mesh(Box<MeshError>),
    /// Request validation failure (missing or too long header, bad query value): HTTP 400.
    Validation(Vec<ValidationItem>),
    /// Error without detail (423, 406, 500): the generic support body with this status.
    Generic(StatusCode),
}

/// The parts of a MESH error body.
#[derive(Clone, Debug)]
pub(crate) struct MeshError {
    pub(crate) status: StatusCode,
    pub(crate) event: &'static str,
    pub(crate) code: Cow<'static, str>,
    pub(crate) msg: Cow<'static, str>,
    pub(crate) message_id: Option<String>,
}

/// One item of a validation error (`type`, `loc`, `msg`, optional `ctx`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct ValidationItem {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    pub(crate) loc: (&'static str, String),
    pub(crate) msg: String,
    /// The offending value; only set for values that cannot carry patient data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) input: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) ctx: Option<serde_json::Value>,
}

impl ValidationItem {
    pub(crate) fn missing(place: &'static str, name: &str) -> Self {
        Self {
            kind: "missing",
            loc: (place, name.to_owned()),
            msg: "Field required".into(),
            input: None,
            ctx: None,
        }
    }

    pub(crate) fn too_long(place: &'static str, name: &str, max: usize) -> Self {
        Self {
            kind: "string_too_long",
            loc: (place, name.to_owned()),
            msg: format!("String should have at most {max} characters"),
            input: None,
            ctx: Some(serde_json::json!({ "max_length": max })),
        }
    }

    pub(crate) fn too_short(place: &'static str, name: &str, min: usize) -> Self {
        Self {
            kind: "string_too_short",
            loc: (place, name.to_owned()),
            msg: format!("String should have at least {min} characters"),
            input: None,
            ctx: Some(serde_json::json!({ "min_length": min })),
        }
    }

    pub(crate) fn other(place: &'static str, name: &str, kind: &'static str, msg: &str) -> Self {
        Self {
            kind,
            loc: (place, name.to_owned()),
            msg: msg.to_owned(),
            input: None,
            ctx: None,
        }
    }
}

impl ApiError {
    pub(crate) fn mesh(
        status: StatusCode,
        event: &'static str,
        code: impl Into<Cow<'static, str>>,
        msg: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self::Mesh(Box::new(MeshError {
            status,
            event,
            code: code.into(),
            msg: msg.into(),
            message_id: None,
        }))
    }

    /// An error MESH reports without event or code (auth failures, "Not Found", ...).
    pub(crate) fn plain(status: StatusCode, msg: impl Into<Cow<'static, str>>) -> Self {
        Self::mesh(status, "", "", msg)
    }

    /// Adds the `message_id` / `messageID` field.
    pub(crate) fn with_message_id(mut self, id: &str) -> Self {
        if let Self::Mesh(e) = &mut self {
            e.message_id = Some(id.to_owned());
        }
        self
    }

    pub(crate) fn forbidden() -> Self {
        Self::plain(StatusCode::FORBIDDEN, "Forbidden")
    }

    pub(crate) fn not_found() -> Self {
        Self::plain(StatusCode::NOT_FOUND, "Not Found")
    }

    /// Code 20: unknown message id (or chunk) on download / acknowledge.
    pub(crate) fn no_such_message() -> Self {
        Self::mesh(
            StatusCode::NOT_FOUND,
            "RECEIVE",
            "20",
            "Message does not exist",
        )
    }

    /// 410 for a message that is not (or no longer) downloadable.
    pub(crate) fn gone() -> Self {
        Self::mesh(
            StatusCode::GONE,
            "SEND",
            "Message already accepted",
            "Message no longer available for download",
        )
    }

    pub(crate) fn invalid_chunks() -> Self {
        Self::mesh(
            StatusCode::EXPECTATION_FAILED,
            "SEND",
            "InvalidHeaderChunks",
            "Invalid chunk values sent in mex-Chunk-Range header",
        )
    }

    pub(crate) fn validation(item: ValidationItem) -> Self {
        Self::Validation(vec![item])
    }

    /// Renders the body for API version `version` (1 = v1 shapes, 2+ = v2 shapes).
    pub(crate) fn render(self, version: u32) -> Response {
        match self {
            Self::Mesh(e) if version >= 2 => {
                let body = V2Body {
                    message_id: e.message_id.as_deref(),
                    detail: [V2Detail {
                        event: e.event,
                        code: &e.code,
                        msg: &e.msg,
                    }],
                };
                json_response(e.status, V2_JSON, &body)
            }
            Self::Mesh(e) => {
                let body = V1Body {
                    message_id: e.message_id.as_deref(),
                    event: e.event,
                    code: &e.code,
                    description: &e.msg,
                };
                json_response(e.status, JSON, &body)
            }
            Self::Validation(detail) => {
                json_response(StatusCode::BAD_REQUEST, JSON, &ValidationBody { detail })
            }
            Self::Generic(status) => json_response(
                status,
                JSON,
                &serde_json::json!({ "message": INTERNAL_MESSAGE }),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

/// Middleware: renders an [`ApiError`] left in the response in the caller's API version.
pub(crate) async fn render_errors(req: Request, next: Next) -> Response {
    let version = error_api_version(req.headers());
    let mut resp = next.run(req).await;
    match resp.extensions_mut().remove::<ApiError>() {
        Some(err) => err.render(version),
        None => resp,
    }
}

#[derive(Serialize)]
struct ValidationBody {
    detail: Vec<ValidationItem>,
}

#[derive(Serialize)]
struct V2Body<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    detail: [V2Detail<'a>; 1],
}

#[derive(Serialize)]
struct V2Detail<'a> {
    event: &'a str,
    code: &'a str,
    msg: &'a str,
}

#[derive(Serialize)]
struct V1Body<'a> {
    #[serde(rename = "messageID", skip_serializing_if = "Option::is_none")]
    message_id: Option<&'a str>,
    #[serde(rename = "errorEvent")]
    event: &'a str,
    #[serde(rename = "errorCode")]
    code: &'a str,
    #[serde(rename = "errorDescription")]
    description: &'a str,
}

/// Serialises `body` as JSON with the given status and content type.
pub(crate) fn json_response<T: Serialize + ?Sized>(
    status: StatusCode,
    content_type: &'static str,
    body: &T,
) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => {
            let mut resp = (status, bytes).into_response();
            resp.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
            resp
        }
        // Serialising plain structs cannot fail; answer like MESH's internal error just in case.
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_json(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn v1_and_v2_shapes() {
        let err = ApiError::mesh(StatusCode::EXPECTATION_FAILED, "SEND", "12", "Unregistered");
        let v2 = err.clone().render(2);
        assert_eq!(v2.headers()[header::CONTENT_TYPE], V2_JSON);
        assert_eq!(
            body_json(v2).await,
            serde_json::json!({"detail":[{"event":"SEND","code":"12","msg":"Unregistered"}]})
        );
        let v1 = err.with_message_id("ABC").render(1);
        assert_eq!(v1.status(), StatusCode::EXPECTATION_FAILED);
        assert_eq!(
            body_json(v1).await,
            serde_json::json!({"messageID":"ABC","errorEvent":"SEND","errorCode":"12",
                               "errorDescription":"Unregistered"})
        );
    }

    #[tokio::test]
    async fn validation_and_generic_shapes() {
        let v = ApiError::validation(ValidationItem::missing("header", "mex-to")).render(2);
        assert_eq!(v.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            body_json(v).await,
            serde_json::json!({"detail":[{"type":"missing","loc":["header","mex-to"],
                                          "msg":"Field required"}]})
        );
        let g = ApiError::Generic(StatusCode::LOCKED).render(2);
        assert_eq!(g.status(), StatusCode::LOCKED);
        assert!(
            body_json(g).await["message"]
                .as_str()
                .unwrap()
                .contains("internal error")
        );
    }
}
