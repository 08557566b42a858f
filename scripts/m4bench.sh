#!/usr/bin/env bash
# Instruction count of one model invocation on a Cortex-M4 (QEMU b-l475e-iot01a), plus the
# firmware's flash and RAM footprint.
#
# Usage: scripts/m4bench.sh MODEL.tflite [ARENA_BYTES] [STATE_BYTES] [INPUT.bin]
#   ARENA_BYTES / STATE_BYTES: e.g. 16384 or 16K (defaults 16K / 4K); INPUT.bin: raw bytes for
#   input tensor 0 (default: the firmware's fixed pattern, byte i = (7*i + 3) mod 256).
# Environment:
#   MOTE_OPT_LEVEL   release opt-level to build with (s, z, 2, 3; default: Cargo.toml's, 3)
#   MOTE_BENCH_RUNS  invocations (default 3; the last is the steady state)
#   MOTE_FEATURES    extra cargo features of the firmware (e.g. "semihosting")
#   MOTE_OPS         operators to link, e.g. CONV_2D,FULLY_CONNECTED (engine/build.rs; default all)
#   MOTE_NO_DSP=1    portable kernels instead of the SXTB16/SMLAD ones (engine/build.rs)
#   M4COUNT_PLUGIN   path of libregioncount.so (default: target/m4count/libregioncount.so,
#                    built by scripts/setup-qemu.sh)
#   FW_TARGET_DIR    cargo target dir for the firmware (default: firmware-template/target)
#   QEMU_TIMEOUT     seconds (default 120)
# Needs what scripts/setup-qemu.sh installs. Exits non-zero if the firmware fails.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 4 ]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi

repo=$(cd "$(dirname "$0")/.." && pwd)
fw="$repo/firmware-template"
model=$(realpath "$1")
arena=${2:-16K}
state=${3:-4K}
input=${4:-}
plugin=${M4COUNT_PLUGIN:-$repo/target/m4count/libregioncount.so}
# Absolute: cargo runs inside the firmware dir, the ELF is read from here.
target_dir=$(realpath -m "${FW_TARGET_DIR:-$fw/target}")
runs=${MOTE_BENCH_RUNS:-3}

[ -f "$model" ] || { echo "m4bench: no such model: $1" >&2; exit 2; }
command -v qemu-system-arm >/dev/null || { echo "m4bench: qemu-system-arm missing: run scripts/setup-qemu.sh" >&2; exit 2; }

# Build (bench mode). cargo must run inside the firmware dir so its .cargo/config.toml applies.
build_env=(MOTE_MODE=bench MOTE_MODEL="$model" MOTE_ARENA_BYTES="$arena" MOTE_STATE_BYTES="$state"
           MOTE_BENCH_RUNS="$runs" MOTE_BOARD=b-l475e-iot01a CARGO_TARGET_DIR="$target_dir")
if [ -n "$input" ]; then build_env+=(MOTE_INPUT="$(realpath "$input")"); fi
if [ -n "${MOTE_OPT_LEVEL:-}" ]; then build_env+=(CARGO_PROFILE_RELEASE_OPT_LEVEL="$MOTE_OPT_LEVEL"); fi
features=()
if [ -n "${MOTE_FEATURES:-}" ]; then features=(--features "$MOTE_FEATURES"); fi
(cd "$fw" && env "${build_env[@]}" cargo build --release --quiet "${features[@]}")
elf="$target_dir/thumbv7em-none-eabihf/release/mote-firmware"

. "$repo/scripts/lib/fw-env.sh"
start=$(m4_sym "$elf" cost_start)
stop=$(m4_sym "$elf" cost_stop)
if [ -z "$start" ] || [ -z "$stop" ] || [ "$start" = "$stop" ]; then
    echo "m4bench: markers cost_start/cost_stop missing or merged in $elf ($start, $stop)" >&2
    exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
qemu=(qemu-system-arm -M b-l475e-iot01a -nographic -monitor none
      -serial "file:$tmp/uart.txt" -semihosting-config enable=on,target=native)
if [ -f "$plugin" ]; then
    qemu+=(-plugin "$plugin,start=$start,stop=$stop" -d plugin -D "$tmp/plugin.log")
else
    echo "m4bench: no m4count plugin at $plugin (run scripts/setup-qemu.sh): no instruction counts" >&2
fi
status=0
timeout "${QEMU_TIMEOUT:-120}" "${qemu[@]}" -kernel "$elf" >"$tmp/semihosting.txt" || status=$?

echo "model: $model ($(stat -c %s "$model") bytes), arena $arena, state $state, opt-level ${MOTE_OPT_LEVEL:-default}, runs $runs"
cat "$tmp/uart.txt"
if ! cmp -s "$tmp/uart.txt" "$tmp/semihosting.txt"; then
    echo "m4bench: warning: semihosting output differs from USART1:" >&2
    cat "$tmp/semihosting.txt" >&2
fi
if [ -f "$tmp/plugin.log" ]; then
    grep -E '^(region|total)' "$tmp/plugin.log" || true
    last=$(awk -F'insns=' '/^region/ { n = $2 } END { print n }' "$tmp/plugin.log")
    if [ -n "$last" ]; then
        echo "instructions per invoke (steady state, last region): $last"
    else
        echo "m4bench: no region was measured" >&2
        status=${status/#0/1}
    fi
fi

arm-none-eabi-size "$elf"
# Berkeley columns: flash holds text + data (initial values), RAM holds data + bss; the stack
# takes the rest of RAM above them.
read -r text data bss _ < <(arm-none-eabi-size "$elf" | awk 'NR == 2')
echo "flash: $((text + data)) bytes; static RAM: $((data + bss)) bytes (+ stack)"

if [ "$status" -ne 0 ]; then
    echo "m4bench: firmware exited with status $status" >&2
fi
exit "$status"
