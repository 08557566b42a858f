//! RELU (int8, int16), as TFLM micro's `activations_common.cc`: the input is requantized to the
//! output's scale and zero point (`MultiplyByQuantizedMultiplier` with `input_scale /
//! output_scale`), then clamped to `[max(type_min, output_zero_point), type_max]`.
//!
//! TFLM micro has no uint8 RELU; neither does this engine.

use super::common::prepare_multiplier;
use super::quantize::{eval_same_type, same_type_unary, type_range};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::multiply_by_quantized_multiplier;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// True for int16 tensors, false for int8.
    pub int16: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
    /// Input zero point.
    pub input_offset: i32,
    /// Output zero point.
    pub output_offset: i32,
    /// Multiplier for `input_scale / output_scale`.
    pub multiplier: i32,
    /// Shift for `input_scale / output_scale` (positive = left).
    pub shift: i32,
    /// Lower clamp: `max(type_min, output_zero_point)`.
    pub act_min: i32,
    /// Upper clamp: the type's maximum.
    pub act_max: i32,
}

/// Validate and precompute (TFLM `ReluPrepare` / `CalculateReluOpData`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let (input, output, int16) = same_type_unary(ctx, true)?;
    let (type_min, type_max) = type_range(int16);
    if !input.quant.is_quantized() {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    if !output.quant.is_quantized() {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    let (input_offset, output_offset) = (input.quant.zero_point(), output.quant.zero_point());
    if int16 && input_offset != 0 {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    if int16 && output_offset != 0 {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    // TFLM: f32 scales widened to f64, divided, then QuantizeMultiplier.
    let (multiplier, shift) = prepare_multiplier(
        ctx,
        input.quant.scale() as f64 / output.quant.scale() as f64,
    )?;
    // TFLM adds `roundf(0.0f / output_scale)` (0 for any positive scale) to the zero point;
    // the upper bound is the type maximum because RELU's act_max is +inf.
    let act_min = type_min.max(output_offset);
    Ok(Params {
        _pad: Default::default(),
        int16,
        input_offset,
        output_offset,
        multiplier,
        shift,
        act_min,
        act_max: type_max,
    })
}

/// Compute (TFLM `ReluQuantized`).
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let p = *p;
    let f = move |x: i32| {
        let v = p
            .output_offset
            .wrapping_add(multiply_by_quantized_multiplier(
                x.wrapping_sub(p.input_offset),
                p.multiplier,
                p.shift,
            ));
        v.max(p.act_min).min(p.act_max)
    };
    eval_same_type(p.int16, ctx, f)
}

crate::ops::stored::no_uninit!(Params {
    int16: bool,
    _pad: [u8; 3],
    input_offset: i32,
    output_offset: i32,
    multiplier: i32,
    shift: i32,
    act_min: i32,
    act_max: i32
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::{b_i8, bytes, run_prepared};
    use super::*;
    use crate::fixedpoint::quantize_multiplier;
    use crate::model::DType;
    use std::vec::Vec;

    /// Int8 RELU of `input` with the multiplier of `real` (input scale / output scale) and the
    /// given offsets; the clamp starts at the output zero point (real 0), as prepare sets it.
    fn relu_i8(real: f64, input_offset: i32, output_offset: i32, input: &[i8]) -> Vec<i8> {
        let (multiplier, shift) = quantize_multiplier(real);
        let p = Params {
            _pad: Default::default(),
            int16: false,
            input_offset,
            output_offset,
            multiplier,
            shift,
            act_min: output_offset,
            act_max: 127,
        };
        let out = run_prepared(&p, eval, &[&bytes(input)], &[input.len()]).unwrap();
        b_i8(&out[0])
    }

    #[test]
    fn relu_same_scale_clamps_at_output_zero_point() {
        assert_eq!(
            relu_i8(1.0, -10, -10, &[-128, -11, -10, -9, 0, 127]),
            [-10, -10, -10, -9, 0, 127]
        );
    }

    #[test]
    fn relu_requantizes_to_output_scale() {
        // input scale 0.5 zp 0 → output scale 1 zp -128: (x * 0.5 rounded) - 128, floor at -128.
        // SRDHM halves with ties away from zero for positives: 3 → 2, 5 → 3; 127 → 64.
        assert_eq!(
            relu_i8(0.5, 0, -128, &[-5, 0, 3, 5, 127]),
            [-128, -128, -126, -125, -64]
        );
    }

    #[test]
    fn prepare_computes_requantization() {
        use crate::model::BuiltinOp;
        use crate::ops::quantize::test_support::*;
        let p = prepare_unary(
            BuiltinOp::RELU,
            tensor(DType::I8, &[8], quant(0.5, 3)),
            tensor(DType::I8, &[8], quant(1.0, -20)),
            prepare,
        )
        .unwrap();
        assert_eq!(
            (
                p.multiplier,
                p.shift,
                p.input_offset,
                p.output_offset,
                p.act_min,
                p.act_max
            ),
            (1 << 30, 0, 3, -20, -20, 127)
        );
        // int16 needs zero points of 0.
        let r = prepare_unary(
            BuiltinOp::RELU,
            tensor(DType::I16, &[8], quant(0.5, 3)),
            tensor(DType::I16, &[8], quant(0.5, 0)),
            prepare,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    }
}
