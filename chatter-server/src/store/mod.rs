//! Store backends of the server. The in-memory one lives in chatter-core.

#[cfg(test)]
mod legacy_events;
pub mod postgres;
pub mod sqlite;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;
