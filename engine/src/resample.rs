//! Streaming sample-rate conversion to 16 kHz, the rate the micro-frontend expects.
//!
//! Browsers and laptop microphones run at 44.1 or 48 kHz; resampling them without a proper
//! anti-aliasing filter folds everything between 8 and 24 kHz into the speech band. This is an
//! exact rational polyphase FIR resampler (upsample by `L`, low-pass, downsample by `M`):
//!
//! | input rate (Hz)        | `L/M`           | prototype filter                       | taps per output |
//! |------------------------|-----------------|----------------------------------------|-----------------|
//! | 88 200, 44 100, 22 050 | 80, 160, 320 / 441 | 28 160 taps at 7.056 MHz, cut-off 7.4 kHz | 352, 176, 88 |
//! | 96 000, 48 000, 32 000, 24 000 | 1, 2, 3, 4 / 6 | 408 taps at 96 kHz, cut-off 7.4 kHz | 408, 204, 136, 102 |
//! | 16 000                 | 1/1             | none: samples pass through unchanged   | 0               |
//! | 8 000                  | 2/1             | 64 taps at 16 kHz, cut-off 3.8 kHz     | 32              |
//!
//! The prototypes are Kaiser-windowed sincs whose transition band is 7.0–8.0 kHz (3.4–4.5 kHz
//! for 8 kHz input): passband ripple < 0.25 dB up to 7 kHz and > 70 dB stop-band from 8 kHz on,
//! so every input component above the 16 kHz Nyquist frequency is suppressed before it can alias
//! (`tests/resample.rs` measures it with tone and chirp sweeps: aliasing ≤ −71 dB). Cost: one
//! multiply-accumulate per tap, 2.8 M MAC/s at 44.1 kHz, 3.3 M MAC/s at 48 kHz.
//!
//! Determinism: the coefficients are computed by a `const fn` at compile time, so they are the
//! same bits on every target (rustc evaluates constants with a software float, never the host's
//! FPU), and the filter itself is pure integer arithmetic (i16 × i16 products summed in i64, one
//! rounding shift per output sample). The browser, the CLI and the firmware produce identical
//! 16 kHz samples from identical input samples.
//!
//! Samples are `i16` in and out. Float sources (Web Audio) convert with [`f32_to_i16`] first,
//! which is itself exact and platform-independent.
//!
//! Latency: the filters are linear-phase, so the output lags the input by half the prototype
//! length, about 2 ms at every rate ([`Resampler::delay_us`]).

use crate::error::Error;

/// The rate every [`Resampler`] produces, in Hz (the micro-frontend's input rate).
pub const OUTPUT_RATE: u32 = 16_000;

/// The input rates [`Resampler::new`] accepts, in Hz.
pub const SUPPORTED_RATES: [u32; 9] = [
    8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 88_200, 96_000,
];

/// The longest filter any rate runs per output sample (96 kHz: 408 input samples).
const MAX_TAPS: usize = 408;

/// A symmetric (linear-phase) low-pass prototype; only its first half is stored.
struct Prototype {
    /// `h[0..len/2]`; `h[j] == h[len - 1 - j]`.
    half: &'static [i16],
    /// Full length; even, and a multiple of every `L` that uses it.
    len: usize,
    /// The coefficients sum to `2^shift` (before rounding), so each of the `L` polyphase
    /// branches sums to about `2^shift / L` and an output is `(Σ c·x) · L >> shift`.
    shift: u32,
}

/// Prototype for the 44.1 kHz family, designed at 7.056 MHz = 160 × 44.1 kHz = 441 × 16 kHz.
/// `2·fc/fs = 14 800 / 7 056 000 = 37 / 17 640`; Kaiser β = 7.0.
static HALF_7056K: [i16; 14_080] = kaiser_sinc_half::<14_080>(37, 17_640, 7.0, 23);
/// Prototype for the 48 kHz family, designed at 96 kHz. `2·fc/fs = 14 800 / 96 000 = 37 / 240`;
/// Kaiser β = 6.6.
static HALF_96K: [i16; 204] = kaiser_sinc_half::<204>(37, 240, 6.6, 17);
/// Prototype for 8 kHz → 16 kHz, designed at 16 kHz. `2·fc/fs = 7 600 / 16 000 = 19 / 40`;
/// Kaiser β = 7.0.
static HALF_16K: [i16; 32] = kaiser_sinc_half::<32>(19, 40, 7.0, 16);

static PROTO_7056K: Prototype = Prototype {
    half: &HALF_7056K,
    len: 28_160,
    shift: 23,
};
static PROTO_96K: Prototype = Prototype {
    half: &HALF_96K,
    len: 408,
    shift: 17,
};
static PROTO_16K: Prototype = Prototype {
    half: &HALF_16K,
    len: 64,
    shift: 16,
};

/// `sin(π·p/q)` for `q > 0`, exact range reduction on the rational argument, Taylor series on
/// `[0, π/2]` (error < 1e-16).
const fn sin_pi_ratio(p: i64, q: i64) -> f64 {
    let mut r = p.rem_euclid(2 * q);
    let negative = r >= q;
    if negative {
        r -= q;
    }
    if 2 * r > q {
        r = q - r;
    }
    let y = core::f64::consts::PI * (r as f64) / (q as f64);
    let y2 = y * y;
    let mut term = y;
    let mut sum = y;
    let mut k = 1;
    while k < 14 {
        term = -term * y2 / ((2 * k * (2 * k + 1)) as f64);
        sum += term;
        k += 1;
    }
    if negative {
        -sum
    } else {
        sum
    }
}

/// `I0(sqrt(z2))`, the modified Bessel function of the first kind, by its power series
/// `Σ (z2/4)^k / (k!)^2` (z2 ≤ 49 here: 60 terms are far past convergence).
const fn bessel_i0_of_sqrt(z2: f64) -> f64 {
    let x = z2 / 4.0;
    let mut term = 1.0;
    let mut sum = 1.0;
    let mut k = 1;
    while k < 60 {
        term = term * x / ((k * k) as f64);
        sum += term;
        k += 1;
    }
    sum
}

/// First half of a `2·H`-tap Kaiser-windowed sinc low-pass with `2·fc/fs = num/den`, scaled so
/// the full filter sums to `2^shift`, rounded half away from zero to i16.
const fn kaiser_sinc_half<const H: usize>(num: i64, den: i64, beta: f64, shift: u32) -> [i16; H] {
    let n = 2 * H;
    let mut h = [0.0f64; H];
    let mut sum = 0.0;
    let mut j = 0;
    while j < H {
        // Twice the distance from the centre, (2j - (N-1)): odd, never zero since N is even.
        let m2 = 2 * j as i64 - n as i64 + 1;
        // sinc(a·m) with a = num/den, m = m2/2: sin(π·x)/(π·x) with x = num·m2 / (2·den).
        let p = num * m2;
        let q = 2 * den;
        let x = core::f64::consts::PI * (p as f64) / (q as f64);
        let sinc = sin_pi_ratio(p, q) / x;
        // Kaiser window: I0(β·sqrt(1 - t²)), t = m2 / (N-1). The I0(β) normaliser cancels in
        // the final scaling.
        let t = m2 as f64 / (n as f64 - 1.0);
        let w = bessel_i0_of_sqrt(beta * beta * (1.0 - t * t));
        h[j] = sinc * w;
        sum += 2.0 * h[j];
        j += 1;
    }
    let scale = ((1u64 << shift) as f64) / sum;
    let mut out = [0i16; H];
    j = 0;
    while j < H {
        let v = h[j] * scale;
        out[j] = if v >= 0.0 {
            (v + 0.5) as i16
        } else {
            -((0.5 - v) as i16)
        };
        j += 1;
    }
    out
}

/// How one input rate maps to 16 kHz.
#[derive(Clone, Copy)]
enum Path {
    /// 16 kHz in: nothing to do.
    Passthrough,
    /// Upsample by `up`, filter with `proto`, keep every `down`-th sample.
    Poly {
        proto: &'static Prototype,
        up: u32,
        down: u32,
        taps: usize,
    },
}

/// A streaming resampler from one of [`SUPPORTED_RATES`] to 16 kHz, `i16` in and out.
///
/// Fixed size (about 1.7 KB), no allocation; feed any chunk sizes, the output is the same as for
/// one big chunk.
#[derive(Clone)]
pub struct Resampler {
    rate: u32,
    path: Path,
    /// Phase accumulator, in units of the upsampled rate: `n·M − L·i` for the next output `n`
    /// and the latest input `i`. The next output is due when it drops below `L`; it is then the
    /// polyphase branch index. Always in `[0, L + M)`.
    acc: u32,
    /// The last `taps` input samples, stored twice (`[w..w + taps]` is oldest-first) so a
    /// window is one contiguous slice.
    hist: [i16; 2 * MAX_TAPS],
    /// Next write position in `[0, taps)`.
    w: usize,
}

impl core::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (up, down) = self.ratio();
        f.debug_struct("Resampler")
            .field("input_rate", &self.rate)
            .field("up", &up)
            .field("down", &down)
            .finish()
    }
}

impl Resampler {
    /// A resampler from `input_rate` Hz to 16 kHz; `Err(UnsupportedSampleRate)` for rates not
    /// in [`SUPPORTED_RATES`].
    pub fn new(input_rate: u32) -> Result<Self, Error> {
        let poly = |proto: &'static Prototype, up: u32, down: u32| Path::Poly {
            proto,
            up,
            down,
            taps: proto.len / up as usize,
        };
        let path = match input_rate {
            16_000 => Path::Passthrough,
            8_000 => poly(&PROTO_16K, 2, 1),
            22_050 => poly(&PROTO_7056K, 320, 441),
            44_100 => poly(&PROTO_7056K, 160, 441),
            88_200 => poly(&PROTO_7056K, 80, 441),
            24_000 => poly(&PROTO_96K, 4, 6),
            32_000 => poly(&PROTO_96K, 3, 6),
            48_000 => poly(&PROTO_96K, 2, 6),
            96_000 => poly(&PROTO_96K, 1, 6),
            rate => return Err(Error::UnsupportedSampleRate { rate }),
        };
        let acc = match path {
            Path::Passthrough => 0,
            Path::Poly { up, .. } => up,
        };
        Ok(Resampler {
            rate: input_rate,
            path,
            acc,
            hist: [0; 2 * MAX_TAPS],
            w: 0,
        })
    }

    /// The input rate this resampler was made for, Hz.
    pub fn input_rate(&self) -> u32 {
        self.rate
    }

    /// `(L, M)`: output rate = input rate × L / M (`(1, 1)` for 16 kHz).
    pub fn ratio(&self) -> (u32, u32) {
        match self.path {
            Path::Passthrough => (1, 1),
            Path::Poly { up, down, .. } => (up, down),
        }
    }

    /// Filter taps per output sample (0 for 16 kHz passthrough).
    pub fn taps(&self) -> usize {
        match self.path {
            Path::Passthrough => 0,
            Path::Poly { taps, .. } => taps,
        }
    }

    /// Group delay of the filter in microseconds (rounded down): an input event at time `t`
    /// appears in the output at `t + delay`.
    pub fn delay_us(&self) -> u32 {
        match self.path {
            Path::Passthrough => 0,
            Path::Poly { proto, up, .. } => {
                // (len - 1) / 2 samples at the upsampled rate up·rate.
                let num = (proto.len as u64 - 1) * 1_000_000;
                let den = 2 * u64::from(up) * u64::from(self.rate);
                (num / den) as u32
            }
        }
    }

    /// Upper bound on the output samples produced by `input_len` more input samples.
    pub fn max_output_len(&self, input_len: usize) -> usize {
        let (up, down) = self.ratio();
        input_len.saturating_mul(up as usize) / down as usize + 1
    }

    /// Back to the freshly constructed state (silent history, phase 0).
    pub fn reset(&mut self) {
        self.hist = [0; 2 * MAX_TAPS];
        self.w = 0;
        self.acc = match self.path {
            Path::Passthrough => 0,
            Path::Poly { up, .. } => up,
        };
    }

    /// Consumes `input` (at the input rate) and calls `out` once per 16 kHz output sample, in
    /// order. Output sample `n` is the filtered signal at input time `n·M/L` (plus the filter
    /// delay); the first output is due with the first input sample.
    pub fn process(&mut self, input: &[i16], mut out: impl FnMut(i16)) {
        let Path::Poly {
            proto,
            up,
            down,
            taps,
        } = self.path
        else {
            input.iter().for_each(|&x| out(x));
            return;
        };
        for &x in input {
            if let Some(slot) = self.hist.get_mut(self.w) {
                *slot = x;
            }
            if let Some(slot) = self.hist.get_mut(self.w + taps) {
                *slot = x;
            }
            self.w += 1;
            if self.w == taps {
                self.w = 0;
            }
            // Invariant: acc >= up here (the loop below leaves it so; `new` starts at `up`).
            self.acc -= up;
            while self.acc < up {
                let window = self.hist.get(self.w..self.w + taps).unwrap_or(&[]);
                out(branch_output(proto, up, self.acc as usize, window));
                self.acc += down;
            }
        }
    }
}

/// One output sample: polyphase branch `phase` of `proto` (taps `h[phase + k·up]`) applied to
/// `window` (oldest first, so tap `k` meets `window[len - 1 - k]`).
fn branch_output(proto: &Prototype, up: u32, phase: usize, window: &[i16]) -> i16 {
    let step = up as usize;
    // Taps in the stored first half: j = phase, phase + up, ... < len/2.
    let first = proto.half.get(phase..).unwrap_or(&[]).iter().step_by(step);
    // The first tap index in the mirrored half, j1 >= len/2; h[j] = half[len - 1 - j] and
    // the mirrored indices run down by `up` to `up - 1 - phase`.
    let j1 = phase + first.len() * step;
    let mirrored_end = proto.len.saturating_sub(j1);
    let second = proto
        .half
        .get(..mirrored_end)
        .unwrap_or(&[])
        .iter()
        .rev()
        .step_by(step);
    let acc: i64 = window
        .iter()
        .rev()
        .zip(first.chain(second))
        .map(|(&x, &c)| i64::from(i32::from(x) * i32::from(c)))
        .sum();
    // Each branch sums to ~2^shift / up: scale back by up / 2^shift, rounding half up.
    let y = (acc * i64::from(up) + (1i64 << (proto.shift - 1))) >> proto.shift;
    y.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// Converts a float sample in `[-1, 1]` to i16 (`x · 32768`, rounded half away from zero,
/// saturated; NaN gives 0). Exact IEEE arithmetic, so identical on every target.
pub fn f32_to_i16(x: f32) -> i16 {
    let y = libm::roundf(x * 32768.0);
    if y.is_nan() {
        0
    } else {
        // `as` saturates at the i16 range.
        y as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_symmetric_halves_and_normalised() {
        for p in [&PROTO_7056K, &PROTO_96K, &PROTO_16K] {
            assert_eq!(p.half.len() * 2, p.len);
            let total: i64 = p.half.iter().map(|&c| 2 * i64::from(c)).sum();
            let target = 1i64 << p.shift;
            // Rounding error is at most 0.5 per stored coefficient.
            assert!(
                (total - target).abs() <= p.half.len() as i64,
                "{total} vs {target}"
            );
            // The centre taps are the largest (a low-pass main lobe).
            let max = p.half.iter().copied().max().unwrap();
            assert_eq!(*p.half.last().unwrap(), max);
        }
    }

    #[test]
    fn const_tables_match_a_float_design() {
        // The same Kaiser-windowed sinc with std's sin and a plain I0 series; the const fn must
        // agree to the last bit except at rounding ties (±1).
        fn design(half: usize, a: f64, beta: f64, shift: u32) -> std::vec::Vec<i64> {
            let n = 2 * half;
            let i0 = |x: f64| {
                (1..60)
                    .fold((1.0, 1.0), |(s, t), k| {
                        let t = t * (x / 2.0) * (x / 2.0) / f64::from(k * k);
                        (s + t, t)
                    })
                    .0
            };
            let h: std::vec::Vec<f64> = (0..half)
                .map(|j| {
                    let m = j as f64 - (n as f64 - 1.0) / 2.0;
                    let x = core::f64::consts::PI * a * m;
                    let t = 2.0 * m / (n as f64 - 1.0);
                    x.sin() / x * i0(beta * (1.0 - t * t).sqrt())
                })
                .collect();
            let scale = (1u64 << shift) as f64 / (2.0 * h.iter().sum::<f64>());
            h.iter().map(|v| (v * scale).round() as i64).collect()
        }
        for (p, a, beta) in [
            (&PROTO_7056K, 14_800.0 / 7_056_000.0, 7.0),
            (&PROTO_96K, 14_800.0 / 96_000.0, 6.6),
            (&PROTO_16K, 7_600.0 / 16_000.0, 7.0),
        ] {
            let want = design(p.half.len(), a, beta, p.shift);
            for (j, (&got, &want)) in p.half.iter().zip(&want).enumerate() {
                assert!(
                    (i64::from(got) - want).abs() <= 1,
                    "tap {j}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn every_branch_has_unity_dc_gain() {
        for rate in SUPPORTED_RATES {
            let r = Resampler::new(rate).unwrap();
            let Path::Poly {
                proto, up, taps, ..
            } = r.path
            else {
                continue;
            };
            for phase in 0..up as usize {
                // A window of 16384s must come out as 16384 within 0.03 %.
                let w = [16_384i16; MAX_TAPS];
                let y = branch_output(proto, up, phase, &w[..taps]);
                assert!(
                    (i32::from(y) - 16_384).abs() <= 5,
                    "rate {rate} phase {phase}: {y}"
                );
            }
        }
    }

    #[test]
    fn matches_a_direct_convolution() {
        // Independent check of the polyphase bookkeeping: upsample by zero-stuffing, convolve
        // with the full prototype, decimate, and compare (same integer arithmetic).
        for rate in [8_000, 22_050, 32_000, 44_100, 48_000] {
            let mut r = Resampler::new(rate).unwrap();
            let Path::Poly {
                proto, up, down, ..
            } = r.path
            else {
                unreachable!()
            };
            let h = |j: usize| i64::from(proto.half[j.min(proto.len - 1 - j)]);
            let x: std::vec::Vec<i16> = (0..900)
                .map(|i| ((i * 7919 % 2003) as i16 - 1000) * 13)
                .collect();
            let mut got = std::vec::Vec::new();
            r.process(&x, |y| got.push(y));
            let (up, down) = (up as usize, down as usize);
            for (n, &y) in got.iter().enumerate() {
                let t = n * down; // upsampled-time index of output n
                let mut acc = 0i64;
                for (i, &xi) in x.iter().enumerate() {
                    let ti = i * up;
                    if ti <= t && t - ti < proto.len {
                        acc += i64::from(xi) * h(t - ti);
                    }
                }
                let want = ((acc * up as i64 + (1 << (proto.shift - 1))) >> proto.shift)
                    .clamp(-32768, 32767) as i16;
                assert_eq!(y, want, "rate {rate} output {n}");
            }
            assert_eq!(got.len(), (x.len() * up).div_ceil(down));
        }
    }

    #[test]
    fn f32_conversion() {
        assert_eq!(f32_to_i16(0.0), 0);
        assert_eq!(f32_to_i16(0.5), 16_384);
        assert_eq!(f32_to_i16(-1.0), -32_768);
        assert_eq!(f32_to_i16(1.0), 32_767);
        assert_eq!(f32_to_i16(2.5), 32_767);
        assert_eq!(f32_to_i16(f32::NAN), 0);
        assert_eq!(f32_to_i16(0.5 / 32768.0), 1);
        assert_eq!(f32_to_i16(-0.5 / 32768.0), -1);
        assert_eq!(f32_to_i16(0.49 / 32768.0), 0);
    }

    #[test]
    fn unsupported_rate() {
        assert_eq!(
            Resampler::new(11_025).unwrap_err(),
            Error::UnsupportedSampleRate { rate: 11_025 }
        );
        assert!(Resampler::new(0).is_err());
    }
}
