#!/usr/bin/env bash
# Per-tenant refreshes of the statistics under concurrency (issue 19):
#  1. a write to a tenant that commits while that tenant is being refreshed is not lost: the refresh
#     does not wait for it, the tenant is stale afterwards, and the next stale-only refresh includes it
#     (the tenant's statistics then equal sprint_facts computed live);
#  2. four refreshes of one tenant at once all succeed (they take turns) and leave one copy of its rows;
#  3. a refresh of one tenant leaves another's rows and refresh time alone.
# Uses PGHOST/PGPORT/PGUSER of a running cluster.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
db=stats_concurrent
pq() { PGOPTIONS="-c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
work="$(mktemp -d /tmp/agile_analytics-stats.XXXXXX)"
chmod 777 "$work"
trap 'rm -rf "$work"; pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
pq -d "$db" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
PGDATABASE="$db" bash "$root/scripts/load_data.sh" --issues 3000 --end 2026-06-30 >/dev/null
pq -d "$db" -c "SELECT count(*) FROM analytics.analytics_refresh_views()" >/dev/null
status=0
fail() { echo "stats_concurrent: $*"; status=1; }
same_as_live() {  # rows of the tenant's statistics that differ from sprint_facts computed now
  pq -d "$db" -c "SELECT count(*) FROM ((SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = '$1' EXCEPT ALL SELECT * FROM analytics.sprint_facts WHERE tenant_id = '$1')
    UNION ALL (SELECT * FROM analytics.sprint_facts WHERE tenant_id = '$1' EXCEPT ALL SELECT * FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = '$1')) d"
}
globex_before="$(pq -d "$db" -c "SELECT refreshed_at FROM analytics.stats_refreshes WHERE tenant_id = 'globex'")"

# 1. The writer renames a sprint of acme and holds its transaction open for 3 s; the refresh of acme
#    starts while the write is in flight and must finish before the writer commits.
sprint="$(pq -d "$db" -c "SELECT min(id) FROM analytics.sprints WHERE tenant_id = 'acme'")"
pq -d "$db" -c "BEGIN" -c "UPDATE analytics.sprints SET name = name || ' (renamed)' WHERE tenant_id = 'acme' AND id = $sprint" \
  -c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null &
writer=$!
sleep 0.5
start=$(date +%s%N)
pq -d "$db" -c "SELECT count(*) FROM analytics.analytics_refresh_stats('acme')" >/dev/null
took_ms=$(( ($(date +%s%N) - start) / 1000000 ))
kill -0 "$writer" 2>/dev/null || fail "the refresh waited for the writer (took $took_ms ms)"
wait "$writer"
[ "$(pq -d "$db" -c "SELECT analytics._stats_fresh_for('acme') IS NULL")" = t ] || fail "acme is fresh although a write committed during its refresh"
renamed="$(pq -d "$db" -c "SELECT count(*) FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = 'acme' AND name LIKE '%(renamed)'")"
[ "$renamed" = 0 ] || fail "the refresh saw an uncommitted write"
refreshed="$(pq -d "$db" -c "SELECT string_agg(DISTINCT tenant_id, ',') FROM analytics.analytics_refresh_stale_stats()")"
[ "$refreshed" = acme ] || fail "the stale-only refresh refreshed '$refreshed', not acme"
[ "$(pq -d "$db" -c "SELECT count(*) FROM analytics.mv_sprint_stats_enriched WHERE tenant_id = 'acme' AND name LIKE '%(renamed)'")" = 1 ] \
  || fail "the next refresh lost the write"
[ "$(same_as_live acme)" = 0 ] || fail "acme's statistics differ from sprint_facts after the refresh"

# 2. Four refreshes of acme at once.
for i in 1 2 3 4; do pq -d "$db" -c "SELECT count(*) FROM analytics.analytics_refresh_stats('acme')" > "$work/r.$i" 2>&1 & done
wait
for i in 1 2 3 4; do [ "$(cat "$work/r.$i")" = 2 ] || fail "concurrent refresh $i: $(head -3 "$work/r.$i")"; done
[ "$(same_as_live acme)" = 0 ] || fail "acme's statistics differ from sprint_facts after concurrent refreshes"

# 3. globex was left alone throughout.
[ "$(pq -d "$db" -c "SELECT refreshed_at FROM analytics.stats_refreshes WHERE tenant_id = 'globex'")" = "$globex_before" ] || fail "globex was refreshed"
[ "$(same_as_live globex)" = 0 ] || fail "globex's statistics changed"
[ "$status" = 0 ] && echo "stats_concurrent: a write during its tenant's refresh (refresh $took_ms ms, not blocked) is in the next stale-only refresh; 4 concurrent refreshes of one tenant succeed; the other tenant is untouched"
exit $status
