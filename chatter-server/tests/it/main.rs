#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test

//! Integration tests: the real server on 127.0.0.1:0, driven over HTTP.

mod api_doc;
mod calls;
mod chats;
mod cli;
mod concurrency;
mod deletion;
mod harness;
mod members;
mod messages;
mod multinode;
mod multinode_realtime;
mod nginx_front;
mod pagination;
mod permissions;
mod postgres_faults;
mod realtime_auth;
mod realtime_events;
mod realtime_limits;
mod realtime_resume;
mod redis_faults;
mod restart;
mod sessions;
mod users;
mod validation;
mod ws_client;
