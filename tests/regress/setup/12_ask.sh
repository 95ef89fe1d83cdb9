#!/usr/bin/env bash
# Setup for 12_ask: the extension plus generated demo data (3 tenants, fixed end date).
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION agile_analytics CASCADE"
bash scripts/load_data.sh --issues 3000 --end 2026-06-30 >/dev/null
