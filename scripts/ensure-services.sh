#!/usr/bin/env bash
# Makes PostgreSQL (DATABASE_URL) and Redis (REDIS_URL) reachable: reuses running servers, or
# starts local ones from the system's packages with their data under .run/, then creates the
# database named in DATABASE_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provenance}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
run_dir="$PWD/.run"

# postgres://user[:password]@host[:port]/database
pg_rest="${DATABASE_URL#*://}"
pg_auth="${pg_rest%%@*}"
pg_user="${pg_auth%%:*}"
pg_hostport="${pg_rest#*@}"
pg_hostport="${pg_hostport%%/*}"
pg_host="${pg_hostport%%:*}"
pg_port="${pg_hostport##*:}"
[ "$pg_port" = "$pg_hostport" ] && pg_port=5432
pg_database="${pg_rest#*/}"
pg_database="${pg_database%%\?*}"

redis_rest="${REDIS_URL#*://}"
redis_rest="${redis_rest##*@}"
redis_hostport="${redis_rest%%/*}"
redis_host="${redis_hostport%%:*}"
redis_port="${redis_hostport##*:}"
[ "$redis_port" = "$redis_hostport" ] && redis_port=6379

install_packages() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "Missing packages: $*. Install them with: sudo apt-get update && sudo apt-get install -y $*" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null
}

postgres_ready() { pg_isready -q -h "$pg_host" -p "$pg_port" 2>/dev/null; }

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ]; then
    install_packages postgresql
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  local data="$run_dir/postgres"
  mkdir -p "$data"
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    # PostgreSQL refuses to run as root; run it as the postgres system user.
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$data" postgres
    chown -R postgres "$data"
    as=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    "${as[@]}" "$bin/initdb" -D "$data" -U postgres --auth=trust >/dev/null
  fi
  echo "Starting PostgreSQL on $pg_host:$pg_port with data in $data"
  "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=$pg_host -c port=$pg_port -k $data" start >/dev/null
}

redis_ready() { redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null 2>&1; }

start_redis() {
  command -v redis-server >/dev/null || install_packages redis-server
  mkdir -p "$run_dir/redis"
  echo "Starting Redis on $redis_host:$redis_port with data in $run_dir/redis"
  redis-server --daemonize yes --bind "$redis_host" --port "$redis_port" --dir "$run_dir/redis" \
    --save "" --appendonly no --logfile "$run_dir/redis/redis.log"
}

command -v pg_isready >/dev/null && command -v psql >/dev/null || install_packages postgresql-client
command -v redis-cli >/dev/null || install_packages redis-tools

if postgres_ready; then echo "PostgreSQL reachable at $pg_host:$pg_port"; else start_postgres; fi
if redis_ready; then echo "Redis reachable at $redis_host:$redis_port"; else start_redis; fi

for _ in $(seq 1 50); do redis_ready && break; sleep 0.2; done
redis_ready || { echo "Redis did not start on $redis_host:$redis_port" >&2; exit 1; }

exists=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -Atc \
  "SELECT 1 FROM pg_database WHERE datname = '$pg_database'")
if [ "$exists" != "1" ]; then
  echo "Creating database $pg_database"
  psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -qc "CREATE DATABASE \"$pg_database\""
fi
