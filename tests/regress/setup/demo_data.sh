#!/usr/bin/env bash
# Setup of the golden tests over generated demo data (07_demo_metrics, 10_spec_vs_sql, 12_ask: each
# is a link to this file): the extension plus 3,000 issues of 3 tenants, ending on a fixed day.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION agile_analytics CASCADE"
bash scripts/load_data.sh --issues 3000 --end 2026-06-30 >/dev/null
