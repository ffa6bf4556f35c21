#![allow(clippy::unwrap_used)] // test code: a failed step is a failed test
#![allow(dead_code)] // shares the integration suite's helpers, not all of which it uses

//! 200 calls joined and left against one server: nothing may stay behind. A test
//! binary of its own, so the process's memory is this test's alone.

#[path = "it/calls_support.rs"]
mod calls_support;
#[path = "it/harness.rs"]
mod harness;

use calls_support::{LIMIT, join, receiving, team};
use chatter_sdk::protocol::TrackKind;
use harness::{Server, wait_until};
use std::time::Duration;

/// Resident memory of this process (server and clients), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_join_and_leave_cycles_leave_nothing_behind() {
    if std::env::var_os("CALL_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("chatter_sdk=debug,chatter_server::sfu=debug").try_init();
    }
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    // Alice stays in the call publishing audio; Bob comes and goes, each time publishing
    // audio and receiving hers.
    let a = join(&clients[0], &chat, &[TrackKind::Audio]).await;
    let sfu = server.state.sfu.clone();
    let metrics = tokio::runtime::Handle::current().metrics();
    let a = &a;
    let cycle = |n: usize| {
        let bob = clients[1].clone();
        let chat = chat.clone();
        async move {
            let b = join(&bob, &chat, &[TrackKind::Audio]).await;
            receiving(&b, 1, &format!("cycle {n}: bob hears alice")).await;
            // Alice hears him on the line the last Bob's audio left idle.
            receiving(a, 1, &format!("cycle {n}: alice hears bob")).await;
            b.leave().await.expect("leave");
        }
    };
    for n in 0..10 {
        cycle(n).await;
    }
    wait_until("warm-up cycles are cleaned up", LIMIT, || a.remote_tracks().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (tasks_before, rss_before) = (metrics.num_alive_tasks(), rss_kib());
    let cycles: usize = std::env::var("CALL_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    for n in 10..cycles {
        cycle(n).await;
    }
    let left = sfu.stats().await.expect("stats");
    wait_until("bob's last participant is gone", LIMIT, || a.remote_tracks().is_empty()).await;
    let mut stats = sfu.stats().await.expect("stats");
    for _ in 0..50 {
        if (stats.peers, stats.tracks_out) == (1, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stats = sfu.stats().await.expect("stats");
    }
    // Only Alice remains: one call, her connection, her one track, nothing sent anywhere.
    assert_eq!(
        (stats.calls, stats.peers, stats.tracks_in, stats.tracks_out),
        (1, 1, 1, 0),
        "after: {stats:?} (just after the last leave: {left:?})"
    );
    // Tasks: every peer connection's tasks and every remote track's reader ended.
    let mut tasks_after = metrics.num_alive_tasks();
    for _ in 0..50 {
        if tasks_after <= tasks_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        tasks_after = metrics.num_alive_tasks();
    }
    let rss_after = rss_kib();
    eprintln!(
        "190 cycles: tasks {tasks_before} -> {tasks_after}, RSS {} -> {} MiB, sfu {stats:?}",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(tasks_after <= tasks_before, "tasks left behind: {tasks_before} -> {tasks_after}");
    // Server and clients share this process: 190 connections that each held buffers may
    // leave allocator slack, not growth per cycle.
    assert!(rss_after < rss_before + 40 * 1024, "RSS grew from {rss_before} KiB to {rss_after} KiB");
    assert_eq!(a.participants().len(), 1);
}
