#!/usr/bin/env python3
"""TFLM goldens for a subset of the kernel sweep (testgen/): every K-th generated case.

Builds the cases with the Rust generator (`cargo run -p mote-testgen --bin sweep -- dump DIR
--every K --count N`: DIR/<index>.tflite, DIR/<index>.input<k>.bin, DIR/cases.txt), runs each
through the official TFLM Python interpreter (tflite-micro, pinned in requirements.txt), and
writes one line per case, `INDEX HASH` with HASH the FNV-1a (32-bit, 8 hex digits) of the
output tensor's bytes, to testgen/tests/golden/sweep_tflm.txt. testgen/tests/sweep.rs checks
the engine against it. Any TFLM failure aborts (the generator must only emit cases TFLM runs).

Usage: /work/venv-oracle/bin/python scripts/oracle/sweep_tflm.py [--every 15] [--count 9600]
"""

import argparse
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np
from tflite_micro.python.tflite_micro import runtime

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "testgen", "tests", "golden", "sweep_tflm.txt")
ARENA = 1 << 20


def fnv1a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def run_case(d: str, index: int, n_inputs: int) -> bytes:
    with open(os.path.join(d, f"{index}.tflite"), "rb") as f:
        model = f.read()
    it = runtime.Interpreter.from_bytes(model, arena_size=ARENA)
    for k in range(n_inputs):
        det = it.get_input_details(k)
        with open(os.path.join(d, f"{index}.input{k}.bin"), "rb") as f:
            x = np.frombuffer(f.read(), dtype=np.int8).reshape(det["shape"])
        it.set_input(x, k)
    it.invoke()
    y = np.array(it.get_output(0))
    if y.dtype != np.int8:
        raise RuntimeError(f"case {index}: output dtype {y.dtype}")
    return y.tobytes()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=15)
    ap.add_argument("--count", type=int, default=9600)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(
            ["cargo", "run", "-q", "-p", "mote-testgen", "--bin", "sweep", "--", "dump", d,
             "--every", str(args.every), "--count", str(args.count)],
            cwd=ROOT, check=True)
        cases = []
        with open(os.path.join(d, "cases.txt")) as f:
            for line in f:
                i, op = line.split()
                cases.append((int(i), op))
        lines = []
        per_op = collections.Counter()
        for i, op in cases:
            try:
                out = run_case(d, i, 2 if op in ("ADD", "MUL") else 1)
            except Exception as e:  # TFLM raises RuntimeError on prepare/invoke failures
                print(f"case {i} {op}: TFLM failed: {e}", file=sys.stderr)
                return 1
            lines.append(f"{i} {fnv1a(out):08x}")
            per_op[op] += 1
    version = "unknown"
    try:
        from importlib.metadata import version as v
        version = v("tflite-micro")
    except Exception:
        pass
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(f"# TFLM (tflite-micro {version}) output hashes (FNV-1a 32) of sweep cases "
                f"0..{args.count} step {args.every}; regenerate: scripts/oracle/sweep_tflm.py\n")
        f.write("\n".join(lines) + "\n")
    print(f"{len(lines)} cases: " + ", ".join(f"{k} {n}" for k, n in sorted(per_op.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
