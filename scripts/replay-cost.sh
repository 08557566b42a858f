#!/usr/bin/env bash
# Always-on cost of an exported firmware, whole run: `mote export --replay` of okay_nabu on an
# ~11 s clip (the project's "okay nabu" WAV five times with 0.2 s of silence between, made
# here with Python's wave module) and of micro_speech on a 12 s clip (TFLM's yes/no/silence/noise WAVs three
# times), built and run in QEMU (b-l475e-iot01a) with the m4count plugin. Checks the firmware's
# JSON Lines equal `mote detect --json` on the same clip, byte for byte, and prints
# instructions per second of audio over the whole run (start-up included, as issue 16
# measures it), the start-up alone (reset to the first pipeline push, a second QEMU run) and
# the steady state (whole run minus start-up, per second of audio).
# Usage: scripts/replay-cost.sh [--max-nabu N]   (fail if okay_nabu's whole run is above N
#   instructions per second of audio)
# Environment: FW_TARGET_DIR (default target/firmware), M4COUNT_PLUGIN, QEMU_TIMEOUT (s, 300),
#   MOTE_REFERENCE (default ../shared/reference), MOTE_PIP_MODELS, KEEP=1 (keep the temp dir),
#   REPLAY_ONLY=okay_nabu|micro_speech.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
max_nabu=""
if [ "${1:-}" = "--max-nabu" ]; then max_nabu=$2; fi
. "$root/scripts/lib/fw-env.sh"
say() { printf '[replay-cost] %s\n' "$*" >&2; }
[ -f "$plugin" ] || { say "no m4count plugin at $plugin (scripts/setup-qemu.sh)"; exit 2; }
# concat OUT GAP_S WAV...: 16 kHz mono int16 WAVs back to back, GAP_S seconds of silence between.
concat() {
  python3 - "$@" <<'PY'
import sys, wave
out, gap, ins = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
frames = []
for i, p in enumerate(ins):
    with wave.open(p) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2), p
        frames.append(w.readframes(w.getnframes()))
    if i + 1 < len(ins):
        frames.append(b"\0\0" * int(gap * 16000))
with wave.open(out, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    w.writeframes(b"".join(frames))
PY
}
tmp="$(mktemp -d)"
if [ "${KEEP:-}" = "1" ]; then say "keeping $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
cargo build -q -p mote-exporter
status=0
rows=()

# case NAME MODEL SIDECAR WAV
run_case() {
  local name=$1 model=$2 sidecar=$3 wav=$4 dir="$tmp/$1"
  mkdir -p "$dir"
  "$mote" export "$model" --json-sidecar "$sidecar" --board b-l475e-iot01a --replay "$wav" -o "$dir/fw.zip" 2>"$dir/export.log" ||
    { cat "$dir/export.log" >&2; say "FAILED: $name export"; status=1; return 0; }
  (cd "$dir" && unzip -q -DD fw.zip)
  local proj tdir="$fw_target/zips"
  proj="$(find "$dir" -mindepth 1 -maxdepth 1 -type d)"
  (cd "$proj" && CARGO_TARGET_DIR="$tdir" cargo build -q --release --locked) ||
    { say "FAILED: $name build"; status=1; return 0; }
  local elf="$tdir/thumbv7em-none-eabihf/release/mote-firmware"
  local q=(qemu-system-arm -M b-l475e-iot01a -nographic -monitor none -semihosting-config enable=on,target=native)
  timeout "${QEMU_TIMEOUT:-300}" "${q[@]}" -serial "file:$dir/uart.txt" \
    -plugin "$plugin,start=$(m4_sym "$elf" cost_start),stop=$(m4_sym "$elf" cost_stop)" -d plugin -D "$dir/run.log" \
    -kernel "$elf" >"$dir/semihosting.txt" 2>"$dir/stderr.txt" || { say "FAILED: $name firmware"; status=1; return 0; }
  # Start-up: from the reset handler to the first push.
  timeout "${QEMU_TIMEOUT:-300}" "${q[@]}" -serial null \
    -plugin "$plugin,start=$(m4_sym "$elf" Reset),stop=$(m4_sym "$elf" cost_start)" -d plugin -D "$dir/startup.log" \
    -kernel "$elf" >/dev/null 2>&1 || true
  "$mote" detect "$model" "$wav" --json --sidecar "$sidecar" >"$dir/detect.txt"
  if cmp -s "$dir/detect.txt" "$dir/uart.txt" && cmp -s "$dir/detect.txt" "$dir/semihosting.txt"; then
    say "ok: $name: QEMU's JSON Lines = mote detect --json ($(wc -l <"$dir/detect.txt") lines)"
  else
    diff "$dir/detect.txt" "$dir/uart.txt" | head -10 >&2 || true
    say "FAILED: $name: firmware output differs from mote detect --json"; status=1
  fi
  local samples total startup pushes
  samples=$(sed -n 's/.*"samples":\([0-9]*\).*/\1/p' "$dir/stderr.txt")
  total=$(awk -F'insns=' '/^total/ { print $2 }' "$dir/run.log")
  pushes=$(awk -F'insns=' '/^region/ { s += $2 } END { print s + 0 }' "$dir/run.log")
  startup=$(awk -F'insns=' '/^region 0:/ { print $2 }' "$dir/startup.log")
  local secs per_s steady
  secs=$(python3 -c "print(f'{$samples / 16000:.2f}')")
  per_s=$((total * 16000 / samples))
  steady=$(((total - startup) * 16000 / samples))
  rows+=("| $name | $secs | $total | $startup | $per_s | $steady | $((pushes * 16000 / samples)) |")
  if [ "$name" = okay_nabu ] && [ -n "$max_nabu" ] && [ "$per_s" -gt "$max_nabu" ]; then
    say "FAILED: okay_nabu: $per_s instructions per second of audio > $max_nabu"; status=1
  fi
}

if [ "${REPLAY_ONLY:-okay_nabu}" = okay_nabu ] || [ -z "${REPLAY_ONLY:-}" ]; then
  nabu="$root/engine/tests/fixtures/audio/okay_nabu.wav"
  if [ -f "$pip/okay_nabu.tflite" ]; then
    concat "$tmp/nabu_long.wav" 0.2 "$nabu" "$nabu" "$nabu" "$nabu" "$nabu"
    run_case okay_nabu "$pip/okay_nabu.tflite" "$pip/okay_nabu.json" "$tmp/nabu_long.wav"
  else
    say "FAILED: no $pip/okay_nabu.tflite (scripts/fetch-models.sh)"; status=1
  fi
fi
if [ "${REPLAY_ONLY:-micro_speech}" = micro_speech ] || [ -z "${REPLAY_ONLY:-}" ]; then
  t="$ref/tflm"
  if [ -f "$t/micro_speech_quantized.tflite" ]; then
    w=("$t/yes_1000ms.wav" "$t/no_1000ms.wav" "$t/silence_1000ms.wav" "$t/noise_1000ms.wav")
    concat "$tmp/speech_long.wav" 0 "${w[@]}" "${w[@]}" "${w[@]}"
    run_case micro_speech "$t/micro_speech_quantized.tflite" "$t/micro_speech_quantized.json" "$tmp/speech_long.wav"
  elif [ "${CI:-}" = true ]; then
    say "FAILED: reference data missing ($t)"; status=1
  else
    say "SKIP: micro_speech: reference data missing ($t)"
  fi
fi
echo "| model | audio s | instructions, whole run | start-up | per s of audio, whole run | per s, steady (whole − start-up) | per s, inside push() |"
echo "|---|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit "$status"
