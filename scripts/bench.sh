#!/usr/bin/env bash
# Benchmarks at bench scale (default 1M issues, >= 50k sprints) on a dedicated local cluster. Prints
# figures and their ratio to the goals; it is not a test (nothing fails on a slow machine).
#   scripts/bench.sh [--issues N] [--fresh]      --fresh: drop and reload the benchmark database
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
cd "$root"
issues=1000000
fresh=0
while [ $# -gt 0 ]; do
  case "$1" in
    --issues) issues="$2"; shift 2 ;;
    --fresh) fresh=1; shift ;;
    *) echo "usage: $0 [--issues N] [--fresh]" >&2; exit 2 ;;
  esac
done
base="${BENCH_DIR:-/var/tmp/agile_analytics-bench}"
port="${BENCH_PORT:-28818}"
db=agile_bench

bash scripts/setup.sh >/dev/null
cluster_stop "$base"
echo "[bench] building and installing the extension (release)"
cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
cluster_start "$base" "$port" "$db" "shared_buffers = '4GB'" "work_mem = '64MB'" "maintenance_work_mem = '1GB'" \
  "max_wal_size = '8GB'" "checkpoint_timeout = '30min'" "max_parallel_workers_per_gather = 2" "track_commit_timestamp = on" \
  "max_worker_processes = 16" "analytics.embed_interval = 0"
psql_su() { cluster_psql "$base" "$port" "$@"; }

# Reload when asked, when the scale differs, or when the installed extension script changed.
ext_sum="$(sha256sum "$("$PG_CONFIG" --sharedir)/extension/agile_analytics--$EXT_VERSION.sql" | cut -c1-16)-$issues"
if [ "$fresh" = 1 ] || [ "$(cat "$base/loaded" 2>/dev/null)" != "$ext_sum" ]; then
  psql_su postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  psql_su "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION agile_analytics CASCADE"
  echo "[bench] loading $issues issues"
  PGHOST="$base/sock" PGPORT="$port" PGDATABASE="$db" PGUSER=postgres bash scripts/load_data.sh --issues "$issues" --end 2026-11-27
  echo "$ext_sum" > "$base/loaded"
fi
psql_su "$db" -At -c "SELECT format('[bench] data: %s issues, %s sprints, %s transitions, %s tenants',
  (SELECT count(*) FROM analytics.issues), (SELECT count(*) FROM analytics.sprints),
  (SELECT count(*) FROM analytics.issue_transitions), (SELECT count(DISTINCT tenant_id) FROM analytics.sprints))"

echo "[bench] full refresh of the materialized views (not concurrently, then concurrently)"
refresh() {
  psql_su "$db" -At -F ' ' -c "SELECT view_name, refresh_ms FROM analytics.analytics_refresh_views($1)"
}
full="$(refresh false)"; echo "$full" | sed 's/^/  plain:        /'
conc="$(refresh true)"; echo "$conc" | sed 's/^/  concurrently: /'
total_ms="$(echo "$full" | awk '{s += $2} END {print s}')"
psql_su "$db" -q -c "VACUUM ANALYZE analytics.mv_sprint_stats_enriched, analytics.mv_issue_comment_stats"

# Reading all sprint stats of one tenant ordered by problem score, as a reader role would.
tenant="$(psql_su "$db" -At -c "SELECT tenant_id FROM analytics.sprints GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
sprints="$(psql_su "$db" -At -c "SELECT count(*) FROM analytics.sprints WHERE tenant_id = '$tenant'")"
q="$base/read_stats.sql"
echo "SELECT * FROM analytics.sprint_stats ORDER BY sprint_problematic_score DESC NULLS LAST;" > "$q"
chmod 644 "$q"
lat() {
  PGOPTIONS="-c analytics.tenant_id=$tenant" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n -c 1 -T "$2" -f "$1" "$db" 2>/dev/null \
    | awk '/latency average/ {print $4}'
}
read_ms="$(lat "$q" 10)"
echo "SELECT * FROM analytics.sprint_facts WHERE tenant_id = '$tenant' ORDER BY sprint_problematic_score DESC NULLS LAST;" > "$base/read_live.sql"
chmod 644 "$base/read_live.sql"
live_ms="$(lat "$base/read_live.sql" 20)"

echo
echo "[bench] results (goals from the metrics catalog issue)"
awk -v r="$read_ms" -v s="$sprints" -v t="$tenant" -v f="$total_ms" -v l="$live_ms" 'BEGIN {
  printf "  read one tenant'\''s sprint stats by problem score: %.2f ms (%s sprints of tenant %s)  goal < 100 ms  ratio %.3f\n", r, s, t, r / 100
  printf "  full refresh of both materialized views:        %.1f s                              goal < 30 s    ratio %.3f\n", f / 1000, f / 30000
  printf "  same read computed live from sprint_facts:      %.1f ms (no materialization)\n", l
}'

echo
bash scripts/bench_spec.sh "$base" "$port" "$db" "$tenant"

echo
bash scripts/bench_stats.sh "$base" "$port" "$db" "$tenant"

echo
bash scripts/bench_flow.sh "$base" "$port" "$db" "$tenant"

echo
bash scripts/bench_jobs.sh "$base" "$port" "$db" "$tenant"

echo
bash scripts/bench_search.sh "$base" "$port" "$db"

echo
echo "[bench] Jira ingest"
bash scripts/bench_ingest.sh "$base" "$port" "$db"

echo
bash scripts/bench_jira.sh "$base" "$port"

echo
echo "[bench] builtin translator of analytics_ask (goal < 1 ms per question)"
cargo run --release -q -p analytics-core --example nl_bench
