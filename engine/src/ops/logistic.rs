//! LOGISTIC, int8 → int8, as TFLM micro: `logistic_common.cc` prepares (input rescaled to Q4.27
//! with a multiplier from `frexp`, and `CalculateInputRadius` beyond which the output saturates),
//! `reference_integer_ops::Logistic` computes with gemmlowp's fixed-point `logistic`.
//!
//! TFLM requires the output zero point to be -128 and assumes (without checking) an output scale
//! of 1/256; so does this engine. TFLM micro has no uint8 LOGISTIC; int16 is not implemented.

use super::quantize::{eval_map, same_type_unary, I8};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::{
    calculate_input_radius, logistic, multiply_by_quantized_multiplier, rounding_divide_by_pot,
};

/// Integer bits of the rescaled input (TFLM `kInputIntegerBits`, shared with TANH).
pub(crate) const INPUT_INTEGER_BITS: i32 = 4;

/// Prepared parameters (TFLM `OpDataLogistic` for int8; TANH's int8 `OpData` is the same).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Input zero point.
    pub input_zero_point: i32,
    /// Inputs (minus zero point) at or beyond ±this saturate the output.
    pub input_range_radius: i32,
    /// Q31 multiplier taking the input to Q4.27.
    pub input_multiplier: i32,
    /// Shift for `input_multiplier` (positive = left).
    pub input_left_shift: i32,
}

/// The int8 input scaling TFLM's LOGISTIC and TANH share: `input_scale * 2^27` in `f64` split by
/// `frexp` into a Q31 multiplier (rounded half away from zero, *without* QuantizeMultiplier's
/// renormalisation) and a shift, plus `CalculateInputRadius(4, shift, 31)`.
///
/// A negative shift (input scale below 2^-28) makes TFLM's radius computation UB; such a scale
/// is rejected. Requires the input to be quantized.
pub(crate) fn q4_input_params(ctx: &PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let input = ctx.input(0)?;
    let scale = input.quant.scale();
    if !input.quant.is_quantized() || !scale.is_finite() || scale <= 0.0 {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    let real = scale as f64 * (1i64 << (31 - INPUT_INTEGER_BITS)) as f64;
    let (q, shift) = libm::frexp(real);
    if shift < 0 {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    // q comes from an f32 scale (24-bit mantissa), so q * 2^31 is an integer below 2^31.
    let input_multiplier = libm::round(q * (1i64 << 31) as f64) as i64 as i32;
    let input_range_radius = calculate_input_radius(INPUT_INTEGER_BITS, shift, 31);
    Ok(Params {
        input_zero_point: input.quant.zero_point(),
        input_range_radius,
        input_multiplier,
        input_left_shift: shift,
    })
}

/// Validate and precompute (TFLM `LogisticPrepare` / `CalculateArithmeticOpDataLogistic`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let (_, output, _) = same_type_unary(ctx, false)?;
    if output.quant.zero_point() != -128 {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    q4_input_params(ctx)
}

/// The int8 input `x` in Q4.27 (`Ok`), or the saturated output (`Err(-128)` / `Err(127)`) at
/// or beyond the input range radius: the start of TFLM's int8 `Logistic` and `Tanh` alike.
#[inline(always)]
pub(crate) fn q4_input(p: &Params, x: i32) -> Result<i32, i32> {
    let input = x.wrapping_sub(p.input_zero_point);
    if input <= -p.input_range_radius {
        Err(-128)
    } else if input >= p.input_range_radius {
        Err(127)
    } else {
        // Within the radius the shifted input stays below 15 * 2^27 in magnitude: no overflow.
        Ok(multiply_by_quantized_multiplier(
            input,
            p.input_multiplier,
            p.input_left_shift,
        ))
    }
}

/// One element (TFLM `reference_integer_ops::Logistic` for int8).
#[inline(always)]
fn logistic_i8(p: &Params, x: i32) -> i32 {
    match q4_input(p, x) {
        Err(saturated) => saturated,
        Ok(input_in_q4) => {
            let output_in_q0 = logistic(input_in_q4, INPUT_INTEGER_BITS);
            // Q0.31 → Q23.8 (units of 1/256), then the output zero point -128.
            let output_in_q23 = rounding_divide_by_pot(output_in_q0, 31 - 8);
            (output_in_q23 - 128).clamp(-128, 127)
        }
    }
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let p = *p;
    eval_map::<I8, I8>(ctx, move |x| logistic_i8(&p, x))
}

crate::ops::stored::no_uninit!(Params {
    input_zero_point: i32,
    input_range_radius: i32,
    input_multiplier: i32,
    input_left_shift: i32
});

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DType;

    fn params(scale: f32, zp: i32) -> Params {
        let (q, shift) = libm::frexp(scale as f64 * (1u64 << 27) as f64);
        Params {
            input_zero_point: zp,
            input_range_radius: calculate_input_radius(INPUT_INTEGER_BITS, shift, 31),
            input_multiplier: libm::round(q * (1u64 << 31) as f64) as i32,
            input_left_shift: shift,
        }
    }

    #[test]
    fn tflm_logistic_prepare_table() {
        // scale 0.1f: 0.1f * 2^27 = 0.80000001 * 2^24; radius floor(15 * 2^27 / 2^24) = 120.
        let p = params(0.1, 0);
        assert_eq!(
            (p.input_multiplier, p.input_left_shift, p.input_range_radius),
            (1717986944, 24, 120)
        );
    }

    #[test]
    fn logistic_int8_table() {
        let p = params(0.1, 0);
        // 0 → 0.5 → 128/256 → 0; radius 120 saturates at ±120.
        assert_eq!(logistic_i8(&p, 0), 0);
        assert_eq!(logistic_i8(&p, 120), 127);
        assert_eq!(logistic_i8(&p, -120), -128);
        // x = 1.0: sigmoid 0.7311 → 187.16 → 187 - 128 = 59; x = -1.0 → 68.84 → 69 - 128 = -59.
        assert_eq!(logistic_i8(&p, 10), 59);
        assert_eq!(logistic_i8(&p, -10), -59);
        // Zero point is subtracted first.
        let p = params(0.1, -20);
        assert_eq!(logistic_i8(&p, -10), 59);
    }

    #[test]
    fn prepare_checks_like_tflm() {
        use crate::model::BuiltinOp;
        use crate::ops::quantize::test_support::*;
        // alexa's LOGISTIC: input (0.18955581, 24) → radius 60 at shift 25.
        let p = prepare_unary(
            BuiltinOp::LOGISTIC,
            tensor(DType::I8, &[1, 1], quant(0.18955581, 24)),
            tensor(DType::I8, &[1, 1], quant(1.0 / 256.0, -128)),
            prepare,
        )
        .unwrap();
        assert_eq!(
            (
                p.input_zero_point,
                p.input_range_radius,
                p.input_multiplier,
                p.input_left_shift
            ),
            (24, 60, 1628272000, 25)
        );
        // Output zero point must be -128.
        let r = prepare_unary(
            BuiltinOp::LOGISTIC,
            tensor(DType::I8, &[4], quant(0.1, 0)),
            tensor(DType::I8, &[4], quant(1.0 / 256.0, 0)),
            prepare,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
        // uint8 is not supported by TFLM micro.
        let r = prepare_unary(
            BuiltinOp::LOGISTIC,
            tensor(DType::U8, &[4], quant(0.1, 128)),
            tensor(DType::U8, &[4], quant(1.0 / 256.0, 0)),
            prepare,
        );
        assert!(matches!(r, Err(Error::UnsupportedType { .. })));
    }
}
