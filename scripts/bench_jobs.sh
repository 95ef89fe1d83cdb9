#!/usr/bin/env bash
# Async job benchmarks, run by scripts/bench.sh on its loaded cluster (or any cluster with the extension,
# data for TENANT and the job workers running). Prints figures and ratios:
#   pickup latency, submit-commit -> running: p50 and p99          goal p50 <= 20 ms
#   cached run jobs/s with the executors / analytics_run calls/s    goal >= 0.5
#     of one client on the same specs
#   a heavy spec as a job / the same spec run directly             goal <= 1.05
# Usage: scripts/bench_jobs.sh BASE PORT DB TENANT
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pins.sh"
base="$1"; port="$2"; db="$3"; tenant="$4"
dir="$base/bench_jobs"
mkdir -p "$dir"; chmod 755 "$dir"
q() { PGOPTIONS="-c client_min_messages=warning -c analytics.tenant_id=$tenant" psql -X -q -At -v ON_ERROR_STOP=1 -h "$base/sock" -p "$port" -U postgres -d "$db" "$@"; }
drain() {
  for _ in $(seq 1 6000); do
    [ "$(q -c "SELECT count(*) FROM analytics.jobs WHERE state IN ('queued', 'running')")" = 0 ] && return 0
    sleep 0.05
  done
  echo "[bench] jobs did not finish" >&2; return 1
}
workers="$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'agile_analytics jobs' AND datname = current_database()")"
echo "[bench] async jobs ($workers executors in database $db, tenant $tenant)"
[ "$workers" -gt 0 ] || { echo "  no job executors: skipped"; exit 0; }
q -c "DELETE FROM analytics.jobs" >/dev/null
run="$(date +%s)"

# Pickup: one job at a time, each submitted in its own transaction while the executors idle, so the
# figure is the wake-up at commit, not the 1 s poll. With track_commit_timestamp (bench.sh turns it on)
# it is measured from the submitting transaction's commit; without, from its start (an upper bound).
n=200
q -c "DROP TABLE IF EXISTS public.bench_pickup" -c "CREATE TABLE public.bench_pickup (key text, xid bigint)" >/dev/null
for i in $(seq 1 $n); do
  echo "BEGIN;"
  echo "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"limit\": $i, \"group_by\": [\"priority\"]}', '{\"idempotency_key\": \"pickup-$run-$i\"}');"
  echo "INSERT INTO public.bench_pickup VALUES ('pickup-$run-$i', txid_current());"
  echo "COMMIT;"
  echo "SELECT pg_sleep(0.02);"
done > "$dir/pickup.sql"
q -f "$dir/pickup.sql" >/dev/null
drain
if [ "$(q -c "SHOW track_commit_timestamp")" = on ]; then
  from="pg_catalog.pg_xact_commit_timestamp((p.xid % 4294967296)::text::xid)"; since="commit"
else
  from="j.submitted_at"; since="transaction start"
fi
read -r p50 p99 <<<"$(q -F ' ' -c "SELECT round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms))::numeric, 2), round((percentile_cont(0.99) WITHIN GROUP (ORDER BY ms))::numeric, 2)
  FROM (SELECT extract(epoch FROM j.started_at - $from) * 1000 AS ms FROM analytics.jobs j JOIN public.bench_pickup p ON p.key = j.idempotency_key) t")"
q -c "DROP TABLE public.bench_pickup" >/dev/null

# Throughput: N specs put in the cache first, then N jobs for them in one transaction; against one
# client calling analytics_run on the same (cached) specs.
n=1000
q -c "SELECT count(analytics.analytics_run(pg_catalog.jsonb_build_object('metrics', pg_catalog.jsonb_build_array('closed'), 'limit', g, 'group_by', pg_catalog.jsonb_build_array('issue_type')))) FROM generate_series(1, $n) g" >/dev/null
t0="$(date +%s%N)"
q -c "SELECT count(analytics.analytics_job_submit('run', pg_catalog.jsonb_build_object('metrics', pg_catalog.jsonb_build_array('closed'), 'limit', g, 'group_by', pg_catalog.jsonb_build_array('issue_type')))) FROM generate_series(1, $n) g" >/dev/null
t1="$(date +%s%N)"
drain
span="$(q -c "SELECT extract(epoch FROM max(finished_at) - min(started_at)) FROM analytics.jobs WHERE payload -> 'group_by' = '[\"issue_type\"]' AND payload -> 'metrics' = '[\"closed\"]'")"
cached="$(q -c "SELECT count(*) FILTER (WHERE (r.result ->> 'cached')::boolean) FROM analytics.job_results r JOIN analytics.jobs j ON j.id = r.job_id WHERE j.payload -> 'metrics' = '[\"closed\"]'")"
printf '\\set l random(1, %s)\nSELECT analytics.analytics_run(pg_catalog.jsonb_build_object('"'"'metrics'"'"', pg_catalog.jsonb_build_array('"'"'closed'"'"'), '"'"'limit'"'"', :l, '"'"'group_by'"'"', pg_catalog.jsonb_build_array('"'"'issue_type'"'"')));\n' "$n" > "$dir/run.sql"
chmod 644 "$dir/run.sql"
tps="$(PGOPTIONS="-c analytics.tenant_id=$tenant" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n -c 1 -T 10 -f "$dir/run.sql" "$db" 2>/dev/null | awk '/^tps = / {print $3}')"
attempt_ms="$(q -c "SELECT round(avg(extract(epoch FROM finished_at - started_at)) * 1000, 2) FROM analytics.jobs WHERE payload -> 'group_by' = '[\"issue_type\"]' AND payload -> 'metrics' = '[\"closed\"]'")"
# The floor under a job: it commits twice (its claim, then its result), durably. Durable commits per
# second of a one-row UPDATE, 2 clients, in the same run: jobs/s cannot exceed half of it.
q -c "DROP TABLE IF EXISTS public.bench_commit" -c "CREATE TABLE public.bench_commit (id int PRIMARY KEY, n bigint)" -c "INSERT INTO public.bench_commit VALUES (1, 0), (2, 0)" >/dev/null
echo "UPDATE public.bench_commit SET n = n + 1 WHERE id = 1 + (random() < 0.5)::int;" > "$dir/commit.sql"
chmod 644 "$dir/commit.sql"
commits="$("$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n -c 2 -j 2 -T 5 -f "$dir/commit.sql" "$db" 2>/dev/null | awk '/^tps = / {print $3}')"
q -c "DROP TABLE public.bench_commit" >/dev/null

# Overhead: a heavy spec (cache off for both: the workers read analytics.cache_ttl from the server's
# configuration) as a job, submit to finish, against the same spec run directly; 5 rounds, medians.
heavy='{"metrics": ["lead_time_p50", "cycle_time", "created", "closed"], "group_by": ["assignee", {"field": "created_at", "interval": "month"}], "limit": 1000}'
q -c "ALTER SYSTEM SET analytics.cache_ttl = 0" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
direct=(); job=()
for i in 1 2 3 4 5; do
  direct+=("$(q -c "SET analytics.cache_ttl = 0" -c "SELECT extract(epoch FROM clock_timestamp() - t) * 1000 FROM (SELECT clock_timestamp() AS t) s, LATERAL (SELECT analytics.analytics_run('$heavy') IS NOT NULL) r")")
  id="$(q -c "SELECT analytics.analytics_job_submit('run', '$heavy', '{\"idempotency_key\": \"heavy-$run-$i\"}')")"
  drain
  job+=("$(q -c "SELECT extract(epoch FROM finished_at - submitted_at) * 1000 FROM analytics.jobs WHERE id = '$id'")")
done
q -c "ALTER SYSTEM RESET analytics.cache_ttl" -c "SELECT pg_reload_conf()" >/dev/null
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
d="$(median "${direct[@]}")"; j="$(median "${job[@]}")"
rows="$(q -c "SELECT result_rows FROM analytics.jobs WHERE id = '$id'")"
q -c "DELETE FROM analytics.jobs" >/dev/null

awk -v p50="$p50" -v p99="$p99" -v n="$n" -v span="$span" -v cached="$cached" -v tps="$tps" -v subms="$(( (t1 - t0) / 1000000 ))" \
    -v d="$d" -v j="$j" -v rows="$rows" -v w="$workers" -v since="$since" -v am="$attempt_ms" -v commits="$commits" 'BEGIN {
  printf "  pickup latency, submit %s -> running (200 jobs, one at a time): p50 %.2f ms, p99 %.2f ms   goal p50 <= 20 ms  ratio %.3f\n", since, p50, p99, p50 / 20
  jps = n / span
  printf "  cached run jobs (%d, %d served from the cache, submitted in %d ms): %.0f jobs/s with %d executors\n", n, cached, subms, jps, w
  printf "  analytics_run on the same cached specs, one client (pgbench):  %.0f calls/s\n", tps
  printf "  jobs/s / analytics_run calls/s: %.3f   goal >= 0.5  ratio %.3f   (one cached attempt: %.2f ms)\n", jps / tps, (jps / tps) / 0.5, am
  printf "  floor: %.0f durable commits/s (2 clients, one-row UPDATE): at 2 commits per job, jobs/s <= %.0f, so the ratio <= %.3f\n", commits, commits / 2, commits / 2 / tps
  printf "  heavy spec (%d rows, cache off): directly %.1f ms, as a job %.1f ms (submit to finish)   job/direct %.3f   goal <= 1.05  ratio %.3f\n", rows, d, j, j / d, (j / d) / 1.05
}'
