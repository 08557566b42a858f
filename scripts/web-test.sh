#!/usr/bin/env bash
# The playground's tests: host unit/pipeline tests, wasm-bindgen tests in headless Chromium
# (components, the AudioWorklet path, the fake microphone), then the release build and the
# end-to-end tests (node --test + playwright-core on Debian's chromium, fake microphone playing
# WAV files). Screenshots and bench.json (wasm size, ms per inference, real-time factor, first
# paint) go to target/e2e-artifacts/.
# Reference data (TFLM micro_speech, yes_1000ms.wav) is read from $MOTE_REFERENCE or
# ../shared/reference: tests needing it skip with a message, and fail under CI=true.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
step() { printf '\n=== web: %s\n' "$*"; }

bash scripts/setup-web.sh
export MOTE_REFERENCE="${MOTE_REFERENCE:-$root/../shared/reference}"

step "host tests (report/fit/pipeline with the default models and micro_speech; the Train step's worker library)"
cargo test -p mote-web -p mote-train-worker

step "wasm-bindgen tests in headless Chromium"
(
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
  export WASM_BINDGEN_TEST_WEBDRIVER_JSON="$root/web/webdriver.json"
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
  cargo test -p mote-web --target wasm32-unknown-unknown --test browser
)

step "the B-L475E-IOT01A runtime the page serves (the e2e compares its .bin with the CLI's)"
MOTE_RUNTIME_DIR="$root/target/runtimes" RUNTIME_BOARDS=b-l475e-iot01a bash scripts/build-runtimes.sh

step "release build (trunk)"
(
  source scripts/web-env.sh
  trunk build --release --offline
)

step "the mote CLI (the e2e compares the browser's export zip with it)"
cargo build -q --release -p mote-exporter

step "end-to-end in headless Chromium"
(cd web/e2e && node --test --test-concurrency=1)
echo "web: artifacts in target/e2e-artifacts/"
