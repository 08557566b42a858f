#!/usr/bin/env python3
"""Run a .tflite model in TFLM's Python interpreter (tflite-micro, pinned in requirements.txt)
on raw int8 inputs, N invocations back to back, and write the raw outputs back to back: the
same contract as `mote infer MODEL --input IN --output OUT`. Used by exporter/tests/train.rs
to check trained models byte for byte. One input and one output tensor.

Usage: python scripts/oracle/tflm_infer.py MODEL IN OUT
"""

import sys

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def main() -> None:
    model_path, in_path, out_path = sys.argv[1:4]
    with open(model_path, "rb") as f:
        it = runtime.Interpreter.from_bytes(f.read(), arena_size=1 << 20)
    det = it.get_input_details(0)
    shape = det["shape"]
    n_in = int(np.prod(shape))
    data = np.fromfile(in_path, dtype=np.int8)
    if data.size == 0 or data.size % n_in:
        raise SystemExit(f"{in_path}: {data.size} bytes is not a multiple of {n_in}")
    out = []
    for k in range(data.size // n_in):
        it.set_input(data[k * n_in : (k + 1) * n_in].reshape(shape), 0)
        it.invoke()
        y = np.array(it.get_output(0))
        if y.dtype != np.int8:
            raise SystemExit(f"output dtype {y.dtype}, expected int8")
        out.append(y.tobytes())
    with open(out_path, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    main()
