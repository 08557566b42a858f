#!/usr/bin/env bash
# Synthesises the spoken test phrases used by the front-end goldens (and later by the keyword
# detector tests) with espeak-ng, then resamples them to 16 kHz mono s16 with sox.
# Output: engine/tests/fixtures/audio/speech_<name>.wav (committed; re-running is only needed
# to add phrases). espeak-ng output can change between versions, so goldens are always
# regenerated from the committed WAVs, never from a fresh synthesis.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=engine/tests/fixtures/audio
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

phrase() { # name, text
  espeak-ng -v en-us -w "$tmp/$1.wav" "$2"
  # -R -D: repeatable, no dither, so the same espeak-ng output gives the same WAV; 0.5 s of
  # silence on each side gives streaming models context before and after the phrase.
  sox -R "$tmp/$1.wav" -D -r 16000 -c 1 -b 16 "$out/speech_$1.wav" pad 0.5 0.5
  echo "$out/speech_$1.wav: \"$2\""
}

phrase okay_nabu "okay nabu"
phrase alexa "alexa"
phrase hey_mycroft "hey mycroft"
phrase hey_jarvis "hey jarvis"
phrase weather "the weather is nice today"
