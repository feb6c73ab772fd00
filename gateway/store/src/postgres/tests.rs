//! The shared conformance suite and the multi-gateway tests against a real PostgreSQL (`PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432/test`), each test in a fresh schema dropped at the
//! end. They fail, not skip, when PostgreSQL is unreachable.

mod multi;

use std::future::Future;

use tokio_postgres::NoTls;

use super::PostgresStore;
use crate::conformance::Harness;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const HOW_TO_START: &str = "start it with `pg_ctlcluster --skip-systemctl-redirect \
    $(ls /etc/postgresql) main start`, or point PG_URL at one";

fn base_url() -> String {
    std::env::var("PG_URL").unwrap_or_else(|_| DEFAULT_URL.to_string())
}

/// One fresh schema; stores opened by it use it through `search_path`.
pub(super) struct PgHarness {
    base: String,
    schema: String,
}

impl PgHarness {
    pub(super) async fn new() -> Self {
        let base = base_url();
        let schema = format!("gpc_test_{}", uuid::Uuid::new_v4().simple());
        let (client, connection) =
            tokio_postgres::connect(&base, NoTls)
                .await
                .unwrap_or_else(|e| {
                    let cause = super::db(e);
                    panic!("PostgreSQL at {base} is unreachable ({cause}); {HOW_TO_START}")
                });
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .unwrap();
        Self { base, schema }
    }

    /// The URL of this harness's schema.
    pub(super) fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{sep}options=-csearch_path%3D{}", self.base, self.schema)
    }

    /// A store as gateway `instance` would open it.
    pub(super) async fn store(&self, instance: &str) -> PostgresStore {
        PostgresStore::connect(&self.url(), instance, 4)
            .await
            .unwrap_or_else(|e| panic!("cannot open the store ({e}); {HOW_TO_START}"))
    }
}

impl Harness for PgHarness {
    type Store = PostgresStore;

    fn open(&self) -> impl Future<Output = PostgresStore> + Send {
        self.store("gw")
    }
}

impl Drop for PgHarness {
    /// Drops the schema on a thread of its own: `Drop` cannot await, and a failed test's schema
    /// must go too.
    fn drop(&mut self) {
        let (base, schema) = (self.base.clone(), self.schema.clone());
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let (client, connection) = tokio_postgres::connect(&base, NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        });
        if let Ok(Err(e)) = cleanup.join() {
            eprintln!("cannot drop test schema {}: {e}", self.schema);
        }
    }
}

crate::store_conformance_tests!(PgHarness::new().await);

#[tokio::test]
async fn unreachable_database_fails_connect_with_the_cause() {
    let result = PostgresStore::connect(
        "postgres://postgres@127.0.0.1:1/test?connect_timeout=2",
        "gw",
        1,
    )
    .await;
    let Err(crate::StoreError::Database(message)) = result else {
        panic!("connected to nothing");
    };
    assert!(message.contains("connect"), "{message}");
}
