//! The e2e-send scenario: HTTP send → Postgres → Redis → WebSocket, on several nodes.
//! Members of many chats hold one socket each, spread over the nodes; messages are
//! posted over HTTP to the nodes in turn at a rising open-loop rate.

use crate::BenchError;
use crate::cli::E2eSendArgs;
use crate::ladder::Ladder;
use crate::procstat;
use crate::rawws;
use crate::receive::{self, StepStats};
use crate::targets::{self, Target};
use crate::{finish, ms, table_head, verdict};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// A user of the run.
#[derive(Debug, Clone)]
struct Member {
    token: String,
    id: String,
}

/// One step's outcome.
#[derive(Debug, Clone)]
struct Step {
    rate: f64,
    due: u64,
    accepted: u64,
    refused: u64,
    skipped: u64,
    delivered: u64,
    expected: u64,
    p50: Duration,
    p99: Duration,
    nodes_cpu: f64,
    passed: bool,
}

/// Creates an empty database on the Postgres at `admin_url`; answers its URL.
async fn fresh_database(admin_url: &str) -> Result<String, BenchError> {
    let setup = |e: &dyn std::fmt::Display| BenchError::Setup(format!("database: {e}"));
    let (client, connection) =
        tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await.map_err(|e| setup(&e))?;
    let driver = tokio::spawn(connection);
    let name = format!("bench_{}_{}", std::process::id(), receive::now_micros());
    client.execute(&format!("CREATE DATABASE {name}"), &[]).await.map_err(|e| setup(&e))?;
    drop(client);
    let _ = driver.await;
    let base = admin_url.rsplit_once('/').map(|(b, _)| b).ok_or_else(|| setup(&"a URL with a database"))?;
    Ok(format!("{base}/{name}"))
}

/// Registers `count` users, a few at a time (password hashing is the slow part).
async fn register(http: &reqwest::Client, nodes: &[Target], count: usize) -> Result<Vec<Member>, BenchError> {
    let mut members = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(16) {
        let batch = chunk.iter().map(|&u| {
            let base = &nodes[u % nodes.len()].base;
            let body = json!({"username": format!("member{u}"), "password": "bench password"});
            targets::post(http, format!("{base}/v1/users"), None, body)
        });
        for answer in futures::future::try_join_all(batch).await? {
            let field = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            members.push(Member { token: field(&answer["token"]), id: field(&answer["user"]["id"]) });
        }
    }
    Ok(members)
}

/// Who is in chat `c`: `per_chat` users, consecutive modulo the user count.
fn chat_members(c: usize, per_chat: usize, users: usize) -> Vec<usize> {
    (0..per_chat).map(|j| (c * per_chat + j) % users).collect()
}

/// Runs the scenario; answers the report.
pub async fn run(args: E2eSendArgs) -> Result<String, BenchError> {
    let database_url = fresh_database(&args.database_url).await?;
    let users = args.members.max(args.chats * args.members / 5);
    let flags = vec![
        "--database-url".to_owned(),
        database_url,
        "--redis-url".to_owned(),
        args.redis_url.clone(),
        "--max-connections".to_owned(),
        (users + 100).to_string(),
    ];
    let mut nodes = Vec::new();
    for n in 0..args.nodes.max(1) {
        nodes.push(targets::node(&args.server_bin, &format!("node {}", n + 1), &flags).await?);
    }
    let http = reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(args.in_flight)
        .build()
        .map_err(|e| BenchError::Setup(e.to_string()))?;
    let members = register(&http, &nodes, users).await?;
    let mut chats = Vec::with_capacity(args.chats);
    for c in 0..args.chats {
        let who = chat_members(c, args.members, users);
        let owner = &members[who[0]];
        let others: Vec<&str> = who[1..].iter().map(|&u| members[u].id.as_str()).collect();
        let body = json!({"kind": "group", "title": format!("chat {c}"), "visibility": "private", "members": others});
        let chat =
            targets::post(&http, format!("{}/v1/chats", nodes[c % nodes.len()].base), Some(&owner.token), body).await?;
        chats.push((chat["id"].as_str().unwrap_or_default().to_owned(), who));
    }
    let stats: Arc<Vec<StepStats>> = Arc::new((0..args.steps.max_steps).map(|_| StepStats::default()).collect());
    let mut readers = Vec::new();
    for (u, member) in members.iter().enumerate() {
        let headers = [("authorization".to_owned(), format!("Bearer {}", member.token))];
        let mut socket = rawws::connect(&nodes[u % nodes.len()].ws_url, &headers)
            .await
            .map_err(|e| BenchError::Connect(e.to_string()))?;
        socket.send_text(r#"{"type":"resume","chats":{}}"#).await.map_err(|e| BenchError::Connect(e.to_string()))?;
        readers.push(receive::spawn_reader(socket, stats.clone()));
    }
    // Let every socket pass its `ready` and start live delivery.
    tokio::time::sleep(Duration::from_secs(1)).await;

    let text = "x".repeat(args.steps.message_bytes);
    let slots = Arc::new(Semaphore::new(args.in_flight));
    let mut ladder = Ladder::new(args.start_rate, args.steps.factor, args.steps.refine);
    let mut steps = Vec::new();
    for (i, step_stats) in stats.iter().enumerate() {
        let Some(rate) = ladder.next else { break };
        let (accepted, refused) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let cpu_before: Duration = nodes.iter().map(|n| procstat::cpu_time(n.pid()).unwrap_or_default()).sum();
        let started = Instant::now();
        let length = Duration::from_secs_f64(args.steps.step_secs);
        let (mut due, mut skipped) = (0u64, 0u64);
        let mut tick = tokio::time::interval(Duration::from_millis(1));
        while started.elapsed() < length {
            tick.tick().await;
            let now_due = (rate * started.elapsed().as_secs_f64()) as u64;
            while due < now_due {
                let k = due as usize;
                due += 1;
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    skipped += 1;
                    continue;
                };
                let (chat, who) = &chats[k % chats.len()];
                let sender = &members[who[(k / chats.len()) % who.len()]];
                let url = format!("{}/v1/chats/{chat}/messages", nodes[k % nodes.len()].base);
                let request = http
                    .post(url)
                    .bearer_auth(&sender.token)
                    .json(&json!({"text": text, "client_id": receive::client_id(i)}));
                let (accepted, refused) = (accepted.clone(), refused.clone());
                tokio::spawn(async move {
                    let ok = matches!(request.send().await, Ok(r) if r.status().as_u16() == 201);
                    if ok {
                        accepted.fetch_add(1, Ordering::Relaxed)
                    } else {
                        refused.fetch_add(1, Ordering::Relaxed)
                    };
                    drop(slot);
                });
            }
        }
        let sending = started.elapsed();
        // Answers still in flight, then deliveries still on their way.
        let deadline = Instant::now() + Duration::from_secs(5);
        while slots.available_permits() < args.in_flight && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let expected = accepted.load(Ordering::Relaxed) * args.members as u64;
        let deadline = Instant::now() + Duration::from_secs(2);
        while step_stats.received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let cpu_after: Duration = nodes.iter().map(|n| procstat::cpu_time(n.pid()).unwrap_or_default()).sum();
        let mut step = Step {
            rate,
            due,
            accepted: accepted.load(Ordering::Relaxed),
            refused: refused.load(Ordering::Relaxed),
            skipped,
            delivered: step_stats.received.load(Ordering::Relaxed),
            expected,
            p50: step_stats.latency.quantile(0.5),
            p99: step_stats.latency.quantile(0.99),
            nodes_cpu: cpu_after.saturating_sub(cpu_before).as_secs_f64() / sending.as_secs_f64(),
            passed: false,
        };
        let passed = step.accepted == step.due
            && step.delivered >= step.expected
            && step.p99.as_secs_f64() * 1000.0 <= args.p99_ms;
        step.passed = passed;
        eprintln!(
            "e2e-send: step {i}: {:.0} msg/s: accepted {}/{} (refused {}, not sent in time {}), delivered {}/{}, p50 {:?}, p99 {:?}, nodes CPU {:.0}%{}",
            rate,
            step.accepted,
            step.due,
            step.refused,
            step.skipped,
            step.delivered,
            step.expected,
            step.p50,
            step.p99,
            step.nodes_cpu * 100.0,
            if passed { "" } else { "  <- fails" }
        );
        steps.push(step);
        if ladder.record(passed) {
            tokio::time::sleep(Duration::from_secs(3)).await;
        }
    }
    for r in readers {
        r.abort();
    }
    let rss: Vec<u64> = nodes.iter().map(|n| procstat::memory(n.pid()).map(|(_, peak)| peak).unwrap_or(0)).collect();
    let text = report(&steps, &args, &rss);
    finish(text, steps.iter().any(|s| s.passed), &args.outcome)
}

fn report(steps: &[Step], args: &E2eSendArgs, rss: &[u64]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### e2e-send: {} nodes, {} chats x {} members, {}-byte messages, p99 <= {} ms, no loss\n",
        args.nodes, args.chats, args.members, args.steps.message_bytes, args.p99_ms
    );
    let rss: Vec<String> = rss.iter().map(|b| format!("{:.1} MiB", *b as f64 / 1048576.0)).collect();
    match steps.iter().filter(|s| s.passed).max_by(|a, b| a.rate.total_cmp(&b.rate)) {
        Some(best) => {
            let _ = writeln!(
                out,
                "Best: **{:.0} accepted msgs/s** ({:.0} deliveries/s), p50 {:.1} ms, p99 {:.1} ms, nodes' CPU {:.0}%, peak RSS {}\n",
                best.accepted as f64 / args.steps.step_secs,
                best.delivered as f64 / args.steps.step_secs,
                ms(best.p50),
                ms(best.p99),
                best.nodes_cpu * 100.0,
                rss.join(" / ")
            );
        }
        None => {
            let _ = writeln!(out, "No step passed.\n");
        }
    }
    table_head(
        &mut out,
        &["rate (msg/s)", "accepted / due", "delivered / expected", "p50", "p99", "nodes' CPU", "result"],
    );
    for s in steps {
        let _ = writeln!(
            out,
            "| {:.0} | {} / {} | {} / {} | {:.1} ms | {:.1} ms | {:.0}% | {} |",
            s.rate,
            s.accepted,
            s.due,
            s.delivered,
            s.expected,
            ms(s.p50),
            ms(s.p99),
            s.nodes_cpu * 100.0,
            verdict(s.passed)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_chat_has_distinct_members_and_users_share_chats_evenly() {
        let (chats, per_chat, users) = (100, 10, 200);
        let mut load = vec![0; users];
        for c in 0..chats {
            let who = chat_members(c, per_chat, users);
            let distinct: std::collections::HashSet<_> = who.iter().collect();
            assert_eq!(distinct.len(), per_chat);
            for u in who {
                load[u] += 1;
            }
        }
        assert!(load.iter().all(|&n| n == 5), "each user is in 5 chats");
    }
}
