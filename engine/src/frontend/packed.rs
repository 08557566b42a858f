//! Packed Q15 complex arithmetic for the FFT: one complex value per `u32`, real part in the
//! low half, imaginary part in the high half (`kiss_fft_cpx` of two `int16_t`, little-endian).
//!
//! On Cortex-M4/M7 (`cfg(mote_dsp_asm)`, set by the engine's build script for `thumbv7em`) the
//! operations are the DSP extension's instructions; everywhere else (the host, wasm, and the
//! host tests) a plain-Rust emulation computes the same bits. Every operation is chosen so the
//! instruction's arithmetic is exactly KISS FFT's C arithmetic:
//! - `SADD16` / `SSUB16` / `SASX` / `SSAX` add or subtract lanes modulo 2^16, as KISS FFT's
//!   `int` sums stored back into `int16_t` do;
//! - `SMLSD` / `SMLADX` / `SMLABB` / `SMLATB` form exact 16×16 products and add them and the
//!   rounding constant modulo 2^32 (they only set the Q flag on overflow, the result wraps),
//!   as `sround`'s `int32_t` sums do;
//! - `SHADD16` / `SHSUB16` keep the 17-bit lane sum and shift it right arithmetically: the
//!   split step's `HALF_OF((int)a + b)`.
//!
//! `fft::tests` compare the packed FFT with the scalar KISS FFT port on random input, and the
//! firmware's replay in QEMU checks the instructions themselves against the host's output.

/// KISS FFT's rounding constant for Q15 products (`1 << (FRACBITS − 1)`).
const ROUND: i32 = 1 << 14;

/// Packs a complex value.
#[inline(always)]
pub const fn pack(re: i16, im: i16) -> u32 {
    re as u16 as u32 | (im as u16 as u32) << 16
}

/// Real part.
#[inline(always)]
pub const fn re(x: u32) -> i16 {
    x as u16 as i16
}

/// Imaginary part.
#[inline(always)]
pub const fn im(x: u32) -> i16 {
    (x >> 16) as u16 as i16
}

/// Lanes of two 32-bit values whose high halves are the Q15 results of `>> 15`.
#[inline(always)]
fn pack_q15(lo: i32, hi: i32) -> u32 {
    ((lo >> 15) as u32 & 0xFFFF) | ((hi as u32) << 1 & 0xFFFF_0000)
}

#[cfg(mote_dsp_asm)]
mod isa {
    use core::arch::asm;

    macro_rules! op2 {
        ($name:ident, $insn:literal) => {
            #[inline(always)]
            pub fn $name(a: u32, b: u32) -> u32 {
                let d: u32;
                // SAFETY: a register-only DSP instruction; no memory, stack or flags used.
                unsafe {
                    asm!(concat!($insn, " {d}, {a}, {b}"), d = lateout(reg) d, a = in(reg) a,
                         b = in(reg) b, options(pure, nomem, nostack, preserves_flags));
                }
                d
            }
        };
    }
    macro_rules! op3 {
        ($name:ident, $insn:literal) => {
            #[inline(always)]
            pub fn $name(a: u32, b: u32, acc: i32) -> i32 {
                let d: i32;
                // SAFETY: a register-only DSP instruction; it may set the sticky Q flag, which
                // nothing reads.
                unsafe {
                    asm!(concat!($insn, " {d}, {a}, {b}, {c}"), d = lateout(reg) d,
                         a = in(reg) a, b = in(reg) b, c = in(reg) acc,
                         options(pure, nomem, nostack));
                }
                d
            }
        };
    }
    op2!(sadd16, "sadd16");
    op2!(ssub16, "ssub16");
    op2!(sasx, "sasx");
    op2!(ssax, "ssax");
    op2!(shadd16, "shadd16");
    op2!(shsub16, "shsub16");
    op3!(smlsd, "smlsd");
    op3!(smladx, "smladx");
    op3!(smlabb, "smlabb");
    op3!(smlatb, "smlatb");
    op3!(smlad, "smlad");

    #[inline(always)]
    pub fn window_wrap(x: u32, w: u32) -> u32 {
        let d: u32;
        // SAFETY: register-only DSP instructions; no memory, stack or flags used.
        unsafe {
            asm!("smulbb {t}, {x}, {w}", "smultt {d}, {x}, {w}", "asr {t}, {t}, #12",
                 "pkhbt {d}, {t}, {d}, lsl #4",
                 x = in(reg) x, w = in(reg) w, t = out(reg) _, d = out(reg) d,
                 options(pure, nomem, nostack, preserves_flags));
        }
        d
    }
    #[inline(always)]
    pub fn window_sat(x: u32, w: u32) -> u32 {
        let d: u32;
        // SAFETY: register-only DSP instructions; SSAT may set the sticky Q flag, which
        // nothing reads.
        unsafe {
            asm!("smulbb {t}, {x}, {w}", "smultt {d}, {x}, {w}", "ssat {t}, #16, {t}, asr #12",
                 "ssat {d}, #16, {d}, asr #12", "pkhbt {d}, {t}, {d}, lsl #16",
                 x = in(reg) x, w = in(reg) w, t = out(reg) _, d = out(reg) d,
                 options(pure, nomem, nostack));
        }
        d
    }
    /// SSUB16 sets GE per lane where a ≥ b (on the exact difference); SEL picks those lanes.
    #[inline(always)]
    pub fn max16(a: u32, b: u32) -> u32 {
        let d: u32;
        // SAFETY: register-only DSP instructions; they set and read the GE flags only.
        unsafe {
            asm!("ssub16 {t}, {a}, {b}", "sel {a}, {a}, {b}",
                 a = inout(reg) a => d, b = in(reg) b, t = out(reg) _,
                 options(pure, nomem, nostack));
        }
        d
    }
    #[inline(always)]
    pub fn min16(a: u32, b: u32) -> u32 {
        let d: u32;
        // SAFETY: as `max16`.
        unsafe {
            asm!("ssub16 {t}, {a}, {b}", "sel {a}, {b}, {a}",
                 a = inout(reg) a => d, b = in(reg) b, t = out(reg) _,
                 options(pure, nomem, nostack));
        }
        d
    }
}

#[cfg(not(mote_dsp_asm))]
mod isa {
    //! The instructions' arithmetic in plain Rust (ARM ARM pseudocode), bit for bit.
    use super::{im, pack, re};

    fn lanes(a: u32) -> (i32, i32) {
        (i32::from(re(a)), i32::from(im(a)))
    }
    pub fn sadd16(a: u32, b: u32) -> u32 {
        pack(re(a).wrapping_add(re(b)), im(a).wrapping_add(im(b)))
    }
    pub fn ssub16(a: u32, b: u32) -> u32 {
        pack(re(a).wrapping_sub(re(b)), im(a).wrapping_sub(im(b)))
    }
    /// Low = a.lo − b.hi, high = a.hi + b.lo.
    pub fn sasx(a: u32, b: u32) -> u32 {
        pack(re(a).wrapping_sub(im(b)), im(a).wrapping_add(re(b)))
    }
    /// Low = a.lo + b.hi, high = a.hi − b.lo.
    pub fn ssax(a: u32, b: u32) -> u32 {
        pack(re(a).wrapping_add(im(b)), im(a).wrapping_sub(re(b)))
    }
    pub fn shadd16(a: u32, b: u32) -> u32 {
        let ((ar, ai), (br, bi)) = (lanes(a), lanes(b));
        pack(((ar + br) >> 1) as i16, ((ai + bi) >> 1) as i16)
    }
    pub fn shsub16(a: u32, b: u32) -> u32 {
        let ((ar, ai), (br, bi)) = (lanes(a), lanes(b));
        pack(((ar - br) >> 1) as i16, ((ai - bi) >> 1) as i16)
    }
    /// a.lo·b.lo − a.hi·b.hi + acc (the difference of two 16×16 products always fits).
    pub fn smlsd(a: u32, b: u32, acc: i32) -> i32 {
        let ((ar, ai), (br, bi)) = (lanes(a), lanes(b));
        (ar * br - ai * bi).wrapping_add(acc)
    }
    /// a.lo·b.hi + a.hi·b.lo + acc, modulo 2^32.
    pub fn smladx(a: u32, b: u32, acc: i32) -> i32 {
        let ((ar, ai), (br, bi)) = (lanes(a), lanes(b));
        (ar * bi).wrapping_add(ai * br).wrapping_add(acc)
    }
    /// a.lo·b.lo + a.hi·b.hi + acc, modulo 2^32.
    pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
        let ((ar, ai), (br, bi)) = (lanes(a), lanes(b));
        (ar * br).wrapping_add(ai * bi).wrapping_add(acc)
    }
    pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
        (lanes(a).0 * lanes(b).0).wrapping_add(acc)
    }
    pub fn smlatb(a: u32, b: u32, acc: i32) -> i32 {
        (lanes(a).1 * lanes(b).0).wrapping_add(acc)
    }
    /// SMULBB / SMULTT, `>> 12`, low 16 bits of each (PKHBT).
    pub fn window_wrap(x: u32, w: u32) -> u32 {
        let ((xr, xi), (wr, wi)) = (lanes(x), lanes(w));
        pack(((xr * wr) >> 12) as i16, ((xi * wi) >> 12) as i16)
    }
    /// SMULBB / SMULTT, `SSAT #16, asr #12` each.
    pub fn window_sat(x: u32, w: u32) -> u32 {
        let ((xr, xi), (wr, wi)) = (lanes(x), lanes(w));
        let sat = |p: i32| (p >> 12).clamp(-32768, 32767) as i16;
        pack(sat(xr * wr), sat(xi * wi))
    }
    pub fn max16(a: u32, b: u32) -> u32 {
        pack(re(a).max(re(b)), im(a).max(im(b)))
    }
    pub fn min16(a: u32, b: u32) -> u32 {
        pack(re(a).min(re(b)), im(a).min(im(b)))
    }
}

/// `C_ADD`: lane sums modulo 2^16.
#[inline(always)]
pub fn add(a: u32, b: u32) -> u32 {
    isa::sadd16(a, b)
}

/// `C_SUB`: lane differences modulo 2^16.
#[inline(always)]
pub fn sub(a: u32, b: u32) -> u32 {
    isa::ssub16(a, b)
}

/// `(a.r + b.i, a.i − b.r)`: `kf_bfly4`'s forward `Fout[m]`.
// On the M4 the butterflies that use it are assembly (`fft::block4`, `fft::leaf4_m4`).
#[cfg_attr(mote_dsp_asm, allow(dead_code))]
#[inline(always)]
pub fn add_rot(a: u32, b: u32) -> u32 {
    isa::ssax(a, b)
}

/// `(a.r − b.i, a.i + b.r)`: `kf_bfly4`'s forward `Fout[m3]`.
// On the M4 the butterflies that use it are assembly (`fft::block4`, `fft::leaf4_m4`).
#[cfg_attr(mote_dsp_asm, allow(dead_code))]
#[inline(always)]
pub fn sub_rot(a: u32, b: u32) -> u32 {
    isa::sasx(a, b)
}

/// `((a.r + b.r) >> 1, (a.i + b.i) >> 1)` on the exact sums (`HALF_OF`).
#[inline(always)]
pub fn half_add(a: u32, b: u32) -> u32 {
    isa::shadd16(a, b)
}

/// `((a.r − b.r) >> 1, (a.i − b.i) >> 1)` on the exact differences.
#[inline(always)]
pub fn half_sub(a: u32, b: u32) -> u32 {
    isa::shsub16(a, b)
}

/// `C_MUL` in Q15: `(sround(ar·br − ai·bi), sround(ar·bi + ai·br))`.
#[inline(always)]
pub fn mul(a: u32, b: u32) -> u32 {
    pack_q15(isa::smlsd(a, b, ROUND), isa::smladx(a, b, ROUND))
}

/// `C_FIXDIV(c, div)`: both lanes times `k = 32767 / div` in Q15 (`k` < 2^15).
#[inline(always)]
pub fn fixdiv(c: u32, k: u32) -> u32 {
    pack_q15(isa::smlabb(c, k, ROUND), isa::smlatb(c, k, ROUND))
}

/// The Hann window on a pair of samples `x` with coefficients `w` (Q12): each lane
/// `(x · w) >> 12` stored as `int16_t` (wrapping: the C micro-frontend's cast).
#[inline(always)]
pub fn window_wrap(x: u32, w: u32) -> u32 {
    isa::window_wrap(x, w)
}

/// [`window_wrap`] saturating to int16 instead (the signal library's `ApplyWindow`).
#[inline(always)]
pub fn window_sat(x: u32, w: u32) -> u32 {
    isa::window_sat(x, w)
}

/// Lane-wise maximum (`SSUB16` + `SEL`).
#[inline(always)]
pub fn max16(a: u32, b: u32) -> u32 {
    isa::max16(a, b)
}

/// Lane-wise minimum.
#[inline(always)]
pub fn min16(a: u32, b: u32) -> u32 {
    isa::min16(a, b)
}

/// `c.r² + c.i²` modulo 2^32 (the int32 sum of squares of `filterbank.c`, as uint32).
#[inline(always)]
pub fn norm(c: u32) -> u32 {
    isa::smlad(c, c, 0) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The operations against scalar KISS FFT arithmetic on edge and pseudo-random lanes.
    #[test]
    fn ops_match_scalar_arithmetic() {
        let edge = [
            0i16, 1, -1, 2, -2, 16383, -16384, 32767, -32768, 12345, -23456,
        ];
        let mut vals: std::vec::Vec<i16> = edge.to_vec();
        let mut seed = 1u32;
        for _ in 0..40 {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            vals.push((seed >> 16) as i16);
        }
        let sround = |x: i32| (x.wrapping_add(1 << 14) >> 15) as i16;
        for &ar in &vals {
            for &ai in &vals {
                let a = pack(ar, ai);
                let (r, i) = (i32::from(ar), i32::from(ai));
                for k in [16383u32, 8191] {
                    let want = pack(sround(r * k as i32), sround(i * k as i32));
                    assert_eq!(fixdiv(a, k), want);
                }
                assert_eq!(norm(a), ((r * r) as u32).wrapping_add((i * i) as u32));
                for w in [0i16, 1, 4095, 4096, -4096, ai] {
                    let (x, wp) = (pack(ar, ai), pack(w, ai ^ w));
                    let wi = i32::from(ai ^ w);
                    let w = i32::from(w);
                    let want_wrap = pack(((r * w) >> 12) as i16, ((i * wi) >> 12) as i16);
                    assert_eq!(window_wrap(x, wp), want_wrap);
                    let sat = |p: i32| (p >> 12).clamp(-32768, 32767) as i16;
                    assert_eq!(window_sat(x, wp), pack(sat(r * w), sat(i * wi)));
                }
                for &br in edge.iter().chain(&vals[..12]) {
                    let b = pack(br, ai ^ br);
                    let (s, t) = (i32::from(br), i32::from(ai ^ br));
                    let m = pack(
                        sround((r * s).wrapping_sub(i * t)),
                        sround((r * t).wrapping_add(i * s)),
                    );
                    assert_eq!(mul(a, b), m);
                    assert_eq!(
                        add(a, b),
                        pack(ar.wrapping_add(br), ai.wrapping_add(ai ^ br))
                    );
                    assert_eq!(
                        add_rot(a, b),
                        pack(ar.wrapping_add(ai ^ br), ai.wrapping_sub(br))
                    );
                    assert_eq!(
                        sub_rot(a, b),
                        pack(ar.wrapping_sub(ai ^ br), ai.wrapping_add(br))
                    );
                    assert_eq!(
                        half_sub(a, b),
                        pack(((r - s) >> 1) as i16, ((i - t) >> 1) as i16)
                    );
                    assert_eq!(
                        half_add(a, b),
                        pack(((r + s) >> 1) as i16, ((i + t) >> 1) as i16)
                    );
                    assert_eq!(max16(a, b), pack(ar.max(br), ai.max(ai ^ br)));
                    assert_eq!(min16(a, b), pack(ar.min(br), ai.min(ai ^ br)));
                    assert_eq!(
                        sub(a, b),
                        pack(ar.wrapping_sub(br), ai.wrapping_sub(ai ^ br))
                    );
                }
            }
        }
    }
}
