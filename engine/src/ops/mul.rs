//! MUL, int8, with numpy broadcasting up to rank 6 and a fused activation.
//!
//! Matches TFLM `mul_common.cc` (`CalculateOpDataMul`: one multiplier
//! `s1 * s2 / s_out` in double) and the reference `integer_ops/mul.h`: the product of the two
//! rebased inputs goes through `MultiplyByQuantizedMultiplier`, then the output zero point is
//! added and the activation range applied.

use super::common::prepare_multiplier;
use super::common::{
    binary_int8_operands, eval_binary, fused_activation, output_activation_range, Activation,
    BinaryOperands, Broadcast,
};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::multiply_by_quantized_multiplier;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Broadcast iteration space.
    pub bc: Broadcast,
    /// `-zero_point` of input 1.
    pub in1_offset: i32,
    /// `-zero_point` of input 2.
    pub in2_offset: i32,
    /// Output zero point.
    pub out_offset: i32,
    /// Output multiplier (Q31).
    pub mult: i32,
    /// Output shift (positive = left).
    pub shift: i32,
    /// Activation clamp, quantized.
    pub act_min: i32,
    /// See `act_min`.
    pub act_max: i32,
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let act = fused_activation(ctx, 0)?;
    prepare_with(ctx, act)
}

/// Prepare with the fused activation given explicitly.
pub(crate) fn prepare_with(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    activation: Activation,
) -> Result<Params, Error> {
    let BinaryOperands { a, b, out, bc } = binary_int8_operands(ctx)?;
    let so = out.quant.scale();
    let real = a.quant.scale() as f64 * b.quant.scale() as f64 / so as f64;
    // TFLM `QuantizeMultiplier`: an infinite multiplier (a zero output scale) is refused; zero
    // and negative ones are quantized like any other.
    let (mult, shift) = prepare_multiplier(ctx, real)?;
    let (act_min, act_max) = output_activation_range(ctx, activation, 0)?;
    Ok(Params {
        bc,
        in1_offset: -a.quant.zero_point(),
        in2_offset: -b.quant.zero_point(),
        out_offset: out.quant.zero_point(),
        mult,
        shift,
        act_min,
        act_max,
    })
}

/// One output element (TFLM `MulElementwise` body).
#[inline(always)]
fn mul_elem(p: &Params, x: i8, y: i8) -> i8 {
    // |rebased| <= 255, so the product fits i32 comfortably.
    let prod = (p.in1_offset + x as i32) * (p.in2_offset + y as i32);
    let v = p
        .out_offset
        .wrapping_add(multiply_by_quantized_multiplier(prod, p.mult, p.shift));
    // TFLM: min(max(x, act_min), act_max); a negative output scale gives an empty range.
    v.max(p.act_min).min(p.act_max) as i8
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    eval_binary(&p.bc, ctx, "MUL buffer size", |x, y| {
        mul_elem(p, x as i8, y as i8) as u8
    })
}

crate::ops::stored::no_uninit!(Params {
    bc: Broadcast,
    in1_offset: i32,
    in2_offset: i32,
    out_offset: i32,
    mult: i32,
    shift: i32,
    act_min: i32,
    act_max: i32
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::{BuiltinOp, DType};

    fn mul(a: Operand<'_>, b: Operand<'_>, o: Operand<'_>, act: i8) -> Result<Params, Error> {
        binary(BuiltinOp::MUL, [a, b, o], act, |c, act| {
            prepare_with(c, act)
        })
    }

    #[test]
    fn multiplies_and_rounds() {
        // scales 0.5 * 0.5 / 0.25 = 1: out = (x - 1) * (y + 2) exactly, saturated.
        let p = mul((&[4], 0.5, 1), (&[4], 0.5, -2), (&[4], 0.25, 0), 0).unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[&bytes(&[3, -1, 100, 1]), &bytes(&[1, -4, 100, 50])],
            &[4],
        )
        .unwrap();
        assert_eq!(b_i8(&out[0]), [6, 4, 127, 0]);
        // multiplier 1/4: 6/4 = 1.5 -> 2, -6/4 = -1.5 -> -2, 2/4 = 0.5 -> 1 (ties away from zero).
        let p = mul((&[3], 0.5, 0), (&[3], 0.5, 0), (&[3], 1.0, 0), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[2, -2, 1]), &bytes(&[3, 3, 2])], &[3]).unwrap();
        assert_eq!(b_i8(&out[0]), [2, -2, 1]);
    }

    #[test]
    fn broadcast_channels_with_relu_n1_to_1() {
        // a [2,2] * b [2] (per-column), out scale 1: RELU_N1_TO_1 clamps to [-1, 1].
        let p = mul((&[2, 2], 1.0, 0), (&[2], 1.0, 0), (&[2, 2], 1.0, 0), 2).unwrap();
        let out =
            run_prepared(&p, eval, &[&bytes(&[1, 2, -3, 0]), &bytes(&[1, -1])], &[4]).unwrap();
        assert_eq!(b_i8(&out[0]), [1, -1, -1, 0]);
    }

    #[test]
    fn outer_product_broadcast() {
        // a [3,1] * b [1,2] -> [3,2].
        let p = mul((&[3, 1], 1.0, 0), (&[1, 2], 1.0, 0), (&[3, 2], 1.0, 0), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[1, 2, -3]), &bytes(&[5, -7])], &[6]).unwrap();
        assert_eq!(b_i8(&out[0]), [5, -7, 10, -14, -15, 21]);
    }

    #[test]
    fn scale_values_follow_tflm_quantize_multiplier() {
        // A zero input scale: multiplier 0, every output is the output zero point (TFLM runs it).
        let p = mul((&[2], 0.0, 0), (&[2], 1.0, 0), (&[2], 1.0, 5), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[3, -7]), &bytes(&[2, 9])], &[2]).unwrap();
        assert_eq!(b_i8(&out[0]), [5, 5]);
        // A negative one: frexp(-1) = (-0.5, 1), multiplier -2^30, shift 1: 3 * 2 -> -6.
        let p = mul((&[1], -1.0, 0), (&[1], 1.0, 0), (&[1], 1.0, 0), 0).unwrap();
        assert_eq!((p.mult, p.shift), (-(1 << 30), 1));
        let out = run_prepared(&p, eval, &[&bytes(&[3]), &bytes(&[2])], &[1]).unwrap();
        assert_eq!(b_i8(&out[0]), [-6]);
        // A zero output scale: an infinite multiplier, where TFLM's QuantizeMultiplier aborts.
        assert!(mul((&[1], 1.0, 0), (&[1], 1.0, 0), (&[1], 0.0, 0), 0).is_err());
        // Several scales on an activation: refused (no TFLM kernel reads them per channel).
        let ins = [
            tensor(DType::I8, &[2], &[1.0, 2.0], &[0, 0], 0),
            i8t(&[2], 1.0, 0),
        ];
        assert!(with_ctx(BuiltinOp::MUL, &ins, &[i8t(&[2], 1.0, 0)], |c| {
            prepare_with(c, Activation::None)
        })
        .is_err());
    }
}
