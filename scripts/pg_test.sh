#!/usr/bin/env bash
# Tier 2: the #[pg_test]s, inside a throwaway PostgreSQL cluster run as the non-root user `postgres`
# (PostgreSQL refuses to run as root). Extra arguments go to `cargo pgrx test` (e.g. a test name).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/pins.sh"
cd "$root"
pgdata="${PGRX_TEST_PGDATA:-/var/tmp/agile_analytics-pgtest}"
if [ "$(id -u)" = 0 ]; then
  rm -rf "$pgdata"; mkdir -p "$pgdata"; chown postgres:postgres "$pgdata"; chmod 700 "$pgdata"
  exec cargo pgrx test "pg$PG_MAJOR" --runas postgres --pgdata "$pgdata" "$@"
else
  exec cargo pgrx test "pg$PG_MAJOR" "$@"
fi
