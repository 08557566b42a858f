#!/usr/bin/env python3
"""MFCC keyword model (MLPerf Tiny KWS shape) trained on espeak-ng words, and the TensorFlow
oracle for Mote's MFCC front end (`engine/src/mfcc/`).

Features are MLPerf Tiny KWS's `get_dataset.py` pipeline in `tf.signal`, on audio scaled to
[-1, 1) by 1/32768: `stft` (30 ms periodic-Hann frames every 20 ms, 512-point FFT), `abs`,
`linear_to_mel_weight_matrix` (40 HTK mel bins, 20-4000 Hz) via `tensordot`,
`log(mel + 1e-6)`, `mfccs_from_log_mel_spectrograms`, first 10. Input quantization
`q = clamp(round_half_even(f32(x) / f32(scale)) + zero_point, -128, 127)`.

Writes
  engine/tests/fixtures/models/ds_cnn_mfcc.tflite   the MLPerf DS-CNN (int8 [1,49,10,1] -> 12,
                                                    labels in MLPerf's order) trained with TF
  engine/tests/fixtures/audio/mfcc/<word>.wav       one held-out espeak-ng clip per label word
                                                    (16 kHz s16, trimmed, < 1 s)
  engine/tests/golden/mfcc/features.bin             TF's float features of each clip placed at
                                                    sample 2000 of a 1 s window (f32 LE, 49x10)
  engine/tests/golden/mfcc/decisions.json           TFLM's output for every clip variant of the
                                                    agreement set (see `variants`)

The agreement set is built from the committed clips with integer operations only (offset,
arithmetic-shift gain, a 32-bit LCG noise), so `engine/tests/mfcc.rs` rebuilds the same samples.
Needs espeak-ng. Deterministic seeds; takes about two minutes on two cores.
Usage: python gen_mfcc.py; python gen_mfcc.py --real [REFERENCE_DIR] (TFLM's four recordings,
read from the reference directory, for the committed model: decisions_real.json).
"""

import json
import os
import subprocess
import sys
import tempfile
import wave

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tflite_micro.python.tflite_micro import runtime  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from gen_kws_models import ds_cnn, seed_all, to_int8  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODEL = os.path.join(ROOT, "engine", "tests", "fixtures", "models", "ds_cnn_mfcc.tflite")
AUDIO = os.path.join(ROOT, "engine", "tests", "fixtures", "audio", "mfcc")
GOLDEN = os.path.join(ROOT, "engine", "tests", "golden", "mfcc")

LABELS = ["down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence",
          "unknown"]
KEYWORDS = LABELS[:10]
UNKNOWN_TRAIN = ["bed", "bird", "cat", "dog", "house", "tree", "wow", "happy", "marvin", "sheila",
                 "seven", "three", "four", "nine", "zero"]
# Held-out unknown words (never trained on) for the committed clips.
UNKNOWN_TEST = ["learn", "visual"]
TRAIN_VOICES = ["en-us", "en-us+m1", "en-us+m3", "en-us+m5", "en-us+f1", "en-us+f3", "en+m2",
                "en+m4", "en+f2", "en+f4", "en-us+klatt", "en-us+croak"]
TEST_VOICE = "en-us+m7"
SPEEDS = [130, 165]
PITCHES = [35, 60]
SR = 16000
SAMPLES = 16000
PLACE = 2000  # where a committed clip starts in the feature goldens' 1 s window


def espeak(word, voice, speed, pitch, tmp):
    raw = os.path.join(tmp, "e.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", raw, word],
                   check=True)
    with wave.open(raw) as w:
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    # Band-limited resampling to 16 kHz (FFT method; espeak-ng writes 22,050 Hz), then trim
    # everything quieter than 1 % of the peak at both ends.
    n = int(round(len(x) * SR / rate))
    spec = np.fft.rfft(x)[: n // 2 + 1]
    y = np.fft.irfft(spec, n) * (n / len(x))
    y = np.clip(np.round(y), -32768, 32767).astype(np.int32)
    loud = np.nonzero(np.abs(y) > 0.01 * max(1, np.abs(y).max()))[0]
    y = y[loud[0]:loud[-1] + 1] if len(loud) else y
    return y[:SAMPLES - 6000]


def lcg_noise(seed, n, shift):
    """32-bit LCG (Numerical Recipes constants); sample = (int16)(state >> 16) >> shift."""
    out = np.empty(n, dtype=np.int32)
    s = seed & 0xFFFFFFFF
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        v = (s >> 16) & 0xFFFF
        v = v - 0x10000 if v >= 0x8000 else v
        out[i] = v >> shift
    return out


def place(clip, offset, gain_shift, noise_seed, noise_shift):
    """1 s int16 window: `clip` at `offset`, scaled by 2^-gain_shift (arithmetic shift; -1 doubles,
    saturating), plus LCG noise when noise_seed != 0. Mirrored in engine/tests/mfcc.rs."""
    x = np.zeros(SAMPLES, dtype=np.int32)
    n = min(len(clip), SAMPLES - offset)
    c = clip[:n].astype(np.int32)
    c = c * 2 if gain_shift < 0 else c >> gain_shift
    x[offset:offset + n] = c
    if noise_seed:
        x = x + lcg_noise(noise_seed, SAMPLES, noise_shift)
    return np.clip(x, -32768, 32767).astype(np.int16)


def variants(clips):
    """(name, clip index or -1 for noise only, offset, gain_shift, noise_seed, noise_shift)."""
    out = []
    for ci, _ in enumerate(clips):
        for offset in (0, 1500, 3000, 4500, 6000):
            for gain in (-1, 0, 1, 3):
                for noise in (0, ci * 16 + offset // 1500 + 1):
                    out.append((ci, offset, gain, noise, 6))
    for k in range(8):
        out.append((-1, 0, 0, 1000 + k, 4 + k))
    return out


def render(clips, v):
    ci, offset, gain, noise, nshift = v
    clip = clips[ci] if ci >= 0 else np.zeros(0, dtype=np.int32)
    return place(clip, offset, gain, noise, nshift)


MEL = tf.signal.linear_to_mel_weight_matrix(40, 257, SR, 20.0, 4000.0)


@tf.function
def mfcc(audio_i16):
    x = tf.cast(audio_i16, tf.float32) / 32768.0
    stfts = tf.signal.stft(x, frame_length=480, frame_step=320, fft_length=512,
                           window_fn=tf.signal.hann_window)
    spec = tf.abs(stfts)
    mel = tf.tensordot(spec, MEL, 1)
    log_mel = tf.math.log(mel + 1e-6)
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :10]


def features(batch):
    out = []
    for i in range(0, len(batch), 256):
        out.append(mfcc(np.stack(batch[i:i + 256])).numpy())
    return np.concatenate(out)[..., np.newaxis]


def quantize(f, scale, zp):
    q = np.round(f.astype(np.float32) / np.float32(scale)) + zp
    return np.clip(q, -128, 127).astype(np.int8)


def training_set(tmp, rng):
    clips, labels = [], []
    for label, words in [(i, [w]) for i, w in enumerate(KEYWORDS)] + [(11, UNKNOWN_TRAIN)]:
        for word in words:
            for voice in TRAIN_VOICES:
                for speed in SPEEDS:
                    for pitch in PITCHES:
                        if label == 11 and rng.random() < 0.6:
                            continue  # keep "unknown" about as frequent as one keyword x 2
                        clips.append(espeak(word, voice, speed, pitch, tmp))
                        labels.append(label)
    audio, y = [], []
    for clip, label in zip(clips, labels):
        for _ in range(3):
            offset = int(rng.integers(0, SAMPLES - len(clip) + 1))
            gain = int(rng.integers(-1, 4))
            x = place(clip, offset, gain, 0, 0).astype(np.int32)
            if rng.random() < 0.5:
                x += rng.integers(-32768, 32768, SAMPLES) >> int(rng.integers(5, 9))
            audio.append(np.clip(x, -32768, 32767).astype(np.int16))
            y.append(label)
    for _ in range(len(clips) * 3 // 12):
        x = rng.integers(-32768, 32768, SAMPLES) >> int(rng.integers(3, 12))
        audio.append(x.astype(np.int16))
        y.append(10)
    return audio, np.array(y)


def main():
    seed_all(15)
    rng = np.random.default_rng(15)
    os.makedirs(AUDIO, exist_ok=True)
    os.makedirs(GOLDEN, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        audio, y = training_set(tmp, rng)
        test_words = KEYWORDS + UNKNOWN_TEST
        clips = [espeak(w, TEST_VOICE, 150, 45, tmp) for w in test_words]
    x = features(audio)
    print(f"training examples: {len(y)}, feature range {x.min():.2f}..{x.max():.2f}")

    model, _ = ds_cnn()
    model.compile(optimizer=tf.keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, y, batch_size=64, epochs=25, shuffle=True, verbose=0)
    print(f"train accuracy {hist.history['accuracy'][-1]:.3f}")

    tfl = to_int8(ds_cnn, model, x[rng.permutation(len(x))[:200]])
    with open(MODEL, "wb") as f:
        f.write(tfl)

    it = runtime.Interpreter.from_bytes(tfl, arena_size=200_000)
    d = it.get_input_details(0)
    scale, zp = float(d["quantization_parameters"]["scales"][0]), int(
        d["quantization_parameters"]["zero_points"][0])

    def tflm(q):
        it.reset()
        it.set_input(q.reshape(1, 49, 10, 1), 0)
        it.invoke()
        return it.get_output(0).reshape(-1)

    for w, clip in zip(test_words, clips):
        with wave.open(os.path.join(AUDIO, f"{w}.wav"), "wb") as f:
            f.setnchannels(1)
            f.setsampwidth(2)
            f.setframerate(SR)
            f.writeframes(clip.astype("<i2").tobytes())
    base = [place(c, PLACE, 0, 0, 0) for c in clips]
    fb = features(base).astype("<f4")
    fb.tofile(os.path.join(GOLDEN, "features.bin"))

    vs = variants(clips)
    fv = features([render(clips, v) for v in vs])
    records, correct = [], 0
    for v, f in zip(vs, fv):
        out = tflm(quantize(f, scale, zp))
        top = int(np.argmax(out))
        word = test_words[v[0]] if v[0] >= 0 else "silence"
        want = 11 if word in UNKNOWN_TEST else LABELS.index(word)
        correct += top == want
        records.append({"clip": v[0], "offset": v[1], "gain_shift": v[2], "noise_seed": v[3],
                        "noise_shift": v[4], "top": top, "scores": [int(s) for s in out]})
    golden = {
        "note": "written by scripts/oracle/gen_mfcc.py: TF features -> TFLM, per clip variant",
        "labels": LABELS,
        "clips": test_words,
        "place": PLACE,
        "input_scale": scale,
        "input_zero_point": zp,
        "variants": records,
    }
    with open(os.path.join(GOLDEN, "decisions.json"), "w") as f:
        json.dump(golden, f, indent=0)
        f.write("\n")
    print(f"{MODEL}: {len(tfl)} B; input scale {scale} zp {zp}; held-out accuracy on "
          f"{len(vs)} variants: {correct / len(vs):.3f}")


REAL = ["yes_1000ms.wav", "no_1000ms.wav", "silence_1000ms.wav", "noise_1000ms.wav"]


def real(refdir):
    """TFLM decisions on TF features of TFLM's four 1 s recordings (third-party: read from the
    reference directory, never copied) at four gains, with and without noise, for the committed
    model: engine/tests/golden/mfcc/decisions_real.json (numbers only)."""
    with open(MODEL, "rb") as f:
        tfl = f.read()
    it = runtime.Interpreter.from_bytes(tfl, arena_size=200_000)
    d = it.get_input_details(0)
    scale = float(d["quantization_parameters"]["scales"][0])
    zp = int(d["quantization_parameters"]["zero_points"][0])
    clips = []
    for name in REAL:
        with wave.open(os.path.join(refdir, "tflm", name)) as w:
            clips.append(np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32))
    vs = [(ci, 0, g, n * (ci * 16 + g + 2), 6) for ci in range(len(clips)) for g in (-1, 0, 1, 3)
          for n in (0, 1)]
    fv = features([render(clips, v) for v in vs])
    records = []
    for v, f in zip(vs, fv):
        it.reset()
        it.set_input(quantize(f, scale, zp).reshape(1, 49, 10, 1), 0)
        it.invoke()
        out = it.get_output(0).reshape(-1)
        records.append({"clip": v[0], "offset": v[1], "gain_shift": v[2], "noise_seed": v[3],
                        "noise_shift": v[4], "top": int(np.argmax(out)),
                        "scores": [int(x) for x in out]})
        print(REAL[v[0]], v[2:4], LABELS[int(np.argmax(out))])
    golden = {"note": "written by scripts/oracle/gen_mfcc.py --real: TF features -> TFLM",
              "clips": REAL, "reference": "tflm/", "input_scale": scale,
              "input_zero_point": zp, "variants": records}
    with open(os.path.join(GOLDEN, "decisions_real.json"), "w") as f:
        json.dump(golden, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--real":
        real(sys.argv[2] if len(sys.argv) > 2 else "/work/shared/reference")
    else:
        main()
