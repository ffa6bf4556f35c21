#!/usr/bin/env bash
# The benchmarks: builds release binaries, installs the peer's npm package, raises the
# open-file limit for the sockets, and runs the fanout scenario against Chatter and the
# `ws` peer in one invocation. Extra arguments go to `chatter-bench fanout`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p chatter-server -p chatter-bench
npm ci --prefix tools/chatter-bench/peer --no-audit --no-fund --silent
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# The build just wrote gigabytes: write them back now, not during the measurement,
# where the writeback would slow the servers' disk writes.
sync
target/release/chatter-bench fanout --server-bin target/release/chatter-server \
  --out target/bench-fanout.md "$@"
