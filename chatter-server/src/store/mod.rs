//! Store backends of the server. The in-memory one lives in chatter-core.

pub mod sqlite;

pub use sqlite::SqliteStore;
