#!/usr/bin/env python3
"""Run every golden case through the official TFLM Python interpreter and write its goldens.

Cases are the directories under engine/tests/golden/ops/ (single-op models made by gen_op_models.py,
inputs: 3 invocations of seeded random data), engine/tests/golden/real/ (third-party models fed
with real features, defined in REAL below) and engine/tests/golden/models/ (whole models shaped
like DS-CNN, person_detect's MobileNet and str-ww, made by gen_kws_models.py into
engine/tests/fixtures/models/, defined in MODELS below). Output per case, in the format the Rust harness reads:

  golden.json   model reference + sha256, inputs/outputs/intermediate tensors, TFLM arena sizes
  inputN.bin    raw bytes of input N for every invocation, back to back
  outputN.bin   raw bytes of output N for every invocation, back to back
  tensors.bin   for each invocation covered (tensors_invocations), for each entry of "tensors" in
                order, its raw bytes (every non-constant, non-resource tensor that is a subgraph
                input or an operator output, read with kPreserveAllTensors)

Third-party models are never copied: golden.json names them as shared:<path under the reference
dir> or pip:<path inside site-packages>, and records their sha256.

Usage: python gen_goldens.py [--only SUBSTRING] [--ref /work/shared/reference]
"""

import argparse
import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import wave
import zlib

import numpy as np
import pymicro_wakeword
from pymicro_wakeword.microwakeword import MicroWakeWordFeatures
from tflite_micro.python.tflite_micro import runtime
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GOLDEN = os.path.join(ROOT, "engine", "tests", "golden")
AUDIO = os.path.join(ROOT, "engine", "tests", "fixtures", "audio")
SITE = os.path.dirname(os.path.dirname(pymicro_wakeword.__file__))

TYPE_NAMES = {v: k.lower() for k, v in fb.TensorType.__dict__.items() if not k.startswith("_")}
NP_DTYPES = {"int8": np.int8, "uint8": np.uint8, "int16": np.int16, "int32": np.int32,
             "float32": np.float32}
N_OP_INVOCATIONS = 3
# Ops whose int8 input goes through a lookup-table-like path: make every int8 value appear.
ALL_VALUES_OPS = {"SOFTMAX", "LOGISTIC", "TANH"}
# Tensor dumps of the real models are capped to this many invocations when all of them would push
# real/ past this many bytes.
REAL_BUDGET = 6_000_000
TENSOR_CAP = 10
BIG_ARENA = 1 << 20


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def resolve(ref, case_dir, refdir):
    if ref.startswith("shared:"):
        path = os.path.join(refdir, ref[len("shared:"):])
    elif ref.startswith("pip:"):
        path = os.path.join(SITE, ref[len("pip:"):])
    else:
        path = os.path.join(case_dir, ref)
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------------------------------------ interpreter helpers
@contextlib.contextmanager
def capture_fd2():
    """Capture what C++ writes to stderr (the recording allocator prints there)."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        os.dup2(tmp.fileno(), 2)
        box = {}
        try:
            yield box
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            box["text"] = tmp.read().decode(errors="replace")


def run(model, invocations, preserve=False, arena=BIG_ARENA):
    cfg = (runtime.InterpreterConfig.kPreserveAllTensors if preserve
           else runtime.InterpreterConfig.kAllocationRecording)
    it = runtime.Interpreter.from_bytes(model, arena_size=arena, intrepreter_config=cfg)
    return it


def invoke_all(it, invocations, n_out, on_invoke=None):
    outs = []
    for k, inputs in enumerate(invocations):
        for i, x in enumerate(inputs):
            it.set_input(x, i)
        it.invoke()
        outs.append([np.array(it.get_output(o)).copy() for o in range(n_out)])
        if on_invoke is not None:
            on_invoke(k)
    return outs


def arena_ok(model, invocations, arena):
    """True if TFLM initializes and runs every invocation in `arena` bytes (in a forked child:
    a too-small arena makes the Python wrapper segfault rather than raise)."""
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            it = run(model, invocations, arena=arena)
            for inputs in invocations:
                for i, x in enumerate(inputs):
                    it.set_input(x, i)
                it.invoke()
            os._exit(0)
        except BaseException:  # noqa: BLE001 - any failure means "does not fit"
            os._exit(3)
    _, status = os.waitpid(pid, 0)
    return status == 0


def min_arena(model, invocations):
    lo, hi = 0, BIG_ARENA
    if not arena_ok(model, invocations, hi):
        raise RuntimeError("model does not run in the 1 MiB arena")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if arena_ok(model, invocations, mid):
            hi = mid
        else:
            lo = mid
    return hi


def model_tensors(model):
    """(subgraph, tensor, name, dtype) of every tensor worth dumping: non-constant, not a resource,
    and actually written (a subgraph input or some operator's output)."""
    m = runtime.convert_bytearray_to_object(model)
    picked = []
    for s, sg in enumerate(m.subgraphs):
        written = set(int(i) for i in (sg.inputs if sg.inputs is not None else []))
        for op in sg.operators or []:
            written.update(int(o) for o in (op.outputs if op.outputs is not None else []))
        for t, ten in enumerate(sg.tensors):
            buf = m.buffers[ten.buffer] if ten.buffer < len(m.buffers) else None
            const = buf is not None and buf.data is not None and len(buf.data) > 0
            dtype = TYPE_NAMES[ten.type]
            if const or dtype == "resource" or t not in written:
                continue
            picked.append((s, t, ten.name.decode(), dtype))
    return m, picked


# ------------------------------------------------------------------ one case
def make_golden(case_dir, model_ref, invocations, source, refdir, tensor_invocations=None,
                check=None):
    model = resolve(model_ref, case_dir, refdir)
    m, picked = model_tensors(model)
    sg0 = m.subgraphs[0]
    n_out = len(sg0.outputs)

    # 1) plain interpreter (recording allocator): the outputs, and TFLM's own arena accounting
    with capture_fd2() as box:
        it = run(model, invocations)
        outs = invoke_all(it, invocations, n_out)
        it.print_allocations()
    used = None
    for line in box["text"].splitlines():
        if "Arena allocation total" in line:
            used = int(line.split("total")[1].split()[0])
    in_details = [it.get_input_details(i) for i in range(len(sg0.inputs))]
    out_details = [it.get_output_details(o) for o in range(n_out)]
    del it

    # 2) kPreserveAllTensors: same outputs, plus every intermediate tensor after each invocation
    n_inv = len(invocations)
    t_inv = n_inv if tensor_invocations is None else min(tensor_invocations, n_inv)
    it = run(model, invocations, preserve=True)
    dumps = []
    unreadable = []
    entries = []

    def grab(k):
        if k >= t_inv:
            return
        chunk = []
        for (s, t, name, dtype) in picked:
            try:
                d = it.GetTensor(t, s)
                arr = np.asarray(d["tensor_data"])
            except Exception as e:  # noqa: BLE001
                if k == 0:
                    unreadable.append((s, t, name, str(e)))
                continue
            if k == 0:
                entries.append({"subgraph": s, "tensor": t, "name": name, "dtype": dtype,
                                "shape": [int(x) for x in d["shape"]], "bytes": arr.nbytes})
            chunk.append(arr.tobytes())
        dumps.append(b"".join(chunk))

    outs2 = invoke_all(it, invocations, n_out, on_invoke=grab)
    del it
    for a, b in zip(outs, outs2):
        for x, y in zip(a, b):
            if x.tobytes() != y.tobytes():
                raise RuntimeError(f"{case_dir}: preserve-all-tensors run disagrees with plain run")

    arena = min_arena(model, invocations)

    inputs_meta, outputs_meta = [], []
    for i, det in enumerate(in_details):
        fn = f"input{i}.bin"
        with open(os.path.join(case_dir, fn), "wb") as f:
            for inv in invocations:
                f.write(np.ascontiguousarray(inv[i]).tobytes())
        inputs_meta.append({"tensor": int(sg0.inputs[i]), "dtype": np.dtype(det["dtype"]).name,
                            "shape": [int(x) for x in det["shape"]], "file": fn})
    for o, det in enumerate(out_details):
        fn = f"output{o}.bin"
        with open(os.path.join(case_dir, fn), "wb") as f:
            for inv_out in outs:
                f.write(inv_out[o].tobytes())
        outputs_meta.append({"tensor": int(sg0.outputs[o]), "dtype": np.dtype(det["dtype"]).name,
                             "shape": [int(x) for x in det["shape"]], "file": fn})

    g = {"model": model_ref, "model_sha256": sha256(model), "invocations": n_inv,
         "inputs": inputs_meta, "outputs": outputs_meta, "tensors": entries}
    tpath = os.path.join(case_dir, "tensors.bin")
    if entries:
        g["tensors_file"] = "tensors.bin"
        with open(tpath, "wb") as f:
            for d in dumps:
                f.write(d)
    elif os.path.exists(tpath):
        os.remove(tpath)
    g["tensors_invocations"] = t_inv if entries else 0
    g["tflm_arena_bytes"] = arena
    if used is not None:
        g["arena_used_bytes"] = used
    g["source"] = source
    text = json.dumps(g, indent=1)
    # keep number lists (shapes) on one line
    text = re.sub(r"\[([-\d,\s]+)\]",
                  lambda mm: "[" + ", ".join(x.strip() for x in mm.group(1).split(",")) + "]", text)
    with open(os.path.join(case_dir, "golden.json"), "w") as f:
        f.write(text + "\n")
    if check is not None:
        check(outs)
    return g, unreadable, outs


# ------------------------------------------------------------------ op cases: inputs
def op_inputs(model, case, ops):
    """N_OP_INVOCATIONS invocations of seeded random data per input (full int8/uint8 range)."""
    m = runtime.convert_bytearray_to_object(model)
    sg = m.subgraphs[0]
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    per_input = []
    for idx in sg.inputs:
        t = sg.tensors[idx]
        dtype = TYPE_NAMES[t.type]
        shape = [int(x) for x in t.shape]
        size = int(np.prod(shape))
        total = size * N_OP_INVOCATIONS
        if dtype in ("int8", "uint8"):
            info = np.iinfo(NP_DTYPES[dtype])
            vals = rng.integers(info.min, info.max + 1, size=total)
            if ALL_VALUES_OPS & set(ops) and total >= 256:
                # every representable value once, at random positions, rest random
                pos = rng.permutation(total)[:256]
                vals[pos] = np.arange(info.min, info.max + 1)
            arr = vals.astype(NP_DTYPES[dtype])
        elif dtype == "float32":
            # cover the quantized range and beyond it (saturation), plus exact zeros
            q = t.quantization
            lo, hi = -3.0, 3.0
            if q is not None and q.scale is not None and len(q.scale):
                s, z = float(q.scale[0]), int(q.zeroPoint[0])
                lo, hi = (-128 - z) * s * 1.25, (127 - z) * s * 1.25
            arr = rng.uniform(lo, hi, size=total).astype(np.float32)
            arr[:: max(1, total // 7)] = 0.0
        else:
            raise RuntimeError(f"{case}: no input generator for {dtype}")
        per_input.append(arr.reshape([N_OP_INVOCATIONS] + shape))
    return [[x[k] for x in per_input] for k in range(N_OP_INVOCATIONS)]


# ------------------------------------------------------------------ real cases: inputs
def read_wav(path):
    with wave.open(path, "rb") as w:
        assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


def micro_speech_features(wav_path, refdir):
    """TFLM micro_speech front end: audio_preprocessor_int8.tflite run in the TFLM interpreter on
    480-sample (30 ms) windows every 320 samples (20 ms), first 49 windows, state carried across
    windows; the 49 x 40 int8 outputs concatenated are the model input."""
    pre = resolve("shared:tflm/audio_preprocessor_int8.tflite", None, refdir)
    audio = read_wav(wav_path)
    it = runtime.Interpreter.from_bytes(pre, arena_size=BIG_ARENA)
    frames = []
    for i in range(49):
        win = audio[320 * i: 320 * i + 480]
        assert len(win) == 480
        it.set_input(win.reshape(1, 480).astype(np.int16), 0)
        it.invoke()
        frames.append(np.array(it.get_output(0)).astype(np.int8).reshape(-1))
    return np.concatenate(frames).reshape(1, 1960)


def wakeword_inputs(model, wav_path):
    """microWakeWord streaming inputs: pymicro_features' MicroFrontend (10 ms step, 40 channels,
    driven exactly as pymicro_wakeword.MicroWakeWordFeatures does), 3 frames per invocation.

    Quantization, as pymicro_wakeword.MicroWakeWord.process_streaming_prob does it:
        q = np.round(features / input_scale + input_zero_point).astype(int8)
    (features are the frontend's float outputs, np.round is round-half-to-even; the models have
    input_scale 0.10196079 and input_zero_point -128). pymicro_wakeword does not clip; we assert that
    no value leaves the int8 range so the cast is well defined."""
    it = runtime.Interpreter.from_bytes(model, arena_size=BIG_ARENA)
    det = it.get_input_details(0)
    scale = float(det["quantization_parameters"]["scales"][0])
    zp = int(det["quantization_parameters"]["zero_points"][0])
    stride = int(det["shape"][1])
    del it
    audio = read_wav(wav_path)
    fe = MicroWakeWordFeatures()
    feats = list(fe.process_streaming(audio.tobytes()))
    invs = []
    for k in range(len(feats) // stride):
        f = np.concatenate(feats[k * stride:(k + 1) * stride], axis=1)
        q = np.round(f / scale + zp)
        assert q.min() >= -128 and q.max() <= 127, (wav_path, q.min(), q.max())
        invs.append([q.astype(np.int8)])
    return invs


def micro_speech_case(refdir):
    ref = "shared:tflm/micro_speech_quantized.tflite"
    invs = [[micro_speech_features(os.path.join(refdir, "tflm", w), refdir)]
            for w in ("yes_1000ms.wav", "no_1000ms.wav")]
    rng = np.random.default_rng(1960)
    invs += [[rng.integers(-128, 128, size=(1, 1960)).astype(np.int8)] for _ in range(2)]

    def check(outs):
        am = [int(np.argmax(o[0])) for o in outs]
        print(f"    micro_speech argmax per invocation: {am} (labels silence,unknown,yes,no)")
        assert am[0] == 2 and am[1] == 3, am

    src = ("TFLM micro_speech model; invocations 0,1: features of tflm/yes_1000ms.wav and "
           "no_1000ms.wav from audio_preprocessor_int8.tflite in the TFLM interpreter (480-sample "
           "windows every 320 samples, first 49); 2,3: seeded random int8")
    return ref, invs, src, check


def hello_world_case(refdir):
    ref = "shared:tflm/hello_world_int8.tflite"
    model = resolve(ref, None, refdir)
    it = runtime.Interpreter.from_bytes(model, arena_size=BIG_ARENA)
    qi = it.get_input_details(0)["quantization_parameters"]
    qo = it.get_output_details(0)["quantization_parameters"]
    s, z = float(qi["scales"][0]), int(qi["zero_points"][0])
    shape = [int(x) for x in it.get_input_details(0)["shape"]]
    xs = np.linspace(0.0, 2 * np.pi, 8)
    invs = [[np.clip(np.round(x / s) + z, -128, 127).astype(np.int8).reshape(shape)] for x in xs]

    def check(outs):
        so, zo = float(qo["scales"][0]), int(qo["zero_points"][0])
        ys = [(int(o[0].reshape(-1)[0]) - zo) * so for o in outs]
        err = max(abs(y - np.sin(x)) for x, y in zip(xs, ys))
        print(f"    hello_world max |y - sin x| = {err:.3f}")
        assert err < 0.25, err

    src = "TFLM hello_world int8 sine model; 8 inputs x = linspace(0, 2pi, 8) quantized with the input params"
    return ref, invs, src, check


def wakeword_case(name):
    def build(refdir):
        ref = f"pip:pymicro_wakeword/models/{name}.tflite"
        model = resolve(ref, None, refdir)
        wav = os.path.join(AUDIO, f"{name}.wav")
        invs = wakeword_inputs(model, wav)
        with open(os.path.join(SITE, "pymicro_wakeword", "models", f"{name}.json")) as f:
            cutoff = json.load(f)["micro"]["probability_cutoff"]

        def check(outs):
            probs = np.array([int(o[0].reshape(-1)[0]) for o in outs]) / 255.0
            print(f"    {name}: {len(outs)} invocations, max prob {probs.max():.3f} "
                  f"(cutoff {cutoff}), argmax at {int(probs.argmax())}")

        src = (f"microWakeWord {name} (pymicro-wakeword 2.5.0 wheel), streaming: state carries "
               f"across invocations; inputs: pymicro_features MicroFrontend (10 ms step) over "
               f"engine/tests/fixtures/audio/{name}.wav (espeak-ng en-us via make_speech.sh), 3 "
               f"frames per invocation, quantized like pymicro_wakeword")
        return ref, invs, src, check
    return build


REAL = {
    "micro_speech": micro_speech_case,
    "hello_world": hello_world_case,
    "okay_nabu": wakeword_case("okay_nabu"),
    "hey_jarvis": wakeword_case("hey_jarvis"),
    "alexa": wakeword_case("alexa"),
    "hey_mycroft": wakeword_case("hey_mycroft"),
}


# ------------------------------------------------------------------ whole-model cases
# case -> fixture file (engine/tests/fixtures/models/, written by gen_kws_models.py), and whether
# intermediates of invocation 0 are dumped (the qdim3 copy computes the same tensors as its
# original, so only its outputs are kept).
MODELS = {
    "ds_cnn": ("ds_cnn.tflite", True),
    "mobilenet_025": ("mobilenet_025.tflite", True),
    "mobilenet_025_qdim3": ("mobilenet_025_qdim3.tflite", False),
    "str_ww": ("str_ww.tflite", True),
}
N_MODEL_INVOCATIONS = 4


def model_case_inputs(model, case):
    """Invocations 0-2: seeded N(0, 1.5) floats quantized with the input's scale and zero point
    (the kind of data the models were trained on); 3: seeded uniform int8 over the full range."""
    it = runtime.Interpreter.from_bytes(model, arena_size=BIG_ARENA)
    det = it.get_input_details(0)
    q = det["quantization_parameters"]
    scale, zp = float(q["scales"][0]), int(q["zero_points"][0])
    shape = [int(x) for x in det["shape"]]
    del it
    rng = np.random.default_rng(zlib.crc32(case.replace("_qdim3", "").encode()))
    invs = []
    for _ in range(N_MODEL_INVOCATIONS - 1):
        f = rng.normal(0.0, 1.5, size=shape)
        invs.append([np.clip(np.round(f / scale) + zp, -128, 127).astype(np.int8)])
    invs.append([rng.integers(-128, 128, size=shape).astype(np.int8)])
    return invs


def estimate_bytes(model, invocations):
    """Bytes of input/output/tensor files for a case, from the model's static shapes."""
    m, picked = model_tensors(model)
    per_inv = 0
    for sg_i, t, _, _ in picked:
        ten = m.subgraphs[sg_i].tensors[t]
        per_inv += int(np.prod(ten.shape)) * np.dtype(NP_DTYPES[TYPE_NAMES[ten.type]]).itemsize
    io = sum(np.asarray(x).nbytes for x in invocations[0]) if invocations else 0
    return (per_inv + io) * len(invocations)


def dir_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default=None)
    ap.add_argument("--ref", default=os.environ.get("MOTE_REFERENCE", "/work/shared/reference"))
    ap.add_argument("--tensor-cap", type=int, default=None,
                    help="dump real/ intermediates for only the first N invocations")
    args = ap.parse_args()
    report = []

    ops_dir = os.path.join(GOLDEN, "ops")
    with open(os.path.join(ops_dir, "cases.json")) as f:
        index = json.load(f)
    for case in sorted(index):
        if args.only and args.only not in case:
            continue
        d = os.path.join(ops_dir, case)
        with open(os.path.join(d, "model.tflite"), "rb") as f:
            model = f.read()
        invs = op_inputs(model, case, index[case]["ops"])
        g, unreadable, _ = make_golden(d, "model.tflite", invs, index[case]["source"], args.ref)
        print(f"ops/{case:34s} arena {g['tflm_arena_bytes']:6d} (used {g.get('arena_used_bytes')})"
              f" tensors {len(g['tensors'])} files {dir_bytes(d)} B")
        report += [(case, u) for u in unreadable]

    real_dir = os.path.join(GOLDEN, "real")
    real_cases = [c for c in REAL if not args.only or args.only in c]
    built = {c: REAL[c](args.ref) for c in real_cases}
    # Tensor dumps for every invocation unless that would push real/ past REAL_BUDGET bytes;
    # then only the first TENSOR_CAP invocations (outputs always cover every invocation).
    cap = args.tensor_cap
    if not args.only and cap is None:
        est = 0
        for c, (ref, invs, _, _) in built.items():
            est += estimate_bytes(resolve(ref, None, args.ref), invs)
        print(f"real/ estimated {est} B with tensors for every invocation")
        if est > REAL_BUDGET:
            cap = TENSOR_CAP
    for case, (ref, invs, src, check) in built.items():
        d = os.path.join(real_dir, case)
        os.makedirs(d, exist_ok=True)
        g, unreadable, _ = make_golden(d, ref, invs, src, args.ref, tensor_invocations=cap,
                                       check=check)
        print(f"real/{case:20s} invocations {len(invs)} arena {g['tflm_arena_bytes']} "
              f"(used {g.get('arena_used_bytes')}) tensors {len(g['tensors'])} x "
              f"{g['tensors_invocations']} invocations, files {dir_bytes(d)} B")
        report += [(case, u) for u in unreadable]

    models_dir = os.path.join(GOLDEN, "models")
    for case, (fixture, dump) in MODELS.items():
        if args.only and args.only not in case:
            continue
        d = os.path.join(models_dir, case)
        os.makedirs(d, exist_ok=True)
        ref = f"../../../fixtures/models/{fixture}"
        model = resolve(ref, d, args.ref)
        invs = model_case_inputs(model, case)
        src = (f"engine/tests/fixtures/models/{fixture} (scripts/oracle/gen_kws_models.py); "
               f"inputs 0-2: seeded N(0, 1.5) quantized with the input params, 3: seeded "
               f"uniform int8; intermediates of invocation 0" + ("" if dump else ": none"))
        g, unreadable, outs = make_golden(d, ref, invs, src, args.ref,
                                          tensor_invocations=1 if dump else 0)
        print(f"models/{case:20s} arena {g['tflm_arena_bytes']} (used {g.get('arena_used_bytes')})"
              f" outputs {[o[0].reshape(-1).tolist() for o in outs]} files {dir_bytes(d)} B")
        report += [(case, u) for u in unreadable]

    if os.path.isdir(real_dir) and not args.only:
        total = sum(dir_bytes(os.path.join(real_dir, c)) for c in os.listdir(real_dir))
        print(f"real/ total {total} B")
    for case, u in report:
        print(f"UNREADABLE {case}: subgraph {u[0]} tensor {u[1]} {u[2]}: {u[3]}")


if __name__ == "__main__":
    main()
