#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what it needs, then checks
# formatting and lints, runs every test, builds the wasm targets, and runs each
# benchmark once with tiny numbers so it cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
source scripts/services.sh

step "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown

step "format"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo clippy -p chatter-sdk -p chatter-js --target wasm32-unknown-unknown --lib --test wasm -- -D warnings

step "services for the tests (throwaway, stopped on exit)"
start_postgres
start_redis
ensure_nginx
ensure_chromium
export CHATTER_REQUIRE_SERVICES=1

step "tests"
cargo test --workspace --all-features

step "the server's HTTP and WebSocket suites again, on Postgres and Redis"
CHATTER_IT_BACKEND=postgres cargo test -p chatter-server --all-features --test it

step "the REST API fuzzed against its generated reference (schemathesis, every check)"
cargo build -p chatter-server
scripts/api-fuzz.sh target/debug/chatter-server

step "API docs of chatter-core and chatter-sdk (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -p chatter-core -p chatter-sdk --no-deps
RUSTDOCFLAGS="-D warnings" cargo doc -p chatter-sdk --no-deps --target wasm32-unknown-unknown

step "wasm32 build of chatter-core and chatter-sdk"
cargo build -p chatter-core -p chatter-sdk --target wasm32-unknown-unknown

step "the SDK on wasm32 in headless Chromium against a real server (login, live, reconnect, stores)"
scripts/wasm-test.sh target/debug/chatter-server

step "the JS package: built, its types checked, its Node suite against a real server"
scripts/js-build.sh
scripts/js-test.sh target/debug/chatter-server

step "benchmark smoke run (tiny numbers)"
npm ci --prefix tools/chatter-bench/peer --no-audit --no-fund --silent
cargo build -p chatter-server -p chatter-bench
# The smoke runs check the machinery, not latency: one message held up by the disk
# writeback the build just caused would fail a 10-message step on p99.
target/debug/chatter-bench fanout --server-bin target/debug/chatter-server \
  --subscribers 5 --start-rate 20 --max-steps 2 --step-secs 0.5 --p99-ms 1000 --require-pass
target/debug/chatter-bench e2e-send --server-bin target/debug/chatter-server \
  --database-url "$CHATTER_TEST_DATABASE_URL" --redis-url "$CHATTER_TEST_REDIS_URL" \
  --chats 4 --members 3 --start-rate 20 --max-steps 2 --step-secs 0.5 --p99-ms 1000 --require-pass
target/debug/chatter-bench sfu-audio --server-bin target/debug/chatter-server \
  --publishers 2 --start-subscribers 3 --max-steps 2 --step-secs 1 --p99-ms 1000 --require-pass

echo
echo "all checks passed"
