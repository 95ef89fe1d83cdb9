#!/usr/bin/env bash
# Tier 3: golden SQL regression tests. Each tests/regress/sql/NAME.sql runs through psql in a fresh
# database of a throwaway cluster (run as `postgres`); the output, with errors printed as
# "ERROR:  SQLSTATE: message" plus DETAIL and HINT, must equal tests/regress/expected/NAME.out.
# tests/regress/setup/NAME.sh, if present, prepares the database first. Then a pg_dump/restore check
# (tests/regress/dump_restore.sh), a streaming standby check (tests/regress/standby.sh), a hostile
# search_path check (tests/regress/hostile_path.sh), the upgrade check (tests/upgrade/upgrade.sh), the Jira
# sync check (tests/regress/jira_sync.sh), the concurrency checks (jobs, statistics refreshes) and
# every golden test again on databases made by ALTER EXTENSION UPDATE from the released versions.
#   scripts/regress.sh [--accept] [NAME...]   --accept: write the results over the expected files;
#   with NAMEs only those golden tests run (no cluster-level checks).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
cd "$root"
accept=0
names=()
for a in "$@"; do
  case "$a" in --accept) accept=1 ;; *) names+=("$a") ;; esac
done
full=0
if [ ${#names[@]} -eq 0 ]; then
  full=1
  for f in tests/regress/sql/*.sql; do names+=("$(basename "$f" .sql)"); done
fi

echo "[regress] installing the extension into PostgreSQL $PG_MAJOR"
cargo pgrx install --pg-config "$PG_CONFIG" >/dev/null

base="${REGRESS_BASE:-/var/tmp/agile_analytics-regress}"
port="${REGRESS_PORT:-28817}"
cluster_stop "$base" || true
rm -rf "$base"
cluster_start "$base" "$port" regress_cron \
  "analytics.worker_database = 'regress_06_worker'" "analytics.refresh_interval = 1" "max_worker_processes = 64" \
  "analytics.embed_interval = 0"
trap 'cluster_stop "$base"' EXIT

mkdir -p tests/regress/results
failed=()
# Runs one golden test; LABEL prefixes its name in messages and results (the upgrade pass).
run_golden() {
  local name="$1" label="${2:-}"
  local sql="tests/regress/sql/$name.sql"
  local exp="tests/regress/expected/$name.out"
  local out="tests/regress/results/$label$name.out"
  local db="regress_$name"
  cluster_psql "$base" "$port" postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  if [ -f "tests/regress/setup/$name.sh" ]; then
    PGHOST="$base/sock" PGPORT="$port" PGDATABASE="$db" PGUSER=postgres bash "tests/regress/setup/$name.sh"
  fi
  psql -X -a -h "$base/sock" -p "$port" -U postgres -d "$db" \
       -v VERBOSITY=verbose -v SHOW_CONTEXT=never < "$sql" 2>&1 | grep -v '^LOCATION:' > "$out" || true
  if [ "$accept" = 1 ]; then
    cp "$out" "$exp"
    echo "[regress] $name: accepted"
  elif [ -f "$exp" ] && diff -u "$exp" "$out" > "tests/regress/results/$label$name.diff"; then
    echo "[regress] $label$name: ok"
    rm -f "tests/regress/results/$label$name.diff"
  else
    [ -f "$exp" ] || echo "[regress] $name: no expected output ($exp)"
    cat "tests/regress/results/$label$name.diff" 2>/dev/null | head -80
    echo "[regress] $label$name: FAILED"
    failed+=("$label$name")
  fi
}
for name in "${names[@]}"; do
  run_golden "$name"
done
# A cluster-level check: a script run against this cluster (PGHOST, PGPORT, PGUSER, and the server's
# log, data directory and PG_BIN for those that need them).
run_check() {
  local name="$1" script="$2"
  if PGHOST="$base/sock" PGPORT="$port" PGUSER=postgres PG_BIN="$PG_BIN" SERVER_LOG="$base/server.log" \
       CLUSTER_DATA="$base/data" bash "$script"; then
    echo "[regress] $name: ok"
  else
    echo "[regress] $name: FAILED"
    failed+=("$name")
  fi
}
# The cluster-level checks run with the whole set (they need the databases the golden tests made).
if [ "$accept" = 0 ] && [ "$full" = 1 ]; then
  # pg_dump/restore keeps user-created and edited metric definitions.
  run_check dump_restore tests/regress/dump_restore.sh
  # A streaming standby of this cluster answers specs; its result cache is read, never written.
  run_check standby tests/regress/standby.sh
  # A hostile search_path against every function of the extension (the look-alikes it plants never
  # run, answers equal, the cache is not poisoned, every function is pinned, the worker too).
  run_check hostile_path tests/regress/hostile_path.sh
  # ALTER EXTENSION UPDATE from every released version: the schema equals a fresh install's, data and
  # access survive, the library serves the old SQL.
  run_check upgrade tests/upgrade/upgrade.sh
  # Concurrent submits of the same job queue it once.
  run_check jobs_concurrent tests/regress/jobs_concurrent.sh
  # Per-tenant statistics refreshes: a write during its tenant's refresh is not lost, concurrent refreshes
  # of one tenant take turns, other tenants are untouched.
  run_check stats_concurrent tests/regress/stats_concurrent.sh
  # The job workers: results, access, cancel, progress, 1,000 jobs once, kill -9 of a worker and of the
  # postmaster (the cluster is restarted).
  run_check jobs_workers tests/regress/jobs_workers.sh
  # Embedding by the job workers: new and changed issues without a call, a writer's backfill job.
  run_check embed_workers tests/regress/embed_workers.sh
  # The Jira sync against the scripted Jira: both flavours equal analytics_ingest_jira of the same data,
  # incremental, faults, kill -9 and resume, full resync and prune, the credential never shown.
  run_check jira_sync tests/regress/jira_sync.sh
  # The reference in docs/ matches the installed extension.
  run_check docs tests/docs/check.sh
  # Every golden test again, on databases made through the update path: with the current install
  # script set aside, CREATE EXTENSION installs the oldest released version and updates it.
  fresh_script="$("$PG_CONFIG" --sharedir)/extension/agile_analytics--$EXT_VERSION.sql"
  mv "$fresh_script" "$fresh_script.aside"
  trap '[ -f "$fresh_script.aside" ] && mv -f "$fresh_script.aside" "$fresh_script"; cluster_stop "$base"' EXIT
  for name in "${names[@]}"; do
    run_golden "$name" "upgraded_"
  done
  mv -f "$fresh_script.aside" "$fresh_script"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "[regress] failed: ${failed[*]}"
  exit 1
fi
echo "[regress] all ${#names[@]} passed"
