#!/usr/bin/env bash
# `make test-peer` (optional, not part of `make test`): the real jira-agile-metrics (JAM 0.24 from PyPI,
# in a throwaway venv) and the extension read the same scripted Jira (tests/jira_server, Server/DC
# flavour, 127.0.0.1 only): JAM through its `jira` client, the extension through analytics_ingest_jira
# on the same search pages. Then per day and per issue, both ways:
#   - throughput: issues done per calendar day (JAM throughput.csv vs our closed by resolved_at day);
#   - cycle time: JAM's Done date - In Progress date, in days (calendar dates, the documented JAM
#     convention of src/tests/jam.rs) vs the same dates from our status history;
#   - cumulative flow: JAM's cfd.csv columns (items that reached Backlog / In Progress / Done by each day)
#     vs our as_of series (backlog_count + wip + done_count, wip + done_count, done_count; the generated
#     workflow never moves back, so "reached" and "is in" agree).
# Prints the number of compared values and mismatches; exits non-zero on any mismatch.
# Needs PostgreSQL with the extension installed (make install) and PyPI for the venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
work="${PEER_DIR:-/var/tmp/agile_analytics-peer}"
port="${PEER_PORT:-28821}"
issues="${PEER_ISSUES:-300}"
mkdir -p "$work"
venv="$work/venv"
if [ ! -x "$venv/bin/jira-agile-metrics" ]; then
  echo "[peer] installing jira-agile-metrics 0.24 into $venv (pandas < 2, numpy < 2: what 0.24 runs on)"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "jira-agile-metrics==0.24" "pandas<2" "numpy<2"
fi

# The scripted Jira: whole changelogs in searches (JAM reads only the search's).
rm -f "$work/jira.port"
python3 "$root/tests/jira_server/server.py" --flavor server --issues "$issues" --embed 100000 --port-file "$work/jira.port" \
  > "$work/jira.log" 2>&1 &
jira_pid=$!
base="$work/pg"
trap 'kill $jira_pid 2>/dev/null || true; cluster_stop "$base" 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$work/jira.port" ] && break; sleep 0.1; done
jport="$(cat "$work/jira.port")"
url="http://127.0.0.1:$jport"

# JAM.
cd "$work"
cat > jam.yml <<EOF
Connection:
    Domain: $url
    Username: bot@example.com
    Password: scripted-token
Query: project in (PAY, WEB)
Workflow:
    Backlog: To Do
    In Progress: In Progress
    Review: In Review
    QA: QA
    Done: Done
Output:
    Cycle time data: jam_cycletime.csv
    CFD data: jam_cfd.csv
    Throughput data: jam_throughput.csv
    Throughput frequency: D
EOF
rm -f jam_*.csv
echo "[peer] JAM reads $url"
"$venv/bin/jira-agile-metrics" jam.yml > jam.log 2>&1 || { tail -20 jam.log; exit 1; }

# The extension, on the same pages. No issue is still in To Do, so no payload tells that status's
# category: the option says it (as a user of a real site would; the sync will read /rest/api/2/status).
cluster_stop "$base" 2>/dev/null || true
rm -rf "$base"
cluster_start "$base" "$port" peer
psql_peer() { cluster_psql "$base" "$port" peer "$@"; }
cluster_psql "$base" "$port" postgres -c "CREATE DATABASE peer" >/dev/null
psql_peer -c "SET client_min_messages = warning" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
start=0
while :; do
  curl -sf -H "Authorization: Bearer scripted-pat" "$url/rest/api/2/search?jql=project%20in%20(PAY%2C%20WEB)&startAt=$start&maxResults=100&expand=changelog,names&fields=*all" > page.json
  n="$(python3 -c 'import json,sys; print(len(json.load(open("page.json"))["issues"]))')"
  [ "$n" = 0 ] && break
  # The page goes in through a psql variable read from the file (too long for an argument).
  chmod 644 page.json
  printf '%s\n' "SET analytics.tenant_id = 'peer';" "\\set page \`cat $work/page.json\`" "SELECT analytics.analytics_ingest_jira(:'page', '{\"status_categories\": {\"To Do\": \"todo\"}}') IS NOT NULL;" \
    | psql_peer -At >/dev/null
  start=$((start + n))
done
echo "[peer] loaded $(psql_peer -At -c "SELECT count(*) FROM analytics.issues WHERE tenant_id = 'peer'") issues into the extension"

# Compare.
python3 - "$work" <<'PY' > ours_vs_jam.txt
import csv, sys
w = sys.argv[1]
cyc = {r["ID"]: r for r in csv.DictReader(open(f"{w}/jam_cycletime.csv"))}
cfd = list(csv.DictReader(open(f"{w}/jam_cfd.csv")))
thr = list(csv.DictReader(open(f"{w}/jam_throughput.csv")))
with open(f"{w}/jam_cycle.tsv", "w") as f:
    for k, r in cyc.items():
        f.write(f"{k}\t{r['In Progress'] or ''}\t{r['Done'] or ''}\n")
with open(f"{w}/jam_cfd.tsv", "w") as f:
    for r in cfd:
        day = r[""] if "" in r else list(r.values())[0]
        f.write(f"{day[:10]}\t{int(float(r['Backlog']))}\t{int(float(r['In Progress']))}\t{int(float(r['Done']))}\n")
with open(f"{w}/jam_throughput.tsv", "w") as f:
    for r in thr:
        day = r[""] if "" in r else list(r.values())[0]
        f.write(f"{day[:10]}\t{int(float(r['count']))}\n")
print(len(cyc), len(cfd), len(thr))
PY
read -r n_cyc n_cfd n_thr < ours_vs_jam.txt
first="$(head -1 jam_cfd.tsv | cut -f1)"; last="$(tail -1 jam_cfd.tsv | cut -f1)"
result="$(psql_peer -At -F ' ' 2>&1 <<SQL
SET analytics.tenant_id = 'peer';
SET TimeZone = 'UTC';
SET analytics.cache_ttl = 0;
CREATE TEMP TABLE jc (key text, ip date, done date);
CREATE TEMP TABLE jf (day date, backlog int, ip int, done int);
CREATE TEMP TABLE jt (day date, n int);
\copy jc FROM '$work/jam_cycle.tsv' WITH (FORMAT text, NULL '')
\copy jf FROM '$work/jam_cfd.tsv'
\copy jt FROM '$work/jam_throughput.tsv'
CREATE TEMP TABLE os AS SELECT (r ->> 'as_of_day')::date AS day, (r ->> 'backlog_count')::int AS b, (r ->> 'wip')::int AS w, (r ->> 'done_count')::int AS d
  FROM analytics.analytics_rows(jsonb_build_object('metrics', jsonb_build_array('backlog_count', 'wip', 'done_count'),
       'group_by', jsonb_build_array(jsonb_build_object('field', 'as_of', 'interval', 'day')),
       'date_range', jsonb_build_object('from', '$first', 'to', ('$last'::date + 1)::text), 'limit', 1000)) AS r;
SELECT 'differs', jf.day, jf.backlog, jf.ip, jf.done, os.b + os.w + os.d, os.w + os.d, os.d FROM jf LEFT JOIN os USING (day)
WHERE os.day IS NULL OR jf.backlog <> os.b + os.w + os.d OR jf.ip <> os.w + os.d OR jf.done <> os.d ORDER BY 2 LIMIT 5;
WITH ours AS (
  SELECT i.issue_key AS key,
         (SELECT min(t.changed_at)::date FROM analytics.issue_transitions t WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.to_status = 'In Progress') AS ip,
         (SELECT min(t.changed_at)::date FROM analytics.issue_transitions t WHERE t.tenant_id = i.tenant_id AND t.issue_id = i.id AND t.to_status = 'Done') AS done
  FROM analytics.issues i WHERE i.tenant_id = 'peer'
), cyc AS (
  SELECT count(*) AS n, count(*) FILTER (WHERE (o.done - o.ip) IS DISTINCT FROM (jc.done - jc.ip) OR o.key IS NULL) AS bad FROM jc FULL JOIN ours o USING (key)
), cf AS (
  SELECT count(*) AS n, count(*) FILTER (WHERE s.day IS NULL OR jf.backlog <> s.b + s.w + s.d OR jf.ip <> s.w + s.d OR jf.done <> s.d) AS bad
  FROM jf LEFT JOIN os s USING (day)
), th AS (
  SELECT count(*) AS n, count(*) FILTER (WHERE coalesce(o.n, 0) <> jt.n) AS bad
  FROM jt LEFT JOIN (SELECT resolved_at::date AS day, count(*)::int AS n FROM analytics.issues WHERE tenant_id = 'peer' AND resolved_at IS NOT NULL GROUP BY 1) o USING (day)
)
SELECT cyc.n, cyc.bad, cf.n, cf.bad, th.n, th.bad FROM cyc, cf, th;
SQL
)" || { echo "$result"; exit 1; }
echo "$result" | grep '^differs' | sed 's/^/[peer] JAM vs ours (backlog, in progress, done reached): /' || true
read -r c_n c_bad f_n f_bad t_n t_bad <<< "$(echo "$result" | tail -1)"
echo "[peer] cycle times (In Progress -> Done, calendar days): $c_n issues, $c_bad differ"
echo "[peer] cumulative flow, $first .. $last: $f_n days x 3 bands, $f_bad days differ"
echo "[peer] throughput per day: $t_n days, $t_bad differ"
[ "$c_bad" = 0 ] && [ "$f_bad" = 0 ] && [ "$t_bad" = 0 ] && [ "$c_n" -gt 0 ] && [ "$f_n" -gt 0 ] && [ "$t_n" -gt 0 ]
