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
#     workflow never moves back, so "reached" and "is in" agree);
#   - ageing WIP at the end of the last day: items, youngest and oldest age per workflow stage;
#   - net flow per day: arrivals (created), departures (closed) and their difference;
#   - the Monte Carlo forecast of the date by which the items not done are done, at 50/85/95%
#     (10,000 trials each, 8 weeks of daily throughput; within a day of each other).
# JAM's ageing WIP, net flow and forecast come from its calculators run in process
# (tests/peer/jam_calculators.py), configured to match our definitions where they differ on purpose.
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
# Ageing WIP, net flow and the burnup forecast: JAM's CLI draws them only as charts, so its calculators
# run in process (tests/peer/jam_calculators.py says how JAM is configured to match our definitions).
weeks=8 trials=10000
rm -f jam_ageing.tsv jam_netflow.tsv jam_forecast.tsv
"$venv/bin/python" "$root/tests/peer/jam_calculators.py" jam.yml "$work" "$weeks" "$trials" 7 > jam_calc.log 2>&1 \
  || { tail -20 jam_calc.log; exit 1; }
read -r fc_start fc_items < <(head -1 jam_forecast.tsv)
tail -n +2 jam_forecast.tsv > jam_forecast_q.tsv

# The extension, on the same pages. No issue is still in To Do, so no payload tells that status's
# category: the option says it (as a user of a real site would; the sync will read /rest/api/2/status).
cluster_stop "$base" 2>/dev/null || true
rm -rf "$base"
cluster_start "$base" "$port" peer "analytics.embed_interval = 0"
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
CREATE TEMP TABLE ja (key text, stage text, age int);
CREATE TEMP TABLE jn (day date, arrivals int, departures int, net int);
CREATE TEMP TABLE jq (q float8, day date);
\copy jc FROM '$work/jam_cycle.tsv' WITH (FORMAT text, NULL '')
\copy jf FROM '$work/jam_cfd.tsv'
\copy jt FROM '$work/jam_throughput.tsv'
\copy ja FROM '$work/jam_ageing.tsv'
\copy jn FROM '$work/jam_netflow.tsv'
\copy jq FROM '$work/jam_forecast_q.tsv'
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
-- Ageing WIP at the end of JAM's last day: per workflow stage the number of items, and the youngest
-- and oldest age. JAM counts calendar days (today - start date); ours is elapsed days, so its ceiling
-- (monotone: the ceiling of the min/max is the min/max of the ceilings) is compared.
CREATE TEMP TABLE oa AS SELECT r ->> 'status' AS status, (r ->> 'n')::int AS n, (r ->> 'youngest')::float8 AS lo, (r ->> 'oldest')::float8 AS hi
  FROM analytics.analytics_rows(jsonb_build_object('metrics', jsonb_build_array(
         jsonb_build_object('name', 'ageing_wip', 'aggregation', 'count', 'alias', 'n', 'params', jsonb_build_object('as_of', '$fc_start'::date + 1)),
         jsonb_build_object('name', 'ageing_wip', 'aggregation', 'min', 'alias', 'youngest', 'params', jsonb_build_object('as_of', '$fc_start'::date + 1)),
         jsonb_build_object('name', 'ageing_wip', 'aggregation', 'max', 'alias', 'oldest', 'params', jsonb_build_object('as_of', '$fc_start'::date + 1))),
       'group_by', jsonb_build_array('status'))) AS r;
DELETE FROM oa WHERE n = 0;  -- statuses with issues but none in progress (Done) are rows of 0 in ours
WITH j AS (
  SELECT CASE stage WHEN 'Review' THEN 'In Review' ELSE stage END AS status, count(*)::int AS n, min(age) AS lo, max(age) AS hi FROM ja GROUP BY 1
)
SELECT 'ageing', count(*), count(*) FILTER (WHERE o.status IS NULL OR j.status IS NULL OR j.n <> o.n OR j.lo <> ceil(o.lo) OR j.hi <> ceil(o.hi)),
       (SELECT count(*) FROM ja), (SELECT sum(n) FROM oa),
       string_agg(format('%s: JAM %s items %s..%s days, ours %s items %s..%s', coalesce(j.status, o.status), j.n, j.lo, j.hi, o.n, round(o.lo::numeric, 2), round(o.hi::numeric, 2)), '; ' ORDER BY coalesce(j.status, o.status))
FROM j FULL JOIN oa o USING (status);
-- Net flow per day (JAM configured with the backlog as its committed column: arrivals = created).
CREATE TEMP TABLE onf AS SELECT (r ->> 'as_of_day')::date AS day, (r ->> 'created')::int AS a, (r ->> 'closed')::int AS d, (r ->> 'net_flow')::int AS net
  FROM analytics.analytics_rows(jsonb_build_object('metrics', jsonb_build_array('created', 'closed', 'net_flow'),
       'group_by', jsonb_build_array(jsonb_build_object('field', 'as_of', 'interval', 'day')),
       'date_range', jsonb_build_object('from', '$first', 'to', ('$last'::date + 1)::text), 'limit', 1000)) AS r;
SELECT 'netflow', count(*), count(*) FILTER (WHERE o.day IS NULL OR jn.arrivals <> o.a OR jn.departures <> o.d OR jn.net <> o.net), sum(jn.net), sum(o.net)
FROM jn LEFT JOIN onf o USING (day);
-- The forecast: the date by which the items not done yet are done, at JAM's quantiles.
SELECT 'forecast', jq.q, jq.day, '$fc_start'::date + ceil((r ->> 'days')::float8)::int
FROM jq, LATERAL analytics.analytics_rows(jsonb_build_object('metrics', jsonb_build_array(jsonb_build_object('name', 'forecast_date', 'alias', 'days',
       'params', jsonb_build_object('items', $fc_items, 'confidence', jq.q, 'trials', $trials, 'weeks_of_history', $weeks, 'as_of', '$fc_start'))))) AS r
ORDER BY jq.q;
SQL
)" || { echo "$result"; exit 1; }
echo "$result" | grep '^differs' | sed 's/^/[peer] JAM vs ours (backlog, in progress, done reached): /' || true
read -r c_n c_bad f_n f_bad t_n t_bad <<< "$(echo "$result" | grep -E '^[0-9]' | tail -1)"
echo "[peer] cycle times (In Progress -> Done, calendar days): $c_n issues, $c_bad differ"
echo "[peer] cumulative flow, $first .. $last: $f_n days x 3 bands, $f_bad days differ"
echo "[peer] throughput per day: $t_n days, $t_bad differ"
read -r _ a_n a_bad a_jam a_ours a_detail <<< "$(echo "$result" | grep '^ageing ')"
echo "[peer] ageing WIP at the end of $fc_start: $a_jam items (JAM) vs $a_ours (ours) in $a_n stages, $a_bad stages differ ($a_detail)"
read -r _ n_n n_bad n_jam n_ours <<< "$(echo "$result" | grep '^netflow ')"
echo "[peer] net flow per day (created - closed): $n_n days, $n_bad differ (totals $n_jam vs $n_ours)"
# The forecast: JAM's quantile of its finish dates (interpolated, then floored to the day) vs our
# smallest day count reached in that share of trials; two Monte Carlo runs of 10,000 trials with
# different generators: within one day of each other (more is a different model, not noise).
q_bad=0 q_n=0
while read -r _ q jam ours; do
  gap=$(( ($(date -d "$ours" +%s) - $(date -d "$jam" +%s)) / 86400 ))
  q_n=$((q_n + 1)); [ "${gap#-}" -le 1 ] || q_bad=$((q_bad + 1))
  echo "[peer] forecast: $fc_items items left on $fc_start, $(python3 -c "print(round($q * 100))")% done by JAM $jam, ours $ours ($gap days)"
done < <(echo "$result" | grep '^forecast ')
[ "$c_bad" = 0 ] && [ "$f_bad" = 0 ] && [ "$t_bad" = 0 ] && [ "$a_bad" = 0 ] && [ "$n_bad" = 0 ] && [ "$q_bad" = 0 ] \
  && [ "$c_n" -gt 0 ] && [ "$f_n" -gt 0 ] && [ "$t_n" -gt 0 ] && [ "$a_n" -gt 0 ] && [ "$n_n" -gt 0 ] && [ "$q_n" = 3 ]
