//! Load scenarios for Chatter, each measured against a peer in the same run.
//!
//! `fanout`: N subscribers in one chat, one sender posting 100-byte messages at a
//! rising open-loop rate. Each step passes if every subscriber got every message and
//! the p99 send-to-receive latency is at most 50 ms; the result is the highest passing
//! delivery rate, with the server's CPU and memory.
//!
//! `e2e-send`: members of many chats, their sockets spread over several nodes on one
//! Postgres and one Redis; HTTP sends at a rising open-loop rate. Each step passes if
//! every send was accepted, every member got every message of their chats, and the
//! p99 send-to-deliver latency is within the bound (20 ms); the result is the highest
//! passing rate of accepted messages.
//!
//! `sfu-audio`: P publishers and N subscribers in one call, audio forwarded by the SFU;
//! N rises while loss stays under 0.1% and p99 latency within 100 ms; the result is the
//! server's CPU time per forwarded packet and the audio consumers one core serves.

mod cli;
mod e2e_send;
mod fanout;
mod histogram;
mod ladder;
mod procstat;
mod rawws;
mod receive;
mod sfu_audio;
mod targets;

pub use cli::{Cli, Scenario};

use cli::OutcomeArgs;
use std::time::Duration;

use thiserror::Error;

/// Why a benchmark could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// A server did not start.
    #[error("could not start {0}: {1}")]
    Start(String, String),
    /// Setting up users and chats failed.
    #[error("setup failed: {0}")]
    Setup(String),
    /// Connecting the load failed.
    #[error("connecting failed: {0}")]
    Connect(String),
    /// A server passed no step (with `--require-pass`).
    #[error("a server passed no step:\n{0}")]
    NoPass(String),
    /// Writing the report failed.
    #[error("writing the report: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the chosen scenario; answers the report (Markdown).
pub async fn run(cli: Cli) -> Result<String, BenchError> {
    match cli.scenario {
        Scenario::Fanout(args) => fanout::run(args).await,
        Scenario::E2eSend(args) => e2e_send::run(args).await,
        Scenario::SfuAudio(args) => sfu_audio::run(args).await,
    }
}

/// Ends a scenario: the report, written to the file asked for; an error (carrying the
/// report) when a pass was required and some server passed no step.
fn finish(text: String, all_passed_a_step: bool, outcome: &OutcomeArgs) -> Result<String, BenchError> {
    if outcome.require_pass && !all_passed_a_step {
        return Err(BenchError::NoPass(text));
    }
    if let Some(path) = &outcome.out {
        std::fs::write(path, &text)?;
    }
    Ok(text)
}

/// A duration in milliseconds, for the reports.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Starts a Markdown table in a report: the header row and its separator.
fn table_head(out: &mut String, columns: &[&str]) {
    out.push_str(&format!("| {} |\n|{}\n", columns.join(" | "), "---|".repeat(columns.len())));
}

/// A step's outcome in a report table.
fn verdict(passed: bool) -> &'static str {
    if passed { "pass" } else { "fail" }
}
