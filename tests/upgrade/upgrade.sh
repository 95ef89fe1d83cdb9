#!/usr/bin/env bash
# ALTER EXTENSION agile_analytics UPDATE from every released version (sql/versions/agile_analytics--V.sql,
# the install scripts as released, never edited) to the current one, on a running cluster
# (PGHOST/PGPORT/PGUSER):
#   1. the schema an update gives equals a fresh install's, object by object (tests/upgrade/schema.sql):
#      fails when the current SQL changed and sql/agile_analytics--V--<current>.sql does not follow;
#   2. user data survive it (base tables, user metrics, spec views and their rows, the cache's rows),
#      and roles given access before it keep working (a reader's spec run, view read and question);
#   3. the current library serves the old version's SQL: every C symbol the released script names
#      exists in the installed library, and the old functions answer before the update is run.
# Then scripts/regress.sh runs every golden test again on databases made through the update path.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
extdir="$("$PG_CONFIG" --sharedir)/extension"
libdir="$("$PG_CONFIG" --pkglibdir)"
pq() { local d="$1"; shift; PGOPTIONS="-c client_min_messages=warning" command psql -X -q -At -v ON_ERROR_STOP=1 -U postgres -d "$d" "$@"; }
status=0
fail() { echo "upgrade: $*"; status=1; }
work="$(mktemp -d /tmp/agile_analytics-upgrade.XXXXXX)"
dbs=(up_fresh up_plain up_data)
cleanup() {
  for d in "${dbs[@]}"; do pq postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true; done
  pq postgres -c "DROP ROLE IF EXISTS upgrade_reader" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# The released install scripts are not part of `cargo pgrx install`: put them where CREATE EXTENSION
# ... VERSION finds them.
install -m 644 "$root"/sql/versions/agile_analytics--*.sql "$extdir/"

for script in "$root"/sql/versions/agile_analytics--*.sql; do
  old="$(basename "$script" .sql)"; old="${old#agile_analytics--}"
  [ -f "$root/sql/agile_analytics--$old--$EXT_VERSION.sql" ] || { fail "no upgrade script from $old to $EXT_VERSION"; continue; }
  for d in "${dbs[@]}"; do pq postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" -c "CREATE DATABASE $d" >/dev/null; done

  # 3. The current library serves the old SQL: its C symbols, then live calls before the update.
  missing=""
  # The symbol list is read once: `nm | grep -q` under pipefail fails whenever grep exits before nm has
  # written everything (SIGPIPE), which a growing library makes likely.
  symbols="$(nm -D --defined-only "$libdir/agile_analytics.so")"
  for sym in $(grep -o "'MODULE_PATHNAME', '[a-z_0-9]*'" "$script" | sed "s/.*, '\(.*\)'/\1/" | sort -u); do
    grep -qw "$sym" <<<"$symbols" || missing="$missing $sym"
  done
  [ -z "$missing" ] || fail "the library lacks C symbols that $old's SQL names:$missing"

  # 2. Data made under the old version.
  pq up_data >/dev/null <<SQL
CREATE EXTENSION agile_analytics VERSION '$old' CASCADE;
\i $root/tests/fixtures/metrics_fixture.sql
SELECT analytics.analytics_refresh_views(false);
DROP ROLE IF EXISTS upgrade_reader;
CREATE ROLE upgrade_reader LOGIN;
SELECT analytics.analytics_grant('upgrade_reader', 'reader');
SELECT analytics.analytics_metric_upsert('{"name": "upgrade_bugs", "display_name": "Upgrade bugs", "description": "Bugs created in the period.", "category": "quality", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "filter": "f.issue_type = ''Bug''", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}');
SELECT analytics.analytics_metric_deprecate('comments_per_issue');
SELECT analytics.analytics_create_view('upgrade_view', '{"metrics": ["closed", "upgrade_bugs"], "group_by": ["priority"]}');
SET analytics.tenant_id = 'fx';
SELECT analytics.analytics_run('{"metrics": ["closed"], "group_by": ["priority"]}');
SQL
  spec='{"metrics": ["closed", "lead_time_p50", "upgrade_bugs"], "group_by": ["priority"]}'
  reader_calls() {
    PGOPTIONS="-c analytics.tenant_id=fx" command psql -X -q -At -v ON_ERROR_STOP=1 -U upgrade_reader -d up_data \
      -c "SELECT analytics.analytics_run('$spec') -> 'rows'" \
      -c "SELECT json_agg(v ORDER BY v.priority) FROM analytics_views.upgrade_view v" \
      -c "SELECT analytics.analytics_ask('how many bugs were closed?', '{\"today\": \"2025-03-01\"}') -> 'rows'" \
      -c "SELECT analytics.analytics_metric_value('stuck_count', '{\"days\": 3}')" \
      -c "SELECT count(*) || ' issues with comment stats' FROM analytics.issue_comment_stats" \
      -c "SELECT analytics.analytics_compile('$spec') ->> 'sql'" \
      -c "SELECT analytics.analytics_validate('{\"metrics\": [\"closed\", \"nope\"]}') -> 'errors' -> 0 ->> 'code'" 2>&1
  }
  data_query="SELECT (SELECT count(*) FROM analytics.issues) || ' issues, ' || (SELECT count(*) FROM analytics.issue_transitions)
    || ' transitions, ' || (SELECT count(*) FROM analytics.issue_changes) || ' changes, ' || (SELECT count(*) FROM analytics.issue_comments)
    || ' comments, ' || (SELECT count(*) FROM analytics.sprints) || ' sprints, ' || (SELECT count(*) FROM analytics.sprint_issues)
    || ' memberships, ' || (SELECT count(*) FROM analytics.analytics_cache) || ' cached; user metrics '
    || (SELECT string_agg(name || ' v' || version || ' active=' || is_active, ', ' ORDER BY name) FROM analytics.metrics_user)
    || '; views ' || (SELECT string_agg(name || ' ' || spec_hash, ', ' ORDER BY name) FROM analytics.spec_views)"
  before_calls="$(reader_calls)" || fail "$old's functions fail with the current library: $before_calls"
  before_data="$(pq up_data -c "$data_query")"
  pq up_data -c "ALTER EXTENSION agile_analytics UPDATE" >/dev/null
  [ "$(pq up_data -c "SELECT extversion FROM pg_extension WHERE extname = 'agile_analytics'")" = "$EXT_VERSION" ] \
    || fail "after the update from $old the extension is not at $EXT_VERSION"
  after_data="$(pq up_data -c "$data_query")"
  [ "$before_data" = "$after_data" ] || fail "data changed in the update from $old: before: $before_data; after: $after_data"
  after_calls="$(reader_calls)" || fail "after the update from $old a reader's calls fail: $after_calls"
  [ "$before_calls" = "$after_calls" ] || { fail "a reader's answers changed in the update from $old:"; diff <(echo "$before_calls") <(echo "$after_calls") | head -10 || true; }
  # The functions new in this version: a reader of the old one may call them (their access rows were
  # granted by the update, not by analytics_grant).
  job="$(PGOPTIONS="-c analytics.tenant_id=fx -c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 -U upgrade_reader -d up_data \
    -c "SELECT analytics.analytics_job_status(analytics.analytics_job_submit('run', '$spec')) ->> 'state'" 2>&1)" \
    || fail "after the update from $old a reader cannot submit a job: $job"
  [ "$job" = queued ] || fail "after the update from $old a reader's job is not queued: $job"
  # The tables new in this version: a reader of the old one reads them.
  emb="$(PGOPTIONS="-c analytics.tenant_id=fx" command psql -X -q -At -v ON_ERROR_STOP=1 -U upgrade_reader -d up_data \
    -c "SELECT count(*) FROM analytics.issue_embeddings" 2>&1)" || fail "after the update from $old a reader cannot read issue_embeddings: $emb"

  # 1. The schema: updated (from a database without data or roles) vs fresh.
  pq up_plain -c "CREATE EXTENSION agile_analytics VERSION '$old' CASCADE" -c "ALTER EXTENSION agile_analytics UPDATE" >/dev/null
  pq up_fresh -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
  pq up_plain -f "$root/tests/upgrade/schema.sql" > "$work/updated.txt"
  pq up_fresh -f "$root/tests/upgrade/schema.sql" > "$work/fresh.txt"
  if diff -u "$work/fresh.txt" "$work/updated.txt" > "$work/schema.diff"; then
    echo "upgrade: $old -> $EXT_VERSION: schema equal to a fresh install ($(wc -l < "$work/fresh.txt") facts), data and a reader's answers kept ($after_data)"
  else
    fail "the schema after the update from $old differs from a fresh $EXT_VERSION install (- fresh, + updated):"
    grep '^[-+][^-+]' "$work/schema.diff" | cut -c1-300 | head -40 || true
  fi
done
exit $status
