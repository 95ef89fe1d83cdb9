#!/usr/bin/env bash
# Pre-aggregated sprint statistics (issue 19), run by scripts/bench.sh on its loaded cluster (or by hand
# on any loaded cluster whose statistics were refreshed). Prints latencies and ratios in one run:
#   "completed points and spillover by board, last 6 sprints" routed to the statistics ÷ computed live
#     (analytics.stats_routing = off)                                                  goal <= 0.05
#   the same spec routed ÷ a hand-written SELECT on analytics.sprint_stats (same rows)   goal <= 1.2
#   a refresh after one tenant changed (analytics_refresh_stale_stats) ÷ a full refresh  goal <= 0.05
#   p99 latency of a reader of another tenant during the full refresh ÷ without it (never blocked)
# Usage: scripts/bench_stats.sh BASE PORT DB TENANT
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pins.sh"
base="$1"; port="$2"; db="$3"; tenant="$4"
dir="$base/bench_stats"
mkdir -p "$dir"; chmod 777 "$dir"
db_psql() { psql -X -q -h "$base/sock" -p "$port" -U postgres -d "$db" "$@"; }
put() { printf '%s\n' "$2" > "$dir/$1.sql"; chmod 644 "$dir/$1.sql"; echo "$dir/$1.sql"; }
# Average latency in ms of a script for $2 seconds, with extra PGOPTIONS $3.
lat() {
  PGOPTIONS="-c analytics.tenant_id=$tenant -c analytics.cache_ttl=0 ${3:-}" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n \
    -c 1 -T "$2" -f "$1" "$db" 2>/dev/null | awk '/latency average/ {print $4}'
}
other="$(db_psql -At -c "SELECT tenant_id FROM analytics.sprints WHERE tenant_id <> '$tenant' GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1")"
db_psql -At -c "SELECT count(*) FROM analytics.analytics_refresh_stale_stats()" >/dev/null

spec='{"entity": "sprint", "metrics": ["completed_sp", "spillover_ratio"], "group_by": ["board"], "date_range": {"last_sprints": 6}}'
hand="SELECT f.board, sum(f.completed_sp) AS completed_sp, avg(f.spillover_ratio)::float8 AS spillover_ratio FROM analytics.sprint_stats AS f
WHERE f.sprint_id IN (SELECT r.id FROM (SELECT s.id, row_number() OVER (PARTITION BY s.instance_id, s.board ORDER BY s.complete_date DESC, s.id DESC) AS rn
                                        FROM analytics.sprints s WHERE s.tenant_id = current_setting('analytics.tenant_id') AND s.state = 'closed') AS r WHERE r.rn <= 6)
GROUP BY 1 ORDER BY 1 LIMIT 1000"
check="$(db_psql -At -c "SET analytics.tenant_id = '$tenant'" -c "SET analytics.cache_ttl = 0" -c "
  WITH a AS (SELECT r FROM analytics.analytics_rows('$spec') AS r), b AS (SELECT to_jsonb(h) AS r FROM ($hand) AS h)
  SELECT (SELECT count(*) FROM a) || ' rows, ' || (SELECT count(*) FROM ((SELECT r FROM a EXCEPT ALL SELECT r FROM b) UNION ALL (SELECT r FROM b EXCEPT ALL SELECT r FROM a)) x)
         || ' differ from the hand-written SELECT; source ' || (analytics.analytics_run('$spec') -> 'source' ->> 'sprint_stats')")"
f_spec="$(put spec "SELECT * FROM analytics.analytics_rows('$spec');")"
f_hand="$(put hand "$hand;")"
routed=(); live=(); handed=()
for r in 1 2 3; do
  routed+=("$(lat "$f_spec" 5)"); live+=("$(lat "$f_spec" 5 "-c analytics.stats_routing=off")"); handed+=("$(lat "$f_hand" 5)")
done
med() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
r_ms="$(med "${routed[@]}")"; l_ms="$(med "${live[@]}")"; h_ms="$(med "${handed[@]}")"

# Refresh cost: one tenant of the database changed vs everything.
db_psql -At -c "UPDATE analytics.sprints SET name = name WHERE tenant_id = '$tenant' AND id = (SELECT min(id) FROM analytics.sprints WHERE tenant_id = '$tenant')" >/dev/null
start=$(date +%s%N)
stale="$(db_psql -At -c "SELECT string_agg(DISTINCT tenant_id, ',') FROM analytics.analytics_refresh_stale_stats()")"
one_ms=$(( ($(date +%s%N) - start) / 1000000 ))
tenants="$(db_psql -At -c "SELECT count(*) FROM analytics._stats_tenants()")"

# A reader of another tenant (the routed spec) alone, then during a full refresh; per-transaction
# latencies from pgbench's log, p99 of each.
p99() {
  rm -f "$dir"/pgbench_log.*
  (cd "$dir" && PGOPTIONS="-c analytics.tenant_id=$other -c analytics.cache_ttl=0" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n \
    -c 1 -T "$1" -l -f "$f_spec" "$db" >/dev/null 2>&1)
  cat "$dir"/pgbench_log.* | awk '{print $3 / 1000}' | sort -n | awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; printf "%.2f %d", a[i], NR}'
}
read -r base_p99 base_n <<< "$(p99 10)"
start=$(date +%s%N)
db_psql -At -c "SELECT count(*) FROM analytics.analytics_refresh_views()" > "$dir/full.out" &
full=$!
read -r during_p99 during_n <<< "$(p99 10)"
wait "$full"
full_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$full_ms" -gt 10000 ] || echo "  (the full refresh took $full_ms ms: the reader ran alongside it for part of its 10 s only)"

echo "[bench] pre-aggregated sprint statistics (tenant $tenant; $tenants tenants; $check)"
awk -v r="$r_ms" -v l="$l_ms" -v h="$h_ms" -v one="$one_ms" -v full="$full_ms" -v stale="$stale" -v bp="$base_p99" -v dp="$during_p99" -v bn="$base_n" -v dn="$during_n" \
    -v rounds="routed ${routed[*]} / live ${live[*]} / hand ${handed[*]}" 'BEGIN {
  printf "  sprint spec routed %8.2f ms  live %8.2f ms  ratio %.3f (goal <= 0.05)\n", r, l, r / l
  printf "  sprint spec routed %8.2f ms  hand-written SELECT on sprint_stats %8.2f ms  ratio %.2f (goal <= 1.2)  [%s]\n", r, h, r / h, rounds
  printf "  refresh after one tenant changed (%s) %d ms  full refresh %d ms  ratio %.3f (goal <= 0.05)\n", stale, one, full, one / full
  printf "  reader of another tenant: p99 %.2f ms alone (%d runs), %.2f ms during the full refresh (%d runs): ratio %.2f\n", bp, bn, dp, dn, dp / bp
}'
