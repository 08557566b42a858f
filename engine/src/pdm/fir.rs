//! Second decimation stage: a 96-tap linear-phase FIR at 80 kHz keeping every fifth output.
//!
//! Taps from `scripts/pdm/design_fir.py` (weighted least squares, numpy; rerun it to change
//! them): target response `1 / |CIC3(f)|` up to 7 kHz (droop compensation), zero from 9 kHz
//! to 40 kHz with weight 300. Designed response of CIC3 × FIR: 100 Hz–7 kHz within
//! −0.51/+0.14 dB, 9–40 kHz at most −49.5 dB. Sum of taps ≈ 65 536 (DC gain 2.0 in Q15);
//! Σ|taps| = 122 442, so with inputs within ±15 625 the int32 sum stays below 1.92·10^9 <
//! 2^31 (no wrap, and `SMLAD` never saturates).
//!
//! On Cortex-M4 (`cfg(mote_dsp)`) pairs of int16 samples and taps are multiplied and summed by
//! `SMLAD` and `SMLADX` (two multiply-accumulates per instruction; the symmetric taps are
//! loaded once for both halves of the window); emulated on the host (`MOTE_DSP_EMULATE=1` and
//! the unit tests); elsewhere a plain loop. Both give the same exact sum.

/// Taps (symmetric, so the FIR is its own time reverse), Q15 with a DC gain of 2.0.
pub const TAPS: [i16; 96] = [
    17, 39, 60, 72, 64, 29, -28, -93, -143, -153, -109, -14, 107, 214, 262, 218, 82, -112, -299,
    -406, -374, -191, 99, 401, 601, 600, 364, -56, -528, -876, -941, -647, -41, 697, 1304, 1516,
    1165, 261, -972, -2137, -2759, -2425, -923, 1670, 4968, 8355, 11133, 12696, 12696, 11133, 8355,
    4968, 1670, -923, -2425, -2759, -2137, -972, 261, 1165, 1516, 1304, 697, -41, -647, -941, -876,
    -528, -56, 364, 600, 601, 401, 99, -191, -374, -406, -299, -112, 82, 218, 262, 214, 107, -14,
    -109, -153, -143, -93, -28, 29, 64, 72, 60, 39, 17,
];

/// Number of taps (even: the packed path reads pairs).
pub const N: usize = TAPS.len();
/// Decimation ratio.
pub const RATIO: u8 = 5;
/// Right shift of the int32 sum to PCM (Q15 taps).
const SHIFT: u32 = 15;

const _: () = assert!(N.is_multiple_of(16));

/// The taps two per word (tap 2j in the low half), for `SMLAD`.
#[cfg(any(mote_dsp, test))]
static TAP_PAIRS: [u32; N / 2] = pairs();

#[cfg(any(mote_dsp, test))]
const fn pairs() -> [u32; N / 2] {
    let mut p = [0u32; N / 2];
    let mut j = 0;
    while j < N / 2 {
        p[j] = (TAPS[2 * j] as u16 as u32) | ((TAPS[2 * j + 1] as u16 as u32) << 16);
        j += 1;
    }
    p
}

/// New inputs per [`FirDecimator::input`] (one 2 ms block at 80 kHz).
pub const CAP: usize = 160;

/// History and decimation phase.
#[derive(Clone, Debug)]
#[repr(C, align(4))]
pub struct FirDecimator {
    /// `buf[..len]`: the most recent inputs, oldest first; `len ≥ N` always (it starts as N
    /// zeros). [`FirDecimator::input`] moves the last N to the front (word-aligned: `len` is
    /// kept even by callers that pass even counts, and the buffer is 4-aligned) and lends the
    /// CAP slots after them, so inputs are written in place and never copied again.
    buf: [i16; N + CAP],
    len: usize,
    /// Inputs since the last output, 0..RATIO.
    phase: u8,
}

impl Default for FirDecimator {
    fn default() -> Self {
        Self::new()
    }
}

impl FirDecimator {
    /// Zero history; the first output comes with the fifth input.
    pub const fn new() -> Self {
        FirDecimator {
            buf: [0; N + CAP],
            len: N,
            phase: 0,
        }
    }

    /// Room for up to [`CAP`] new inputs: write them here, then call
    /// [`FirDecimator::commit`] with their count.
    pub fn input(&mut self) -> &mut [i16] {
        if self.len > N {
            crate::buf::move_down(&mut self.buf, self.len - N, N);
            self.len = N;
        }
        self.buf.get_mut(N..).unwrap_or(&mut [])
    }

    /// Filters the first `count` values written to [`FirDecimator::input`] (80 kHz, CIC3 ÷ 25
    /// outputs, ±15 625 full scale) into `out` (16 kHz); returns the samples written (outputs
    /// beyond `out.len()` are dropped; counts beyond [`CAP`] are cut to it).
    pub fn commit(&mut self, count: usize, out: &mut [i16]) -> usize {
        let end = (self.len + count).min(self.buf.len());
        let mut n = 0;
        // The next output completes at input index len + (RATIO − 1 − phase).
        let mut i = self.len + usize::from(RATIO - 1 - self.phase);
        while i < end {
            let window = self.buf.get(i + 1 - N..i + 1).unwrap_or(&[]);
            if let Some(slot) = out.get_mut(n) {
                *slot = to_pcm(dot(window));
                n += 1;
            }
            i += usize::from(RATIO);
        }
        self.phase = ((usize::from(self.phase) + (end - self.len)) % usize::from(RATIO)) as u8;
        self.len = end;
        n
    }

    /// Filters a block of 80 kHz inputs of any length into `out`; returns the samples written.
    pub fn process(&mut self, xs: &[i16], out: &mut [i16]) -> usize {
        let mut n = 0;
        for chunk in xs.chunks(CAP) {
            if let Some(dst) = self.input().get_mut(..chunk.len()) {
                dst.copy_from_slice(chunk);
            }
            n += self.commit(chunk.len(), out.get_mut(n..).unwrap_or(&mut []));
        }
        n
    }

    /// One input (clamped to int16); a PCM sample on every fifth call.
    pub fn push(&mut self, x: i32) -> Option<i16> {
        let x = x.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
        let mut y = [0i16; 1];
        (self.process(&[x], &mut y) == 1).then_some(y[0])
    }
}

/// `(acc + 2^14) >> 15`, saturated to int16. No overflow: |acc| < 1.92·10^9 (module docs),
/// so `acc + 2^14` fits an i32 (and wraps harmlessly for hostile values that cannot occur).
#[inline(always)]
fn to_pcm(acc: i32) -> i16 {
    let y = acc.wrapping_add(1 << (SHIFT - 1)) >> SHIFT;
    y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// `Σ TAPS[j] · window[j]` (wrapping int32; exact for inputs within ±15 625).
#[inline]
fn dot(window: &[i16]) -> i32 {
    #[cfg(mote_dsp)]
    return dot_packed(window);
    #[cfg(not(mote_dsp))]
    dot_portable(window)
}

/// The plain loop.
#[cfg_attr(mote_dsp, allow(dead_code))]
fn dot_portable(window: &[i16]) -> i32 {
    TAPS.iter().zip(window).fold(0i32, |acc, (&t, &x)| {
        acc.wrapping_add(i32::from(t) * i32::from(x))
    })
}

/// `SMLADX d, a, b, acc`: `acc + a.lo·b.hi + a.hi·b.lo` (int16 lanes), wrapping.
#[cfg(mote_dsp_asm)]
#[inline(always)]
fn smladx(a: u32, b: u32, acc: i32) -> i32 {
    let d: i32;
    // SAFETY: register-only DSP instruction (thumbv7em); it may set APSR.Q, which no Rust code
    // reads; no memory or stack.
    unsafe {
        core::arch::asm!("smladx {d}, {a}, {b}, {c}", d = lateout(reg) d, a = in(reg) a, b = in(reg) b, c = in(reg) acc, options(pure, nomem, nostack))
    };
    d
}

/// Emulated `SMLADX` (ARMv7-M ARM pseudo-code; the sum is truncated to 32 bits).
#[cfg(all(any(mote_dsp, test), not(mote_dsp_asm)))]
fn smladx(a: u32, b: u32, acc: i32) -> i32 {
    let lo = |v: u32| i32::from(v as u16 as i16);
    let hi = |v: u32| i32::from((v >> 16) as u16 as i16);
    acc.wrapping_add((lo(a) * hi(b)).wrapping_add(hi(a) * lo(b)))
}

/// Symmetric taps, four per step: with `A = (w[2i], w[2i+1])`, `B = (w[N−2−2i], w[N−1−2i])`
/// and `H = (h[2i], h[2i+1])`, `SMLAD(A, H) + SMLADX(B, H)` is the four products of taps
/// 2i, 2i+1, N−2−2i, N−1−2i (h[N−1−j] = h[j]): 3 loads and 2 multiply-accumulates per four
/// taps. A window shorter than N (never: `process` passes N) takes the plain loop.
#[cfg(any(mote_dsp, test))]
fn dot_packed(window: &[i16]) -> i32 {
    use crate::ops::dsp::isa::smlad;
    if window.len() < N {
        return dot_portable(window);
    }
    let p = window.as_ptr().cast::<u8>();
    let mut acc = 0i32;
    // Unrolled by four (N/4 = 24 steps), so the loads use immediate offsets.
    // Through black_box the taps are loaded (one LDR per pair) instead of being rebuilt as
    // immediates (MOVW + MOVT per pair): 24 fewer instructions per output on the M4.
    let taps: &[u32; N / 2] = core::hint::black_box(&TAP_PAIRS);
    for (q, h) in taps.chunks_exact(4).take(N / 16).enumerate() {
        let i = 4 * q;
        // SAFETY: window has at least N int16 values (2N bytes). For i + k < N/4 the word at
        // byte 4(i + k) and the one at byte 2(N − 2 − 2(i + k)) both end within the first 2N
        // bytes; read_unaligned has no alignment requirement (one LDR on ARMv7-M, which
        // allows unaligned word loads).
        let (a, b) = unsafe {
            let fa = p.add(4 * i).cast::<u32>();
            let fb = p.add(2 * (N - 2 - 2 * i)).cast::<u32>();
            (
                [
                    fa.read_unaligned(),
                    fa.add(1).read_unaligned(),
                    fa.add(2).read_unaligned(),
                    fa.add(3).read_unaligned(),
                ],
                [
                    fb.read_unaligned(),
                    fb.sub(1).read_unaligned(),
                    fb.sub(2).read_unaligned(),
                    fb.sub(3).read_unaligned(),
                ],
            )
        };
        if let [h0, h1, h2, h3] = *h {
            acc = smlad(u32::from_le(a[0]), h0, acc);
            acc = smladx(u32::from_le(b[0]), h0, acc);
            acc = smlad(u32::from_le(a[1]), h1, acc);
            acc = smladx(u32::from_le(b[1]), h1, acc);
            acc = smlad(u32::from_le(a[2]), h2, acc);
            acc = smladx(u32::from_le(b[2]), h2, acc);
            acc = smlad(u32::from_le(a[3]), h3, acc);
            acc = smladx(u32::from_le(b[3]), h3, acc);
        }
    }
    acc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taps_are_symmetric_and_sum_to_dc_gain_two() {
        for j in 0..N {
            assert_eq!(TAPS[j], TAPS[N - 1 - j]);
        }
        let sum: i32 = TAPS.iter().map(|&t| i32::from(t)).sum();
        assert!((sum - 65_536).abs() <= 8, "sum {sum}");
        let abs: i64 = TAPS.iter().map(|&t| i64::from(t).abs()).sum();
        assert!(
            abs * 15_625 < 1 << 31,
            "Σ|h| = {abs}: the int32 sum could wrap"
        );
    }

    #[test]
    fn packed_equals_portable() {
        let mut seed = 7u32;
        let mut line = [0i16; N + 1];
        for _ in 0..200 {
            for v in line.iter_mut() {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *v = ((seed >> 16) % 31_251) as i16 - 15_625;
            }
            // Odd and even start offsets (unaligned word reads).
            assert_eq!(dot_packed(&line[1..]), dot_portable(&line[1..]));
            assert_eq!(dot_packed(&line[..N]), dot_portable(&line[..N]));
        }
        assert_eq!(dot_packed(&[15_625; N]), dot_portable(&[15_625; N]));
    }

    #[test]
    fn impulse_gives_every_fifth_tap() {
        let mut f = FirDecimator::new();
        let mut out = std::vec::Vec::new();
        for i in 0..2 * N {
            // An impulse of 2^14 at input 0: output k (input 5k + 4) is TAPS[N−1−(5k+4)] / 2,
            // rounded half up.
            if let Some(y) = f.push(if i == 0 { 1 << 14 } else { 0 }) {
                out.push(y);
            }
        }
        assert_eq!(out.len(), 2 * N / 5);
        for (k, &y) in out.iter().enumerate() {
            let idx = 5 * k + 4;
            let t = if idx < N {
                i32::from(TAPS[N - 1 - idx])
            } else {
                0
            };
            assert_eq!(i32::from(y), (t * 16_384 + 16_384) >> 15, "output {k}");
        }
    }

    /// The textbook definition: y[k] = Σ_j h[j]·x[5k + 4 − (N − 1 − j)] (zeros before the
    /// start), rounded and saturated like `to_pcm`.
    fn reference(xs: &[i16]) -> std::vec::Vec<i16> {
        (0..xs.len() / 5)
            .map(|k| {
                let last = 5 * k + 4;
                let acc: i64 = (0..N)
                    .map(|j| {
                        let idx = last as i64 - (N - 1 - j) as i64;
                        let x = if idx >= 0 {
                            i64::from(xs[idx as usize])
                        } else {
                            0
                        };
                        i64::from(TAPS[j]) * x
                    })
                    .sum();
                ((acc + (1 << 14)) >> 15).clamp(-32768, 32767) as i16
            })
            .collect()
    }

    #[test]
    fn equals_the_direct_convolution_in_any_chunking() {
        let mut seed = 99u32;
        let xs: std::vec::Vec<i16> = (0..2_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 16) % 31_251) as i16 - 15_625
            })
            .collect();
        let want = reference(&xs);
        for chunk in [1, 3, 5, 159, 160, 161, 2_000] {
            let mut f = FirDecimator::new();
            let mut got = std::vec::Vec::new();
            for part in xs.chunks(chunk) {
                let mut o = [0i16; 500];
                let n = f.process(part, &mut o);
                got.extend_from_slice(&o[..n]);
            }
            assert_eq!(got, want, "chunks of {chunk}");
        }
        // commit beyond CAP is cut, never out of bounds.
        let mut f = FirDecimator::new();
        let _ = f.input();
        assert_eq!(f.commit(10 * CAP, &mut [0i16; 1000]), CAP / 5);
    }
}
