#!/usr/bin/env bash
# Builds the prebuilt runtime firmware (firmware-template in `runtime` mode: interpreter, every
# operator, microphone; model read from the flash slot) for each board, as raw images:
#   $CARGO_TARGET_DIR/runtimes/<board>.bin   (default target/runtimes/)
# `mote export --bin` and the playground's ".bin" download put a model slot after them
# (scripts/serve.sh copies them into the page's static files). Built from source, never
# downloaded. Needs the thumbv7em-none-eabihf target, flip-link and arm-none-eabi-objcopy
# (scripts/setup.sh). Boards: RUNTIME_BOARDS="b-l475e-iot01a nucleo-l476rg nucleo-l432kc".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
host_target="${CARGO_TARGET_DIR:-$root/target}"
out="${MOTE_RUNTIME_DIR:-$host_target/runtimes}"
# The template's target dir: scripts/firmware-test.sh builds the template for each board there
# with the same features and profile first, so a runtime build only recompiles the firmware crate.
fw_target="${FW_TARGET_DIR:-$host_target/firmware}/template"
mkdir -p "$out"
if ! command -v flip-link >/dev/null; then cargo install -q flip-link --locked; fi
for board in ${RUNTIME_BOARDS:-b-l475e-iot01a nucleo-l476rg nucleo-l432kc}; do
  # NUCLEO-L432KC (256 KB flash): the engine for size, as `mote export` builds it there
  # (Board::optimize_size), so the runtime leaves room for the model slot.
  engine_opt=3
  [ "$board" = nucleo-l432kc ] && engine_opt=\"z\"
  (cd firmware-template && MOTE_MODE=runtime CARGO_TARGET_DIR="$fw_target" \
    cargo build -q --release --locked --config "profile.release.package.mote-engine.opt-level=$engine_opt" --no-default-features --features "board-$board")
  elf="$fw_target/thumbv7em-none-eabihf/release/mote-firmware"
  arm-none-eabi-objcopy -O binary "$elf" "$out/$board.bin.tmp"
  mv "$out/$board.bin.tmp" "$out/$board.bin"
  read -r text data bss _ < <(arm-none-eabi-size "$elf" | awk 'NR == 2')
  echo "runtime $board: $(stat -c %s "$out/$board.bin") B image (flash $((text + data)) B, static RAM $((data + bss)) B) -> $out/$board.bin"
done
