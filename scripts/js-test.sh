#!/usr/bin/env bash
# The JS package's suites: its TypeScript declarations type-check an app; Node's test
# runner drives clients against a real server (direct and through a proxy the tests can
# cut) and the package in headless Chromium (on the server's origin, an allowed origin
# and a foreign one). Takes the server binary; the package must be built
# (scripts/js-build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/test-server.sh

server_bin=${1:?usage: scripts/js-test.sh path/to/chatter-server}
ensure_chromium
cargo build -q -p call-bot # the native participant of the call test
(cd bindings/js && node_modules/.bin/tsc -p tsconfig.json)
allowed_port=$(free_port)
start_test_server "$server_bin" "http://127.0.0.1:$allowed_port"
export TEST_ALLOWED_ORIGIN_PORT=$allowed_port
(cd bindings/js && node --test --test-concurrency=1 test/*.test.mjs) || { test_server_logs; exit 1; }
