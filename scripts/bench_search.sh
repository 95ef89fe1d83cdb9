#!/usr/bin/env bash
# Semantic search speed (scripts/bench_search.py; issue 16, docs/search.md): embedding throughput in the
# server, HNSW build and recall@10 at 100,000 vectors, a tenant of 50's query latency. Prints figures.
#   scripts/bench_search.sh BASE PORT DB     on the cluster of scripts/bench.sh (the extension installed)
#   scripts/bench_search.sh                  on a cluster of its own (installs the release build)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
cd "$root"
if [ $# -ge 3 ]; then
  base="$1" port="$2" db="$3"
else
  base="${BENCH_SEARCH_DIR:-/var/tmp/agile_analytics-bench-search}"
  port="${BENCH_SEARCH_PORT:-28821}"
  db=agile_bench_search
  echo "[bench] building and installing the extension (release)"
  cluster_stop "$base" || true
  cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
  cluster_start "$base" "$port" "$db" "shared_buffers = '1GB'" "maintenance_work_mem = '1GB'" "analytics.embed_interval = 0"
  if ! cluster_psql "$base" "$port" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    cluster_psql "$base" "$port" postgres -c "CREATE DATABASE $db"
  fi
fi
cluster_psql "$base" "$port" "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS agile_analytics CASCADE"
PGHOST="$base/sock" PGPORT="$port" PGDATABASE="$db" PGUSER=postgres PG_BIN="$PG_BIN" python3 scripts/bench_search.py
