#!/usr/bin/env bash
# Source this file: exports the pinned toolchain from pgrx.toml as shell variables.
# Usage: . scripts/pins.sh
_pins_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_pin() { sed -n -E "s/^$1[[:space:]]*=[[:space:]]*\"([^\"]*)\".*/\\1/p" "$_pins_root/pgrx.toml" | head -n1; }
PGRX_VERSION="$(_pin pgrx)"
PG_MAJOR="$(_pin pg_major)"
PGVECTOR_VERSION="$(_pin pgvector)"
PGVECTOR_SUITE="$(_pin pgvector_suite)"
DEMO_PORT="$(_pin port)"
DEMO_DB="$(_pin database)"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"
PG_CONFIG="$PG_BIN/pg_config"
# The extension's version (Cargo.toml's package version): its install script is agile_analytics--$EXT_VERSION.sql.
EXT_VERSION="$(sed -n -E '/^\[package\]/,/^\[/ s/^version[[:space:]]*=[[:space:]]*"([^"]*)".*/\1/p' "$_pins_root/Cargo.toml" | head -n1)"
export PGRX_VERSION PG_MAJOR PGVECTOR_VERSION PGVECTOR_SUITE DEMO_PORT DEMO_DB PG_BIN PG_CONFIG EXT_VERSION
unset -f _pin
