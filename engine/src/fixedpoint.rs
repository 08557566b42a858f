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
    // C++ integer division by 2^31 truncates toward zero: an arithmetic shift after adding
    // 2^31 − 1 to a negative value (what the compiler emits for `/ (1 << 31)` at opt-level 3;
    // written out so that size-optimised callers never call the 64-bit division routine).
    let v = ab + nudge;
    ((v + ((v >> 63) & ((1i64 << 31) - 1))) >> 31) as i32
}

/// ⌊n / d⌋ (`d` = 0 is taken as 1) without the 64-bit division routine, which is ~1 KB of
/// library code on a Cortex-M4: by 16-bit digits (four 32-bit divisions) when `d` < 2^16,
/// else by shift and subtract.
pub const fn div_u64_u32(n: u64, d: u32) -> u64 {
    let d = if d == 0 { 1 } else { d };
    // Constant shifts only: a variable 64-bit shift is a library call at opt-level "z".
    if d <= 0xFFFF {
        // Each partial dividend (r · 2^16 + digit) is below d · 2^16 ≤ 2^32.
        let digits = [
            (n >> 48) as u32,
            (n >> 32) as u32 & 0xFFFF,
            (n >> 16) as u32 & 0xFFFF,
            n as u32 & 0xFFFF,
        ];
        let (mut q, mut r, mut i) = (0u64, 0u32, 0);
        while i < digits.len() {
            let cur = (r << 16) | digits[i];
            q = (q << 16) | (cur / d) as u64;
            r = cur % d;
            i += 1;
        }
        return q;
    }
    let d = d as u64;
    let (mut n, mut q, mut r, mut i) = (n, 0u64, 0u64, 0);
    while i < 64 {
        r = (r << 1) | (n >> 63);
        n <<= 1;
        q <<= 1;
        if r >= d {
            r -= d;
            q |= 1;
        }
        i += 1;
    }
    q
}

/// gemmlowp `RoundingDivideByPOT`: `x / 2^exponent` rounded to nearest, ties away from zero.
/// `exponent` must be in `0..=31`.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    // Outside 0..=31 only with hostile scales (TFLM: undefined shift); clamped so no input panics.
    let exponent = exponent.clamp(0, 31);
    let mask: i32 = ((1i64 << exponent) - 1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + (x < 0) as i32;
    (x >> exponent) + (remainder > threshold) as i32
}

/// TFLM `MultiplyByQuantizedMultiplier` (the default double-rounding variant):
/// `x * multiplier * 2^(shift - 31)`, rounded as TFLM rounds.
#[inline(always)]
pub fn multiply_by_quantized_multiplier(x: i32, multiplier: i32, shift: i32) -> i32 {
    // |shift| > 31 only comes from hostile scales (TFLM: undefined shift); clamped so no input panics.
    let shift = shift.clamp(-31, 31);
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
    fn div_u64_u32_is_division() {
        for (n, d) in [
            (0u64, 1u32),
            (7, 2),
            (u64::MAX, 1),
            (u64::MAX, 3),
            (u64::MAX, 0xFFFF),
            (u64::MAX, 0x1_0000),
            (u64::MAX, u32::MAX),
            (123_456_789_012_345, 16_000),
            (123_456_789_012_345, 96_000),
            (0xFFFF_FFFF_0000, 65_535),
        ] {
            assert_eq!(div_u64_u32(n, d), n / u64::from(d), "{n} / {d}");
        }
        assert_eq!(div_u64_u32(5, 0), 5);
    }

    #[test]
    fn half_sum_truncates_like_division() {
        for a in [i32::MIN, -7, -2, -1, 0, 1, 2, 7, i32::MAX] {
            for b in [i32::MIN, -3, -1, 0, 1, 4, i32::MAX] {
                let sum = a as i64 + b as i64;
                let sign = if sum >= 0 { 1 } else { -1 };
                assert_eq!(
                    rounding_half_sum(a, b),
                    ((sum + sign) / 2) as i32,
                    "{a} + {b}"
                );
            }
        }
    }

    #[test]
    fn high_mul_truncates_like_division() {
        for a in [i32::MIN, -1 << 30, -12345, -1, 0, 1, 7, 1 << 20, i32::MAX] {
            for b in [i32::MIN + 1, -1 << 29, -3, 0, 5, 1 << 30, i32::MAX] {
                let ab = a as i64 * b as i64;
                let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
                let want = ((ab + nudge) / (1i64 << 31)) as i32;
                assert_eq!(
                    saturating_rounding_doubling_high_mul(a, b),
                    want,
                    "{a} * {b}"
                );
            }
        }
    }

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

// --- gemmlowp fixed-point transcendental helpers (ops-act) ---
//
// gemmlowp's `FixedPoint<int32_t, IB>` is a plain `i32` here: the integer-bit count `IB` (the
// "Q-format" IB.(31-IB)) is tracked by the caller and passed as an argument where a function
// depends on it. gemmlowp's non-saturating `+`/`-` are C++ signed arithmetic whose overflow is UB
// but wraps in practice; they are `wrapping_*` here (the ranges used never overflow).

/// gemmlowp `RoundingHalfSum` (int32): `(a + b) / 2` rounded to nearest, ties away from zero.
#[inline(always)]
pub fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = a as i64 + b as i64;
    let sign = if sum >= 0 { 1 } else { -1 };
    // `/ 2` truncating toward zero, as a shift (no 64-bit division routine in size-optimised
    // callers; see `saturating_rounding_doubling_high_mul`).
    let v = sum + sign;
    ((v + ((v >> 63) & 1)) >> 1) as i32
}

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>` (int32): `x * 2^exponent`, saturating
/// for `exponent > 0`, rounding to nearest (ties away from zero) for `exponent < 0`.
/// `exponent` must be in `-31..=31`. gemmlowp `Rescale<dst>` of a `src`-integer-bit value is this
/// with `exponent = src - dst`.
#[inline(always)]
pub fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent > 0 {
        let threshold: i32 = ((1i64 << (31 - exponent)) - 1) as i32;
        if x > threshold {
            i32::MAX
        } else if x < -threshold {
            i32::MIN
        } else {
            x.wrapping_mul(1i32.wrapping_shl(exponent as u32))
        }
    } else if exponent < 0 {
        rounding_divide_by_pot(x, -exponent)
    } else {
        x
    }
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl`: `exp(a)` for a Q0.31 `a`
/// in `[-1/4, 0)`, as Q0.31 (4th-order Taylor expansion around -1/8).
#[inline]
pub fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1895147668; // exp(-1/8) in Q0.31
    const ONE_THIRD: i32 = 715827883; // 1/3 in Q0.31
    let x = a.wrapping_add(1 << 28); // a + 1/8
    let x2 = saturating_rounding_doubling_high_mul(x, x);
    let x3 = saturating_rounding_doubling_high_mul(x2, x);
    let x4 = saturating_rounding_doubling_high_mul(x2, x2);
    let x4_over_4 = rounding_divide_by_pot(x4, 2);
    let poly = rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(x4_over_4.wrapping_add(x3), ONE_THIRD)
            .wrapping_add(x2),
        1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(saturating_rounding_doubling_high_mul(
        EXP_MINUS_ONE_EIGHTH,
        x.wrapping_add(poly),
    ))
}

/// gemmlowp `exp_on_negative_values`: `exp(a)` for `a <= 0` given with `integer_bits` integer
/// bits (Q`integer_bits`.(31-`integer_bits`)), as Q0.31. `integer_bits` must be in `0..=30`.
#[inline]
pub fn exp_on_negative_values(a: i32, integer_bits: i32) -> i32 {
    let fractional_bits = 31 - integer_bits;
    let one_quarter: i32 = 1 << (fractional_bits - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(
        saturating_rounding_multiply_by_pot(a_mod_quarter_minus_one_quarter, integer_bits),
    );
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // Barrel shifter: multiply by exp(-2^e) for each bit 2^e set in the remainder.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1672461947),
        (-1, 1302514674),
        (0, 790015084),
        (1, 290630308),
        (2, 39332535),
        (3, 720401),
        (4, 242),
    ];
    for &(exponent, multiplier) in BARREL.iter() {
        if integer_bits > exponent {
            let shift = fractional_bits + exponent;
            if remainder & (1i32 << shift) != 0 {
                result = saturating_rounding_doubling_high_mul(result, multiplier);
            }
        }
    }
    if integer_bits > 5 {
        // Inputs below -32 give exactly zero.
        let clamp = -(1i32 << (36 - integer_bits));
        if a < clamp {
            result = 0;
        }
    }
    if a == 0 {
        result = i32::MAX; // FixedPoint<int32_t, 0>::One()
    }
    result
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: `1 / (1 + a)` for a Q0.31 `a` in `[0, 1)`, as
/// Q0.31 (three Newton–Raphson steps in Q2.29).
#[inline]
pub fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    rescale_to_q0(newton_reciprocal_half_denominator(a), 1)
}

/// gemmlowp `one_minus_x_over_one_plus_x_for_x_in_0_1`: `(1 - a) / (1 + a)` for a Q0.31 `a` in
/// `[0, 1)`, as Q0.31.
#[inline]
pub fn one_minus_x_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const F2_ONE: i32 = 1 << 29;
    saturating_rounding_multiply_by_pot(
        newton_reciprocal_half_denominator(a).wrapping_sub(F2_ONE),
        2,
    )
}

/// The Newton–Raphson core shared by gemmlowp's `one_over_one_plus_x_for_x_in_0_1` and
/// `one_minus_x_over_one_plus_x_for_x_in_0_1`: `1 / ((1 + a) / 2)` as Q2.29.
#[inline(always)]
fn newton_reciprocal_half_denominator(a: i32) -> i32 {
    const F2_ONE: i32 = 1 << 29;
    const FORTY_EIGHT_OVER_17: i32 = 1515870810; // Q2.29
    const NEG_THIRTY_TWO_OVER_17: i32 = -1010580540; // Q2.29
    let half_denominator = rounding_half_sum(a, i32::MAX);
    let mut x = FORTY_EIGHT_OVER_17.wrapping_add(saturating_rounding_doubling_high_mul(
        half_denominator,
        NEG_THIRTY_TWO_OVER_17,
    ));
    for _ in 0..3 {
        let half_denominator_times_x = saturating_rounding_doubling_high_mul(half_denominator, x);
        let one_minus = F2_ONE.wrapping_sub(half_denominator_times_x);
        // x * one_minus is Q4.27; Rescale<2> shifts it back to Q2.29.
        x = x.wrapping_add(saturating_rounding_multiply_by_pot(
            saturating_rounding_doubling_high_mul(x, one_minus),
            2,
        ));
    }
    x
}

/// gemmlowp `Rescale<0>` of a value with `integer_bits` integer bits.
#[inline(always)]
fn rescale_to_q0(x: i32, integer_bits: i32) -> i32 {
    saturating_rounding_multiply_by_pot(x, integer_bits)
}

/// gemmlowp `logistic`: `1 / (1 + exp(-a))` for `a` with `integer_bits` integer bits, as Q0.31.
#[inline]
pub fn logistic(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 1 << 30; // one half
    }
    let abs_input = if a > 0 { a } else { a.wrapping_neg() };
    let result_if_positive = one_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(
        abs_input.wrapping_neg(),
        integer_bits,
    ));
    if a > 0 {
        result_if_positive
    } else {
        i32::MAX.wrapping_sub(result_if_positive)
    }
}

/// gemmlowp `tanh`: `tanh(a)` for `a` with `integer_bits` integer bits, as Q0.31.
/// `integer_bits` must be in `0..=29`.
#[inline]
pub fn tanh(a: i32, integer_bits: i32) -> i32 {
    if a == 0 {
        return 0;
    }
    let negative_part = if a < 0 { a } else { a.wrapping_neg() };
    // neg_tanh_on_negative_values: ExactMulByPot<1> reinterprets the raw value with one more
    // integer bit, i.e. exp(2 * n).
    let t = one_minus_x_over_one_plus_x_for_x_in_0_1(exp_on_negative_values(
        negative_part,
        integer_bits + 1,
    ));
    if a < 0 {
        t.wrapping_neg()
    } else {
        t
    }
}

/// TFLM `MultiplyByQuantizedMultiplierGreaterThanOne` (double-rounding build):
/// `SaturatingRoundingDoublingHighMul(x * 2^left_shift, multiplier)`. `left_shift` in `0..=31`.
#[inline(always)]
pub fn multiply_by_quantized_multiplier_greater_than_one(
    x: i32,
    multiplier: i32,
    left_shift: i32,
) -> i32 {
    saturating_rounding_doubling_high_mul(
        x.wrapping_mul(1i32.wrapping_shl(left_shift as u32)),
        multiplier,
    )
}

/// TFLM `QuantizeMultiplierGreaterThanOne`: `quantize_multiplier` for `real > 1`; `None` where
/// TFLM's `TFLITE_CHECK`s would abort (`real <= 1`, or a negative shift).
pub fn quantize_multiplier_greater_than_one(real: f64) -> Option<(i32, i32)> {
    if real.is_nan() || real <= 1.0 {
        return None;
    }
    let (m, s) = quantize_multiplier(real);
    if s < 0 {
        return None;
    }
    Some((m, s))
}

/// TFLM `PreprocessSoftmaxScaling` (double-rounding build, no `TFLITE_EMULATE_FLOAT`):
/// `QuantizeMultiplierGreaterThanOne(min(beta * input_scale * 2^(31 - input_integer_bits), 2^31 - 1))`
/// in `f64`, giving `(multiplier, left_shift)`; `None` where TFLM aborts (product `<= 1`).
pub fn preprocess_softmax_scaling(
    beta: f64,
    input_scale: f64,
    input_integer_bits: i32,
) -> Option<(i32, i32)> {
    let max_real_multiplier = ((1i64 << 31) - 1) as f64;
    let real = beta * input_scale * (1i64 << (31 - input_integer_bits)) as f64;
    // std::min<double>(a, b) returns a unless b < a (so a NaN product stays NaN and is rejected).
    let real = if max_real_multiplier < real {
        max_real_multiplier
    } else {
        real
    };
    quantize_multiplier_greater_than_one(real)
}

/// TFLM `CalculateInputRadius` (no `TFLITE_EMULATE_FLOAT`):
/// `floor((2^input_integer_bits - 1) * 2^(total_signed_bits - input_integer_bits) / 2^input_left_shift)`
/// computed in `f64`. `input_left_shift` must be `>= 0` (TFLM's `1LL << shift` is UB otherwise);
/// shifts of 63 and more give 0.
pub fn calculate_input_radius(
    input_integer_bits: i32,
    input_left_shift: i32,
    total_signed_bits: i32,
) -> i32 {
    let numerator = ((1i32 << input_integer_bits) - 1) as f64
        * (1i64 << (total_signed_bits - input_integer_bits)) as f64;
    let max_input_rescaled = if input_left_shift >= 63 {
        0.0
    } else {
        numerator / (1i64 << input_left_shift) as f64
    };
    libm::floor(max_input_rescaled) as i32
}

/// TFLM `GetReciprocal`: for a positive `x` with `x_integer_digits` integer bits, returns
/// `(reciprocal, num_bits_over_unit)` with `reciprocal` the Q0.31 value of `2^num_bits_over_unit / x`
/// (computed by gemmlowp `one_over_one_plus_x_for_x_in_0_1` after normalising `x` into `[1, 2)`).
#[inline]
pub fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros() as i32;
    let num_bits_over_unit = x_integer_digits - headroom_plus_one;
    // C++ `u32 << 32` is UB; x > 0 keeps headroom_plus_one <= 31.
    let shifted = (x as u32)
        .checked_shl(headroom_plus_one as u32)
        .unwrap_or(0);
    let shifted_sum_minus_one = shifted.wrapping_sub(1u32 << 31) as i32;
    (
        one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one),
        num_bits_over_unit,
    )
}

#[cfg(test)]
mod transcendental_tests {
    use super::*;

    // Expected values below were produced by gemmlowp's own fixedpoint.h (compiled separately)
    // for the same raw inputs.

    #[test]
    fn gemmlowp_exp_on_negative_values_table() {
        // (integer_bits, raw input, raw Q0.31 output)
        for &(ib, a, want) in &[
            (5, 0, i32::MAX),
            (5, -1, 2147483124),
            (5, i32::MIN, 0),
            (5, -(1 << 26), 790015308), // exp(-1)
            (5, -(1 << 27), 290630390), // exp(-2)
            (5, -(1 << 28), 39332546),  // exp(-4)
            (5, -47232, 2145972278),
            (5, -1298508491, 8),
            (4, i32::MIN, 242), // exp(-16)
            (4, -(1 << 26), 1302515042),
            (4, -228248694, 392080341),
            (8, i32::MIN, 0), // below the -32 clamp
            (8, -(1 << 26), 720401),
            (8, -15835501, 325158650),
        ] {
            assert_eq!(exp_on_negative_values(a, ib), want, "IB {ib}, a {a}");
        }
    }

    #[test]
    fn gemmlowp_exp_on_interval_table() {
        // exp(-1/4) by the Taylor polynomial (the barrel-shifter constant for exp(-1/4) is 1672461947).
        assert_eq!(
            exp_on_interval_between_negative_one_quarter_and_0_excl(-(1 << 29)),
            1672462419
        );
        assert_eq!(
            exp_on_interval_between_negative_one_quarter_and_0_excl(-1),
            2147483155
        );
    }

    #[test]
    fn gemmlowp_one_over_one_plus_x_table() {
        for &(a, want) in &[
            (0, i32::MAX),
            (1, i32::MAX),
            (i32::MAX, 1073741820), // ~1/2
            (1 << 30, 1431655762),  // ~2/3
            (1 << 26, 2082408382),
            (1 << 28, 1908874352),
            (1929226403, 1131227376),
        ] {
            assert_eq!(one_over_one_plus_x_for_x_in_0_1(a), want, "a {a}");
        }
    }

    #[test]
    fn gemmlowp_one_minus_x_over_one_plus_x_table() {
        for &(a, want) in &[
            (0, i32::MAX),
            (i32::MAX, -8),
            (1 << 26, 2017333116),
            (1 << 28, 1670265056),
            (177, 2147483292),
        ] {
            assert_eq!(one_minus_x_over_one_plus_x_for_x_in_0_1(a), want, "a {a}");
        }
    }

    #[test]
    fn gemmlowp_logistic_table() {
        // FixedPoint<int32_t, 4> inputs.
        for &(a, want) in &[
            (0, 1 << 30),
            (1, 1073741948),
            (-1, 1073741699),
            (i32::MIN, 241),
            (i32::MAX, 2147483406),
            (-(1 << 26), 810762557),
            (1 << 26, 1336721090),
            (1 << 28, 1891497262),
            (-(1 << 28), 255986385),
        ] {
            assert_eq!(logistic(a, 4), want, "a {a}");
        }
    }

    #[test]
    fn gemmlowp_tanh_table() {
        // FixedPoint<int32_t, 4> inputs.
        for &(a, want) in &[
            (0, 0),
            (1, 260),
            (-1, -260),
            (i32::MIN, -2147483647),
            (i32::MAX, 2147483647),
            (1 << 26, 992388804),
            (-(1 << 26), -992388804),
            (1 << 28, 2070233436),
            (-241654864, -2033354700),
        ] {
            assert_eq!(tanh(a, 4), want, "a {a}");
        }
    }

    #[test]
    fn gemmlowp_rescale_and_half_sum_table() {
        assert_eq!(saturating_rounding_multiply_by_pot(1 << 29, 2), i32::MAX);
        assert_eq!(
            saturating_rounding_multiply_by_pot((1 << 29) - 1, 2),
            0x7FFF_FFFC
        );
        assert_eq!(saturating_rounding_multiply_by_pot(-(1 << 29), 2), i32::MIN);
        assert_eq!(
            saturating_rounding_multiply_by_pot(-(1 << 29) - 1, 2),
            i32::MIN
        );
        assert_eq!(saturating_rounding_multiply_by_pot(6, -2), 2);
        assert_eq!(saturating_rounding_multiply_by_pot(-6, -2), -2);
        assert_eq!(saturating_rounding_multiply_by_pot(5, 0), 5);
        assert_eq!(rounding_half_sum(1, 2), 2);
        assert_eq!(rounding_half_sum(-1, -2), -2);
        assert_eq!(rounding_half_sum(i32::MAX, i32::MAX), i32::MAX);
    }

    #[test]
    fn tflm_get_reciprocal_table() {
        // 1.0 in Q12.19 → 1/1 with no extra bits (gemmlowp One() = i32::MAX).
        assert_eq!(get_reciprocal(1 << 19, 12), (i32::MAX, 0));
        // 1.5 → 2/3.
        assert_eq!(get_reciprocal(3 << 18, 12), (1431655762, 0));
        // 3.0 → 2/3 with one bit over unit (3 = 1.5 * 2).
        assert_eq!(get_reciprocal(3 << 19, 12), (1431655762, 1));
    }

    #[test]
    fn tflm_preprocess_softmax_scaling_table() {
        // beta 1, input scale 0.1f: real = 6710886.5 = 0.8000000119 * 2^23.
        assert_eq!(
            preprocess_softmax_scaling(1.0, 0.1f32 as f64, 5),
            Some((1717986944, 23))
        );
        // Capped at 2^31 - 1: multiplier 2^31 - 1, shift 31.
        assert_eq!(
            preprocess_softmax_scaling(1.0, 1000.0, 5),
            Some((i32::MAX, 31))
        );
        // TFLM aborts when the product is not above 1.
        assert_eq!(preprocess_softmax_scaling(0.0, 0.1, 5), None);
        assert_eq!(preprocess_softmax_scaling(1.0, 1e-9, 5), None);
    }

    #[test]
    fn tflm_calculate_input_radius_table() {
        assert_eq!(calculate_input_radius(5, 23, 31), 248); // 31 * 2^26 / 2^23
        assert_eq!(calculate_input_radius(5, 31, 31), 0); // floor(31/32)
        assert_eq!(calculate_input_radius(4, 24, 31), 120); // 15 * 2^27 / 2^24
        assert_eq!(calculate_input_radius(4, 0, 31), 2013265920);
        assert_eq!(calculate_input_radius(4, 70, 31), 0);
    }

    #[test]
    fn tflm_multiply_by_quantized_multiplier_greater_than_one_table() {
        // 0.8000000119 * 2^23 applied to -1: -6710886.5; SRDHM rounds negative ties toward zero.
        assert_eq!(
            multiply_by_quantized_multiplier_greater_than_one(-1, 1717986944, 23),
            -6710886
        );
        assert_eq!(
            multiply_by_quantized_multiplier_greater_than_one(0, i32::MAX, 31),
            0
        );
        assert_eq!(quantize_multiplier_greater_than_one(1.0), None);
        assert_eq!(
            quantize_multiplier_greater_than_one(3.0),
            Some((1610612736, 2))
        );
    }
}
