#!/usr/bin/env python3
"""Writes the audio front-end goldens that engine/tests/frontend.rs compares byte for byte.

Run with the oracle venv (tflite-micro, pymicro-features, pymicro-wakeword, numpy):

    /work/venv-oracle/bin/python scripts/frontend/gen_feature_goldens.py [--reference DIR]

Oracles, one per preset:
  micro_wakeword  pymicro-features 2.0.2 (TFLM's classic C micro-frontend, 30 ms window,
                  10 ms step), fed 160-sample chunks through pymicro_wakeword's
                  MicroWakeWordFeatures; int8 = pymicro_wakeword's own expression
                  np.round(features / input_scale + zero_point).astype(np.int8).
  micro_speech    TFLM's audio_preprocessor_int8.tflite (signal-library ops) run in the
                  tflite-micro interpreter on consecutive 480-sample windows 320 samples apart,
                  one interpreter per signal so noise-reduction/PCAN state carries across
                  windows; u16 = the SignalFilterBankLog output tensor, int8 = the model output.
  tf_microfrontend  (optional, needs --tf-python) TensorFlow's audio_microfrontend op with
                  microWakeWord's settings: the same C micro-frontend with double-precision
                  start-up tables, as microWakeWord's training pipeline computes features;
                  int8 with pymicro_wakeword's expression. Computed by tf_microfrontend.py.

Signals: the four TFLM WAVs (read from the reference dir, never copied into the repo), the
synthetic WAVs this script writes deterministically into engine/tests/fixtures/audio/synth_*.wav,
and the espeak-ng phrases made by make_speech.sh (engine/tests/fixtures/audio/speech_*.wav).

Outputs in engine/tests/golden/frontend/:
  <signal>_<preset>.bin  frames*channels little-endian u16 features, then frames*channels int8
  index.json             per signal: source, sample count, sha256 of the s16le samples, and per
                         preset: file, frames, channels, and how many int8 values the oracle's
                         float expression put outside [-128, 127] (numpy wraps those).
  tables.json            start-up tables the oracles compute with floats, as they computed them:
                         micro_wakeword's read out of pymicro-features' library (window,
                         filterbank weights per FFT bin, PCAN gain LUT), micro_speech's taken
                         from the model's constants (plus its noise-reduction and int8 constants),
                         for engine/tests/frontend.rs to compare with what Mote computes.

The oracles' start-up tables depend on the libm they run on (pymicro-features calls this
machine's glibc cosf/log1pf/powf); Mote computes them with the `libm` crate, identically on
every target, and the tests pin them to the values recorded here.
"""

import argparse
import hashlib
import json
import math
import sys
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "engine" / "tests" / "fixtures" / "audio"
OUT = ROOT / "engine" / "tests" / "golden" / "frontend"
SITE = Path(np.__file__).resolve().parents[1]
MWW_MODEL = SITE / "pymicro_wakeword" / "models" / "okay_nabu.tflite"

RATE = 16000
CHANNELS = 40


# --------------------------------------------------------------------------- signals

def write_wav(path: Path, samples: np.ndarray) -> None:
    samples = np.asarray(samples, dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == RATE and w.getsampwidth() == 2 and w.getnchannels() == 1, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int16)


def clip16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


def make_synthetic() -> dict:
    """Deterministic synthetic signals (legacy RandomState streams are frozen across numpy)."""
    t1 = np.arange(RATE) / RATE
    sig = {}

    # 2 s exponential chirp 50 Hz -> 7.9 kHz whose level rises 30 dB, over Gaussian noise.
    rs = np.random.RandomState(1234)
    n = 2 * RATE
    t = np.arange(n) / RATE
    f0, f1, dur = 50.0, 7900.0, 2.0
    k = math.log(f1 / f0) / dur
    phase = 2 * math.pi * f0 * (np.exp(k * t) - 1) / k
    level = 10 ** (-1.5 + 1.5 * t / dur)
    sig["synth_chirp_noise"] = clip16(12000 * level * np.sin(phase) + rs.normal(0, 400, n))

    sig["synth_silence"] = np.zeros(RATE, dtype=np.int16)

    # Full scale: a clipped two-tone, clipped white noise, a +-full-scale square wave, then
    # quiet noise with isolated -32768 spikes (the sample whose absolute value does not fit in
    # int16, which the two TFLM front ends treat differently when picking the FFT input shift).
    rs = np.random.RandomState(99)
    q = RATE // 4
    tone = clip16(4 * 32767 * (0.6 * np.sin(2 * np.pi * 440 * t1[:q]) + 0.4 * np.sin(2 * np.pi * 1234 * t1[:q])))
    noise = clip16(rs.uniform(-2.0, 2.0, q) * 32768)
    square = np.where((np.arange(q) // 8) % 2 == 0, 32767, -32768).astype(np.int16)
    quiet = clip16(rs.normal(0, 60, q))
    quiet[37::97] = -32768
    # ... and some exactly at a window centre (Hann coefficient 4096), for both strides.
    quiet[80::320] = -32768
    sig["synth_clipping"] = np.concatenate([tone, noise, square, quiet])

    # DC offset: +6000 with small noise, then a step to -12000 half way.
    rs = np.random.RandomState(7)
    dc = np.where(np.arange(RATE) < RATE // 2, 6000.0, -12000.0)
    sig["synth_dc_offset"] = clip16(dc + rs.normal(0, 50, RATE))
    return sig


# --------------------------------------------------------------------------- oracles

def oracle_micro_wakeword(samples: np.ndarray, input_scale: float, zero_point: int):
    from pymicro_wakeword import MicroWakeWordFeatures

    feats = list(MicroWakeWordFeatures().process_streaming(samples.astype("<i2").tobytes()))
    if not feats:
        return np.zeros((0, CHANNELS), np.uint16), np.zeros((0, CHANNELS), np.int8), 0
    f = np.concatenate(feats, axis=1)[0]  # (frames, 40) float64, = u16 * 0.0390625
    u16 = np.round(f / 0.0390625).astype(np.int64)
    assert np.all(u16 * 0.0390625 == f), "pymicro-features output is not u16 * 0.0390625"
    # pymicro_wakeword.MicroWakeWord.process_streaming_prob, verbatim expression:
    unclamped = np.round(f / input_scale + zero_point)
    q = unclamped.astype(np.int8)
    out_of_range = int(np.sum((unclamped < -128) | (unclamped > 127)))
    return u16.astype(np.uint16), q, out_of_range


def load_preprocessor(reference: Path):
    from tflite_micro.python.tflite_micro import runtime

    data = (reference / "audio_preprocessor_int8.tflite").read_bytes()
    return runtime, data


def oracle_micro_speech(samples: np.ndarray, runtime, model: bytes, log_tensor: int):
    it = runtime.Interpreter.from_bytes(
        model, intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    frames = (len(samples) - 480) // 320 + 1 if len(samples) >= 480 else 0
    u16 = np.zeros((frames, CHANNELS), np.uint16)
    q = np.zeros((frames, CHANNELS), np.int8)
    for i in range(frames):
        it.set_input(samples[i * 320:i * 320 + 480].reshape(1, 480), 0)
        it.invoke()
        q[i] = it.get_output(0)
        log = it.GetTensor(log_tensor, 0)["tensor_data"]
        assert log.dtype == np.int16 and log.min() >= 0
        u16[i] = log
    return u16, q


# --------------------------------------------------------------------------- tables

F32 = np.float32


def mel(freq) -> np.float32:
    # signal/python/ops/filter_bank_ops.py calls TFLM's C FreqToMel (float in and out,
    # 1127 * log1p(freq / 700) in double).
    return F32(1127.0 * math.log1p(float(F32(freq)) / 700.0))


def signal_filterbank(num_channels, lower, upper, spectrum_size):
    """signal/python/ops/filter_bank_ops.py `_init_filter_bank_weights` (float32 arithmetic,
    weights truncated); returns (start, end, [[bin, segment, weight, unweight]])."""
    n1 = num_channels + 1
    mel_low, mel_hi = mel(lower), mel(upper)
    spacing = F32(F32(mel_hi - mel_low) / F32(n1))
    centers = [F32(mel_low + F32(spacing * F32(i + 1))) for i in range(n1)]
    hz = (RATE / 2) / (spectrum_size - 1)
    start = round(1 + lower / hz)
    bins, freq, end = [], start, 0
    for ch in range(n1):
        first = freq
        while mel(freq * hz) <= centers[ch]:
            freq += 1
        den_val = mel_low if ch == 0 else centers[ch - 1]
        for b in range(first, freq):
            w = F32(F32(centers[ch] - mel(b * hz)) / F32(centers[ch] - den_val))
            wq, uq = int(F32(w * F32(4096))), int(F32(F32(F32(1) - w) * F32(4096)))
            if wq or uq:
                bins.append([b, ch, wq, uq])
        end = max(end, freq)
    return start, end, bins


def pymicro_features_tables():
    """The tables pymicro-features' own C code computes at start-up, read through ctypes from
    its extension module (it exports TFLM's micro-frontend functions). Its copy of the
    micro-frontend computes them in single precision (cosf, log1pf, floorf) on this machine's
    libm; the results are what the micro_wakeword goldens were produced with."""
    import ctypes as C
    import micro_features_cpp

    lib = C.CDLL(micro_features_cpp.__file__)

    class WindowConfig(C.Structure):
        _fields_ = [("size_ms", C.c_size_t), ("step_size_ms", C.c_size_t)]

    class WindowState(C.Structure):
        _fields_ = [("size", C.c_size_t), ("coefficients", C.POINTER(C.c_int16)), ("step", C.c_size_t),
                    ("input", C.POINTER(C.c_int16)), ("input_used", C.c_size_t),
                    ("output", C.POINTER(C.c_int16)), ("max_abs_output_value", C.c_int16)]

    class FilterbankConfig(C.Structure):
        _fields_ = [("num_channels", C.c_int), ("upper_band_limit", C.c_float),
                    ("lower_band_limit", C.c_float), ("output_scale_shift", C.c_int)]

    class FilterbankState(C.Structure):
        _fields_ = [("num_channels", C.c_int), ("start_index", C.c_int), ("end_index", C.c_int),
                    ("channel_frequency_starts", C.POINTER(C.c_int16)),
                    ("channel_weight_starts", C.POINTER(C.c_int16)),
                    ("channel_widths", C.POINTER(C.c_int16)), ("weights", C.POINTER(C.c_int16)),
                    ("unweights", C.POINTER(C.c_int16)), ("work", C.POINTER(C.c_uint64))]

    class PcanConfig(C.Structure):
        _fields_ = [("enable_pcan", C.c_int), ("strength", C.c_float), ("offset", C.c_float),
                    ("gain_bits", C.c_int)]

    ws = WindowState()
    assert lib.WindowPopulateState(C.byref(WindowConfig(30, 10)), C.byref(ws), RATE) == 1
    window = [ws.coefficients[i] for i in range(ws.size)]
    lib.WindowFreeStateContents(C.byref(ws))

    fs = FilterbankState()
    assert lib.FilterbankPopulateState(C.byref(FilterbankConfig(CHANNELS, 7500.0, 125.0, 7)),
                                       C.byref(fs), RATE, 257) == 1
    bins = []
    for ch in range(CHANNELS + 1):
        for j in range(fs.channel_widths[ch]):
            k = fs.channel_weight_starts[ch] + j
            w, u = fs.weights[k], fs.unweights[k]
            if w or u:
                bins.append([fs.channel_frequency_starts[ch] + j, ch, w, u])
    filterbank = {"start": fs.start_index, "end": fs.end_index, "bins": bins}
    lib.FilterbankFreeStateContents(C.byref(fs))

    # PcanGainControlPopulateState's LUT from its exported PcanGainLookupFunction.
    lib.PcanGainLookupFunction.restype = C.c_int16
    cfg = PcanConfig(1, 0.95, 80.0, 21)
    gain = lambda x: int(lib.PcanGainLookupFunction(C.byref(cfg), 7, C.c_uint32(x)))
    lut = [0] * 125
    lut[0], lut[1] = gain(0), gain(1)
    for interval in range(2, 33):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == 32 else 2 * x0
        y0, y1, y2 = gain(x0), gain(x1), gain(x2)
        a1 = 4 * (y1 - y0) - (y2 - y0)
        b = 4 * interval - 6
        lut[b], lut[b + 1], lut[b + 2] = y0, a1, (y2 - y0) - a1
    return window, filterbank, lut


def model_tables(model: bytes):
    """Constant tensors and options of audio_preprocessor_int8.tflite, found by name."""
    sys.path.insert(0, str(SITE / "tflite_micro" / "tensorflow" / "lite" / "micro" / "python"))
    import schema_py_generated as schema
    from flatbuffers import flexbuffers

    m = schema.Model.GetRootAsModel(model, 0)
    sg = m.Subgraphs(0)
    by_name, consts = {}, {}
    for t in range(sg.TensorsLength()):
        tensor = sg.Tensors(t)
        name = tensor.Name().decode()
        by_name[name] = t
        buf = m.Buffers(tensor.Buffer())
        if buf.DataLength():
            dt = {7: "<i2", 2: "<i4"}[tensor.Type()]
            consts[name] = np.frombuffer(bytes(buf.DataAsNumpy()), dtype=dt)
    options = {}
    for o in range(sg.OperatorsLength()):
        op = sg.Operators(o)
        code = m.OperatorCodes(op.OpcodeIndex()).CustomCode()
        if code and op.CustomOptionsLength():
            options[code.decode()] = flexbuffers.Loads(bytes(op.CustomOptionsAsNumpy()))
    fs = consts["signal_filter_bank/Const_2"]
    ws = consts["signal_filter_bank/Const_3"]
    wd = consts["signal_filter_bank/Const_4"]
    w = consts["signal_filter_bank/Const"]
    u = consts["signal_filter_bank/Const_1"]
    bins = []
    for ch in range(len(fs)):
        for j in range(wd[ch]):
            wq, uq = int(w[ws[ch] + j]), int(u[ws[ch] + j])
            if wq or uq:
                bins.append([int(fs[ch]) + j, ch, wq, uq])
    return by_name, consts, options, bins


# --------------------------------------------------------------------------- main

def sha256_samples(samples: np.ndarray) -> str:
    return hashlib.sha256(samples.astype("<i2").tobytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference" / "tflm")
    ap.add_argument("--tf-python", type=Path, default=Path("/work/venv-tf/bin/python"),
                    help="Python with tensorflow for the tf_microfrontend goldens (skipped if missing)")
    ap.add_argument("--no-write-synth", action="store_true",
                    help="do not rewrite engine/tests/fixtures/audio/synth_*.wav")
    args = ap.parse_args()
    ref = args.reference
    if not (ref / "audio_preprocessor_int8.tflite").exists():
        sys.exit(f"reference dir {ref} lacks audio_preprocessor_int8.tflite (pass --reference)")

    OUT.mkdir(parents=True, exist_ok=True)
    FIXTURES.mkdir(parents=True, exist_ok=True)

    if not args.no_write_synth:
        for name, samples in make_synthetic().items():
            write_wav(FIXTURES / f"{name}.wav", samples)

    signals = []  # (name, source, samples)
    for word in ["yes", "no", "silence", "noise"]:
        signals.append((f"tflm_{word}", f"reference:tflm/{word}_1000ms.wav",
                        read_wav(ref / f"{word}_1000ms.wav")))
    for path in sorted(FIXTURES.glob("synth_*.wav")) + sorted(FIXTURES.glob("speech_*.wav")):
        signals.append((path.stem, f"fixture:{path.name}", read_wav(path)))

    # microWakeWord input quantization exactly as pymicro_wakeword reads it.
    from pymicro_wakeword import MicroWakeWord, Model
    mww = MicroWakeWord.from_builtin(Model.OKAY_NABU)
    input_scale, zero_point = mww.input_scale, mww.input_zero_point
    mww.close()

    runtime, model = load_preprocessor(ref)
    by_name, consts, options, signal_bins = model_tables(model)
    log_tensor = by_name["signal_filter_bank_log"]

    tf_features = {}
    if args.tf_python.exists():
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            np.savez(Path(tmp) / "in.npz", **{name: s for name, _, s in signals})
            subprocess.run([str(args.tf_python), str(Path(__file__).with_name("tf_microfrontend.py")),
                            str(Path(tmp) / "in.npz"), str(Path(tmp) / "out.npz")], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with np.load(Path(tmp) / "out.npz") as out:
                tf_features = {name: out[name] for name in out.files}
    else:
        print(f"{args.tf_python} not found: tf_microfrontend goldens not regenerated")

    index = {"generator": "scripts/frontend/gen_feature_goldens.py",
             "layout": "frames*channels u16 little-endian features, then frames*channels int8",
             "micro_wakeword_int8": {"input_scale": input_scale, "zero_point": zero_point},
             "signals": []}
    total = {"micro_wakeword": 0, "micro_speech": 0, "tf_microfrontend": 0}
    for name, source, samples in signals:
        entry = {"name": name, "source": source, "samples": int(len(samples)),
                 "sha256": sha256_samples(samples), "presets": {}}
        u16, q, oor = oracle_micro_wakeword(samples, input_scale, zero_point)
        ms_u16, ms_q = oracle_micro_speech(samples, runtime, model, log_tensor)
        outputs = {"micro_wakeword": (u16, q, oor), "micro_speech": (ms_u16, ms_q, 0)}
        if name in tf_features:
            tf_u16 = tf_features[name].astype(np.uint16)
            unclamped = np.round(tf_u16 * 0.0390625 / input_scale + zero_point)
            outputs["tf_microfrontend"] = (tf_u16, unclamped.astype(np.int8),
                                           int(np.sum((unclamped < -128) | (unclamped > 127))))
        for preset, (f, i8, o) in outputs.items():
            fname = f"{name}_{preset}.bin"
            (OUT / fname).write_bytes(f.astype("<u2").tobytes() + i8.astype(np.int8).tobytes())
            entry["presets"][preset] = {"file": fname, "frames": int(f.shape[0]),
                                        "channels": CHANNELS, "int8_out_of_range": o}
            total[preset] += f.size
        signals_note = f"{name}: {len(samples)} samples, mww {u16.shape[0]} frames" \
                       f" ({oor} int8 out of range), micro_speech {ms_u16.shape[0]} frames"
        print(signals_note)
        index["signals"].append(entry)
    (OUT / "index.json").write_text(json.dumps(index, indent=1) + "\n")

    # Start-up tables. micro_wakeword: read out of pymicro-features' library. micro_speech:
    # the constants baked into the model (and re-derived here from the signal library's
    # Python, to show where they come from).
    mww_window, mww_fb, mww_lut = pymicro_features_tables()
    s_start, s_end, s_bins = signal_filterbank(CHANNELS, 125.0, 7500.0, 257)
    assert s_bins == signal_bins, "signal filterbank emulation disagrees with the model constants"
    energy = options["SignalEnergy"]
    assert (s_start, s_end) == (energy["start_index"], energy["end_index"])
    ss = options["SignalFilterBankSpectralSubtraction"]
    tables = {
        "note": "generated by scripts/frontend/gen_feature_goldens.py",
        "micro_wakeword": {"window": mww_window, "pcan_lut": mww_lut, "filterbank": mww_fb},
        "micro_speech": {
            "window": [int(v) for v in consts["Const"]],
            "pcan_lut": [int(v) for v in consts["signal_pcan/Const"]],
            "filterbank": {"start": s_start, "end": s_end, "bins": s_bins},
            "noise_reduction": {"even_smoothing": ss["smoothing"], "odd_smoothing": ss["alternate_smoothing"],
                                "min_signal_remaining": ss["min_signal_remaining"]},
            "int8": {"mul": int(consts["Const1"][0]), "add": int(consts["Cast_3"][0]),
                     "div": int(consts["Const_1"][0]), "offset": int(consts["Const_2"][0])},
        },
    }
    (OUT / "tables.json").write_text(json.dumps(tables, separators=(",", ":")) + "\n")
    print("values:", ", ".join(f"{k} {v}" for k, v in total.items()))


if __name__ == "__main__":
    main()
