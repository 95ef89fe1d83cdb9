#!/usr/bin/env bash
# Concurrent submits of the same job queue it once: 20 sessions submit the same spec (spelt two ways)
# at the same moment, and 20 more another spec (spelt two ways) with the same idempotency key; each
# group yields one job, and every session was told its id. Uses PGHOST/PGPORT/PGUSER of a running cluster.
set -euo pipefail
db=jobs_concurrent
pq() { PGOPTIONS="-c client_min_messages=error" command psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
work="$(mktemp -d /tmp/agile_analytics-jobs.XXXXXX)"
trap 'rm -rf "$work"; pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
pq -d "$db" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
status=0
fail() { echo "jobs_concurrent: $*"; status=1; }
# Each session waits on an advisory lock the script holds, so that all submit at once when it is freed.
gate() {
  pq -d "$db" -c "SET analytics.tenant_id = 'jc'" -c "SELECT pg_advisory_lock_shared(42)" -c "$1" > "$2" 2>&1
}
pq -d "$db" -c "SELECT pg_advisory_lock(42)" -c "SELECT pg_sleep(3)" >/dev/null &
holder=$!
sleep 0.5
for i in $(seq 1 20); do
  if [ $((i % 2)) = 0 ]; then spec='{"metrics": ["created"], "group_by": ["issue_type"]}'; else spec='{"group_by": ["issue_type"], "metrics": [{"name": "created"}]}'; fi
  gate "SELECT analytics.analytics_job_submit('run', '$spec')" "$work/spec.$i" &
  if [ $((i % 2)) = 0 ]; then again='{"metrics": ["closed"], "limit": 7}'; else again='{"limit": 7, "metrics": [{"name": "closed"}]}'; fi
  gate "SELECT analytics.analytics_job_submit('run', '$again', '{\"idempotency_key\": \"same-request\"}')" "$work/key.$i" &
done
wait
for group in spec key; do
  ids="$(cat "$work"/$group.* | grep -E '^[0-9a-f-]{36}$' | sort -u)"
  answers="$(cat "$work"/$group.* | grep -cE '^[0-9a-f-]{36}$' || true)"
  [ "$answers" = 20 ] || { fail "$group: $answers of 20 sessions got an id:"; grep -vhE '^[0-9a-f-]{36}$|^$|^t$' "$work"/$group.* | sort | uniq -c | head -5; }
  [ "$(wc -l <<<"$ids")" = 1 ] || fail "$group: 20 concurrent submits made $(wc -l <<<"$ids") jobs"
done
jobs="$(pq -d "$db" -c "SELECT count(*) FROM analytics.jobs")"
[ "$jobs" = 2 ] || fail "expected 2 jobs in the queue, found $jobs"
[ "$status" = 0 ] && echo "jobs_concurrent: 2 x 20 concurrent submits made 2 jobs, every session told its id"
exit $status
