#!/usr/bin/env python3
"""Fits the per-operator instruction model from scripts/op-costs.sh's raw logs; prints
exporter/src/energy/costs.rs. Plain Python 3 (no numpy).

Usage: op-costs.py OUT_DIR RUNS

Per model NAME in OUT_DIR: NAME.inspect.json (`mote inspect --json`), NAME.uart (bench firmware:
one {"event":"op"} line per per-operator region), NAME.regions (plugin log: RUNS whole invokes,
then one region per evaluated operator). Optional NAME.replay.regions / .replay.stderr /
.config.rs: the replay firmware's pipeline (one region per 10 ms chunk).

Model per operator kind: insns = fixed + per_mac*MACs + per_tap*taps + per_elem*elements, where
taps = output elements x filter height x width (CONV_2D only: the DSP kernel's per-patch-row
work) and elements = output elements (input elements when an operator has no output, e.g.
ASSIGN_VARIABLE). Least squares; a feature whose coefficient comes out negative is dropped and
the fit repeated, so every term is a cost.
"""
import json
import re
import sys

LINEAR = {"CONV_2D": ["macs", "taps", "elems"], "DEPTHWISE_CONV_2D": ["macs", "elems"],
          "DEPTHWISE_CONV_2D/multiplier": ["macs", "elems"], "FULLY_CONNECTED": ["macs", "elems"]}
SKIPPED = {"RESHAPE", "VAR_HANDLE", "CALL_ONCE", "SQUEEZE", "EXPAND_DIMS"}


def regions(path):
    out = []
    with open(path) as f:
        for line in f:
            m = re.match(r"region \d+: insns=(\d+)", line)
            if m:
                out.append(int(m.group(1)))
    return out


def elems(shape):
    n = 1
    for d in shape:
        n *= max(d, 0)
    return n


def features(op, tensors):
    t = {(x["subgraph"], x["index"]): x for x in tensors}
    outs = [t[(op["subgraph"], i)] for i in op["outputs"] if (op["subgraph"], i) in t]
    ins = [t[(op["subgraph"], i)] for i in op["inputs"] if i >= 0 and (op["subgraph"], i) in t]
    e = sum(elems(x["shape"]) for x in outs)
    if e == 0:
        e = sum(elems(x["shape"]) for x in ins if x["kind"] != "constant")
    taps = 0
    if op["op"] == "CONV_2D" and len(ins) > 1 and len(ins[1]["shape"]) == 4:
        f = ins[1]["shape"]
        taps = e * f[1] * f[2]
    kind = op["op"]
    if kind == "DEPTHWISE_CONV_2D" and len(ins) > 1 and ins[0]["shape"] and outs:
        # Depth multiplier > 1 (micro_speech: one input channel, 8 out) takes another loop shape.
        if outs[0]["shape"][-1] != ins[0]["shape"][-1]:
            kind = "DEPTHWISE_CONV_2D/multiplier"
    return {"kind": kind, "macs": op["macs"], "taps": taps, "elems": e}


def solve(rows, ys):
    """Least squares by normal equations (columns scaled to unit max), Gauss-Jordan."""
    k = len(rows[0])
    scale = [max(abs(r[j]) for r in rows) or 1.0 for j in range(k)]
    a = [[sum(r[i] / scale[i] * r[j] / scale[j] for r in rows) + (1e-9 if i == j else 0.0)
          for j in range(k)] + [sum(r[i] / scale[i] * y for r, y in zip(rows, ys))]
         for i in range(k)]
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(a[r][c]))
        a[c], a[p] = a[p], a[c]
        if abs(a[c][c]) < 1e-12:
            return None
        for r in range(k):
            if r != c:
                f = a[r][c] / a[c][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
    return [a[i][k] / a[i][i] / scale[i] for i in range(k)]


def fit(samples, names):
    names = list(names)
    while True:
        cols = ["fixed"] + names
        rows = [[1.0] + [s[n] for n in names] for s in samples]
        ys = [s["insns"] for s in samples]
        if len(samples) == 1:
            # One shape measured: its cost per MAC (or per element), no fixed part.
            n = names[0] if names else "elems"
            return {"fixed": 0.0, n: samples[0]["insns"] / max(samples[0][n], 1)}
        if len(samples) < len(cols):
            names = names[:len(samples) - 1]
            continue
        coef = solve(rows, ys)
        if coef is None:
            names = names[:-1]
            continue
        neg = [n for n, c in zip(cols, coef) if c < 0 and n != "fixed"]
        if neg:
            names.remove(neg[0])
            continue
        if coef[0] < 0:
            # Through the origin instead.
            rows = [[s[n] for n in names] for s in samples]
            coef = [0.0] + (solve(rows, ys) if names else [])
        return dict(zip(cols, coef))


def predict(c, s):
    return c.get("fixed", 0) + sum(c.get(n, 0) * s[n] for n in ["macs", "taps", "elems"])


def main():
    out, runs = sys.argv[1], int(sys.argv[2])
    import glob
    import os
    names = sorted(os.path.basename(p)[:-len(".inspect.json")]
                   for p in glob.glob(f"{out}/*.inspect.json"))
    samples, measured, overhead = {}, [], []
    for name in names:
        rep = json.load(open(f"{out}/{name}.inspect.json"))
        regs = regions(f"{out}/{name}.regions")
        events = [json.loads(l) for l in open(f"{out}/{name}.uart") if '"event":"op"' in l]
        whole = regs[runs - 1]
        per_op = regs[runs:]
        assert len(per_op) == len(events), (name, len(per_op), len(events))
        ops = {(o["subgraph"], o["index"]): o for o in rep["ops"]}
        for e, n in zip(events, per_op):
            op = ops[(e["subgraph"], e["op"])]
            s = features(op, rep["tensors"])
            s["insns"] = n
            s["model"] = name
            samples.setdefault(s["kind"], []).append(s)
        if not name.startswith("op_"):
            overhead.append((whole - sum(per_op)) / len(per_op))
            measured.append((name, whole, rep["macs"]))
    table = {}
    for kind, ss in sorted(samples.items()):
        c = fit(ss, LINEAR.get(kind, ["elems"]))
        err = max(abs(predict(c, s) - s["insns"]) / s["insns"] for s in ss)
        table[kind] = (c, len(ss), err)
    ovh = sum(overhead) / len(overhead)

    # Hold-out check (stderr): each measured model estimated from a table fitted without it.
    for name, whole, _ in measured:
        mine = [x for ss in samples.values() for x in ss if x["model"] == name]
        est = ovh * len(mine)
        for x in mine:
            rest = [y for y in samples[x["kind"]] if y["model"] != name]
            c = fit(rest, LINEAR.get(x["kind"], ["elems"])) if rest else None
            est += predict(c, x) if c else x["insns"]
        print(f"hold-out {name}: estimated {est:.0f}, measured {whole} "
              f"({(est - whole) / whole * 100:+.1f} %)", file=sys.stderr)

    frames = []
    for name in names:
        try:
            regs = regions(f"{out}/{name}.replay.regions")
            err = open(f"{out}/{name}.replay.stderr").read()
            cfg = open(f"{out}/{name}.config.rs").read()
        except OSError:
            continue
        samples_n = int(re.search(r'"samples":(\d+)', err).group(1))
        inv = int(re.search(r'"invocations":(\d+)', err).group(1))
        step = int(re.search(r"frame_step_ms: (\d+)", cfg).group(1))
        window_ms = 30
        nframes = (samples_n * 1000 // 16000 - window_ms) // step + 1
        invoke = next(w for n, w, _ in measured if n == name)
        total = sum(regs)
        frontend = re.search(r'pub const FRONTEND: &str = "([^"]+)"', cfg).group(1)
        per_frame = (total - inv * invoke) / nframes
        frames.append((name, frontend, step, samples_n, inv, nframes, total, per_frame))

    p = print
    p("// @generated by scripts/op-costs.sh (scripts/op-costs.py); do not edit.")
    p("// Instructions counted in QEMU 10 (b-l475e-iot01a, m4count plugin) on the release bench and")
    p("// replay firmware (opt-level 3, LTO, SXTB16/SMLAD kernels): see scripts/op-costs.sh.")
    p("")
    p("use super::{FrameCost, Measured, OpCost};")
    p("")
    p("/// Fitted instruction cost per operator kind (kinds not listed: [`super::DEFAULT_OP_COST`]).")
    p("pub const OP_COSTS: &[OpCost] = &[")
    for kind, (c, n, err) in table.items():
        p(f"    // {n} measured operators; largest error of the fit {err * 100:.1f} %")
        p(f"    OpCost {{ op: {json.dumps(kind)}, fixed: {c.get('fixed', 0):.1f}, per_mac: {c.get('macs', 0):.4f}, "
          f"per_tap: {c.get('taps', 0):.4f}, per_elem: {c.get('elems', 0):.4f} }},")
    p("];")
    p("")
    p("/// Interpreter instructions per evaluated operator outside the kernels (mean over the models).")
    p(f"pub const INVOKE_OVERHEAD_PER_OP: f64 = {ovh:.1f};")
    p("")
    p("/// Front end + feature window + detector, per audio frame (replay firmware: whole pipeline")
    p("/// minus the measured invocations), by front-end preset.")
    p("pub const FRAME_COSTS: &[FrameCost] = &[")
    for name, fe, step, sn, inv, nf, total, pf in frames:
        p(f"    // {name}: {sn} samples, {nf} frames of {step} ms, {inv} invocations, {total} instructions in all")
        p(f"    FrameCost {{ frontend: {json.dumps(fe)}, per_frame: {pf:.1f} }},")
    p("];")
    p("")
    p("/// Whole steady-state invocations measured (bench firmware, fixed input pattern).")
    p("pub const MEASURED: &[Measured] = &[")
    for name, whole, macs in measured:
        p(f"    Measured {{ model: {json.dumps(name)}, macs: {macs}, invoke: {whole} }},")
    p("];")


main()
