//! The PostgreSQL store, for several gateways sharing one database. Same schema and semantics as
//! the SQLite store (both pass the `conformance` suite), plus what sharing needs:
//!
//! - **Calls are transactions.** Each call runs in one transaction on a pooled connection; batches
//!   become one statement each (arrays through `UNNEST`) or pipelined statements, so a batch costs
//!   a few round trips, not one per item. PostgreSQL's own group commit replaces the SQLite
//!   worker's.
//! - **Ingest** is idempotent by correlation id (`ON CONFLICT (id) DO NOTHING`): two gateways
//!   receiving the same event store it once.
//! - **Claims** are durable leases: `claim_due` locks due rows with `FOR UPDATE SKIP LOCKED` and
//!   writes `claimed_by` (this store's owner id) and `claimed_until` in the same statement, so two
//!   gateways never hold the same row at once and a crashed gateway's claims end with their lease.
//!   Recording a result releases the lease (only the claimer's own).
//! - **Inbox items** apply once across gateways: the item's insert is keyed by (mailbox, MESH id);
//!   a concurrent second insert waits for the first commit and then inserts nothing.
//! - **Transitions** are compare-and-set on state (`UPDATE … WHERE id = $1 AND state = ANY($9)`),
//!   with history and events written while the row is locked.
//! - **Outbox**: one gateway publishes at a time, holding a session-level advisory lock per batch
//!   (see `outbox`). Chosen over claiming outbox rows with `SKIP LOCKED` because parallel
//!   publishers would break the order of one message's events (its `sent` in one gateway's batch,
//!   its `infack` in another's, racing to the bus), and keeping per-message order there needs
//!   per-message bookkeeping; one publisher keeps sequence order for free. One publisher is not
//!   the bottleneck: it sends 512 events per confirmed batch.
//!
//! Times are the callers' ms clocks, as with SQLite: gateways need NTP-level agreement only.
//! Connections: `pool_size` pooled plus one for the publisher role. TLS is not supported yet.

mod outbox;
mod read;
mod schema;
mod transition;
mod write;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{
    Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use gateway_core::BusEvent;
use tokio_postgres::NoTls;

use crate::{
    InboxRecord, InboxResult, IngestItem, InsertResult, MessageDetail, MessageRef, MessageSummary,
    PendingSend, ResendOutcome, SearchQuery, SendResult, Store, StoreError, Transition,
};

/// Bound on connecting (unless the URL sets `connect_timeout`), so an unreachable database fails
/// start-up and calls instead of hanging them.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a call waits for a free pooled connection before failing (callers retry).
const POOL_WAIT: Duration = Duration::from_secs(30);

/// PostgreSQL store; clones share the pool and the publisher role.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    /// `claimed_by` of this store's leases: the instance id plus a random part, because gateways
    /// often share the configured instance name (the default, or replicas of one deployment).
    owner: String,
    publisher: outbox::Publisher,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?options=-csearch_path%3Dgpc`, or
    /// the key=value form), creates or migrates the schema in the connection's `current_schema()`
    /// and keeps a pool of up to `pool_size` connections (plus one for publishing the outbox).
    /// `instance_id` names this gateway in leases and in `pg_stat_activity`.
    ///
    /// # Errors
    /// [`StoreError::Database`] when the URL is invalid, the database is unreachable or the schema
    /// cannot be created.
    pub async fn connect(
        url: &str,
        instance_id: &str,
        pool_size: usize,
    ) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url.parse().map_err(db)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name(format!("gpc-gateway {instance_id}"));
        }
        // Fast recycling: a broken connection is detected as closed, and a statement on a dead
        // one fails the call, which the pipeline retries.
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = Manager::from_config(config.clone(), NoTls, manager_config);
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(db)?;
        let mut client = pool.get().await.map_err(pool_error)?;
        let keys = schema::migrate(&mut client).await.map_err(db)?;
        drop(client);
        let owner = format!("{instance_id}/{}", uuid::Uuid::new_v4().simple());
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                owner,
                publisher: outbox::Publisher::new(config, keys.outbox),
            }),
        })
    }

    /// The `claimed_by` value of this store's leases.
    pub fn owner(&self) -> &str {
        &self.inner.owner
    }

    async fn client(&self) -> Result<Object, StoreError> {
        self.inner.pool.get().await.map_err(pool_error)
    }
}

/// The message with its causes: tokio-postgres puts the server's message in the source.
fn db(e: impl std::error::Error) -> StoreError {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Database(message)
}

fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Closed => StoreError::Closed,
        e => db(e),
    }
}

/// Runs `$body` with `$tx`, a transaction on a pooled connection, and commits it.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut client = $store.client().await?;
        let $tx = client.transaction().await.map_err(db)?;
        let value = $body.await.map_err(db)?;
        $tx.commit().await.map_err(db)?;
        Ok(value)
    }};
}

#[async_trait]
impl Store for PostgresStore {
    async fn ingest(&self, items: Vec<IngestItem>) -> Result<Vec<InsertResult>, StoreError> {
        in_transaction!(self, |tx| write::ingest(&tx, &items))
    }

    async fn claim_due(
        &self,
        limit: usize,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Vec<PendingSend>, StoreError> {
        let owner = self.owner();
        in_transaction!(self, |tx| write::claim(&tx, limit, now_ms, lease_ms, owner))
    }

    async fn record_send_results(&self, results: Vec<SendResult>) -> Result<(), StoreError> {
        let owner = self.owner();
        in_transaction!(self, |tx| transition::send_results(&tx, &results, owner))
    }

    async fn find_by_itk_id(&self, itk_message_id: &str) -> Result<Option<MessageRef>, StoreError> {
        let client = self.client().await?;
        read::find(&client, read::Key::Itk, itk_message_id)
            .await
            .map_err(db)
    }

    async fn find_by_mesh_id(
        &self,
        mesh_message_id: &str,
    ) -> Result<Option<MessageRef>, StoreError> {
        let client = self.client().await?;
        read::find(&client, read::Key::Mesh, mesh_message_id)
            .await
            .map_err(db)
    }

    async fn record_inbox(&self, record: InboxRecord) -> Result<InboxResult, StoreError> {
        in_transaction!(self, |tx| transition::inbox(&tx, &record))
    }

    async fn apply(&self, transitions: Vec<Transition>) -> Result<Vec<bool>, StoreError> {
        in_transaction!(self, |tx| transition::transitions(&tx, &transitions))
    }

    async fn overdue(
        &self,
        infack_deadline_ms: i64,
        busack_deadline_ms: i64,
        limit: usize,
    ) -> Result<Vec<MessageRef>, StoreError> {
        let client = self.client().await?;
        read::overdue(&client, infack_deadline_ms, busack_deadline_ms, limit)
            .await
            .map_err(db)
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<BusEvent>, StoreError> {
        self.inner.publisher.pending(limit).await
    }

    async fn mark_published(&self, seqs: Vec<i64>) -> Result<(), StoreError> {
        if seqs.is_empty() {
            return Ok(());
        }
        self.inner.publisher.mark(&self.inner.pool, &seqs).await
    }

    async fn search(&self, query: SearchQuery) -> Result<Vec<MessageSummary>, StoreError> {
        let client = self.client().await?;
        read::search(&client, &query).await.map_err(db)
    }

    async fn resend(&self, id: &str, now_ms: i64) -> Result<ResendOutcome, StoreError> {
        in_transaction!(self, |tx| transition::resend(&tx, id, now_ms))
    }

    async fn history(&self, id: &str) -> Result<Option<MessageDetail>, StoreError> {
        let client = self.client().await?;
        read::history(&client, id).await.map_err(db)
    }

    async fn state_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let client = self.client().await?;
        read::state_counts(&client).await.map_err(db)
    }

    async fn oldest_in_state(
        &self,
        state: gateway_core::MessageState,
    ) -> Result<Option<i64>, StoreError> {
        let client = self.client().await?;
        read::oldest_in_state(&client, state.as_str())
            .await
            .map_err(db)
    }
}

#[cfg(test)]
mod tests;
