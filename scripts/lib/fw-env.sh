# Sourced by the firmware scripts (firmware-test.sh, op-costs.sh, frontend-bench.sh, pdm-bench.sh,
# replay-cost.sh, m4bench.sh, and device-models.sh / runtime-test.sh when they run on their own);
# not run by itself.
# $root: the repository (found from this file when unset). Sets the paths those scripts take
# from the environment:
#   ref          MOTE_REFERENCE    third-party reference data (default ../shared/reference)
#   pip          MOTE_PIP_MODELS   pymicro_wakeword's models (default models/pip)
#   fw_target    FW_TARGET_DIR     cargo target dir of firmware builds (default target/firmware)
#   plugin       M4COUNT_PLUGIN    QEMU's instruction-count plugin (scripts/setup-qemu.sh)
#   host_target  CARGO_TARGET_DIR  host builds (default target); mote: the exporter binary there
root="${root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
ref="${MOTE_REFERENCE:-$root/../shared/reference}"
pip="${MOTE_PIP_MODELS:-$root/models/pip}/pymicro_wakeword/models"
fw_target="$(realpath -m "${FW_TARGET_DIR:-$root/target/firmware}")"
plugin="${M4COUNT_PLUGIN:-$root/target/m4count/libregioncount.so}"
host_target="${CARGO_TARGET_DIR:-$root/target}"
mote="$host_target/debug/mote"

# fw_standalone NAME: for a script firmware-test.sh otherwise sources (and gives its own
# helpers), run on its own: strict mode, the ok / bad / skip_or_fail helpers (counting into
# $passed / $failed, lines tagged [NAME]), and the exporter ($mote) built.
fw_standalone() {
  set -euo pipefail
  check_tag=$1
  passed=0
  failed=0
  ok() { passed=$((passed + 1)); printf '[%s] ok: %s\n' "$check_tag" "$*"; }
  bad() { failed=$((failed + 1)); printf '[%s] FAILED: %s\n' "$check_tag" "$*" >&2; }
  skip_or_fail() {
    if [ "${CI:-}" = "true" ]; then bad "$1"; else printf '[%s] SKIP: %s\n' "$check_tag" "$1"; fi
  }
  (cd "$root" && cargo build -q -p mote-exporter)
}

# m4_sym ELF NAME: the address of symbol NAME in ELF (0x...).
m4_sym() { arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s { print "0x" $1 }'; }

# m4_count ELF UART PLUGIN_LOG SECONDS: runs ELF in QEMU b-l475e-iot01a (USART1 to the file
# UART, semihosting on, its stdout dropped) with $plugin counting the instructions between
# cost_start and cost_stop into PLUGIN_LOG. (Redirect its stderr at the call, not through a
# /dev/stderr path: opening that truncates a caller's log file.)
m4_count() {
  timeout "$4" qemu-system-arm -M b-l475e-iot01a -nographic -monitor none \
    -serial "file:$2" -semihosting-config enable=on,target=native \
    -plugin "$plugin,start=$(m4_sym "$1" cost_start),stop=$(m4_sym "$1" cost_stop)" \
    -d plugin -D "$3" -kernel "$1" >/dev/null
}

# m4_mode_run MODE TAG: builds the template in MOTE_MODE=MODE (its default model) under
# $fw_target/template (where the PAC and the other dependencies are already built) and runs it
# once with m4_count (QEMU_TIMEOUT, default 60 s): the UART lines in $tmp/uart.txt, the counted
# regions in $tmp/plugin.log ($tmp: a new temp dir, removed on exit). Exits 2 without the plugin.
m4_mode_run() {
  [ -f "$plugin" ] || { echo "$2: no m4count plugin at $plugin (scripts/setup-qemu.sh)" >&2; exit 2; }
  local tdir="$fw_target/template"
  (cd "$root/firmware-template" && MOTE_MODE=$1 CARGO_TARGET_DIR="$tdir" cargo build -q --release --locked)
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  m4_count "$tdir/thumbv7em-none-eabihf/release/mote-firmware" "$tmp/uart.txt" "$tmp/plugin.log" \
    "${QEMU_TIMEOUT:-60}"
}
