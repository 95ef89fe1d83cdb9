#!/usr/bin/env bash
# Retrieval quality of semantic search on the real Deep-SE Jira issues (scripts/search_eval.py; issue 16,
# docs/search.md), on a cluster of its own. Prints figures; it is not a test.
#   scripts/search_eval.sh [--reference] [--fusion] [--set FILE] [--no-install]
#     --reference   also rank with an independent numpy implementation of the model (128 and 256 tokens)
#     --fusion      also compare ways to fuse the semantic and lexical lists (MRR@10 of each)
#     --set FILE    another query set in tests/search/ (default queries.json)
#     --no-install  use the extension as installed (else: cargo pgrx install --release)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
cd "$root"
base="${SEARCH_EVAL_DIR:-/var/tmp/agile_analytics-search}"
port="${SEARCH_EVAL_PORT:-28820}"
db=agile_search
args=()
install=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-install) install=0; shift ;;
    --reference|--fusion) args+=("$1"); shift ;;
    --set) args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: $0 [--reference] [--fusion] [--set FILE] [--no-install]" >&2; exit 2 ;;
  esac
done
if [ "$install" = 1 ]; then
  echo "[search] building and installing the extension (release)"
  cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
fi
cluster_start "$base" "$port" "$db" "shared_buffers = '1GB'" "maintenance_work_mem = '512MB'" "analytics.embed_interval = 0"
if ! cluster_psql "$base" "$port" postgres -At -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
  cluster_psql "$base" "$port" postgres -c "CREATE DATABASE $db"
fi
cluster_psql "$base" "$port" "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS agile_analytics CASCADE"
py=python3
[ -x /var/tmp/agile_analytics-models/venv/bin/python ] && py=/var/tmp/agile_analytics-models/venv/bin/python
PGHOST="$base/sock" PGPORT="$port" PGDATABASE="$db" PGUSER=postgres "$py" scripts/search_eval.py "${args[@]}"
