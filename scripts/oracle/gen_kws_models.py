#!/usr/bin/env python3
"""Build whole int8 models shaped like the public benchmark models TFLM is usually measured on.

The third-party models are not available here, so these are models of the same shapes (operator
counts depend on shapes, hardly on weights), trained for a few epochs on synthetic data so that the
activations are realistic (not all zero or saturated), then converted with full-integer int8
quantization (representative dataset, int8 input and output, batch fixed to 1 so the graph has no
SHAPE or dynamic ops).

  ds_cnn.tflite          MLPerf Tiny KWS DS-CNN: input int8 [1,49,10,1]; CONV_2D 10x4 stride 2
                         SAME -> [1,25,5,64] + ReLU; 4 x (DEPTHWISE_CONV_2D 3x3 SAME + ReLU,
                         CONV_2D 1x1 64 + ReLU); AVERAGE_POOL_2D 25x5; FULLY_CONNECTED 12; SOFTMAX.
                         2,656,768 MACs (BASELINES.md's figure exactly).
  mobilenet_025.tflite   TFLM person_detect's shape: MobileNet v1 width 0.25 on a 96x96x1 int8
                         image (Keras layer layout, SAME padding like the TF-slim original):
                         CONV_2D 3x3 s2 -> 8 ch + ReLU6, 13 x (DEPTHWISE_CONV_2D 3x3 + ReLU6,
                         CONV_2D 1x1 + ReLU6) with 16,32,32,64,64,128 x6,256,256 channels and stride
                         2 in blocks 2,4,6,12, AVERAGE_POOL_2D 3x3, CONV_2D 1x1 -> 2, RESHAPE,
                         SOFTMAX (person_detect's operator list). ~7.5 M MACs.
  mobilenet_025_qdim3.tflite
                         the same bytes' model with every rank-1 bias tensor of a DEPTHWISE_CONV_2D
                         given `quantized_dimension: 3` in the flatbuffer, as TFLM's
                         person_detect.tflite has (the converter copied the filter's axis); TFLM
                         accepts it, and so must Mote.
  str_ww.tflite          MLPerf Tiny streaming wake word order of magnitude: 1200-byte int8 input
                         [1,30,1,40] (30 frames x 40 features); CONV_2D 5x1 VALID 40 -> 64 + ReLU
                         ([1,26,1,64], 332,800 MACs); 4 x (DEPTHWISE_CONV_2D 3x1 VALID + ReLU,
                         CONV_2D 1x1 64 + ReLU) -> [1,18,1,64]; flatten (RESHAPE);
                         FULLY_CONNECTED 1152 -> 116 + ReLU; FULLY_CONNECTED 116 -> 3; SOFTMAX.
                         826,972 MACs (BASELINES.md: 826,368 for the real str-ww).
  too_big.tflite         a keyword-shaped model (micro_speech's int8 input [1,1960] = 49 x 40 and 4
                         scores) whose arena cannot fit a board: RESHAPE to [1,49,40,1], CONV_2D
                         3x3 SAME -> 48 channels + ReLU ([1,49,40,48] = 94,080 B live at once with
                         its input), AVERAGE_POOL_2D 49x40, FULLY_CONNECTED 4, SOFTMAX. `mote export`
                         must refuse it (RAM), the firmware's build.rs too (bench mode).

Deterministic: fixed seeds (numpy, tf, Python), single-threaded TF ops; rerunning with the pinned
versions (requirements.txt) reproduces the committed bytes. Each model's operator list is checked
after conversion. Usage: python gen_kws_models.py [--out engine/tests/fixtures/models]
"""

import argparse
import hashlib
import os
import random

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import flatbuffers  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: E402

from int8_convert import convert_keras_int8  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "engine", "tests", "fixtures", "models")
OP_NAMES = {v: k for k, v in fb.BuiltinOperator.__dict__.items() if not k.startswith("_")}
L = tf.keras.layers


def seed_all(s):
    random.seed(s)
    np.random.seed(s)
    tf.random.set_seed(s)
    tf.keras.utils.set_random_seed(s)


def bn_act(x, act):
    """BatchNormalization (folded into the preceding conv by the converter) + activation, as in
    the MLPerf DS-CNN and Keras MobileNet: keeps deep activations alive after a short training."""
    x = L.BatchNormalization()(x)
    return L.Activation(act)(x)


def ds_cnn(batch=None):
    x = inp = L.Input((49, 10, 1), batch_size=batch)
    x = bn_act(L.Conv2D(64, (10, 4), strides=2, padding="same")(x), "relu")
    for _ in range(4):
        x = bn_act(L.DepthwiseConv2D(3, padding="same")(x), "relu")
        x = bn_act(L.Conv2D(64, 1)(x), "relu")
    x = L.AveragePooling2D((25, 5))(x)
    x = L.Flatten()(x)
    x = L.Dense(12, activation="softmax")(x)
    return tf.keras.Model(inp, x), 12


def mobilenet_025(batch=None):
    x = inp = L.Input((96, 96, 1), batch_size=batch)
    x = bn_act(L.Conv2D(8, 3, strides=2, padding="same")(x), "relu6")
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2)] + [(128, 1)] * 5 + \
             [(256, 2), (256, 1)]
    for ch, s in blocks:
        x = bn_act(L.DepthwiseConv2D(3, strides=s, padding="same")(x), "relu6")
        x = bn_act(L.Conv2D(ch, 1)(x), "relu6")
    x = L.AveragePooling2D(3)(x)
    x = L.Conv2D(2, 1)(x)
    x = L.Reshape((2,))(x)
    x = L.Softmax()(x)
    return tf.keras.Model(inp, x), 2


def str_ww(batch=None):
    x = inp = L.Input((30, 1, 40), batch_size=batch)
    x = L.Conv2D(64, (5, 1), activation="relu")(x)
    for _ in range(4):
        x = L.DepthwiseConv2D((3, 1), activation="relu")(x)
        x = L.Conv2D(64, 1, activation="relu")(x)
    x = L.Flatten()(x)
    x = L.Dense(116, activation="relu")(x)
    x = L.Dense(3, activation="softmax")(x)
    return tf.keras.Model(inp, x), 3


def too_big(batch=None):
    x = inp = L.Input((1960,), batch_size=batch)
    x = L.Reshape((49, 40, 1))(x)
    x = L.Conv2D(48, 3, padding="same", activation="relu")(x)
    x = L.AveragePooling2D((49, 40))(x)
    x = L.Flatten()(x)
    x = L.Dense(4, activation="softmax")(x)
    return tf.keras.Model(inp, x), 4


# name -> (builder, seed, expected operator multiset)
MODELS = {
    "ds_cnn": (ds_cnn, 4910, {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1,
                              "FULLY_CONNECTED": 1, "SOFTMAX": 1}),
    "mobilenet_025": (mobilenet_025, 9696, {"CONV_2D": 15, "DEPTHWISE_CONV_2D": 13,
                                            "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "SOFTMAX": 1}),
    "str_ww": (str_ww, 1200, {"CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "RESHAPE": 1, "FULLY_CONNECTED": 2,
                              "SOFTMAX": 1}),
    "too_big": (too_big, 94080, {"RESHAPE": 1, "CONV_2D": 1, "AVERAGE_POOL_2D": 1,
                                 "FULLY_CONNECTED": 1, "SOFTMAX": 1}),
}


def synthetic(shape, n_classes, n, rng):
    """Class-dependent smooth patterns plus noise: learnable, so the trained weights and the
    activations they produce look like a real model's rather than like noise."""
    protos = rng.normal(0, 1, size=(n_classes,) + shape).astype(np.float32)
    y = rng.integers(0, n_classes, size=n)
    x = protos[y] + rng.normal(0, 0.8, size=(n,) + shape).astype(np.float32)
    return x, y


def ops_of(model_bytes):
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model_bytes, 0))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    out = {}
    for op in m.subgraphs[0].operators:
        name = OP_NAMES[codes[op.opcodeIndex]]
        out[name] = out.get(name, 0) + 1
    return out


def to_int8(builder, model, rep_x):
    """The trained `model` as int8 .tflite bytes, calibrated on `rep_x`. Trained with batches,
    converted as the same layers (`builder(batch=1)`) with the batch fixed to 1 (no SHAPE /
    dynamic-batch ops in the graph)."""
    fixed, _ = builder(batch=1)
    fixed.set_weights(model.get_weights())
    return convert_keras_int8(fixed, rep_x)


def build(name, out_dir):
    builder, seed, want_ops = MODELS[name]
    seed_all(seed)
    model, n_classes = builder()
    shape = tuple(int(d) for d in model.input_shape[1:])
    rng = np.random.default_rng(seed)
    x, y = synthetic(shape, n_classes, 256, rng)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=16, epochs=6, shuffle=False, verbose=0)
    acc = hist.history["accuracy"][-1]

    tfl = to_int8(builder, model, x[:64])
    got = ops_of(tfl)
    if got != want_ops:
        raise RuntimeError(f"{name}: converter emitted {got}, expected {want_ops}")
    path = os.path.join(out_dir, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(tfl)
    print(f"{name}: {len(tfl)} B, train accuracy {acc:.2f}, ops {got}, "
          f"sha256 {hashlib.sha256(tfl).hexdigest()[:16]}")
    return tfl


def qdim3(model_bytes):
    """Set `quantized_dimension = 3` on the bias (input 2) of every DEPTHWISE_CONV_2D, like TFLM's
    person_detect.tflite (rank-1 tensors whose per-channel axis names a dimension they lack)."""
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model_bytes, 0))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    sg = m.subgraphs[0]
    edited = 0
    for op in sg.operators:
        if codes[op.opcodeIndex] != fb.BuiltinOperator.DEPTHWISE_CONV_2D or len(op.inputs) < 3:
            continue
        bias = sg.tensors[op.inputs[2]]
        if op.inputs[2] < 0 or bias.quantization is None or len(bias.shape) != 1:
            continue
        bias.quantization.quantizedDimension = 3
        edited += 1
    b = flatbuffers.Builder(len(model_bytes) + 4096)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    out = bytes(b.Output())
    return out, edited


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(1)
    for name in MODELS:
        if args.only and args.only not in name:
            continue
        tfl = build(name, args.out)
        if name == "mobilenet_025":
            q3, n = qdim3(tfl)
            if n != 13:
                raise RuntimeError(f"qdim3: edited {n} depthwise biases, expected 13")
            with open(os.path.join(args.out, "mobilenet_025_qdim3.tflite"), "wb") as f:
                f.write(q3)
            print(f"mobilenet_025_qdim3: {len(q3)} B, {n} depthwise biases with "
                  f"quantized_dimension 3")


if __name__ == "__main__":
    main()
