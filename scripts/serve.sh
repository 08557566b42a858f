#!/usr/bin/env bash
# The playground in one command: set up a fresh machine (scripts/setup-web.sh: Rust target,
# trunk, wasm-bindgen, wasm-opt, default models), build, and serve on 127.0.0.1.
#   PORT=8080 (default)   MOTE_WEB_DEBUG=1: debug build (faster to build, slower to run)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup-web.sh
# The ".bin" download's runtimes, one per board, built from source (about 3 minutes the first time).
MOTE_RUNTIME_DIR="$root/target/runtimes" bash scripts/build-runtimes.sh
source scripts/web-env.sh
port="${PORT:-8080}"
mode=(--release); [ -n "${MOTE_WEB_DEBUG:-}" ] && mode=()
echo
echo "Mote playground: http://127.0.0.1:$port/   (first build takes a few minutes; Ctrl-C stops)"
echo
exec trunk serve "${mode[@]}" --address 127.0.0.1 --port "$port" --offline
