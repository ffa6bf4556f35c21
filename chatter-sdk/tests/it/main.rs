//! The SDK against a real server started in-process.

mod auth;
mod chaos;
mod harness;
mod timeline;
