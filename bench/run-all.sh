#!/usr/bin/env bash
# Runs the service benchmarks, then pgbench's single-row insert rate on the same PostgreSQL for
# comparison. Uses DATABASE_URL (default the local provenance_bench database) and REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
export DATABASE_URL="${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/provenance_bench}"
DATABASE_URL="$DATABASE_URL" scripts/ensure-services.sh >/dev/null

echo "== pgbench: single-row INSERT, 32 clients, 15 s"
psql "$DATABASE_URL" -qc "DROP TABLE IF EXISTS bench_rows; CREATE TABLE bench_rows (id bigserial PRIMARY KEY, event_id text UNIQUE, payload text, at timestamptz DEFAULT now())"
pgbench -n -c 32 -j 2 -T 15 -f bench/pgbench-insert.sql "$DATABASE_URL" | grep -E "tps|latency average"
psql "$DATABASE_URL" -qc "DROP TABLE bench_rows"

echo "== service benchmarks"
npx ts-node --transpile-only -r tsconfig-paths/register bench/bench.ts
