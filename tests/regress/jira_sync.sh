#!/usr/bin/env bash
# The Jira sync through the extension (issue 18): analytics_jira_sync jobs run by the job workers
# against the scripted Jira (tests/jira_server/server.py) on 127.0.0.1, never any other host.
#  1. Cloud (token paging) and Server/DC (offset paging), 130 issues in pages of 25: the rows equal
#     loading the same data whole through analytics_ingest_jira (issues, history, changes, comments,
#     sprints, memberships);
#  2. incremental: 3 issues changed and 2 added are fetched and written, nothing else is written;
#  3. faults: 429 with Retry-After, 503 and a reset connection are retried; a malformed page fails the
#     job with its JSON path, keeps the pages before it and their watermark, and the next sync ends equal;
#  4. kill -9 of the executor mid-sync: the job is rescued, resumes from the watermark, ends equal;
#  5. a full resync reports the issues Jira no longer returns, and prunes them when asked;
#  6. the credential: no reader or non-superuser admin reads it by any function, table, job or error,
#     and it is not in the server log at log_statement = all, pg_stat_activity or NOTIFY payloads.
# Uses PGHOST/PGPORT/PGUSER of a running cluster, and CLUSTER_DATA/SERVER_LOG/PG_BIN.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
db=jira_sync
pq() { PGOPTIONS="-c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
q() { pq -c "$1"; }
work="$(mktemp -d /tmp/agile_analytics-jira.XXXXXX)"
chmod 755 "$work"
servers=()
token="tok-$RANDOM$RANDOM-sekret"
pat="pat-$RANDOM$RANDOM-sekret"
cleanup() {
  for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; done
  command psql -X -q -d postgres -c "ALTER SYSTEM RESET log_statement" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
  command psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  for r in jira_admin jira_reader; do command psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT
status=0
fail() { echo "jira_sync: FAILED: $*"; status=1; }
say() { echo "jira_sync: $*"; }

command psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
q "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
for r in jira_admin jira_reader; do command psql -X -q -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r LOGIN" >/dev/null; done
q "SELECT analytics.analytics_grant('jira_admin', 'admin'), analytics.analytics_grant('jira_reader', 'reader')" >/dev/null
command psql -X -q -d postgres -c "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
log_start=$(stat -c %s "$SERVER_LOG")

# The credentials, in files the server reads (the statement that sets them names the file only).
printf '{"email": "bot@example.com", "api_token": "%s"}' "$token" >"$work/cloud.json"
printf '{"token": "%s"}' "$pat" >"$work/server.json"
chown postgres "$work"/*.json && chmod 600 "$work"/*.json

start_server() {  # $1 flavor, $2 issues -> prints the port
  local pf="$work/port.$RANDOM"
  python3 "$root/tests/jira_server/server.py" --flavor "$1" --issues "$2" --page-limit 25 \
    --email bot@example.com --api-token "$token" --token "$pat" --port-file "$pf" >/dev/null 2>&1 &
  servers+=($!)
  for _ in $(seq 1 200); do [ -s "$pf" ] && { cat "$pf"; return 0; }; sleep 0.05; done
  return 1
}
ctl() {  # $1 port, $2 path, [$3 JSON body] -> the answer
  python3 - "$@" <<'PY'
import json, sys, urllib.request
port, path = sys.argv[1], sys.argv[2]
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
req = urllib.request.Request(f"http://127.0.0.1:{port}/_control/{path}", data=body, method="POST" if body else "GET")
print(urllib.request.urlopen(req, timeout=30).read().decode())
PY
}
as_admin() {  # $1 tenant, $2 SQL
  pq -c "SET ROLE jira_admin" -c "SET analytics.tenant_id = '$1'" -c "$2"
}
source_for() {  # $1 tenant, $2 source, $3 flavor, $4 port
  as_admin "$1" "SELECT analytics.analytics_jira_source_upsert('$2', '{\"base_url\": \"http://127.0.0.1:$4\", \"flavor\": \"$3\", \"jql\": \"project in (PAY, WEB)\"}')" >/dev/null
  pq -c "SET analytics.tenant_id = '$1'" -c "SELECT analytics.analytics_jira_source_secret('$2', '{\"file\": \"$work/$3.json\"}')" >/dev/null
}
wait_job() {  # $1 tenant, $2 job id, [$3 seconds] -> final state
  local s=""
  for _ in $(seq 1 $(( ${3:-120} * 5 ))); do
    s="$(as_admin "$1" "SELECT analytics.analytics_job_status('$2') ->> 'state'" 2>/dev/null || true)"
    case "$s" in completed|failed|cancelled) echo "$s"; return 0 ;; esac
    sleep 0.2
  done
  echo "${s:-unknown}"
}
sync_job() {  # $1 tenant, $2 source, [$3 options] -> job id
  local o="${3:-}"
  [ -n "$o" ] || o='{}'
  as_admin "$1" "SELECT analytics.analytics_jira_sync('$2', '$o')"
}
result() { as_admin "$1" "SELECT analytics.analytics_job_result('$2') ->> '$3'"; }

# The reference: the scripted site exported whole, loaded through analytics_ingest_jira.
load_reference() {  # $1 tenant, $2 port
  ctl "$2" "export?part=sprints" >"$work/sprints.json"
  ctl "$2" export >"$work/issues.json"
  local opts='{"boards": {"1": "Payments", "2": "Web"}, "status_categories": {"To Do": "todo", "In Progress": "in_progress", "In Review": "in_progress", "QA": "in_progress", "Done": "done"}}'
  pq -v tenant="$1" -v opts="$opts" -v s="$work/sprints.json" -v i="$work/issues.json" >/dev/null <<'SQL'
SET analytics.tenant_id = :'tenant';
SELECT analytics.analytics_ingest_jira(pg_catalog.pg_read_file(:'s')::jsonb, :'opts'::jsonb);
SELECT analytics.analytics_ingest_jira(pg_catalog.pg_read_file(:'i')::jsonb, :'opts'::jsonb);
SQL
}
# Rows of tenant $1 that tenant $2 lacks, plus the reverse, over every base table.
differ() {
  pq -v a="$1" -v b="$2" <<'SQL'
CREATE TEMP VIEW v_issues AS SELECT tenant_id, issue_key, project_key, summary, description, issue_type, status, status_category, priority,
    assignee, reporter, story_points, labels, components, epic_key, created_at, updated_at, resolved_at FROM analytics.issues;
CREATE TEMP VIEW v_transitions AS SELECT t.tenant_id, i.issue_key, t.from_status, t.to_status, t.from_category, t.to_category, t.changed_at, t.author
    FROM analytics.issue_transitions t JOIN analytics.issues i ON i.id = t.issue_id;
CREATE TEMP VIEW v_changes AS SELECT c.tenant_id, i.issue_key, c.field, c.from_value, c.to_value, c.changed_at
    FROM analytics.issue_changes c JOIN analytics.issues i ON i.id = c.issue_id;
CREATE TEMP VIEW v_comments AS SELECT c.tenant_id, i.issue_key, c.author, c.body, c.created_at
    FROM analytics.issue_comments c JOIN analytics.issues i ON i.id = c.issue_id;
CREATE TEMP VIEW v_sprints AS SELECT tenant_id, external_id, board, name, goal, state, start_date, end_date, complete_date FROM analytics.sprints;
CREATE TEMP VIEW v_members AS SELECT m.tenant_id, i.issue_key, s.external_id, m.added_at, m.removed_at
    FROM analytics.sprint_issues m JOIN analytics.issues i ON i.id = m.issue_id JOIN analytics.sprints s ON s.id = m.sprint_id;
SELECT (SELECT count(*) FROM ((SELECT * FROM v_issues WHERE tenant_id = :'a' EXCEPT ALL SELECT :'a', issue_key, project_key, summary, description, issue_type, status, status_category, priority, assignee, reporter, story_points, labels, components, epic_key, created_at, updated_at, resolved_at FROM v_issues WHERE tenant_id = :'b')
                               UNION ALL (SELECT * FROM v_issues WHERE tenant_id = :'b' EXCEPT ALL SELECT :'b', issue_key, project_key, summary, description, issue_type, status, status_category, priority, assignee, reporter, story_points, labels, components, epic_key, created_at, updated_at, resolved_at FROM v_issues WHERE tenant_id = :'a')) d)
     + (SELECT count(*) FROM ((SELECT issue_key, from_status, to_status, from_category, to_category, changed_at, author FROM v_transitions WHERE tenant_id = :'a' EXCEPT ALL SELECT issue_key, from_status, to_status, from_category, to_category, changed_at, author FROM v_transitions WHERE tenant_id = :'b')
                               UNION ALL (SELECT issue_key, from_status, to_status, from_category, to_category, changed_at, author FROM v_transitions WHERE tenant_id = :'b' EXCEPT ALL SELECT issue_key, from_status, to_status, from_category, to_category, changed_at, author FROM v_transitions WHERE tenant_id = :'a')) d)
     + (SELECT count(*) FROM ((SELECT issue_key, field, from_value, to_value, changed_at FROM v_changes WHERE tenant_id = :'a' EXCEPT ALL SELECT issue_key, field, from_value, to_value, changed_at FROM v_changes WHERE tenant_id = :'b')
                               UNION ALL (SELECT issue_key, field, from_value, to_value, changed_at FROM v_changes WHERE tenant_id = :'b' EXCEPT ALL SELECT issue_key, field, from_value, to_value, changed_at FROM v_changes WHERE tenant_id = :'a')) d)
     + (SELECT count(*) FROM ((SELECT issue_key, author, body, created_at FROM v_comments WHERE tenant_id = :'a' EXCEPT ALL SELECT issue_key, author, body, created_at FROM v_comments WHERE tenant_id = :'b')
                               UNION ALL (SELECT issue_key, author, body, created_at FROM v_comments WHERE tenant_id = :'b' EXCEPT ALL SELECT issue_key, author, body, created_at FROM v_comments WHERE tenant_id = :'a')) d)
     + (SELECT count(*) FROM ((SELECT external_id, board, name, goal, state, start_date, end_date, complete_date FROM v_sprints WHERE tenant_id = :'a' EXCEPT ALL SELECT external_id, board, name, goal, state, start_date, end_date, complete_date FROM v_sprints WHERE tenant_id = :'b')
                               UNION ALL (SELECT external_id, board, name, goal, state, start_date, end_date, complete_date FROM v_sprints WHERE tenant_id = :'b' EXCEPT ALL SELECT external_id, board, name, goal, state, start_date, end_date, complete_date FROM v_sprints WHERE tenant_id = :'a')) d)
     + (SELECT count(*) FROM ((SELECT issue_key, external_id, added_at, removed_at FROM v_members WHERE tenant_id = :'a' EXCEPT ALL SELECT issue_key, external_id, added_at, removed_at FROM v_members WHERE tenant_id = :'b')
                               UNION ALL (SELECT issue_key, external_id, added_at, removed_at FROM v_members WHERE tenant_id = :'b' EXCEPT ALL SELECT issue_key, external_id, added_at, removed_at FROM v_members WHERE tenant_id = :'a')) d);
SQL
}
rows_of() { q "SELECT (SELECT count(*) FROM analytics.issues WHERE tenant_id = '$1') || ' issues, ' || (SELECT count(*) FROM analytics.issue_transitions WHERE tenant_id = '$1') || ' transitions, ' || (SELECT count(*) FROM analytics.issue_comments WHERE tenant_id = '$1') || ' comments, ' || (SELECT count(*) FROM analytics.sprints WHERE tenant_id = '$1') || ' sprints'"; }

# --- 1. Both flavours, full sync = the same data loaded whole --------------------------------------
for flavor in cloud server; do
  port="$(start_server "$flavor" 130)"
  t="${flavor}_t"
  source_for "$t" src "$flavor" "$port"
  job="$(sync_job "$t" src)"
  state="$(wait_job "$t" "$job")"
  [ "$state" = completed ] || { fail "$flavor: the sync job is $state: $(as_admin "$t" "SELECT analytics.analytics_job_status('$job') -> 'error'")"; continue; }
  load_reference "${t}_ref" "$port"
  d="$(differ "$t" "${t}_ref")"
  pages="$(result "$t" "$job" search_pages)"; done_cl="$(result "$t" "$job" changelogs_completed)"; reqs="$(result "$t" "$job" requests)"
  warn="$(as_admin "$t" "SELECT analytics.analytics_job_result('$job') -> 'warnings'")"
  if [ "$d" = 0 ] && [ "$pages" -ge 5 ] && [ "$done_cl" -gt 0 ] && [ "$warn" = "[]" ]; then
    say "$flavor: full sync of $(rows_of "$t") in $pages search pages ($reqs requests, $done_cl truncated changelogs completed): 0 rows differ from analytics_ingest_jira of the same data"
  else
    fail "$flavor: $d rows differ, $pages pages, $done_cl changelogs completed, warnings $warn"
  fi
  eval "port_$flavor=$port"
done

# --- 2. Incremental ------------------------------------------------------------------------------
port="$port_cloud"
changed="$(ctl "$port" update '{"keys": ["PAY-3", "WEB-7", "PAY-40"], "add": 2}')"
before="$(ctl "$port" log | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
# A listener on the jobs' channel while this sync runs (for 6.).
pq -c "LISTEN analytics_jobs" -c "SELECT pg_sleep(4)" >"$work/notify.txt" 2>&1 &
listener=$!
sleep 0.3
job="$(sync_job cloud_t src)"
state="$(wait_job cloud_t "$job")"
wait "$listener" 2>/dev/null || true
fetched="$(ctl "$port" log | python3 -c "
import json, sys
log = json.load(sys.stdin)[$before:]
print(' '.join(sorted({k for r in log for k in r.get('returned', [])})))")"
written="$(result cloud_t "$job" issues_written)"; unchanged="$(result cloud_t "$job" issues_unchanged)"
load_reference cloud_ref2 "$port"
d="$(differ cloud_t cloud_ref2)"
want="$(python3 -c "import json,sys; print(' '.join(sorted(json.loads(sys.argv[1])['changed'])))" "$changed")"
extra="$(comm -13 <(tr ' ' '\n' <<<"$want" | sort) <(tr ' ' '\n' <<<"$fetched" | sort) | wc -l)"
missing="$(comm -23 <(tr ' ' '\n' <<<"$want" | sort) <(tr ' ' '\n' <<<"$fetched" | sort) | wc -l)"
if [ "$state" = completed ] && [ "$written" = 5 ] && [ "$missing" = 0 ] && [ "$extra" = "$unchanged" ] && [ "$d" = 0 ]; then
  say "incremental: 3 changed + 2 new ($want) fetched and written; $extra more fetched from the overlap window, unchanged, not written; $(rows_of cloud_t): 0 rows differ"
else
  fail "incremental: $state, written $written, fetched [$fetched] for [$want], $unchanged unchanged, $d rows differ"
fi
job="$(sync_job cloud_t src)"; state="$(wait_job cloud_t "$job")"
[ "$state" = completed ] && [ "$(result cloud_t "$job" issues_written)" = 0 ] && say "incremental: a sync with nothing changed writes 0 issues" \
  || fail "incremental: nothing changed, yet $(result cloud_t "$job" issues_written) written ($state)"

# --- 3. Faults -----------------------------------------------------------------------------------
port="$(start_server cloud 130)"
source_for fault_t src cloud "$port"
load_reference fault_ref "$port"
ctl "$port" faults '[{"on": "search", "after": 1, "status": 429, "retry_after": 1}, {"on": "search", "after": 2, "status": 503}, {"on": "search", "after": 3, "status": "reset"}, {"on": "issue", "after": 2, "status": 503, "retry_after": 1}]' >/dev/null
job="$(sync_job fault_t src)"; state="$(wait_job fault_t "$job")"
retries="$(result fault_t "$job" retries)"; d="$(differ fault_t fault_ref)"
[ "$state" = completed ] && [ "$retries" -ge 4 ] && [ "$d" = 0 ] && say "faults: 429 (Retry-After 1 s), two 503s and a reset connection retried ($retries retries): 0 rows differ" \
  || fail "faults: $state, $retries retries, $d rows differ"

port="$(start_server cloud 130)"
source_for bad_t src cloud "$port"
load_reference bad_ref "$port"
ctl "$port" faults '[{"on": "search", "after": 2, "status": "malformed"}]' >/dev/null
job="$(sync_job bad_t src)"; state="$(wait_job bad_t "$job")"
err="$(as_admin bad_t "SELECT analytics.analytics_job_status('$job') -> 'error' ->> 'message'")"
kept="$(q "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'bad_t'")"
wm="$(q "SELECT s.watermark = (SELECT max(updated_at) FROM analytics.issues WHERE tenant_id = 'bad_t') FROM analytics.jira_sources s WHERE tenant_id = 'bad_t'")"
if [ "$state" = failed ] && [[ "$err" == *'$.issues[0].fields.created'* ]] && [ "$kept" -gt 0 ] && [ "$kept" -lt 130 ] && [ "$wm" = t ]; then
  say "malformed page: the job failed with \"$err\"; the $kept issues of the pages before it stay, the watermark is theirs"
else
  fail "malformed page: $state, error \"$err\", $kept issues kept, watermark at their max: $wm"
fi
ctl "$port" faults '[]' >/dev/null
job="$(sync_job bad_t src)"; state="$(wait_job bad_t "$job")"; d="$(differ bad_t bad_ref)"
[ "$state" = completed ] && [ "$d" = 0 ] && say "malformed page: the next sync goes on from the watermark ($(result bad_t "$job" issues_written) written): 0 rows differ" \
  || fail "malformed page: the next sync: $state, $d rows differ"

# --- 4. kill -9 of the executor mid-sync ---------------------------------------------------------
port="$(start_server cloud 130)"
source_for kill_t src cloud "$port"
load_reference kill_ref "$port"
ctl "$port" faults '[{"on": "search", "after": 2, "status": "delay", "seconds": 4}]' >/dev/null
job="$(sync_job kill_t src)"
pid=""
for _ in $(seq 1 100); do
  pid="$(q "SELECT j.worker_pid FROM analytics.jobs j JOIN analytics.jira_sources s ON s.tenant_id = j.tenant_id AND s.watermark IS NOT NULL
            WHERE j.tenant_id = 'kill_t' AND j.id = '$job' AND j.state = 'running'")"
  [ -n "$pid" ] && break
  sleep 0.1
done
# What pg_stat_activity shows while the sync runs (for 6.).
q "SELECT coalesce(string_agg(query, E'\n'), '') FROM pg_stat_activity" >"$work/activity.txt"
before="$(ctl "$port" log | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"
if [ -z "$pid" ]; then
  fail "kill -9: no running sync with a committed page to kill"
else
  committed="$(q "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'kill_t'")"
  kill -9 "$pid"
  sleep 1
  for _ in $(seq 1 300); do q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.1; done
  state="$(wait_job kill_t "$job" 180)"
  attempt="$(as_admin kill_t "SELECT analytics.analytics_job_status('$job') ->> 'attempt'")"
  resumed="$(ctl "$port" log | python3 -c "
import json, sys
log = [r for r in json.load(sys.stdin)[$before:] if 'jql' in r]
print(log[0]['jql'] if log else '')")"
  d="$(differ kill_t kill_ref)"
  if [ "$state" = completed ] && [ "$attempt" -ge 2 ] && [[ "$resumed" == *'updated >= '* ]] && [ "$d" = 0 ]; then
    say "kill -9: killed with $committed issues committed; attempt $attempt resumed with \"$resumed\": 0 rows differ from a clean load"
  else
    fail "kill -9: $state, attempt $attempt, first search after: \"$resumed\", $d rows differ"
  fi
fi

# --- 5. A full resync: issues Jira no longer returns ---------------------------------------------
ctl "$port" update '{"delete": ["PAY-5", "WEB-9"]}' >/dev/null
job="$(sync_job kill_t src '{"full": true}')"; state="$(wait_job kill_t "$job")"
gone="$(as_admin kill_t "SELECT analytics.analytics_job_result('$job') -> 'gone'")"
still="$(q "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'kill_t' AND issue_key IN ('PAY-5', 'WEB-9')")"
job="$(sync_job kill_t src '{"full": true, "prune": true}')"; state2="$(wait_job kill_t "$job")"
pruned="$(result kill_t "$job" pruned)"
left="$(q "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'kill_t' AND issue_key IN ('PAY-5', 'WEB-9')")"
total="$(q "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'kill_t'")"
if [ "$state" = completed ] && [ "$gone" = '{"keys": ["PAY-5", "WEB-9"], "count": 2}' ] && [ "$still" = 2 ] && [ "$state2" = completed ] && [ "$pruned" = 2 ] && [ "$left" = 0 ] && [ "$total" = 128 ]; then
  say "full resync: reported the 2 issues Jira no longer returns ($gone) and kept them; with prune, deleted them (128 left)"
else
  fail "full resync: $state $gone, kept $still; prune: $state2, pruned $pruned, left $left, total $total"
fi
bad="$(as_admin kill_t "SELECT analytics.analytics_jira_sync('src', '{\"prune\": true}')" 2>&1 || true)"
[[ "$bad" == *"prune needs a full resync"* ]] && say "prune without full: refused (22023)" || fail "prune without full: $bad"

# --- 6. The credential ---------------------------------------------------------------------------
probe() {  # $1 role, $2 SQL -> the output, errors included
  pq -c "SET ROLE $1" -c "SET analytics.tenant_id = 'kill_t'" -c "$2" 2>&1 || true
}
leaks=0
for role in jira_admin jira_reader; do
  for sql in "SELECT * FROM analytics.jira_source_secrets" "SELECT * FROM analytics.jira_sources" \
             "SELECT * FROM analytics.analytics_jira_sources()" "SELECT analytics.analytics_jira_source_secret('src', '{\"token\": \"x\"}')" \
             "SELECT * FROM analytics.analytics_jobs()" "SELECT analytics.analytics_job_result('$job')" "SELECT * FROM analytics.job_queue"; do
    out="$(probe "$role" "$sql")"
    if grep -q -e "$token" -e "$pat" <<<"$out"; then fail "the credential leaks to $role through: $sql"; leaks=1; fi
  done
done
for t in jira_source_secrets jira_sources jira_source_issues; do
  for role in jira_admin jira_reader; do
    out="$(probe "$role" "SELECT count(*) FROM analytics.$t")"
    [[ "$out" == *"permission denied"* ]] || { fail "$role reads analytics.$t: $out"; leaks=1; }
  done
done
out="$(probe jira_admin "SELECT analytics.analytics_jira_source_secret('src', '{\"token\": \"x\"}')")"
[[ "$out" == *"permission denied"* ]] || { fail "a non-superuser admin set a credential: $out"; leaks=1; }
# A wrong credential: the job fails at once with 28000, without the credential.
printf '{"token": "wrong-%s"}' "$pat" >"$work/wrong.json"; chown postgres "$work/wrong.json"; chmod 600 "$work/wrong.json"
port="$(start_server server 10)"
as_admin wrong_t "SELECT analytics.analytics_jira_source_upsert('src', '{\"base_url\": \"http://127.0.0.1:$port\", \"flavor\": \"server\", \"jql\": \"project = PAY\"}')" >/dev/null
pq -c "SET analytics.tenant_id = 'wrong_t'" -c "SELECT analytics.analytics_jira_source_secret('src', '{\"file\": \"$work/wrong.json\"}')" >/dev/null
job="$(sync_job wrong_t src)"; state="$(wait_job wrong_t "$job")"
e="$(as_admin wrong_t "SELECT analytics.analytics_job_status('$job') -> 'error'")"
attempts="$(as_admin wrong_t "SELECT analytics.analytics_job_status('$job') ->> 'attempt'")"
if [ "$state" = failed ] && [[ "$e" == *'"28000"'* ]] && [ "$attempts" = 1 ] && ! grep -q -e "$pat" <<<"$e"; then
  say "a wrong credential: failed at once (1 attempt) with 28000 and no credential in the error"
else
  fail "a wrong credential: $state after $attempts attempt(s): $e"; leaks=1
fi
tail -c +"$((log_start + 1))" "$SERVER_LOG" >"$work/server.log"
statements="$(grep -c 'LOG:  statement:' "$work/server.log" || true)"
notes="$(grep -c 'analytics_jobs' "$work/notify.txt" || true)"
for f in server.log activity.txt notify.txt; do
  if grep -q -e "$token" -e "$pat" "$work/$f"; then fail "the credential is in $f"; leaks=1; fi
done
if [ "$statements" -gt 0 ] && [ "$notes" -gt 0 ] && [ "$leaks" = 0 ]; then
  say "the credential: not readable by a reader or a non-superuser admin (7 functions and views, 3 tables, setting it), not in the server log ($statements statements logged at log_statement = all), pg_stat_activity or $notes NOTIFY payloads"
else
  [ "$leaks" = 0 ] && fail "the credential checks saw nothing: $statements statements logged, $notes notifications"
fi

[ "$status" = 0 ] && say "all checks passed"
exit $status
