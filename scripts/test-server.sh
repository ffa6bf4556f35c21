# A throwaway Chatter server for the browser and JS suites, reachable directly and
# through scripts/test-proxy.mjs (which a test can tell to cut connections and keep
# clients out). Source it, then `start_test_server SERVER_BIN ALLOWED_ORIGIN`: it exports
# TEST_SERVER_URL (direct), TEST_PROXY_URL and TEST_PROXY_CONTROL, and stops both on exit.

TEST_SERVER_PIDS=()
TEST_SERVER_DIR=""

stop_test_server() {
  for pid in "${TEST_SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  TEST_SERVER_PIDS=()
  [ -n "$TEST_SERVER_DIR" ] && rm -rf "$TEST_SERVER_DIR"
  TEST_SERVER_DIR=""
}

# Prints the server's and the proxy's logs (after a failure).
test_server_logs() {
  echo "--- server log"; tail -50 "$TEST_SERVER_DIR/server.log"
  echo "--- proxy log"; cat "$TEST_SERVER_DIR/proxy.log"
}

start_test_server() {
  local bin=$1 origin=$2 server_port proxy_port control_port
  TEST_SERVER_DIR=$(mktemp -d /tmp/chatter-test-server.XXXXXX)
  trap stop_test_server EXIT
  server_port=$(free_port)
  proxy_port=$(free_port)
  control_port=$(free_port)
  "$bin" --listen "127.0.0.1:$server_port" --data-dir "$TEST_SERVER_DIR/data" \
    --allowed-origin "$origin" --log warn >"$TEST_SERVER_DIR/server.log" 2>&1 &
  TEST_SERVER_PIDS+=($!)
  node scripts/test-proxy.mjs "$proxy_port" "127.0.0.1:$server_port" "$control_port" \
    >"$TEST_SERVER_DIR/proxy.log" 2>&1 &
  TEST_SERVER_PIDS+=($!)
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$proxy_port/readyz" >/dev/null && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$proxy_port/readyz" >/dev/null || { test_server_logs; return 1; }
  export TEST_SERVER_URL="http://127.0.0.1:$server_port"
  export TEST_PROXY_URL="http://127.0.0.1:$proxy_port"
  export TEST_PROXY_CONTROL="http://127.0.0.1:$control_port"
}
