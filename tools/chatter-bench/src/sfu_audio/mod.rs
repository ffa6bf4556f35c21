//! The sfu-audio scenario: P publishers and N subscribers in one call, every publisher
//! sending 50 packets/s of 80-byte Opus-sized audio that the SFU forwards to everyone
//! else. N rises step by step; each step measures for a few seconds the packets sent
//! and received, their loss and latency, and the server's CPU time, and passes with
//! less than the allowed loss (0.1%) and p99 latency (100 ms). The result is the largest
//! passing N, with the server's CPU time per forwarded packet and the audio consumers
//! (streams received) it serves per core of CPU.
//!
//! The load runs every participant as a str0m `Rtc` on one shared UDP socket
//! ([`udp`]), so it stays cheap and within the open-file limit. Before the server
//! starts, the run measures the kernel's floor ([`floor`]): what the same datagrams cost
//! to send with nothing else done, the bound no forwarder on this machine can pass.

mod floor;
mod load;
mod signal;
mod udp;

use crate::BenchError;
use crate::cli::SfuAudioArgs;
use crate::procstat;
use crate::targets;
use crate::{finish, ms, table_head, verdict};
use load::{Load, PACKETS_PER_SECOND};
use serde_json::{Value, json};
use signal::Venue;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench password";
/// Addresses and rounds per second of the floor measurement: 1,000 consumers' worth of
/// datagrams in bursts, as 2 publishers' packets forwarded to 1,000 receivers.
const FLOOR_RECEIVERS: usize = 1000;
const FLOOR_ROUNDS_PER_SEC: u32 = 100;

/// One step's outcome.
#[derive(Debug, Clone)]
struct Step {
    subscribers: usize,
    /// Streams received: each participant receives every publisher but itself.
    consumers: usize,
    sent: u64,
    expected: u64,
    received: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
    server_cpu: f64,
    load_cpu: f64,
    passed: bool,
}

impl Step {
    fn loss(&self) -> f64 {
        if self.expected == 0 { 1.0 } else { 1.0 - self.received as f64 / self.expected as f64 }
    }

    fn forwarded_per_sec(&self) -> f64 {
        self.received as f64 / self.secs
    }

    /// Server CPU time per forwarded packet, in microseconds.
    fn cpu_per_packet_us(&self) -> f64 {
        self.server_cpu * 1e6 / self.forwarded_per_sec().max(1.0)
    }

    /// Consumers one core of server CPU would serve at this cost.
    fn consumers_per_core(&self) -> f64 {
        self.consumers as f64 / self.server_cpu.max(1e-9)
    }
}

/// Logs in `count` sessions of `username`, a few at a time (password hashing is the
/// slow part; a full hashing queue answers 429, and the login is tried again).
async fn sessions(http: &reqwest::Client, base: &str, username: &str, count: usize) -> Result<Vec<String>, BenchError> {
    let login = || async {
        let mut tries = 0;
        loop {
            let body = json!({"username": username, "password": PASSWORD});
            match targets::post(http, format!("{base}/v1/sessions"), None, body).await {
                Ok(answer) => return Ok(answer["token"].as_str().unwrap_or_default().to_owned()),
                Err(BenchError::Setup(e)) if e.starts_with("429") && tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
    };
    let mut tokens = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(8) {
        tokens.extend(futures::future::try_join_all(chunk.iter().map(|_| login())).await?);
    }
    Ok(tokens)
}

/// Joins `tokens` to the call, a few at a time.
async fn join_all(
    http: &reqwest::Client,
    venue: &Venue,
    load: &Load,
    tokens: &[String],
    publish: bool,
) -> Result<(), BenchError> {
    for chunk in tokens.chunks(32) {
        let batch = chunk.iter().map(|t| signal::join(http, venue, load, t, publish));
        futures::future::try_join_all(batch).await?;
    }
    Ok(())
}

/// Waits until every participant receives every publisher; answers how many do.
async fn wait_ready(load: &Load, within: Duration) -> Result<load::Report, BenchError> {
    let deadline = Instant::now() + within;
    loop {
        let report = load.report().await.map_err(BenchError::Connect)?;
        if report.ready == report.members || Instant::now() > deadline {
            return Ok(report);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The subscriber counts to try.
fn ladder(args: &SfuAudioArgs) -> Vec<usize> {
    let mut counts = Vec::new();
    let mut n = args.start_subscribers.max(1) as f64;
    while counts.len() < args.max_steps {
        let count = n.round() as usize;
        if count > args.max_subscribers {
            break;
        }
        if counts.last() != Some(&count) {
            counts.push(count);
        }
        n *= args.factor.max(1.01);
    }
    counts
}

/// Runs the scenario; answers the report.
pub async fn run(args: SfuAudioArgs) -> Result<String, BenchError> {
    let counts = ladder(&args);
    // As long as a step, up to 5 s: the floor varies little.
    let secs = args.step_secs.min(5.0);
    let floor = tokio::task::spawn_blocking(move || floor::measure(FLOOR_RECEIVERS, FLOOR_ROUNDS_PER_SEC, secs))
        .await
        .map_err(|e| BenchError::Setup(format!("floor: {e}")))??;
    eprintln!(
        "sfu-audio: kernel floor: {} datagrams sent, {} received, {:.2} us each = {:.0} consumers per core at most",
        floor.sent,
        floor.received,
        floor.us_per_datagram,
        floor.consumers_per_core()
    );
    let most = counts.last().copied().unwrap_or(0) + args.publishers;
    let mut flags = vec![
        "--call-max-participants".to_owned(),
        (most + 10).to_string(),
        "--max-connections-per-user".to_owned(),
        (most + 10).to_string(),
        "--max-connections".to_owned(),
        (most + 100).to_string(),
    ];
    flags.extend(args.server_args.split_whitespace().map(str::to_owned));
    let server = targets::node(&args.server_bin, "chatter", &flags).await?;
    let http = reqwest::Client::new();
    let owner = targets::post(
        &http,
        format!("{}/v1/users", server.base),
        None,
        json!({"username": "bench-caller", "password": PASSWORD}),
    )
    .await?;
    let token = owner["token"].as_str().unwrap_or_default();
    let chat = targets::post(
        &http,
        format!("{}/v1/chats", server.base),
        Some(token),
        json!({"kind": "group", "title": "sfu-audio", "visibility": "private", "members": Vec::<Value>::new()}),
    )
    .await?;
    let venue = Venue {
        base: server.base.clone(),
        ws_url: server.ws_url.clone(),
        chat_id: chat["id"].as_str().unwrap_or_default().to_owned(),
    };
    let load = Load::start(counts.len(), args.in_phase)?;
    let publishers = sessions(&http, &server.base, "bench-caller", args.publishers).await?;
    join_all(&http, &venue, &load, &publishers, true).await?;

    let mut steps = Vec::new();
    let mut joined = 0;
    for (i, &n) in counts.iter().enumerate() {
        let tokens = sessions(&http, &server.base, "bench-caller", n - joined).await?;
        join_all(&http, &venue, &load, &tokens, false).await?;
        joined = n;
        let before = wait_ready(&load, Duration::from_secs(60)).await?;
        if before.ready < before.members {
            eprintln!(
                "sfu-audio: {} subscribers: only {} of {} participants receive every publisher ({} connected)",
                n, before.ready, before.members, before.connected
            );
        }
        let cpu_before = procstat::cpu_time(server.pid()).unwrap_or_default();
        let load_before = procstat::cpu_time(std::process::id()).unwrap_or_default();
        let started = Instant::now();
        load.set_step(u32::try_from(i).ok());
        tokio::time::sleep(Duration::from_secs_f64(args.step_secs)).await;
        load.set_step(None);
        let secs = started.elapsed().as_secs_f64();
        let server_cpu = procstat::cpu_time(server.pid()).unwrap_or_default().saturating_sub(cpu_before);
        let load_cpu = procstat::cpu_time(std::process::id()).unwrap_or_default().saturating_sub(load_before);
        // Packets still on their way.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let after = load.report().await.map_err(BenchError::Connect)?;
        let (sent, received) = after.steps.get(i).copied().unwrap_or_default();
        let members = after.members as u64;
        let mut step = Step {
            subscribers: n,
            consumers: args.publishers * (n + args.publishers - 1),
            sent,
            expected: sent * members.saturating_sub(1),
            received,
            secs,
            p50: load.latency[i].quantile(0.5),
            p99: load.latency[i].quantile(0.99),
            server_cpu: server_cpu.as_secs_f64() / secs,
            load_cpu: load_cpu.as_secs_f64() / secs,
            passed: false,
        };
        step.passed = before.ready == before.members && step.loss() < args.max_loss && ms(step.p99) <= args.p99_ms;
        eprintln!(
            "sfu-audio: step {i}: {} publishers x {} subscribers: sent {}, received {}/{} (loss {:.3}%), {:.0} pkts/s, p99 {:?}, server CPU {:.0}% ({:.2} us/pkt), load CPU {:.0}%, load send drops {}{}",
            args.publishers,
            n,
            step.sent,
            step.received,
            step.expected,
            step.loss() * 100.0,
            step.forwarded_per_sec(),
            step.p99,
            step.server_cpu * 100.0,
            step.cpu_per_packet_us(),
            step.load_cpu * 100.0,
            after.send_dropped,
            if step.passed { "" } else { "  <- fails" }
        );
        let passed = step.passed;
        steps.push(step);
        if !passed {
            break;
        }
    }
    let rss = procstat::memory(server.pid()).map(|(_, peak)| peak).unwrap_or(0);
    let text = report(&steps, &args, rss, &floor);
    finish(text, steps.iter().any(|s| s.passed), &args.outcome)
}

fn report(steps: &[Step], args: &SfuAudioArgs, rss: u64, floor: &floor::Floor) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### sfu-audio: {} publishers ({}), 80-byte audio at {} packets/s each, loss < {}%, p99 <= {} ms\n",
        args.publishers,
        if args.in_phase { "in phase" } else { "sends spread over each 20 ms" },
        PACKETS_PER_SECOND,
        args.max_loss * 100.0,
        args.p99_ms
    );
    match steps.iter().filter(|s| s.passed).max_by_key(|s| s.subscribers) {
        Some(best) => {
            let _ = writeln!(
                out,
                "Best: **{} subscribers** ({} audio consumers): {:.0} forwarded packets/s, loss {:.3}%, \
                 server CPU {:.0}% = **{:.2} µs per forwarded packet = {:.0} audio consumers per core**; \
                 p50 {:.1} ms, p99 {:.1} ms; server peak RSS {:.1} MiB\n",
                best.subscribers,
                best.consumers,
                best.forwarded_per_sec(),
                best.loss() * 100.0,
                best.server_cpu * 100.0,
                best.cpu_per_packet_us(),
                best.consumers_per_core(),
                ms(best.p50),
                ms(best.p99),
                rss as f64 / 1048576.0
            );
        }
        None => {
            let _ = writeln!(out, "No step passed.\n");
        }
    }
    let best_us = steps.iter().filter(|s| s.passed).max_by_key(|s| s.subscribers).map(Step::cpu_per_packet_us);
    let _ = writeln!(
        out,
        "Kernel floor, same run: sending {}-byte datagrams to {} loopback addresses in `sendmmsg` batches \
         of 64, with nothing else done, costs **{:.2} µs each = at most {:.0} audio consumers per core** on \
         this machine ({} sent, {} received){}.\n",
        floor::DATAGRAM,
        floor.receivers,
        floor.us_per_datagram,
        floor.consumers_per_core(),
        floor.sent,
        floor.received,
        match best_us {
            Some(us) => format!("; the SFU's best step costs {:.2}x that", us / floor.us_per_datagram.max(1e-9)),
            None => String::new(),
        }
    );
    table_head(
        &mut out,
        &[
            "subscribers",
            "consumers",
            "received / expected",
            "loss",
            "forwarded pkts/s",
            "p50",
            "p99",
            "server CPU",
            "µs/pkt",
            "consumers/core",
            "load CPU",
            "result",
        ],
    );
    for s in steps {
        let _ = writeln!(
            out,
            "| {} | {} | {} / {} | {:.3}% | {:.0} | {:.1} ms | {:.1} ms | {:.0}% | {:.2} | {:.0} | {:.0}% | {} |",
            s.subscribers,
            s.consumers,
            s.received,
            s.expected,
            s.loss() * 100.0,
            s.forwarded_per_sec(),
            ms(s.p50),
            ms(s.p99),
            s.server_cpu * 100.0,
            s.cpu_per_packet_us(),
            s.consumers_per_core(),
            s.load_cpu * 100.0,
            verdict(s.passed)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriber_counts_rise_by_the_factor_within_the_bounds() {
        let args = SfuAudioArgs {
            server_bin: "x".into(),
            publishers: 2,
            start_subscribers: 100,
            factor: 1.5,
            max_subscribers: 400,
            max_steps: 10,
            step_secs: 1.0,
            max_loss: 0.001,
            p99_ms: 100.0,
            server_args: String::new(),
            in_phase: false,
            outcome: Default::default(),
        };
        assert_eq!(ladder(&args), [100, 150, 225, 338]);
        assert_eq!(ladder(&SfuAudioArgs { max_steps: 2, ..args.clone() }), [100, 150]);
        assert_eq!(ladder(&SfuAudioArgs { max_subscribers: 337, ..args }), [100, 150, 225], "338 rounds past 337");
    }
}
