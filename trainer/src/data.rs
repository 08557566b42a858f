//! Training examples: 1-second windows at 16 kHz made from word clips and background audio,
//! augmented (speed, time shift, level, spectral tilt, background mixed at a random SNR), then
//! turned into the 49×40 int8 micro_speech features by the engine's own front end (so training
//! sees exactly what `mote detect`, the page and the firmware compute).

use mote_engine::frontend::{Frontend, FrontendConfig};

use crate::net::{IN_H, IN_W};
use crate::rng::Rng;

/// Samples per example (1 s at 16 kHz).
pub const WINDOW: usize = 16_000;
/// Feature values per example (49 frames × 40 channels).
pub const FEATURES: usize = IN_H * IN_W;

/// Where the word is in a clip: `[start, end)` of the samples louder than −26 dB of the clip's
/// loudest 10 ms, widened by 50 ms each side (the whole clip if it is silent).
pub fn active_span(clip: &[i16]) -> (usize, usize) {
    const HOP: usize = 160;
    let energy: Vec<f32> = clip
        .chunks(HOP)
        .map(|c| c.iter().map(|&s| f32::from(s) * f32::from(s)).sum::<f32>() / c.len() as f32)
        .collect();
    let peak = energy.iter().copied().fold(0.0, f32::max);
    if peak <= 0.0 {
        return (0, clip.len());
    }
    let thr = peak * 0.0025;
    let first = energy.iter().position(|&e| e >= thr).unwrap_or(0);
    let last = energy
        .iter()
        .rposition(|&e| e >= thr)
        .unwrap_or(energy.len() - 1);
    let start = (first * HOP).saturating_sub(800);
    let end = ((last + 1) * HOP + 800).min(clip.len());
    (start, end)
}

fn rms(v: &[f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    libm::sqrtf(v.iter().map(|x| x * x).sum::<f32>() / v.len() as f32)
}

fn db(x: f32) -> f32 {
    libm::powf(10.0, x / 20.0)
}

/// A random 1 s stretch of background (looped if the recording is shorter), in [−1, 1].
fn background_window(bg: &[Vec<i16>], r: &mut Rng) -> Vec<f32> {
    let mut out = vec![0.0; WINDOW];
    let usable: Vec<&Vec<i16>> = bg.iter().filter(|b| !b.is_empty()).collect();
    if usable.is_empty() {
        return out;
    }
    let b = usable[r.below(usable.len())];
    let start = r.below(b.len());
    for (i, o) in out.iter_mut().enumerate() {
        *o = f32::from(b[(start + i) % b.len()]) / 32768.0;
    }
    out
}

/// How to augment (all ranges uniform).
#[derive(Clone, Copy, Debug)]
pub struct Augment {
    /// Speed factor range (resampling by linear interpolation).
    pub speed: (f32, f32),
    /// The word's peak level, dB full scale.
    pub peak_db: (f32, f32),
    /// Signal-to-noise ratio of mixed-in background, dB.
    pub snr_db: (f32, f32),
    /// Probability that background is mixed in.
    pub noise_prob: f32,
    /// Background-class level change, dB.
    pub background_db: (f32, f32),
    /// Frequency warp of the word's features (vocal-tract length), factor range.
    pub warp: (f32, f32),
    /// Probability of synthetic room reverberation.
    pub reverb_prob: f32,
    /// Probability of breath noise (white noise following the word's envelope).
    pub breath_prob: f32,
}

impl Default for Augment {
    fn default() -> Self {
        Augment {
            speed: (0.88, 1.12),
            peak_db: (-36.0, -1.0),
            snr_db: (-3.0, 30.0),
            noise_prob: 0.85,
            background_db: (-30.0, 6.0),
            warp: (0.7, 1.1),
            reverb_prob: 0.5,
            breath_prob: 0.0,
        }
    }
}

/// One augmented 1 s window holding `clip` (16 kHz), as float samples in [−1, 1].
pub fn word_window(clip: &[i16], bg: &[Vec<i16>], a: &Augment, r: &mut Rng) -> Vec<f32> {
    let (s, e) = active_span(clip);
    let word = &clip[s..e];
    // Speed perturbation: read the clip at `f` samples per output sample.
    let f = r.range(a.speed.0, a.speed.1);
    let n = ((word.len() as f32) / f) as usize;
    let mut w: Vec<f32> = (0..n)
        .map(|i| {
            let pos = i as f32 * f;
            let k = pos as usize;
            let t = pos - k as f32;
            let x0 = f32::from(word.get(k).copied().unwrap_or(0));
            let x1 = f32::from(word.get(k + 1).copied().unwrap_or(0));
            x0 + (x1 - x0) * t
        })
        .collect();
    // Spectral tilt: y[n] = x[n] + c·x[n−1] (c < 0 brightens, c > 0 darkens), half the time.
    if r.unit() < 0.5 {
        let c = r.range(-0.95, 0.7);
        for i in (1..w.len()).rev() {
            w[i] += c * w[i - 1];
        }
    }
    if r.unit() < a.breath_prob {
        breath(&mut w, r.range(0.05, 0.6), r);
    }
    if r.unit() < a.reverb_prob {
        reverb(&mut w, r);
    }
    if w.len() > WINDOW {
        let cut = r.below(w.len() - WINDOW + 1);
        w = w[cut..cut + WINDOW].to_vec();
    }
    let peak = w.iter().fold(0.0f32, |m, &x| m.max(x.abs()));
    let gain = if peak > 0.0 {
        db(r.range(a.peak_db.0, a.peak_db.1)) / peak
    } else {
        0.0
    };
    w.iter_mut().for_each(|x| *x *= gain);
    let offset = r.below(WINDOW - w.len() + 1);
    let mut out = vec![0.0; WINDOW];
    out[offset..offset + w.len()].copy_from_slice(&w);
    if r.unit() < a.noise_prob {
        let noise = background_window(bg, r);
        let (sr, nr) = (rms(&w), rms(&noise));
        if nr > 0.0 && sr > 0.0 {
            let k = sr / nr / db(r.range(a.snr_db.0, a.snr_db.1));
            out.iter_mut().zip(&noise).for_each(|(o, n)| *o += k * n);
        }
    }
    dither(&mut out, r);
    out
}

/// Breathiness: white noise shaped by the word's envelope (5 ms smoothing), at `amount` of it.
/// Synthetic voices have little energy above 4 kHz where real voices have aspiration; without
/// this, high-band activity alone would mark the fricative words.
fn breath(w: &mut [f32], amount: f32, r: &mut Rng) {
    let mut env = 0.0f32;
    for x in w.iter_mut() {
        env += (x.abs() - env) * 0.0125;
        *x += amount * env * 1.732 * (2.0 * r.unit() - 1.0);
    }
}

/// A synthetic room: 24 echoes within 20–300 ms, exponentially decaying (RT60 0.15–0.6 s).
fn reverb(w: &mut Vec<f32>, r: &mut Rng) {
    let rt60 = r.range(0.15, 0.6);
    let dry = w.clone();
    let tail = 4800;
    w.resize(dry.len() + tail, 0.0);
    for _ in 0..24 {
        let d = 320 + r.below(tail - 320);
        // 60 dB down after rt60 seconds.
        let g = libm::powf(10.0, -3.0 * (d as f32 / 16000.0) / rt60) * r.range(-0.7, 0.7);
        for (i, &x) in dry.iter().enumerate() {
            w[i + d] += g * x;
        }
    }
}

/// Low-level white noise (−80 to −55 dBFS RMS): no real recording is digital silence.
fn dither(w: &mut [f32], r: &mut Rng) {
    let level = db(r.range(-80.0, -55.0)) * 1.732;
    w.iter_mut()
        .for_each(|x| *x += level * (2.0 * r.unit() - 1.0));
}

/// Frequency warp of 49×40 features: channel c takes the value at c·alpha (linear
/// interpolation, last channel held), roughly a vocal-tract-length change on the mel axis.
pub fn warp(f: &mut [i8], alpha: f32) {
    let w = crate::net::IN_W;
    for row in f.chunks_mut(w) {
        let src: Vec<f32> = row.iter().map(|&v| f32::from(v)).collect();
        for (c, o) in row.iter_mut().enumerate() {
            let pos = (c as f32 * alpha).min((w - 1) as f32);
            let k = pos as usize;
            let t = pos - k as f32;
            let v = src[k] + (src[(k + 1).min(w - 1)] - src[k]) * t;
            *o = libm::roundf(v).clamp(-128.0, 127.0) as i8;
        }
    }
}

/// SpecAugment-style masks: one band of up to 5 channels and one stretch of up to 5 frames set
/// to the quietest value of the example.
pub fn mask(f: &mut [i8], r: &mut Rng) {
    let w = crate::net::IN_W;
    let floor = f.iter().copied().min().unwrap_or(-128);
    let (c0, cn) = (r.below(w), r.below(6));
    let (t0, tn) = (r.below(crate::net::IN_H), r.below(6));
    for (t, row) in f.chunks_mut(w).enumerate() {
        for (c, v) in row.iter_mut().enumerate() {
            if (c >= c0 && c < c0 + cn) || (t >= t0 && t < t0 + tn) {
                *v = floor;
            }
        }
    }
}

/// High-band fill: in the frames where the low band is loud (the voiced part of the word),
/// raise the channels from a random cut-off upwards to a level tied to that loudness. Synthetic
/// voices have little energy there where recorded ones do (aspiration, microphone); without
/// this, high-band activity alone marks the fricative word ("yes").
pub fn high_band_fill(f: &mut [i8], r: &mut Rng) {
    let w = crate::net::IN_W;
    let low = w / 2;
    let means: Vec<i32> = f
        .chunks(w)
        .map(|row| row[..low].iter().map(|&v| i32::from(v)).sum::<i32>() / low as i32)
        .collect();
    let mut sorted = means.clone();
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    let cut = 20 + r.below(14);
    let drop = r.range(0.0, 70.0) as i32;
    for (row, &m) in f.chunks_mut(w).zip(&means) {
        if m <= median + 20 {
            continue;
        }
        for v in &mut row[cut..] {
            let level = (m - drop + r.below(21) as i32 - 10).clamp(-128, 127);
            *v = (*v).max(level as i8);
        }
    }
}

/// One augmented 1 s window of background.
pub fn background_example(bg: &[Vec<i16>], a: &Augment, r: &mut Rng) -> Vec<f32> {
    let mut w = background_window(bg, r);
    let g = db(r.range(a.background_db.0, a.background_db.1));
    w.iter_mut().for_each(|x| *x *= g);
    dither(&mut w, r);
    w
}

/// float [−1, 1] → i16, saturating.
pub fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|&v| (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// The micro_speech front end, reset for every window (as `mote detect` starts on a 1 s file).
pub struct Features {
    fe: Frontend,
}

impl Features {
    /// A front end with micro_speech's configuration.
    pub fn new() -> Result<Features, mote_engine::Error> {
        Ok(Features {
            fe: Frontend::new(&FrontendConfig::micro_speech())?,
        })
    }

    /// The 49×40 int8 features of the first second of `samples` (16 kHz; zero-padded).
    pub fn of(&mut self, samples: &[i16]) -> Vec<i8> {
        self.fe.reset();
        let mut out = Vec::with_capacity(FEATURES);
        let mut padded;
        let s = if samples.len() < WINDOW {
            padded = samples.to_vec();
            padded.resize(WINDOW, 0);
            &padded[..]
        } else {
            &samples[..WINDOW]
        };
        self.fe.push(s, |f| {
            if out.len() < FEATURES {
                out.extend_from_slice(f.int8);
            }
        });
        out.resize(FEATURES, -128);
        out
    }
}
