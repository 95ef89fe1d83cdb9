#!/usr/bin/env bash
# AnalyticsSpec benchmarks, run by scripts/bench.sh on its loaded cluster. Prints figures and ratios:
#   compile TPS / SELECT '{}'::jsonb TPS                       goal >= 0.8
#   analytics_run (cache off) latency / hand-written SQL       goal <= 1.10, per spec
#   cache-hit TPS / primary-key lookup TPS                     goal >= 0.5
# Usage: scripts/bench_spec.sh BASE PORT DB TENANT
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pins.sh"
base="$1"; port="$2"; db="$3"; tenant="$4"
dir="$base/bench_spec"
mkdir -p "$dir"; chmod 755 "$dir"

# pgbench: "tps" or "lat" of a script file, with extra -c/-j and PGOPTIONS.
pgb() {
  local what="$1" file="$2" secs="$3" clients="$4" opts="$5"
  PGOPTIONS="-c analytics.tenant_id=$tenant $opts" "$PG_BIN/pgbench" -h "$base/sock" -p "$port" -U postgres -n \
    -c "$clients" -j "$clients" -T "$secs" -f "$file" "$db" 2>/dev/null |
    awk -v w="$what" '/^tps = / && w == "tps" {print $3} /latency average/ && w == "lat" {print $4}'
}
db_psql() { psql -X -h "$base/sock" -p "$port" -U postgres -d "$db" "$@"; }
put() { printf '%s\n' "$2" > "$dir/$1.sql"; chmod 644 "$dir/$1.sql"; echo "$dir/$1.sql"; }
# rounds_of N SECS CLIENTS tps|lat FILE1 OPTS1 FILE2 OPTS2 ...: N rounds of every script; prints the figures
# round by round, in the scripts' order. A script's place in a round shifts its figure by a few percent
# on this machine (whichever runs right after another, say), so each round starts one script later.
rounds_of() {
  local n="$1" secs="$2" clients="$3" what="$4"; shift 4
  local -a f=() o=() v=(); local r k j m out=""
  while [ $# -gt 0 ]; do f+=("$1"); o+=("$2"); shift 2; done
  m=${#f[@]}
  for ((r = 0; r < n; r++)); do
    for ((k = 0; k < m; k++)); do
      j=$(( (r + k) % m )); v[j]="$(pgb "$what" "${f[j]}" "$secs" "$clients" "${o[j]}")"
    done
    out="$out ${v[*]}"
  done
  echo "$out"
}

echo "[bench] AnalyticsSpec (tenant $tenant)"
spec_a='{"metrics": ["closed", "lead_time_p50"], "group_by": ["priority"], "date_range": {"from": "2026-08-01", "to": "2026-11-01"}}'
# This 2-core machine's throughput drifts by +-10% from one run to the next, so baseline and compile run
# in 8 interleaved rounds of 5 s and the ratio is the median of the rounds' ratios. Three more scripts
# in each round show where a statement's time goes without analytics_compile:
# - a C function with its signature that does no work (scripts/bench_floor: it returns a stored copy of
#   the very same answer), i.e. what any function returning this answer costs per statement;
# - a read of the same answer from a one-row table (no function at all);
# - the C function with no work returning '{}' (the call without the answer's size).
answer_table="$(db_psql -At -c "SET client_min_messages = warning" -c "SET analytics.tenant_id = '$tenant'" \
  -c "DROP TABLE IF EXISTS public.bench_compile_answer" \
  -c "CREATE TABLE public.bench_compile_answer AS SELECT analytics.analytics_compile('$spec_a') AS a" \
  -c "GRANT SELECT ON public.bench_compile_answer TO PUBLIC" >/dev/null && echo public.bench_compile_answer)"
rm -rf "$dir/floor"; cp -r "$root/scripts/bench_floor" "$dir/floor"
make -s -C "$dir/floor" PG_CONFIG="$PG_CONFIG" install >/dev/null
db_psql -q -c "CREATE OR REPLACE FUNCTION public.bench_answer_floor(spec text) RETURNS jsonb
  LANGUAGE c STABLE AS '\$libdir/agile_analytics_bench_floor', 'bench_answer_floor'" \
  -c "CREATE OR REPLACE FUNCTION public.bench_empty_floor(spec text) RETURNS jsonb
  LANGUAGE c STABLE AS '\$libdir/agile_analytics_bench_floor', 'bench_empty_floor'"
base_file="$(put baseline "SELECT '{}'::jsonb;")"
compile_file="$(put compile "SELECT analytics.analytics_compile('$spec_a');")"
floor_file="$(put compile_floor "SELECT public.bench_answer_floor('$spec_a');")"
table_file="$(put compile_table "SELECT a FROM $answer_table;")"
empty_file="$(put compile_empty "SELECT public.bench_empty_floor('$spec_a');")"
# awk: median(a, n) of a[1..n] (sorts a); pairs: for input "x1 y1 x2 y2 ..." the medians mx, my of the x and
# y and mr of the ratios x/y, with every round's ratio in line.
median_awk='function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
                                       return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }'
pairs_awk="$median_awk"'
  { n = NF / 2; for (i = 1; i <= n; i++) { x[i] = $(2 * i - 1); y[i] = $(2 * i); r[i] = x[i] / y[i]; line = line sprintf(" %.3f", r[i]) }
    mx = median(x, n); my = median(y, n); mr = median(r, n) }'
rounds="$(rounds_of 8 5 2 tps "$base_file" "" "$compile_file" "" "$floor_file" "" "$table_file" "" "$empty_file" "")"
echo "$rounds" | awk "$median_awk"'
  { n = NF / 5; for (i = 1; i <= n; i++) { b[i] = $(5 * i - 4); c[i] = $(5 * i - 3); f[i] = $(5 * i - 2); t[i] = $(5 * i - 1); e[i] = $(5 * i)
                                           rc[i] = c[i] / b[i]; rf[i] = f[i] / b[i]; rt[i] = t[i] / b[i]; re[i] = e[i] / b[i]
                                           lc = lc sprintf(" %.3f", rc[i]); lf = lf sprintf(" %.3f", rf[i]) } }
  END { printf "  compile: %.0f TPS vs SELECT '\''{}'\''::jsonb %.0f TPS   ratio %.3f (goal >= 0.8; rounds:%s)\n", median(c, n), median(b, n), median(rc, n), lc
        printf "    a C function returning the same answer with no work: %.0f TPS   ratio %.3f (rounds:%s)\n", median(f, n), median(rf, n), lf
        printf "    the same answer read from a one-row table (no function): %.0f TPS   ratio %.3f\n", median(t, n), median(rt, n)
        printf "    the C function with no work returning {} instead: %.0f TPS   ratio %.3f\n", median(e, n), median(re, n) }'
# A second opinion with one client (pgbench's default): the backend and pgbench then each have a core
# of their own, instead of two of each sharing this machine's two cores.
rounds="$(rounds_of 6 5 1 tps "$base_file" "" "$compile_file" "" "$floor_file" "")"
echo "$rounds" | awk "$median_awk"'
  { n = NF / 3; for (i = 1; i <= n; i++) { b[i] = $(3 * i - 2); c[i] = $(3 * i - 1); f[i] = $(3 * i)
                                           rc[i] = c[i] / b[i]; rf[i] = f[i] / b[i]; lc = lc sprintf(" %.3f", rc[i]) } }
  END { printf "    with one client: compile %.0f TPS vs %.0f TPS   ratio %.3f (rounds:%s); the C function with no work: ratio %.3f\n", median(c, n), median(b, n), median(rc, n), lc, median(rf, n) }'
db_psql -q -c "DROP TABLE public.bench_compile_answer" -c "DROP FUNCTION public.bench_answer_floor(text)" \
  -c "DROP FUNCTION public.bench_empty_floor(text)"
# ms of a million evaluations of EXPR in one statement over FROM (one row), after an optional SETUP: the
# cost of a call without parsing, planning or printing a statement each time.
million_ms() {
  local expr="$1" from="$2" setup="${3:-SELECT 1}"
  db_psql -At -c "SET analytics.tenant_id = '$tenant'" -c "$setup" -c "\\timing on" \
    -c "SELECT count($expr) FROM $from, generate_series(1, 1000000)" | awk '/^Time:/ { print $2 }'
}
# The function's own work per call: a million calls, less the same loop calling length().
f_ms="$(million_ms "analytics.analytics_compile(s)" "(SELECT '$spec_a'::text AS s) a")"
l_ms="$(million_ms "length(s)" "(SELECT '$spec_a'::text AS s) a")"
awk -v f="$f_ms" -v l="$l_ms" 'BEGIN { printf "    analytics_compile'\''s own work: %.3f us per call (1M calls in one statement, less the same loop calling length())\n", (f - l) / 1000 }'
# PostgreSQL's printing of that answer (jsonb_out, which every statement returning it pays): a million
# prints of it, less a million prints of '{}'.
p_ms="$(million_ms "a::text" answer "CREATE TEMP TABLE answer AS SELECT analytics.analytics_compile('$spec_a') AS a")"
e_ms="$(million_ms "a::text" answer "CREATE TEMP TABLE answer AS SELECT '{}'::jsonb AS a")"
awk -v p="$p_ms" -v e="$e_ms" 'BEGIN { printf "    PostgreSQL printing that answer (jsonb_out): %.3f us per call (1M prints in one statement, less 1M prints of '\''{}'\'')\n", (p - e) / 1000 }'

# Five representative specs and the SQL a person would write for each. Both run without JIT: spec queries
# switch it off (analytics.jit), and the hand-written SQL gets the same setting.
names=(closed_p50_by_priority bugs_by_month created_by_label cycle_p90_by_type sprint_health_by_board)
specs=(
  "$spec_a"
  '{"metrics": ["bug_count"], "group_by": [{"field": "created_at", "interval": "month"}], "date_range": {"from": "2026-01-01", "to": "2027-01-01"}}'
  '{"metrics": ["created"], "group_by": ["label"], "date_range": {"from": "2026-01-01", "to": "2027-01-01"}}'
  '{"metrics": [{"name": "cycle_time", "aggregation": "p90"}], "group_by": ["issue_type"], "date_range": {"from": "2026-07-01", "to": "2026-10-01"}}'
  '{"entity": "sprint", "metrics": ["completed_sp", "spillover_ratio"], "group_by": ["board"], "date_range": {"last_sprints": 6}}'
)
hands=(
  "SELECT priority, count(*) FILTER (WHERE resolved_at >= '2026-08-01' AND resolved_at < '2026-11-01') AS closed, percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at - created_at) / 86400.0) FILTER (WHERE resolved_at >= created_at AND resolved_at >= '2026-08-01' AND resolved_at < '2026-11-01') AS lead_time_p50 FROM analytics.issues WHERE tenant_id = '$tenant' GROUP BY 1 ORDER BY 1 LIMIT 100;"
  "SELECT date_trunc('month', created_at)::date AS m, count(*) FILTER (WHERE issue_type = 'Bug') AS bug_count FROM analytics.issues WHERE tenant_id = '$tenant' AND created_at >= '2026-01-01' AND created_at < '2027-01-01' GROUP BY 1 ORDER BY 1 LIMIT 100;"
  "SELECT l AS label, count(*) AS created FROM analytics.issues i CROSS JOIN LATERAL unnest(CASE WHEN cardinality(i.labels) = 0 THEN ARRAY[NULL::text] ELSE i.labels END) AS l WHERE i.tenant_id = '$tenant' AND i.created_at >= '2026-01-01' AND i.created_at < '2027-01-01' GROUP BY 1 ORDER BY 1 LIMIT 100;"
  "SELECT i.issue_type, percentile_cont(0.9) WITHIN GROUP (ORDER BY c.d) AS cycle_time FROM analytics.issues i CROSS JOIN LATERAL (SELECT extract(epoch FROM max(t.changed_at) FILTER (WHERE t.to_category = 'done') - min(t.changed_at) FILTER (WHERE t.to_category = 'in_progress')) / 86400.0 AS d FROM analytics.issue_transitions t WHERE t.issue_id = i.id) c WHERE i.tenant_id = '$tenant' AND i.status_category = 'done' AND i.resolved_at >= '2026-07-01' AND i.resolved_at < '2026-10-01' GROUP BY 1 ORDER BY 1 LIMIT 100;"
  "SELECT board, sum(completed_sp) AS completed_sp, avg(spillover_ratio) AS spillover_ratio FROM analytics.sprint_facts WHERE tenant_id = '$tenant' AND state = 'closed' AND sprint_id IN (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY instance_id, board ORDER BY complete_date DESC, id DESC) AS rn FROM analytics.sprints WHERE tenant_id = '$tenant' AND state = 'closed') r WHERE rn <= 6) GROUP BY 1 ORDER BY 1 LIMIT 100;"
)
# The same pair timed inside the server, for a second opinion that scheduling and the client do not sway:
# one session calls analytics_run and EXECUTEs the hand-written SQL (parsed and planned each time, as
# pgbench's simple protocol does) in turn, N times each, and reports the medians and 10th percentiles.
in_server() {
  local i="$1" n=200; [ "$i" = 4 ] && n=20
  db_psql -At -c "SET analytics.tenant_id = '$tenant'" -c "SET analytics.cache_ttl = 0" -c "SET jit = off" \
    -c "CREATE TEMP TABLE took (what text, ms float8)" -c "DO \$do\$ DECLARE t0 timestamptz; BEGIN
          FOR k IN 1..$n LOOP
            t0 := clock_timestamp(); PERFORM analytics.analytics_run(\$s\$${specs[$i]}\$s\$);
            INSERT INTO took VALUES ('run', extract(epoch FROM clock_timestamp() - t0) * 1000);
            t0 := clock_timestamp(); EXECUTE \$h\$${hands[$i]%;}\$h\$;
            INSERT INTO took VALUES ('hand', extract(epoch FROM clock_timestamp() - t0) * 1000);
          END LOOP; END \$do\$" \
    -c "SELECT format('    in the server, %s calls each: median %s ms vs %s ms, ratio %s; 10th percentile %s ms vs %s ms, ratio %s', $n,
                 round(r.p50::numeric, 2), round(h.p50::numeric, 2), round((r.p50 / h.p50)::numeric, 3),
                 round(r.p10::numeric, 2), round(h.p10::numeric, 2), round((r.p10 / h.p10)::numeric, 3))
        FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50, percentile_cont(0.1) WITHIN GROUP (ORDER BY ms) p10 FROM took WHERE what = 'run') r,
             (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) p50, percentile_cont(0.1) WITHIN GROUP (ORDER BY ms) p10 FROM took WHERE what = 'hand') h" |
    grep '^    in the server'
}
# Each spec: 6 interleaved rounds (spec and hand-written SQL take turns to go first); the figures are
# the medians of the rounds' latencies and the ratio the median of the rounds' ratios.
for i in "${!names[@]}"; do
  run_file="$(put "run_$i" "SELECT analytics.analytics_run('${specs[$i]}');")"
  hand_file="$(put "hand_$i" "${hands[$i]}")"
  secs=5; [ "$i" = 4 ] && secs=10
  rounds="$(rounds_of 6 "$secs" 1 lat "$run_file" "-c analytics.cache_ttl=0" "$hand_file" "-c jit=off")"
  echo "$rounds" | awk -v name="${names[$i]}" "$pairs_awk"'
    END { printf "  run cold %-24s %9.2f ms vs hand-written (jit off) %9.2f ms   ratio %.3f (goal <= 1.10; rounds:%s)\n", name, mx, my, mr, line }'
  in_server "$i"
done

# Cache hits against a primary-key lookup.
db_psql -q -c "SET analytics.tenant_id = '$tenant'" -c "SELECT analytics.analytics_run('$spec_a')" >/dev/null
max_id="$(db_psql -At -c "SELECT max(id) FROM analytics.issues")"
hit_file="$(put hit "SELECT analytics.analytics_run('$spec_a');")"
pk_file="$(put pk "\\set id random(1, $max_id)
SELECT * FROM analytics.issues WHERE id = :id;")"
rounds="$(rounds_of 6 5 2 tps "$hit_file" "" "$pk_file" "")"
echo "$rounds" | awk "$pairs_awk"'
  END { printf "  cache hit: %.0f TPS vs primary-key lookup %.0f TPS   ratio %.3f (goal >= 0.5; rounds:%s)\n", mx, my, mr, line }'
