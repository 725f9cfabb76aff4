#!/usr/bin/env bash
# Runs every benchmark on this machine and prints the figures that docs/benchmarks.md records:
#   1. pgbench single-row INSERT rate (the reference for webhook intake),
#   2. webhook intake through the built API (wrk, bench/webhook.lua),
#   3. GET /v1/freshness at 100k images (wrk, bench/freshness.lua, data from bench/seed.sql),
#   4. tag-move fan-out to 10k descendants (bench/fan-out.ts).
# All load goes to 127.0.0.1. Settings: BENCH_DATABASE_URL, REDIS_URL, API_PROCESSES (default 2),
# BENCH_SECONDS (default 15), BENCH_CONNECTIONS (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."

export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provenance_bench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
seconds="${BENCH_SECONDS:-15}"
connections="${BENCH_CONNECTIONS:-32}"
port=18080
run_dir=$(mktemp -d)
api_pid=""

cleanup() {
  [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

scripts/ensure-tools.sh
command -v wrk >/dev/null || {
  [ "$(id -u)" -eq 0 ] || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
}
scripts/ensure-services.sh >/dev/null
psql -q "${DATABASE_URL%/*}/postgres" -c "DROP DATABASE IF EXISTS ${DATABASE_URL##*/}" \
  -c "CREATE DATABASE ${DATABASE_URL##*/}"
node dist/apps/cli/src/main.js migrate >/dev/null

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(node --version), $(psql -V | cut -d' ' -f3- )"

echo "== pgbench: single-row INSERT, $connections clients, ${seconds} s"
psql -q "$DATABASE_URL" -c "CREATE TABLE bench_rows (id bigserial PRIMARY KEY, event_id text UNIQUE, payload text, at timestamptz DEFAULT now())"
pgbench -n -c "$connections" -j 2 -T "$seconds" -f bench/pgbench-insert.sql "$DATABASE_URL" | grep -E "^tps|latency average"
psql -q "$DATABASE_URL" -c "DROP TABLE bench_rows"

export WEBHOOK_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export PROVENANCE_CONFIG="$PWD/config/provenance.local.yaml" PORT=$port HOST=127.0.0.1
export QUEUE_PREFIX="bench-$$" API_PROCESSES="${API_PROCESSES:-2}" LOG_LEVEL=info
node dist/apps/api/src/main.js >"$run_dir/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done

echo "== webhook intake: $connections connections, ${seconds} s, API_PROCESSES=$API_PROCESSES (worker not running)"
wrk -t2 -c "$connections" -d "${seconds}s" --latency -s bench/webhook.lua \
  "http://127.0.0.1:$port/v1/webhooks/distribution/local" | grep -E "Requests/sec|^ +(50|99)%"
redis-cli --scan --pattern "bench-$$:*" | xargs -r -n 500 redis-cli del >/dev/null

echo "== freshness query at 100k images, API_PROCESSES=$API_PROCESSES"
psql -q "$DATABASE_URL" -f bench/seed.sql
export API_KEY=$(node dist/apps/cli/src/main.js keys create --name bench --role ci)
export IMAGE_HOST=127.0.0.1:5000
for clients in 4 16; do
  echo "-- $clients connections, ${seconds} s"
  wrk -t2 -c "$clients" -d "${seconds}s" --latency -s bench/freshness.lua "http://127.0.0.1:$port" \
    | grep -E "Requests/sec|^ +(50|99)%"
done
kill "$api_pid" && wait "$api_pid" 2>/dev/null || true
api_pid=""

echo "== tag-move fan-out to 10k descendants"
npx ts-node --transpile-only -r tsconfig-paths/register bench/fan-out.ts

# Signature benchmarks. BENCH_VERIFY_SECONDS (default 5) sets the timed seconds per format, and
# BENCH_IMAGES (default 10000) the images of the re-verification walk.
echo "== signature verification per format, one core"
command -v taskset >/dev/null || { echo "taskset is missing: sudo apt-get install -y util-linux" >&2; exit 1; }
taskset -c 0 npx ts-node --transpile-only -r tsconfig-paths/register bench/signatures.ts

echo "== signature re-verification of ${BENCH_IMAGES:-10000} images after a policy change"
npx ts-node --transpile-only -r tsconfig-paths/register bench/reverify.ts
