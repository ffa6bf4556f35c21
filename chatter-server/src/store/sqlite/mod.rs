//! The embedded default store: SQLite in WAL mode, in one file under the data dir.
//! One writer connection serialises every change (so seq assignment is gap-free and
//! unique); a few reader connections serve reads concurrently. SQLite work runs on
//! tokio's blocking pool, except the few-row reads and the message append on every
//! send's path, which run where they are called (see `SqliteStore::read_now`).

mod chats;
mod checkpoint;
mod messages;
mod rows;
mod sessions;
mod users;

use chatter_core::StoreError;
use chatter_core::model::{Chat, Member};
use chatter_core::store::{Store, StoreResult};
use chatter_core::{ChatId, UserId};
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The schema migrations, in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../../migrations/sqlite/0001_init.sql"),
    include_str!("../../../../migrations/sqlite/0002_event_records.sql"),
];

/// How long a statement waits for a lock before the store reports itself unavailable.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1500);

/// Prepared statements kept per connection (the store has a few dozen distinct ones).
const STATEMENT_CACHE: usize = 128;

/// How long a call waits for a free connection before the store reports itself
/// unavailable (with the busy timeout, a call answers within about 2 s).
const CONNECTION_WAIT: Duration = Duration::from_millis(500);

const READERS: usize = 4;

/// A SQLite-backed store.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Arc<Mutex<Connection>>>,
    next_reader: AtomicUsize,
    _checkpointer: checkpoint::Checkpointer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

/// Statements run through the connection's cache of prepared statements: parsing a
/// statement costs more than running most of ours, and a send runs several.
pub(crate) trait Cached {
    /// Runs `sql` and maps its first row with `f`.
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T>;

    /// Runs `sql`; answers the rows changed.
    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
}

impl Cached for Connection {
    fn cached_row<T, P: rusqlite::Params, F: FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>>(
        &self,
        sql: &str,
        params: P,
        f: F,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    fn cached_exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(map_err)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(map_err)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // secure_delete: a deleted message's text (and a deleted profile) is overwritten in
    // the file, not left in a free part of a page for anyone with the file to read.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA secure_delete = ON;",
    )
    .map_err(map_err)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0)).map_err(map_err)? as usize;
    if done > MIGRATIONS.len() {
        return Err(StoreError::Other(format!(
            "the database has schema version {done}, newer than this server's {}",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = conn.transaction().map_err(map_err)?;
        tx.execute_batch(sql).map_err(map_err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(map_err)?;
        tx.commit().map_err(map_err)?;
    }
    Ok(())
}

/// Maps a SQLite error: lock timeouts mean "unavailable", anything else is a failure.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path` and applies migrations.
    pub async fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref().to_owned();
        tokio::task::spawn_blocking(move || {
            let mut writer = open_connection(&path)?;
            migrate(&mut writer)?;
            // Checkpoints run on their own thread (see `checkpoint`), never in a commit.
            writer.pragma_update(None, "wal_autocheckpoint", 0).map_err(map_err)?;
            let checkpointer = checkpoint::Checkpointer::start(&path)?;
            let readers = (0..READERS)
                .map(|_| open_connection(&path).map(|c| Arc::new(Mutex::new(c))))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Self {
                inner: Arc::new(Inner {
                    writer: Arc::new(Mutex::new(writer)),
                    readers,
                    next_reader: AtomicUsize::new(0),
                    _checkpointer: checkpointer,
                }),
            })
        })
        .await
        .map_err(|e| StoreError::Other(e.to_string()))?
    }

    /// Runs `f` on a reader connection (a free one if any).
    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let readers = &self.inner.readers;
        let free = readers.iter().find_map(|r| r.clone().try_lock_owned().ok());
        let conn = match free {
            Some(conn) => conn,
            None => {
                let i = self.inner.next_reader.fetch_add(1, Ordering::Relaxed) % readers.len();
                wait_for(readers[i].clone()).await?
            }
        };
        tokio::task::spawn_blocking(move || f(&conn)).await.map_err(|e| StoreError::Other(e.to_string()))?
    }

    /// Runs `f`, a read of a few rows by key, on a free reader connection on this thread
    /// (else as [`Self::read`] does). Such a read takes tens of microseconds: a trip to
    /// the blocking pool and back costs more, and under load the way back waits behind
    /// every socket write queued on the runtime, so a busy chat's sends queue up.
    async fn read_now<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        match self.inner.readers.iter().find_map(|r| r.try_lock().ok()) {
            Some(conn) => f(&conn),
            None => self.read(f).await,
        }
    }

    /// Runs `f`, a write of a few rows, as [`Self::write`] does but on this thread (see
    /// [`Self::read_now`]); the commit appends to the WAL without waiting for the disk.
    async fn write_now<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let mut conn = wait_for(self.inner.writer.clone()).await?;
        in_transaction(&mut conn, f)
    }

    /// Runs `f` in one immediate transaction on the writer connection; it commits if
    /// `f` succeeds.
    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreResult<T> {
        let mut conn = wait_for(self.inner.writer.clone()).await?;
        tokio::task::spawn_blocking(move || in_transaction(&mut conn, f))
            .await
            .map_err(|e| StoreError::Other(e.to_string()))?
    }
}

/// Runs `f` in one immediate transaction on `conn`; it commits if `f` succeeds.
fn in_transaction<T>(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError>,
) -> StoreResult<T> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(map_err)?;
    let out = f(&tx)?;
    tx.commit().map_err(map_err)?;
    Ok(out)
}

/// Takes a connection, or reports the store unavailable after `CONNECTION_WAIT`.
async fn wait_for(conn: Arc<Mutex<Connection>>) -> StoreResult<OwnedMutexGuard<Connection>> {
    tokio::time::timeout(CONNECTION_WAIT, conn.lock_owned())
        .await
        .map_err(|_| StoreError::Unavailable("all database connections are busy".into()))
}

#[async_trait::async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| c.query_row("SELECT 1", [], |_| Ok(())).map_err(map_err)).await
    }

    async fn chat_with_member(
        &self,
        chat_id: &ChatId,
        user_id: &UserId,
    ) -> StoreResult<Option<(Chat, Option<Member>)>> {
        let (chat_id, user_id) = (chat_id.to_string(), user_id.to_string());
        self.read_now(move |c| rows::load_chat_with_member(c, &chat_id, &user_id)).await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

    use super::{MIGRATIONS, SqliteStore};
    use crate::store::legacy_events;
    use chatter_core::model::{ChatKind, Role, Visibility};
    use chatter_core::store::{ChatStore, Created, MessageStore, NewChat, NewMessage, NewUser, UserStore};
    use chatter_core::value::{MessageText, Username};
    use chatter_core::{ChatId, MessageId, Timestamp, UserId};

    chatter_core::store_conformance_tests!(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = super::SqliteStore::open(dir.path().join("chatter.db")).await.expect("open");
        (dir, store)
    });

    #[tokio::test]
    async fn migration_scrubs_events_written_before_event_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chatter.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(&legacy_events::fill_sql()).unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).await.unwrap();
        legacy_events::assert_replay_shows_only_what_exists_now(&store).await;
    }

    /// The text of deleted messages is overwritten in the database file, not left in
    /// free space for anyone holding the file (`secure_delete`), once the WAL is
    /// checkpointed.
    #[tokio::test]
    async fn deleted_text_is_not_left_in_the_database_file() {
        const SECRET: &str = "SECRET-7f3a91c2";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chatter.db");
        let store = SqliteStore::open(&path).await.unwrap();
        let t = Timestamp::from_micros(1);
        let owner = UserId::new("u1");
        let username = Username::parse("alice").unwrap();
        let display_name = chatter_core::value::DisplayName::parse("Alice").unwrap();
        let new_user = NewUser { id: owner.clone(), username, display_name, password_hash: "h".into(), created_at: t };
        store.create_user(new_user).await.unwrap();
        let chat = ChatId::new("c1");
        let new_chat = NewChat {
            id: chat.clone(),
            kind: ChatKind::Group,
            title: Some(chatter_core::value::ChatTitle::parse("Room").unwrap()),
            visibility: Visibility::Private,
            owner_id: Some(owner.clone()),
            members: vec![(owner.clone(), Role::Owner)],
            created_at: t,
        };
        store.create_chat(new_chat).await.unwrap();
        for n in 0..20 {
            let id = MessageId::new(format!("m{n}"));
            let text = MessageText::parse(&format!("{SECRET} number {n}")).unwrap();
            let new = NewMessage {
                id: id.clone(),
                chat_id: chat.clone(),
                sender_id: owner.clone(),
                text,
                client_id: None,
                reply_to: None,
                created_at: t,
            };
            let Created::New(_) = store.append_message(new).await.unwrap() else { panic!("new") };
        }
        // All written first: the space freed by deleting is not written over again.
        for n in 0..20 {
            let id = MessageId::new(format!("m{n}"));
            if n % 2 == 0 {
                store.delete_message(&chat, &id).await.unwrap();
            } else {
                store.edit_message(&chat, &id, &MessageText::parse("rewritten").unwrap(), t).await.unwrap();
            }
        }
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
        let mut file = std::fs::read(&path).unwrap();
        file.extend(std::fs::read(dir.path().join("chatter.db-wal")).unwrap_or_default());
        assert!(!file.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()), "deleted text is in the file");
    }
}
