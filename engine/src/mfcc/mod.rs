//! MFCC front end: 16 kHz PCM → mel-frequency cepstral coefficients in `f32`, reproducing the
//! `tf.signal` pipeline MLPerf Tiny KWS trains its DS-CNN with (`get_dataset.py`):
//! samples / 32768 → periodic Hann window → `stft` (real FFT, zero-padded to a power of two) →
//! `abs` → `linear_to_mel_weight_matrix` (HTK mel, DC bin excluded) → `log(mel + 1e-6)` →
//! `mfccs_from_log_mel_spectrograms` (DCT-II × 1/sqrt(2·bins)) → the first coefficients →
//! the model's input quantization.
//!
//! Determinism: only IEEE `f32` `+ − × ÷` (Rust never contracts them into fused multiply-adds)
//! and `libm`'s software `sqrtf`/`logf` (correctly rounded / pure `f32` arithmetic), so the host,
//! wasm and the Cortex-M4F compute the same bits. Tables are built once in [`Mfcc::init`] with
//! the same expressions TensorFlow evaluates in `float32`. Versus TensorFlow the features differ
//! only by rounding (FFT order, `log` ulps); `engine/tests/mfcc.rs` states the largest
//! difference and the model-decision agreement.
//!
//! Oracle: `scripts/oracle/gen_mfcc.py` (TensorFlow 2.21 `tf.signal`).

mod fft;

use crate::Error;
use fft::{Cpx, Fft};

/// Largest window (and FFT) in samples.
pub const MAX_FFT: usize = 512;
/// Largest number of mel bins.
pub const MAX_MEL: usize = 64;
/// Bins of the largest FFT (`MAX_FFT / 2 + 1`).
const MAX_BINS: usize = MAX_FFT / 2 + 1;
/// `Mfcc::w_ch` of a bin outside every triangle.
const NO_CHANNEL: u8 = u8::MAX;

/// MFCC settings (names follow the sidecar's `mfcc` fields).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MfccConfig {
    /// Sample rate in Hz (16 000 in every verified configuration).
    pub sample_rate_hz: u32,
    /// Window length in ms (samples = ms · rate / 1000, 4..=[`MAX_FFT`]).
    pub window_ms: u32,
    /// Hop in ms (at least one sample, at most the window).
    pub step_ms: u32,
    /// Mel bins, 1..=[`MAX_MEL`].
    pub mel_bins: u8,
    /// Lower edge of the mel filterbank, Hz (≥ 0).
    pub lower_edge_hz: f32,
    /// Upper edge, Hz (above the lower edge, at most Nyquist).
    pub upper_edge_hz: f32,
    /// Cepstral coefficients kept per frame, 1..=`mel_bins`.
    pub coefficients: u8,
    /// Model input scale (`q = round_half_even(x / scale) + zero_point`).
    pub input_scale: f32,
    /// Model input zero point (−128..=127).
    pub zero_point: i32,
}

impl MfccConfig {
    /// All zero (invalid): what an unconfigured [`Mfcc::EMPTY`] holds.
    const ZERO: MfccConfig = MfccConfig {
        sample_rate_hz: 0,
        window_ms: 0,
        step_ms: 0,
        mel_bins: 0,
        lower_edge_hz: 0.0,
        upper_edge_hz: 0.0,
        coefficients: 0,
        input_scale: 0.0,
        zero_point: 0,
    };

    /// MLPerf Tiny KWS: 30 ms window, 20 ms step (49 frames per second), 40 mel bins 20–4000 Hz,
    /// 10 coefficients; the input quantization is the model's (here scale 1, zero point 0).
    pub const MLPERF: MfccConfig = MfccConfig {
        sample_rate_hz: 16000,
        window_ms: 30,
        step_ms: 20,
        mel_bins: 40,
        lower_edge_hz: 20.0,
        upper_edge_hz: 4000.0,
        coefficients: 10,
        input_scale: 1.0,
        zero_point: 0,
    };

    /// The same settings with this model input quantization.
    pub const fn with_input(mut self, scale: f32, zero_point: i32) -> Self {
        self.input_scale = scale;
        self.zero_point = zero_point;
        self
    }

    /// Window length in samples.
    pub const fn window_samples(&self) -> usize {
        (self.window_ms as u64 * self.sample_rate_hz as u64 / 1000) as usize
    }

    /// Step in samples.
    pub const fn step_samples(&self) -> usize {
        (self.step_ms as u64 * self.sample_rate_hz as u64 / 1000) as usize
    }

    /// `LimitExceeded` naming the first setting out of range.
    pub fn validate(&self) -> Result<(), Error> {
        let lim = |what, limit: usize| {
            Err(Error::LimitExceeded {
                what,
                limit: limit as u32,
            })
        };
        let (w, s) = (self.window_samples(), self.step_samples());
        if !(4..=MAX_FFT).contains(&w) {
            return lim("mfcc window samples (and at least 4)", MAX_FFT);
        }
        if s == 0 || s > w {
            return lim("mfcc step samples (the window, and at least 1)", w);
        }
        if self.mel_bins == 0 || usize::from(self.mel_bins) > MAX_MEL {
            return lim("mfcc mel bins (and at least 1)", MAX_MEL);
        }
        if self.coefficients == 0 || self.coefficients > self.mel_bins {
            return lim(
                "mfcc coefficients (the mel bins, and at least 1)",
                usize::from(self.mel_bins),
            );
        }
        let nyquist = self.sample_rate_hz / 2;
        let (lo, hi) = (self.lower_edge_hz, self.upper_edge_hz);
        if !(lo >= 0.0 && hi > lo && hi <= nyquist as f32) {
            return lim(
                "Hz mfcc upper edge (above the lower edge, at most Nyquist)",
                nyquist as usize,
            );
        }
        let scale = self.input_scale;
        if !(scale.is_finite() && scale > 1e-6 && scale < 1e6) {
            return lim("mfcc input scale (positive, 1e-6..1e6)", 1_000_000);
        }
        if !(-128..=127).contains(&self.zero_point) {
            return lim("mfcc input zero point magnitude", 128);
        }
        Ok(())
    }
}

/// One computed frame, handed to [`Mfcc::push`]'s callback.
#[derive(Clone, Copy, Debug)]
pub struct MfccFrame<'a> {
    /// The coefficients (float, before quantization).
    pub features: &'a [f32],
    /// The same, quantized to the model's int8 input.
    pub int8: &'a [i8],
}

/// A streaming MFCC front end; all tables, state and scratch inline (about 11 KB).
#[derive(Clone)]
pub struct Mfcc {
    config: MfccConfig,
    window_len: usize,
    step: usize,
    fft_size: usize,
    /// Periodic Hann window, first half (`w[N − i] = w[i]`).
    window: [f32; MAX_FFT / 2 + 1],
    fft: Fft,
    /// Mel weights per FFT bin: a bin lies on at most two (adjacent) triangles, `w_ch[k]` and
    /// `w_ch[k] + 1`, with weights `w_val[2k]` and `w_val[2k + 1]` ([`NO_CHANNEL`]: none).
    w_ch: [u8; MAX_BINS],
    w_val: [f32; 2 * MAX_BINS],
    /// `cos(pi·j / (2·bins)) · 2 / sqrt(2·bins)` for `j` in `0..=2·bins`, then the value at
    /// `j = 3·bins`: the DCT-II basis over half a period ([`basis`] reads the other half
    /// by `cos(2π − θ) = cos θ`; at `3·bins` the f64 cosine's tiny non-zero value differs
    /// from its mirror's, so it is stored). Equal to the full-period table it replaced, entry
    /// for entry, for every bin count (`tests::half_period_dct_equals_the_full_table`).
    dct: [f32; DCT_LEN],
    // ---- streaming state
    input: [i16; MAX_FFT],
    filled: usize,
    // ---- per-frame scratch
    buf: [Cpx; MAX_FFT / 2 + 1],
    mel: [f32; MAX_MEL],
    features: [f32; MAX_MEL],
    int8: [i8; MAX_MEL],
}

impl Mfcc {
    /// Unconfigured; [`Mfcc::init`] makes it usable. All zero, so a `static` of it is `.bss`
    /// and a write of it a `memset` (see `Frontend::EMPTY`); no frames until `init`.
    pub const EMPTY: Mfcc = Mfcc {
        config: MfccConfig::ZERO,
        window_len: 0,
        step: 0,
        fft_size: 0,
        window: [0.0; MAX_FFT / 2 + 1],
        fft: Fft::EMPTY,
        w_ch: [0; MAX_BINS],
        w_val: [0.0; 2 * MAX_BINS],
        dct: [0.0; DCT_LEN],
        input: [0; MAX_FFT],
        filled: 0,
        buf: [Cpx::ZERO; MAX_FFT / 2 + 1],
        mel: [0.0; MAX_MEL],
        features: [0.0; MAX_MEL],
        int8: [0; MAX_MEL],
    };

    /// Validate `config` and build the tables in place; on error `self` is unchanged.
    pub fn init(&mut self, config: &MfccConfig) -> Result<(), Error> {
        config.validate()?;
        let window_len = config.window_samples();
        let fft_size = window_len.next_power_of_two();
        self.config = *config;
        self.window_len = window_len;
        self.step = config.step_samples();
        self.fft_size = fft_size;
        // tf.signal.hann_window(periodic=True): 0.5 − 0.5·cos(float(2π)·i / N), all float32.
        let two_pi = core::f64::consts::TAU as f32;
        for (i, w) in self.window.iter_mut().enumerate() {
            *w = if i <= window_len / 2 {
                0.5 - 0.5 * libm::cosf(two_pi * i as f32 / window_len as f32)
            } else {
                0.0
            };
        }
        self.fft.plan(fft_size);
        self.mel_weights();
        let n = usize::from(config.mel_bins);
        self.dct = [0.0; DCT_LEN];
        for (j, d) in self.dct.iter_mut().take(2 * n + 1).enumerate() {
            *d = dct_basis(j, n);
        }
        if let Some(d) = self.dct.get_mut(2 * n + 1) {
            *d = dct_basis(3 * n, n);
        }
        self.reset();
        Ok(())
    }

    /// `linear_to_mel_weight_matrix` in float32, kept sparse: HTK mel `1127·ln(1 + f/700)`, bin
    /// frequencies `k · nyquist/(bins−1)`, edges evenly spaced in mel, weight
    /// `max(0, min(lower slope, upper slope))`, DC bin zero.
    fn mel_weights(&mut self) {
        let c = self.config;
        let bins = self.fft_size / 2 + 1;
        let n = usize::from(c.mel_bins);
        let mel = |hz: f32| 1127.0f32 * libm::logf(1.0 + hz / 700.0);
        let nyquist = c.sample_rate_hz as f32 / 2.0;
        let (lo, hi) = (mel(c.lower_edge_hz), mel(c.upper_edge_hz));
        // tf.linspace(lo, hi, n + 2): lo + i·((hi − lo)/(n + 1)), the last one exactly hi.
        let delta = (hi - lo) / (n + 1) as f32;
        let edge = |i: usize| {
            if i == n + 1 {
                hi
            } else {
                lo + i as f32 * delta
            }
        };
        let bin_step = nyquist / (bins - 1) as f32;
        self.w_ch = [NO_CHANNEL; MAX_BINS];
        self.w_val = [0.0; 2 * MAX_BINS];
        for k in 1..bins {
            let m = mel(if k == bins - 1 {
                nyquist
            } else {
                k as f32 * bin_step
            });
            for ch in 0..n {
                let (l, ce, u) = (edge(ch), edge(ch + 1), edge(ch + 2));
                let lower = (m - l) / (ce - l);
                let upper = (u - m) / (u - ce);
                let w = lower.min(upper);
                if w > 0.0 {
                    // Triangles overlap only their neighbours: the first channel with a weight
                    // takes slot 0, the next one slot 1.
                    let slot = match self.w_ch[k] {
                        NO_CHANNEL => {
                            self.w_ch[k] = ch as u8;
                            0
                        }
                        _ => 1,
                    };
                    if let Some(v) = self.w_val.get_mut(2 * k + slot) {
                        *v = w;
                    }
                }
            }
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &MfccConfig {
        &self.config
    }

    /// Coefficients per frame.
    pub fn num_coefficients(&self) -> usize {
        usize::from(self.config.coefficients)
    }

    /// RAM this front end occupies (it allocates nothing else).
    pub const fn ram_bytes() -> usize {
        core::mem::size_of::<Self>()
    }

    /// Forget all audio.
    pub fn reset(&mut self) {
        self.input = [0; MAX_FFT];
        self.filled = 0;
    }

    /// Feed samples of any length; `on_frame` sees each completed frame (the first after a full
    /// window, then one per step). Chunking does not change the output. Returns the frames made.
    pub fn push(&mut self, samples: &[i16], mut on_frame: impl FnMut(MfccFrame<'_>)) -> usize {
        let mut frames = 0;
        let mut rest = samples;
        while !rest.is_empty() && self.window_len > 0 {
            let take = (self.window_len - self.filled).min(rest.len());
            let (head, tail) = rest.split_at(take);
            if let Some(dst) = self.input.get_mut(self.filled..self.filled + take) {
                dst.copy_from_slice(head);
            }
            self.filled += take;
            rest = tail;
            if self.filled == self.window_len {
                self.compute_frame();
                let n = self.num_coefficients();
                on_frame(MfccFrame {
                    features: &self.features[..n],
                    int8: &self.int8[..n],
                });
                frames += 1;
                self.input.copy_within(self.step..self.window_len, 0);
                self.filled -= self.step;
            }
        }
        frames
    }

    /// One frame from the full window in `self.input`.
    fn compute_frame(&mut self) {
        let half = self.fft_size / 2;
        // Window the samples (scaled to [-1, 1) exactly: /32768 is a power of two) into the
        // even/odd packing of the half-size complex FFT.
        for (j, c) in self.buf.iter_mut().take(half).enumerate() {
            let n = self.window_len;
            let x = |i: usize| match (self.input.get(i), self.window.get(i.min(n - i.min(n)))) {
                (Some(&s), Some(&w)) if i < n => (s as f32 / 32768.0) * w,
                _ => 0.0,
            };
            *c = Cpx {
                r: x(2 * j),
                i: x(2 * j + 1),
            };
        }
        self.fft.real_forward(&mut self.buf[..=half]);
        // |X| (the spectrogram's magnitude), in place in `.r`.
        for c in self.buf.iter_mut().take(half + 1) {
            c.r = libm::sqrtf(c.r * c.r + c.i * c.i);
        }
        let n = usize::from(self.config.mel_bins);
        self.mel = [0.0; MAX_MEL];
        let bins = self
            .buf
            .iter()
            .zip(self.w_ch.iter().zip(self.w_val.chunks_exact(2)));
        for (x, (&ch, w)) in bins.take(half + 1) {
            let ch = usize::from(ch);
            if let (Some(a), Some(b)) = (self.mel.get_mut(ch), w.first()) {
                *a += x.r * *b;
            }
            if let (Some(a), Some(b)) = (self.mel.get_mut(ch + 1), w.get(1)) {
                *a += x.r * *b;
            }
        }
        for v in self.mel.iter_mut().take(n) {
            *v = libm::logf(*v + 1e-6);
        }
        let period = 4 * n;
        let (scale, zp) = (self.config.input_scale, self.config.zero_point);
        let coefficients = self.num_coefficients();
        let outs = self.features.iter_mut().zip(self.int8.iter_mut());
        for (k, (f, q)) in outs.take(coefficients).enumerate() {
            let mut acc = 0.0f32;
            for (i, &x) in self.mel.iter().take(n).enumerate() {
                let j = (k * (2 * i + 1)) % period;
                acc += x * basis(&self.dct, j, n);
            }
            *f = acc;
            *q = quantize(acc, scale, zp);
        }
    }
}

/// Entries of [`Mfcc`]'s half-period DCT table (`2·MAX_MEL + 1`, plus the `3·bins` value).
const DCT_LEN: usize = 2 * MAX_MEL + 2;

/// `cos(π·j / 2n) · 2 / sqrt(2n)` in f64, rounded once to f32 (mfccs_from_log_mel_spectrograms:
/// dct(type=2) · rsqrt(2·n); the unnormalized DCT-II is 2·Σ x_i·cos(π·k·(2i+1) / 2n)).
fn dct_basis(j: usize, n: usize) -> f32 {
    let scale = 2.0 / libm::sqrt(2.0 * n as f64);
    (libm::cos(core::f64::consts::PI * j as f64 / (2 * n) as f64) * scale) as f32
}

/// The basis value at `j` in `0..4n` from [`Mfcc`]'s half-period table `dct`.
fn basis(dct: &[f32; DCT_LEN], j: usize, n: usize) -> f32 {
    let at = if j <= 2 * n {
        j
    } else if j == 3 * n {
        2 * n + 1
    } else {
        4 * n - j
    };
    dct.get(at).copied().unwrap_or(0.0)
}

/// `clamp(round_half_even(x / scale) + zero_point, −128, 127)` in `f32` (numpy's
/// `np.round(np.float32(x) / np.float32(scale))`); NaN maps to the zero point.
pub fn quantize(x: f32, scale: f32, zero_point: i32) -> i8 {
    let v = x / scale;
    // |v| ≤ 2^9 keeps the result saturated and the rounding trick exact.
    let v = if v.is_nan() {
        0.0
    } else {
        v.clamp(-512.0, 512.0)
    };
    // Adding and subtracting 2^23 rounds to an integer, ties to even (IEEE default rounding).
    const MAGIC: f32 = 8_388_608.0;
    let r = if v >= 0.0 {
        (v + MAGIC) - MAGIC
    } else {
        (v - MAGIC) + MAGIC
    };
    (r as i32 + zero_point).clamp(-128, 127) as i8
}

#[cfg(test)]
mod tests {
    #[test]
    fn half_period_dct_equals_the_full_table() {
        // The full-period table every earlier release computed: `dct_basis(j, n)` for j < 4n.
        let mut m = Mfcc::EMPTY;
        for n in 1..=MAX_MEL {
            m.dct = [0.0; DCT_LEN];
            for (j, d) in m.dct.iter_mut().take(2 * n + 1).enumerate() {
                *d = dct_basis(j, n);
            }
            m.dct[2 * n + 1] = dct_basis(3 * n, n);
            for j in 0..4 * n {
                assert_eq!(
                    basis(&m.dct, j, n).to_bits(),
                    dct_basis(j, n).to_bits(),
                    "n = {n}, j = {j}"
                );
            }
        }
    }

    use super::*;
    use std::boxed::Box;

    #[test]
    fn quantize_rounds_half_even_and_saturates() {
        assert_eq!(quantize(0.5, 1.0, 0), 0);
        assert_eq!(quantize(1.5, 1.0, 0), 2);
        assert_eq!(quantize(-2.5, 1.0, 0), -2);
        assert_eq!(quantize(-2.6, 1.0, 3), 0);
        assert_eq!(quantize(1e30, 1.0, 0), 127);
        assert_eq!(quantize(-1e30, 0.5, 0), -128);
        assert_eq!(quantize(f32::NAN, 1.0, 7), 7);
        assert_eq!(quantize(10.0, 0.25, -128), -88);
    }

    #[test]
    fn extreme_audio_stays_finite_and_saturates() {
        let mut m = Box::new(Mfcc::EMPTY);
        // Unconfigured: consumes nothing, makes no frame, does not panic.
        assert_eq!(m.push(&[1, 2, 3], |_| {}), 0);
        m.init(&MfccConfig::MLPERF.with_input(0.01, -128)).unwrap();
        let loud: std::vec::Vec<i16> = (0..4000)
            .map(|i| if (i / 3) % 2 == 0 { i16::MIN } else { i16::MAX })
            .collect();
        let mut n = 0;
        m.push(&loud, |f| {
            n += 1;
            assert!(f.features.iter().all(|v| v.is_finite()), "{:?}", f.features);
            assert!(f.int8.iter().any(|&q| q == 127 || q == -128));
        });
        assert_eq!(n, 12); // (4000 − 480) / 320 + 1
                           // Smallest settings: a 4-sample window, one mel bin, one coefficient.
        let mut c = MfccConfig::MLPERF;
        (c.window_ms, c.step_ms, c.mel_bins, c.coefficients) = (1, 1, 1, 1);
        c.sample_rate_hz = 4000;
        c.upper_edge_hz = 2000.0;
        m.init(&c).unwrap();
        assert_eq!(
            m.push(&[i16::MIN; 40], |f| assert!(f.features[0].is_finite())),
            10
        );
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let mut m = Box::new(Mfcc::EMPTY);
        let mut c = MfccConfig::MLPERF;
        c.coefficients = 41;
        let e = m.init(&c).unwrap_err();
        assert!(std::format!("{e}").contains("coefficients"), "{e}");
        c = MfccConfig::MLPERF;
        c.upper_edge_hz = 9000.0;
        assert!(std::format!("{}", m.init(&c).unwrap_err()).contains("upper edge"));
        c = MfccConfig::MLPERF;
        c.window_ms = 40;
        assert!(m.init(&c).is_err());
        c = MfccConfig::MLPERF.with_input(f32::NAN, 0);
        assert!(m.init(&c).is_err());
    }

    #[test]
    fn silence_gives_the_log_floor_and_chunking_does_not_matter() {
        let mut m = Box::new(Mfcc::EMPTY);
        m.init(&MfccConfig::MLPERF).unwrap();
        let mut frames = std::vec::Vec::new();
        assert_eq!(
            m.push(&[0i16; 16000], |f| frames.push(f.features.to_vec())),
            49
        );
        // All mel bins log(1e-6): only c0 = 40·ln(1e-6)·2/sqrt(80) ≈ −123.57 is non-zero.
        let c0 = 40.0 * libm::logf(1e-6) * 2.0 / libm::sqrtf(80.0);
        assert!((frames[0][0] - c0).abs() < 1e-3, "{}", frames[0][0]);
        assert!(frames[0][1..].iter().all(|v| v.abs() < 1e-3));
        // A chirp, pushed whole and in odd chunks.
        let audio: std::vec::Vec<i16> = (0..8000)
            .map(|i| (libm::sinf(i as f32 * i as f32 * 1e-4) * 8000.0) as i16)
            .collect();
        let mut a = std::vec::Vec::new();
        m.reset();
        m.push(&audio, |f| a.extend_from_slice(f.int8));
        let mut b = std::vec::Vec::new();
        m.reset();
        for chunk in audio.chunks(77) {
            m.push(chunk, |f| b.extend_from_slice(f.int8));
        }
        assert_eq!(a, b);
        assert_eq!(a.len(), 24 * 10);
    }
}
