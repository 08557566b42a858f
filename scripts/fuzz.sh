#!/usr/bin/env bash
# Fuzz the engine's reader and interpreter with cargo-fuzz (libFuzzer + AddressSanitizer).
#   scripts/fuzz.sh [SECONDS] [TARGET...]   default: 300 s for each of parse_only, parse_run
# Works on stable Rust: RUSTC_BOOTSTRAP=1 lets stable rustc accept cargo-fuzz's -Z flags.
# Seeds: the golden op models (and the reference models when present) are copied into the
# corpus at run time; copies are never committed (engine/fuzz/corpus is git-ignored).
# Crashes land in engine/fuzz/artifacts/<target>/: turn each into a test in
# engine/tests/robustness.rs (fixtures under engine/tests/fixtures/malformed/).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
secs="${1:-300}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_only parse_run)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/engine/fuzz/target}"

cd "$root/engine"
for t in "${targets[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus"
  for m in tests/golden/ops/*/model.tflite; do
    cp -f "$m" "$corpus/seed-$(basename "$(dirname "$m")").tflite"
  done
  ref="${MOTE_REFERENCE:-$root/../shared/reference}"
  pip="${MOTE_PIP_MODELS:-$root/models/pip}"
  for m in "$ref"/tflm/*.tflite "$pip"/pymicro_wakeword/models/*.tflite; do
    if [ -f "$m" ]; then cp -f "$m" "$corpus/seed-ref-$(basename "$m")"; fi
  done
  echo "fuzz: $t for ${secs}s (corpus $(ls "$corpus" | wc -l) files)"
  # -max_len: the real models are ~60 KB; -timeout flags hangs (hostile quadratic inputs);
  # -rss_limit_mb flags huge allocations.
  cargo fuzz run "$t" "$corpus" -- \
    -max_total_time="$secs" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1
done
