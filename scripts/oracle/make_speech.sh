#!/usr/bin/env bash
# Regenerate the espeak-ng wake-word recordings used by the golden suite and the front-end tests:
# engine/tests/fixtures/audio/<phrase>.wav, 16 kHz mono s16, 0.5 s of silence on both sides.
# Needs espeak-ng and sox (Debian: apt-get install espeak-ng sox). Deterministic: sox runs in
# repeatable mode without dither (-R -D), so the same tool versions give the same bytes.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/engine/tests/fixtures/audio"
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for phrase in "okay nabu" "hey jarvis" "alexa" "hey mycroft"; do
  name="${phrase// /_}"
  espeak-ng -v en-us -w "$tmp/$name.wav" "$phrase"
  sox -R -D "$tmp/$name.wav" -r 16000 -c 1 -b 16 -e signed-integer "$out/$name.wav" pad 0.5 0.5
  echo "$out/$name.wav: $(soxi -D "$out/$name.wav") s"
done
