#!/usr/bin/env bash
# Keeps the reference in docs/ true, against an installed extension (PGHOST/PGPORT/PGUSER of a running
# cluster; it makes and drops database docs_check):
#   - every function of the extension has a COMMENT and is named in docs/sql.md;
#   - every analytics.* setting PostgreSQL knows is in docs/settings.md, on a row that gives its default;
#   - every SQLSTATE the code raises (PgSqlErrorCode::ERRCODE_* in Rust, ERRCODE = '...' in SQL) is in
#     docs/sqlstates.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/cluster.sh"
db=docs_check
pq() { PGOPTIONS="-c client_min_messages=warning" command psql -X -q -At -v ON_ERROR_STOP=1 -U postgres "$@"; }
trap 'pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
pq -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" >/dev/null
pq -d "$db" -c "CREATE EXTENSION agile_analytics CASCADE" >/dev/null
status=0
fail() { echo "docs: $*"; status=1; }

# Functions: a comment each, and the name in the SQL reference.
n=0
while IFS='|' read -r fn name comment; do
  n=$((n + 1))
  [ -n "$comment" ] || fail "$fn has no COMMENT"
  grep -q "\b$name\b" "$root/docs/sql.md" || fail "$fn is not in docs/sql.md"
done < <(pq -d "$db" -F '|' <<'SQL'
SELECT p.oid::regprocedure, p.proname, coalesce(obj_description(p.oid, 'pg_proc'), '')
FROM pg_depend d JOIN pg_proc p ON p.oid = d.objid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'agile_analytics') AND d.deptype = 'e'
ORDER BY 1
SQL
)

# Settings, with their defaults.
s=0
while IFS='|' read -r name boot unit; do
  s=$((s + 1))
  row="$(grep -F "| \`$name\` |" "$root/docs/settings.md" || true)"
  [ -n "$row" ] || { fail "setting $name is not in docs/settings.md"; continue; }
  want="${boot:-empty}"
  grep -qF "$want" <<<"$row" || fail "docs/settings.md does not give $name's default ($want)"
done < <(pq -d "$db" -F '|' -c "SELECT name, boot_val, coalesce(unit, '') FROM pg_settings WHERE name LIKE 'analytics.%' ORDER BY name")
[ "$s" -gt 0 ] || fail "no analytics.* settings found (is the library loaded?)"

# SQLSTATEs raised by the code, by name, as codes (utils/errcodes.h).
errcodes="$("$PG_CONFIG" --includedir-server)/utils/errcodes.h"
code_of() {
  sed -n -E "s/^#define $1[[:space:]]+MAKE_SQLSTATE\('(.)','(.)','(.)','(.)','(.)'\).*/\1\2\3\4\5/p" "$errcodes"
}
c=0
for name in $( { grep -rhoE "PgSqlErrorCode::ERRCODE_[A-Z_]+" "$root/src" "$root/crates" | sed 's/PgSqlErrorCode:://';
                 grep -rhoiE "ERRCODE = '[a-z_]+'" "$root/sql" --include='*.sql' | sed -E "s/.*'([a-z_]+)'/\1/" | tr a-z A-Z | sed 's/^/ERRCODE_/'; } | sort -u); do
  c=$((c + 1))
  code="$(code_of "$name")"
  [ -n "$code" ] || { fail "unknown error code name $name"; continue; }
  grep -qF "\`$code\`" "$root/docs/sqlstates.md" || fail "SQLSTATE $code ($name), raised by the code, is not in docs/sqlstates.md"
done
echo "docs: $n functions, $s settings, $c SQLSTATEs checked"
exit $status
