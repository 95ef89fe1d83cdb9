#!/usr/bin/env bash
# Flow analytics benchmarks, run by scripts/bench.sh on its loaded cluster (or by hand on any loaded
# cluster). Prints latencies and ratios, after checking each pair gives the same rows:
#   90-day daily cumulative flow (backlog_count, wip, done_count by as_of day) for one tenant
#     ÷ hand-written SQL (a running sum of category changes over the transitions)   goal <= 1.2, < 500 ms
#   12-week created vs closed vs net flow by as_of day ÷ hand-written SQL            goal <= 1.2
#   a sprint's daily burndown and burnup (scope, done, remaining points; the closed sprint with the most
#     members) ÷ hand-written SQL (membership per day, points_at and category_at)     goal <= 1.2, < 500 ms
#   a 10,000-trial 30-day forecast_items ÷ the same bootstrap written in SQL (random(); the answers
#     agree within Monte Carlo noise, not row for row)                                goal <= 1.2, < 500 ms
# The hand-written SQL relies on what the Jira loader guarantees (every issue has an initial transition
# at its creation); the compiled query also covers issues without history or with a first transition
# from another state, which is what the difference pays for.
# Usage: scripts/bench_flow.sh BASE PORT DB TENANT
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pins.sh"
base="$1"; port="$2"; db="$3"; tenant="$4"
dir="$base/bench_flow"
mkdir -p "$dir"; chmod 755 "$dir"
db_psql() { psql -X -q -h "$base/sock" -p "$port" -U postgres -d "$db" "$@"; }
put() { printf '%s\n' "$2" > "$dir/$1.sql"; chmod 644 "$dir/$1.sql"; echo "$dir/$1.sql"; }
lat() {
  PGOPTIONS="-c analytics.tenant_id=$tenant -c analytics.cache_ttl=0" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n \
    -c 1 -T "$2" -f "$1" "$db" 2>/dev/null | awk '/latency average/ {print $4}'
}

cfd_spec='{"metrics": ["backlog_count", "wip", "done_count"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"last": "90 days"}}'
# The hand-written cumulative flow: category changes per day from the transitions (t), their running sum.
cfd_sum="d AS (
  SELECT greatest(date_trunc('day', changed_at), date_trunc('day', now() - interval '90 days')) AS b,
         sum((c = 'todo')::int - coalesce((p = 'todo')::int, 0)) AS todo,
         sum((c = 'in_progress')::int - coalesce((p = 'in_progress')::int, 0)) AS wip,
         sum((c = 'done')::int - coalesce((p = 'done')::int, 0)) AS done
  FROM t GROUP BY 1
)
SELECT g::date AS as_of_day, sum(coalesce(d.todo, 0)) OVER w AS backlog_count, sum(coalesce(d.wip, 0)) OVER w AS wip,
       sum(coalesce(d.done, 0)) OVER w AS done_count
FROM generate_series(date_trunc('day', now() - interval '90 days'), now() - interval '1 microsecond', interval '1 day') AS g
LEFT JOIN d ON d.b = g WINDOW w AS (ORDER BY g) ORDER BY 1"
cfd_hand="WITH t AS (
  SELECT t.changed_at, t.to_category AS c, lag(t.to_category) OVER (PARTITION BY t.issue_id ORDER BY t.changed_at, t.id) AS p
  FROM analytics.issue_transitions t WHERE t.tenant_id = current_setting('analytics.tenant_id') AND t.changed_at <= now()
), $cfd_sum"
# The floor under the cumulative flow's ratio: the hand-written query plus only the join to the issues
# that the spec's rules need (a transition before its issue's creation counts from the creation), still
# without the issues that have no history. Nothing with the spec's meaning does less.
cfd_floor="WITH t AS (
  SELECT greatest(t.changed_at, i.created_at) AS changed_at, t.c, t.p FROM (
    SELECT t.issue_id, t.changed_at, t.to_category AS c, lag(t.to_category) OVER (PARTITION BY t.issue_id ORDER BY t.changed_at, t.id) AS p
    FROM analytics.issue_transitions t WHERE t.tenant_id = current_setting('analytics.tenant_id') AND t.changed_at <= now()) AS t
  JOIN analytics.issues i ON i.tenant_id = current_setting('analytics.tenant_id') AND i.id = t.issue_id
), $cfd_sum"

flow_spec='{"metrics": ["created", "closed", "net_flow"], "group_by": [{"field": "as_of", "interval": "day"}], "date_range": {"last": "12 weeks"}}'
flow_hand="WITH g AS (SELECT g FROM generate_series(date_trunc('day', now() - interval '12 weeks'), now() - interval '1 microsecond', interval '1 day') AS g),
c AS (SELECT date_trunc('day', created_at) AS b, count(*) AS n FROM analytics.issues WHERE tenant_id = current_setting('analytics.tenant_id')
      AND created_at >= date_trunc('day', now() - interval '12 weeks') AND created_at < now() GROUP BY 1),
r AS (SELECT date_trunc('day', resolved_at) AS b, count(*) AS n FROM analytics.issues WHERE tenant_id = current_setting('analytics.tenant_id')
      AND resolved_at >= date_trunc('day', now() - interval '12 weeks') AND resolved_at < now() GROUP BY 1)
SELECT g.g::date AS as_of_day, coalesce(c.n, 0) AS created, coalesce(r.n, 0) AS closed, coalesce(c.n, 0) - coalesce(r.n, 0) AS net_flow
FROM g LEFT JOIN c ON c.b = g.g LEFT JOIN r ON r.b = g.g ORDER BY 1"

fc_spec='{"metrics": [{"name": "forecast_items", "params": {"days": 30, "trials": 10000, "confidence": 0.85}}]}'
fc_hand="WITH h AS (
  SELECT array_agg(coalesce(x.n, 0) ORDER BY d.d) AS counts
  FROM generate_series(0, 83) AS d(d)
  LEFT JOIN (SELECT floor(extract(epoch FROM now() - resolved_at) / 86400)::int AS d, count(*) AS n FROM analytics.issues
             WHERE tenant_id = current_setting('analytics.tenant_id') AND resolved_at <= now() AND resolved_at > now() - interval '12 weeks' GROUP BY 1) AS x USING (d)
), t AS (
  SELECT trial, sum(h.counts[1 + floor(random() * 84)::int]) AS total FROM h, generate_series(1, 10000) AS trial, generate_series(1, 30) AS day GROUP BY trial
)
SELECT percentile_disc(0.15) WITHIN GROUP (ORDER BY total) AS forecast_items FROM t"

# A sprint burndown and burnup: the tenant's closed sprint with the most members, day by day.
sprint="$(db_psql -At -c "SELECT s.name FROM analytics.sprints s JOIN analytics.sprint_issues si ON si.tenant_id = s.tenant_id AND si.sprint_id = s.id
  WHERE s.tenant_id = '$tenant' AND s.state = 'closed' AND s.name !~ '[\"''\\\\]' GROUP BY s.id, s.name ORDER BY count(*) DESC, s.id LIMIT 1")"
burn_spec="{\"entity\": \"sprint\", \"metrics\": [\"sprint_scope_sp\", \"sprint_done_sp\", \"sprint_remaining_sp\"], \"group_by\": [{\"field\": \"as_of\", \"interval\": \"day\"}], \"filters\": [{\"field\": \"sprint\", \"operator\": \"eq\", \"value\": \"$sprint\"}]}"
burn_hand="WITH s AS (SELECT * FROM analytics.sprints WHERE tenant_id = current_setting('analytics.tenant_id') AND name = '$sprint' AND start_date IS NOT NULL),
d AS (SELECT s.id, g, least(g + interval '1 day' - interval '1 microsecond', coalesce(s.complete_date, now())) AS at
      FROM s, generate_series(date_trunc('day', s.start_date), coalesce(s.complete_date, now()), interval '1 day') AS g)
SELECT d.g::date AS as_of_day, coalesce(sum(x.v), 0) AS sprint_scope_sp, coalesce(sum(x.v) FILTER (WHERE x.cat = 'done'), 0) AS sprint_done_sp,
       coalesce(sum(x.v) FILTER (WHERE x.cat IS DISTINCT FROM 'done'), 0) AS sprint_remaining_sp
FROM d LEFT JOIN analytics.sprint_issues si ON si.tenant_id = current_setting('analytics.tenant_id') AND si.sprint_id = d.id
  AND si.added_at <= d.at AND (si.removed_at IS NULL OR si.removed_at > d.at)
LEFT JOIN LATERAL (SELECT analytics.points_at(si.issue_id, d.at) AS v, analytics.category_at(si.issue_id, d.at) AS cat) AS x ON si.id IS NOT NULL
GROUP BY d.g ORDER BY 1"

echo "[bench] flow analytics (tenant $tenant: $(db_psql -At -c "SELECT count(*) FROM analytics.issues WHERE tenant_id = '$tenant'") issues, $(db_psql -At -c "SELECT count(*) FROM analytics.issue_transitions WHERE tenant_id = '$tenant'") transitions)"
for name in cfd flow burn fc; do
  spec_var="${name}_spec"; hand_var="${name}_hand"
  spec="${!spec_var}"; hand="${!hand_var}"
  if [ "$name" = fc ]; then
    same="$(db_psql -At -c "SET analytics.tenant_id = '$tenant'" -c "SET analytics.cache_ttl = 0" -c "
      SELECT 'ours ' || (SELECT r ->> 'forecast_items' FROM analytics.analytics_rows('$spec') AS r) || ', SQL bootstrap ' || (SELECT forecast_items FROM ($hand) AS h)")"
  else
  same="$(db_psql -At -c "SET analytics.tenant_id = '$tenant'" -c "SET analytics.cache_ttl = 0" -c "
    WITH a AS (SELECT r FROM analytics.analytics_rows('$spec') AS r), b AS (SELECT to_jsonb(h) AS r FROM ($hand) AS h)
    SELECT (SELECT count(*) FROM a) || ' rows, ' || (SELECT count(*) FROM ((SELECT r FROM a EXCEPT ALL SELECT r FROM b) UNION ALL (SELECT r FROM b EXCEPT ALL SELECT r FROM a)) x) || ' differ'")"
  fi
  f_spec="$(put "${name}_spec" "SELECT * FROM analytics.analytics_rows('$spec');")"
  f_hand="$(put "${name}_hand" "$hand;")"
  # Every row is fetched both ways (a count(*) over the hand-written query would let the planner drop
  # the joined aggregate). Three interleaved rounds of 5 s each; the ratio of the medians.
  s=(); h=()
  for r in 1 2 3; do s+=("$(lat "$f_spec" 5)"); h+=("$(lat "$f_hand" 5)"); done
  printf '%s\n' "${s[@]}" | sort -n | sed -n 2p > "$dir/s"; printf '%s\n' "${h[@]}" | sort -n | sed -n 2p > "$dir/h"
  awk -v n="$name" -v s="$(cat "$dir/s")" -v h="$(cat "$dir/h")" -v same="$same" -v all="${s[*]} / ${h[*]}" 'BEGIN {
    label = (n == "cfd") ? "90-day daily cumulative flow" : (n == "flow") ? "12-week daily created/closed/net flow" : (n == "burn") ? "sprint burndown/burnup by day" : "10,000-trial 30-day forecast_items"
    printf "  %-40s %8.1f ms  hand-written %8.1f ms  ratio %.2f (goal <= 1.2; < 500 ms: ratio %.2f)  [%s; rounds %s]\n", label, s, h, s / h, s / 500, same, all
  }'
  if [ "$name" = cfd ]; then
    f_floor="$(put cfd_floor "$cfd_floor;")"
    fl=()
    for r in 1 2 3; do fl+=("$(lat "$f_floor" 5)"); done
    floor_ms="$(printf '%s\n' "${fl[@]}" | sort -n | sed -n 2p)"
    awk -v s="$(cat "$dir/s")" -v h="$(cat "$dir/h")" -v f="$floor_ms" 'BEGIN {
      printf "    floor: the hand-written query joined to the issues for their creation times only %8.1f ms (%.2f of the hand-written); ours / floor %.2f\n", f, f / h, s / f }'
  fi
done
