//! The outbox publisher role: at most one gateway reads and marks outbox events at a time.
//!
//! The role is a session-level advisory lock held on a dedicated connection (a pooled one would
//! go back to the pool between `pending_events` and `mark_published`, and the lock with it). It is
//! taken per batch: acquired by `pending_events`, released once the batch is marked published or
//! when there is nothing to publish, so the role moves freely between gateways while the next
//! reader always sees the previous batch marked. A gateway whose batch is handed out again and
//! again unconfirmed (its bus link is down) gives the role up after [`YIELD_AFTER`] tries so a
//! gateway with a working link can take over. A gateway that dies loses the lock with its
//! connection; its unmarked batch is published again by the next one (at-least-once, as after a
//! crash of the SQLite gateway).

use deadpool_postgres::Pool;
use gateway_core::BusEvent;
use tokio::sync::Mutex;
use tokio_postgres::{Client, Config, NoTls};

use super::{db, pool_error};
use crate::StoreError;

/// Unconfirmed hand-outs of one batch after which this gateway gives up the publisher role.
const YIELD_AFTER: u32 = 3;

const PENDING: &str = "
SELECT seq, event_type, body, traceparent, message_id FROM outbox
WHERE NOT published ORDER BY seq LIMIT $1";

const MARK: &str = "UPDATE outbox SET published = TRUE WHERE seq = ANY($1)";

/// The publisher session of one store.
pub(super) struct Publisher {
    config: Config,
    key: i64,
    session: Mutex<Session>,
}

#[derive(Default)]
struct Session {
    client: Option<Client>,
    /// This session holds the advisory lock (a batch was handed out and is not marked yet).
    locked: bool,
    /// Times the current batch was handed out again without being marked.
    unconfirmed: u32,
}

impl Session {
    /// Drops the connection, which ends the lock server-side: used when its state is unknown.
    fn reset(&mut self) {
        *self = Self::default();
    }

    async fn unlock(&mut self, key: i64) {
        if let Some(client) = &self.client
            && self.locked
            && client
                .execute("SELECT pg_advisory_unlock($1)", &[&key])
                .await
                .is_err()
        {
            self.reset();
        }
        self.locked = false;
        self.unconfirmed = 0;
    }
}

impl Publisher {
    pub(super) fn new(config: Config, key: i64) -> Self {
        Self {
            config,
            key,
            session: Mutex::new(Session::default()),
        }
    }

    /// Unpublished events in sequence order, or none while another gateway is publishing.
    pub(super) async fn pending(&self, limit: usize) -> Result<Vec<BusEvent>, StoreError> {
        let mut s = self.session.lock().await;
        if s.client.as_ref().is_none_or(Client::is_closed) {
            s.reset();
            s.client = Some(self.connect().await?);
        }
        if s.locked {
            // The batch handed out last time was never marked: its publish failed.
            s.unconfirmed += 1;
            if s.unconfirmed >= YIELD_AFTER {
                s.unlock(self.key).await;
                return Ok(Vec::new());
            }
        } else if self.try_lock(&mut s).await? {
            s.locked = true;
        } else {
            return Ok(Vec::new());
        }
        let Some(client) = &s.client else {
            return Err(StoreError::Closed);
        };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        match client.query(PENDING, &[&limit]).await {
            Ok(rows) if rows.is_empty() => {
                s.unlock(self.key).await;
                Ok(Vec::new())
            }
            Ok(rows) => rows
                .iter()
                .map(|r| {
                    Ok(BusEvent {
                        seq: r.try_get(0)?,
                        event_type: r.try_get(1)?,
                        body: r.try_get(2)?,
                        traceparent: r.try_get(3)?,
                        correlation_id: r.try_get(4)?,
                    })
                })
                .collect::<Result<_, tokio_postgres::Error>>()
                .map_err(db),
            Err(e) => {
                s.unlock(self.key).await;
                Err(db(e))
            }
        }
    }

    /// Marks events published, then gives up the publisher role.
    pub(super) async fn mark(&self, pool: &Pool, seqs: &[i64]) -> Result<(), StoreError> {
        let mut s = self.session.lock().await;
        let result = match &s.client {
            // Marking on the session keeps the lock until the mark is committed, so the next
            // publisher cannot read these events again.
            Some(client) if !client.is_closed() => {
                client.execute(MARK, &[&seqs]).await.map(drop).map_err(db)
            }
            // The session (and its lock) is gone; the events were published all the same.
            _ => match pool.get().await {
                Ok(client) => client.execute(MARK, &[&seqs]).await.map(drop).map_err(db),
                Err(e) => Err(pool_error(e)),
            },
        };
        s.unlock(self.key).await;
        result
    }

    async fn try_lock(&self, s: &mut Session) -> Result<bool, StoreError> {
        let Some(client) = &s.client else {
            return Err(StoreError::Closed);
        };
        match client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&self.key])
            .await
        {
            Ok(row) => row.try_get(0).map_err(db),
            Err(e) => {
                s.reset();
                Err(db(e))
            }
        }
    }

    async fn connect(&self) -> Result<Client, StoreError> {
        let (client, connection) = self.config.connect(NoTls).await.map_err(db)?;
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::warn!(%error, "Outbox publisher connection to PostgreSQL ended.");
            }
        });
        Ok(client)
    }
}
