//! MFCC front end (`engine/src/mfcc`) against TensorFlow's `tf.signal` pipeline (MLPerf Tiny
//! KWS's features), with goldens from `scripts/oracle/gen_mfcc.py`:
//!
//! - features: Mote's f32 MFCCs vs TF's for each committed espeak-ng clip; the largest
//!   difference is printed and bounded;
//! - decisions: the MLPerf-shaped DS-CNN trained on espeak-ng words (`ds_cnn_mfcc.tflite`) run
//!   by Mote (bit-exact with TFLM) on Mote's features must pick the class TFLM picked on TF's
//!   features for ≥ 99 % of the agreement set (the clips at several offsets, gains and noises);
//! - the streaming pipeline on a [1,49,10,1] model defaults to these settings and labels.

use std::path::{Path, PathBuf};

use mote_engine::detector::{PresetKind, MLPERF_LABELS};
use mote_engine::interpreter::Interpreter;
use mote_engine::mfcc::{Mfcc, MfccConfig};
use mote_engine::pipeline::{Output, Pipeline, PipelineConfig, PipelineMemory};
use mote_engine::{Error, Model};
use serde_json::Value;

const SAMPLES: usize = 16000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn clip(word: &str) -> Vec<i32> {
    let p = root()
        .join("fixtures/audio/mfcc")
        .join(format!("{word}.wav"));
    let mut r = hound::WavReader::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    r.samples::<i16>().map(|s| i32::from(s.unwrap())).collect()
}

/// `gen_mfcc.py`'s `lcg_noise`: 32-bit LCG, sample = (int16)(state >> 16) >> shift.
fn lcg_noise(seed: u32, shift: u32) -> Vec<i32> {
    let mut s = seed;
    (0..SAMPLES)
        .map(|_| {
            s = s.wrapping_mul(1664525).wrapping_add(1013904223);
            i32::from((s >> 16) as u16 as i16) >> shift
        })
        .collect()
}

/// `gen_mfcc.py`'s `place`: a 1 s window with the clip at `offset`, gain 2^-shift (−1 doubles),
/// plus LCG noise, saturated to int16.
fn place(
    clip: &[i32],
    offset: usize,
    gain_shift: i32,
    noise_seed: u32,
    noise_shift: u32,
) -> Vec<i16> {
    let mut x = vec![0i32; SAMPLES];
    for (i, &c) in clip.iter().take(SAMPLES - offset).enumerate() {
        x[offset + i] = if gain_shift < 0 {
            c * 2
        } else {
            c >> gain_shift
        };
    }
    if noise_seed != 0 {
        for (v, n) in x.iter_mut().zip(lcg_noise(noise_seed, noise_shift)) {
            *v += n;
        }
    }
    x.iter().map(|&v| v.clamp(-32768, 32767) as i16).collect()
}

fn mfcc_frames(cfg: &MfccConfig, audio: &[i16]) -> (Vec<f32>, Vec<i8>) {
    let mut m = Box::new(Mfcc::EMPTY);
    m.init(cfg).unwrap();
    let (mut f, mut q) = (Vec::new(), Vec::new());
    m.push(audio, |fr| {
        f.extend_from_slice(fr.features);
        q.extend_from_slice(fr.int8);
    });
    (f, q)
}

fn model_bytes() -> Vec<u8> {
    read(&root().join("fixtures/models/ds_cnn_mfcc.tflite"))
}

fn golden() -> Value {
    serde_json::from_slice(&read(&root().join("golden/mfcc/decisions.json"))).unwrap()
}

fn sized(model: &Model<'_>) -> (Vec<u8>, Vec<u8>) {
    let (mut a, mut s) = (1024usize, 0usize);
    for _ in 0..8 {
        let (mut arena, mut state) = (vec![0u8; a], vec![0u8; s]);
        match Interpreter::new(model, &mut arena, &mut state) {
            Ok(_) => return (arena, state),
            Err(Error::ArenaTooSmall { needed, .. }) => a = needed as usize + 16,
            Err(Error::StateTooSmall { needed, .. }) => s = needed as usize,
            Err(e) => panic!("{e}"),
        }
    }
    panic!("arena size did not converge")
}

#[test]
fn features_match_tensorflow() {
    let g = golden();
    let words: Vec<String> = serde_json::from_value(g["clips"].clone()).unwrap();
    let at = g["place"].as_u64().unwrap() as usize;
    let tf: Vec<f32> = read(&root().join("golden/mfcc/features.bin"))
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(tf.len(), words.len() * 490);
    let (mut worst, mut worst_at, mut sum, mut n) = (0f32, String::new(), 0f64, 0usize);
    let mut worst_rel = 0f32;
    for (w, word) in words.iter().enumerate() {
        let (f, _) = mfcc_frames(&MfccConfig::MLPERF, &place(&clip(word), at, 0, 0, 0));
        assert_eq!(f.len(), 490, "{word}: 49 frames x 10");
        for (i, (&a, &b)) in f.iter().zip(&tf[w * 490..(w + 1) * 490]).enumerate() {
            let d = (a - b).abs();
            sum += f64::from(d);
            n += 1;
            worst_rel = worst_rel.max(d / b.abs().max(1.0));
            if d > worst {
                worst = d;
                worst_at = format!("{word} frame {} coefficient {}", i / 10, i % 10);
            }
        }
    }
    println!(
        "MFCC vs TensorFlow over {} values: largest difference {worst:.2e} ({worst_at}), \
         largest relative {worst_rel:.2e}, mean {:.2e}",
        n,
        sum / n as f64
    );
    // Features span about -124..+20; TF and Mote differ only by f32 rounding order.
    assert!(
        worst < 5e-4,
        "largest MFCC difference {worst} at {worst_at}"
    );
}

/// Runs every variant of golden `g` (clips `clips`) through Mote's MFCCs and Mote's engine:
/// (same top class as TFLM on TF's features, identical score vectors, variants).
fn agreement(g: &Value, clips: &[Vec<i32>], what: &str) -> (usize, usize, usize) {
    let bytes = model_bytes();
    let model = Model::parse(&bytes).unwrap();
    let (mut arena, mut state) = sized(&model);
    let mut interp = Interpreter::new(&model, &mut arena, &mut state).unwrap();
    let scale = g["input_scale"].as_f64().unwrap() as f32;
    let zp = g["input_zero_point"].as_i64().unwrap() as i32;
    let cfg = MfccConfig::MLPERF.with_input(scale, zp);
    let variants = g["variants"].as_array().unwrap();
    let (mut agree, mut same_scores, mut differ) = (0usize, 0usize, Vec::new());
    for v in variants {
        let ci = v["clip"].as_i64().unwrap();
        let c: &[i32] = if ci >= 0 { &clips[ci as usize] } else { &[] };
        let audio = place(
            c,
            v["offset"].as_u64().unwrap() as usize,
            v["gain_shift"].as_i64().unwrap() as i32,
            v["noise_seed"].as_u64().unwrap() as u32,
            v["noise_shift"].as_u64().unwrap() as u32,
        );
        let (_, q) = mfcc_frames(&cfg, &audio);
        let dst = interp.input_mut(0).unwrap();
        assert_eq!(dst.len(), q.len());
        for (d, &s) in dst.iter_mut().zip(&q) {
            *d = s as u8;
        }
        interp.invoke().unwrap();
        let out: Vec<i8> = interp.output(0).unwrap().iter().map(|&b| b as i8).collect();
        let top = out
            .iter()
            .enumerate()
            .fold(0, |b, (i, &s)| if s > out[b] { i } else { b });
        let want: Vec<i64> = serde_json::from_value(v["scores"].clone()).unwrap();
        same_scores += usize::from(out.iter().map(|&s| i64::from(s)).eq(want.iter().copied()));
        if top as u64 == v["top"].as_u64().unwrap() {
            agree += 1;
        } else {
            differ.push(format!("{v}: Mote {top}"));
        }
    }
    let n = variants.len();
    println!(
        "MFCC decisions ({what}): Mote features + Mote engine vs TF features + TFLM: {agree}/{n} \
         same class ({:.2} %), {same_scores}/{n} identical score vectors",
        100.0 * agree as f64 / n as f64
    );
    for d in &differ {
        println!("  differs: {d}");
    }
    (agree, same_scores, n)
}

#[test]
fn decisions_agree_with_tflm_on_tensorflow_features() {
    let g = golden();
    let words: Vec<String> = serde_json::from_value(g["clips"].clone()).unwrap();
    let clips: Vec<Vec<i32>> = words.iter().map(|w| clip(w)).collect();
    let (agree, _, n) = agreement(&g, &clips, "espeak-ng words");
    assert!(n >= 400, "agreement set has {n} clips");
    assert!(agree * 100 >= n * 99, "{agree}/{n} decisions agree");
}

/// The reference data directory (TFLM's recordings), or `None` (skip, said) outside CI.
fn reference_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MOTE_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"));
    if dir.join("tflm").is_dir() {
        return Some(dir);
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "CI is set but the reference data {} is missing",
        dir.display()
    );
    eprintln!(
        "SKIPPED: reference data {} not found (set MOTE_REFERENCE); real recordings not checked",
        dir.display()
    );
    None
}

/// The same on TFLM's four real 1 s recordings (yes, no, silence, noise) at four gains, with and
/// without noise. (The espeak-ng-trained model does not recognise these human voices — its
/// decisions are mostly "unknown" — but Mote and TF+TFLM must still decide alike.)
#[test]
fn decisions_agree_on_real_recordings() {
    let Some(dir) = reference_dir() else { return };
    let g: Value =
        serde_json::from_slice(&read(&root().join("golden/mfcc/decisions_real.json"))).unwrap();
    let names: Vec<String> = serde_json::from_value(g["clips"].clone()).unwrap();
    let clips: Vec<Vec<i32>> = names
        .iter()
        .map(|n| {
            let p = dir.join("tflm").join(n);
            let mut r =
                hound::WavReader::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            r.samples::<i16>().map(|s| i32::from(s.unwrap())).collect()
        })
        .collect();
    let (agree, _, n) = agreement(&g, &clips, "TFLM's recordings");
    assert_eq!(n, 32);
    assert!(agree * 100 >= n * 99, "{agree}/{n} decisions agree");
}

#[test]
fn mlperf_shaped_models_default_to_mfcc_settings_and_labels() {
    let bytes = model_bytes();
    let model = Model::parse(&bytes).unwrap();
    let c = PipelineConfig::for_model(&model, None).unwrap();
    assert_eq!(c.preset.kind, PresetKind::Mfcc);
    assert_eq!((c.preset.window_frames, c.preset.frame_len), (49, 10));
    let m = c.mfcc.expect("MFCC front end");
    assert_eq!(
        (m.window_ms, m.step_ms, m.mel_bins, m.coefficients),
        (30, 20, 40, 10)
    );
    assert_eq!(c.preset.labels(), &MLPERF_LABELS);

    // One 1 s clip: one invocation, and its scores equal the direct run above.
    let g = golden();
    let words: Vec<String> = serde_json::from_value(g["clips"].clone()).unwrap();
    let audio = place(&clip(&words[9]), 3000, 0, 0, 0);
    let (mut arena, mut state) = sized(&model);
    let mut mem = Box::new(PipelineMemory::EMPTY);
    let mut p = Pipeline::new(&model, &mut arena, &mut state, &mut mem, &c).unwrap();
    let mut got = Vec::new();
    p.push(&audio, |o| {
        if let Output::Invocation { scores, top, .. } = o {
            got.push((scores.to_vec(), top));
        }
    })
    .unwrap();
    assert_eq!(got.len(), 1);
    // The pipeline's feature hash covers exactly the f32 MFCC bytes `mote features` writes.
    let (f, _) = mfcc_frames(&c.mfcc.unwrap(), &audio);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in f.iter().flat_map(|v| v.to_bits().to_le_bytes()) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    assert_eq!(p.features_fnv(), h);
    let want = g["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| {
            v["clip"] == 9 && v["offset"] == 3000 && v["gain_shift"] == 0 && v["noise_seed"] == 0
        })
        .unwrap()["top"]
        .as_u64()
        .unwrap();
    println!(
        "\"{}\" at 3000 samples: pipeline says {}",
        words[9], MLPERF_LABELS[got[0].1 as usize]
    );
    assert_eq!(u64::from(got[0].1), want);
}

#[test]
fn mfcc_memory_fits_in_the_log_mel_front_end_s_place() {
    // The pipeline holds one front end at a time: MFCC support must not grow its RAM.
    assert!(
        Mfcc::ram_bytes() <= mote_engine::frontend::Frontend::ram_bytes(),
        "Mfcc {} B > Frontend {} B",
        Mfcc::ram_bytes(),
        mote_engine::frontend::Frontend::ram_bytes()
    );
}

/// FNV-1a over the f32 bits and int8 values of the MFCCs of `fixtures/audio/mfcc/yes.wav`
/// (samples after its 44-byte header) with the trained model's input quantization. The same
/// constant is checked in wasm (`web/tests/browser.rs`) and the firmware's replay in QEMU
/// reproduces `mote detect`'s scores, so host, wasm and Cortex-M4 compute the same bits.
pub const YES_MFCC_FNV: u64 = 0xb960_7c72_4a4c_5b9a;

#[test]
fn features_hash_is_the_same_on_every_target() {
    let wav = read(&root().join("fixtures/audio/mfcc/yes.wav"));
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let (f, q) = mfcc_frames(&MfccConfig::MLPERF.with_input(0.559_943_3, 93), &samples);
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let bytes = f
        .iter()
        .flat_map(|v| v.to_bits().to_le_bytes())
        .chain(q.iter().map(|&v| v as u8));
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    println!("{} frames, hash {h:#018x}", f.len() / 10);
    assert_eq!(h, YES_MFCC_FNV);
}
