#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

//! The SDK against a real server started in-process.

mod auth;
mod away;
mod browser;
mod calls;
mod calls_support;
mod chaos;
mod chat_handle;
mod harness;
mod lossy;
mod multinode;
mod timeline;
mod tls;
