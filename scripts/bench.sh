#!/usr/bin/env bash
# Benchmarks Mote against TensorFlow Lite Micro on the reference models (micro_speech, okay_nabu,
# hey_jarvis, and the DS-CNN / MobileNet 0.25 / str-ww shaped ones) and prints one table:
#   - host: `mote bench` vs the tflite-micro Python interpreter (median us per invoke),
#   - Cortex-M4 (QEMU b-l475e-iot01a, exact instruction counts via scripts/m4bench.sh) vs the
#     TFLM reference-kernel and CMSIS-NN counts measured the same way (BASELINES below),
#   - the firmware's flash and static RAM, and the arena/state each model needs;
# and first checks, in QEMU, that the firmware reproduces the golden outputs of every real
# model byte for byte (engine/tests/golden/{real,models}/*: TFLM's outputs over all invocations);
# --verify-ops adds the CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED op goldens (one
# firmware build each: slow), which exercise the DSP kernels' padding/stride/dilation cases.
#
# Usage: scripts/bench.sh [--quick] [--no-host] [--no-m4] [--no-verify] [--verify-only]
#                         [--verify-ops] [--json FILE]
# Environment:
#   MOTE_PYTHON       python with tflite-micro + numpy (default /work/venv-oracle/bin/python,
#                     else python3)
#   MOTE_REFERENCE    reference data dir (default ../shared/reference)
#   MOTE_PIP_MODELS   pip models dir (default models/pip, filled by scripts/fetch-models.sh)
#   MOTE_OPT_LEVEL    firmware opt-level override (default: firmware-template's profile)
#   MOTE_ALL_OPS=1    link every operator into the firmware (default: only the model's, as
#                     MOTE_OPS; TFLM's figures below also register only what the model needs)
#   plus everything scripts/m4bench.sh reads (M4COUNT_PLUGIN, FW_TARGET_DIR, ...).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
quick=0 host=1 m4=1 verify=1 verify_only=0 verify_ops=0 json_out=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --no-host) host=0 ;;
        --no-m4) m4=0 ;;
        --no-verify) verify=0 ;;
        --verify-only) verify_only=1 ;;
        --verify-ops) verify_ops=1 ;;
        --json) json_out=$2; shift ;;
        -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

ref=${MOTE_REFERENCE:-$repo/../shared/reference}
pip=${MOTE_PIP_MODELS:-$repo/models/pip}
py=${MOTE_PYTHON:-/work/venv-oracle/bin/python}
[ -x "$py" ] || py=python3
invocations=2000
[ "$quick" -eq 1 ] && invocations=200

# name | model | arena | state | TFLM reference instructions | TFLM + CMSIS-NN instructions
# (the last two from ../shared/reference/BASELINES.md: TFLM 90b983c, gcc 12.2.1 -O2, QEMU m4count)
models=(
    "micro_speech|$ref/tflm/micro_speech_quantized.tflite|8192|0|9314481|1495374"
    "okay_nabu|$pip/pymicro_wakeword/models/okay_nabu.tflite|16384|4096|491120|260771"
    "hey_jarvis|$pip/pymicro_wakeword/models/hey_jarvis.tflite|16384|4096|323503|161575"
    # Same shapes as MLPerf Tiny's DS-CNN / str-ww and TFLM's person_detect, built by
    # scripts/oracle/gen_kws_models.py; the TFLM figures are of the real models.
    "ds_cnn|$repo/engine/tests/fixtures/models/ds_cnn.tflite|22272|4|43113356|7698357"
    "mobilenet_025|$repo/engine/tests/fixtures/models/mobilenet_025.tflite|81280|4|95891649|22928389"
    "str_ww|$repo/engine/tests/fixtures/models/str_ww.tflite|10400|4|8300008|2227076"
)

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target}
echo "[bench] building the mote CLI (release)" >&2
(cd "$repo" && cargo build --release --quiet -p mote-exporter)
mote="$CARGO_TARGET_DIR/release/mote"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Operators of a model, comma-separated (for MOTE_OPS).
ops_of() { "$mote" inspect --json "$1" | "$py" -c 'import json,sys; print(",".join(sorted({o["op"] for o in json.load(sys.stdin)["ops"]})))'; }

m4run() { # model arena state [input] -> m4bench output
    local ops=""
    [ "${MOTE_ALL_OPS:-0}" = 1 ] || ops=$(ops_of "$1")
    if [ -n "$ops" ]; then
        MOTE_OPS="$ops" "$repo/scripts/m4bench.sh" "$@"
    else
        env -u MOTE_OPS "$repo/scripts/m4bench.sh" "$@"
    fi
}

# 1. Bit-exactness on the device: every real golden through the firmware in QEMU.
if [ "$m4" -eq 1 ] && [ "$verify" -eq 1 ]; then
    dirs=("$repo"/engine/tests/golden/real/*/ "$repo"/engine/tests/golden/models/*/)
    if [ "$verify_ops" -eq 1 ]; then
        for d in "$repo"/engine/tests/golden/ops/*/; do
            case "$(basename "$d")" in conv_*|dw_*|fc_*) dirs+=("$d") ;; esac
        done
    fi
    for dir in "${dirs[@]}"; do
        name=$(basename "$dir")
        read -r model n <<<"$("$py" - "$dir" "$ref" "$pip" <<'EOF'
import json, os, sys
d, ref, pip = sys.argv[1:4]
m = json.load(open(os.path.join(d, "golden.json")))
r = m["model"]
p = os.path.join(ref, r[7:]) if r.startswith("shared:") else os.path.join(pip, r[4:]) if r.startswith("pip:") else os.path.join(d, r)
print(p, m["invocations"])
EOF
)"
        if [ ! -f "$model" ]; then echo "[verify] $name: SKIP (no $model)" >&2; continue; fi
        read -r arena state <<<"$("$mote" inspect --json "$model" | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["arena_bytes"]+64, max(d["state_bytes"],4))')"
        MOTE_BENCH_RUNS=$n m4run "$model" "$arena" "$state" "$dir/input0.bin" >"$tmp/verify.txt" 2>&1 || true
        if "$py" - "$dir" "$tmp/verify.txt" <<'EOF'
import json, os, sys
d, log = sys.argv[1:3]
m = json.load(open(os.path.join(d, "golden.json")))
o = m["outputs"][0]
want = open(os.path.join(d, o["file"]), "rb").read()
got = bytearray()
runs = 0
for line in open(log):
    if line.startswith("{") and '"event":"output"' in line:
        e = json.loads(line)
        got += bytes((v & 0xFF) for v in e["output"])
        runs += 1
ok = bytes(got) == want and runs == m["invocations"]
print(f"[verify] {os.path.basename(d.rstrip('/'))}: {runs} invocations, {len(got)} output bytes on the M4 "
      + ("== TFLM goldens" if ok else f"!= TFLM goldens (expected {len(want)} bytes)"), file=sys.stderr)
sys.exit(0 if ok else 1)
EOF
        then :; else cat "$tmp/verify.txt" >&2; echo "[verify] FAILED: $name" >&2; exit 1; fi
    done
fi

[ "$verify_only" -eq 1 ] && exit 0

# 2. Measurements.
rows=()
for entry in "${models[@]}"; do
    IFS='|' read -r name model arena state tflm_ref tflm_cmsis <<<"$entry"
    if [ ! -f "$model" ]; then echo "[bench] $name: SKIP (no $model)" >&2; continue; fi
    mote_us="" tflm_us="" insns="" flash="" ram="" need_arena="" need_state=""
    read -r need_arena need_state <<<"$("$mote" inspect --json "$model" | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["arena_bytes"], d["state_bytes"])')"
    if [ "$host" -eq 1 ]; then
        echo "[bench] $name: host" >&2
        mote_us=$("$mote" bench "$model" --invocations "$invocations" --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["median_us"])')
        tflm_us=$("$py" "$repo/scripts/bench_tflm.py" "$model" --invocations "$invocations" --json | "$py" -c 'import json,sys; print(json.load(sys.stdin)["median_us"])')
    fi
    if [ "$m4" -eq 1 ]; then
        echo "[bench] $name: Cortex-M4 (QEMU)" >&2
        m4run "$model" "$arena" "$state" >"$tmp/m4.txt" 2>&1 || { cat "$tmp/m4.txt" >&2; exit 1; }
        insns=$(awk -F': ' '/instructions per invoke/ {print $2}' "$tmp/m4.txt")
        read -r flash ram <<<"$(awk '/^flash:/ {print $2, $6}' "$tmp/m4.txt")"
    fi
    rows+=("$name|$mote_us|$tflm_us|$insns|$tflm_ref|$tflm_cmsis|$flash|$ram|$need_arena|$need_state|$(stat -c %s "$model")")
done

"$py" - "$json_out" "${rows[@]}" <<'EOF'
import json, sys
out, rows = sys.argv[1], sys.argv[2:]
f = lambda v: float(v) if v else None
res = []
for r in rows:
    name, mus, tus, ins, tref, tcm, flash, ram, arena, state, mbytes = r.split("|")
    res.append(dict(model=name, host_mote_us=f(mus), host_tflm_us=f(tus), m4_instructions=int(ins) if ins else None,
                    tflm_ref_instructions=int(tref), tflm_cmsis_instructions=int(tcm),
                    flash_bytes=int(flash) if flash else None, static_ram_bytes=int(ram) if ram else None,
                    arena_bytes=int(arena), state_bytes=int(state), model_bytes=int(mbytes)))
def x(a, b):
    return f"{a / b:.2f}x" if a and b else "-"
print()
print("| model | host Mote us | host TFLM-Py us | TFLM/Mote | M4 Mote insns | TFLM ref | ref/Mote | CMSIS-NN | CMSIS/Mote | flash B (model) | static RAM B | arena B | state B |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in res:
    m, t, i = r["host_mote_us"], r["host_tflm_us"], r["m4_instructions"]
    print(f"| {r['model']} | {'-' if m is None else f'{m:.1f}'} | {'-' if t is None else f'{t:.1f}'} | {x(t, m)} "
          f"| {i or '-'} | {r['tflm_ref_instructions']} | {x(r['tflm_ref_instructions'], i)} "
          f"| {r['tflm_cmsis_instructions']} | {x(r['tflm_cmsis_instructions'], i)} "
          f"| {r['flash_bytes'] or '-'} ({r['model_bytes']}) | {r['static_ram_bytes'] or '-'} | {r['arena_bytes']} | {r['state_bytes']} |")
print()
print("Host: median of the timed invocations on this machine (tflite-micro's Python interpreter runs")
print("TFLM's reference kernels in C++). M4: instructions per steady-state invoke in QEMU (m4count);")
print("TFLM columns from BASELINES.md. Flash = firmware text + data incl. the model; static RAM = data +")
print("bss (the firmware's arena and state buffers), stack not included.")
if out:
    json.dump(res, open(out, "w"), indent=1)
EOF
