#!/usr/bin/env python3
"""Build the small models of the exporter's edge-case tests (exporter/tests/fixtures/edges/).

- fc_1960_1class.tflite, fc_1960_3class.tflite: a micro_speech-shaped int8 input [1, 1960] and a
  FULLY_CONNECTED layer to 1 or 3 int8 scores: keyword models that are not micro_speech's 4 classes.
- custom_op.tflite: fc_1960_3class with its operator turned into the custom op "MyCustomOp".
- sparse.tflite: fc_1960_3class with its weights declared sparse (a valid all-dense
  SparsityParameters block: traversal order [0, 1], both dimensions DENSE).
- unsupported_ops.tflite: LEAKY_RELU -> ABS -> FULLY_CONNECTED x3: two ops mote-engine lacks.
- bad_shape.tflite: the same model with tensor 7 given a negative dimension.

Full integer quantization with a fixed-seed representative set; the converter is deterministic
for a pinned TensorFlow (2.21), so rerunning reproduces the files.

Usage: /work/venv-oracle/bin/python scripts/oracle/gen_edge_models.py [OUT_DIR]
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import flatbuffers  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from int8_convert import convert_int8  # noqa: E402

OP_NAMES = {v: k for k, v in fb.BuiltinOperator.__dict__.items() if not k.startswith("_")}


def convert(fn, shape, seed):
    spec = tf.TensorSpec(shape, tf.float32, name="in0")
    func = tf.function(fn, input_signature=[spec])
    cf = func.get_concrete_function()

    def rep():
        r = np.random.default_rng(seed)
        for _ in range(32):
            yield [r.uniform(-1, 1, size=shape).astype(np.float32)]

    return convert_int8(tf.lite.TFLiteConverter.from_concrete_functions([cf], func), rep)


def load(b):
    return fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(b, 0))


def pack(m):
    b = flatbuffers.Builder(0)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def ops(m):
    return [OP_NAMES[max(m.operatorCodes[o.opcodeIndex].builtinCode,
                         m.operatorCodes[o.opcodeIndex].deprecatedBuiltinCode)]
            for o in m.subgraphs[0].operators]


def fc_model(units):
    w = tf.constant(np.random.default_rng(units).normal(0, 0.05, (1960, units)).astype(np.float32))
    return convert(lambda x: tf.matmul(x, w), [1, 1960], units)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "exporter", "tests", "fixtures", "edges")
    os.makedirs(out, exist_ok=True)
    files = {}
    for units in (1, 3):
        b = fc_model(units)
        assert ops(load(b)) == ["FULLY_CONNECTED"], ops(load(b))
        files[f"fc_1960_{units}class.tflite"] = b

    m = load(files["fc_1960_3class.tflite"])
    code = m.operatorCodes[m.subgraphs[0].operators[0].opcodeIndex]
    code.builtinCode = fb.BuiltinOperator.CUSTOM
    code.deprecatedBuiltinCode = fb.BuiltinOperator.CUSTOM
    code.customCode = "MyCustomOp"
    m.subgraphs[0].operators[0].builtinOptionsType = 0
    m.subgraphs[0].operators[0].builtinOptions = None
    files["custom_op.tflite"] = pack(m)

    m = load(files["fc_1960_3class.tflite"])
    sg = m.subgraphs[0]
    weights = sg.operators[0].inputs[1]
    t = sg.tensors[weights]
    sp = fb.SparsityParametersT()
    sp.traversalOrder = [0, 1]
    dims = []
    for n in t.shape:
        d = fb.DimensionMetadataT()
        d.format = fb.DimensionType.DENSE
        d.denseSize = int(n)
        dims.append(d)
    sp.dimMetadata = dims
    t.sparsity = sp
    files["sparse.tflite"] = pack(m)

    r = np.random.default_rng(5)
    w1 = tf.constant(r.normal(0, 0.2, (40, 16)).astype(np.float32))
    w2 = tf.constant(r.normal(0, 0.2, (16, 8)).astype(np.float32))
    w3 = tf.constant(r.normal(0, 0.2, (8, 3)).astype(np.float32))
    b = convert(lambda x: tf.matmul(tf.matmul(tf.matmul(
        tf.abs(tf.nn.leaky_relu(x, 0.2)), w1), w2), w3), [1, 40], 5)
    m = load(b)
    assert ops(m) == ["LEAKY_RELU", "ABS"] + ["FULLY_CONNECTED"] * 3, ops(m)
    files["unsupported_ops.tflite"] = b
    assert len(m.subgraphs[0].tensors) > 7, len(m.subgraphs[0].tensors)
    m.subgraphs[0].tensors[7].shape = [1, -3]
    files["bad_shape.tflite"] = pack(m)

    for name, b in files.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)
        print(f"{name}: {len(b)} bytes")


if __name__ == "__main__":
    main()
