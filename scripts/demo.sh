#!/usr/bin/env bash
# `make demo`: set up, build and install the extension, start a local PostgreSQL cluster (as `postgres`,
# on the port from pgrx.toml), create the demo database with the extension, load the demo data, print
# example answers and how to connect. Safe to re-run: what exists is kept.
#   scripts/demo.sh          run the demo
#   scripts/demo.sh stop     stop the demo cluster
#   scripts/demo.sh reset    stop it and delete its data directory
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/cluster.sh"
cd "$root"
base="${DEMO_DIR:-/var/tmp/agile_analytics-demo}"
case "${1:-run}" in
  stop) cluster_stop "$base"; echo "[demo] stopped"; exit 0 ;;
  reset) cluster_stop "$base"; rm -rf "$base"; echo "[demo] removed $base"; exit 0 ;;
  run) ;;
  *) echo "usage: $0 [run|stop|reset]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
# A running server has the old library loaded; replacing it underneath can crash it. Stop first.
cluster_stop "$base"
echo "[demo] building and installing the extension (release)"
cargo pgrx install --release --pg-config "$PG_CONFIG" >/dev/null
cluster_start "$base" "$DEMO_PORT" "$DEMO_DB" \
  "analytics.worker_database = '$DEMO_DB'" "analytics.refresh_interval = 900"
echo "[demo] PostgreSQL $PG_MAJOR running on port $DEMO_PORT (data in $base/data)"

psql_su() { cluster_psql "$base" "$DEMO_PORT" "$@"; }
# The extension's version stays the same while it is developed, so a database made by an older build
# keeps that build's SQL objects: start it over when the installed extension script changed.
ext_sum="$(sha256sum "$("$PG_CONFIG" --sharedir)/extension/agile_analytics--$EXT_VERSION.sql" | cut -c1-16)"
if [ "$(cat "$base/extension.sum" 2>/dev/null)" != "$ext_sum" ]; then
  echo "[demo] the extension changed since the demo database was made: making it again"
  psql_su postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DEMO_DB WITH (FORCE)"
fi
if [ "$(psql_su postgres -At -c "SELECT count(*) FROM pg_database WHERE datname = '$DEMO_DB'")" = 0 ]; then
  psql_su postgres -c "CREATE DATABASE $DEMO_DB"
fi
echo "$ext_sum" > "$base/extension.sum"
psql_su "$DEMO_DB" <<SQL
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS agile_analytics CASCADE;
CREATE EXTENSION IF NOT EXISTS pg_cron;
-- Demo roles (the extension itself creates none): a reader and a writer, both for tenant acme.
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agile_reader') THEN CREATE ROLE agile_reader LOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'agile_writer') THEN CREATE ROLE agile_writer LOGIN; END IF;
END
\$\$;
SELECT analytics.analytics_grant('agile_reader', 'reader');
SELECT analytics.analytics_grant('agile_writer', 'writer');
ALTER ROLE agile_reader SET analytics.tenant_id = 'acme';
ALTER ROLE agile_writer SET analytics.tenant_id = 'acme';
SQL

echo "[demo] loading demo data (${DEMO_ISSUES:-20000} issues)"
PGHOST="$base/sock" PGPORT="$DEMO_PORT" PGDATABASE="$DEMO_DB" PGUSER=postgres \
  bash scripts/load_data.sh --issues "${DEMO_ISSUES:-20000}" --end "$(date -u -d yesterday +%F)"

echo "[demo] refreshing the materialized sprint statistics (the background worker repeats this every 15 minutes)"
psql_su "$DEMO_DB" -At -c "SELECT format('  %s: %s ms', view_name, refresh_ms) FROM analytics.analytics_refresh_views()"

echo
echo "================ agile_analytics demo: answers for tenant acme, as role agile_reader ================"
psql -X -q -v ON_ERROR_STOP=1 -h "$base/sock" -p "$DEMO_PORT" -U agile_reader -d "$DEMO_DB" -f scripts/demo_answers.sql
cat <<MSG

Connect:   psql -h localhost -p $DEMO_PORT -U agile_reader $DEMO_DB     (tenant acme, read-only)
           psql -h $base/sock -p $DEMO_PORT -U postgres $DEMO_DB        (superuser)
Then e.g.: SET analytics.tenant_id = 'globex';  SELECT count(*) FROM analytics.issues;
Stop:      make demo-stop        Start over: make demo-reset && make demo
MSG
