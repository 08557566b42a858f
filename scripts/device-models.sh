#!/usr/bin/env bash
# Whole models on the Cortex-M4 (QEMU b-l475e-iot01a, DSP kernels): the DS-CNN, MobileNet v1 0.25
# (also its person_detect-style copy with `quantized_dimension: 3` biases) and str-ww shaped models
# of engine/tests/fixtures/models/ run in the bench firmware with only their operators linked,
# on the 4 golden inputs back to back; every output byte must equal the TFLM goldens
# (engine/tests/golden/models/<name>/). Also: a model whose arena cannot fit the board's RAM is
# refused by firmware-template/build.rs at build time (not a HardFault at run time).
# Prints one `ok:` line per check and a table of instructions per steady-state invoke (m4count).
#
# Sourced by scripts/firmware-test.sh (uses its ok/bad helpers, $mote, $fw_target, $plugin);
# standalone: scripts/device-models.sh [NAME...] (exits non-zero if a check fails).
# Environment: FW_TARGET_DIR (default target/firmware; builds go to its models/ subdir),
#   M4COUNT_PLUGIN, MOTE_PYTHON (any python3 with json; default python3).

dm_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dm_standalone=0
if ! declare -F ok >/dev/null; then
  dm_standalone=1
  . "$dm_root/scripts/lib/fw-env.sh" && fw_standalone device-models
fi
dm_py="${MOTE_PYTHON:-python3}"
dm_tmp="$(mktemp -d)"
dm_rows=()

# TFLM figures from ../shared/reference/BASELINES.md (TFLM 90b983c, gcc 12.2.1 -O2, QEMU m4count):
# name | TFLM reference kernels | TFLM + CMSIS-NN | TFLM arena bytes
dm_baseline() {
  case "$1" in
    ds_cnn) echo "43113356 7698357 22772" ;;
    mobilenet_025|mobilenet_025_qdim3) echo "95891649 22928389 82292" ;;
    str_ww) echo "8300008 2227076 15252" ;;
  esac
}

# dm_case NAME [aot]: with `aot`, the model compiled ahead of time (`mote compile`, the
# firmware's `aot` feature) instead of interpreted; same goldens.
dm_case() {
  local name=$1 mode=${2:-interpreter}
  local model="$dm_root/engine/tests/fixtures/models/$name.tflite"
  local gold="$dm_root/engine/tests/golden/models/$name"
  if [ ! -f "$model" ] || [ ! -f "$gold/golden.json" ]; then
    bad "$name: missing $model or its goldens"; return 0
  fi
  local info ops arena state macs
  info=$("$mote" inspect --json "$model" | "$dm_py" -c 'import json,sys; d=json.load(sys.stdin); print(",".join(sorted({o["op"] for o in d["ops"]})), d["arena_bytes"], d["state_bytes"], d["macs"])')
  read -r ops arena state macs <<<"$info"
  local log="$dm_tmp/$name-$mode.log" aot_env=()
  if [ "$mode" = aot ]; then
    if ! "$mote" compile "$model" -o "$dm_tmp/$name-aot" 2>"$log"; then
      cat "$log" >&2; bad "$name: mote compile"; return 0
    fi
    aot_env=(MOTE_FEATURES=aot MOTE_AOT_DIR="$dm_tmp/$name-aot")
    name="$name (AOT)"
  fi
  # Arena with 64 bytes of slack for the start alignment (as scripts/bench.sh); state >= 4.
  if ! env "${aot_env[@]}" MOTE_BENCH_RUNS=4 MOTE_OPS="$ops" FW_TARGET_DIR="$fw_target/models" \
      M4COUNT_PLUGIN="$plugin" \
      "$dm_root/scripts/m4bench.sh" "$model" "$((arena + 64))" "$((state > 4 ? state : 4))" \
      "$gold/input0.bin" >"$log" 2>&1; then
    cat "$log" >&2; bad "$name: bench firmware failed in QEMU"; return 0
  fi
  local verdict
  if verdict=$("$dm_py" - "$gold" "$log" <<'EOF'
import json, os, sys
d, log = sys.argv[1:3]
m = json.load(open(os.path.join(d, "golden.json")))
want = open(os.path.join(d, m["outputs"][0]["file"]), "rb").read()
got, runs = bytearray(), 0
for line in open(log):
    if line.startswith("{") and '"event":"output"' in line:
        got += bytes(v & 0xFF for v in json.loads(line)["output"])
        runs += 1
print(f"{runs} invocations, {len(got)} output bytes")
sys.exit(0 if bytes(got) == want and runs == m["invocations"] else 1)
EOF
  ); then
    ok "$name on the M4 (QEMU, DSP kernels, ops $ops): $verdict == TFLM goldens"
  else
    grep '"event":"output"' "$log" >&2 || cat "$log" >&2
    bad "$name on the M4: $verdict != TFLM goldens"; return 0
  fi
  local insns stack flash ram base
  insns=$(awk -F': ' '/instructions per invoke/ { print $2 }' "$log")
  stack=$(sed -n 's/.*"stack_bytes":\([0-9]*\).*/\1/p' "$log")
  read -r flash ram <<<"$(awk '/^flash:/ { print $2, $6 }' "$log")"
  base=$(dm_baseline "${name% (AOT)}")
  [ "$mode" = aot ] && name="${name% (AOT)}-aot"
  dm_rows+=("$name $macs ${insns:-0} $base $arena ${stack:-0} $flash $ram")
}

# A model whose arena cannot fit: too_big.tflite (a 95 KB arena) with the arena it needs, on the
# L475's 96 KiB of RAM in bench mode, must stop the build with build.rs's message, before anything
# is compiled for the target (`mote export` refuses it too: exporter/tests/export.rs).
dm_too_big() {
  local model="$dm_root/engine/tests/fixtures/models/too_big.tflite"
  local log="$dm_tmp/too_big.log" arena
  arena=$("$mote" inspect --json "$model" | "$dm_py" -c 'import json,sys; print(json.load(sys.stdin)["arena_bytes"])')
  if (cd "$dm_root/firmware-template" && MOTE_MODE=bench MOTE_MODEL="$model" \
        MOTE_ARENA_BYTES="$((arena + 64))" MOTE_STATE_BYTES=4 MOTE_BOARD=b-l475e-iot01a \
        CARGO_TARGET_DIR="$fw_target/models" cargo build --release --quiet) >"$log" 2>&1; then
    bad "too_big ($arena B arena) built for the 96 KiB B-L475E-IOT01A (build.rs should refuse it)"
  elif grep -q "does not fit in RAM" "$log"; then
    ok "too_big ($arena B arena) refused at build time for the B-L475E-IOT01A: $(grep -o 'does not fit in RAM: [^;]*' "$log" | head -1)"
  else
    cat "$log" >&2
    bad "too_big: the build failed, but not with build.rs's RAM message"
  fi
}

dm_names=("$@")
if [ "$dm_standalone" -eq 0 ] || [ ${#dm_names[@]} -eq 0 ]; then
  dm_names=(ds_cnn mobilenet_025 mobilenet_025_qdim3 str_ww)
fi
# AOT: every model but the qdim3 copy (same kernels and prepare as mobilenet_025; saves a build).
for n in "${dm_names[@]}"; do
  dm_case "$n"
  [ "$n" = mobilenet_025_qdim3 ] || dm_case "$n" aot
done
dm_too_big

if [ ${#dm_rows[@]} -gt 0 ]; then
  echo
  echo "Whole models on the B-L475E-IOT01A in QEMU (bench firmware, DSP kernels, only the model's"
  echo "operators linked, opt-level 3 + LTO); instructions per steady-state invoke (m4count) vs TFLM:"
  echo "| model | MACs | Mote insns | TFLM ref | ref/Mote | TFLM+CMSIS-NN | CMSIS/Mote | Mote arena B | TFLM arena B | stack B | flash B | static RAM B |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for r in "${dm_rows[@]}"; do
    read -r n macs insns tref tcm tarena arena stack flash ram <<<"$r"
    awk -v n="$n" -v macs="$macs" -v i="$insns" -v tr="$tref" -v tc="$tcm" -v ta="$tarena" \
        -v a="$arena" -v s="$stack" -v f="$flash" -v r="$ram" 'BEGIN {
      printf "| %s | %d | %d | %d | %.2fx | %d | %.2fx | %d | %d | %d | %d | %d |\n",
             n, macs, i, tr, (i ? tr / i : 0), tc, (i ? tc / i : 0), a, ta, s, f, r }'
  done
  echo
fi
rm -rf "$dm_tmp"
if [ "$dm_standalone" -eq 1 ]; then
  echo "device-models: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
fi
