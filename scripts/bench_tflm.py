#!/usr/bin/env python3
"""Time TensorFlow Lite Micro's official Python interpreter (tflite-micro, reference kernels)
invoking a model on this machine, the counterpart of `mote bench`.

Usage: bench_tflm.py MODEL.tflite [--invocations N] [--warmup W] [--arena BYTES] [--json]

Run it with the oracle venv (`/work/venv-oracle/bin/python` here; any venv with
`pip install tflite-micro numpy`). Inputs are the same fixed pattern as `mote bench` and the
firmware (byte i = (7*i + 3) mod 256); streaming state carries across invocations. Each
`invoke()` is timed on its own (the Python call adds well under a microsecond); the median is
reported.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--invocations", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--arena", type=int, default=256 * 1024, help="tensor arena bytes (default 256 KiB)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    with open(a.model, "rb") as f:
        model = f.read()
    it = runtime.Interpreter.from_bytes(model, arena_size=a.arena)
    # Fill every input with the fixed pattern, in its dtype's raw bytes.
    n_inputs = len(runtime.convert_bytearray_to_object(bytearray(model)).subgraphs[0].inputs)
    for i in range(n_inputs):
        d = it.get_input_details(i)
        shape, dtype = tuple(d["shape"]), np.dtype(d["dtype"])
        n = int(np.prod(shape)) * dtype.itemsize
        raw = ((np.arange(n) * 7 + 3) & 0xFF).astype(np.uint8)
        it.set_input(raw.view(dtype).reshape(shape), i)

    times = []
    for k in range(a.warmup + max(1, a.invocations)):
        t = time.perf_counter_ns()
        it.invoke()
        dt = time.perf_counter_ns() - t
        if k >= a.warmup:
            times.append(dt / 1000.0)
    times.sort()
    r = {
        "model": a.model,
        "engine": "tflite-micro (Python interpreter, reference kernels)",
        "invocations": len(times),
        "warmup": a.warmup,
        "median_us": statistics.median(times),
        "mean_us": statistics.fmean(times),
        "min_us": times[0],
        "p90_us": times[round((len(times) - 1) * 0.9)],
    }
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        print(a.model)
        print(
            f"  {r['median_us']:.2f} us/invoke median ({r['invocations']} invocations after {a.warmup} warm-up;"
            f" mean {r['mean_us']:.2f}, min {r['min_us']:.2f}, p90 {r['p90_us']:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
