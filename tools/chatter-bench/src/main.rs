//! `chatter-bench`: runs a load scenario against Chatter and a peer in one invocation
//! and prints the comparison. The logic lives in the library modules.

use chatter_bench::{Cli, run};
use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(report) => {
            println!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("chatter-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
