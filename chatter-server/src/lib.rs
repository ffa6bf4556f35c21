//! Chatter's reference server: the core on axum, with an embedded SQLite store.

pub mod store;
