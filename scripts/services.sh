# Throwaway services for the tests, on free loopback ports with data in a temp folder.
# Source it, then call start_postgres and start_redis; stop_services runs on exit (also when a test
# fails). Postgres must not run as root: as root, its commands run as `postgres`.

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SERVICES_DIR=""

# Installs Debian packages (as root), reading the package lists first if they are stale.
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "$@" >/dev/null; }
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

services_dir() {
  if [ -z "$SERVICES_DIR" ]; then
    SERVICES_DIR=$(mktemp -d /tmp/chatter-services.XXXXXX)
    chmod 755 "$SERVICES_DIR"
    trap stop_services EXIT
  fi
}

# Starts Postgres and exports CHATTER_TEST_DATABASE_URL (a superuser on database postgres).
# Tests run it with fsync off; `start_postgres durable` keeps fsync on (benchmarks).
start_postgres() {
  local fsync="-c fsync=off"
  [ "${1:-}" = durable ] && fsync=""
  if [ ! -x "$PGBIN/initdb" ] && [ "$(id -u)" = 0 ]; then
    apt_install postgresql
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  services_dir
  local dir="$SERVICES_DIR/pg" port
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(free_port)
  as_postgres "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log"
  as_postgres "$PGBIN/pg_ctl" -D "$dir/data" -w -l "$dir/server.log" start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir $fsync -c max_connections=300" >/dev/null
  export CHATTER_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  echo "postgres on 127.0.0.1:$port"
}

# Starts Redis (from apt when missing, as root) and exports CHATTER_TEST_REDIS_URL.
start_redis() {
  if ! command -v redis-server >/dev/null && [ "$(id -u)" = 0 ]; then
    apt_install redis-server
  fi
  command -v redis-server >/dev/null || { echo "redis-server is missing (run as root to install it)" >&2; return 1; }
  services_dir
  local dir="$SERVICES_DIR/redis" port
  mkdir -p "$dir"
  port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  export CHATTER_TEST_REDIS_URL="redis://127.0.0.1:$port"
  echo "redis on 127.0.0.1:$port"
}

# Installs nginx (from apt, as root) for the tests that put it in front of two nodes;
# they start their own on a free port.
ensure_nginx() {
  if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ]; then
    apt_install nginx-light
  fi
  command -v nginx >/dev/null || { echo "nginx is missing (run as root to install it)" >&2; return 1; }
}

# Installs Debian's Chromium (as root; never a downloaded browser) and the page driver
# (playwright-core from npm) for the browser interop tests.
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ]; then
    apt_install chromium
  fi
  [ -x /usr/bin/chromium ] || { echo "chromium is missing (run as root to install it)" >&2; return 1; }
  npm ci --prefix chatter-sdk/tests/browser --no-audit --no-fund --silent
}

stop_services() {
  if [ -n "$SERVICES_DIR" ] && [ -f "$SERVICES_DIR/redis/redis.pid" ]; then
    kill "$(cat "$SERVICES_DIR/redis/redis.pid")" 2>/dev/null || true
  fi
  if [ -n "$SERVICES_DIR" ] && [ -d "$SERVICES_DIR/pg/data" ]; then
    as_postgres "$PGBIN/pg_ctl" -D "$SERVICES_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  [ -n "$SERVICES_DIR" ] && rm -rf "$SERVICES_DIR"
  SERVICES_DIR=""
}
