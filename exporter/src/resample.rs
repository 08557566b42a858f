//! Any input rate from 8 to 192 kHz → 16 kHz, for WAV files and laptop microphones.
//!
//! The rates of [`mote_engine::resample::SUPPORTED_RATES`] go through the engine's exact
//! polyphase filters (the same samples the browser and the firmware produce). Any other rate in
//! [`MIN_RATE`]`..=`[`MAX_RATE`] (11 025, 12 000, 37 800, 176 400, 192 000 Hz, ...) goes through
//! [`Interpolating`]: a Kaiser-windowed sinc evaluated at each output's exact rational input
//! position `n·R/16000`, its coefficients linearly interpolated from a finely sampled table.
//!
//! Filter: pass band up to `min(7 kHz, 0.425·R)`, stop band from `min(8 kHz, R/2)`, Kaiser
//! β = 7 (about 70 dB), as the engine's prototypes. It is causal like the engine's filters: output
//! `n` is the filtered signal at input time `n·R/16000 − W` (`W` = half the filter span), so the
//! output count for `len` inputs is `ceil(len·16000/R)` and the stream needs no flush.
//!
//! Determinism: the table is computed with IEEE `+ − × ÷ sqrt` and `libm::sin` (pure Rust), and
//! the filter itself is integer arithmetic, so the output is the same bits on every target.

use std::collections::VecDeque;

use mote_engine::resample::{Resampler, OUTPUT_RATE};

/// Lowest input rate accepted, Hz.
pub const MIN_RATE: u32 = 8_000;
/// Highest input rate accepted, Hz.
pub const MAX_RATE: u32 = 192_000;

/// Kaiser window β (about 70 dB stop-band attenuation, as the engine's prototypes).
const BETA: f64 = 7.0;
/// Fixed-point scale of the coefficients: a coefficient `c` stands for `c / 2^SHIFT`.
const SHIFT: u32 = 30;
/// Per-phase coefficient tables are precomputed up to this many coefficients (16 MiB of i32);
/// beyond (rates with a large reduced denominator), coefficients are interpolated per output.
const PHASE_TABLE_LIMIT: usize = 1 << 22;

/// A resampler from any rate in `MIN_RATE..=MAX_RATE` to 16 kHz.
pub enum AnyRate {
    /// A rate the engine has an exact filter for.
    Engine(Box<Resampler>),
    /// Any other rate.
    Interpolating(Box<Interpolating>),
}

impl AnyRate {
    /// A resampler for `rate` Hz, or why it cannot be converted.
    pub fn new(rate: u32) -> Result<AnyRate, String> {
        if !(MIN_RATE..=MAX_RATE).contains(&rate) {
            return Err(format!(
                "{rate} Hz cannot be converted to 16 kHz (supported: {MIN_RATE}–{MAX_RATE} Hz)"
            ));
        }
        Ok(match Resampler::new(rate) {
            Ok(r) => AnyRate::Engine(Box::new(r)),
            Err(_) => AnyRate::Interpolating(Box::new(Interpolating::new(rate))),
        })
    }

    /// Consumes `input` and calls `out` once per 16 kHz sample, in order (any chunking gives
    /// the same output).
    pub fn process(&mut self, input: &[i16], out: impl FnMut(i16)) {
        match self {
            AnyRate::Engine(r) => r.process(input, out),
            AnyRate::Interpolating(r) => r.process(input, out),
        }
    }
}

/// The windowed-sinc interpolator for rates the engine has no exact filter for.
pub struct Interpolating {
    /// Input position of output `n` is `n·a/b` input samples (`a/b = R/16000`, reduced).
    a: u64,
    b: u64,
    /// Filter span in input samples (`2W`): output `n` reads inputs `k` with
    /// `0 ≤ n·a/b − k < span`.
    span: usize,
    /// Fine table resolution: entries per input sample.
    k: u64,
    /// The kernel `g(d)` at `d = j/k`, `j = 0..=span·k` (one extra zero entry), scaled by 2^SHIFT.
    table: Vec<i32>,
    /// Precomputed coefficients per phase (`b` phases × `span`), when small enough.
    phases: Option<Vec<i32>>,
    /// The last `span` inputs (oldest first); zeros before the stream's start.
    hist: VecDeque<i16>,
    /// Index of the next input sample.
    next_in: u64,
    /// Index of the next output sample.
    next_out: u64,
}

/// `I0(x)`, the modified Bessel function of the first kind, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let q = x * x / 4.0;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..80u32 {
        term = term * q / f64::from(k * k);
        sum += term;
    }
    sum
}

/// Filter design for `rate`: (cut-off / rate, half-span in input samples as f64).
fn design(rate: u32) -> (f64, f64) {
    let r = f64::from(rate);
    let stop = (r / 2.0).min(8_000.0);
    let pass = (0.425 * r).min(7_000.0);
    let fc = (pass + stop) / 2.0;
    // Kaiser's estimate: (A − 7.95) / (14.36 · Δf / fs) taps for A = 70 dB.
    let taps = (70.0 - 7.95) / (14.36 * (stop - pass) / r);
    (fc / r, taps / 2.0)
}

/// The continuous kernel at `u` input samples from its centre (`|u| ≤ w`): a windowed sinc
/// with cut-off `fc_r` (cycles per input sample).
fn kernel(u: f64, fc_r: f64, w: f64) -> f64 {
    let t = u / w;
    if t.abs() >= 1.0 {
        return 0.0;
    }
    let x = 2.0 * fc_r * u;
    let sinc = if x == 0.0 {
        1.0
    } else {
        libm::sin(core::f64::consts::PI * x) / (core::f64::consts::PI * x)
    };
    2.0 * fc_r * sinc * bessel_i0(BETA * (1.0 - t * t).sqrt()) / bessel_i0(BETA)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Interpolating {
    /// An interpolator for `rate` Hz (any positive rate; [`AnyRate::new`] checks the range).
    pub fn new(rate: u32) -> Interpolating {
        let rate = rate.max(1);
        let g = gcd(u64::from(rate), u64::from(OUTPUT_RATE));
        let (a, b) = (u64::from(rate) / g, u64::from(OUTPUT_RATE) / g);
        let (fc_r, half) = design(rate);
        let w = half.ceil().max(1.0);
        let span = 2 * w as usize;
        // About 1024 table entries per cycle of the cut-off: linear interpolation error < 1e-5.
        let k = (1024.0 * 2.0 * fc_r).ceil().max(8.0) as u64;
        let scale = f64::from(1u32 << SHIFT);
        let n = span * k as usize + 2;
        let table: Vec<i32> = (0..n)
            .map(|j| {
                let d = j as f64 / k as f64;
                (kernel(d - w, fc_r, w) * scale).round() as i32
            })
            .collect();
        let mut me = Interpolating {
            a,
            b,
            span,
            k,
            table,
            phases: None,
            hist: std::iter::repeat_n(0, span).collect(),
            next_in: 0,
            next_out: 0,
        };
        let count = (b as usize).saturating_mul(span);
        if count <= PHASE_TABLE_LIMIT {
            let mut phases = Vec::with_capacity(count);
            for phase in 0..b {
                phases.extend((0..span as u64).map(|m| me.coefficient(phase, m)));
            }
            me.phases = Some(phases);
        }
        me
    }

    /// Filter span in input samples.
    pub fn span(&self) -> usize {
        self.span
    }

    /// The coefficient for the input `m` samples before the output's position floor, at
    /// `phase / b` of an input sample past it: `g(d)` with `d = m + phase/b`.
    fn coefficient(&self, phase: u64, m: u64) -> i32 {
        // d·k = (m·b + phase)·k / b, split into table index and remainder.
        let num = (m * self.b + phase) * self.k;
        let (j, rem) = ((num / self.b) as usize, (num % self.b) as i64);
        let c0 = i64::from(self.table.get(j).copied().unwrap_or(0));
        let c1 = i64::from(self.table.get(j + 1).copied().unwrap_or(0));
        (c0 + ((c1 - c0) * rem).div_euclid(self.b as i64)) as i32
    }

    /// Consumes `input`, calling `out` for each output sample now due.
    pub fn process(&mut self, input: &[i16], mut out: impl FnMut(i16)) {
        for &x in input {
            self.hist.pop_front();
            self.hist.push_back(x);
            let i = self.next_in;
            self.next_in += 1;
            // Output n is due once input floor(n·a/b) has arrived.
            loop {
                let pos = self.next_out * self.a;
                let (whole, phase) = (pos / self.b, pos % self.b);
                if whole > i {
                    break;
                }
                // `whole == i`: the newest input is at m = 0.
                let mut acc = 0i64;
                for (m, &xs) in self.hist.iter().rev().enumerate() {
                    let c = match &self.phases {
                        Some(p) => p.get(phase as usize * self.span + m).copied().unwrap_or(0),
                        None => self.coefficient(phase, m as u64),
                    };
                    acc += i64::from(xs) * i64::from(c);
                }
                let y = (acc + (1i64 << (SHIFT - 1))) >> SHIFT;
                out(y.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16);
                self.next_out += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(len: usize) -> Vec<i16> {
        (0..len)
            .map(|i| ((i * 7919 % 2003) as i16 - 1000) * 13)
            .collect()
    }

    #[test]
    fn matches_a_direct_evaluation_of_the_windowed_sinc() {
        // The same filter evaluated directly in f64 at each output's exact input position.
        for rate in [11_025u32, 12_000, 37_800, 8_001, 176_400, 192_000] {
            let mut r = Interpolating::new(rate);
            let x = signal(3 * r.span + 500);
            let mut got = Vec::new();
            // Odd chunk sizes: chunking must not matter.
            for part in x.chunks(97) {
                r.process(part, |y| got.push(y));
            }
            assert_eq!(
                got.len() as u64,
                (x.len() as u64 * 16_000).div_ceil(u64::from(rate)),
                "rate {rate}"
            );
            let (fc_r, half) = design(rate);
            let w = half.ceil().max(1.0);
            let mut worst = 0i32;
            for (n, &y) in got.iter().enumerate() {
                let p = n as f64 * f64::from(rate) / 16_000.0;
                let mut acc = 0.0;
                for (k, &xk) in x.iter().enumerate() {
                    let d = p - k as f64;
                    if (0.0..2.0 * w).contains(&d) {
                        acc += f64::from(xk) * kernel(d - w, fc_r, w);
                    }
                }
                let want = acc.round().clamp(-32768.0, 32767.0) as i32;
                worst = worst.max((i32::from(y) - want).abs());
            }
            assert!(worst <= 2, "rate {rate}: off by {worst}");
        }
    }

    #[test]
    fn tones_come_through_at_the_right_frequency() {
        // A 1 kHz tone at 11 025 Hz: the 16 kHz output matches a 1 kHz sine (after the filter
        // delay) within 1 % of full scale, so the table and the phase bookkeeping agree.
        for rate in [11_025u32, 12_000, 192_000] {
            let mut r = Interpolating::new(rate);
            let delay = (r.span / 2) as f64 / f64::from(rate);
            let x: Vec<i16> = (0..rate as usize / 2)
                .map(|i| {
                    let t = i as f64 / f64::from(rate);
                    (16_000.0 * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin()) as i16
                })
                .collect();
            let mut got = Vec::new();
            r.process(&x, |y| got.push(y));
            for (n, &y) in got.iter().enumerate().skip(200).take(4000) {
                let t = n as f64 / 16_000.0 - delay;
                let want = 16_000.0 * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin();
                assert!(
                    (f64::from(y) - want).abs() < 330.0,
                    "rate {rate} sample {n}: {y} vs {want:.0}"
                );
            }
        }
    }

    #[test]
    fn engine_rates_use_the_engine_filters_and_the_range_is_enforced() {
        for rate in [8_000, 16_000, 44_100, 48_000, 96_000] {
            assert!(matches!(AnyRate::new(rate), Ok(AnyRate::Engine(_))));
        }
        assert!(matches!(
            AnyRate::new(11_025),
            Ok(AnyRate::Interpolating(_))
        ));
        for rate in [0, 7_999, 192_001] {
            assert!(AnyRate::new(rate).is_err());
        }
    }
}
