//! Test-only: the scalar port of KISS FFT that the front end used before the packed
//! [`fft`](super::fft), kept as the reference it is property-tested against.
//!
//! Fixed-point real FFT, bit-exact with KISS FFT built with `FIXED_POINT=16` (the FFT both TFLM
//! front ends use: the micro-frontend's `kiss_fft_int16` and the signal library's `RfftInt16`).
//!
//! KISS FFT computes an N-point real FFT as an N/2-point complex FFT of the even/odd samples
//! packed as (re, im) pairs, followed by a split step. Every butterfly divides its inputs by its
//! radix first (`C_FIXDIV`, a Q15 multiply by `32767 / radix`), so the output is the DFT scaled
//! by 1/N (rounded at every stage). Sums are computed in `int` and stored back into `int16_t`,
//! i.e. they wrap; Q15 products are computed in `int32_t` (wrapping) and rounded half up.

use super::MAX_FFT;

/// KISS FFT's `SAMP_MAX` for 16-bit fixed point.
const SAMP_MAX: i32 = 32767;
/// Complex points of the largest inner FFT.
const MAX_CFFT: usize = MAX_FFT / 2;
/// Most radix stages a power-of-two complex FFT up to `MAX_CFFT` points needs (4·4·4·4 = 256).
const MAX_STAGES: usize = 8;

/// One complex Q15 value (`kiss_fft_cpx` with `kiss_fft_scalar = int16_t`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cpx {
    /// Real part.
    pub r: i16,
    /// Imaginary part.
    pub i: i16,
}

/// KISS FFT `sround(x)`: round a Q30 product back to Q15 (half up), truncated to 16 bits.
#[inline(always)]
fn sround(x: i32) -> i16 {
    (x.wrapping_add(1 << 14) >> 15) as i16
}

/// KISS FFT `C_FIXDIV(c, div)`: both parts times `SAMP_MAX / div` in Q15.
#[inline(always)]
fn fixdiv(c: Cpx, div: i32) -> Cpx {
    let k = SAMP_MAX / div;
    Cpx {
        r: sround(i32::from(c.r) * k),
        i: sround(i32::from(c.i) * k),
    }
}

/// KISS FFT `C_MUL(m, a, b)` in Q15; the int32 sum of products wraps like the C code on
/// two's-complement targets.
#[inline(always)]
fn cmul(a: Cpx, b: Cpx) -> Cpx {
    let (ar, ai, br, bi) = (
        i32::from(a.r),
        i32::from(a.i),
        i32::from(b.r),
        i32::from(b.i),
    );
    Cpx {
        r: sround((ar * br).wrapping_sub(ai * bi)),
        i: sround((ar * bi).wrapping_add(ai * br)),
    }
}

#[inline(always)]
fn cadd(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_add(b.r),
        i: a.i.wrapping_add(b.i),
    }
}

#[inline(always)]
fn csub(a: Cpx, b: Cpx) -> Cpx {
    Cpx {
        r: a.r.wrapping_sub(b.r),
        i: a.i.wrapping_sub(b.i),
    }
}

/// KISS FFT `kf_cexp` for fixed point: `floor(0.5 + 32767 * cos/sin(phase))`, in double as the C
/// code does. `libm` is within 1 ulp of glibc; `tests::twiddles_are_far_from_rounding_ties`
/// shows no twiddle of any supported size is within 1e-9 of a rounding tie, so 1-ulp
/// differences in `cos`/`sin` cannot change a table entry.
fn cexp(phase: f64) -> Cpx {
    Cpx {
        r: libm::floor(0.5 + f64::from(SAMP_MAX) * libm::cos(phase)) as i16,
        i: libm::floor(0.5 + f64::from(SAMP_MAX) * libm::sin(phase)) as i16,
    }
}

/// KISS FFT's constant for pi (`kiss_fft_alloc` and `kiss_fftr_alloc`); equal to `f64` pi.
const PI: f64 = core::f64::consts::PI;

/// Twiddle `i` of an `n`-point forward complex FFT (`kiss_fft_alloc`: phase = -2·pi·i / n).
fn twiddle(i: usize, n: usize) -> Cpx {
    cexp(-2.0 * PI * i as f64 / n as f64)
}

/// Split-step twiddle `i` of a real FFT whose complex FFT has `ncfft` points
/// (`kiss_fftr_alloc`: phase = -pi · ((i + 1) / ncfft + 0.5)).
fn super_twiddle(i: usize, ncfft: usize) -> Cpx {
    cexp(-PI * ((i + 1) as f64 / ncfft as f64 + 0.5))
}

/// A planned real FFT of a power-of-two length up to [`MAX_FFT`].
#[derive(Clone)]
pub struct RealFft {
    /// Points of the inner complex FFT (half the real length).
    ncfft: usize,
    /// `(radix, remaining length)` per stage, as `kf_factor` produces them.
    stages: [(u16, u16); MAX_STAGES],
    num_stages: usize,
    twiddles: [Cpx; MAX_CFFT],
    super_twiddles: [Cpx; MAX_CFFT / 2],
    /// Output of the inner complex FFT (`kiss_fftr_state::tmpbuf`).
    tmp: [Cpx; MAX_CFFT],
}

impl RealFft {
    /// Plans a real FFT of `fft_size` points; `fft_size` must be a power of two in
    /// `4..=MAX_FFT` (the caller checks).
    pub fn new(fft_size: usize) -> Self {
        let mut fft = RealFft::EMPTY;
        fft.plan(fft_size);
        fft
    }

    /// An unplanned FFT (all zero), for building in place with [`RealFft::plan`].
    pub const EMPTY: RealFft = RealFft {
        ncfft: 0,
        stages: [(0, 0); MAX_STAGES],
        num_stages: 0,
        twiddles: [Cpx { r: 0, i: 0 }; MAX_CFFT],
        super_twiddles: [Cpx { r: 0, i: 0 }; MAX_CFFT / 2],
        tmp: [Cpx { r: 0, i: 0 }; MAX_CFFT],
    };

    /// Twiddle `i` of the planned inner FFT.
    pub fn twiddle(&self, i: usize) -> Cpx {
        self.twiddles[i]
    }

    /// Split-step twiddle `i`.
    pub fn super_twiddle(&self, i: usize) -> Cpx {
        self.super_twiddles[i]
    }

    /// Plan in place (no large temporaries): as [`RealFft::new`].
    pub fn plan(&mut self, fft_size: usize) {
        let ncfft = fft_size / 2;
        let fft = self;
        fft.ncfft = ncfft;
        fft.stages = [(0, 0); MAX_STAGES];
        fft.num_stages = 0;
        for (i, t) in fft.twiddles.iter_mut().take(ncfft).enumerate() {
            *t = twiddle(i, ncfft);
        }
        for (i, t) in fft.super_twiddles.iter_mut().take(ncfft / 2).enumerate() {
            *t = super_twiddle(i, ncfft);
        }
        // kf_factor for a power of two: radix 4 while it divides, then one radix 2.
        let mut n = ncfft;
        while n > 1 && fft.num_stages < MAX_STAGES {
            let p = if n & 3 == 0 { 4 } else { 2 };
            n /= p;
            if let Some(s) = fft.stages.get_mut(fft.num_stages) {
                *s = (p as u16, n as u16);
            }
            fft.num_stages += 1;
        }
    }

    /// Real FFT of `input` (`2 * ncfft` samples) into `output` (`ncfft + 1` bins), like
    /// `kiss_fftr`. Both lengths are fixed at construction; shorter slices are a caller bug
    /// and leave the output partly unwritten rather than panicking.
    pub fn forward(&mut self, input: &[i16], output: &mut [Cpx]) {
        let n = self.ncfft;
        let (Some(tmp), Some(input)) = (self.tmp.get_mut(..n), input.get(..2 * n)) else {
            return;
        };
        let stages = self.stages.get(..self.num_stages).unwrap_or(&[]);
        let twiddles = self.twiddles.get(..n).unwrap_or(&[]);
        work(tmp, input, 0, 1, stages, twiddles);

        let (Some(&t0), Some(out)) = (self.tmp.first(), output.get_mut(..=n)) else {
            return;
        };
        // DC and Nyquist from the sums of the even (re) and odd (im) samples.
        let tdc = fixdiv(t0, 2);
        out[0] = Cpx {
            r: tdc.r.wrapping_add(tdc.i),
            i: 0,
        };
        out[n] = Cpx {
            r: tdc.r.wrapping_sub(tdc.i),
            i: 0,
        };
        for k in 1..=n / 2 {
            let fpk = fixdiv(self.tmp[k], 2);
            let mirror = self.tmp[n - k];
            let fpnk = fixdiv(
                Cpx {
                    r: mirror.r,
                    i: mirror.i.wrapping_neg(),
                },
                2,
            );
            let f1k = cadd(fpk, fpnk);
            let f2k = csub(fpk, fpnk);
            let tw = cmul(f2k, self.super_twiddles[k - 1]);
            // HALF_OF on the int sums; at k == n/2 the second pair overwrites the first, as in C.
            out[k] = Cpx {
                r: ((i32::from(f1k.r) + i32::from(tw.r)) >> 1) as i16,
                i: ((i32::from(f1k.i) + i32::from(tw.i)) >> 1) as i16,
            };
            out[n - k] = Cpx {
                r: ((i32::from(f1k.r) - i32::from(tw.r)) >> 1) as i16,
                i: ((i32::from(tw.i) - i32::from(f1k.i)) >> 1) as i16,
            };
        }
    }
}

/// `kf_work`: decimation in time. `out` receives the `p·m`-point DFT of the complex values
/// `input[start + q·fstride]` (a complex value is two consecutive `i16`, re then im).
/// Indices stay in bounds by construction: `stages` multiply out to `out.len()` and
/// `fstride · out.len()` equals the inner FFT length.
fn work(
    out: &mut [Cpx],
    input: &[i16],
    start: usize,
    fstride: usize,
    stages: &[(u16, u16)],
    tw: &[Cpx],
) {
    let Some((&(p, m), rest)) = stages.split_first() else {
        return;
    };
    let (p, m) = (usize::from(p), usize::from(m));
    if m == 1 {
        for (q, o) in out.iter_mut().take(p).enumerate() {
            let idx = 2 * (start + q * fstride);
            *o = Cpx {
                r: input[idx],
                i: input[idx + 1],
            };
        }
    } else {
        for (q, chunk) in out.chunks_exact_mut(m).take(p).enumerate() {
            work(chunk, input, start + q * fstride, fstride * p, rest, tw);
        }
    }
    match p {
        4 => bfly4(out, fstride, m, tw),
        _ => bfly2(out, fstride, m, tw),
    }
}

/// `kf_bfly2` (forward).
fn bfly2(out: &mut [Cpx], fstride: usize, m: usize, tw: &[Cpx]) {
    for k in 0..m {
        let a = fixdiv(out[k], 2);
        let b = fixdiv(out[k + m], 2);
        let t = cmul(b, tw[k * fstride]);
        out[k + m] = csub(a, t);
        out[k] = cadd(a, t);
    }
}

/// `kf_bfly4` (forward).
fn bfly4(out: &mut [Cpx], fstride: usize, m: usize, tw: &[Cpx]) {
    for k in 0..m {
        let f0 = fixdiv(out[k], 4);
        let f1 = fixdiv(out[k + m], 4);
        let f2 = fixdiv(out[k + 2 * m], 4);
        let f3 = fixdiv(out[k + 3 * m], 4);
        let s0 = cmul(f1, tw[k * fstride]);
        let s1 = cmul(f2, tw[2 * k * fstride]);
        let s2 = cmul(f3, tw[3 * k * fstride]);
        let s5 = csub(f0, s1);
        let f0 = cadd(f0, s1);
        let s3 = cadd(s0, s2);
        let s4 = csub(s0, s2);
        out[k + 2 * m] = csub(f0, s3);
        out[k] = cadd(f0, s3);
        out[k + m] = Cpx {
            r: s5.r.wrapping_add(s4.i),
            i: s5.i.wrapping_sub(s4.r),
        };
        out[k + 3 * m] = Cpx {
            r: s5.r.wrapping_sub(s4.i),
            i: s5.i.wrapping_add(s4.r),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance of `0.5 + 32767·x` from the nearest integer boundary that `floor` could cross.
    fn tie_margin(x: f64) -> f64 {
        let v = 0.5 + 32767.0 * x;
        let frac = v - libm::floor(v);
        frac.min(1.0 - frac)
    }

    #[test]
    fn twiddles_are_far_from_rounding_ties() {
        // Every twiddle of every supported inner FFT size (2..=256 points) sits at least 1e-9
        // away from a floor() boundary, while libm's and glibc's cos/sin differ by at most
        // an ulp (~1e-16 relative): the tables cannot depend on which libm computed them.
        let mut worst = 1.0f64;
        let mut n = 2;
        while n <= MAX_CFFT {
            for i in 0..n {
                let ph = -2.0 * PI * i as f64 / n as f64;
                worst = worst
                    .min(tie_margin(libm::cos(ph)))
                    .min(tie_margin(libm::sin(ph)));
            }
            for i in 0..n / 2 {
                let ph = -PI * ((i + 1) as f64 / n as f64 + 0.5);
                worst = worst
                    .min(tie_margin(libm::cos(ph)))
                    .min(tie_margin(libm::sin(ph)));
            }
            n *= 2;
        }
        assert!(worst > 1e-9, "worst margin {worst}");
    }

    #[test]
    fn known_twiddles() {
        // kiss_fft_alloc(4): 1, -i, -1, i in Q15.
        assert_eq!(twiddle(0, 4), Cpx { r: 32767, i: 0 });
        assert_eq!(twiddle(1, 4), Cpx { r: 0, i: -32767 });
        assert_eq!(twiddle(2, 4), Cpx { r: -32767, i: 0 });
        // floor(0.5 + 32767·cos(-pi/4)) = floor(23170.0) = 23170 (23169.77 + 0.5).
        assert_eq!(
            twiddle(1, 8),
            Cpx {
                r: 23170,
                i: -23170
            }
        );
    }

    #[test]
    fn impulse_and_dc() {
        // A unit impulse of 32767 at t=0 gives a flat spectrum of 32767/512 per bin after the
        // 1/N scaling; a constant gives all energy in bin 0.
        let mut fft = RealFft::new(512);
        let mut input = [0i16; 512];
        let mut out = [Cpx::default(); 257];
        input[0] = 32767;
        fft.forward(&input, &mut out);
        for c in &out {
            assert!((i32::from(c.r) - 64).abs() <= 1 && c.i.abs() <= 1, "{c:?}");
        }
        let input = [16384i16; 512];
        fft.forward(&input, &mut out);
        assert!((i32::from(out[0].r) - 16384).abs() <= 8, "{:?}", out[0]);
        assert!(out[1..].iter().all(|c| c.r.abs() <= 2 && c.i.abs() <= 2));
    }

    #[test]
    fn stages() {
        let f = RealFft::new(512);
        assert_eq!(
            &f.stages[..f.num_stages],
            &[(4, 64), (4, 16), (4, 4), (4, 1)]
        );
        let f = RealFft::new(256);
        assert_eq!(
            &f.stages[..f.num_stages],
            &[(4, 32), (4, 8), (4, 2), (2, 1)]
        );
    }
}
