#!/usr/bin/env bash
# The SDK's wasm32 suite (chatter-sdk/tests/wasm) in headless Chromium, against a real
# server reached directly and through a proxy the page can cut. Takes the server binary
# to run (built by the caller).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/wasm-tools.sh
source scripts/test-server.sh

server_bin=${1:?usage: scripts/wasm-test.sh path/to/chatter-server}
ensure_chromium
ensure_chromedriver
ensure_wasm_bindgen

page_port=$(free_port)
start_test_server "$server_bin" "http://127.0.0.1:$page_port"
export CHATTER_WASM_SERVER=$TEST_PROXY_URL
export CHATTER_WASM_DIRECT_SERVER=$TEST_SERVER_URL
export CHATTER_WASM_PROXY_CONTROL=$TEST_PROXY_CONTROL
export WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$page_port"
export WASM_BINDGEN_TEST_TIMEOUT=120
export CHROMEDRIVER
CHROMEDRIVER=$(command -v chromedriver)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
cargo test -p chatter-sdk --target wasm32-unknown-unknown --test wasm || { test_server_logs; exit 1; }
