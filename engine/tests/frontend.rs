//! The audio front end against its two oracles, value for value.
//!
//! Goldens: `engine/tests/golden/frontend/`, written by `scripts/frontend/gen_feature_goldens.py`
//! from pymicro-features (preset `micro_wakeword`), TFLM's audio_preprocessor_int8.tflite in
//! the TFLM interpreter (preset `micro_speech`) and TensorFlow's audio_microfrontend op
//! (`tf_microfrontend`: the micro_wakeword settings with double-precision tables). Audio: committed fixtures
//! (`engine/tests/fixtures/audio/`) and TFLM's four reference WAVs, read from
//! `$MOTE_REFERENCE` or `<repo>/../shared/reference`. Without that directory the tests that
//! need it are skipped with a message, unless `CI` is set, where they fail.

use std::path::{Path, PathBuf};

use mote_engine::frontend::{tables, Flavor, Frontend, FrontendConfig, Int8Mapping};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn engine_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn golden_dir() -> PathBuf {
    engine_dir().join("tests/golden/frontend")
}

fn load_json(name: &str) -> Value {
    let text = std::fs::read_to_string(golden_dir().join(name)).expect("golden json");
    serde_json::from_str(&text).expect("valid json")
}

/// The reference data directory, or `None` (skip) when absent outside CI.
fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MOTE_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| engine_dir().join("../../shared/reference"));
    if dir.join("tflm").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI")
        .map(|v| !v.is_empty() && v != "false" && v != "0")
        .unwrap_or(false);
    assert!(
        !ci,
        "CI is set but the reference data directory {} is missing",
        dir.display()
    );
    eprintln!(
        "SKIPPED: reference data {} not found (set MOTE_REFERENCE); TFLM WAV goldens not checked",
        dir.display()
    );
    None
}

fn read_wav(path: &Path) -> Vec<i16> {
    let mut reader =
        hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 16000, 16),
        "{}",
        path.display()
    );
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect()
}

fn sha256_samples(samples: &[i16]) -> String {
    let mut h = Sha256::new();
    for s in samples {
        h.update(s.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Audio of a golden signal, or `None` when it is reference data and the reference is absent.
fn signal_samples(entry: &Value, reference: Option<&Path>) -> Option<Vec<i16>> {
    let source = entry["source"].as_str().expect("source");
    let path = if let Some(rel) = source.strip_prefix("reference:") {
        reference?.join(rel)
    } else if let Some(name) = source.strip_prefix("fixture:") {
        engine_dir().join("tests/fixtures/audio").join(name)
    } else {
        panic!("unknown source {source}");
    };
    let samples = read_wav(&path);
    assert_eq!(
        samples.len() as u64,
        entry["samples"].as_u64().expect("samples"),
        "{source}"
    );
    assert_eq!(
        sha256_samples(&samples),
        entry["sha256"].as_str().expect("sha"),
        "{source} differs from the audio the goldens were made from"
    );
    Some(samples)
}

/// Deterministic chunk sizes 1..=700 (a small LCG), so streaming is exercised at odd splits.
struct Chunks(u32);
impl Chunks {
    fn next_len(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        1 + (self.0 >> 16) as usize % 700
    }
}

/// Runs `config` over `samples` in uneven chunks, returning (features, int8) row-major.
fn run(config: &FrontendConfig, samples: &[i16], seed: u32) -> (Vec<u16>, Vec<i8>) {
    let mut fe = Frontend::new(config).expect("valid config");
    let (mut feats, mut q) = (Vec::new(), Vec::new());
    let mut chunks = Chunks(seed);
    let mut rest = samples;
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(chunks.next_len().min(rest.len()));
        fe.push(head, |f| {
            feats.extend_from_slice(f.features);
            q.extend_from_slice(f.int8);
        });
        rest = tail;
    }
    (feats, q)
}

/// pymicro_wakeword's float expression for one feature, before numpy's cast to int8.
fn mww_float_reference(feature: u16, scale: f32, zero_point: i32) -> f64 {
    let f = f64::from(feature) * 0.0390625; // pymicro-features: u16 * 0.0390625f, exact
    (f / f64::from(scale) + f64::from(zero_point)).round_ties_even()
}

#[derive(Default)]
struct Tally {
    signals: usize,
    frames: usize,
    values: usize,
    feature_mismatches: usize,
    int8_mismatches: usize,
    int8_saturated: usize,
}

fn check_preset(preset: &str, config: FrontendConfig) {
    let index = load_json("index.json");
    let reference = reference_dir();
    let channels = config.num_channels;
    let mut t = Tally::default();
    let mut skipped = 0;
    for (k, entry) in index["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .enumerate()
    {
        let name = entry["name"].as_str().expect("name");
        let Some(samples) = signal_samples(entry, reference.as_deref()) else {
            skipped += 1;
            continue;
        };
        let golden = &entry["presets"][preset];
        let frames = golden["frames"].as_u64().expect("frames") as usize;
        assert_eq!(golden["channels"].as_u64(), Some(channels as u64));
        let bytes = std::fs::read(golden_dir().join(golden["file"].as_str().expect("file")))
            .expect("golden bin");
        let values = frames * channels;
        assert_eq!(bytes.len(), values * 3, "{name}: golden size");
        let want_u16: Vec<u16> = bytes[..2 * values]
            .chunks_exact(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        let want_i8: Vec<i8> = bytes[2 * values..].iter().map(|&b| b as i8).collect();

        let (got_u16, got_i8) = run(&config, &samples, 0x5eed + k as u32);
        assert_eq!(got_u16.len(), values, "{name}/{preset}: frame count");
        let mut first_bad = None;
        let mut saturated = 0;
        for i in 0..values {
            if got_u16[i] != want_u16[i] {
                t.feature_mismatches += 1;
                first_bad.get_or_insert((i / channels, i % channels, want_u16[i], got_u16[i]));
            }
            let want = want_i8[i];
            let ok = match config.int8 {
                Int8Mapping::MicroWakeWord {
                    input_scale,
                    zero_point,
                } => {
                    let float = mww_float_reference(want_u16[i], input_scale, zero_point);
                    if (-128.0..=127.0).contains(&float) {
                        got_i8[i] == want
                    } else {
                        // numpy's astype(int8) wraps; Mote saturates (see frontend::quantize).
                        saturated += 1;
                        want == (float as i64) as i8
                            && got_i8[i] == float.clamp(-128.0, 127.0) as i8
                    }
                }
                Int8Mapping::MicroSpeech => got_i8[i] == want,
            };
            if !ok {
                t.int8_mismatches += 1;
            }
        }
        assert_eq!(
            saturated,
            golden["int8_out_of_range"].as_u64().unwrap_or(0) as usize,
            "{name}: out-of-range count"
        );
        if let Some((frame, ch, want, got)) = first_bad {
            eprintln!("{name}/{preset}: first feature mismatch at frame {frame} channel {ch}: oracle {want}, mote {got}");
        }
        t.signals += 1;
        t.frames += frames;
        t.values += values;
        t.int8_saturated += saturated;
    }
    eprintln!(
        "frontend {preset}: {} signals, {} frames, {} values compared; {} feature mismatches, {} int8 mismatches \
         ({} int8 values above 127 saturated where the oracle wraps); {} signals skipped",
        t.signals, t.frames, t.values, t.feature_mismatches, t.int8_mismatches, t.int8_saturated, skipped
    );
    assert!(t.signals > 0);
    assert_eq!(
        (t.feature_mismatches, t.int8_mismatches),
        (0, 0),
        "{preset}: front end differs from its oracle"
    );
}

#[test]
fn micro_wakeword_matches_pymicro_features() {
    check_preset("micro_wakeword", FrontendConfig::micro_wakeword());
}

#[test]
fn f64_tables_match_tensorflow_audio_microfrontend() {
    // TensorFlow's audio_microfrontend op (microWakeWord's training features): the same C
    // micro-frontend with double-precision start-up tables.
    let config = FrontendConfig {
        flavor: Flavor::MicroFrontendF64,
        ..FrontendConfig::micro_wakeword()
    };
    check_preset("tf_microfrontend", config);
}

#[test]
fn micro_speech_matches_audio_preprocessor() {
    check_preset("micro_speech", FrontendConfig::micro_speech());
}

#[test]
fn flavors_differ_where_the_oracles_do() {
    // Same audio, same 10 ms step, different flavor: how much each table/arithmetic choice
    // changes the features (the oracles disagree on 0.2–0.4 % of values, README).
    let index = load_json("index.json");
    let all: Vec<Vec<i16>> = index["signals"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| signal_samples(e, None))
        .collect();
    let with = |flavor| FrontendConfig {
        flavor,
        ..FrontendConfig::micro_wakeword()
    };
    let features = |config: &FrontendConfig| -> Vec<u16> {
        all.iter().flat_map(|s| run(config, s, 7).0).collect()
    };
    let f32c = features(&with(Flavor::MicroFrontendF32));
    let f64c = features(&with(Flavor::MicroFrontendF64));
    let sig = features(&with(Flavor::SignalLibrary));
    let count = |a: &[u16], b: &[u16]| a.iter().zip(b).filter(|(x, y)| x != y).count();
    let (d1, d2, d3) = (count(&f32c, &f64c), count(&f64c, &sig), count(&f32c, &sig));
    eprintln!(
        "features differing over {} values at 10 ms: f32 vs f64 C tables {d1} ({:.2} %), f64 C vs signal library {d2} ({:.2} %), f32 C vs signal library {d3} ({:.2} %)",
        f32c.len(),
        100.0 * d1 as f64 / f32c.len() as f64,
        100.0 * d2 as f64 / f32c.len() as f64,
        100.0 * d3 as f64 / f32c.len() as f64
    );
    assert!(d1 > 0 && d2 > 0 && d3 > 0);
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_i64().expect("int"))
        .collect()
}

/// The (bin, segment, weight, unweight) entries with a non-zero weight.
fn filterbank_entries(fb: &tables::Filterbank) -> Vec<Vec<i64>> {
    (fb.start..fb.end)
        .filter(|&b| fb.weight[b] != 0 || fb.unweight[b] != 0)
        .map(|b| {
            vec![
                b as i64,
                i64::from(fb.seg[b]),
                i64::from(fb.weight[b]),
                i64::from(fb.unweight[b]),
            ]
        })
        .collect()
}

#[test]
fn startup_tables_match_the_oracles() {
    // micro_wakeword: tables read out of pymicro-features' C library through ctypes.
    // micro_speech: constant tensors of audio_preprocessor_int8.tflite.
    let t = load_json("tables.json");
    for (preset, flavor) in [
        ("micro_wakeword", Flavor::MicroFrontendF32),
        ("micro_speech", Flavor::SignalLibrary),
    ] {
        let want = &t[preset];
        let mut w = [0i16; 480];
        tables::hann_q12(flavor, &mut w);
        assert_eq!(
            w.iter().map(|&x| i64::from(x)).collect::<Vec<_>>(),
            ints(&want["window"]),
            "{preset} window"
        );
        let lut = tables::pcan_lut(0.95, 80.0, 21, 7);
        assert_eq!(
            lut.iter().map(|&x| i64::from(x)).collect::<Vec<_>>(),
            ints(&want["pcan_lut"]),
            "{preset} PCAN LUT"
        );
        let fb = tables::filterbank(flavor, 40, 125.0, 7500.0, 16000, 257).unwrap();
        let wf = &want["filterbank"];
        assert_eq!(
            (fb.start as i64, fb.end as i64),
            (wf["start"].as_i64().unwrap(), wf["end"].as_i64().unwrap())
        );
        let want_bins: Vec<Vec<i64>> = wf["bins"].as_array().unwrap().iter().map(ints).collect();
        assert_eq!(filterbank_entries(&fb), want_bins, "{preset} filterbank");
    }
    // The three table flavors really differ (which is why the flavor is a setting).
    let f32fb =
        tables::filterbank(Flavor::MicroFrontendF32, 40, 125.0, 7500.0, 16000, 257).unwrap();
    let f64fb =
        tables::filterbank(Flavor::MicroFrontendF64, 40, 125.0, 7500.0, 16000, 257).unwrap();
    let sigfb = tables::filterbank(Flavor::SignalLibrary, 40, 125.0, 7500.0, 16000, 257).unwrap();
    let diff = |a: &tables::Filterbank, b: &tables::Filterbank| {
        filterbank_entries(a)
            .iter()
            .zip(filterbank_entries(b))
            .filter(|(x, y)| **x != *y)
            .count()
    };
    eprintln!(
        "filterbank weights differing: f32 vs f64 C tables {}, f64 C vs signal library {}",
        diff(&f32fb, &f64fb),
        diff(&f64fb, &sigfb)
    );
    assert!(diff(&f32fb, &f64fb) > 0 && diff(&f64fb, &sigfb) > 0);

    // Noise reduction coefficients (model options) and the micro_speech int8 constants.
    let nr = &t["micro_speech"]["noise_reduction"];
    let q14 = |x: f32| i64::from((x * 16384.0) as u32);
    assert_eq!(q14(0.025), nr["even_smoothing"].as_i64().unwrap());
    assert_eq!(q14(0.06), nr["odd_smoothing"].as_i64().unwrap());
    assert_eq!(q14(0.05), nr["min_signal_remaining"].as_i64().unwrap());
    let ms = &t["micro_speech"]["int8"];
    let (mul, add, div, off) = (
        ms["mul"].as_i64().unwrap(),
        ms["add"].as_i64().unwrap(),
        ms["div"].as_i64().unwrap(),
        ms["offset"].as_i64().unwrap(),
    );
    for f in 0..=u16::MAX {
        let model = ((i64::from(f) * mul + add) / div + off).clamp(-128, 127);
        assert_eq!(
            i64::from(Int8Mapping::MicroSpeech.map(f)),
            model,
            "feature {f}"
        );
    }
}

#[test]
fn micro_wakeword_int8_is_the_float_formula_for_every_input() {
    // The exact integer rational against pymicro_wakeword's float expression, all 65 536 inputs,
    // for the shipped scale and a few others (including an odd zero point).
    let index = load_json("index.json");
    let q = &index["micro_wakeword_int8"];
    let shipped = q["input_scale"].as_f64().unwrap() as f32;
    assert_eq!(
        Int8Mapping::MICRO_WAKEWORD,
        Int8Mapping::MicroWakeWord {
            input_scale: shipped,
            zero_point: q["zero_point"].as_i64().unwrap() as i32
        }
    );
    let mut checked = 0;
    for (scale, zp) in [
        (shipped, -128),
        (0.1017_1568, -128),
        (0.05, -3),
        (0.2, 0),
        (0.078125, -127),
    ] {
        let m = Int8Mapping::MicroWakeWord {
            input_scale: scale,
            zero_point: zp,
        };
        for f in 0..=u16::MAX {
            let want = mww_float_reference(f, scale, zp).clamp(-128.0, 127.0) as i8;
            assert_eq!(m.map(f), want, "scale {scale} zp {zp} feature {f}");
            checked += 1;
        }
    }
    eprintln!("micro_wakeword int8: {checked} inputs equal to the float expression");
}

#[test]
fn reset_and_chunking_do_not_change_frames() {
    let samples = read_wav(&engine_dir().join("tests/fixtures/audio/speech_hey_jarvis.wav"));
    for config in [
        FrontendConfig::micro_wakeword(),
        FrontendConfig::micro_speech(),
    ] {
        let whole = {
            let mut fe = Frontend::new(&config).unwrap();
            let mut v = Vec::new();
            let n = fe.push(&samples, |f| v.extend_from_slice(f.features));
            assert_eq!(n * config.num_channels, v.len());
            // After reset the same audio gives the same frames.
            fe.reset();
            let mut again = Vec::new();
            fe.push(&samples, |f| again.extend_from_slice(f.features));
            assert_eq!(v, again);
            v
        };
        let (chunked, _) = run(&config, &samples, 42);
        assert_eq!(whole, chunked);
        let mut one_by_one = Vec::new();
        let mut fe = Frontend::new(&config).unwrap();
        for s in &samples {
            fe.push(core::slice::from_ref(s), |f| {
                one_by_one.extend_from_slice(f.features)
            });
        }
        assert_eq!(whole, one_by_one);
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let base = FrontendConfig::micro_wakeword();
    let bad = [
        FrontendConfig {
            window_ms: 40,
            ..base
        }, // 640 samples > 512
        FrontendConfig { step_ms: 0, ..base },
        FrontendConfig {
            step_ms: 40,
            ..base
        },
        FrontendConfig {
            num_channels: 0,
            ..base
        },
        FrontendConfig {
            num_channels: 65,
            ..base
        },
        FrontendConfig {
            upper_band_limit_hz: 8000.0,
            ..base
        },
        FrontendConfig {
            lower_band_limit_hz: 8000.0,
            ..base
        },
        FrontendConfig {
            even_smoothing: 1.5,
            ..base
        },
        FrontendConfig {
            log_scale_shift: Some(17),
            ..base
        },
        FrontendConfig {
            sample_rate_hz: 0,
            ..base
        },
        FrontendConfig {
            int8: Int8Mapping::MicroWakeWord {
                input_scale: 0.0,
                zero_point: 0,
            },
            ..base
        },
    ];
    for c in bad {
        assert!(Frontend::new(&c).is_err(), "{c:?}");
    }
    // Other shapes work: 25 ms window (FFT 512), 16 ms window (FFT 256), 32 channels, no PCAN.
    for c in [
        FrontendConfig {
            window_ms: 25,
            num_channels: 32,
            ..base
        },
        FrontendConfig {
            window_ms: 16,
            step_ms: 8,
            ..base
        },
        FrontendConfig {
            pcan: None,
            log_scale_shift: None,
            ..base
        },
    ] {
        let mut fe = Frontend::new(&c).unwrap();
        let n = fe.push(&[1000i16; 4000], |f| {
            assert_eq!(f.features.len(), c.num_channels)
        });
        assert!(n > 0);
    }
}

#[test]
fn ram_and_time_per_frame() {
    let samples = read_wav(&engine_dir().join("tests/fixtures/audio/synth_chirp_noise.wav"));
    eprintln!(
        "Frontend RAM: {} bytes (state, tables and scratch)",
        Frontend::ram_bytes()
    );
    assert!(Frontend::ram_bytes() < 16 * 1024);
    for (name, config) in [
        ("micro_wakeword", FrontendConfig::micro_wakeword()),
        ("micro_speech", FrontendConfig::micro_speech()),
    ] {
        let mut fe = Frontend::new(&config).unwrap();
        let mut sink = 0u64;
        let start = std::time::Instant::now();
        let mut frames = 0;
        for _ in 0..20 {
            frames += fe.push(&samples, |f| sink += u64::from(f.features[0]));
        }
        let per_frame = start.elapsed() / frames as u32;
        eprintln!(
            "host time per frame ({name}, {} ms step): {per_frame:?} over {frames} frames ({sink})",
            config.step_ms
        );
    }
}
