#!/usr/bin/env bash
# The prebuilt runtime (firmware-template in `runtime` mode) and `mote export --bin` in QEMU
# b-l475e-iot01a, the .bin loaded as a raw flash image (`-kernel fw.bin`, at the flash alias):
#  - micro_speech + yes_1000ms.wav and okay_nabu + the project's espeak-ng "okay nabu"
#    (engine/tests/fixtures/audio/okay_nabu.wav), each in a test-only replay slot: the UART's
#    JSON Lines (without the runtime's own start/replay_done lines) = `mote detect --json`;
#  - no replay slot: the start line (board, model, arena), then it waits (QEMU does not model the
#    FLASH interface's wait-state register, so the switch to 64 MHz before the microphone starts
#    never completes there: the core polls; no error, no fault);
#  - no slot, a flipped bit, a truncated file, another board's code, an arena too big for the
#    runtime, an arena smaller than the model needs: one JSON error line with its blink code, no fault.
# One runtime build (scripts/build-runtimes.sh, b-l475e-iot01a), several images.
# Sourced by scripts/firmware-test.sh (uses ok/bad/skip_or_fail, $mote, $ref, $pip, $tmp);
# standalone: bash scripts/runtime-test.sh.
rt_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rt_standalone=0
if ! declare -F ok >/dev/null; then
  rt_standalone=1
  . "$rt_root/scripts/lib/fw-env.sh" && fw_standalone runtime-test
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
fi
rt_dir="$tmp/runtime"
mkdir -p "$rt_dir"
rt_t0=$(date +%s)
export MOTE_RUNTIME_DIR="${CARGO_TARGET_DIR:-$rt_root/target}/runtimes"
RUNTIME_BOARDS=b-l475e-iot01a bash "$rt_root/scripts/build-runtimes.sh" || bad "runtime build for b-l475e-iot01a"
rt_bin="$MOTE_RUNTIME_DIR/b-l475e-iot01a.bin"

# rt_qemu IMAGE UART SECONDS: runs the image; prints QEMU's exit status (124: still running).
rt_qemu() {
  local s=0
  timeout "$3" qemu-system-arm -M b-l475e-iot01a -nographic -monitor none -serial "file:$2" \
    -semihosting-config enable=on,target=native -kernel "$1" >/dev/null 2>&1 || s=$?
  echo "$s"
}

# rt_replay NAME MODEL SIDECAR WAV
rt_replay() {
  local name=$1 model=$2 sidecar=$3 wav=$4 f
  for f in "$model" "$sidecar" "$wav"; do
    if [ ! -f "$f" ]; then skip_or_fail "runtime $name: missing $f"; return 0; fi
  done
  if ! "$mote" export --bin "$model" --json-sidecar "$sidecar" --board b-l475e-iot01a \
        --replay "$wav" -o "$rt_dir/$name.bin" 2>"$rt_dir/$name.log"; then
    cat "$rt_dir/$name.log" >&2; bad "runtime $name: mote export --bin"; return 0
  fi
  local status
  status=$(rt_qemu "$rt_dir/$name.bin" "$rt_dir/$name.uart" 120)
  "$mote" detect "$model" "$wav" --json --sidecar "$sidecar" >"$rt_dir/$name.detect"
  grep -v -E '"event":"(start|replay_done)"' "$rt_dir/$name.uart" >"$rt_dir/$name.lines" || true
  if [ "$status" = 0 ] && cmp -s "$rt_dir/$name.lines" "$rt_dir/$name.detect"; then
    ok "runtime $name: .bin in QEMU (replay slot) prints mote detect --json ($(wc -l <"$rt_dir/$name.detect") lines)"
  else
    diff "$rt_dir/$name.detect" "$rt_dir/$name.lines" | head -10 >&2 || true
    bad "runtime $name: QEMU status $status, UART differs from mote detect --json"
  fi
}

if [ -f "$rt_bin" ]; then
  rt_replay micro_speech "$ref/tflm/micro_speech_quantized.tflite" \
    "$ref/tflm/micro_speech_quantized.json" "$ref/tflm/yes_1000ms.wav"
  rt_replay okay_nabu "$pip/okay_nabu.tflite" "$pip/okay_nabu.json" \
    "$rt_root/engine/tests/fixtures/audio/okay_nabu.wav"

  # No replay slot: the start line, then it keeps running (waiting for audio).
  rt_model="$pip/okay_nabu.tflite"
  if "$mote" export --bin "$rt_model" --board b-l475e-iot01a -o "$rt_dir/plain.bin" 2>/dev/null; then
    s=$(rt_qemu "$rt_dir/plain.bin" "$rt_dir/plain.uart" 5)
    if [ "$s" = 124 ] && grep -q '^{"event":"start","runtime":true,"board":"b-l475e-iot01a","model_bytes":[0-9]*,.*"arena":[0-9]*,.*"audio":"mic"}$' "$rt_dir/plain.uart" \
        && [ "$(wc -l <"$rt_dir/plain.uart")" -eq 1 ]; then
      ok "runtime without a replay slot: start line ($(head -c 120 "$rt_dir/plain.uart")...), then waits"
    else
      cat "$rt_dir/plain.uart" >&2; bad "runtime without a replay slot (QEMU status $s)"
    fi
    # Corrupted images: python3 (standard library) edits the slot at the model slot offset.
    rt_slot=$((256 * 1024))
    python3 - "$rt_dir/plain.bin" "$rt_dir" "$rt_slot" "$rt_bin" <<'PY'
import struct, sys, zlib
src, out, slot, runtime = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
b = bytearray(open(src, "rb").read())
def save(name, data):
    open(f"{out}/{name}.bin", "wb").write(data)
flip = bytearray(b); flip[len(b) - 1000] ^= 0x10; save("flip", flip)
save("truncated", b[: len(b) - 4096])
board = bytearray(b); board[slot + 11] = 2; save("board", board)
big = bytearray(b)
# settings: arena_bytes at payload offset 16 (header 32 bytes); then re-seal the CRC
struct.pack_into("<I", big, slot + 32 + 16, 200_000)
n = struct.unpack_from("<I", big, slot + 12)[0]
struct.pack_into("<I", big, slot + 16, zlib.crc32(big[slot + 32 : slot + 32 + n]))
save("big", big)
small = bytearray(b)  # an arena smaller than the planner needs: the engine refuses the model
struct.pack_into("<I", small, slot + 32 + 16, 64)
struct.pack_into("<I", small, slot + 16, zlib.crc32(small[slot + 32 : slot + 32 + n]))
save("small", small)
save("empty", open(runtime, "rb").read())
PY
    # case FILE CODE MESSAGE-PATTERN
    for c in "empty 1 empty model slot" "flip 2 slot CRC mismatch" "truncated 2 slot CRC mismatch" \
             "board 3 slot made for nucleo-l476rg" "big 5 the model needs 200000 B of arena" \
             "small 4 "; do
      read -r name code msg <<<"$c"
      s=$(rt_qemu "$rt_dir/$name.bin" "$rt_dir/$name.uart" 5)
      if [ "$s" = 124 ] && grep -q "^{\"event\":\"error\",\"code\":$code,\"message\":\"$msg" "$rt_dir/$name.uart" \
          && [ "$(grep -c '"event":"error"' "$rt_dir/$name.uart")" -eq 1 ] && ! grep -q "fault" "$rt_dir/$name.uart"; then
        ok "runtime, $name slot: $(grep '"event":"error"' "$rt_dir/$name.uart" | head -c 110)..., blink code $code, no fault"
      else
        cat "$rt_dir/$name.uart" >&2; bad "runtime, $name slot: expected one error line with code $code (QEMU status $s)"
      fi
    done
  else
    bad "runtime: mote export --bin without --replay"
  fi
fi
# The web serial panel's parser test reads real log lines: MOTE_RECORD_BOARD_LOG=FILE writes
# them (web/tests/fixtures/board-log.jsonl is made this way).
if [ -n "${MOTE_RECORD_BOARD_LOG:-}" ]; then
  cat "$rt_dir/plain.uart" "$rt_dir/micro_speech.uart" "$rt_dir/okay_nabu.uart" "$rt_dir/flip.uart" \
    "$rt_dir/big.uart" >"$MOTE_RECORD_BOARD_LOG"
fi
echo "[runtime-test] runtime checks took $(($(date +%s) - rt_t0)) s"
if [ "$rt_standalone" = 1 ]; then
  echo "runtime: $passed passed, $failed failed"
  [ "$failed" -eq 0 ]
fi
