#!/usr/bin/env bash
# Specs on a read-only standby (a streaming replica of the regression cluster): analytics_run, _rows,
# _compile, _validate, _explain, analytics_ask, analytics_metric_value and the cache statistics answer
# there as on the primary; the result cache is read (entries the primary wrote, when still valid) but
# never written, silently; functions that write refuse with 25006; the standby's log shows no other
# errors. Uses PGHOST/PGPORT/PGUSER of the running primary; STANDBY_BASE and STANDBY_PORT say where the
# standby runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
sbase="${STANDBY_BASE:-/var/tmp/agile_analytics-standby}"
sport="${STANDBY_PORT:-28827}"
db=regress_standby
pq() { command psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres "$@"; }
sq() { command psql -X -q -At -v ON_ERROR_STOP=1 -h "$sbase/sock" -p "$sport" -U postgres -d "$db" "$@"; }
stop_standby() { as_pg "$PG_BIN/pg_ctl" -D "$sbase/data" -m immediate -w stop >/dev/null 2>&1 || true; }
stop_standby
rm -rf "$sbase"
trap 'stop_standby; rm -rf "$sbase"; pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

pq -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
pq -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
pq -d "$db" -f "$root/tests/fixtures/metrics_fixture.sql" >/dev/null

mkdir -p "$sbase/sock"
chown postgres:postgres "$sbase" "$sbase/sock" 2>/dev/null || true
as_pg "$PG_BIN/pg_basebackup" -h "$PGHOST" -p "$PGPORT" -U postgres -D "$sbase/data" -R -X stream -c fast
as_pg "$PG_BIN/pg_ctl" -D "$sbase/data" -l "$sbase/server.log" -w -t 60 \
  -o "-p $sport -c unix_socket_directories=$sbase/sock" start >/dev/null

status=0
fail() { echo "standby: $*"; status=1; }
[ "$(sq -c "SELECT pg_is_in_recovery()")" = t ] || fail "the standby is not in recovery"

fx="SET analytics.tenant_id = 'fx'"
spec='{"metrics": ["closed", "lead_time_p50"], "group_by": ["priority"]}'
run="SELECT analytics.analytics_run('$spec')"
rows_on_primary="$(pq -d "$db" -c "$fx" -c "SET analytics.cache_ttl = 0" -c "SELECT r - 'query_ms' - 'cached' FROM ($run) AS x(r)")"
# On the standby, twice: the same rows, and nothing stored (the second run is no hit).
first="$(sq -c "$fx" -c "SELECT r - 'query_ms' - 'cached' FROM ($run) AS x(r)")"
[ "$first" = "$rows_on_primary" ] || fail "analytics_run differs from the primary's: $first"
cached="$(sq -c "$fx" -c "$run" -c "SELECT r ->> 'cached' FROM ($run) AS x(r)" | tail -1)"
[ "$cached" = false ] || fail "a result was cached on the standby (cached = $cached)"
[ "$(sq -c "SELECT count(*) FROM analytics.analytics_cache")" = 0 ] || fail "the standby's cache table is not empty"
stats="$(sq -c "$fx" -c "SELECT analytics.analytics_cache_stats() ->> 'misses'")"
[ "$stats" -ge 2 ] 2>/dev/null || fail "analytics_cache_stats on the standby: misses = $stats"

# Every other entry point that only reads answers on the standby as it does on the primary (the cache
# is off on the primary here, so neither side serves a stored result).
for q in "SELECT analytics.analytics_compile('$spec') - 'spec_hash'" \
         "SELECT analytics.analytics_validate('{\"metrics\": [\"closd\"]}')" \
         "SELECT jsonb_agg(r) FROM analytics.analytics_rows('$spec') AS r" \
         "SELECT analytics.analytics_explain('$spec') - 'plan'" \
         "SELECT a - 'cached' - 'query_ms' FROM analytics.analytics_ask('median lead time by priority', '{\"today\": \"2025-03-01\"}') AS a" \
         "SELECT analytics.analytics_metric_value('closed', '{}', '2025-01-01', '2025-03-01')"; do
  a="$(pq -d "$db" -c "$fx" -c "SET analytics.cache_ttl = 0" -c "$q")"; b="$(sq -c "$fx" -c "$q" 2>&1)" || true
  [ "$a" = "$b" ] || fail "differs on the standby: $q
  primary: $a
  standby: $b"
done

# The primary stores the result; once the standby has replayed that, its run is a hit (still valid:
# the same data version and catalog), and the standby's own runs still store nothing.
pq -d "$db" -c "$fx" -c "$run" >/dev/null
lsn="$(pq -d "$db" -c "SELECT pg_current_wal_lsn()")"
for _ in $(seq 1 100); do
  [ "$(sq -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn")" = t ] && break
  sleep 0.1
done
hit="$(sq -c "$fx" -c "SELECT r ->> 'cached' FROM ($run) AS x(r)")"
[ "$hit" = true ] || fail "the primary's cached result is not served on the standby (cached = $hit)"
# A spec the primary did not store: answered, not stored.
other="$(sq -c "$fx" -c "SELECT r -> 'row_count' FROM (SELECT analytics.analytics_run('{\"metrics\": [\"created\"]}')) AS x(r)")"
[ "$other" = 1 ] || fail "analytics_run of another spec on the standby: row_count = $other"
# (The primary filed its result under the spec's spelling and its canonical form: two entries.)
[ "$(sq -c "SELECT count(*) FROM analytics.analytics_cache")" = 2 ] || fail "the standby's cache does not hold just the primary's entries"

# Functions that write refuse with 25006 (read_only_sql_transaction) and a hint, before doing anything.
for q in "SELECT analytics.analytics_cache_clear()" \
         "SELECT analytics.analytics_metric_deprecate('created')" \
         "SELECT analytics.analytics_metric_upsert(analytics.analytics_metric('created') - 'source' - 'is_active' - 'created_at' - 'updated_at')" \
         "SELECT analytics.analytics_create_view('standby_view', '$spec')" \
         "SELECT analytics.analytics_drop_view('standby_view')" \
         "SELECT analytics.analytics_ingest_jira('{\"issues\": []}')" \
         "SELECT analytics.analytics_refresh_views(false)" \
         "SELECT analytics.analytics_refresh_stats('fx')" \
         "SELECT analytics.analytics_refresh_stale_stats()"; do
  err="$(command psql -X -q -At -h "$sbase/sock" -p "$sport" -U postgres -d "$db" -v VERBOSITY=verbose -c "$fx" -c "$q" 2>&1 >/dev/null || true)"
  grep -q "^ERROR:  25006:" <<<"$err" || fail "expected 25006 on the standby for: $q
  got: $(head -3 <<<"$err")"
done

# Nothing else went wrong there (the background worker waits for the end of recovery to start).
sleep 2
if grep -E "ERROR|PANIC|FATAL|terminated by signal" "$sbase/server.log" | grep -v "the database system is starting up" | grep -v "cannot run here: this transaction is read-only"; then
  fail "the standby's log has errors (above)"
fi
exit $status
