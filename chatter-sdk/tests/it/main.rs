//! The SDK against a real server started in-process.

mod auth;
mod away;
mod calls;
mod chaos;
mod harness;
mod timeline;
