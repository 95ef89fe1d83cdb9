#!/usr/bin/env bash
# Embedding by the job workers (docs/search.md), on a real cluster with the builtin model: with
# analytics.embed_interval set, new issues of two tenants are embedded without anyone calling anything;
# a description change is embedded again and a status change is not; a writer's backfill job
# (analytics_job_submit('embed', …)) embeds batch by batch, one transaction each, and reports what it did;
# a reader may not submit one; a bad payload is refused; with embed_interval = 0 nothing is queued.
# Uses PGHOST/PGPORT/PGUSER of a running cluster (scripts/regress.sh sets analytics.embed_interval = 0;
# this script turns it on and off again).
set -euo pipefail
db=embed_workers
pq() { PGOPTIONS="-c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q() { pq -d "$db" -c "$1"; }
as() { pq -d "$db" -c "SET ROLE $1" -c "SET analytics.tenant_id = '$2'" -c "$3"; }
status=0
fail() { echo "embed_workers: FAIL: $*"; status=1; }
say() { echo "embed_workers: $*"; }
interval() {
  pq -d postgres -c "ALTER SYSTEM SET analytics.embed_interval = $1" -c "SELECT pg_reload_conf()" >/dev/null
}
cleanup() {
  pq -d postgres -c "ALTER SYSTEM RESET analytics.embed_interval" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
  pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  for r in ew_writer ew_reader; do pq -d postgres -c "DROP ROLE IF EXISTS $r" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
# Waits up to $1 s for SQL $2 to return t.
until_true() {
  for _ in $(seq 1 $(($1 * 5))); do
    [ "$(q "$2")" = t ] && return 0
    sleep 0.2
  done
  return 1
}

pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
q "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
for r in ew_writer ew_reader; do pq -d postgres -c "DROP ROLE IF EXISTS $r" -c "CREATE ROLE $r" >/dev/null; done
q "SELECT analytics.analytics_grant('ew_writer', 'writer'), analytics.analytics_grant('ew_reader', 'reader')" >/dev/null
issues() { # tenant, count
  q "INSERT INTO analytics.issues (tenant_id, issue_key, summary, description, status, created_at)
     SELECT '$1', 'E-' || g, 'Issue ' || g || ': the export of report ' || g || ' times out', 'Seen on build ' || g, 'To Do', '2026-01-01'
     FROM generate_series(1, $2) g" >/dev/null
}

# --- With embed_interval = 0, new issues are only marked.
issues ew_a 30
issues ew_b 7
sleep 2
[ "$(q "SELECT count(*) FROM analytics.jobs WHERE kind = 'embed'")" = 0 ] && say "embed_interval = 0: no embed job is queued" \
  || fail "an embed job was queued with embed_interval = 0"
[ "$(q "SELECT string_agg(tenant_id, ',' ORDER BY tenant_id) FROM analytics.embedding_queue")" = "ew_a,ew_b" ] \
  || fail "the inserts did not mark both tenants: $(q "SELECT string_agg(tenant_id, ',') FROM analytics.embedding_queue")"

# --- On: both tenants are embedded by the workers, nobody calls anything.
interval 1
t0=$(date +%s%3N)
if until_true 120 "SELECT (SELECT count(*) FROM analytics.issue_embeddings) = 37"; then
  say "embed_interval = 1: the 37 new issues of 2 tenants were embedded by the workers in $(( $(date +%s%3N) - t0 )) ms"
else
  fail "after 120 s $(q "SELECT count(*) FROM analytics.issue_embeddings") of 37 issues embedded; jobs: $(q "SELECT string_agg(tenant_id || ':' || state || ':' || coalesce(error::text, ''), '; ') FROM analytics.jobs")"
fi
until_true 20 "SELECT NOT EXISTS (SELECT FROM analytics.jobs WHERE kind = 'embed' AND state IN ('queued', 'running'))" || fail "embed jobs still unfinished"
jobs="$(q "SELECT string_agg(j.tenant_id || ':' || j.state || ':' || (r.result ->> 'embedded'), ',' ORDER BY j.tenant_id)
           FROM analytics.jobs j JOIN analytics.job_results r ON r.job_id = j.id WHERE j.kind = 'embed'")"
[ "$jobs" = "ew_a:completed:30,ew_b:completed:7" ] && say "one completed embed job per tenant, 30 and 7 issues, as the extension's owner" \
  || fail "embed jobs: $jobs"
[ "$(q "SELECT bool_and(submitted_by = (SELECT extowner FROM pg_extension WHERE extname = 'agile_analytics') AND priority < 0) FROM analytics.jobs WHERE kind = 'embed'")" = t ] \
  || fail "the queued embed jobs are not the owner's, at a low priority"
[ "$(q "SELECT count(*) FROM analytics.embedding_queue")" = 0 ] || fail "marks left after the jobs were queued"

# --- A description change is embedded again; a status change is not.
before="$(q "SELECT embedding::text FROM analytics.issue_embeddings e JOIN analytics.issues i ON i.id = e.issue_id AND i.tenant_id = e.tenant_id WHERE i.tenant_id = 'ew_b' AND i.issue_key = 'E-3'")"
as ew_writer ew_b "UPDATE analytics.issues SET status = 'Done' WHERE issue_key = 'E-4'"
as ew_writer ew_b "UPDATE analytics.issues SET description = 'The export now fails with a 502 from the proxy' WHERE issue_key = 'E-3'"
if until_true 30 "SELECT embedding::text <> '$before' FROM analytics.issue_embeddings e JOIN analytics.issues i ON i.id = e.issue_id AND i.tenant_id = e.tenant_id WHERE i.tenant_id = 'ew_b' AND i.issue_key = 'E-3'"; then
  until_true 20 "SELECT NOT EXISTS (SELECT FROM analytics.jobs WHERE kind = 'embed' AND state IN ('queued', 'running'))" || true
  n="$(q "SELECT r.result ->> 'embedded' FROM analytics.jobs j JOIN analytics.job_results r ON r.job_id = j.id WHERE j.kind = 'embed' AND j.tenant_id = 'ew_b' ORDER BY j.submitted_at DESC LIMIT 1")"
  [ "$n" = 1 ] && say "a description change was embedded again by the next job (1 issue); the status change was not" \
    || fail "the job after the change embedded $n issues, not 1"
else
  fail "the changed description was not embedded again within 30 s"
fi

# --- A writer's backfill: batch by batch, each its own transaction.
interval 0
sleep 1.5
q "DELETE FROM analytics.issue_embeddings WHERE tenant_id = 'ew_a'"
id="$(as ew_writer ew_a "SELECT analytics.analytics_job_submit('embed', '{\"batch\": 7}')")"
until_true 60 "SELECT state = 'completed' FROM analytics.jobs WHERE id = '$id'" || fail "the backfill job did not complete: $(q "SELECT state || ' ' || coalesce(error::text, '') FROM analytics.jobs WHERE id = '$id'")"
result="$(as ew_writer ew_a "SELECT analytics.analytics_job_result('$id')")"
python3 - "$result" <<'PY' && say "a writer's backfill of 30 issues in batches of 7: $result" || fail "backfill result: $result"
import json, sys
r = json.loads(sys.argv[1])
sys.exit(0 if r["embedded"] == 30 and r["batches"] == 5 and r["model"] == "all-MiniLM-L6-v2" and r["issues_per_second"] > 0 else 1)
PY
[ "$(q "SELECT count(*) FROM analytics.issue_embeddings WHERE tenant_id = 'ew_a'")" = 30 ] || fail "the backfill left issues unembedded"

# --- Access and payloads.
out="$(pq -d "$db" -v VERBOSITY=verbose -c "SET ROLE ew_reader" -c "SET analytics.tenant_id = 'ew_a'" -c "SELECT analytics.analytics_job_submit('embed', '{}')" 2>&1 || true)"
grep -q 42501 <<<"$out" && say "a reader's embed job is refused (42501)" || fail "a reader submitted an embed job: $out"
out="$(pq -d "$db" -v VERBOSITY=verbose -c "SET ROLE ew_writer" -c "SET analytics.tenant_id = 'ew_a'" -c "SELECT analytics.analytics_job_submit('embed', '{\"batch\": 0}')" 2>&1 || true)"
grep -q 22023 <<<"$out" && say "an embed job with batch 0 is refused (22023)" || fail "batch 0: $out"
exit $status
