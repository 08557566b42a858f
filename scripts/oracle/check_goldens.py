#!/usr/bin/env python3
"""Consistency check of the committed goldens (no TFLM needed, numpy only).

For every case: file sizes agree with golden.json, the model's sha256 matches (where the model is
reachable), and the input/output tensors found in tensors.bin equal inputN.bin/outputN.bin.
Usage: python check_goldens.py [--ref /work/shared/reference]
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "engine", "tests", "golden")


def site_packages():
    try:
        import pymicro_wakeword
    except ImportError:
        return None
    return os.path.dirname(os.path.dirname(pymicro_wakeword.__file__))


def check_case(d, refdir, site):
    with open(os.path.join(d, "golden.json")) as f:
        g = json.load(f)
    n = g["invocations"]
    ref = g["model"]
    path = (os.path.join(refdir, ref[7:]) if ref.startswith("shared:")
            else os.path.join(site, ref[4:]) if ref.startswith("pip:") and site
            else os.path.join(d, ref) if ":" not in ref else None)
    if path and os.path.exists(path):
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == g["model_sha256"], f"{d}: model sha256"
    per_io = {}
    for kind in ("inputs", "outputs"):
        for e in g[kind]:
            size = int(np.prod(e["shape"])) * np.dtype(e["dtype"]).itemsize
            with open(os.path.join(d, e["file"]), "rb") as f:
                data = f.read()
            assert len(data) == n * size, f"{d}/{e['file']}: {len(data)} != {n} x {size}"
            per_io[e["tensor"]] = (data, size)
    t_inv = g["tensors_invocations"]
    if g["tensors"]:
        with open(os.path.join(d, g["tensors_file"]), "rb") as f:
            blob = f.read()
        stride = sum(e["bytes"] for e in g["tensors"])
        assert len(blob) == t_inv * stride, f"{d}: tensors.bin size"
        off = 0
        for e in g["tensors"]:
            assert e["bytes"] == int(np.prod(e["shape"])) * np.dtype(e["dtype"]).itemsize, d
            if e["subgraph"] == 0 and e["tensor"] in per_io:
                data, size = per_io[e["tensor"]]
                for k in range(t_inv):
                    got = blob[k * stride + off: k * stride + off + size]
                    assert got == data[k * size:(k + 1) * size], f"{d}: tensor {e['tensor']} inv {k}"
            off += e["bytes"]
    else:
        assert t_inv == 0, d
    assert g["tflm_arena_bytes"] > 0, d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ref", default=os.environ.get("MOTE_REFERENCE", "/work/shared/reference"))
    args = ap.parse_args()
    site = site_packages()
    count = 0
    for group in ("ops", "real", "models"):
        base = os.path.join(GOLDEN, group)
        for c in sorted(os.listdir(base)):
            if os.path.isfile(os.path.join(base, c, "golden.json")):
                check_case(os.path.join(base, c), args.ref, site)
                count += 1
    print(f"{count} golden cases consistent")


if __name__ == "__main__":
    sys.exit(main())
