//! RELU6 (int8, int16), as TFLM micro's `activations_common.cc`: a clamp of the raw input values
//! to `[input_zero_point, quantized(6.0)]` in the *input's* quantization. TFLM does not requantize
//! to the output's scale here (unlike RELU), so neither does this engine.
//!
//! TFLM micro has no uint8 RELU6; neither does this engine.

use super::quantize::{eval_same_type, same_type_unary, type_range};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// True for int16 tensors, false for int8.
    pub int16: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
    /// Lower bound: the input zero point.
    pub zero: i32,
    /// Upper bound: 6.0 quantized with the input's parameters.
    pub six: i32,
}

/// TFLM `FloatToQuantizedType<T>`: `round(value / scale) + zero_point` (the division in `f32`,
/// rounding half away from zero), clamped to `[lo, hi]`. Quotients beyond `i32` saturate.
fn float_to_quantized(value: f32, scale: f32, zero_point: i32, lo: i32, hi: i32) -> i32 {
    let q = libm::roundf(value / scale) as i32;
    q.saturating_add(zero_point).clamp(lo, hi)
}

/// Validate and precompute (TFLM `Relu6Prepare`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let (input, _, int16) = same_type_unary(ctx, true)?;
    let (lo, hi) = type_range(int16);
    if !input.quant.is_quantized() {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    let zero_point = input.quant.zero_point();
    let six = float_to_quantized(6.0, input.quant.scale(), zero_point, lo, hi);
    // TFLM stores the zero point in the element type.
    let zero = if int16 {
        zero_point as i16 as i32
    } else {
        zero_point as i8 as i32
    };
    Ok(Params {
        _pad: Default::default(),
        int16,
        zero,
        six,
    })
}

/// Compute (TFLM `Relu6Quantized`: `x > six ? six : x < zero ? zero : x`).
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let (zero, six) = (p.zero, p.six);
    // Written as TFLM's nested ternary (not `clamp`), which differs only if six < zero.
    let f = move |x: i32| {
        if x > six {
            six
        } else if x < zero {
            zero
        } else {
            x
        }
    };
    eval_same_type(p.int16, ctx, f)
}

crate::ops::stored::no_uninit!(Params {
    int16: bool,
    _pad: [u8; 3],
    zero: i32,
    six: i32
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::{b_i8, bytes, run_prepared};
    use super::*;
    use crate::model::DType;

    #[test]
    fn float_to_quantized_table() {
        // 6 / 0.05 = 120 (f32 division gives 119.99999 → rounds to 120), + zp -128.
        assert_eq!(float_to_quantized(6.0, 0.05, -128, -128, 127), -8);
        // Half away from zero: 6 / 4 = 1.5 → 2.
        assert_eq!(float_to_quantized(6.0, 4.0, 0, -128, 127), 2);
        // Clamped to the type.
        assert_eq!(float_to_quantized(6.0, 0.01, 0, -128, 127), 127);
    }

    #[test]
    fn relu6_clamps_raw_values() {
        let p = Params {
            _pad: Default::default(),
            int16: false,
            zero: -128,
            six: -8,
        };
        let input = bytes(&[-128, -100, -8, -7, 127]);
        let out = run_prepared(&p, eval, &[&input], &[5]).unwrap();
        assert_eq!(b_i8(&out[0]), [-128, -100, -8, -8, -8]);
    }

    #[test]
    fn prepare_quantizes_six_with_input_params() {
        use crate::model::BuiltinOp;
        use crate::ops::quantize::test_support::*;
        // The output's own quantization is ignored, as in TFLM.
        let p = prepare_unary(
            BuiltinOp::RELU6,
            tensor(DType::I8, &[8], quant(0.05, -128)),
            tensor(DType::I8, &[8], quant(0.3, 7)),
            prepare,
        )
        .unwrap();
        assert_eq!((p.int16, p.zero, p.six), (false, -128, -8));
        let r = prepare_unary(
            BuiltinOp::RELU6,
            tensor(DType::U8, &[8], quant(0.05, 0)),
            tensor(DType::U8, &[8], quant(0.05, 0)),
            prepare,
        );
        assert!(matches!(r, Err(Error::UnsupportedType { .. })));
    }
}
