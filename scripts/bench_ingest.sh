#!/usr/bin/env bash
# Jira ingest benchmark, run by scripts/bench.sh on its cluster: 10,000 issues with changelogs (6 changelog
# entries and 2 comments each) loaded for a fresh tenant, then loaded again (all updates). Goal < 10 s.
# Usage: scripts/bench_ingest.sh BASE PORT DB
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="$1"; port="$2"; db="$3"
file="$base/ingest_10k.json"
python3 "$root/scripts/bench_ingest.py" 10000 > "$file"
chmod 644 "$file"
opts='{"status_categories": {"To Do": "todo", "In Progress": "in_progress"}}'
run() {
  psql -X -q -At -h "$base/sock" -p "$port" -U postgres -d "$db" \
    -c "SET analytics.tenant_id = 'bench_ingest'" \
    -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" \
    -c "SELECT (analytics.analytics_ingest_jira(pg_read_file('$file')::jsonb, '$opts') ->> '$1')" \
    -c "SELECT extract(epoch FROM clock_timestamp()) * 1000" | awk -v what="$1" 'NR == 1 {a = $1} NR == 2 {n = $1} NR == 3 {printf "%.2f %s\n", ($1 - a) / 1000, n}'
}
psql -X -q -h "$base/sock" -p "$port" -U postgres -d "$db" -c "DELETE FROM analytics.issues WHERE tenant_id = 'bench_ingest'" -c "DELETE FROM analytics.sprints WHERE tenant_id = 'bench_ingest'"
first="$(run issues_inserted)"
second="$(run issues_updated)"
echo "$first $second" | awk '{ printf "  ingest 10,000 issues with changelogs: first load %.1f s (%s inserted), again %.1f s (%s updated)   goal < 10 s   ratio %.3f\n", $1, $2, $3, $4, ($1 > $3 ? $1 : $3) / 10 }'
