//! The message store. Everything mutable sits in one [`Store`] behind a `std` mutex (see
//! [`crate::sim::Sim`]) held only for map operations (never across `.await`, never while hashing,
//! compressing or serialising): sends are O(1) and inbox pages are B-tree range scans from a
//! cursor, so cost does not grow with inbox size (the sandbox rescans the inbox on every send,
//! spec §13.2).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::message::{ErrorEvent, Kind, Message, Meta, Status};

/// Finished (acknowledged or failed) messages kept for tracking before the oldest are dropped;
/// bounds memory during long load tests. Real MESH keeps them 30 days.
const RETAINED_FINISHED: usize = 100_000;

/// One page of an inbox listing.
#[derive(Debug, Default)]
pub(crate) struct Page {
    pub(crate) ids: Vec<Arc<str>>,
    /// Cursor for the next page (sequence of the last id returned) when more match.
    pub(crate) next_after: Option<u64>,
    /// Messages waiting in the inbox, unfiltered.
    pub(crate) count: usize,
}

/// All messages and the per-mailbox inbox order.
#[derive(Debug, Default)]
pub(crate) struct Store {
    messages: HashMap<Arc<str>, Message>,
    /// Accepted, unacknowledged messages per recipient, keyed by acceptance sequence.
    inboxes: HashMap<String, BTreeMap<u64, Arc<str>>>,
    next_seq: u64,
    id_counter: u32,
    finished: VecDeque<Arc<str>>,
}

impl Store {
    /// A new message id in real MESH format `yyyyMMddHHmmssffffff_XXXXXX`; the suffix is a
    /// counter, so ids are unique without randomness on the hot path.
    pub(crate) fn new_id(&mut self, now: DateTime<Utc>) -> Arc<str> {
        loop {
            self.id_counter = self.id_counter.wrapping_add(1);
            let id = format!(
                "{}_{:06X}",
                now.format("%Y%m%d%H%M%S%6f"),
                self.id_counter & 0xFF_FFFF
            );
            if !self.messages.contains_key(id.as_str()) {
                return Arc::from(id);
            }
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Message> {
        self.messages.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut Message> {
        self.messages.get_mut(id)
    }

    /// Stores a message (status uploading); [`Store::complete`] makes it deliverable.
    pub(crate) fn insert(&mut self, msg: Message) {
        self.messages.insert(msg.id.clone(), msg);
    }

    /// Upload finished: deliver to the recipient's inbox, or, when routing failed, mark the
    /// message failed and put an error REPORT into the sender's inbox.
    pub(crate) fn complete(&mut self, id: &str, now: DateTime<Utc>) {
        let Some(msg) = self.messages.get_mut(id) else {
            return;
        };
        msg.file_size = msg.chunks.iter().flatten().map(|c| c.len() as u64).sum();
        let Some(failure) = msg.routing_failure else {
            msg.status = Status::Accepted;
            msg.accepted_at = Some(now);
            msg.last_event = now;
            self.add_to_inbox(id);
            return;
        };
        let linked = msg.id.to_string();
        let error = ErrorEvent {
            event: "SEND".to_owned(),
            code: failure.code.to_owned(),
            description: failure.description.to_owned(),
            linked_message_id: Some(linked.clone()),
            at: now,
        };
        msg.status = Status::Error;
        msg.error = Some(error.clone());
        msg.last_event = now;
        // Bodies of undeliverable messages are never served; free them at once.
        msg.chunks = Vec::new();
        let (sender, workflow, meta) = (
            msg.sender.clone(),
            msg.workflow_id.clone(),
            msg.meta.clone(),
        );
        let report_meta = Meta {
            subject: meta.subject,
            local_id: meta.local_id,
            file_name: meta.file_name,
            partner_id: meta.partner_id,
            ..Meta::default()
        };
        self.add_report(&sender, &workflow, report_meta, error, now);
        self.retire(Arc::from(linked));
    }

    /// Puts a REPORT (empty body, `error` as its status) into `mailbox`'s inbox.
    pub(crate) fn add_report(
        &mut self,
        mailbox: &str,
        workflow: &str,
        meta: Meta,
        error: ErrorEvent,
        now: DateTime<Utc>,
    ) -> Arc<str> {
        let id = self.new_id(now);
        let mut report = Message::new(id.clone(), Kind::Report, now);
        report.recipient = mailbox.to_owned();
        report.workflow_id = workflow.to_owned();
        report.meta = meta;
        report.total_chunks = 0;
        report.status = Status::Accepted;
        report.accepted_at = Some(now);
        report.error = Some(error);
        self.messages.insert(id.clone(), report);
        self.add_to_inbox(&id);
        id
    }

    /// Recipient acknowledgement: leaves the inbox and frees the body (real MESH no longer
    /// serves acknowledged messages). Repeats are no-ops.
    pub(crate) fn acknowledge(&mut self, id: &str, now: DateTime<Utc>) {
        let Some(msg) = self.messages.get_mut(id) else {
            return;
        };
        if msg.status != Status::Accepted {
            return;
        }
        msg.status = Status::Acknowledged;
        msg.acknowledged_at = Some(now);
        msg.last_event = now;
        msg.chunks = Vec::new();
        let key = msg.id.clone();
        self.remove_from_inbox(id);
        self.retire(key);
    }

    /// Admin status event (spec §9.4): any status, optionally with error details.
    pub(crate) fn set_status(
        &mut self,
        id: &str,
        status: Status,
        error: Option<ErrorEvent>,
        now: DateTime<Utc>,
    ) -> bool {
        let Some(msg) = self.messages.get_mut(id) else {
            return false;
        };
        let was = msg.status;
        msg.status = status;
        msg.last_event = now;
        if error.is_some() {
            msg.error = error;
        }
        match status {
            Status::Accepted if was != Status::Accepted => {
                msg.accepted_at = Some(now);
                self.add_to_inbox(id);
            }
            Status::Accepted => {}
            Status::Acknowledged => {
                msg.acknowledged_at = Some(now);
                self.remove_from_inbox(id);
            }
            _ => self.remove_from_inbox(id),
        }
        true
    }

    fn add_to_inbox(&mut self, id: &str) {
        let Some(msg) = self.messages.get_mut(id) else {
            return;
        };
        self.next_seq += 1;
        msg.inbox_seq = Some(self.next_seq);
        self.inboxes
            .entry(msg.recipient.clone())
            .or_default()
            .insert(self.next_seq, msg.id.clone());
    }

    fn remove_from_inbox(&mut self, id: &str) {
        let Some(msg) = self.messages.get(id) else {
            return;
        };
        if let (Some(seq), Some(inbox)) = (msg.inbox_seq, self.inboxes.get_mut(&msg.recipient)) {
            inbox.remove(&seq);
        }
    }

    /// Remembers a finished message and drops the oldest beyond the retention limit.
    fn retire(&mut self, id: Arc<str>) {
        self.finished.push_back(id);
        while self.finished.len() > RETAINED_FINISHED {
            let Some(old) = self.finished.pop_front() else {
                break;
            };
            let done = self
                .messages
                .get(&old)
                .is_some_and(|m| !matches!(m.status, Status::Accepted | Status::Uploading));
            if done {
                self.messages.remove(&old);
            }
        }
    }

    /// Inbox sequence of message `id` if it was delivered to `mailbox` (v1 paging by id).
    pub(crate) fn seq_of(&self, mailbox: &str, id: &str) -> Option<u64> {
        self.messages
            .get(id)
            .filter(|m| m.recipient == mailbox)
            .and_then(|m| m.inbox_seq)
    }

    /// Messages `mailbox` sent that it can still track.
    pub(crate) fn sent_by<'a>(&'a self, mailbox: &'a str) -> impl Iterator<Item = &'a Message> {
        self.messages
            .values()
            .filter(move |m| m.sender == mailbox && m.outbox_visible)
    }

    pub(crate) fn inbox_count(&self, mailbox: &str) -> usize {
        self.inboxes.get(mailbox).map_or(0, BTreeMap::len)
    }

    /// Up to `max` waiting ids after cursor `after`, oldest first, whose workflow passes `keep`.
    pub(crate) fn list(
        &self,
        mailbox: &str,
        after: Option<u64>,
        keep: Option<&dyn Fn(&str) -> bool>,
        max: usize,
    ) -> Page {
        let Some(inbox) = self.inboxes.get(mailbox) else {
            return Page::default();
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut page = Page {
            ids: Vec::with_capacity(max.min(inbox.len())),
            next_after: None,
            count: inbox.len(),
        };
        let mut last = None;
        for (seq, id) in inbox.range((start, Bound::Unbounded)) {
            if let Some(keep) = keep {
                let workflow = self.messages.get(id).map_or("", |m| m.workflow_id.as_str());
                if !keep(workflow) {
                    continue;
                }
            }
            if page.ids.len() == max {
                page.next_after = last;
                break;
            }
            page.ids.push(id.clone());
            last = Some(*seq);
        }
        page
    }

    /// Wipes everything (admin reset).
    pub(crate) fn reset(&mut self) {
        let counter = self.id_counter;
        *self = Self {
            id_counter: counter,
            ..Self::default()
        };
    }

    /// Wipes one mailbox: its inbox messages go, its sent messages drop out of its tracking.
    pub(crate) fn reset_mailbox(&mut self, mailbox: &str) {
        self.inboxes.remove(mailbox);
        self.messages.retain(|_, m| m.recipient != mailbox);
        for m in self.messages.values_mut().filter(|m| m.sender == mailbox) {
            m.outbox_visible = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(store: &mut Store, to: &str, workflow: &str) -> Arc<str> {
        let now = Utc::now();
        let id = store.new_id(now);
        let mut m = Message::new(id.clone(), Kind::Data, now);
        m.sender = "PHARM001".into();
        m.recipient = to.into();
        m.workflow_id = workflow.into();
        store.insert(m);
        store.complete(&id, now);
        id
    }

    #[test]
    fn ids_are_unique_and_mesh_shaped() {
        let mut store = Store::default();
        let now = Utc::now();
        let a = store.new_id(now);
        let b = store.new_id(now);
        assert_ne!(a, b);
        assert_eq!(a.len(), 27);
        assert_eq!(a.as_bytes()[20], b'_');
    }

    #[test]
    fn paging_filter_and_ack() {
        let mut store = Store::default();
        let ids: Vec<_> = (0..25)
            .map(|i| {
                data(
                    &mut store,
                    "GPPRAC01",
                    if i % 2 == 0 { "WF" } else { "WF_ACK" },
                )
            })
            .collect();
        let page = store.list("GPPRAC01", None, None, 10);
        assert_eq!(page.ids, ids[..10]);
        assert_eq!(page.count, 25);
        let page2 = store.list("GPPRAC01", page.next_after, None, 10);
        assert_eq!(page2.ids, ids[10..20]);
        let page3 = store.list("GPPRAC01", page2.next_after, None, 10);
        assert_eq!(page3.ids, ids[20..]);
        assert_eq!(page3.next_after, None);
        let acks = |wf: &str| wf.ends_with("_ACK");
        assert_eq!(store.list("GPPRAC01", None, Some(&acks), 100).ids.len(), 12);
        store.acknowledge(&ids[0], Utc::now());
        assert_eq!(store.inbox_count("GPPRAC01"), 24);
        assert_eq!(store.get(&ids[0]).unwrap().status, Status::Acknowledged);
        store.reset_mailbox("GPPRAC01");
        assert_eq!(store.inbox_count("GPPRAC01"), 0);
        assert!(store.get(&ids[1]).is_none());
    }
}
