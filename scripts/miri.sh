#!/usr/bin/env bash
# The engine's unit tests that reach `unsafe` code, under Miri (undefined-behaviour checker):
# the parameter slots (`ops/stored.rs`) and the arena carving and tensor views
# (`interpreter/`: one model per kernel kind, then every arena byte read back; an operator run
# in place through one view of its input and output, and `aot.rs`'s checked views), the word
# loads of the DSP kernels (`ops/dsp/`) and of the PDM filter (`pdm/fir.rs`), with the
# emulated-DSP strategies compiled in (`MOTE_DSP_EMULATE=1`; the real inline asm only runs on
# the M4, checked in QEMU). The rest of the unit tests are safe code and would take hours here.
# Extra arguments replace the test filters (e.g. `scripts/miri.sh ops::` for more).
# Miri needs a nightly toolchain with the miri component: pinned here, installed by rustup
# (idempotent). Proptests run a handful of cases (Miri is ~1000x slower than native code).
set -euo pipefail
cd "$(dirname "$0")/.."
nightly="${MOTE_MIRI_TOOLCHAIN:-nightly-2026-10-30}"
if ! rustup run "$nightly" cargo miri --version >/dev/null 2>&1; then
  echo "[miri] rustup toolchain install $nightly (miri, rust-src)"
  rustup toolchain install "$nightly" --profile minimal -c miri -c rust-src
fi
# Isolation off: the tests read their fixture files. Leaks ignored: the op test helpers leak
# their tensors on purpose (`Box::leak` for a `'static` model view).
export MIRIFLAGS="${MIRIFLAGS:--Zmiri-disable-isolation -Zmiri-ignore-leaks}"
export PROPTEST_CASES="${PROPTEST_CASES:-2}"
# One pass with the emulated-DSP strategies compiled in: the portable kernels and every
# host-reachable unsafe block are compiled in that build too (the packed code is also built for
# plain tests), so a second, portable-only pass would run the same unsafe code again.
for emulate in 1; do
  echo "[miri] engine unit tests (MOTE_DSP_EMULATE=$emulate)"
  if [ $# -gt 0 ]; then filters=("$@"); else
    filters=(interpreter:: aot:: ops::dsp:: pdm::fir:: ops::conv_2d::tests::odd_last_channel
             ops::depthwise_conv_2d::tests::hand_computed
             frontend::fft::tests::shift_and_zero_padding frontend::fft::tests::leaves)
  fi
  MOTE_DSP_EMULATE=$emulate cargo "+$nightly" miri test -p mote-engine --lib -- "${filters[@]}"
done
