//! The production store: Postgres through tokio-postgres, with a deadpool pool whose
//! connections are verified before reuse, and migrations from `migrations/postgres/`
//! applied at start-up by refinery. Every call fails fast (about 2 s at most) when
//! Postgres is unreachable, and the pool reconnects by itself when it is back.
//!
//! Appending to a chat locks the chat's row (`SELECT … FOR UPDATE`) for the length of
//! one transaction, so message and event seqs stay gap-free and unique when many nodes
//! write into one chat.

mod chats;
mod messages;
mod rows;
mod sessions;
mod users;

use chatter_core::model::{Chat, Member, Session, User};
use chatter_core::store::{Store, StoreResult};
use chatter_core::{ChatId, StoreError, UserId};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime, Timeouts};
use rows::{CHAT_COLS, Db, MEMBER_COLS, SESSION_COLS_S, USER_COLS};
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

mod embedded {
    refinery::embed_migrations!("../migrations/postgres");
}

/// How long a call waits for a pooled connection, a new connection, or a statement.
const WAIT: Duration = Duration::from_millis(1500);
/// Connections per node.
const POOL_SIZE: usize = 16;

/// A Postgres-backed store.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

/// Maps a Postgres error: a lost or refused connection means "unavailable".
pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    if e.is_closed() || e.code().is_none() {
        return StoreError::Unavailable(e.to_string());
    }
    match e.code() {
        Some(c) if *c == SqlState::QUERY_CANCELED || *c == SqlState::LOCK_NOT_AVAILABLE => {
            StoreError::Unavailable(e.to_string())
        }
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57") => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

/// Whether `e` is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db`) and applies the
    /// migrations.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let mut config: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Other(format!("bad database URL: {e}")))?;
        config.connect_timeout(WAIT);
        // A statement never holds a request longer than the fail-fast budget.
        config.options(format!("-c statement_timeout={} -c lock_timeout={}", WAIT.as_millis(), WAIT.as_millis()));
        let manager =
            Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Verified });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .timeouts(Timeouts { wait: Some(WAIT), create: Some(WAIT), recycle: Some(WAIT) })
            .build()
            .map_err(|e| StoreError::Other(e.to_string()))?;
        migrate(url).await?;
        Ok(Self { pool })
    }

    /// A pooled connection, or `Unavailable` within the wait budget.
    pub(crate) async fn client(&self) -> StoreResult<Object> {
        self.pool.get().await.map_err(|e| StoreError::Unavailable(format!("database: {e}")))
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        let client = self.client().await?;
        client.query_one("SELECT 1", &[]).await.map_err(map_err)?;
        Ok(())
    }

    async fn session_with_user(&self, token_hash: &str) -> StoreResult<Option<(Session, Option<User>)>> {
        let client = self.client().await?;
        let row = client
            .opt(
                &format!(
                    "SELECT {SESSION_COLS_S}, {USER_COLS} FROM sessions s LEFT JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1"
                ),
                &[&token_hash],
            )
            .await?;
        row.map(|r| Ok((rows::session(&r)?, rows::user_opt(&r, 6)?))).transpose()
    }

    async fn chat_with_member(
        &self,
        chat_id: &ChatId,
        user_id: &UserId,
    ) -> StoreResult<Option<(Chat, Option<Member>)>> {
        let client = self.client().await?;
        let row = client
            .opt(
                &format!(
                    "SELECT {CHAT_COLS}, {MEMBER_COLS} FROM chats c
                     LEFT JOIN members m ON m.chat_id = c.id AND m.user_id = $2 WHERE c.id = $1"
                ),
                &[&chat_id.as_str(), &user_id.as_str()],
            )
            .await?;
        row.map(|r| Ok((rows::chat(&r)?, rows::member_opt(&r, 10)?))).transpose()
    }
}

/// Applies the migrations on a connection of their own (without the per-statement
/// limits: a migration may take long), holding an advisory lock so that nodes starting
/// together migrate one after the other.
async fn migrate(url: &str) -> StoreResult<()> {
    const MIGRATION_LOCK: i64 = 0x0063_6861_7474_6572; // "chatter"
    let failed = |e: &dyn std::fmt::Display| StoreError::Other(format!("migrations failed: {e}"));
    let mut config: tokio_postgres::Config = url.parse().map_err(|e| failed(&e))?;
    config.connect_timeout(WAIT);
    let (mut client, connection) = config.connect(NoTls).await.map_err(|e| failed(&e))?;
    let driver = tokio::spawn(connection);
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await.map_err(|e| failed(&e))?;
    let result = embedded::migrations::runner().run_async(&mut client).await.map_err(|e| failed(&e));
    // Closing the connection releases the lock whatever happened.
    drop(client);
    let _ = driver.await;
    result.map(|_| ())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A fresh database per test on the Postgres the test command started.

    use super::PgStore;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// The URL of the test Postgres; `None` (with a note) when none was started, unless
    /// `CHATTER_REQUIRE_SERVICES` is set, as the test command does: then it fails.
    pub(crate) fn url() -> Option<String> {
        match std::env::var("CHATTER_TEST_DATABASE_URL") {
            Ok(url) => Some(url),
            Err(_) if std::env::var_os("CHATTER_REQUIRE_SERVICES").is_some() => {
                panic!("CHATTER_TEST_DATABASE_URL is not set: run the tests with `make test`")
            }
            Err(_) => {
                eprintln!("skipped: no CHATTER_TEST_DATABASE_URL (`make test` starts a Postgres)");
                None
            }
        }
    }

    /// A store on a new, empty database.
    pub(crate) async fn fresh_store() -> Option<PgStore> {
        Some(PgStore::connect(&fresh_database().await?).await.expect("connect"))
    }

    /// The URL of a new, empty database.
    pub(crate) async fn fresh_database() -> Option<String> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let url = url()?;
        let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("admin connection");
        tokio::spawn(connection);
        let name = format!("t{}_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst), rand_suffix());
        admin.execute(&format!("CREATE DATABASE {name}"), &[]).await.expect("create database");
        let mut config: tokio_postgres::Config = url.parse().expect("url");
        config.dbname(&name);
        let (host, port) = match (config.get_hosts().first(), config.get_ports().first()) {
            (Some(tokio_postgres::config::Host::Tcp(h)), Some(p)) => (h.clone(), *p),
            _ => panic!("the test database URL needs a TCP host"),
        };
        let user = config.get_user().unwrap_or("postgres").to_owned();
        Some(format!("postgres://{user}@{host}:{port}/{name}"))
    }

    fn rand_suffix() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos() as u64).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::PgStore;

    chatter_core::store_conformance_tests!(optional async { super::testing::fresh_store().await.map(|s| ((), s)) });

    #[tokio::test]
    async fn migration_scrubs_events_written_before_event_records() {
        use crate::store::legacy_events;
        let Some(url) = super::testing::fresh_database().await else { return };
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        let first = super::embedded::migrations::runner().set_target(refinery::Target::Version(1));
        first.run_async(&mut client).await.expect("the first schema");
        client.batch_execute(&legacy_events::fill_sql()).await.expect("fill");
        let store = PgStore::connect(&url).await.expect("connect and migrate");
        legacy_events::assert_replay_shows_only_what_exists_now(&store).await;
    }

    #[tokio::test]
    async fn nodes_starting_together_on_an_empty_database_all_come_up() {
        let Some(url) = super::testing::fresh_database().await else { return };
        let starts = (0..4).map(|_| PgStore::connect(&url));
        for started in futures::future::join_all(starts).await {
            started.expect("every node migrates (one after the other) and starts");
        }
    }
}
