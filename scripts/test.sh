#!/usr/bin/env bash
# `make test`: set up the machine, then run every test tier. Exits non-zero if anything fails.
#   lint    cargo fmt --check and cargo clippy -D warnings (every crate, tests included)
#   tier 1  pure Rust tests (cargo test) of crates/analytics-core, crates/datagen and crates/embed; the scripted Jira
#           server's self-test (tests/jira_server, the peer of the sync and the cross-checks)
#   tier 2  #[pg_test]s inside PostgreSQL (scripts/pg_test.sh)
#   tier 3  golden SQL regression files (scripts/regress.sh)
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export PATH="$HOME/.cargo/bin:$PATH"
bash scripts/setup.sh || { echo "[test] setup failed"; exit 1; }
. scripts/cluster.sh

failed=()
run_tier() {
  local name="$1"; shift
  echo "[test] === $name ==="
  local t0=$SECONDS
  if "$@"; then echo "[test] $name: passed ($((SECONDS - t0)) s)"; else echo "[test] $name: FAILED"; failed+=("$name"); fi
}

pins_consistent() {
  local cargo_pin
  cargo_pin="$(sed -n -E 's/^pgrx = "=([^"]+)".*/\1/p' Cargo.toml)"
  [ "$cargo_pin" = "$PGRX_VERSION" ] || { echo "Cargo.toml pins pgrx $cargo_pin, pgrx.toml says $PGRX_VERSION"; return 1; }
  grep -q "^pgrx-tests = \"=$PGRX_VERSION\"" Cargo.toml || { echo "pgrx-tests is not pinned to $PGRX_VERSION"; return 1; }
}

# The tests reinstall the library; a demo server still running the old one could crash. Stop it.
cluster_stop "${DEMO_DIR:-/var/tmp/agile_analytics-demo}" 2>/dev/null || true

run_tier "pins" pins_consistent
run_tier "lint: cargo fmt --check" cargo fmt --all -- --check
run_tier "lint: cargo clippy -D warnings" cargo clippy --locked --workspace --all-targets -- -D warnings
run_tier "tier 1: cargo test (pure core, data generator, embedder)" cargo test --locked -p analytics-core -p agile-datagen -p analytics-embed
run_tier "tier 1: scripted Jira server (tests/jira_server)" timeout 120 python3 tests/jira_server/selftest.py
run_tier "tier 2: pg_test" bash scripts/pg_test.sh
run_tier "tier 3: golden SQL regression" bash scripts/regress.sh

if [ ${#failed[@]} -gt 0 ]; then
  echo "[test] FAILED: ${failed[*]}"
  exit 1
fi
echo "[test] all tiers passed"
