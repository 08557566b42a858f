#!/usr/bin/env bash
# The one test command: sets up a fresh machine, then runs every test.
# Third-party reference data is read from ../shared/reference (never committed): under CI=true
# its absence fails the tests; elsewhere they skip with a message.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
step() { printf '\n=== %s\n' "$*"; }

step "set-up"
bash scripts/setup.sh

step "engine builds for host, wasm32 and Cortex-M4F (no_std, no allocator)"
cargo build -q -p mote-engine --target wasm32-unknown-unknown
cargo build -q -p mote-engine --target thumbv7em-none-eabihf
# The exporter library (reports, export zip) runs in the browser too.
cargo check -q -p mote-exporter --lib --target wasm32-unknown-unknown --no-default-features

step "unit, golden, property and end-to-end tests"
cargo test --workspace 2>&1 | tee target/test.log
# Summarise (cargo's own lines stay above).
passed=$(grep -Eo '[0-9]+ passed' target/test.log | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' target/test.log | awk '{s+=$1} END {print s+0}')

step "firmware: build the template and run it in QEMU (b-l475e-iot01a)"
bash scripts/firmware-test.sh

echo
echo "tests: $passed passed, $failed failed"
