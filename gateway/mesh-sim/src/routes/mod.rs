//! HTTP routes of the simulated MESH API (spec §2) and helpers shared by the handlers.

mod admin;
mod download;
mod inbox;
mod misc;
mod outbox;
mod tracking;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Uri;
use axum::routing::{delete, get, post, put};

use crate::errors::{ApiError, ValidationItem, render_errors};
use crate::sim::Sim;

/// Shared handler state.
pub(crate) type AppState = Arc<Sim>;

/// Real MESH refuses requests above 100 MB (larger messages are chunked); a little headroom
/// keeps a full 100 MiB chunk acceptable.
const MAX_REQUEST_BYTES: usize = 101 * 1024 * 1024;

/// Builds the router over `sim`.
pub(crate) fn build(sim: AppState) -> Router {
    let mx = "/messageexchange";
    Router::new()
        .route(
            &format!("{mx}/{{mb}}"),
            get(misc::handshake).post(misc::handshake),
        )
        .route(&format!("{mx}/{{mb}}/update"), post(misc::update))
        .route(&format!("{mx}/{{mb}}/count"), get(inbox::count))
        .route(&format!("{mx}/{{mb}}/inbox"), get(inbox::list))
        .route(
            &format!("{mx}/{{mb}}/inbox/{{id}}"),
            get(download::message).head(download::head),
        )
        .route(
            &format!("{mx}/{{mb}}/inbox/{{id}}/{{chunk}}"),
            get(download::chunk),
        )
        .route(
            &format!("{mx}/{{mb}}/inbox/{{id}}/status/acknowledged"),
            put(download::acknowledge),
        )
        .route(&format!("{mx}/{{mb}}/outbox"), post(outbox::send))
        .route(
            &format!("{mx}/{{mb}}/outbox/{{id}}/{{chunk}}"),
            post(outbox::upload_chunk),
        )
        .route(
            &format!("{mx}/{{mb}}/outbox/tracking"),
            get(tracking::by_message_id),
        )
        .route(
            &format!("{mx}/{{mb}}/outbox/tracking/{{local_id}}"),
            get(tracking::by_local_id),
        )
        .route(
            &format!("{mx}/endpointlookup/{{ods}}/{{workflow}}"),
            get(misc::endpoint_lookup),
        )
        .route("/health", get(misc::health))
        .route("/_ping", get(misc::health))
        .route("/_status", get(misc::health))
        .route("/healthcheck", get(misc::health))
        .route(&format!("{mx}/_ping"), get(misc::health))
        .route(&format!("{mx}/deepping"), get(misc::health))
        .route("/admin/reset", delete(admin::reset))
        .route(&format!("{mx}/admin/reset"), delete(admin::reset))
        .route("/admin/reset/{mb}", delete(admin::reset_mailbox))
        .route(
            &format!("{mx}/admin/reset/{{mb}}"),
            delete(admin::reset_mailbox),
        )
        .route(&format!("{mx}/admin/report"), post(admin::report))
        .route("/admin/message/{id}/event", post(admin::message_event))
        .route(
            &format!("{mx}/admin/message/{{id}}/event"),
            post(admin::message_event),
        )
        .layer(axum::middleware::from_fn(render_errors))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(sim)
}

/// Query parameters in order, decoded; a malformed query string is a validation error.
pub(crate) fn query_pairs(uri: &Uri) -> Result<Vec<(String, String)>, ApiError> {
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| {
            ApiError::validation(ValidationItem::other(
                "query",
                "",
                "value_error",
                "Invalid query string",
            ))
        })
}

/// First value of query parameter `name`.
pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Parses a chunk number from the path; FastAPI answers a non-integer with a validation error.
pub(crate) fn chunk_number(text: &str) -> Result<i64, ApiError> {
    text.trim().parse::<i64>().map_err(|_| {
        ApiError::validation(ValidationItem::other(
            "path",
            "chunk_number",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ))
    })
}

/// Python `urllib.parse.quote_plus`, for the paging links.
pub(crate) fn quote_plus(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_plus_matches_python() {
        assert_eq!(quote_plus("*_ACK*"), "%2A_ACK%2A");
        assert_eq!(quote_plus("!A B"), "%21A+B");
        assert_eq!(quote_plus("é"), "%C3%A9");
    }

    #[test]
    fn query_parsing() {
        let uri: Uri = "/x?workflow_filter=%2A_ACK%2A&max_results=10&max_results=20"
            .parse()
            .unwrap();
        let pairs = query_pairs(&uri).unwrap();
        assert_eq!(query_value(&pairs, "workflow_filter"), Some("*_ACK*"));
        assert_eq!(query_value(&pairs, "max_results"), Some("10"));
        assert!(chunk_number("x").is_err());
        assert_eq!(chunk_number("3").unwrap(), 3);
    }
}
