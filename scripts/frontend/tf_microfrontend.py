#!/usr/bin/env python3
"""Worker for gen_feature_goldens.py, run with a Python that has tensorflow (e.g. /work/venv-tf):
computes TensorFlow's audio_microfrontend op (TFLM's C micro-frontend with its double-precision
start-up tables; microWakeWord computes its training features with it) for every signal.

    python tf_microfrontend.py IN.npz OUT.npz

IN.npz holds one int16 array per signal; OUT.npz gets one uint16 [frames, 40] array per signal.
"""
import sys

import numpy as np
import tensorflow as tf
from tensorflow.lite.experimental.microfrontend.python.ops import audio_microfrontend_op as frontend_op


def features(samples: np.ndarray) -> np.ndarray:
    # microWakeWord's settings (30 ms window, 10 ms step, 40 channels, PCAN on); the rest are
    # the op's defaults, which equal TFLM's FrontendFillConfigWithDefaults.
    out = frontend_op.audio_microfrontend(
        tf.convert_to_tensor(samples.astype(np.int16)), sample_rate=16000, window_size=30, window_step=10,
        num_channels=40, upper_band_limit=7500.0, lower_band_limit=125.0, smoothing_bits=10,
        even_smoothing=0.025, odd_smoothing=0.06, min_signal_remaining=0.05, enable_pcan=True,
        pcan_strength=0.95, pcan_offset=80.0, gain_bits=21, enable_log=True, scale_shift=6,
        out_scale=1, out_type=tf.uint16)
    return out.numpy().reshape(-1, 40)


def main() -> None:
    signals = np.load(sys.argv[1])
    np.savez(sys.argv[2], **{name: features(signals[name]) for name in signals.files})


if __name__ == "__main__":
    main()
