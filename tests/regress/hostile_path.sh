#!/usr/bin/env bash
# A hostile search_path (the CVE-2018-1058 class): a role with reader access to tenant fx owns schema
# evil and plants look-alikes there, each announcing itself with "WARNING: planted <what> ran as <role>":
#   - a copy of every pg_catalog function with plain argument types (generated from pg_proc), plus
#     versions whose argument types differ (varchar for text, integer for numeric, ...) where pg_catalog
#     has no such signature: those win over pg_catalog's own even when pg_catalog comes first;
#   - copies of pg_catalog's binary operators and same kinds of variants; the text = returns true
#     whatever its operands, now() returns 2000-01-01 (poison for anything cached);
#   - aggregates such as count(bigint) and percentile_cont(float8 ORDER BY numeric), which beat
#     pg_catalog's count("any") and percentile_cont(float8 ORDER BY float8) under any search path;
#   - a view with one fake row for every relation of schemas analytics and pg_catalog.
# Then every function of the extension is called through both `evil, pg_catalog, public` and
# `evil, public`, by a reader, a writer, an admin and the superuser. It fails when
#   - a planted object ever runs inside a call (whoever it would run as), or a call fails, or prints a
#     Rust panic or backtrace;
#   - an answer differs from what the same call gave with a clean search path;
#   - a colleague with a clean path, afterwards, gets answers (fresh or cached) that differ;
#   - the trap is not armed (the same look-alikes do fire in the hostile session's own SQL);
#   - a function of the extension (PL/pgSQL or C) was not called (pg_stat_user_functions), or is not
#     pinned: a SET search_path clause, an SQL-standard body, or a C function that runs no SQL or pins
#     itself (listed below with the reason) — SECURITY DEFINER ones must have the SET clause;
#   - the background worker, connected to a database whose default search path is hostile, lets a
#     planted object run as the superuser it works as.
# Uses PGHOST/PGPORT/PGUSER of the running regression cluster, its data directory (CLUSTER_DATA, for a
# restart) and its server log (SERVER_LOG).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
db=regress_cron          # pg_cron's database in the regression cluster: the scheduling functions run for real
worker_db=regress_06_worker
work="$(mktemp -d /tmp/agile_analytics-hostile.XXXXXX)"
chmod 755 "$work"
roles=(hostile_reader hostile_writer hostile_admin hostile_colleague)
cleanup() {
  [ -n "${KEEP:-}" ] && return
  psql_su postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  for r in "${roles[@]}"; do psql_su postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
# The test's own superuser sessions pin their path (a database default may be hostile, see 6.).
psql_su() { local d="$1"; shift; PGOPTIONS="-c search_path=pg_catalog,pg_temp" command psql -X -q -At -v ON_ERROR_STOP=1 -h "$PGHOST" -p "$PGPORT" -U postgres -d "$d" "$@"; }
trap cleanup EXIT
status=0
fail() { echo "hostile_path: $*"; status=1; }

psql_su postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
for r in "${roles[@]}"; do psql_su postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN" >/dev/null; done
psql_su "$db" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_cron;
CREATE EXTENSION agile_analytics SCHEMA public CASCADE;
\i $root/tests/fixtures/metrics_fixture.sql
SELECT analytics.analytics_refresh_views(false);
-- The fixture inserts with fixed ids: move the id sequences past them for the loads below.
SELECT setval(pg_get_serial_sequence('analytics.' || t, 'id'), 100000)
FROM unnest(ARRAY['issues', 'issue_transitions', 'issue_changes', 'issue_comments', 'sprints', 'sprint_issues']) AS t;
SELECT analytics.analytics_grant('hostile_reader', 'reader'), analytics.analytics_grant('hostile_writer', 'writer'),
       analytics.analytics_grant('hostile_admin', 'admin'), analytics.analytics_grant('hostile_colleague', 'reader');
GRANT USAGE ON SCHEMA cron TO hostile_admin;
SET ROLE hostile_admin;
SELECT analytics.analytics_create_view('hostile_view', '{"metrics": ["closed"]}');
RESET ROLE;
-- A completed job of hostile_reader's, for analytics_job_result and _rows (finished now: the job
-- workers delete finished jobs after analytics.job_retention).
INSERT INTO analytics.jobs (tenant_id, id, kind, payload, payload_hash, settings, submitted_by, state, attempt, progress, stage,
    result_rows, started_at, finished_at)
VALUES ('fx', '00000000-0000-4000-8000-00000000000f', 'run', '{"metrics": ["closed"]}', 'by hand', '{}', 'hostile_reader'::regrole,
    'completed', 1, 1, 'done', 1, now(), now());
INSERT INTO analytics.job_results (tenant_id, job_id, result)
VALUES ('fx', '00000000-0000-4000-8000-00000000000f', '{"rows": [{"closed": 3}], "row_count": 1}');
-- Counts calls of PL/pgSQL and C functions: every one of the extension's must be called below.
ALTER DATABASE $db SET track_functions = 'all';
SQL

# The look-alikes, made by hostile_reader in her schema (given to PUBLIC, so that the writer and admin
# sessions with evil in their path find them too). The generator itself runs with a clean path.
plant() {
  local database="$1" owner="$2"
  psql_su "$database" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE SCHEMA evil AUTHORIZATION $owner;
GRANT USAGE ON SCHEMA evil TO PUBLIC;
SET ROLE $owner;
SET search_path = pg_catalog, pg_temp;
CREATE FUNCTION evil.planted(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
AS \$\$ BEGIN RAISE WARNING 'planted % ran as %', what, current_user; RETURN true; END \$\$;
\i $root/tests/regress/hostile_plant.sql
SQL
}
plant "$db" hostile_reader
planted_count="$(psql_su "$db" -c "SELECT count(*) FROM pg_proc WHERE pronamespace = 'evil'::regnamespace")"
planted_ops="$(psql_su "$db" -c "SELECT count(*) FROM pg_operator WHERE oprnamespace = 'evil'::regnamespace")"
planted_rels="$(psql_su "$db" -c "SELECT count(*) FROM pg_class WHERE relnamespace = 'evil'::regnamespace")"
echo "hostile_path: planted $planted_count functions, $planted_ops operators, $planted_rels relations"

# One call per line: role<TAB>compare (1: the answer must equal the clean-path answer)<TAB>SQL. Only
# literals and qualified names in our own SQL, so that the hostile session's own statements call
# nothing planted. Writes go to tenant hw, so that the fx answers stay comparable.
payload="$(cat "$root/tests/fixtures/jira/search_v2_server.json")"
sprints="$(cat "$root/tests/fixtures/jira/agile_sprints.json")"
specs=(
  '{"metrics": ["closed", "lead_time_p50", "stuck_count", "blocked_hours", "wip", "wip_no_assignee"], "group_by": ["priority"]}'
  '{"metrics": ["bug_count", "reopen_rate"], "group_by": [{"field": "created_at", "interval": "month"}]}'
  '{"entity": "sprint", "metrics": ["velocity", "spillover_ratio", "sprint_problematic_score", "scope_churn_ratio"], "group_by": ["sprint"]}'
  '{"metrics": ["cycle_time", "comments_per_issue", "first_response_hours", "escaped_defects"], "filters": [{"field": "issue_type", "operator": "in", "value": ["Story", "Bug"]}, {"field": "priority", "operator": "ne", "value": "Low"}]}'
  '{"metrics": ["closed", "created", "throughput_ratio"], "date_range": {"last": "90 days"}}'
)
calls="$work/calls.tsv"
{
  # The writes first (every pass leaves the state the reads expect), then the reads: what the last
  # hostile pass stores in the result cache is what the colleague is served in 4.
  printf 'hostile_writer\t0\tSELECT analytics.analytics_ingest_jira(%s, %s)\n' "\$json\$${sprints//$'\n'/ }\$json\$" "'{\"instance_id\": \"hostile\", \"boards\": {\"7\": \"Hostile\"}}'"
  printf 'hostile_writer\t0\tSELECT analytics.analytics_ingest_jira(%s, %s)\n' "\$json\$${payload//$'\n'/ }\$json\$" "'{\"instance_id\": \"hostile\"}'"
  cat <<'CALLS'
hostile_writer	0	SELECT analytics.analytics_embed_issues(3)
hostile_admin	0	SELECT analytics.analytics_drop_view('hostile_view')
hostile_admin	0	SELECT analytics.analytics_create_view('hostile_view', '{"metrics": ["closed", "lead_time_p50"], "group_by": ["priority"]}', true)
hostile_admin	0	SELECT analytics.analytics_metric_upsert('{"name": "hostile_bugs", "display_name": "Hostile bugs", "description": "Bugs created in the period.", "category": "quality", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "filter": "f.issue_type = ''Bug'' AND f.created_at < now()", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}')
hostile_admin	0	SELECT analytics.analytics_metric_deprecate('hostile_bugs')
hostile_admin	0	SELECT analytics.analytics_metric_activate('hostile_bugs')
hostile_admin	0	SELECT view_name FROM analytics.analytics_refresh_views()
hostile_admin	0	SELECT view_name, stats_rows FROM analytics.analytics_refresh_stats('fx')
hostile_admin	0	SELECT analytics.analytics_schedule_refresh('*/30 * * * *')
hostile_admin	0	SELECT analytics.analytics_unschedule_refresh()
hostile_admin	0	SELECT analytics.analytics_cache_clear()
hostile_admin	0	SELECT analytics.analytics_jira_source_drop('hostile')
hostile_admin	0	SELECT analytics.analytics_jira_source_upsert('hostile', '{"base_url": "http://127.0.0.1:9", "flavor": "server", "jql": "project = HOST"}')
postgres	0	SELECT analytics.analytics_jira_source_secret('hostile', '{"token": "hostile-token"}')
hostile_admin	0	SELECT name, has_secret FROM analytics.analytics_jira_sources()
hostile_admin	0	SELECT analytics.analytics_schedule_jira_sync('hostile', '*/30 * * * *')
hostile_admin	0	SELECT analytics.analytics_unschedule_jira_sync('hostile')
hostile_admin	0	SELECT analytics.analytics_job_cancel(analytics.analytics_jira_sync('hostile', '{"full": true}'))
postgres	0	SELECT analytics.analytics_grant('hostile_colleague', 'reader')
postgres	0	SELECT analytics._refresh_views_for_worker()
postgres	0	SELECT analytics._jobs_wake()
CALLS
  for s in "${specs[@]}"; do
    printf 'hostile_reader\t1\tSELECT analytics.analytics_validate(%s)\n' "'$s'"
    printf 'hostile_reader\t1\tSELECT analytics.analytics_compile(%s)\n' "'$s'"
    printf 'hostile_reader\t1\tSELECT analytics.analytics_compile(%s::jsonb)\n' "'$s'"
    printf 'hostile_reader\t1\tSELECT analytics.analytics_run(%s)\n' "'$s'"
    printf 'hostile_reader\t1\tSELECT analytics.analytics_rows(%s)\n' "'$s'"
    printf 'hostile_reader\t1\tSELECT analytics.analytics_explain(%s)\n' "'$s'"
  done
  cat <<'CALLS'
hostile_reader	1	SELECT analytics.analytics_run('{"metrics": ["hostile_bugs"], "group_by": ["priority"]}')
hostile_reader	1	SELECT analytics_run('{"metrics": ["closed", "lead_time_p50"], "group_by": ["priority"]}')
hostile_reader	1	SELECT analytics_compile('{"metrics": ["closed", "stuck_count"]}')
hostile_reader	1	SELECT analytics_ask('which sprints spilled over most?', '{"today": "2025-03-01"}')
hostile_reader	1	SELECT name FROM analytics_metrics('flow')
hostile_reader	1	SELECT * FROM analytics_views.hostile_view ORDER BY priority
hostile_reader	1	SELECT analytics.analytics_version()
hostile_reader	1	SELECT analytics.analytics_metric('cycle_time')
hostile_reader	1	SELECT name FROM analytics.analytics_metrics('flow', 'stuck')
hostile_reader	1	SELECT * FROM analytics.analytics_catalog_check()
hostile_reader	1	SELECT analytics._catalog_problems()
hostile_reader	1	SELECT analytics._metric_probe(analytics.analytics_metric('closed'))
hostile_reader	1	SELECT analytics._catalog_builtin() IS NOT NULL
hostile_reader	1	SELECT analytics._probe_error('SELECT 1')
hostile_reader	1	SELECT analytics._ask_values('fx')
hostile_reader	1	SELECT analytics.analytics_metric_value('stuck_count', '{"days": 3}')
hostile_reader	1	SELECT analytics.analytics_metric_value('closed', '{}', '2025-01-01', '2025-02-01')
hostile_reader	1	SELECT analytics.analytics_ask('how many bugs were closed per month?', '{"today": "2025-03-01"}')
hostile_reader	1	SELECT analytics.analytics_ask('which sprints spilled over most?', '{"today": "2025-03-01", "dry_run": true}')
hostile_reader	1	SELECT analytics.analytics_eval('{"today": "2025-03-01", "cases": [{"q": "how many issues were closed?", "spec": {"metrics": ["closed"]}}]}')
hostile_reader	0	SELECT analytics.analytics_cache_stats()
hostile_reader	0	SELECT analytics.analytics_job_submit('run', '{"metrics": ["closed"], "group_by": ["priority"]}', '{"idempotency_key": "hostile", "run_after": "2999-01-01"}')
hostile_reader	0	SELECT analytics.analytics_job_cancel(analytics.analytics_job_submit('ask', '{"question": "how many bugs?"}', '{"idempotency_key": "hostile-cancel"}'))
hostile_reader	1	SELECT analytics.analytics_job_status('00000000-0000-4000-8000-00000000000f')
hostile_reader	1	SELECT analytics.analytics_job_result('00000000-0000-4000-8000-00000000000f')
hostile_reader	1	SELECT analytics.analytics_job_rows('00000000-0000-4000-8000-00000000000f')
hostile_reader	1	SELECT kind, state FROM analytics.analytics_jobs('completed')
hostile_reader	1	SELECT kind, state FROM analytics_jobs('completed', 10)
hostile_reader	1	SELECT issue_key FROM analytics.analytics_similar_issues('bug closed late', 3, '[{"field": "priority", "operator": "ne", "value": "Low"}]', 'lexical')
hostile_reader	1	SELECT issue_key FROM analytics.analytics_similar_issues('bug closed late', 3)
hostile_reader	1	SELECT issue_key FROM analytics.analytics_similar_to_issue('ALP-1', 3)
hostile_reader	1	SELECT issue_key FROM analytics_similar_issues('bug', 2, mode => 'semantic')
hostile_reader	1	SELECT issue_key, status FROM analytics.issues ORDER BY issue_key
hostile_reader	1	SELECT issue_key, lead_time_days, cycle_time_days FROM analytics.issue_facts ORDER BY issue_key
hostile_reader	1	SELECT name, planned_sp, completed_sp, spillover_ratio FROM analytics.sprint_facts ORDER BY name
hostile_reader	1	SELECT name, planned_sp, completed_sp, spillover_ratio FROM analytics.sprint_stats ORDER BY name
hostile_reader	1	SELECT issue_key, comment_count FROM analytics.issue_comment_stats ORDER BY issue_key
hostile_reader	1	SELECT analytics.points_at(2, '2025-01-15'), analytics.category_at(9, '2025-02-20'), analytics.blocked_hours(4, '{Blocked}', '2025-03-01'), analytics.time_in_status('fx', 1, '{In Review}', '2025-03-01'), analytics.status_at('fx', 9, '2025-02-20'), analytics.to_points(' 5 '), analytics.current_tenant()
hostile_reader	1	SELECT analytics.analytics_metric_value('forecast_items', '{"as_of": "2025-02-01", "days": 14}'), analytics.analytics_metric_value('forecast_date', '{"as_of": "2025-02-01", "items": 3}')
hostile_reader	1	SELECT * FROM analytics.analytics_rows('{"metrics": ["backlog_count", "wip", "done_count", "issues_in_status", "stuck_count", "created", "net_flow"], "group_by": [{"field": "as_of", "interval": "week"}, "label"], "date_range": {"from": "2025-01-01", "to": "2025-03-01"}}')
CALLS
} > "$calls"

# Runs one call as a role with a search path; prints psql's output (notices, warnings and errors too)
# with the answer's volatile parts (query_ms, cached, hit counters, the statistics' refresh time) taken out.
run_call() {
  local role="$1" path="$2" sql="$3" tenant=fx
  [ "$role" = hostile_writer ] && tenant=hw
  { printf "SET analytics.tenant_id = 'fx';\n"; [ "$tenant" = hw ] && printf "SET analytics.tenant_id = 'hw';\n"
    printf 'SET search_path = %s;\n%s;\n' "$path" "$sql"; } \
    | command psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -h "$PGHOST" -p "$PGPORT" -U "$role" -d "$db" 2>&1
}
normalize() {
  python3 -c '
import json, sys
def clean(v):
    if isinstance(v, dict):
        return {k: clean(x) for k, x in v.items() if k not in ("query_ms", "cached", "hits", "misses", "hit_ratio", "entries", "bytes", "plan", "refreshed_at")}
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line or line.startswith("LOCATION:"):
        continue
    try:
        print(json.dumps(clean(json.loads(line)), sort_keys=True))
    except ValueError:
        print(line)
'
}

# 1. Every call with a clean search path (writes too, so that what later calls read exists), with the
#    cache off so each answer is computed.
n=0
while IFS=$'\t' read -r role cmp sql; do
  n=$((n + 1))
  run_call "$role" '"$user", public' "SET analytics.cache_ttl = 0; $sql" | normalize > "$work/clean.$n" || true
  grep -q "^ERROR" "$work/clean.$n" && fail "with a clean path the call failed: ${sql:0:160}: $(grep -m1 ^ERROR "$work/clean.$n")"
done < "$calls"
echo "hostile_path: $n calls; clean answers recorded"

# 2. The trap is armed: the hostile session's own SQL does run the look-alikes.
armed() {
  local path="$1" sql="$2" out
  out="$(run_call hostile_reader "$path" "$sql")"
  grep -q "planted .* ran as hostile_reader" <<<"$out" || fail "trap not armed under '$path': $sql gave: $out"
}
armed 'evil, pg_catalog, public' "SELECT now()"
armed 'evil, pg_catalog, public' "SELECT 'a'::text = 'b'::text"
armed 'evil, pg_catalog, public' "SELECT count(*) FROM pg_extension"
armed 'evil, public' "SELECT md5('x'::varchar)"
armed 'evil, public' "SELECT count(x) FROM (VALUES (1::bigint)) AS v(x)"
armed 'evil, public' "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM (VALUES (1::numeric)) AS v(x)"

# 3. Every call through both hostile paths.
for path in 'evil, pg_catalog, public' 'evil, public'; do
  n=0
  while IFS=$'\t' read -r role cmp sql; do
    n=$((n + 1))
    if out="$(run_call "$role" "$path" "$sql")"; then :; else fail "under '$path' as $role the call failed: ${sql:0:160}"; echo "$out" | head -5 || true; fi
    if grep -q "planted" <<<"$out"; then
      fail "under '$path' as $role planted code ran in: ${sql:0:160}"
      grep "planted" <<<"$out" | sort | uniq -c | sort -rn | head -5 || true
    fi
    if grep -qiE "panicked|backtrace|RUST_BACKTRACE" <<<"$out"; then fail "under '$path' a Rust panic or backtrace reached the user: ${sql:0:160}"; fi
    if [ "$cmp" = 1 ] && ! diff -q "$work/clean.$n" <(normalize <<<"$out") >/dev/null; then
      fail "under '$path' as $role the answer differs from the clean path's: ${sql:0:160}"
      diff "$work/clean.$n" <(normalize <<<"$out") | head -6 || true
    fi
  done < "$calls"
done
echo "hostile_path: every call made through both hostile paths"

# 4. A colleague with a clean path, cache on, each read twice (the first may be served what the last
#    hostile pass stored, the second is served from the cache): true answers.
n=0
hits=0
while IFS=$'\t' read -r role cmp sql; do
  n=$((n + 1))
  [ "$role" = hostile_reader ] && [ "$cmp" = 1 ] || continue
  # A job belongs to the role that submitted it: the colleague has none to read.
  case "$sql" in *analytics_job*) continue ;; esac
  for round in 1 2; do
    out="$(run_call hostile_colleague '"$user", public' "$sql")" || fail "the colleague's call failed: ${sql:0:160}: $(grep -m1 ERROR <<<"$out")"
    grep -q '"cached": true' <<<"$out" && hits=$((hits + 1))
    diff -q "$work/clean.$n" <(normalize <<<"$out") >/dev/null \
      || { fail "the colleague's answer (round $round) differs: ${sql:0:160}"; diff "$work/clean.$n" <(normalize <<<"$out") | head -6 || true; }
  done
done < "$calls"
[ "$hits" -gt 0 ] || fail "the colleague was never served from the cache (nothing checked there)"
echo "hostile_path: the colleague's answers are true ($hits served from the cache)"

# The other settings a caller controls that change an answer are part of the cache key: a result
# bucketed by day in UTC+14 is not served to a colleague in UTC.
byday='{"metrics": ["created"], "group_by": [{"field": "created_at", "interval": "day"}]}'
utc="$(run_call hostile_colleague '"$user", public' "SET analytics.cache_ttl = 0; SELECT analytics.analytics_run('$byday') -> 'rows'")"
kiritimati="$(run_call hostile_reader '"$user", public' "SET TimeZone = 'Pacific/Kiritimati'; SELECT analytics.analytics_run('$byday') -> 'rows'")"
served="$(run_call hostile_colleague '"$user", public' "SELECT analytics.analytics_run('$byday') -> 'rows'")"
[ "$utc" != "$kiritimati" ] || fail "the day buckets do not depend on the time zone here: nothing checked"
[ "$served" = "$utc" ] || fail "a colleague in UTC was served the UTC+14 buckets: $served"

# 5. Every PL/pgSQL and C function of the extension was called, and each function is pinned.
psql_su "$db" -c "SELECT pg_stat_clear_snapshot()" >/dev/null
uncalled="$(psql_su "$db" <<'SQL'
SELECT string_agg(p.oid::regprocedure::text, ', ' ORDER BY 1)
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_stat_user_functions s ON s.funcid = p.oid
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agile_analytics') AND d.deptype = 'e'
  AND l.lanname <> 'sql' AND coalesce(s.calls, 0) = 0
SQL
)"
[ -z "$uncalled" ] || fail "functions of the extension never called here (add a call): $uncalled"
audit="$(psql_su "$db" -F $'\t' <<'SQL'
WITH f AS (
  SELECT p.oid::regprocedure::text AS fn, l.lanname, p.prosecdef,
         coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false) AS set_clause,
         p.prosqlbody IS NOT NULL AS sql_body
  FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
  JOIN pg_language l ON l.oid = p.prolang
  WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agile_analytics') AND d.deptype = 'e')
SELECT fn, CASE WHEN set_clause THEN 'SET search_path = pg_catalog, pg_temp'
                WHEN sql_body THEN 'SQL-standard body (resolved at CREATE EXTENSION)'
                ELSE lanname END || CASE WHEN prosecdef THEN ' (SECURITY DEFINER)' ELSE '' END
FROM f ORDER BY fn
SQL
)"
# C functions without a SET clause, and why: they run no SQL, or pin the path themselves.
declare -A unpinned_ok=(
  ["analytics._cache_count(boolean)"]="no SQL: counts a hit in shared memory"
  ["analytics.analytics_version()"]="no SQL"
  ["analytics._catalog_builtin()"]="no SQL: the shipped catalog compiled into the library"
  ["analytics._metric_probe(jsonb)"]="no SQL: builds a probe query's text"
  ["analytics.forecast_items(double precision[],integer,double precision,integer,integer,integer)"]="no SQL: a simulation over its arguments"
  ["analytics.forecast_days(double precision[],integer,double precision,integer,integer,integer)"]="no SQL: a simulation over its arguments"
  ["analytics._catalog_invalidate(oid)"]="no SQL: sends a relcache invalidation"
  ["analytics.analytics_compile(jsonb)"]="pins the path itself (search_path::pinned) around the one query it may run, the catalog load; a SET clause would cost every call"
  ["analytics.analytics_compile(text)"]="pins the path itself, as analytics_compile(jsonb)"
)
echo "hostile_path: how each function of the extension is pinned:"
while IFS=$'\t' read -r fn how; do
  case "$how" in
    SET*|SQL-standard*) printf '  %-78s %s\n' "$fn" "$how" ;;
    *"SECURITY DEFINER"*) fail "$fn is SECURITY DEFINER without SET search_path" ;;
    *) if [ -n "${unpinned_ok[$fn]:-}" ]; then printf '  %-78s %s: %s\n' "$fn" "$how" "${unpinned_ok[$fn]}"
       else fail "$fn ($how) is not pinned: give it SET search_path = pg_catalog, pg_temp or an SQL-standard body"; fi ;;
  esac
done <<<"$audit"

# 6. The background worker, in a database whose owner made its default search path hostile: it works
#    as a superuser, so nothing it runs may resolve to the planted objects.
if [ -n "${SERVER_LOG:-}" ] && [ -n "${CLUSTER_DATA:-}" ] && [ "$(psql_su postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$worker_db'")" = 1 ]; then
  plant "$worker_db" hostile_reader
  psql_su postgres -c "ALTER DATABASE $worker_db SET search_path = evil, pg_catalog, public" >/dev/null
  since="$(psql_su "$worker_db" -c "SELECT now()")"
  log_from="$(wc -c < "$SERVER_LOG")"
  # The worker reads the database's settings when it connects: restart the server (a worker that is
  # terminated exits for good).
  as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DATA" -l "$SERVER_LOG" -m fast -w -t 60 restart >/dev/null
  # The workers refresh stale tenants only: a write makes one stale (through a clean path).
  psql_su "$worker_db" -c "SET search_path = pg_catalog" -c "UPDATE analytics.sprints SET name = name WHERE tenant_id = (SELECT min(tenant_id) FROM analytics.sprints)" >/dev/null
  refreshed=0
  seen=""
  for _ in $(seq 1 60); do
    sleep 0.5
    seen="$(psql_su "$worker_db" -F ' ' -c "SELECT (SELECT count(*) FROM pg_stat_activity a WHERE a.backend_type = 'agile_analytics supervisor' AND a.datname = current_database() AND a.backend_start > '$since'),
                                                 (SELECT count(*) FROM analytics.stats_refreshes WHERE refreshed_at > '$since')" 2>&1 || true)"
    if [[ "$seen" =~ ^1\ [1-9][0-9]*$ ]]; then
      refreshed=1; break
    fi
  done
  [ "$refreshed" = 1 ] || fail "the restarted worker did not refresh within 30 s (supervisors started since, tenants refreshed since: $seen)"
  if tail -c +"$((log_from + 1))" "$SERVER_LOG" | grep "planted" >/dev/null; then
    fail "the worker ran planted code:"; tail -c +"$((log_from + 1))" "$SERVER_LOG" | grep "planted" | sort | uniq -c | head -5 || true
  fi
  psql_su postgres -c "ALTER DATABASE $worker_db RESET search_path" >/dev/null
  psql_su "$worker_db" -c "SET client_min_messages = warning" -c "DROP SCHEMA evil CASCADE" >/dev/null
  [ "$refreshed" = 1 ] && echo "hostile_path: the worker refreshed under a hostile database search path"
else
  fail "no worker database ($worker_db), SERVER_LOG or CLUSTER_DATA: the worker was not checked"
fi
exit $status
