//! Start-up tables that TFLM computes with floating point: the Hann window, the mel filterbank
//! weights and the PCAN gain LUT. Each function reproduces the C (or, for the signal library,
//! the Python model-building) expression step by step in the same precision (`f32` where C
//! uses `float`, `f64` where it uses `double`), so the integer tables come out identical.
//! `engine/tests/frontend.rs` compares them with the tables the oracles use.

use core::fmt::{self, Write};

use super::{Flavor, Int8Thresholds, MAX_BINS, MAX_CHANNELS, MAX_FFT};
use crate::Error;

/// Fractional bits of the window coefficients (`kFrontendWindowBits`).
pub const WINDOW_BITS: u32 = 12;
/// Fractional bits of the filterbank weights (`kFilterbankBits`).
pub const FILTERBANK_BITS: u32 = 12;
/// Entries in the PCAN gain LUT (`kWideDynamicFunctionLUTSize` = 4·32 − 3).
pub const PCAN_LUT_SIZE: usize = 125;

/// TFLM `FreqToMel(float)`: `1127 · log1p(freq / 700)` evaluated in double, returned as float.
fn freq_to_mel(freq: f32) -> f32 {
    (1127.0 * libm::log1p(f64::from(freq) / 700.0)) as f32
}

/// The single-precision `FreqToMel` of pymicro-features' micro-frontend copy:
/// `1127.0f · log1pf(freq / 700.0f)`.
fn freq_to_mel_f32(freq: f32) -> f32 {
    1127.0 * log1pf(freq / 700.0)
}

/// `log1pf` as glibc computes it for these arguments (see `engine/tests/frontend.rs`).
fn log1pf(x: f32) -> f32 {
    libm::log1pf(x)
}

/// `cosf` as glibc computes it for these arguments (see `engine/tests/frontend.rs`).
fn cosf(x: f32) -> f32 {
    libm::cosf(x)
}

/// `WindowPopulateState` (window_util.c): Hann window in Q12.
///
/// Double-precision tables (TFLM's C code; the signal library's model builder gives the same
/// 480 values): `floor(float(0.5 − 0.5·cos(arg·(i + 0.5))) · 4096 + 0.5)` with
/// `arg = float(2·pi / size)`. [`Flavor::MicroFrontendF32`]: the same in float with `cosf`
/// and `floorf`, which changes one of the 480 coefficients (index 17: 54 instead of 53).
pub fn hann_q12(flavor: Flavor, out: &mut [i16]) {
    let size = out.len();
    for (i, c) in out.iter_mut().enumerate() {
        *c = match flavor {
            Flavor::MicroFrontendF32 => {
                let arg = core::f32::consts::PI * 2.0 / size as f32;
                let value = 0.5f32 - 0.5 * cosf(arg * (i as f32 + 0.5));
                libm::floorf(value * (1u32 << WINDOW_BITS) as f32 + 0.5) as i16
            }
            Flavor::MicroFrontendF64 | Flavor::SignalLibrary => {
                let arg = (core::f64::consts::PI * 2.0 / f64::from(size as f32)) as f32;
                let value = (0.5 - 0.5 * libm::cos(f64::from(arg) * (i as f64 + 0.5))) as f32;
                libm::floor(f64::from(value * (1u32 << WINDOW_BITS) as f32) + 0.5) as i16
            }
        };
    }
}

/// Per-FFT-bin filterbank: bins `start..end` each feed `weight` to channel segment `seg` and
/// `unweight` to segment `seg + 1`; output channel `c` is segment `c + 1`.
///
/// This is TFLM's weight/unweight layout without the alignment padding (padding entries have
/// zero weights and contribute nothing; the u64 sums are exact, so their order is irrelevant).
#[derive(Clone, Copy)]
pub struct Filterbank {
    /// First FFT bin used (DC is always excluded).
    pub start: usize,
    /// One past the last FFT bin used.
    pub end: usize,
    /// Segment (0..=channels) of each bin, indexed by bin.
    pub seg: [u8; MAX_BINS],
    /// Q12 weight of each bin towards its own segment.
    pub weight: [u16; MAX_BINS],
    /// Q12 weight of each bin towards the next segment.
    pub unweight: [u16; MAX_BINS],
}

impl Filterbank {
    /// An empty filterbank (no bins), for a front end built in place.
    pub const EMPTY: Filterbank = Filterbank {
        start: 0,
        end: 0,
        seg: [0; MAX_BINS],
        weight: [0; MAX_BINS],
        unweight: [0; MAX_BINS],
    };
}

/// One front-end configuration's start-up tables, as [`super::Frontend::tables`] reads them
/// back: the Hann window ([`hann_q12`]), the filterbank ([`filterbank`]), the PCAN LUT
/// ([`pcan_lut`]) and the int8 thresholds. A model compiled ahead of time carries them as a
/// constant ([`FrontendTables::write_rust`]), so the firmware never runs (or links) the
/// floating-point code that computes them.
#[derive(Clone)]
pub struct FrontendTables {
    /// Q12 Hann window (the first `window_len` entries; the rest 0).
    pub window: [i16; MAX_FFT],
    /// Mel filterbank.
    pub filterbank: Filterbank,
    /// PCAN gain LUT (zeros without PCAN).
    pub pcan_lut: [i16; PCAN_LUT_SIZE],
    /// Feature → int8 thresholds.
    pub int8: Int8Thresholds,
}

impl FrontendTables {
    /// Writes `self` as a Rust constant expression (full paths from `mote_engine`) that
    /// evaluates to equal tables.
    pub fn write_rust(&self, w: &mut dyn Write) -> fmt::Result {
        // Exhaustive: a new field does not compile until it is written.
        let FrontendTables {
            window,
            filterbank:
                Filterbank {
                    start,
                    end,
                    seg,
                    weight,
                    unweight,
                },
            pcan_lut,
            int8,
        } = self;
        w.write_str("mote_engine::frontend::FrontendTables {\n    window: ")?;
        write_array(w, window)?;
        write!(
            w,
            ",\n    filterbank: mote_engine::frontend::tables::Filterbank {{ start: {start}, end: {end}, seg: "
        )?;
        write_array(w, seg)?;
        w.write_str(", weight: ")?;
        write_array(w, weight)?;
        w.write_str(", unweight: ")?;
        write_array(w, unweight)?;
        w.write_str(" },\n    pcan_lut: ")?;
        write_array(w, pcan_lut)?;
        w.write_str(",\n    int8: ")?;
        int8.write_rust(w)?;
        w.write_str(",\n}")
    }
}

/// `[a, b, …]`.
pub(super) fn write_array<T: fmt::Display>(w: &mut dyn Write, values: &[T]) -> fmt::Result {
    w.write_char('[')?;
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            w.write_str(", ")?;
        }
        write!(w, "{v}")?;
    }
    w.write_char(']')
}

/// Error for a band that does not fit below the Nyquist frequency.
const BAND_ERROR: Error = Error::LimitExceeded {
    what: "FFT bins for the filterbank band (upper limit too close to Nyquist)",
    limit: MAX_BINS as u32,
};

/// `FilterbankPopulateState` (filterbank_util.c; [`Flavor::MicroFrontendF64`] as in TFLM,
/// [`Flavor::MicroFrontendF32`] as pymicro-features' single-precision copy computes it) or
/// `_init_filter_bank_weights` (signal/python/ops/filter_bank_ops.py, [`Flavor::SignalLibrary`]).
///
/// The signal version computes Hz per bin and the first bin in double
/// (`round(1 + lower / hz)`, half to even) where the C code uses float and
/// `(int)(1.5 + lower / hz)`, and it quantizes weights by truncation (`int(w · 4096)`) where
/// the C code rounds (`floor(w · 4096 + 0.5)`). The truncation is where the front ends part:
/// it makes about half of the weights one less. The single-precision C copy (`log1pf`,
/// `floorf`, float Hz per bin) differs from the double one in a few weights by one.
pub fn filterbank(
    flavor: Flavor,
    num_channels: usize,
    lower_hz: f32,
    upper_hz: f32,
    sample_rate: u32,
    spectrum_size: usize,
) -> Result<Filterbank, Error> {
    let mut fb = Filterbank {
        start: 0,
        end: 0,
        seg: [0; MAX_BINS],
        weight: [0; MAX_BINS],
        unweight: [0; MAX_BINS],
    };
    let segments = num_channels + 1;
    // CalculateCenterFrequencies, all in float.
    let mel: fn(f32) -> f32 = match flavor {
        Flavor::MicroFrontendF32 => freq_to_mel_f32,
        Flavor::MicroFrontendF64 | Flavor::SignalLibrary => freq_to_mel,
    };
    let mel_low = mel(lower_hz);
    let mel_hi = mel(upper_hz);
    let spacing = (mel_hi - mel_low) / segments as f32;
    let mut centers = [0f32; MAX_CHANNELS + 1];
    for (i, c) in centers.iter_mut().take(segments).enumerate() {
        *c = mel_low + spacing * (i + 1) as f32;
    }

    // Mel of FFT bin `b`, with the per-flavor Hz-per-bin arithmetic.
    let (start, bin_mel): (i64, &dyn Fn(usize) -> f32) = match flavor {
        Flavor::MicroFrontendF32 => {
            // 0.5f * sample_rate / ((float)spectrum_size - 1), all float.
            let hz = 0.5f32 * sample_rate as f32 / (spectrum_size as f32 - 1.0);
            let start = (1.5f32 + lower_hz / hz) as i64;
            (start, &move |b: usize| freq_to_mel_f32(b as f32 * hz))
        }
        Flavor::MicroFrontendF64 => {
            // 0.5 * sample_rate / ((float)spectrum_size - 1): double division of a float
            // denominator, stored as float.
            let denom = spectrum_size as f32 - 1.0;
            let hz = (0.5 * f64::from(sample_rate) / f64::from(denom)) as f32;
            let start = (1.5 + f64::from(lower_hz / hz)) as i64;
            (start, &move |b: usize| freq_to_mel(b as f32 * hz))
        }
        Flavor::SignalLibrary => {
            let hz = (f64::from(sample_rate) / 2.0) / (spectrum_size as f64 - 1.0);
            let start = round_half_even(1.0 + f64::from(lower_hz) / hz);
            (start, &move |b: usize| freq_to_mel((b as f64 * hz) as f32))
        }
    };
    if start < 1 || start as usize >= spectrum_size.min(MAX_BINS) {
        return Err(BAND_ERROR);
    }
    let start = start as usize;
    fb.start = start;

    let mut freq = start;
    for (seg, &center) in centers.iter().take(segments).enumerate() {
        let first = freq;
        while bin_mel(freq) <= center {
            freq += 1;
            if freq >= spectrum_size || freq >= MAX_BINS {
                return Err(BAND_ERROR);
            }
        }
        let den_val = if seg == 0 {
            mel_low
        } else {
            centers.get(seg - 1).copied().unwrap_or(mel_low)
        };
        for b in first..freq {
            let w = (center - bin_mel(b)) / (center - den_val);
            let (wq, uq) = match flavor {
                Flavor::MicroFrontendF32 => (
                    libm::floorf(w * (1u32 << FILTERBANK_BITS) as f32 + 0.5) as i32,
                    libm::floorf((1.0 - w) * (1u32 << FILTERBANK_BITS) as f32 + 0.5) as i32,
                ),
                Flavor::MicroFrontendF64 => (
                    libm::floor(f64::from(w * (1u32 << FILTERBANK_BITS) as f32) + 0.5) as i32,
                    libm::floor((1.0 - f64::from(w)) * f64::from(1u32 << FILTERBANK_BITS) + 0.5)
                        as i32,
                ),
                Flavor::SignalLibrary => (
                    (w * (1u32 << FILTERBANK_BITS) as f32) as i32,
                    ((1.0 - w) * (1u32 << FILTERBANK_BITS) as f32) as i32,
                ),
            };
            if let (Some(s), Some(wt), Some(ut)) = (
                fb.seg.get_mut(b),
                fb.weight.get_mut(b),
                fb.unweight.get_mut(b),
            ) {
                *s = seg as u8;
                // Weights lie in [0, 4096]; TFLM stores them as int16.
                *wt = wq.clamp(0, 1 << FILTERBANK_BITS) as u16;
                *ut = uq.clamp(0, 1 << FILTERBANK_BITS) as u16;
            }
        }
    }
    fb.end = freq;
    Ok(fb)
}

/// Python's `round()` on a float: nearest integer, ties to even.
fn round_half_even(x: f64) -> i64 {
    let f = libm::floor(x);
    let diff = x - f;
    let fi = f as i64;
    if diff > 0.5 || (diff == 0.5 && fi % 2 != 0) {
        fi + 1
    } else {
        fi
    }
}

/// `PcanGainLookupFunction`: `(int16)(float(2^gain_bits) · powf(x / 2^input_bits + offset,
/// −strength) + 0.5f)`, saturated at 32767.
fn pcan_gain(strength: f32, offset: f32, gain_bits: u32, input_bits: u32, x: u32) -> i16 {
    let x_as_float = x as f32 / (1u32 << input_bits) as f32;
    let gain = (1u32 << gain_bits) as f32 * powf(x_as_float + offset, -strength);
    if gain > 32767.0 {
        32767
    } else {
        (gain + 0.5) as i16
    }
}

/// C `powf`, correctly rounded: the exact power in double (error < 1 ulp of f64) rounded once
/// to float. glibc's `powf` returns the correctly rounded result for these arguments;
/// `engine/tests/frontend.rs` checks the whole LUT against the oracles'.
fn powf(x: f32, y: f32) -> f32 {
    libm::pow(f64::from(x), f64::from(y)) as f32
}

/// `PcanGainControlPopulateState`: the piecewise-quadratic gain LUT (`gain_lut[0..2]` for
/// x = 0, 1, then per interval `y0, a1, a2, 0` at `4·interval − 6`).
pub fn pcan_lut(
    strength: f32,
    offset: f32,
    gain_bits: u32,
    input_bits: u32,
) -> [i16; PCAN_LUT_SIZE] {
    let g = |x: u32| pcan_gain(strength, offset, gain_bits, input_bits, x);
    let mut lut = [0i16; PCAN_LUT_SIZE];
    lut[0] = g(0);
    lut[1] = g(1);
    for interval in 2u32..=32 {
        let x0 = 1u32 << (interval - 1);
        let x1 = x0 + (x0 >> 1);
        let x2 = if interval == 32 {
            x0 + (x0 - 1)
        } else {
            2 * x0
        };
        let (y0, y1, y2) = (i32::from(g(x0)), i32::from(g(x1)), i32::from(g(x2)));
        let diff1 = y1 - y0;
        let diff2 = y2 - y0;
        let a1 = 4 * diff1 - diff2;
        let a2 = diff2 - a1;
        let base = 4 * interval as usize - 6;
        if let Some(slot) = lut.get_mut(base..base + 3) {
            slot.copy_from_slice(&[y0 as i16, a1 as i16, a2 as i16]);
        }
    }
    lut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mel_scale() {
        // 1127·ln(1 + 1000/700) = 999.9907
        assert!((freq_to_mel(1000.0) - 999.990_7).abs() < 1e-3);
        assert_eq!(freq_to_mel(0.0), 0.0);
    }

    #[test]
    fn round_half_even_matches_python() {
        assert_eq!(round_half_even(4.5), 4);
        assert_eq!(round_half_even(5.5), 6);
        assert_eq!(round_half_even(5.0), 5);
        assert_eq!(round_half_even(5.49), 5);
    }

    #[test]
    fn hann_endpoints() {
        let mut w = [0i16; 480];
        hann_q12(Flavor::SignalLibrary, &mut w);
        // Values read off audio_preprocessor_int8.tflite's window constant.
        assert_eq!(&w[..8], &[0, 0, 1, 2, 4, 5, 7, 10]);
        assert_eq!(&w[238..242], &[4096, 4096, 4096, 4096]);
        assert_eq!(w[479], 0);
    }

    #[test]
    fn pcan_lut_head() {
        // First entries of audio_preprocessor_int8.tflite's PCAN LUT (same as pcan_gain_control_util.c).
        let lut = pcan_lut(0.95, 80.0, 21, 7);
        assert_eq!(
            &lut[..12],
            &[32636, 32633, 32630, -6, 0, 0, 32624, -12, 0, 0, 32612, -23]
        );
    }

    #[test]
    fn filterbank_40_channels() {
        for flavor in [
            Flavor::MicroFrontendF32,
            Flavor::MicroFrontendF64,
            Flavor::SignalLibrary,
        ] {
            let fb = filterbank(flavor, 40, 125.0, 7500.0, 16000, 257).unwrap();
            // 125 Hz / 31.25 Hz per bin = 4, +1 excludes DC; 7500 Hz ends below bin 241.
            assert_eq!((fb.start, fb.end), (5, 241));
        }
        let c = filterbank(Flavor::MicroFrontendF64, 40, 125.0, 7500.0, 16000, 257).unwrap();
        let s = filterbank(Flavor::SignalLibrary, 40, 125.0, 7500.0, 16000, 257).unwrap();
        // Truncation vs rounding: the signal weight is the classic one or one less.
        for b in 5..241 {
            assert_eq!(c.seg[b], s.seg[b]);
            let dw = i32::from(c.weight[b]) - i32::from(s.weight[b]);
            let du = i32::from(c.unweight[b]) - i32::from(s.unweight[b]);
            assert!((0..=1).contains(&dw) && (0..=1).contains(&du), "bin {b}");
        }
    }
}
