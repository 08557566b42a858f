//! Fixed-point arithmetic shared by the kernels, matching TFLM / gemmlowp bit for bit.
//!
//! Each function names the TFLM (or gemmlowp) function it reproduces. Rounding and saturation
//! follow those definitions exactly, including their behaviour at `i32::MIN` and for negative
//! shifts; the table tests below pin the edge cases.

/// TFLM `QuantizeMultiplier`: a real multiplier as a Q31 `multiplier` and a power-of-two `shift`
/// (positive = left), so that `real ≈ multiplier * 2^(shift - 31)`.
///
/// Uses `frexp` and round-half-away-from-zero on `q * 2^31` in `f64`, as TFLM does.
pub fn quantize_multiplier(real: f64) -> (i32, i32) {
    if real == 0.0 || !real.is_finite() {
        return (0, 0);
    }
    let (q, mut shift) = libm::frexp(real);
    let mut q_fixed = libm::round(q * (1u64 << 31) as f64) as i64;
    if q_fixed == 1i64 << 31 {
        q_fixed /= 2;
        shift += 1;
    }
    // TFLM: a shift below -31 would shift every bit out; it is represented as a zero multiplier.
    if shift < -31 {
        shift = 0;
        q_fixed = 0;
    }
    (q_fixed as i32, shift)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul`: `round(a * b / 2^31)`, saturating the single
/// overflow case `i32::MIN * i32::MIN`.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = a as i64 * b as i64;
    let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // C++ integer division truncates toward zero; so does Rust's.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` must be in `0..=31`.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let mask: i32 = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLM `MultiplyByQuantizedMultiplier` (the default double-rounding variant):
/// `x * multiplier * 2^(shift - 31)`, rounded as TFLM rounds.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x.wrapping_mul(1 << left), multiplier),
        right,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantize_multiplier_table() {
        // (real, multiplier, shift), values worked out from frexp by hand.
        for &(r, m, s) in &[
            (0.0, 0, 0),
            (0.5, 1 << 30, 0),
            (1.0, 1 << 30, 1),
            (0.25, 1 << 30, -1),
            (0.75, 1610612736, 0),
            (2.0, 1 << 30, 2),
            (1e-12, 0, 0), // frexp exponent -39 < -31 → zero
        ] {
            assert_eq!(quantize_multiplier(r), (m, s), "real {r}");
        }
        // Rounding up to 2^31 renormalises: q = 1 - 2^-40 rounds to 2^31.
        let (m, s) = quantize_multiplier(1.0 - 1.0 / (1u64 << 40) as f64);
        assert_eq!((m, s), (1 << 30, 1));
    }

    #[test]
    fn srdhm_table() {
        assert_eq!(
            saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN),
            i32::MAX
        );
        assert_eq!(
            saturating_rounding_doubling_high_mul(1 << 30, 1 << 30),
            1 << 29
        );
        // 3 * 2^30 / 2^31 = 1.5 → 2 (ties away from zero); negative → -2.
        assert_eq!(saturating_rounding_doubling_high_mul(3, 1 << 30), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 30), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(-5, 1 << 30), -2);
    }

    #[test]
    fn rounding_divide_table() {
        assert_eq!(rounding_divide_by_pot(5, 1), 3);
        assert_eq!(rounding_divide_by_pot(-5, 1), -3);
        assert_eq!(rounding_divide_by_pot(4, 1), 2);
        assert_eq!(rounding_divide_by_pot(-4, 1), -2);
        assert_eq!(rounding_divide_by_pot(7, 0), 7);
        assert_eq!(rounding_divide_by_pot(i32::MIN, 31), -1);
        assert_eq!(rounding_divide_by_pot(i32::MAX, 31), 1);
    }

    #[test]
    fn multiply_by_quantized_multiplier_table() {
        let (m, s) = quantize_multiplier(0.5);
        assert_eq!(multiply_by_quantized_multiplier(100, m, s), 50);
        // Multiplier 0.5 has shift 0, so only SaturatingRoundingDoublingHighMul rounds, and its
        // negative ties go toward +inf (gemmlowp nudge 1 - 2^30, then truncation): -50.5 → -50.
        assert_eq!(multiply_by_quantized_multiplier(-101, m, s), -50);
        let (m, s) = quantize_multiplier(3.0);
        assert_eq!(multiply_by_quantized_multiplier(7, m, s), 21);
        let (m, s) = quantize_multiplier(0.001);
        assert_eq!(multiply_by_quantized_multiplier(1500, m, s), 2);
    }
}
