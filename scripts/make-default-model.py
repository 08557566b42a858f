#!/usr/bin/env python3
"""Makes the firmware template's default model: firmware-template/mote/model.tflite.

A tiny project-made stand-in with the shape of a microWakeWord model (int8 input [1, 3, 40]:
3 frames of 40 log-mel features, quantized like microWakeWord's, scale 26/255 and zero point
-128; uint8 output [1, 1], scale 1/256) so the template builds and runs without third-party
files. It is a loudness detector, not a keyword spotter: trained on synthetic features, it
scores high when the speech band (channels 8-30) is well above the noise floor in all three
frames. Fixed seeds, one thread; the committed file is the reference (the converter may
still differ by a few bytes between runs).

Usage: /work/venv-tf/bin/python scripts/make-default-model.py [OUT]   (TensorFlow 2.x)
       ... scripts/make-default-model.py --unsupported OUT
  The second form makes the same model with a LEAKY_RELU after the first layer, an op
  mote-engine does not implement: exporter/tests/fixtures/unsupported_op.tflite.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["TF_DETERMINISTIC_OPS"] = "1"
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "oracle"))
from int8_convert import convert_int8  # noqa: E402

args = sys.argv[1:]
unsupported = bool(args) and args[0] == "--unsupported"
if unsupported:
    args = args[1:]
out = args[0] if args else os.path.join(
    os.path.dirname(__file__), "..", "firmware-template", "mote", "model.tflite")
tf.random.set_seed(7)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.config.threading.set_intra_op_parallelism_threads(1)
rng = np.random.default_rng(7)

FRAMES, CH, TOP = 3, 40, 26.0  # feature range 0..26 (microWakeWord's int8 input scale 26/255)


def batch(n):
    """Noise-floor frames; half of them with a loud band-limited burst in all frames."""
    x = rng.uniform(2.0, 9.0, size=(n, FRAMES, CH)).astype(np.float32)
    y = (rng.uniform(size=n) < 0.5).astype(np.float32)
    lift = rng.uniform(6.0, 14.0, size=(n, 1, 1)).astype(np.float32)
    band = np.zeros((1, 1, CH), np.float32)
    band[..., 8:31] = 1.0
    x = x + y[:, None, None] * lift * band
    return np.clip(x, 0.0, TOP), y


x, y = batch(4096)
model = tf.keras.Sequential([
    tf.keras.Input(shape=(FRAMES, CH), batch_size=1),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(8, activation=None if unsupported else "relu"),
] + ([tf.keras.layers.LeakyReLU(negative_slope=0.1)] if unsupported else []) + [
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss="binary_crossentropy")
model.fit(x, y, epochs=4, batch_size=64, verbose=0, shuffle=False)


def representative():
    # The range corners first so the input quantization is exactly 0..26.
    yield [np.zeros((1, FRAMES, CH), np.float32)]
    yield [np.full((1, FRAMES, CH), TOP, np.float32)]
    for i in range(200):
        yield [x[i:i + 1]]


blob = convert_int8(tf.lite.TFLiteConverter.from_keras_model(model), representative,
                    output_type=tf.uint8)
with open(out, "wb") as f:
    f.write(blob)
print(f"{out}: {len(blob)} bytes")
