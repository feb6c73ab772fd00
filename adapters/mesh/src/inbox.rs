//! Receiving: list (following `links.next`) and acknowledge; downloads are in `download.rs`.

use std::collections::HashSet;

use reqwest::header::CONTENT_LENGTH;
use reqwest::{Method, Url};
use serde::Deserialize;
use tracing::debug;

use crate::{MeshClient, MeshError};

/// Upper bound on pages followed in one listing, so a server that keeps handing out `next`
/// links cannot keep us looping.
const MAX_PAGES: usize = 10_000;

/// One page of inbox ids.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboxPage {
    /// Message ids on this page, oldest first.
    pub messages: Vec<String>,
    /// `links.next`, present when more ids are waiting (pass to [`MeshClient::list_inbox_next`]).
    pub next: Option<String>,
    /// `approx_inbox_count` (approximate on real MESH).
    pub approx_inbox_count: Option<u64>,
}

#[derive(Deserialize)]
struct RawPage {
    #[serde(default)]
    messages: Vec<String>,
    links: Option<Links>,
    approx_inbox_count: Option<u64>,
}

#[derive(Deserialize)]
struct Links {
    next: Option<String>,
}

impl MeshClient {
    /// Ids of all messages waiting in our inbox, following `links.next` to the end.
    ///
    /// `workflow_filter`: `WF`, `!WF`, `WF*`, `*WF*` ... (close "contains" filters with `*`).
    ///
    /// # Errors
    ///
    /// As any call; [`MeshError::Protocol`] for an unreadable page or a `next` link to another
    /// host.
    pub async fn list_inbox(
        &self,
        workflow_filter: Option<&str>,
    ) -> Result<Vec<String>, MeshError> {
        self.list_inbox_with(workflow_filter, None).await
    }

    /// Like [`MeshClient::list_inbox`], asking for pages of `max_results` ids (MESH: 10–5000).
    ///
    /// # Errors
    ///
    /// As [`MeshClient::list_inbox`].
    pub async fn list_inbox_with(
        &self,
        workflow_filter: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<Vec<String>, MeshError> {
        let mut page = self.list_inbox_page(workflow_filter, max_results).await?;
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        for pages in 1.. {
            // Real MESH lists are eventually consistent; an id may show up on two pages.
            ids.extend(
                page.messages
                    .into_iter()
                    .filter(|id| seen.insert(id.clone())),
            );
            let Some(next) = page.next else { break };
            if pages >= MAX_PAGES {
                return Err(MeshError::Protocol(format!(
                    "inbox paging exceeded {MAX_PAGES} pages"
                )));
            }
            page = self.list_inbox_next(&next).await?;
        }
        Ok(ids)
    }

    /// The first inbox page only.
    ///
    /// # Errors
    ///
    /// As [`MeshClient::list_inbox`].
    pub async fn list_inbox_page(
        &self,
        workflow_filter: Option<&str>,
        max_results: Option<u32>,
    ) -> Result<InboxPage, MeshError> {
        let mut url = self.url(&["inbox"])?;
        {
            let mut query = url.query_pairs_mut();
            if let Some(max) = max_results {
                query.append_pair("max_results", &max.to_string());
            }
            if let Some(filter) = workflow_filter {
                query.append_pair("workflow_filter", filter);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        self.fetch_page(url).await
    }

    /// The page behind a `links.next` value (a path, or an absolute URL on the same server).
    ///
    /// # Errors
    ///
    /// As [`MeshClient::list_inbox`].
    pub async fn list_inbox_next(&self, next: &str) -> Result<InboxPage, MeshError> {
        self.fetch_page(self.resolve_link(next)?).await
    }

    async fn fetch_page(&self, url: Url) -> Result<InboxPage, MeshError> {
        let body = self
            .with_retry("list_inbox", |_| async {
                let response = self
                    .execute("list_inbox", self.request(Method::GET, url.clone()))
                    .await?;
                self.body("list_inbox", response).await
            })
            .await?;
        let raw: RawPage = serde_json::from_slice(&body)
            .map_err(|e| MeshError::Protocol(format!("inbox list is not valid: {e}")))?;
        Ok(InboxPage {
            messages: raw.messages,
            next: raw.links.and_then(|l| l.next).filter(|n| !n.is_empty()),
            approx_inbox_count: raw.approx_inbox_count,
        })
    }

    /// Resolves a server link against our base URL, keeping any base path prefix and refusing
    /// other hosts (the request would carry our token there).
    pub(crate) fn resolve_link(&self, link: &str) -> Result<Url, MeshError> {
        let base = &self.inner.base;
        let prefix = base.path().trim_end_matches('/');
        let joined = if link.starts_with('/') && !prefix.is_empty() && !link.starts_with(prefix) {
            base.join(&format!("{prefix}{link}"))
        } else {
            base.join(link)
        };
        let url = joined.map_err(|e| MeshError::Protocol(format!("bad inbox next link: {e}")))?;
        if url.origin() != base.origin() {
            return Err(MeshError::Protocol(
                "inbox next link points to another server".to_owned(),
            ));
        }
        Ok(url)
    }

    /// Acknowledges a downloaded message, removing it from the inbox list. Repeating is harmless.
    ///
    /// # Errors
    ///
    /// [`MeshError::Status`] 404 (code `20`) for unknown ids; [`MeshError::Auth`] when the message
    /// is not ours.
    pub async fn acknowledge(&self, message_id: &str) -> Result<(), MeshError> {
        let url = self.url(&["inbox", message_id, "status", "acknowledged"])?;
        self.with_retry("acknowledge", |_| async {
            // Some proxies answer 411 to a PUT without Content-Length; hyper omits it when empty.
            let rb = self
                .request(Method::PUT, url.clone())
                .header(CONTENT_LENGTH, "0");
            self.execute("acknowledge", rb).await.map(drop)
        })
        .await?;
        debug!(mailbox = %self.mailbox_id(), message_id, "MESH message acknowledged.");
        Ok(())
    }
}

#[cfg(test)]
#[path = "inbox_tests.rs"]
mod tests;
