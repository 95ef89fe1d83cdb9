#!/usr/bin/env bash
# pg_dump/restore keeps the user's metric definitions (created, edited, deprecated) and restores the
# shipped ones from the extension itself. Uses PGHOST/PGPORT/PGUSER of a running cluster.
set -euo pipefail
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
dump="$(mktemp /tmp/agile_analytics-dump.XXXXXX)"
trap 'rm -f "$dump"' EXIT
for db in dr_src dr_dst; do psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"; done
psql -d dr_src >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION agile_analytics CASCADE;
SELECT analytics.analytics_metric_upsert('{"name": "urgent_bugs", "display_name": "Urgent bugs", "description": "Bugs of priority Highest created in the period.", "category": "quality", "entity": "issue", "base_relation": "analytics.issue_facts", "sql_expression": "f.id", "filter": "f.issue_type = ''Bug'' AND f.priority = ''Highest''", "time_field": "created_at", "default_aggregation": "count", "allowed_aggregations": ["count"], "unit": "count"}');
SELECT analytics.analytics_metric_upsert(analytics.analytics_metric('velocity') - 'source' - 'is_active' - 'created_at' - 'updated_at' || '{"description": "Our own wording of velocity."}');
SELECT analytics.analytics_metric_deprecate('comments_per_issue');
SQL
"$PG_BIN/pg_dump" -Fc -d dr_src -f "$dump"
"$PG_BIN/pg_restore" -d dr_dst "$dump"
q="SELECT string_agg(format('%s v%s %s active=%s: %s', name, version, source, is_active, description), E'\n' ORDER BY name) FROM analytics.metrics_catalog WHERE source = 'user' OR name IN ('velocity', 'created')"
src="$(psql -d dr_src -At -c "$q")"
dst="$(psql -d dr_dst -At -c "$q")"
builtin="$(psql -d dr_dst -At -c "SELECT count(*) FROM analytics.metrics_builtin")"
problems="$(psql -d dr_dst -At -c "SELECT count(*) FROM analytics.analytics_catalog_check()")"
users="$(psql -d dr_dst -At -c "SELECT count(*) FROM analytics.metrics_user")"
status=0
[ "$src" = "$dst" ] || { echo "catalog differs after restore:"; diff <(echo "$src") <(echo "$dst") || true; status=1; }
[ "$users" = 3 ] || { echo "expected 3 user definitions after restore, found $users"; status=1; }
shipped="$(psql -d dr_dst -At -c "SELECT jsonb_array_length(analytics._catalog_builtin())")"
[ "$builtin" = "$shipped" ] || { echo "expected $shipped shipped definitions after restore, found $builtin"; status=1; }
[ "$problems" = 0 ] || { echo "catalog check finds $problems problems after restore"; status=1; }
grep -q "velocity v2 user active=t: Our own wording of velocity." <<<"$dst" || { echo "edited velocity lost: $dst"; status=1; }
psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE dr_src WITH (FORCE)" -c "DROP DATABASE dr_dst WITH (FORCE)"
exit $status
