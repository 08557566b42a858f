#!/usr/bin/env bash
# Build the firmware template with a model and run it in QEMU's STM32L475 board; it must print
# JSON lines and exit 0.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="${1:-$root/../shared/reference/tflm/hello_world_int8.tflite}"
if [ ! -f "$model" ]; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL: missing $model (reference data)" >&2; exit 1; fi
  echo "SKIP: missing $model (reference data)"; exit 0
fi
cd "$root/firmware-template"
MOTE_MODEL="$model" cargo build -q --release
elf=target/thumbv7em-none-eabihf/release/mote-firmware
out=$(timeout 120 qemu-system-arm -M b-l475e-iot01a -nographic -monitor none -serial stdio \
  -semihosting-config enable=on,target=native -kernel "$elf")
echo "$out"
grep -q '"event"' <<<"$out"
echo "firmware: ran in QEMU and exited 0"
