#!/usr/bin/env bash
# Loads generated demo/benchmark data into a database that has the extension, with COPY.
#   scripts/load_data.sh --issues N [--seed S] [--end YYYY-MM-DD] [--tenants T]
# Connection: the usual PGHOST/PGPORT/PGDATABASE/PGUSER (a superuser: loading bypasses RLS).
# Idempotent: if the generator's first tenant already has issues, nothing is loaded.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
gen_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --issues|--seed|--end|--tenants) gen_args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -At)

if [ "$("${PSQL[@]}" -c "SELECT EXISTS (SELECT 1 FROM analytics.issues WHERE tenant_id = 'acme')")" = t ]; then
  echo "[load] data already loaded (tenant acme has issues): skipping"
  exit 0
fi

(cd "$root" && cargo build -q --release -p agile-datagen)
offset="$("${PSQL[@]}" -c "SELECT greatest(
  (SELECT coalesce(max(id), 0) FROM analytics.issues), (SELECT coalesce(max(id), 0) FROM analytics.issue_transitions),
  (SELECT coalesce(max(id), 0) FROM analytics.issue_changes), (SELECT coalesce(max(id), 0) FROM analytics.issue_comments),
  (SELECT coalesce(max(id), 0) FROM analytics.sprints), (SELECT coalesce(max(id), 0) FROM analytics.sprint_issues))")"
dir="$(mktemp -d /tmp/agile_analytics-data.XXXXXX)"
trap 'rm -rf "$dir"' EXIT
chmod 755 "$dir"
t0=$(date +%s.%N)
"$root/target/release/agile-datagen" "${gen_args[@]}" --id-offset "$offset" --out "$dir"
t1=$(date +%s.%N)

{
  echo "BEGIN;"
  cat "$dir/load.psql"
  for t in sprints issues issue_transitions issue_changes issue_comments sprint_issues; do
    echo "SELECT setval(pg_get_serial_sequence('analytics.$t', 'id'), (SELECT max(id) FROM analytics.$t));"
  done
  echo "COMMIT;"
  echo "ANALYZE analytics.sprints, analytics.issues, analytics.issue_transitions, analytics.issue_changes, analytics.issue_comments, analytics.sprint_issues;"
} | "${PSQL[@]}" >/dev/null
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "[load] generated in %.1f s, loaded in %.1f s\n", b - a, c - b }'
