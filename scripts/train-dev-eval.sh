#!/usr/bin/env bash
# Scores yes/no/up models on voices built from real speakers that neither the CI's training
# clips nor the built-in base network (scripts/make-base.sh) contain: speakers kal, ked and slt,
# through flite (kal16, slt) and festival (kal, ked, slt HTS), 3 durations each: 45 clips of 1 s.
# Also classifies TFLM's real recordings yes_1000ms.wav / no_1000ms.wav when present. A
# development set for choosing how to train (trainer/README.md's tables), not a CI test.
# Needs flite, festival (festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts) and sox.
#
# Usage: scripts/train-dev-eval.sh MODEL.tflite [MODEL.tflite ...]
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
cd "$(dirname "$0")/.."
for t in flite text2wave sox; do
  command -v "$t" >/dev/null || { echo "train-dev-eval: $t missing (see this script's header)" >&2; exit 2; }
done
mote=target/release/mote
[ -x "$mote" ] || cargo build --release -q -p mote-exporter
dev=$(mktemp -d)
trap 'rm -rf "$dev"' EXIT
# Centre each word in 1 s of silence (a clip shorter than the model's window gives no verdict).
place() {
  local d p
  d=$(soxi -D "$1")
  p=$(awk -v d="$d" 'BEGIN { p = (1 - d) / 2; print (p > 0 ? p : 0) }')
  sox "$1" -r 16000 -c 1 -b 16 "$2" pad "$p" 1 trim 0 1
  rm -f "$1"
}
for w in yes no up; do
  for d in 0.9 1.0 1.15; do
    for v in kal16 slt; do
      flite -voice $v --setf duration_stretch=$d -t "$w" -o "$dev/t.wav"
      place "$dev/t.wav" "$dev/${w}_flite-${v}_$d.wav"
    done
    for v in kal_diphone ked_diphone cmu_us_slt_arctic_hts; do
      echo "$w" | text2wave -eval "(voice_$v)" -eval "(Parameter.set 'Duration_Stretch $d)" \
        -o "$dev/t.wav" 2>/dev/null
      place "$dev/t.wav" "$dev/${w}_festival-${v%%_*}_$d.wav"
    done
  done
done
label() {
  "$mote" detect "$1" "$2" --json 2>/dev/null | grep '"t_ms"' | tail -1 |
    sed -n 's/.*"label":"\([^"]*\)".*/\1/p'
}
ref=${MOTE_REFERENCE:-../shared/reference}/tflm
for m in "$@"; do
  ok=0 n=0 wrong=""
  for f in "$dev"/*.wav; do
    w=$(basename "$f" | cut -d_ -f1)
    got=$(label "$m" "$f")
    n=$((n + 1))
    if [ "$got" = "$w" ]; then ok=$((ok + 1)); else wrong="$wrong $(basename "$f" .wav)->$got"; fi
  done
  real=""
  for w in yes no; do
    [ -f "$ref/${w}_1000ms.wav" ] && real="$real $w->$(label "$m" "$ref/${w}_1000ms.wav")"
  done
  echo "$m: dev $ok/$n; real:${real:- (no ../shared/reference)}"
  [ -z "$wrong" ] || echo "  wrong:$wrong"
done
