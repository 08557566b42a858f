#!/usr/bin/env python3
"""Build the single-op int8 test models of Mote's golden suite with TensorFlow.

Every case is a tiny tf.function whose weights come from a NumPy generator seeded per case, converted
with full integer quantization (representative dataset from a fixed seed, int8 inputs/outputs unless
the case says otherwise). The converter is deterministic, so rerunning this script reproduces the
committed models byte for byte (with the pinned TensorFlow version).

After conversion each model is parsed with the TFLite flatbuffer schema shipped by tflite-micro and
its operator list is checked against the ops the case intends; cases that TF rewrote into something
else fail loudly (and are not written) so they can be fixed or dropped.

Usage: python gen_op_models.py [--out engine/tests/golden/ops] [--only SUBSTRING]
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import flatbuffers  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from int8_convert import convert_int8  # noqa: E402

OP_NAMES = {v: k for k, v in fb.BuiltinOperator.__dict__.items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in fb.TensorType.__dict__.items() if not k.startswith("_")}
ACT_NAMES = {v: k for k, v in fb.ActivationFunctionType.__dict__.items() if not k.startswith("_")}


class Case:
    """One single-op model: `fn(*inputs)` built from `shapes`, expected to contain `ops`."""

    def __init__(self, name, shapes, fn, ops, ranges=None, in_type=tf.int8, out_type=tf.int8,
                 act=None, note="", post=None):
        self.name = name
        self.shapes = shapes
        self.fn = fn
        self.ops = ops  # exact operator list (in order) the model must contain
        self.ranges = ranges or [(-1.0, 1.0)] * len(shapes)  # representative-data range per input
        self.in_type = in_type
        self.out_type = out_type
        self.act = act  # expected fused activation of the main op (checked when set)
        self.note = note
        self.post = post  # optional flatbuffer edit (ModelT -> None) for what TF cannot emit

    def seed(self):
        # Stable per-case seed (Python's hash() is salted per process, crc32 is not).
        return zlib.crc32(self.name.encode())


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()) ^ 0x5EED)


CASES = []


def case(*args, **kw):
    CASES.append(Case(*args, **kw))


ACTS = {"none": lambda y: y, "relu": tf.nn.relu, "relu6": tf.nn.relu6}
ACT_FB = {"none": "NONE", "relu": "RELU", "relu6": "RELU6"}

# ---------------------------------------------------------------- CONV_2D
def conv_case(name, in_shape, k, cout, stride=1, pad="SAME", dil=1, bias=True, act="none"):
    r = rng_for(name)
    cin = in_shape[-1]
    w = tf.constant(r.normal(0, 0.5, size=(k[0], k[1], cin, cout)).astype(np.float32))
    b = tf.constant(r.normal(0, 0.3, size=(cout,)).astype(np.float32))

    def fn(x):
        y = tf.nn.conv2d(x, w, strides=stride, padding=pad, dilations=dil)
        if bias:
            y = tf.nn.bias_add(y, b)
        return ACTS[act](y)

    case(name, [in_shape], fn, ["CONV_2D"], act=ACT_FB[act])


conv_case("conv_3x3_same_s1_relu", [1, 9, 9, 3], (3, 3), 4, act="relu")
conv_case("conv_3x3_valid_s1_none", [1, 9, 9, 3], (3, 3), 4)
conv_case("conv_3x3_same_s2_relu6", [1, 9, 9, 3], (3, 3), 5, stride=2, act="relu6")
conv_case("conv_3x3_same_s2_even", [1, 8, 8, 2], (3, 3), 3, stride=2)
conv_case("conv_3x3_valid_s2_relu", [1, 9, 9, 3], (3, 3), 4, stride=2, pad="VALID", act="relu")
conv_case("conv_3x3_same_d2_none", [1, 9, 9, 3], (3, 3), 4, dil=2)
conv_case("conv_3x3_valid_d2_relu6", [1, 10, 9, 2], (3, 3), 4, pad="VALID", dil=2, act="relu6")
conv_case("conv_1x1_s1_none", [1, 6, 6, 8], (1, 1), 6)
conv_case("conv_1x1_s2_relu", [1, 7, 7, 4], (1, 1), 6, stride=2, pad="VALID", act="relu")
conv_case("conv_nobias_3x3_same", [1, 7, 7, 3], (3, 3), 4, bias=False)
conv_case("conv_nobias_1x1_valid_relu", [1, 5, 5, 6], (1, 1), 4, pad="VALID", bias=False, act="relu")
conv_case("conv_odd_3x2_s21_same", [1, 7, 5, 3], (3, 2), 5, stride=(2, 1))
conv_case("conv_odd_5x1_valid_relu", [1, 11, 3, 2], (5, 1), 3, pad="VALID", act="relu")
conv_case("conv_batch2_3x3_same", [2, 5, 5, 2], (3, 3), 3)

# ---------------------------------------------------------------- DEPTHWISE_CONV_2D
def dw_case(name, in_shape, k, mult, stride=1, pad="SAME", dil=1, bias=True, act="none"):
    r = rng_for(name)
    cin = in_shape[-1]
    w = tf.constant(r.normal(0, 0.5, size=(k[0], k[1], cin, mult)).astype(np.float32))
    b = tf.constant(r.normal(0, 0.3, size=(cin * mult,)).astype(np.float32))

    def fn(x):
        y = tf.nn.depthwise_conv2d(x, w, strides=[1, stride, stride, 1], padding=pad,
                                   dilations=[dil, dil])
        if bias:
            y = tf.nn.bias_add(y, b)
        return ACTS[act](y)

    case(name, [in_shape], fn, ["DEPTHWISE_CONV_2D"], act=ACT_FB[act])


dw_case("dw_3x3_same_m1_s1_relu", [1, 8, 8, 4], (3, 3), 1, act="relu")
dw_case("dw_3x3_valid_m1_s2", [1, 9, 9, 4], (3, 3), 1, stride=2, pad="VALID")
dw_case("dw_3x3_same_m1_s2_relu6", [1, 8, 8, 3], (3, 3), 1, stride=2, act="relu6")
dw_case("dw_3x3_same_m2_s1", [1, 7, 7, 3], (3, 3), 2)
dw_case("dw_3x3_valid_m2_s2_relu", [1, 9, 9, 2], (3, 3), 2, stride=2, pad="VALID", act="relu")
dw_case("dw_3x3_same_d2_m1", [1, 9, 9, 4], (3, 3), 1, dil=2)
dw_case("dw_3x3_valid_d2_m2", [1, 10, 10, 2], (3, 3), 2, pad="VALID", dil=2)
dw_case("dw_5x1_valid_m1", [1, 12, 1, 6], (5, 1), 1, pad="VALID")
dw_case("dw_nobias_3x3_same_m1", [1, 6, 6, 4], (3, 3), 1, bias=False)
dw_case("dw_2x3_same_m1_odd", [1, 5, 7, 5], (2, 3), 1)

# ---------------------------------------------------------------- FULLY_CONNECTED
def fc_case(name, in_shape, units, bias=True, act="none", flatten=False):
    r = rng_for(name)
    k = in_shape[-1] if not flatten else int(np.prod(in_shape[1:]))
    w = tf.constant(r.normal(0, 0.4, size=(k, units)).astype(np.float32))
    b = tf.constant(r.normal(0, 0.3, size=(units,)).astype(np.float32))

    def fn(x):
        if flatten:
            x = tf.reshape(x, [in_shape[0], k])
        y = tf.matmul(x, w) if len(in_shape) == 2 or flatten else tf.tensordot(x, w, axes=1)
        if bias:
            y = y + b
        return ACTS[act](y)

    case(name, [in_shape], fn, ["FULLY_CONNECTED"], act=ACT_FB[act])


fc_case("fc_rank2_bias", [1, 16], 8)
fc_case("fc_rank2_bias_relu", [3, 12], 5, act="relu")
fc_case("fc_rank2_nobias", [2, 10], 6, bias=False)
fc_case("fc_rank2_bias_relu6", [1, 20], 7, act="relu6")
fc_case("fc_rank3_keepdims", [1, 4, 12], 6)
fc_case("fc_rank3_keepdims_nobias", [2, 3, 8], 5, bias=False)
fc_case("fc_rank4_keepdims", [1, 1, 3, 10], 4)
fc_case("fc_rank3_flatten", [2, 3, 8], 5, flatten=True)
fc_case("fc_rank4_flatten_relu", [1, 2, 2, 6], 4, act="relu", flatten=True)
CASES[-2].ops = CASES[-1].ops = ["RESHAPE", "FULLY_CONNECTED"]  # explicit RESHAPE is kept by TF


def fc_implicit_case(name, in_shape, units, bias=True):
    """Rank-3/4 input, keep_num_dims=false: TF drops a reshape to [-1, K] in front of the FC."""
    r = rng_for(name)
    k = in_shape[-1]
    w = tf.constant(r.normal(0, 0.4, size=(k, units)).astype(np.float32))
    b = tf.constant(r.normal(0, 0.3, size=(units,)).astype(np.float32))

    def fn(x):
        y = tf.matmul(tf.reshape(x, [-1, k]), w)
        return y + b if bias else y

    case(name, [in_shape], fn, ["FULLY_CONNECTED"], act="NONE")


fc_implicit_case("fc_rank3_nokeep_nobias", [2, 3, 8], 5, bias=False)
fc_implicit_case("fc_rank3_nokeep_bias", [1, 4, 6], 3)
fc_implicit_case("fc_rank4_nokeep_bias", [1, 2, 3, 10], 4)

# ---------------------------------------------------------------- pools
for kind in ("avg", "max"):
    for pad in ("SAME", "VALID"):
        for s in (1, 2):
            for win in (2, 3):
                nm = f"{kind}pool_{pad.lower()}_s{s}_w{win}"
                shape = [1, 7, 8, 3] if (s + win) % 2 else [1, 8, 7, 4]

                def fn(x, kind=kind, pad=pad, s=s, win=win):
                    p = tf.nn.avg_pool2d if kind == "avg" else tf.nn.max_pool2d
                    return p(x, ksize=win, strides=s, padding=pad)

                case(nm, [shape], fn, ["AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"])

# ---------------------------------------------------------------- activations
for rng_ in (1.0, 4.0, 12.0):
    tag = str(int(rng_))
    case(f"softmax_r{tag}", [[1, 100] if rng_ != 4.0 else [3, 40]], tf.nn.softmax, ["SOFTMAX"],
         ranges=[(-rng_, rng_)])
case("softmax_r8_rank4", [[1, 2, 5, 10]], tf.nn.softmax, ["SOFTMAX"], ranges=[(-8.0, 8.0)])
for rng_ in (1.0, 4.0, 10.0):
    tag = str(int(rng_))
    case(f"logistic_r{tag}", [[2, 50]], tf.math.sigmoid, ["LOGISTIC"], ranges=[(-rng_, rng_)])
    case(f"tanh_r{tag}", [[2, 50]], tf.math.tanh, ["TANH"], ranges=[(-rng_, rng_)])
case("logistic_asym", [[1, 100]], tf.math.sigmoid, ["LOGISTIC"], ranges=[(-2.0, 7.0)])
case("relu_r4", [[1, 4, 4, 8]], tf.nn.relu, ["RELU"], ranges=[(-4.0, 4.0)])
case("relu_asym", [[1, 64]], tf.nn.relu, ["RELU"], ranges=[(-1.0, 9.0)])
case("relu6_r10", [[1, 4, 4, 8]], tf.nn.relu6, ["RELU6"], ranges=[(-10.0, 10.0)])
case("relu6_r3", [[2, 40]], tf.nn.relu6, ["RELU6"], ranges=[(-3.0, 3.0)])

# ---------------------------------------------------------------- elementwise binary
BIN = {"add": (tf.add, "ADD"), "sub": (tf.subtract, "SUB"), "mul": (tf.multiply, "MUL")}
BSHAPES = {
    "same": ([1, 4, 4, 8], [1, 4, 4, 8]),
    "bcast_c": ([1, 4, 4, 8], [1, 1, 1, 8]),
    "bcast_hw": ([1, 3, 5, 4], [1, 3, 5, 1]),
    "bcast_2d": ([4, 1], [1, 6]),
    "bcast_r3": ([2, 3, 4], [4]),
}
for op, (f, opname) in BIN.items():
    for sh, (sa, sb) in BSHAPES.items():
        case(f"{op}_{sh}", [sa, sb], f, [opname], ranges=[(-2.0, 2.0), (-0.5, 1.5)], act="NONE")
    case(f"{op}_same_relu", [[1, 3, 3, 6], [1, 3, 3, 6]], lambda a, b, f=f: tf.nn.relu(f(a, b)),
         [opname], ranges=[(-3.0, 3.0), (-1.0, 1.0)], act="RELU")
    case(f"{op}_bcast_relu6", [[1, 3, 3, 6], [1, 1, 1, 6]], lambda a, b, f=f: tf.nn.relu6(f(a, b)),
         [opname], ranges=[(-8.0, 8.0), (-2.0, 2.0)], act="RELU6")
case("add_same_scale", [[2, 30], [2, 30]], tf.add, ["ADD"], ranges=[(-1.0, 1.0), (-1.0, 1.0)])

# ---------------------------------------------------------------- MEAN
MEANS = [("mean_hw_keep", [1, 5, 6, 8], [1, 2], True),
         ("mean_hw_nokeep", [1, 5, 6, 8], [1, 2], False),
         ("mean_last", [1, 4, 3, 10], [-1], False),
         ("mean_last_keep", [2, 3, 7], [-1], True),
         ("mean_axis1", [1, 6, 4, 5], [1], False),
         ("mean_axis1_rank3", [2, 9, 4], [1], True)]
for nm, sh, ax, kd in MEANS:
    case(nm, [sh], lambda x, ax=ax, kd=kd: tf.reduce_mean(x, axis=ax, keepdims=kd), ["MEAN"],
         ranges=[(-3.0, 1.0)])

# ---------------------------------------------------------------- PAD
case("pad_4d_hw", [[1, 4, 5, 3]], lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]), ["PAD"],
     ranges=[(-1.0, 3.0)])
case("pad_4d_all", [[1, 3, 3, 2]], lambda x: tf.pad(x, [[0, 1], [1, 0], [0, 2], [1, 1]]), ["PAD"],
     ranges=[(0.5, 3.0)])
case("pad_2d", [[3, 5]], lambda x: tf.pad(x, [[1, 1], [0, 3]]), ["PAD"], ranges=[(-2.0, 2.0)])
case("pad_3d", [[2, 4, 3]], lambda x: tf.pad(x, [[0, 0], [2, 0], [1, 1]]), ["PAD"])

# ---------------------------------------------------------------- CONCATENATION
case("concat_last_2", [[1, 3, 4, 2], [1, 3, 4, 5]], lambda a, b: tf.concat([a, b], -1),
     ["CONCATENATION"], ranges=[(-1.0, 1.0), (-1.0, 1.0)])
case("concat_last_3", [[2, 3], [2, 4], [2, 2]], lambda a, b, c: tf.concat([a, b, c], -1),
     ["CONCATENATION"], ranges=[(-1.0, 1.0)] * 3)
case("concat_axis1_2", [[1, 2, 4, 3], [1, 3, 4, 3]], lambda a, b: tf.concat([a, b], 1),
     ["CONCATENATION"], ranges=[(-1.0, 1.0), (-1.0, 1.0)])
case("concat_axis1_3", [[1, 1, 6], [1, 3, 6], [1, 2, 6]], lambda a, b, c: tf.concat([a, b, c], 1),
     ["CONCATENATION"], ranges=[(-1.0, 1.0)] * 3)
case("concat_axis1_3_mixed", [[1, 1, 6], [1, 3, 6], [1, 2, 6]],
     lambda a, b, c: tf.concat([a, b, c], 1), ["CONCATENATION"],
     ranges=[(-1.0, 1.0), (-4.0, 2.0), (0.0, 0.5)])

# ---------------------------------------------------------------- STRIDED_SLICE
SS = [
    ("ss_basic_4d", [1, 6, 8, 4], lambda x: x[:, 1:5, 2:7, :]),
    ("ss_steps", [1, 7, 9, 3], lambda x: x[:, 0:7:2, 1:9:3, :]),
    ("ss_neg_begin", [1, 5, 6, 4], lambda x: x[:, -3:, :-2, 1:3]),
    ("ss_neg_step", [2, 8], lambda x: x[:, 6:1:-2]),
    ("ss_shrink", [1, 5, 4, 6], lambda x: x[:, 2, :, :]),
    ("ss_shrink_last", [3, 5, 7], lambda x: x[:, :, -1]),
    ("ss_masks_rank3", [4, 6, 5], lambda x: x[1:, :4, ::2]),
    ("ss_stream_like", [1, 5, 1, 8], lambda x: x[:, 2:, :, :]),
]
for nm, sh, fn in SS:
    case(nm, [sh], fn, ["STRIDED_SLICE"])

# ---------------------------------------------------------------- SPLIT / SPLIT_V
case("split_last_2", [[1, 3, 4, 6]], lambda x: tuple(tf.split(x, 2, axis=-1)), ["SPLIT"])
case("split_axis1_3", [[2, 6, 5]], lambda x: tuple(tf.split(x, 3, axis=1)), ["SPLIT"])
case("splitv_last", [[1, 3, 4, 7]], lambda x: tuple(tf.split(x, [2, 5], axis=-1)), ["SPLIT_V"])
case("splitv_axis1_3", [[1, 9, 4]], lambda x: tuple(tf.split(x, [4, 2, 3], axis=1)), ["SPLIT_V"])

# ---------------------------------------------------------------- QUANTIZE / DEQUANTIZE
case("quantize_out_uint8_relu", [[1, 4, 4, 4]], tf.nn.relu, ["RELU", "QUANTIZE"],
     ranges=[(-2.0, 6.0)], out_type=tf.uint8, note="int8 -> uint8 output QUANTIZE")
case("quantize_out_uint8_logistic", [[2, 64]], tf.math.sigmoid, ["LOGISTIC", "QUANTIZE"],
     ranges=[(-6.0, 6.0)], out_type=tf.uint8, note="LOGISTIC then int8 -> uint8 like microWakeWord")
case("quantize_in_uint8", [[1, 32]], tf.nn.relu6, ["QUANTIZE", "RELU6"], ranges=[(-3.0, 8.0)],
     in_type=tf.uint8, note="uint8 -> int8 input QUANTIZE")
case("quantize_in_float", [[1, 24]], tf.nn.relu, ["QUANTIZE", "RELU"], ranges=[(-2.0, 2.0)],
     in_type=tf.float32, note="float -> int8 input QUANTIZE")
case("quantize_requant_tanh_concat", [[1, 16]], lambda x: tf.concat([tf.math.tanh(x), x], -1),
     ["TANH", "QUANTIZE", "CONCATENATION"], ranges=[(-8.0, 8.0)],
     note="int8 -> int8 requantize inserted by TF before CONCATENATION")
case("quantize_requant_logistic_concat", [[2, 20]],
     lambda x: tf.concat([tf.math.sigmoid(x), x], -1),
     ["LOGISTIC", "QUANTIZE", "CONCATENATION"], ranges=[(-5.0, 3.0)],
     note="int8 -> int8 requantize inserted by TF before CONCATENATION")
case("dequantize_out_float", [[1, 24]], tf.nn.relu, ["RELU", "DEQUANTIZE"], ranges=[(-2.0, 4.0)],
     out_type=tf.float32, note="int8 -> float output DEQUANTIZE")
case("dequantize_out_float_fc", [[1, 12]], None, ["FULLY_CONNECTED", "DEQUANTIZE"],
     out_type=tf.float32)

# ---------------------------------------------------------------- RESHAPE / SQUEEZE
case("reshape_4d_to_2d", [[1, 4, 4, 2]], lambda x: tf.reshape(x, [1, 32]), ["RESHAPE"])
case("reshape_2d_to_4d", [[1, 24]], lambda x: tf.reshape(x, [1, 2, 3, 4]), ["RESHAPE"])
case("reshape_3d", [[2, 3, 10]], lambda x: tf.reshape(x, [6, 5, 2]), ["RESHAPE"])


# ---------------------------------------------------------------- flatbuffer edits
# TF 2.21 cannot emit these; the model is converted normally, then edited with the schema's object API.
def drop_bias(m):
    """CONV_2D / DEPTHWISE_CONV_2D always get a (zero) bias from TF; mark it absent (index -1)."""
    op = m.subgraphs[0].operators[0]
    op.inputs = [int(op.inputs[0]), int(op.inputs[1]), -1]


def to_squeeze(dims):
    """TF lowers tf.squeeze to RESHAPE; turn that RESHAPE back into SQUEEZE(squeeze_dims)."""
    def edit(m):
        """RESHAPE rewritten as SQUEEZE"""
        op = m.subgraphs[0].operators[0]
        oc = m.operatorCodes[op.opcodeIndex]
        oc.builtinCode = oc.deprecatedBuiltinCode = fb.BuiltinOperator.SQUEEZE
        op.inputs = [int(op.inputs[0])]
        op.builtinOptionsType = fb.BuiltinOptions.SqueezeOptions
        op.builtinOptions = fb.SqueezeOptionsT()
        op.builtinOptions.squeezeDims = list(dims)
    return edit


conv_case("conv_edit_nobias_3x3_same", [1, 6, 7, 3], (3, 3), 4, bias=False)
CASES[-1].post = drop_bias
# No DEPTHWISE_CONV_2D counterpart: the same edit makes the TFLM Python interpreter (0.dev20261023182759)
# crash with a segmentation fault while preparing the model, so there is no oracle for it.
case("squeeze_edit_axes", [[1, 1, 8, 1]], lambda x: tf.squeeze(x, [1, 3]), ["SQUEEZE"],
     post=to_squeeze([1, 3]))
case("squeeze_edit_all", [[1, 5, 1, 3]], lambda x: tf.squeeze(x), ["SQUEEZE"], post=to_squeeze([]))


def _fix_dequant_fc():
    c = next(c for c in CASES if c.name == "dequantize_out_float_fc")
    r = rng_for(c.name)
    w = tf.constant(r.normal(0, 0.4, size=(12, 5)).astype(np.float32))
    b = tf.constant(r.normal(0, 0.3, size=(5,)).astype(np.float32))
    c.fn = lambda x: tf.matmul(x, w) + b


_fix_dequant_fc()


# ---------------------------------------------------------------- conversion & checks
def convert(c):
    specs = [tf.TensorSpec(s, tf.float32, name=f"in{i}") for i, s in enumerate(c.shapes)]
    func = tf.function(c.fn, input_signature=specs)
    cf = func.get_concrete_function()

    def rep():
        r = np.random.default_rng(c.seed())
        for _ in range(64):
            yield [r.uniform(lo, hi, size=s).astype(np.float32)
                   for s, (lo, hi) in zip(c.shapes, c.ranges)]

    conv = tf.lite.TFLiteConverter.from_concrete_functions([cf], func)
    return convert_int8(conv, rep, input_type=c.in_type, output_type=c.out_type)


def describe(model_bytes):
    """Operator list of every subgraph, with the main details worth printing."""
    m = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(model_bytes, 0))
    out = []
    for sg in m.subgraphs:
        for op in sg.operators or []:
            oc = m.operatorCodes[op.opcodeIndex]
            name = OP_NAMES[max(oc.builtinCode, oc.deprecatedBuiltinCode)]
            opts = op.builtinOptions
            act = getattr(opts, "fusedActivationFunction", None)
            ins = [int(i) for i in op.inputs]
            tin = [TYPE_NAMES[sg.tensors[i].type] if i >= 0 else "-" for i in ins]
            tout = [TYPE_NAMES[sg.tensors[i].type] for i in op.outputs]
            extra = {}
            if act is not None:
                extra["act"] = ACT_NAMES[act]
            if name == "FULLY_CONNECTED":
                extra["keep_num_dims"] = bool(opts.keepNumDims)
            if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
                extra["bias"] = "none" if len(ins) < 3 or ins[2] < 0 else "yes"
            if name == "STRIDED_SLICE":
                extra.update(b=opts.beginMask, e=opts.endMask, s=opts.shrinkAxisMask)
            out.append((name, tin, tout, extra))
    return m, out


def main():
    ap = argparse.ArgumentParser()
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    ap.add_argument("--out", default=os.path.join(root, "engine", "tests", "golden", "ops"))
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    tf.random.set_seed(0)
    bad = []
    total = 0
    index_path = os.path.join(args.out, "cases.json")
    index = {}
    if args.only and os.path.exists(index_path):  # partial run: keep the other cases
        with open(index_path) as f:
            index = json.load(f)
    for c in CASES:
        if args.only and args.only not in c.name:
            continue
        try:
            mb = convert(c)
        except Exception as e:  # noqa: BLE001 - report every failing case, then exit non-zero
            bad.append((c.name, f"convert failed: {e}"))
            continue
        if c.post is not None:
            mt = fb.ModelT.InitFromObj(fb.Model.GetRootAsModel(mb, 0))
            c.post(mt)
            b = flatbuffers.Builder(4096)
            b.Finish(mt.Pack(b), file_identifier=b"TFL3")
            mb = bytes(b.Output())
        _, ops = describe(mb)
        names = [o[0] for o in ops]
        line = " | ".join(f"{n} {ti}->{to} {ex}" if ex else f"{n} {ti}->{to}"
                          for n, ti, to, ex in ops)
        print(f"{c.name:32s} {len(mb):6d} B  {line}")
        problems = []
        if names != c.ops:
            problems.append(f"ops {names} != intended {c.ops}")
        if c.act is not None:
            acts = [o[3]["act"] for o in ops if "act" in o[3]]
            if acts and acts[0] != c.act:
                problems.append(f"fused act {acts[0]} != {c.act}")
        if problems:
            bad.append((c.name, "; ".join(problems)))
            continue
        d = os.path.join(args.out, c.name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "model.tflite"), "wb") as f:
            f.write(mb)
        total += len(mb)
        src = f"scripts/oracle/gen_op_models.py case {c.name}: TF {tf.__version__} full-int8 " \
              f"conversion ({' + '.join(names)})"
        if c.post is not None:
            src += f"; flatbuffer edited: {c.post.__doc__ or c.post.__name__}"
        if c.note:
            src += f"; {c.note}"
        index[c.name] = {"ops": names, "source": " ".join(src.split())}
        print(f"{'':32s} sha256 {hashlib.sha256(mb).hexdigest()[:16]}")
    os.makedirs(args.out, exist_ok=True)
    if not args.only:  # full run: remove case directories of cases that no longer exist
        for d in sorted(os.listdir(args.out)):
            p = os.path.join(args.out, d)
            if os.path.isdir(p) and d not in index:
                print(f"removing stale case dir {p}")
                shutil.rmtree(p)
    with open(index_path, "w") as f:
        f.write("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}"
                                      for k, v in sorted(index.items())) + "\n}\n")
    print(f"total model bytes {total}")
    for n, why in bad:
        print(f"REJECTED {n}: {why}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
