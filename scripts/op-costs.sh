#!/usr/bin/env bash
# Measures what the exporter's latency/energy estimate is made of, on a Cortex-M4 in QEMU
# (b-l475e-iot01a, m4count plugin, release firmware with the DSP kernels the export ships), and
# regenerates exporter/src/energy/costs.rs from the measurements:
#  1. per operator: every model below runs in bench mode with MOTE_BENCH_PER_OP=1 (markers around
#     each operator's eval) -> instructions per operator, plus one whole steady-state invoke;
#  2. per audio frame: micro_speech and okay_nabu exported with --replay run the whole pipeline
#     (front end, window, model, detector) on a WAV -> instructions per second of audio, minus
#     the invocations' share = front end + window + detector per frame;
#  3. scripts/op-costs.py fits instructions = fixed + a*MACs + b*taps + c*elements per operator
#     kind and writes the table and the measured figures the estimate is tested against
#     (stderr: each model estimated from a table fitted without it); the template's
#     mote/report.md is regenerated (it shows the estimate) and exporter/tests/energy.rs run.
# Usage: scripts/op-costs.sh [OUT_DIR]  (raw logs kept in OUT_DIR, default a temp dir)
# Environment: FW_TARGET_DIR (default target/firmware), M4COUNT_PLUGIN, QEMU_TIMEOUT (s, 300),
#   MOTE_REFERENCE (default ../shared/reference). Takes ~10 min on 2 busy cores.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
. "$root/scripts/lib/fw-env.sh"
say() { printf '[op-costs] %s\n' "$*" >&2; }
[ -f "$plugin" ] || { say "no m4count plugin at $plugin (set M4COUNT_PLUGIN)"; exit 2; }
out="${1:-$(mktemp -d)}"
mkdir -p "$out"
say "raw measurements in $out"

cargo build -q -p mote-exporter
runs=2

qemu_count() { # ELF UART_OUT PLUGIN_LOG [STDERR_OUT]
  m4_count "$1" "$2" "$3" "${QEMU_TIMEOUT:-300}" 2>"${4:-/dev/null}"
}

# ---- 1. per operator
per_op() { # NAME MODEL ARENA
  local name=$1 model=$2
  [ -f "$model" ] || { say "missing $model"; exit 1; }
  say "$name: bench with per-operator markers"
  (cd firmware-template && MOTE_MODE=bench MOTE_MODEL="$model" MOTE_ARENA_BYTES="$3" \
     MOTE_STATE_BYTES=4K MOTE_BENCH_RUNS=$runs MOTE_BENCH_PER_OP=1 MOTE_BOARD=b-l475e-iot01a \
     CARGO_TARGET_DIR="$fw_target/op-costs" cargo build -q --release)
  qemu_count "$fw_target/op-costs/thumbv7em-none-eabihf/release/mote-firmware" \
    "$out/$name.uart" "$out/$name.regions"
  "$mote" inspect --json "$model" >"$out/$name.inspect.json"
}
per_op micro_speech "$ref/tflm/micro_speech_quantized.tflite" 32K
for m in okay_nabu hey_jarvis alexa hey_mycroft; do
  per_op "$m" "$pip/$m.tflite" 32K
done
# Shapes the wake-word models lack (depth multiplier 2, 3x3 spatial kernels, wide softmax): the
# golden suite's single-operator models, fitted alongside (named op_CASE).
for c in dw_3x3_same_m2_s1 dw_3x3_valid_m2_s2_relu dw_3x3_same_m1_s1_relu conv_3x3_same_s1_relu \
         conv_1x1_s1_none fc_rank2_bias softmax_r12; do
  per_op "op_$c" "$root/engine/tests/golden/ops/$c/model.tflite" 32K
done

# ---- 2. per audio frame (the replay firmware, as scripts/firmware-test.sh builds it)
pipeline() { # NAME MODEL SIDECAR WAV
  local name=$1 dir="$out/$1-replay"
  say "$name: replay pipeline"
  rm -rf "$dir"; mkdir -p "$dir"
  "$mote" export "$2" --json-sidecar "$3" --board b-l475e-iot01a --replay "$4" -o "$dir/fw.zip"
  (cd "$dir" && unzip -q -DD fw.zip)
  local proj
  proj="$(find "$dir" -mindepth 1 -maxdepth 1 -type d)"
  (cd "$proj" && CARGO_TARGET_DIR="$fw_target/zips" cargo build -q --release --locked)
  # One region per 10 ms chunk; samples and invocations arrive on semihosting stderr.
  qemu_count "$fw_target/zips/thumbv7em-none-eabihf/release/mote-firmware" \
    "$out/$name.replay.uart" "$out/$name.replay.regions" "$out/$name.replay.stderr"
  cp "$proj/mote/config.rs" "$out/$name.config.rs"
  rm -rf "$proj" "$dir/fw.zip"
}
pipeline micro_speech "$ref/tflm/micro_speech_quantized.tflite" \
  "$ref/tflm/micro_speech_quantized.json" "$ref/tflm/yes_1000ms.wav"
pipeline okay_nabu "$pip/okay_nabu.tflite" "$pip/okay_nabu.json" \
  "$root/engine/tests/fixtures/audio/okay_nabu.wav"

# ---- 3. fit and write the table
python3 "$root/scripts/op-costs.py" "$out" "$runs" >"$root/exporter/src/energy/costs.rs"
rustfmt --edition 2021 "$root/exporter/src/energy/costs.rs"
say "wrote exporter/src/energy/costs.rs"
# The template's report.md carries the estimate: regenerate it, then check the estimate is
# within 10 % of every measured model.
MOTE_BLESS=1 cargo test -q -p mote-exporter --test export template_generated_files_are_current
cargo test -q -p mote-exporter --no-default-features --test energy -- --nocapture
