#!/usr/bin/env bash
# The SDK's wasm32 suite (chatter-sdk/tests/wasm) in headless Chromium, against a real
# server reached directly and through a proxy the page can cut. Takes the server binary
# to run (built by the caller).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/wasm-tools.sh

server_bin=${1:?usage: scripts/wasm-test.sh path/to/chatter-server}
ensure_chromium
ensure_chromedriver
ensure_wasm_bindgen

work=$(mktemp -d /tmp/chatter-wasm.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

server_port=$(free_port)
proxy_port=$(free_port)
control_port=$(free_port)
page_port=$(free_port)
"$server_bin" --listen "127.0.0.1:$server_port" --data-dir "$work/data" \
  --allowed-origin "http://127.0.0.1:$page_port" --log warn >"$work/server.log" 2>&1 &
pids+=($!)
node chatter-sdk/tests/wasm/proxy.mjs "$proxy_port" "127.0.0.1:$server_port" "$control_port" >"$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$server_port/readyz" >/dev/null && curl -sf "http://127.0.0.1:$proxy_port/healthz" >/dev/null && break
  sleep 0.1
done

export CHATTER_WASM_SERVER="http://127.0.0.1:$proxy_port"
export CHATTER_WASM_DIRECT_SERVER="http://127.0.0.1:$server_port"
export CHATTER_WASM_PROXY_CONTROL="http://127.0.0.1:$control_port"
export WASM_BINDGEN_TEST_ADDRESS="127.0.0.1:$page_port"
export WASM_BINDGEN_TEST_TIMEOUT=120
export CHROMEDRIVER
CHROMEDRIVER=$(command -v chromedriver)
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
if ! cargo test -p chatter-sdk --target wasm32-unknown-unknown --test wasm; then
  echo "--- server log"; tail -50 "$work/server.log"
  echo "--- proxy log"; cat "$work/proxy.log"
  exit 1
fi
