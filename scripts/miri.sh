#!/usr/bin/env bash
# The engine's unit tests under Miri (undefined-behaviour checker): every `unsafe` block in the
# engine runs here — the parameter slots (`ops/stored.rs`), the arena carving and tensor views
# (`interpreter.rs`), and the DSP kernels' packed code on emulated SXTB16/SMLAD
# (`MOTE_DSP_EMULATE=1`; the real inline asm only runs on the M4, checked in QEMU).
# Miri needs a nightly toolchain with the miri component: pinned here, installed by rustup
# (idempotent). Proptests run a handful of cases (Miri is ~1000x slower than native code).
set -euo pipefail
cd "$(dirname "$0")/.."
nightly="${MOTE_MIRI_TOOLCHAIN:-nightly-2026-10-30}"
if ! rustup run "$nightly" cargo miri --version >/dev/null 2>&1; then
  echo "[miri] rustup toolchain install $nightly (miri, rust-src)"
  rustup toolchain install "$nightly" --profile minimal -c miri -c rust-src
fi
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation}"
export PROPTEST_CASES="${PROPTEST_CASES:-2}"
for emulate in 0 1; do
  echo "[miri] engine unit tests (MOTE_DSP_EMULATE=$emulate)"
  MOTE_DSP_EMULATE=$emulate cargo "+$nightly" miri test -p mote-engine --lib "$@"
done
