//! The integer stages after the FFT, shared by both front ends: square root, PCAN's wide
//! dynamic range function and shrink, and the integer natural log. Written from TFLM's
//! `filterbank.c` / `signal/src/square_root_*.cc`, `pcan_gain_control.c` /
//! `signal/src/pcan_argc_fixed.cc` and `log_scale.c` / `signal/src/log.cc` (which agree).

/// Most significant bit position, 1-based (`MostSignificantBit32`); 0 for 0.
#[inline]
pub fn msb32(n: u32) -> u32 {
    32 - n.leading_zeros()
}

/// `MostSignificantBit64`.
#[inline]
fn msb64(n: u64) -> u32 {
    64 - n.leading_zeros()
}

/// TFLM's bitwise integer square root of `$num` (a `mut` binding of type `$t`, `$bits` wide,
/// nonzero): one result bit per two input bits from the top, then rounded up when the remainder
/// exceeds the root unless the root is already `$max` (the largest `$bits / 2`-bit value).
/// `Sqrt32` and the 64-bit half of `Sqrt64` are this same loop on their own width.
macro_rules! bitwise_sqrt {
    ($num:ident: $t:ty, $bits:literal, $msb:ident, $max:expr) => {{
        let mut res: $t = 0;
        let max_bit_number = ($bits - $msb($num)) | 1;
        let mut bit: $t = 1 << ($bits - 1 - max_bit_number);
        let mut iterations = ($bits - 1 - max_bit_number) / 2 + 1;
        while iterations > 0 {
            iterations -= 1;
            if $num >= res + bit {
                $num -= res + bit;
                res = (res >> 1) + bit;
            } else {
                res >>= 1;
            }
            bit >>= 2;
        }
        if $num > res && res != $max {
            res += 1;
        }
        res
    }};
}

/// `Sqrt32`: bitwise integer square root, rounded up when the remainder exceeds the root
/// (unless the root is already 0xFFFF).
pub fn sqrt32(mut num: u32) -> u32 {
    if num == 0 {
        return 0;
    }
    bitwise_sqrt!(num: u32, 32, msb32, 0xFFFF)
}

/// Single-precision square root, correctly rounded (IEEE 754): `VSQRT.F32` on the M4F, `libm`
/// elsewhere (the same value on every target; only ever used as an estimate).
#[inline(always)]
fn sqrt_f32(x: f32) -> f32 {
    #[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
    {
        let (r, _saved): (u32, u32);
        // SAFETY: register-only FPU instructions (the hard-float target has the FPU on). `s0`
        // is saved and restored around them: stable Rust cannot name FPU registers on this
        // target (`sreg` needs `vfp2`, which single-precision `vfp4d16sp` does not imply).
        unsafe {
            core::arch::asm!(
                "vmov {t}, s0",
                "vmov s0, {x}",
                "vsqrt.f32 s0, s0",
                "vmov {r}, s0",
                "vmov s0, {t}",
                x = in(reg) x.to_bits(), r = lateout(reg) r, t = out(reg) _saved,
                options(pure, nomem, nostack, preserves_flags));
        }
        f32::from_bits(r)
    }
    #[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
    {
        libm::sqrtf(x)
    }
}

/// `(⌊√num⌋, num − ⌊√num⌋²)` for `num < 2^48`: the single-precision root as an estimate
/// (within one of the true root: input and root each round to 24 bits), then corrected
/// exactly on the remainder, so the result does not depend on the estimate.
#[inline(always)]
fn isqrt48(num: u64) -> (u64, u64) {
    let x = ((num >> 32) as u32) as f32 * 4_294_967_296.0 + (num as u32) as f32;
    // `as` saturates; r ≤ 2^24 + 1, so |num − r²| < 2^50 fits an i64.
    let mut r = u64::from(sqrt_f32(x) as u32);
    let mut rem = num as i64 - (r * r) as i64;
    while rem < 0 {
        // r² = (r − 1)² + 2(r − 1) + 1; never below 0 (at r = 0, rem = num ≥ 0).
        r -= 1;
        rem += (2 * r + 1) as i64;
    }
    // (r + 1)² ≤ num ⇔ rem ≥ 2r + 1.
    while rem > (2 * r) as i64 {
        rem -= (2 * r + 1) as i64;
        r += 1;
    }
    (r, rem as u64)
}

/// [`sqrt32`] without its 16 bit-by-bit steps: the same result (⌊√num⌋, plus one when the
/// remainder exceeds the root, except at 0xFFFF); `tests::fast_sqrt_matches_bitwise`.
#[inline]
pub fn sqrt32_fast(num: u32) -> u32 {
    let (r, rem) = isqrt48(u64::from(num)); // r ≤ 0xFFFF
    if rem > r && r != 0xFFFF {
        r as u32 + 1
    } else {
        r as u32
    }
}

/// [`sqrt64`], faster: the 32-bit path as [`sqrt32_fast`]; below 2^48 (the front ends' sums
/// in practice) the same estimate-and-correct root, above it the root of the top 31 or 32
/// bits, then the remaining bit pairs digit by digit (at most 16 steps instead of up to 32,
/// on the same remainder arithmetic).
#[inline]
pub fn sqrt64_fast(num: u64) -> u32 {
    if num >> 32 == 0 {
        return sqrt32_fast(num as u32);
    }
    if num >> 48 == 0 {
        let (r, rem) = isqrt48(num); // r < 2^24: never 0xFFFF_FFFF
        return (if rem > r { r + 1 } else { r }) as u32;
    }
    // Drop an even number of bits k so the top fits 32 bits: ⌊√num⌋ starts with ⌊√(num >> k)⌋.
    let k = (msb64(num) - 31) & !1;
    let top = (num >> k) as u32;
    let (mut r, mut rem) = isqrt48(u64::from(top)); // rem ≤ 2r < 2^33, so rem << 2 fits
    let mut i = k / 2;
    while i > 0 {
        i -= 1;
        rem = rem << 2 | (num >> (2 * i)) & 3;
        let trial = r << 2 | 1;
        if rem >= trial {
            rem -= trial;
            r = r << 1 | 1;
        } else {
            r <<= 1;
        }
    }
    if rem > r && r != 0xFFFF_FFFF {
        r += 1;
    }
    r as u32
}

/// `Sqrt64`: 32-bit path when the high word is clear (TFLM's shortcut, which it notes is off
/// by one near 2^32; matched here), else the same algorithm on 64 bits. Result truncated to
/// `uint32_t`.
pub fn sqrt64(mut num: u64) -> u32 {
    if num >> 32 == 0 {
        return sqrt32(num as u32);
    }
    bitwise_sqrt!(num: u64, 64, msb64, 0xFFFF_FFFF) as u32
}

/// Fractional bits of PCAN's signal-to-noise ratio (`kPcanSnrBits`).
pub const PCAN_SNR_BITS: u32 = 12;
/// Fractional bits of PCAN's output (`kPcanOutputBits`).
const PCAN_OUTPUT_BITS: u32 = 6;

/// `WideDynamicFunction`: piecewise-quadratic interpolation of the gain LUT at `x` (the noise
/// estimate), in the C code's int16/int32 arithmetic.
pub fn wide_dynamic_function(x: u32, lut: &[i16; super::tables::PCAN_LUT_SIZE]) -> i16 {
    if x <= 2 {
        return lut[x as usize];
    }
    let interval = msb32(x); // 2..=32
    let base = 4 * interval as usize - 6; // <= 122, so base + 2 < 125
    let frac = (if interval < 11 {
        x << (11 - interval)
    } else {
        x >> (interval - 11)
    } & 0x3FF) as i32;
    let (y0, a1, a2) = (
        i32::from(lut[base]),
        i32::from(lut[base + 1]),
        i32::from(lut[base + 2]),
    );
    let mut result = (a2 * frac) >> 5;
    // (int32_t)((uint32_t)lut[1] << 5): a wrapping shift of the sign-extended value.
    result = result.wrapping_add(((a1 as u32) << 5) as i32);
    result = result.wrapping_mul(frac);
    result = result.wrapping_add(1 << 14) >> 15;
    result = result.wrapping_add(y0);
    result as i16
}

/// `PcanShrink`: x²/4 below 2 (in Q12), x − 1 above, output in Q6.
pub fn pcan_shrink(x: u32) -> u32 {
    if x < (2 << PCAN_SNR_BITS) {
        (x * x) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
    } else {
        (x >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)).wrapping_sub(1 << PCAN_OUTPUT_BITS)
    }
}

/// `kLogLut` (log_lut.c, identical in signal/src/log.cc): log2(1 + s/128) corrections in Q16.
const LOG_LUT: [u16; 130] = [
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714,
    4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533,
    5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568,
    5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944,
    4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759,
    3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090,
    1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963, 830, 695, 559, 421, 282, 142, 0, 0,
];
const LOG_SCALE_LOG2: u32 = 16;
const LOG_SEGMENTS_LOG2: u32 = 7;
const LOG_COEFF: u64 = 45426; // ln(2) in Q16

/// `Log2FractionPart`: the Q16 fraction of log2(x) given its integer part, from the LUT.
fn log2_fraction(x: u32, log2x: u32) -> u32 {
    let mut frac = x.wrapping_sub(1u32 << log2x) as i32;
    if log2x < LOG_SCALE_LOG2 {
        frac <<= LOG_SCALE_LOG2 - log2x;
    } else {
        frac >>= log2x - LOG_SCALE_LOG2;
    }
    // frac < 2^16, so base_seg < 128 and base_seg + 1 indexes the 130-entry LUT.
    let base_seg = (frac as u32 >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)) as usize;
    let seg_unit = (1i32 << LOG_SCALE_LOG2) >> LOG_SEGMENTS_LOG2;
    let c0 = i32::from(LOG_LUT[base_seg]);
    let c1 = i32::from(LOG_LUT[base_seg + 1]);
    let seg_base = seg_unit * base_seg as i32;
    let rel_pos = ((c1 - c0) * (frac - seg_base)) >> LOG_SCALE_LOG2;
    (frac + c0 + rel_pos) as u32
}

/// `Log` / `Log32`: natural log of `x` (> 1) scaled by `2^scale_shift` (the signal library's
/// `out_scale` is that power of two), rounded half up twice as in TFLM.
pub fn log_scaled(x: u32, scale_shift: u32) -> u32 {
    let integer = msb32(x) - 1;
    let fraction = log2_fraction(x, integer);
    let log2 = (integer << LOG_SCALE_LOG2).wrapping_add(fraction);
    let round = 1u32 << (LOG_SCALE_LOG2 - 1);
    let loge = ((LOG_COEFF * u64::from(log2) + u64::from(round)) >> LOG_SCALE_LOG2) as u32;
    (loge << scale_shift).wrapping_add(round) >> LOG_SCALE_LOG2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_values() {
        assert_eq!(sqrt32(0), 0);
        assert_eq!(sqrt32(1), 1);
        assert_eq!(sqrt32(2), 1); // remainder 1 == root: no round up
        assert_eq!(sqrt32(3), 2); // remainder 2 > root 1: round up
        assert_eq!(sqrt32(99), 10);
        assert_eq!(sqrt32(u32::MAX), 0xFFFF); // saturates instead of rounding to 0x10000
        assert_eq!(sqrt64(1 << 40), 1 << 20);
        assert_eq!(sqrt64((1 << 40) + (1 << 21)), (1 << 20) + 1);
        assert_eq!(sqrt64(u64::MAX), 0xFFFF_FFFF);
    }

    /// Property test: the Newton square root equals TFLM's bitwise one on edge values, every
    /// square ± 1 up to 2^16 and pseudo-random inputs of every magnitude.
    #[test]
    fn fast_sqrt_matches_bitwise() {
        let check = |n: u64| assert_eq!(sqrt64_fast(n), sqrt64(n), "n = {n}");
        for n in 0..100_000u64 {
            check(n);
        }
        for r in 0..=0x1_0000u64 {
            for d in [0, 1, r, r + 1] {
                check((r * r + d).min(u64::from(u32::MAX)));
                check((r * r).saturating_sub(1));
            }
        }
        for n in [
            u64::from(u32::MAX),
            u64::from(u32::MAX) - 1,
            1 << 32,
            u64::MAX,
        ] {
            check(n);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            check(seed >> (seed % 64));
        }
    }

    #[test]
    fn log_values() {
        // ln(2)·64 = 44.4 -> 44; ln(65536)·64 = 709.8 -> 710 (Q16 LUT approximations).
        assert_eq!(log_scaled(2, 6), 44);
        assert_eq!(log_scaled(65536, 6), 710);
        assert_eq!(log_scaled(u32::MAX, 6), 1420);
    }

    #[test]
    fn shrink_values() {
        assert_eq!(pcan_shrink(0), 0);
        assert_eq!(pcan_shrink(1 << 12), 16); // 1²/4 = 0.25 in Q6
        assert_eq!(pcan_shrink(3 << 12), 128); // 3 - 1 = 2 in Q6
    }
}
