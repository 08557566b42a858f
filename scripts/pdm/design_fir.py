#!/usr/bin/env python3
"""Designs the PDM decimator's second stage (engine/src/pdm/fir.rs): a linear-phase FIR at
80 kHz (after the sinc3 / CIC3 stage that decimates the 2 MHz PDM stream by 25) that compensates
the CIC's droop up to 7 kHz, stops 9-40 kHz (what would alias into 0-7 kHz after the final ÷5)
and prints the int16 taps as a Rust array.

Method: weighted least squares on a dense grid (numpy only; pinned: numpy 2.x), type II
(even length, symmetric). Taps are scaled so their sum is GAIN_Q15 (DC gain 2.0 in Q15: the CIC's
±15 625 full scale becomes ±31 250 PCM) and rounded.

Usage: scripts/pdm/design_fir.py [TAPS]   (default 96)
"""
import sys
import numpy as np

FS_PDM = 2_000_000
R = 25            # CIC3 decimation
FS = FS_PDM / R   # 80 kHz, the FIR's input rate
PASS = 7_000.0
STOP = 9_000.0
W_STOP = 300.0
GAIN_Q15 = 65536


def cic_mag(f):
    x = np.pi * f / FS_PDM
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x == 0, 1.0, np.sin(R * x) / (R * np.sin(x)))
    return np.abs(m) ** 3


def design(n):
    half = n // 2
    f = np.concatenate([np.linspace(0, PASS, 700), np.linspace(STOP, FS / 2, 3100)])
    d = np.where(f <= PASS, 1.0 / cic_mag(f), 0.0)
    w = np.where(f <= PASS, 1.0, W_STOP)
    k = np.arange(half) + 0.5
    a = 2 * np.cos(2 * np.pi * np.outer(f, k) / FS)
    sw = np.sqrt(w)
    c, *_ = np.linalg.lstsq(a * sw[:, None], d * sw, rcond=None)
    h = np.concatenate([c[::-1], c])
    h = h / h.sum() * GAIN_Q15
    return np.round(h).astype(np.int64)


def response(h, f):
    n = np.arange(len(h))
    return np.abs(np.exp(-2j * np.pi * np.outer(f, n) / FS) @ h) / h.sum()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 96
    h = design(n)
    fp = np.linspace(100, PASS, 500)
    tot = 20 * np.log10(response(h, fp) * cic_mag(fp))
    fs_ = np.linspace(STOP, FS / 2, 2000)
    stop = 20 * np.log10(np.maximum(response(h, fs_) * cic_mag(fs_), 1e-12))
    print(f"// {n} taps: passband 100 Hz-7 kHz (with the CIC) {tot.min():+.3f}..{tot.max():+.3f} dB, "
          f"stopband 9-40 kHz <= {stop.max():.1f} dB; sum |h| = {np.abs(h).sum()}", file=sys.stderr)
    print(f"pub const TAPS: [i16; {n}] = [")
    for i in range(0, n, 12):
        print("    " + ", ".join(str(int(v)) for v in h[i:i + 12]) + ",")
    print("];")


if __name__ == "__main__":
    main()
