//! The fanout scenario: N subscribers, one sender at a rising open-loop rate.

use crate::BenchError;
use crate::cli::FanoutArgs;
use crate::histogram::Histogram;
use crate::ladder::Ladder;
use crate::procstat;
use crate::rawws;
use crate::receive::{self, StepStats};
use crate::targets::{self, Target};
use crate::{finish, ms, table_head, verdict};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// One step's outcome.
#[derive(Debug, Clone)]
struct Step {
    rate: f64,
    sent: u64,
    delivered: u64,
    p50: Duration,
    p99: Duration,
    server_cpu: f64,
    passed: bool,
}

/// One target's outcome.
#[derive(Debug)]
struct Outcome {
    name: String,
    steps: Vec<Step>,
    rss_peak: u64,
}

impl Outcome {
    fn best(&self) -> Option<&Step> {
        self.steps.iter().filter(|s| s.passed).max_by(|a, b| a.rate.total_cmp(&b.rate))
    }
}

async fn connect(target: &Target, headers: &[(String, String)]) -> Result<Socket, BenchError> {
    let mut request = target.ws_url.as_str().into_client_request().map_err(|e| BenchError::Connect(e.to_string()))?;
    for (k, v) in headers {
        let name = tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| BenchError::Connect(e.to_string()))?;
        request.headers_mut().insert(name, v.parse().map_err(|_| BenchError::Connect("bad header".into()))?);
    }
    // TCP_NODELAY, as a realtime client should: with Nagle, the sender's pong to a
    // server ping held its next sends until the server's delayed ACK (~40 ms).
    let (mut socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
        .await
        .map_err(|e| BenchError::Connect(e.to_string()))?;
    // Wait for `ready`.
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().contains("\"ready\"") => return Ok(socket),
            Some(Ok(_)) => continue,
            other => return Err(BenchError::Connect(format!("no ready frame: {other:?}"))),
        }
    }
}

/// The sender's socket, owned by one task that writes the batches it is given and reads
/// the socket in between (acks, whose latency goes to `acks` by step, and pings, which
/// tungstenite answers while reading).
fn spawn_sender(
    mut socket: Socket,
    acks: Arc<Vec<Histogram>>,
) -> (tokio::sync::mpsc::Sender<Vec<String>>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<String>>(1024);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                batch = rx.recv() => {
                    let Some(batch) = batch else { return };
                    for frame in batch {
                        if socket.feed(Message::text(frame)).await.is_err() {
                            return;
                        }
                    }
                    if socket.flush().await.is_err() {
                        return;
                    }
                }
                incoming = socket.next() => {
                    let text = match incoming {
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(_)) => continue,
                        _ => return,
                    };
                    if let Some((step, sent)) = receive::stamp(text.as_bytes())
                        && let Some(h) = acks.get(step)
                    {
                        h.record_uncounted(receive::now_micros().saturating_sub(sent));
                        h.add_count(1);
                    }
                }
            }
        }
    });
    (tx, task)
}

/// The step number stamped on warm-up messages: no step has it, so nobody counts them.
const WARM_UP: usize = 999_999;

/// Sends messages stamped with `step` at `rate` for `length`; answers how many.
async fn send_at(
    sink: &tokio::sync::mpsc::Sender<Vec<String>>,
    target: &Target,
    text: &str,
    rate: f64,
    length: Duration,
    step: usize,
) -> Result<u64, BenchError> {
    let started = Instant::now();
    let mut sent = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    while started.elapsed() < length {
        tick.tick().await;
        let due = (rate * started.elapsed().as_secs_f64()) as u64;
        let mut batch = Vec::new();
        while sent < due {
            let frame = json!({
                "type": "send", "ref": sent.to_string(), "chat_id": target.chat_id, "text": text,
                "client_id": receive::client_id(step),
            });
            batch.push(frame.to_string());
            sent += 1;
        }
        if !batch.is_empty() {
            sink.send(batch).await.map_err(|_| BenchError::Connect("the sender's socket closed".into()))?;
        }
    }
    Ok(sent)
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn measure(target: &Target, args: &FanoutArgs) -> Result<Outcome, BenchError> {
    let stats: Arc<Vec<StepStats>> = Arc::new((0..args.steps.max_steps).map(|_| StepStats::default()).collect());
    let mut readers = Vec::new();
    for _ in 0..args.subscribers {
        let mut socket = rawws::connect(&target.ws_url, &target.subscriber_headers)
            .await
            .map_err(|e| BenchError::Connect(e.to_string()))?;
        // As a client with nothing to catch up on: live events start at once.
        socket.send_text(r#"{"type":"resume","chats":{}}"#).await.map_err(|e| BenchError::Connect(e.to_string()))?;
        readers.push(receive::spawn_reader(socket, stats.clone()));
    }
    let acks: Arc<Vec<Histogram>> = Arc::new((0..args.steps.max_steps).map(|_| Histogram::new()).collect());
    let (sink, sender) = spawn_sender(connect(target, &target.sender_headers).await?, acks.clone());
    let text = "x".repeat(args.steps.message_bytes);
    if args.warm_up_secs > 0.0 {
        // Unmeasured: a server's first seconds (a JIT compiling, buffers growing) are not
        // its capacity.
        send_at(&sink, target, &text, args.start_rate, Duration::from_secs_f64(args.warm_up_secs), WARM_UP).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut steps = Vec::new();
    let mut ladder = Ladder::new(args.start_rate, args.steps.factor, args.steps.refine);
    for (i, step_stats) in stats.iter().enumerate() {
        let Some(rate) = ladder.next else { break };
        let cpu_before = procstat::cpu_time(target.pid()).unwrap_or_default();
        let own_cpu_before = procstat::cpu_time(std::process::id()).unwrap_or_default();
        let started = Instant::now();
        let sent = send_at(&sink, target, &text, rate, Duration::from_secs_f64(args.steps.step_secs), i).await?;
        let sending = started.elapsed();
        let expected = sent * args.subscribers as u64;
        let deadline = Instant::now() + Duration::from_secs(2);
        while step_stats.received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let cpu = procstat::cpu_time(target.pid()).unwrap_or_default().saturating_sub(cpu_before);
        let own_cpu = procstat::cpu_time(std::process::id()).unwrap_or_default().saturating_sub(own_cpu_before);
        let delivered = step_stats.received.load(Ordering::Relaxed);
        let p99 = step_stats.latency.quantile(0.99);
        let step = Step {
            rate,
            sent,
            delivered,
            p50: step_stats.latency.quantile(0.5),
            p99,
            server_cpu: cpu.as_secs_f64() / sending.as_secs_f64(),
            passed: delivered >= expected && p99.as_secs_f64() * 1000.0 <= args.p99_ms,
        };
        eprintln!(
            "{}: step {i}: {:.0} msg/s x {} = {:.0} deliveries/s, got {}/{}, p50 {:?}, p99 {:?}, sender's answers p99 {:?}, server CPU {:.0}%, load client CPU {:.0}%{}",
            target.name,
            rate,
            args.subscribers,
            rate * args.subscribers as f64,
            delivered,
            expected,
            step.p50,
            step.p99,
            acks[i].quantile(0.99),
            step.server_cpu * 100.0,
            own_cpu.as_secs_f64() / sending.as_secs_f64() * 100.0,
            if step.passed { "" } else { "  <- fails" }
        );
        let passed = step.passed;
        steps.push(step);
        if ladder.record(passed) {
            // Let the overloaded server drain before the finer steps.
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    }
    let rss_peak = procstat::memory(target.pid()).map(|(_, peak)| peak).unwrap_or(0);
    sender.abort();
    for r in readers {
        r.abort();
    }
    Ok(Outcome { name: target.name.clone(), steps, rss_peak })
}

fn report(outcomes: &[Outcome], args: &FanoutArgs) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### fanout: {} subscribers, {}-byte messages, p99 <= {} ms, no loss\n",
        args.subscribers, args.steps.message_bytes, args.p99_ms
    );
    table_head(
        &mut out,
        &["server", "best rate (msg/s)", "deliveries/s", "p50", "p99", "server CPU", "server peak RSS"],
    );
    for o in outcomes {
        match o.best() {
            Some(s) => {
                let _ = writeln!(
                    out,
                    "| {} | {:.0} | {:.0} | {:.1} ms | {:.1} ms | {:.0}% | {:.1} MiB |",
                    o.name,
                    s.rate,
                    s.rate * args.subscribers as f64,
                    ms(s.p50),
                    ms(s.p99),
                    s.server_cpu * 100.0,
                    o.rss_peak as f64 / 1048576.0
                );
            }
            None => {
                let _ =
                    writeln!(out, "| {} | no step passed | | | | | {:.1} MiB |", o.name, o.rss_peak as f64 / 1048576.0);
            }
        }
    }
    for o in outcomes {
        let _ = writeln!(out, "\nSteps of {}:\n", o.name);
        table_head(&mut out, &["rate (msg/s)", "sent", "delivered / expected", "p50", "p99", "server CPU", "result"]);
        for s in &o.steps {
            let _ = writeln!(
                out,
                "| {:.0} | {} | {} / {} | {:.1} ms | {:.1} ms | {:.0}% | {} |",
                s.rate,
                s.sent,
                s.delivered,
                s.sent * args.subscribers as u64,
                ms(s.p50),
                ms(s.p99),
                s.server_cpu * 100.0,
                verdict(s.passed)
            );
        }
    }
    if let [chatter, peer] = outcomes
        && let (Some(c), Some(p)) = (chatter.best(), peer.best())
    {
        let _ = writeln!(out, "\nRatio {} / {}: {:.2}x", chatter.name, peer.name, c.rate / p.rate);
    }
    out
}

/// Runs the scenario against Chatter, then the peer; answers the report.
pub async fn run(args: FanoutArgs) -> Result<String, BenchError> {
    let mut outcomes = Vec::new();
    {
        let target = targets::chatter(&args.server_bin, args.subscribers, &args.server_args).await?;
        outcomes.push(measure(&target, &args).await?);
    }
    if args.peer != "none" {
        let target = targets::ws_peer(&args.peer).await?;
        outcomes.push(measure(&target, &args).await?);
    }
    let text = report(&outcomes, &args);
    finish(text, outcomes.iter().all(|o| o.best().is_some()), &args.outcome)
}
