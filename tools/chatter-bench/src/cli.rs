//! Command-line arguments.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Benchmarks Chatter against a peer, in one run on one machine.
#[derive(Parser, Debug)]
#[command(name = "chatter-bench", version)]
pub struct Cli {
    /// The scenario.
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// Scenarios.
#[derive(Subcommand, Debug)]
pub enum Scenario {
    /// N subscribers in one chat, one sender at a rising rate.
    Fanout(FanoutArgs),
    /// HTTP sends into many chats over several nodes on Postgres and Redis, delivered
    /// over WebSockets to every member, at a rising rate.
    E2eSend(E2eSendArgs),
    /// P publishers and a rising number of subscribers in one call, audio forwarded by
    /// the SFU to everyone.
    SfuAudio(SfuAudioArgs),
}

/// Settings of the sfu-audio scenario.
#[derive(Args, Debug, Clone)]
pub struct SfuAudioArgs {
    /// The chatter-server binary to measure.
    #[arg(long, default_value = "target/release/chatter-server")]
    pub server_bin: PathBuf,
    /// Participants sending audio.
    #[arg(long, default_value_t = 4)]
    pub publishers: usize,
    /// Subscribers (receiving only) in the first step.
    #[arg(long, default_value_t = 100)]
    pub start_subscribers: usize,
    /// Each step's subscribers are the last one's times this.
    #[arg(long, default_value_t = 1.5)]
    pub factor: f64,
    /// Subscribers at most.
    #[arg(long, default_value_t = 20_000)]
    pub max_subscribers: usize,
    /// Steps at most.
    #[arg(long, default_value_t = 12)]
    pub max_steps: usize,
    /// Seconds each step measures for.
    #[arg(long, default_value_t = 5.0)]
    pub step_secs: f64,
    /// The share of packets a step may lose (0.001: 0.1%).
    #[arg(long, default_value_t = 0.001)]
    pub max_loss: f64,
    /// The p99 send-to-receive latency a step may have, in milliseconds (past it the
    /// SFU is queueing, not keeping up).
    #[arg(long, default_value_t = 100.0)]
    pub p99_ms: f64,
    /// Every publisher sends at the same instant of each 20 ms frame (by default their
    /// sends are spread over it, as independent clients' are). In phase, the SFU gets
    /// every publisher's frame in one burst and handles them for each receiver at once.
    #[arg(long)]
    pub in_phase: bool,
    /// Extra flags for chatter-server, space-separated.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub server_args: String,
    /// What becomes of the report.
    #[command(flatten)]
    pub outcome: OutcomeArgs,
}

/// Settings of the e2e-send scenario.
#[derive(Args, Debug, Clone)]
pub struct E2eSendArgs {
    /// The chatter-server binary to measure.
    #[arg(long, default_value = "target/release/chatter-server")]
    pub server_bin: PathBuf,
    /// A Postgres superuser URL; the run creates a database of its own there.
    #[arg(long, env = "CHATTER_BENCH_DATABASE_URL")]
    pub database_url: String,
    /// The Redis the nodes share.
    #[arg(long, env = "CHATTER_BENCH_REDIS_URL")]
    pub redis_url: String,
    /// Server nodes (each its own process).
    #[arg(long, default_value_t = 2)]
    pub nodes: usize,
    /// Chats the messages are spread over.
    #[arg(long, default_value_t = 100)]
    pub chats: usize,
    /// Members of each chat, each with a WebSocket (spread over the nodes).
    #[arg(long, default_value_t = 10)]
    pub members: usize,
    /// First rate, in messages per second.
    #[arg(long, default_value_t = 500.0)]
    pub start_rate: f64,
    /// The rising rate and what each step sends.
    #[command(flatten)]
    pub steps: StepArgs,
    /// The p99 send-to-deliver latency a step may have, in milliseconds.
    #[arg(long, default_value_t = 20.0)]
    pub p99_ms: f64,
    /// HTTP requests in flight at most (more due sends count as not sent in time).
    #[arg(long, default_value_t = 512)]
    pub in_flight: usize,
    /// What becomes of the report.
    #[command(flatten)]
    pub outcome: OutcomeArgs,
}

/// Settings of the fanout scenario.
#[derive(Args, Debug, Clone)]
pub struct FanoutArgs {
    /// The chatter-server binary to measure.
    #[arg(long, default_value = "target/release/chatter-server")]
    pub server_bin: PathBuf,
    /// The peer's script (`node` runs it); `none` skips the peer.
    #[arg(long, default_value = "tools/chatter-bench/peer/ws-server.js")]
    pub peer: String,
    /// Subscribers in the chat.
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// First rate, in messages per second.
    #[arg(long, default_value_t = 20.0)]
    pub start_rate: f64,
    /// Seconds of unmeasured sending at the first rate before the first step.
    #[arg(long, default_value_t = 2.0)]
    pub warm_up_secs: f64,
    /// The rising rate and what each step sends.
    #[command(flatten)]
    pub steps: StepArgs,
    /// The p99 latency a step may have, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    pub p99_ms: f64,
    /// Extra flags for chatter-server (e.g. `--ws-flush-ms=20`), space-separated.
    #[arg(long, default_value = "", allow_hyphen_values = true)]
    pub server_args: String,
    /// What becomes of the report.
    #[command(flatten)]
    pub outcome: OutcomeArgs,
}

/// The steps of a scenario (shared by every scenario).
#[derive(Args, Debug, Clone)]
pub struct StepArgs {
    /// Each step's rate is the last one's times this.
    #[arg(long, default_value_t = 1.3)]
    pub factor: f64,
    /// After the first failed step, climb again from the last passing rate by this
    /// finer factor while below the failed rate (1 or less: no refinement).
    #[arg(long, default_value_t = 1.08)]
    pub refine: f64,
    /// Steps at most.
    #[arg(long, default_value_t = 20)]
    pub max_steps: usize,
    /// Seconds each step sends for.
    #[arg(long, default_value_t = 3.0)]
    pub step_secs: f64,
    /// Bytes of text per message.
    #[arg(long, default_value_t = 100)]
    pub message_bytes: usize,
}

/// What becomes of a scenario's report (shared by every scenario).
#[derive(Args, Debug, Clone, Default)]
pub struct OutcomeArgs {
    /// Fail (exit non-zero) unless every server measured passes at least one step.
    #[arg(long)]
    pub require_pass: bool,
    /// Also write the report to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}
