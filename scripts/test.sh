#!/usr/bin/env bash
# The one test command: sets up a fresh machine, then runs every test.
# Third-party reference data is read from ../shared/reference (never committed): under CI=true
# its absence fails the tests; elsewhere they skip with a message.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export MOTE_REFERENCE="${MOTE_REFERENCE:-$root/../shared/reference}"
# TFLM's Python interpreter (venv made by scripts/setup.sh) runs the model files Mote writes.
export MOTE_PYTHON="${MOTE_PYTHON:-$root/target/venv-tflm/bin/python}"
mkdir -p target
log=target/test-all.log
: > "$log"
step() { printf '\n=== %s\n' "$*"; }

step "set-up"
bash scripts/setup.sh

step "engine builds for host, wasm32 and Cortex-M4F (no_std, no allocator)"
cargo build -q -p mote-engine --target wasm32-unknown-unknown
cargo build -q -p mote-engine --target thumbv7em-none-eabihf
# The exporter library (reports, export zip) runs in the browser too.
cargo check -q -p mote-exporter --lib --target wasm32-unknown-unknown --no-default-features
cargo check -q -p mote-train-worker --target wasm32-unknown-unknown

step "unit, golden, property and end-to-end tests (engine, CLI, exporter, kernel sweep)"
cargo test -p mote-engine -p mote-exporter -p mote-testgen -p mote-trainer 2>&1 | tee -a "$log"

step "the Cortex-M4 (DSP) kernel strategies on the host: emulated SXTB16/SMLAD, same tests and goldens"
MOTE_DSP_EMULATE=1 cargo test -p mote-engine --lib --test golden 2>&1 | tee -a "$log"
MOTE_DSP_EMULATE=1 cargo test -p mote-testgen --test sweep 2>&1 | tee -a "$log"

step "code health: rustfmt and clippy (warnings are errors) on every crate"
cargo fmt --all --check
for d in firmware-template testgen/firmware; do (cd "$d" && cargo fmt --check); done
cargo clippy -q --workspace --all-targets -- -D warnings

step "undefined behaviour: the engine's unit tests that reach unsafe code, under Miri"
bash scripts/miri.sh 2>&1 | tee -a "$log"

step "fuzz smoke run: reader and interpreter, libFuzzer + AddressSanitizer, 20 s per target"
bash scripts/fuzz.sh 20 2>&1 | tail -n 40 | tee -a "$log"

step "firmware: three boards; export -> build -> QEMU (b-l475e-iot01a) = mote detect --json"
bash scripts/firmware-test.sh 2>&1 | tee -a "$log"

step "playground: host, wasm-bindgen in Chromium, end-to-end with a fake microphone"
bash scripts/web-test.sh 2>&1 | tee -a "$log"

# One summary line over every runner above (cargo, firmware-test, node --test).
passed=$(grep -Eo '(test result: ok\. |^firmware: )[0-9]+ passed|^# pass [0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed|^# fail [0-9]+' "$log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
