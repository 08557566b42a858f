#!/usr/bin/env bash
# The microphone interrupt's cost on a Cortex-M4, counted in QEMU (b-l475e-iot01a + m4count
# plugin): the firmware in `pdm` mode (firmware-template/src/pdmbench.rs) decimates a fixed PDM
# stream (mote_engine::pdm::test_pattern) in 2 ms blocks, each block three times between
# cost_start/cost_stop: the old bit-serial CIC3 ÷ 125 (before), the engine's software decimator
# (NUCLEO-L432KC, SPI) and the FIR ÷ 5 after the DFSDM (B-L475E-IOT01A, NUCLEO-L476RG), plus
# the old DFSDM interrupt (DC block only: the peripheral did all of a sinc3 ÷ 125, with
# −8.8 dB of droop at 7 kHz and little alias rejection) and the software path's CIC3 ÷ 25 alone.
# Prints instructions per 2 ms block (steady state: the last block), per second of audio and
# as a share of a 64 MHz (the firmware's clock) and an 80 MHz M4, and checks the 10 % budget
# (at 80 MHz) for the new paths.
# Environment: FW_TARGET_DIR (default target/firmware), M4COUNT_PLUGIN, QEMU_TIMEOUT (s, 60).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
. "$root/scripts/lib/fw-env.sh"
m4_mode_run pdm pdm-bench
cat "$tmp/uart.txt"
awk -F'insns=' '/^region/ { r[n++] = $2 } END {
  if (n < 5 || n % 5) { print "pdm-bench: expected 5 regions per block, got " n > "/dev/stderr"; exit 1 }
  split("bitloop (before, L432KC)|software CIC3+FIR (L432KC, after)|FIR after DFSDM (L475/L476, after)|DC block only after DFSDM sinc3 ÷ 125 (L475/L476, before)|of which CIC3 (L432KC)", name, "|")
  printf "| path | insns / 2 ms block | insns / s of audio | CPU @ 64 MHz | CPU @ 80 MHz |\n|---|---:|---:|---:|---:|\n"
  over = 0
  for (k = 0; k < 5; k++) {
    b = r[n - 5 + k]; s = b * 500
    printf "| %s | %d | %d | %.1f %% | %.1f %% |\n", name[k + 1], b, s, s / 640000, s / 800000
    if ((k == 1 || k == 2) && s > 8000000) over = 1
  }
  if (over) { print "pdm-bench: a decimator is over 10 % of an 80 MHz M4" > "/dev/stderr"; exit 1 }
}' "$tmp/plugin.log"
