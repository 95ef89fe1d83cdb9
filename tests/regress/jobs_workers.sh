#!/usr/bin/env bash
# The job workers on a real cluster (docs/jobs.md): a database made after the server started gets its
# executors at CREATE EXTENSION; jobs run as their submitter under their tenant and answer as
# analytics_run does (10 specs of the golden set); another tenant's reader can neither see, read nor
# cancel them; a revoked or dropped submitter fails cleanly; a job blocked on a lock is cancelled within
# 1 s with no result while a listener hears queued -> running -> cancelled; a 100,000-row job reports
# increasing progress and streams its rows; 1,000 jobs run exactly once; and after kill -9 of an
# executor, then of the postmaster, 2 x 500 jobs all complete exactly once.
# Uses PGHOST/PGPORT/PGUSER of a running cluster, and PG_BIN, CLUSTER_DATA, SERVER_LOG to restart it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
db=jobs_workers
pq() { PGOPTIONS="-c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q() { pq -d "$db" -c "$1"; }
work="$(mktemp -d /tmp/agile_analytics-workers.XXXXXX)"
chmod 755 "$work"
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$work"
  pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  for r in jw_a jw_b jw_big jw_gone jw_revoked; do pq -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
status=0
fail() { echo "jobs_workers: FAIL: $*"; status=1; }
say() { echo "jobs_workers: $*"; }
now_ms() { date +%s%3N; }
# The notifications of job $2 a psql session LISTENing wrote to file $1: state/stage/progress per line.
events() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
for m in re.findall(r'payload "(\{.*?\})" received', open(sys.argv[1]).read()):
    e = json.loads(m)
    if e.get("id") == sys.argv[2]:
        print(f'{e["state"]}/{e["stage"]}/{e["progress"]:.3f}')
PY
}

# As role $1 with tenant $2, run SQL $3.
as() { pq -d "$db" -c "SET ROLE $1" -c "SET analytics.tenant_id = '$2'" -c "$3"; }
# Waits until every job of the database is finished (or $1 seconds pass); prints the unfinished count.
drain() {
  local left=""
  for _ in $(seq 1 $(($1 * 10))); do
    left="$(q "SELECT count(*) FROM analytics.jobs WHERE state IN ('queued', 'running')")"
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  echo "$left"
}

pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
t0=$(now_ms)
pq -d "$db" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
for _ in $(seq 1 100); do
  n="$(q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'agile_analytics jobs' AND datname = current_database()")"
  [ "$n" = 2 ] && break
  sleep 0.1
done
[ "$n" = 2 ] && say "a database made after the server started has 2 executors $(( $(now_ms) - t0 )) ms after CREATE EXTENSION" \
  || fail "$n executors in a new database 10 s after CREATE EXTENSION"

PGDATABASE="$db" bash "$root/scripts/load_data.sh" --issues 3000 --end 2026-06-30 >/dev/null
for r in jw_a jw_b jw_big jw_gone jw_revoked; do
  pq -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r" >/dev/null
  q "SELECT analytics.analytics_grant('$r', 'reader')" >/dev/null
done

# --- Results equal analytics_run's (uncached) for 10 specs of the golden set, as the same role.
specs=(
  '{"metrics": ["created"]}'
  '{"metrics": ["closed"], "group_by": ["issue_type"]}'
  '{"metrics": ["created"], "group_by": ["priority"], "filters": [{"field": "issue_type", "operator": "eq", "value": "Bug"}]}'
  '{"metrics": ["lead_time_p50"], "group_by": ["project"]}'
  '{"metrics": ["lead_time_p90"], "group_by": ["priority"], "date_range": {"field": "resolved_at", "from": "2026-01-01", "to": "2026-04-01"}}'
  '{"metrics": ["lead_time_avg"], "group_by": ["assignee"], "sort_by": ["lead_time_avg"], "limit": 5}'
  '{"metrics": [{"name": "cycle_time", "aggregation": "p90"}], "group_by": ["issue_type"]}'
  '{"metrics": ["bug_count"], "group_by": [{"field": "created_at", "interval": "month"}], "date_range": {"from": "2026-01-01", "to": "2027-01-01"}}'
  '{"metrics": ["story_points_closed"], "group_by": ["board"]}'
  '{"metrics": ["reopen_rate"], "group_by": ["issue_type"]}'
)
ids=()
for s in "${specs[@]}"; do ids+=("$(as jw_a acme "SELECT analytics.analytics_job_submit('run', '$s')")"); done
left="$(drain 30)"
[ "$left" = 0 ] || fail "$left of 10 spec jobs unfinished after 30 s"
same=0
for i in "${!specs[@]}"; do
  eq="$(as jw_a acme "SET analytics.cache_ttl = 0; SELECT (analytics.analytics_job_result('${ids[$i]}') -> 'rows') = (analytics.analytics_run('${specs[$i]}') -> 'rows')
        AND (analytics.analytics_job_result('${ids[$i]}') ->> 'tenant_id') = 'acme'
        AND jsonb_array_length(analytics.analytics_job_result('${ids[$i]}') -> 'rows') > 0")"
  [ "$eq" = t ] && same=$((same + 1)) || fail "spec $((i + 1)): the job's rows differ from analytics_run's: ${specs[$i]}"
done
[ "$same" = 10 ] && say "10 of 10 golden specs: a job's rows equal analytics_run's for the same role and tenant"

# --- Another tenant's reader (and the same reader with another tenant) cannot see, read or cancel it.
id="${ids[1]}"
denied=0
for who in "jw_b globex" "jw_b acme" "jw_a globex"; do
  set -- $who
  for call in "analytics.analytics_job_status('$id')" "analytics.analytics_job_result('$id')" "analytics.analytics_job_cancel('$id')"; do
    out="$(pq -d "$db" -v VERBOSITY=verbose -c "SET ROLE $1" -c "SET analytics.tenant_id = '$2'" -c "SELECT $call" 2>&1 || true)"
    grep -q "42704" <<<"$out" && denied=$((denied + 1)) || fail "$1 with tenant $2 could call $call: $out"
  done
done
[ "$denied" = 9 ] && say "another role or tenant: 9 of 9 status/result/cancel calls refused (42704)"
out="$(pq -d "$db" -v VERBOSITY=verbose -c "SET ROLE jw_a" -c "SET analytics.tenant_id = 'acme'" -c "SELECT analytics.analytics_job_submit('refresh_views', '{}')" 2>&1 || true)"
grep -q 42501 <<<"$out" && say "a reader's refresh_views job is refused (42501)" || fail "a reader submitted refresh_views: $out"

# --- A submitter who lost access, or no longer exists, before the job ran: failed, not run.
later='{"run_after": "'"$(date -u -d '+2 seconds' '+%Y-%m-%d %H:%M:%S+00')"'"}'
rid="$(as jw_revoked acme "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"limit\": 11}', '$later')")"
gid="$(as jw_gone acme "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"limit\": 12}', '$later')")"
q "SELECT analytics.analytics_grant('jw_revoked', 'none')" >/dev/null
pq -d "$db" -c "DROP OWNED BY jw_gone" -c "DROP ROLE jw_gone" >/dev/null
sleep 3
[ "$(drain 10)" = 0 ] || fail "the jobs of a revoked and a dropped role did not finish"
got="$(q "SELECT string_agg(state || ' ' || (error ->> 'sqlstate'), ', ' ORDER BY id = '$rid' DESC) FROM analytics.jobs WHERE id IN ('$rid', '$gid')")"
[ "$got" = "failed 42501, failed 42501" ] && say "a revoked and a dropped submitter: both jobs failed with 42501, none ran" || fail "revoked/dropped submitters: $got"
[ "$(q "SELECT count(*) FROM analytics.job_results WHERE job_id IN ('$rid', '$gid')")" = 0 ] || fail "a revoked or dropped submitter's job has a result"

# --- Cancel a job blocked on a lock: within 1 s, no result, the listener hears every state.
pq -d "$db" -c "LISTEN analytics_jobs" -c "SELECT pg_sleep(7)" > "$work/listen.out" 2>&1 &
listener=$!
pq -d "$db" -c "BEGIN" -c "LOCK TABLE analytics.issues" -c "SELECT pg_sleep(6)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 0.5
cid="$(as jw_a acme "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"group_by\": [\"status\"]}')")"
for _ in $(seq 1 50); do
  [ "$(q "SELECT state FROM analytics.jobs WHERE id = '$cid'")" = running ] && break
  sleep 0.1
done
sleep 0.5
waiting="$(q "SELECT count(*) FROM pg_stat_activity a JOIN analytics.jobs j ON j.worker_pid = a.pid WHERE j.id = '$cid' AND a.wait_event_type = 'Lock'")"
t0=$(now_ms)
as jw_a acme "SELECT analytics.analytics_job_cancel('$cid')" >/dev/null
state=""
for _ in $(seq 1 100); do
  state="$(q "SELECT state FROM analytics.jobs WHERE id = '$cid'")"
  [ "$state" = cancelled ] && break
  sleep 0.01
done
elapsed=$(( $(now_ms) - t0 ))
results="$(q "SELECT count(*) FROM analytics.job_results WHERE job_id = '$cid'")"
if [ "$waiting" = 1 ] && [ "$state" = cancelled ] && [ "$elapsed" -lt 1000 ] && [ "$results" = 0 ]; then
  say "a running job blocked on LOCK TABLE analytics.issues was cancelled in $elapsed ms, with no result"
else
  fail "cancel of a job blocked on a lock: waiting on the lock=$waiting state=$state after $elapsed ms, results=$results"
fi
wait "$locker" || true
wait "$listener" || true
heard="$(events "$work/listen.out" "$cid" | cut -d/ -f1 | uniq | tr '\n' ' ')"
[ "$heard" = "queued running cancelled " ] && say "the listener heard the states: $heard" || fail "the listener heard '$heard' for the cancelled job: $(head -c 600 "$work/listen.out")"

# --- A 100,000-row job: increasing progress with stages (NOTIFY per step), rows streamed.
q "INSERT INTO analytics.issues (id, tenant_id, issue_key, project_key, summary, issue_type, status, status_category, priority, assignee, reporter, labels, created_at)
   SELECT 10000000 + g, 'big', 'BIG-' || g, 'BIG', 'issue ' || g, 'Task', 'To Do', 'todo', 'Low', 'user' || g, 'r', '{}', '2026-01-01'
   FROM generate_series(1, 100000) g" >/dev/null
pq -d "$db" -c "LISTEN analytics_jobs" -c "SELECT pg_sleep(8)" > "$work/big.out" 2>&1 &
listener=$!
sleep 0.3
bid="$(as jw_big big "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"group_by\": [\"assignee\"], \"limit\": 100000}')")"
[ "$(drain 60)" = 0 ] || fail "the 100,000-row job did not finish in 60 s"
rows="$(as jw_big big "SELECT count(*) FROM analytics.analytics_job_rows('$bid')")"
sum="$(as jw_big big "SELECT sum((r ->> 'created')::int) FROM analytics.analytics_job_rows('$bid') r")"
counted="$(q "SELECT result_rows FROM analytics.jobs WHERE id = '$bid'")"
[ "$rows" = 100000 ] && [ "$sum" = 100000 ] && [ "$counted" = 100000 ] && say "a 100,000-row job: analytics_job_rows streams 100000 rows (result_rows $counted)" \
  || fail "the 100,000-row job: $rows rows, sum $sum, result_rows $counted"
wait "$listener" || true
steps="$(events "$work/big.out" "$bid" | tr '\n' ' ')"
python3 - "$steps" <<'PY' || status=1
import sys
events = [e.split("/") for e in sys.argv[1].split()]
states = [e[0] for e in events]
progress = [float(e[2]) for e in events]
stages = {e[1] for e in events if e[0] == "running"}
ok = states[:1] == ["queued"] and states[-1:] == ["completed"] and "running" in states and progress == sorted(progress) and len(stages) >= 2
print("jobs_workers: " + ("" if ok else "FAIL: ") + "the 100,000-row job's notifications (state/stage/progress): " + " -> ".join(sys.argv[1].split()))
sys.exit(0 if ok else 1)
PY

# --- 1,000 jobs, submitted in one transaction: every job runs exactly once.
as jw_a acme "SELECT count(analytics.analytics_job_submit('run', pg_catalog.jsonb_build_object('metrics', pg_catalog.jsonb_build_array('created'), 'group_by', pg_catalog.jsonb_build_array('reporter'), 'limit', g))) FROM generate_series(1, 1000) g" >/dev/null
t0=$(now_ms)
left="$(drain 120)"
ms=$(( $(now_ms) - t0 ))
got="$(q "SELECT count(*) FILTER (WHERE j.state = 'completed'), count(r.job_id), max(j.attempt), count(DISTINCT j.id)
          FROM analytics.jobs j LEFT JOIN analytics.job_results r ON r.tenant_id = j.tenant_id AND r.job_id = j.id
          WHERE j.tenant_id = 'acme' AND j.submitted_by = 'jw_a'::regrole AND (j.payload -> 'group_by') = '[\"reporter\"]'")"
[ "$left" = 0 ] && [ "$got" = "1000|1000|1|1000" ] && say "1000 jobs: 1000 completed, 1000 results, every one claimed once (max attempt 1), in $ms ms" \
  || fail "1000 jobs: left $left; completed|results|max attempt|jobs = $got"

# --- Past analytics.job_statement_timeout a job fails with 57014 at once (not retried); a lock timeout
#     (55P03, transient) is tried again, and the job completes once the lock is gone.
executors_now() { q "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'agile_analytics jobs' AND datname = current_database()"; }
restart_executors() { # the supervisor starts them again; they read the database's settings anew
  q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE backend_type = 'agile_analytics jobs' AND datname = current_database()" >/dev/null
  for _ in $(seq 1 100); do sleep 0.1; [ "$(executors_now)" = 2 ] && return 0; done
  fail "the supervisor did not start the terminated executors again"
}
pq -d postgres -c "ALTER SYSTEM SET analytics.job_statement_timeout = 300" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
pq -d "$db" -c "BEGIN" -c "LOCK TABLE analytics.issues" -c "SELECT pg_sleep(2)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 0.3
tid="$(as jw_a acme "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"group_by\": [\"epic\"]}')")"
sleep 1.5
got="$(q "SELECT state, error ->> 'sqlstate', attempt FROM analytics.jobs WHERE id = '$tid'")"
wait "$locker" || true
pq -d postgres -c "ALTER SYSTEM RESET analytics.job_statement_timeout" -c "SELECT pg_reload_conf()" >/dev/null
[ "$got" = "failed|57014|1" ] && say "past analytics.job_statement_timeout (300 ms): failed with 57014 on attempt 1, not retried" \
  || fail "a job past its statement timeout: state|sqlstate|attempt = $got"
q "ALTER DATABASE $db SET lock_timeout = '200ms'" >/dev/null
restart_executors
pq -d "$db" -c "BEGIN" -c "LOCK TABLE analytics.issues" -c "SELECT pg_sleep(2.5)" -c "COMMIT" >/dev/null 2>&1 &
locker=$!
sleep 0.3
lid="$(as jw_a acme "SELECT analytics.analytics_job_submit('run', '{\"metrics\": [\"created\"], \"group_by\": [\"component\"]}', '{\"max_attempts\": 6}')")"
wait "$locker" || true
[ "$(drain 30)" = 0 ] || fail "the job that met a lock timeout did not finish"
got="$(q "SELECT state, attempt > 1, error IS NULL FROM analytics.jobs WHERE id = '$lid'")"
attempts="$(q "SELECT attempt FROM analytics.jobs WHERE id = '$lid'")"
q "ALTER DATABASE $db RESET lock_timeout" >/dev/null
restart_executors
[ "$got" = "completed|t|t" ] && say "a lock timeout (55P03) is transient: tried again, completed on attempt $attempts" \
  || fail "a job that met lock timeouts: state|retried|no error = $got"

# --- An ask job whose LLM provider answers 503 at first: tried again (a provider's 429/5xx is
#     transient), completed by the provider on a later attempt. A scripted OpenAI-compatible server on
#     127.0.0.1 answers 503 for 1.5 s after its first request, then a valid translation.
llm_port=28839
python3 - "$llm_port" > "$work/llm.log" 2>&1 <<'PY' &
import http.server, json, sys, time
first = []
VALID = json.dumps({"entity": "issue", "metrics": [{"name": "bug_count", "aggregation": None}], "group_by": [{"field": "priority", "interval": None}],
                    "filters": [], "date_range": None, "sort_by": [], "limit": None, "clarification": None})
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        first.append(time.time())
        if time.time() - first[0] < 1.5:
            code, body = 503, json.dumps({"error": {"message": "overloaded"}})
        else:
            code, body = 200, json.dumps({"id": "x", "object": "chat.completion", "model": "scripted",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": VALID}, "finish_reason": "stop"}]})
        self.send_response(code); self.send_header("Content-Type", "application/json"); self.end_headers(); self.wfile.write(body.encode())
        print(code, flush=True)
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
llm_pid=$!
sleep 0.5
pq -d postgres -c "ALTER SYSTEM SET analytics.llm_base_url = 'http://127.0.0.1:$llm_port/v1'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
aid="$(pq -d "$db" -c "SET ROLE jw_a" -c "SET analytics.tenant_id = 'acme'" -c "SET analytics.llm_provider = 'openai_compatible'" \
  -c "SET analytics.llm_fallback = 'none'" -c "SET analytics.llm_timeout_ms = 300" \
  -c "SELECT analytics.analytics_job_submit('ask', '{\"question\": \"bugs by priority, please\"}', '{\"max_attempts\": 5}')")"
[ "$(drain 30)" = 0 ] || fail "the ask job did not finish"
got="$(q "SELECT j.state, j.attempt > 1, r.result ->> 'provider' FROM analytics.jobs j LEFT JOIN analytics.job_results r ON r.job_id = j.id WHERE j.id = '$aid'")"
attempts="$(q "SELECT attempt FROM analytics.jobs WHERE id = '$aid'")"
kill "$llm_pid" 2>/dev/null || true
pq -d postgres -c "ALTER SYSTEM RESET analytics.llm_base_url" -c "SELECT pg_reload_conf()" >/dev/null
[ "$got" = "completed|t|openai_compatible" ] && say "an ask job whose provider answered 503 was tried again: completed by the provider on attempt $attempts ($(grep -c 503 "$work/llm.log") answers 503, then $(grep -c 200 "$work/llm.log") 200)" \
  || fail "an ask job against a provider that answers 503 at first: state|retried|provider = $got ($(tr '\n' ' ' < "$work/llm.log"))"

# --- Retention: finished jobs older than analytics.job_retention (7 days) are deleted with their
#     results; younger ones stay. The supervisor prunes when it starts (and every minute).
old="$(q "INSERT INTO analytics.jobs (tenant_id, kind, payload, payload_hash, settings, submitted_by, state, attempt, progress, stage, submitted_at, started_at, finished_at)
          VALUES ('acme', 'run', '{}', 'old', '{}', 'jw_a'::regrole, 'completed', 1, 1, 'completed', now() - interval '8 days', now() - interval '8 days', now() - interval '8 days'),
                 ('acme', 'run', '{}', 'young', '{}', 'jw_a'::regrole, 'failed', 1, 0, 'failed', now() - interval '6 days', now() - interval '6 days', now() - interval '6 days')
          RETURNING id" | head -1)"
q "INSERT INTO analytics.job_results (tenant_id, job_id, result) VALUES ('acme', '$old', '{}')" >/dev/null
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'agile_analytics supervisor' AND datname = current_database()" >/dev/null
kept=""
for _ in $(seq 1 100); do
  kept="$(q "SELECT string_agg(payload_hash, ',' ORDER BY payload_hash) FROM analytics.jobs WHERE payload_hash IN ('old', 'young')")|$(q "SELECT count(*) FROM analytics.job_results WHERE job_id = '$old'")"
  [ "$kept" = "young|0" ] && break
  sleep 0.1
done
[ "$kept" = "young|0" ] && say "retention: a job finished 8 days ago was deleted with its result by the restarted supervisor; one of 6 days stays" \
  || fail "retention: left (jobs|results of the old one) = $kept"
[ "$(executors_now)" = 2 ] || sleep 2

# --- Crashes: kill -9 an executor (PostgreSQL restarts every backend), then the postmaster.
restart_cluster() {
  for _ in $(seq 1 100); do
    as_pg "$PG_BIN/pg_ctl" -D "$CLUSTER_DATA" -l "$SERVER_LOG" -w -t 30 start >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
wait_ready() {
  for _ in $(seq 1 300); do pq -d "$db" -c "SELECT 1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}
crash_round() { # $1 = label, $2 = what to kill (executor | postmaster), $3 = first limit
  local first=$3
  pq -d "$db" -c "BEGIN" -c "LOCK TABLE analytics.issues" -c "SELECT pg_sleep(30)" -c "COMMIT" >/dev/null 2>&1 &
  sleep 0.5
  as jw_a acme "SELECT count(analytics.analytics_job_submit('run', pg_catalog.jsonb_build_object('metrics', pg_catalog.jsonb_build_array('closed'), 'limit', g))) FROM generate_series($first, $first + 499) g" >/dev/null
  local pid=""
  for _ in $(seq 1 50); do
    pid="$(q "SELECT worker_pid FROM analytics.jobs WHERE state = 'running' AND worker_pid IS NOT NULL LIMIT 1")"
    [ -n "$pid" ] && break
    sleep 0.1
  done
  [ -n "$pid" ] || { fail "$1: no job was running to crash"; return; }
  if [ "$2" = executor ]; then
    kill -9 "$pid"
  else
    kill -9 "$(head -1 "$CLUSTER_DATA/postmaster.pid")"
    sleep 1
    restart_cluster || { fail "$1: the cluster did not start again"; return; }
  fi
  wait_ready || { fail "$1: the cluster did not come back"; return; }
  wait 2>/dev/null || true
  local left
  left="$(drain 120)"
  local got
  got="$(q "SELECT count(*) FILTER (WHERE j.state = 'completed'), count(r.job_id), count(*) FILTER (WHERE j.attempt > 1), max(j.attempt)
            FROM analytics.jobs j LEFT JOIN analytics.job_results r ON r.tenant_id = j.tenant_id AND r.job_id = j.id
            WHERE (j.payload -> 'metrics') = '[\"closed\"]' AND (j.payload ->> 'limit')::int BETWEEN $first AND $first + 499")"
  IFS='|' read -r done results retried maxa <<<"$got"
  if [ "$left" = 0 ] && [ "$done" = 500 ] && [ "$results" = 500 ] && [ "$retried" -ge 1 ]; then
    say "$1: 500 of 500 jobs completed, 500 results (one each), $retried attempt(s) rescued and run again (max attempt $maxa)"
  else
    fail "$1: left $left; completed $done, results $results, rescued $retried, max attempt $maxa"
  fi
}
crash_round "kill -9 of an executor mid-job" executor 1001
crash_round "kill -9 of the postmaster, then a restart" postmaster 2001

[ "$status" = 0 ] && say "all checks passed"
exit $status
