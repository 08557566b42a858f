#!/usr/bin/env bash
# The always-on cost of the audio pipeline around the model on a Cortex-M4, stage by stage,
# counted in QEMU (b-l475e-iot01a + m4count plugin): the firmware in `fe` mode
# (firmware-template/src/febench.rs) runs both front-end presets (micro_speech: 30 ms window,
# 20 ms step; microWakeWord: 30 ms window, 10 ms step) on synthetic audio with every stage
# between cost_start/cost_stop, then the feature window, the detector and one JSON line of
# logging. Prints a table: instructions per frame (steady state: the last measured frame) or
# per invocation, and per second of audio (micro_speech: 50 frames, 10 invocations per s;
# microWakeWord: 100 frames, 33.3 invocations per s).
# Usage: scripts/frontend-bench.sh [--json FILE]   (FILE: the same figures as JSON)
# Environment: FW_TARGET_DIR (default target/firmware), M4COUNT_PLUGIN, QEMU_TIMEOUT (s, 60),
#   MOTE_FE_MAX_MWW (fail if microWakeWord's front end exceeds this many instructions per frame).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
json_out=""
if [ "${1:-}" = "--json" ]; then json_out=$2; fi
. "$root/scripts/lib/fw-env.sh"
m4_mode_run fe frontend-bench
grep -q '"fe_done"' "$tmp/uart.txt" || { cat "$tmp/uart.txt" >&2; echo "frontend-bench: firmware failed" >&2; exit 1; }
python3 - "$tmp/uart.txt" "$tmp/plugin.log" "$json_out" "${MOTE_FE_MAX_MWW:-}" <<'PY'
import json, sys
uart, log, out, limit = sys.argv[1:5]
layout = next(json.loads(l) for l in open(uart) if '"fe_layout"' in l)
counts = [int(l.split('insns=')[1]) for l in open(log) if l.startswith('region')]
per_frame, per_preset, frames = layout['per_frame'], layout['per_preset'], layout['frames']
block = frames * len(per_frame) + len(per_preset)
presets = layout['presets']
if len(counts) != block * len(presets):
    sys.exit(f"frontend-bench: expected {block * len(presets)} regions, got {len(counts)}")
rate = {'micro_speech': (50, 10), 'micro_wakeword': (100, 100 / 3)}
res = {}
for k, p in enumerate(presets):
    c = counts[k * block:(k + 1) * block]
    last = c[(frames - 1) * len(per_frame):frames * len(per_frame)]
    res[p] = {**dict(zip(per_frame, last)), **dict(zip(per_preset, c[frames * len(per_frame):]))}
    # The stage regions include the marker calls; their sum is shown next to the whole
    # front end measured in one region.
    res[p]['stages_sum'] = sum(last[:8])
print("| stage | micro_speech insns | per s (50 frames, 10 inv.) | microWakeWord insns | per s (100 frames, 33.3 inv.) |")
print("|---|---:|---:|---:|---:|")
rows = per_frame[:8] + ['stages_sum', 'frontend', 'window_push'] + per_preset
for r in rows:
    unit = 1 if r in per_preset else 0
    cells = []
    for p in presets:
        v = res[p][r]
        cells += [str(v), str(round(v * rate[p][unit]))]
    label = {'energy': 'energy (per frame; computed inside the filterbank stage)',
             'stages_sum': 'sum of the stages above', 'frontend': '**front end, one region** (per frame)',
             'window_push': 'feature window push (per frame)', 'window_copy': 'feature window copy (per invocation)',
             'detector': 'detector (per invocation)', 'log_format': 'JSON line format (per invocation)',
             'log_write': 'JSON line write (per invocation)'}.get(r, r + ' (per frame)')
    print(f"| {label} | " + " | ".join(cells) + " |")
total = {p: round(res[p]['frontend'] * rate[p][0] + res[p]['window_push'] * rate[p][0]
                  + sum(res[p][x] for x in per_preset) * rate[p][1]) for p in presets}
print(f"| **all of it, per s of audio** | | {total['micro_speech']} | | {total['micro_wakeword']} |")
if out:
    json.dump({'per_stage': res, 'per_second': total}, open(out, 'w'), indent=1)
if limit and res['micro_wakeword']['frontend'] > int(limit):
    sys.exit(f"frontend-bench: microWakeWord front end {res['micro_wakeword']['frontend']} > {limit} instructions per frame")
PY
