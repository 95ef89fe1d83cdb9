#!/usr/bin/env bash
# Source this file. A local PostgreSQL cluster run as the non-root user `postgres` (PostgreSQL refuses
# root), used by the demo, the golden regression tests and the benchmarks.
#   cluster_start BASE PORT CRON_DB [extra postgresql.conf lines...]   BASE/data, socket in BASE/sock
#   cluster_stop BASE
#   cluster_psql BASE PORT DB [psql args...]                            runs psql as superuser postgres
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/pins.sh"

as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$(printf '%q ' "$@")"; else "$@"; fi
}

cluster_start() {
  local base="$1" port="$2" cron_db="$3"; shift 3
  mkdir -p "$base/sock"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$base" "$base/sock"
  if [ ! -f "$base/data/PG_VERSION" ]; then
    as_pg "$PG_BIN/initdb" -D "$base/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    {
      echo "# written by scripts/cluster.sh"
      echo "port = $port"
      echo "listen_addresses = 'localhost'"
      echo "unix_socket_directories = '$base/sock'"
      echo "shared_preload_libraries = 'pg_cron,agile_analytics'"
      echo "cron.database_name = '$cron_db'"
      echo "timezone = 'UTC'"
      echo "log_min_messages = warning"
      for line in "$@"; do echo "$line"; done
    } | as_pg tee -a "$base/data/postgresql.conf" >/dev/null
  fi
  if as_pg "$PG_BIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    return 0
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 60 start >/dev/null
}

cluster_stop() {
  local base="$1"
  if [ -f "$base/data/PG_VERSION" ] && as_pg "$PG_BIN/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$base/data" -m fast -w stop >/dev/null
  fi
}

cluster_psql() {
  local base="$1" port="$2" db="$3"; shift 3
  psql -X -q -v ON_ERROR_STOP=1 -h "$base/sock" -p "$port" -U postgres -d "$db" "$@"
}
