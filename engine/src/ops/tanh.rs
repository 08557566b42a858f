//! TANH, int8 → int8, as TFLM micro's `tanh.cc` and `reference_integer_ops::Tanh`: the same Q4.27
//! input scaling and saturation radius as LOGISTIC, gemmlowp's fixed-point `tanh`, and an output
//! in units of 1/128 with zero point 0 (assumed by TFLM, not checked; the output's own
//! quantization parameters are ignored, as in TFLM). int16 is not implemented.

use super::logistic::{q4_input, q4_input_params, INPUT_INTEGER_BITS};
use super::quantize::{eval_map, same_type_unary, I8};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::{rounding_divide_by_pot, tanh};

/// Prepared parameters (same layout as LOGISTIC's).
pub type Params = super::logistic::Params;

/// Validate and precompute (TFLM `TanhPrepare` / `CalculateArithmeticOpData`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    same_type_unary(ctx, false)?;
    q4_input_params(ctx)
}

/// One element (TFLM `reference_integer_ops::Tanh` for int8).
#[inline(always)]
fn tanh_i8(p: &Params, x: i32) -> i32 {
    match q4_input(p, x) {
        Err(saturated) => saturated,
        // Q0.31 → Q24.7 (units of 1/128).
        Ok(q4) => rounding_divide_by_pot(tanh(q4, INPUT_INTEGER_BITS), 31 - 7).clamp(-128, 127),
    }
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let p = *p;
    eval_map::<I8, I8>(ctx, move |x| tanh_i8(&p, x))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixedpoint::calculate_input_radius;

    #[test]
    fn tanh_int8_table() {
        // scale 0.1f: multiplier 1717986944, shift 24, radius 120 (see logistic's table).
        let p = Params {
            input_zero_point: 0,
            input_range_radius: calculate_input_radius(INPUT_INTEGER_BITS, 24, 31),
            input_multiplier: 1717986944,
            input_left_shift: 24,
        };
        assert_eq!(tanh_i8(&p, 0), 0);
        // tanh(1.0) = 0.76159 → 97.48 of 128 → 97; tanh(-1.0) → -97.
        assert_eq!(tanh_i8(&p, 10), 97);
        assert_eq!(tanh_i8(&p, -10), -97);
        // tanh(3.0) = 0.99505 → 127.37 → 127; saturation at the radius.
        assert_eq!(tanh_i8(&p, 30), 127);
        assert_eq!(tanh_i8(&p, 120), 127);
        assert_eq!(tanh_i8(&p, -128), -128);
    }
}
