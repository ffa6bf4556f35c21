#!/usr/bin/env bash
# The benchmarks: builds release binaries, installs the peer's npm package, raises the
# open-file limit for the sockets, and runs, each in one invocation:
#   fanout    Chatter against the `ws` peer (extra arguments go to `chatter-bench fanout`)
#   e2e-send  two nodes on a throwaway Postgres (fsync on: durable commits) and Redis
#   sfu-audio publishers and a rising number of subscribers in one call
# `scripts/bench.sh fanout ...` (or e2e-send, sfu-audio) runs one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
which="${1:-all}"
case "$which" in fanout | e2e-send | sfu-audio) shift ;; *) which=all ;; esac
cargo build --release -p chatter-server -p chatter-bench
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# The build just wrote gigabytes: write them back now, not during the measurement,
# where the writeback would slow the servers' disk writes.
sync
if [ "$which" = all ] || [ "$which" = fanout ]; then
  npm ci --prefix tools/chatter-bench/peer --no-audit --no-fund --silent
  target/release/chatter-bench fanout --server-bin target/release/chatter-server \
    --out target/bench-fanout.md "$@"
fi
if [ "$which" = all ] || [ "$which" = e2e-send ]; then
  start_postgres durable
  start_redis
  target/release/chatter-bench e2e-send --server-bin target/release/chatter-server \
    --database-url "$CHATTER_TEST_DATABASE_URL" --redis-url "$CHATTER_TEST_REDIS_URL" \
    --out target/bench-e2e-send.md "$@"
fi
if [ "$which" = all ] || [ "$which" = sfu-audio ]; then
  target/release/chatter-bench sfu-audio --server-bin target/release/chatter-server \
    --out target/bench-sfu-audio.md "$@"
fi
