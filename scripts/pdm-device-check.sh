#!/usr/bin/env bash
# Device check of the microphone decimators: the firmware in `pdm` mode (QEMU b-l475e-iot01a,
# real Cortex-M4 instructions: SMLAD/SMLADX, the CIC lookup tables) decimates a fixed PDM stream
# through the software path and the DFSDM path; its `pdm_check` lines (sample count and FNV-1a
# of the PCM) must equal the host's (`cargo run -p mote-engine --example pdm_pattern`).
# Exit 0 when equal. Called from scripts/firmware-test.sh (one `ok:` line).
# Environment: FW_TARGET_DIR (default target/firmware), QEMU_TIMEOUT (s, default 60).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# The template builds' target dir: the PAC and other dependencies are already built there.
tdir="$(realpath -m "${FW_TARGET_DIR:-$root/target/firmware}")/template"
(cd "$root/firmware-template" && MOTE_MODE=pdm CARGO_TARGET_DIR="$tdir" cargo build -q --release --locked)
elf="$tdir/thumbv7em-none-eabihf/release/mote-firmware"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
timeout "${QEMU_TIMEOUT:-60}" qemu-system-arm -M b-l475e-iot01a -nographic -monitor none \
  -serial "file:$tmp/uart.txt" -semihosting-config enable=on,target=native -kernel "$elf" >/dev/null
grep '"pdm_check"' "$tmp/uart.txt" >"$tmp/device.txt" || true
(cd "$root" && cargo run -q -p mote-engine --example pdm_pattern 4000) >"$tmp/host.txt"
if [ -s "$tmp/device.txt" ] && cmp -s "$tmp/device.txt" "$tmp/host.txt"; then
  sed 's/^/[pdm-device-check] /' "$tmp/device.txt"
  exit 0
fi
echo "[pdm-device-check] device:" >&2; cat "$tmp/uart.txt" >&2
echo "[pdm-device-check] host:" >&2; cat "$tmp/host.txt" >&2
exit 1
