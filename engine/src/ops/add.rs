//! ADD, int8, with numpy broadcasting up to rank 6 and a fused activation.
//!
//! Matches TFLM `add_common.cc` (`CalculateOpDataAdd`) and the reference
//! `integer_ops/add.h` `AddFunc`: both inputs are rebased by their zero points, shifted left by
//! 20 bits, scaled to a common scale (`scale_i / (2 * max_scale)`), summed, and rescaled to the
//! output (`2 * max_scale / (2^20 * out_scale)`), each step with TFLM's `SmallerThanOneExp`
//! rounding. SUB shares this machinery (see `sub.rs`).

use super::common::{
    binary_int8_operands, eval_binary, fused_activation, output_activation_range, Activation,
    BinaryOperands, Broadcast,
};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::{
    quantize_multiplier, rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};

/// Prepared parameters (shared with SUB).
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
    /// Left shift applied to both rebased inputs (20 for int8).
    pub left_shift: i32,
    /// Input 1 multiplier (Q31) and right shift (`<= 0`).
    pub in1_mult: i32,
    /// See `in1_mult`.
    pub in1_shift: i32,
    /// Input 2 multiplier and shift.
    pub in2_mult: i32,
    /// See `in2_mult`.
    pub in2_shift: i32,
    /// Output multiplier and shift.
    pub out_mult: i32,
    /// See `out_mult`.
    pub out_shift: i32,
    /// Activation clamp, quantized.
    pub act_min: i32,
    /// See `act_min`.
    pub act_max: i32,
    /// True for SUB (`input1 - input2`).
    pub subtract: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
}

/// TFLM `QuantizeMultiplierSmallerThanOneExp`: like `QuantizeMultiplier`, but the real value must
/// lie in (0, 1) and the resulting shift must be `<= 0` (TFLM aborts otherwise; we refuse).
pub(crate) fn quantize_multiplier_smaller_than_one(real: f64) -> Option<(i32, i32)> {
    if !(real > 0.0 && real < 1.0) {
        return None;
    }
    let (m, s) = quantize_multiplier(real);
    if s > 0 {
        return None;
    }
    Some((m, s))
}

/// TFLM `MultiplyByQuantizedMultiplierSmallerThanOneExp` (`shift` in `-31..=0`).
#[inline(always)]
fn mul_smaller_than_one(x: i32, mult: i32, shift: i32) -> i32 {
    rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, mult), -shift)
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let act = fused_activation(ctx, 0)?;
    prepare_with(ctx, act, false)
}

/// Shared ADD/SUB prepare with the fused activation given explicitly.
pub(crate) fn prepare_with(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    activation: Activation,
    subtract: bool,
) -> Result<Params, Error> {
    let BinaryOperands { a, b, out, bc } = binary_int8_operands(ctx)?;
    let (s1, s2, so) = (a.quant.scale(), b.quant.scale(), out.quant.scale());
    let left_shift = 20;
    // In double, for SUB as for ADD: some TFLM sources compute SUB's in float, but the oracle
    // build (tflite-micro 8f6596d) converts both scales to double first (checked in its binary).
    let twice = 2.0 * s1.max(s2) as f64;
    let (r1, r2, ro) = (
        s1 as f64 / twice,
        s2 as f64 / twice,
        twice / ((1i32 << left_shift) as f64 * so as f64),
    );
    let oi = ctx.output_index(0);
    let (in1_mult, in1_shift) =
        quantize_multiplier_smaller_than_one(r1).ok_or(ctx.bad_quant(ctx.input_index(0)))?;
    let (in2_mult, in2_shift) =
        quantize_multiplier_smaller_than_one(r2).ok_or(ctx.bad_quant(ctx.input_index(1)))?;
    let (out_mult, out_shift) =
        quantize_multiplier_smaller_than_one(ro).ok_or(ctx.bad_quant(oi))?;
    let (act_min, act_max) = output_activation_range(ctx, activation, 0)?;
    Ok(Params {
        _pad: Default::default(),
        bc,
        in1_offset: -a.quant.zero_point(),
        in2_offset: -b.quant.zero_point(),
        out_offset: out.quant.zero_point(),
        left_shift,
        in1_mult,
        in1_shift,
        in2_mult,
        in2_shift,
        out_mult,
        out_shift,
        act_min,
        act_max,
        subtract,
    })
}

/// One output element: TFLM `AddFunc` / the SUB lambda of `BroadcastQuantSubSlow`.
#[inline(always)]
pub(crate) fn add_sub_elem(p: &Params, x: i8, y: i8) -> i8 {
    // |offset + x| <= 255, so the 20-bit shift stays inside i32.
    let s1 = (p.in1_offset + x as i32) << p.left_shift;
    let s2 = (p.in2_offset + y as i32) << p.left_shift;
    let v1 = mul_smaller_than_one(s1, p.in1_mult, p.in1_shift);
    let v2 = mul_smaller_than_one(s2, p.in2_mult, p.in2_shift);
    let raw = if p.subtract {
        v1.wrapping_sub(v2)
    } else {
        v1.wrapping_add(v2)
    };
    let out = mul_smaller_than_one(raw, p.out_mult, p.out_shift).wrapping_add(p.out_offset);
    // TFLM: min(max(x, act_min), act_max), which never panics on an empty range.
    out.max(p.act_min).min(p.act_max) as i8
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    eval_binary(&p.bc, ctx, "ADD/SUB buffer size", |x, y| {
        add_sub_elem(p, x as i8, y as i8) as u8
    })
}

crate::ops::stored::no_uninit!(Params {
    bc: Broadcast,
    in1_offset: i32,
    in2_offset: i32,
    out_offset: i32,
    left_shift: i32,
    in1_mult: i32,
    in1_shift: i32,
    in2_mult: i32,
    in2_shift: i32,
    out_mult: i32,
    out_shift: i32,
    act_min: i32,
    act_max: i32,
    subtract: bool,
    _pad: [u8; 3]
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::{BuiltinOp, DType};

    fn add(a: Operand<'_>, b: Operand<'_>, o: Operand<'_>, act: i8) -> Result<Params, Error> {
        binary(BuiltinOp::ADD, [a, b, o], act, |c, act| {
            prepare_with(c, act, false)
        })
    }

    #[test]
    fn same_scale_adds_exactly() {
        // All scales 0.5, zero points 0: real sums are exact, output = x + y saturated.
        let p = add((&[4], 0.5, 0), (&[4], 0.5, 0), (&[4], 0.5, 0), 0).unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[&bytes(&[1, -3, 100, -100]), &bytes(&[2, -4, 100, -100])],
            &[4],
        )
        .unwrap();
        assert_eq!(b_i8(&out[0]), [3, -7, 127, -128]);
    }

    #[test]
    fn zero_points_and_rounding() {
        // a: scale 1, zp 10; b: scale 1, zp -5; out: scale 2, zp 3.
        // real = (x-10) + (y+5); q = round(real/2) + 3, ties away from zero.
        let p = add((&[3], 1.0, 10), (&[3], 1.0, -5), (&[3], 2.0, 3), 0).unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[&bytes(&[11, 10, 0]), &bytes(&[-5, -4, -6])],
            &[3],
        )
        .unwrap();
        // real: 1 -> 0.5 -> 1 (+3 = 4); 1 -> 4; -10 + -1 = -11 -> -5.5 -> -6 (+3 = -3).
        assert_eq!(b_i8(&out[0]), [4, 4, -3]);
    }

    #[test]
    fn broadcasting_rank3_and_relu() {
        // a [2,1,3] + b [2,1] -> [2,2,3]; all scale 1 zp 0; RELU clamps negatives at 0.
        let p = add(
            (&[2, 1, 3], 1.0, 0),
            (&[2, 1], 1.0, 0),
            (&[2, 2, 3], 1.0, 0),
            1,
        )
        .unwrap();
        let a = bytes(&[1, 2, 3, -10, -20, -30]);
        let b = bytes(&[10, -2]);
        let out = run_prepared(&p, eval, &[&a, &b], &[12]).unwrap();
        assert_eq!(b_i8(&out[0]), [11, 12, 13, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn scalar_broadcast_both_sides() {
        let p = add((&[], 1.0, 0), (&[2, 2], 1.0, 0), (&[2, 2], 1.0, 0), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[5]), &bytes(&[1, 2, 3, 4])], &[4]).unwrap();
        assert_eq!(b_i8(&out[0]), [6, 7, 8, 9]);
        let p = add((&[2, 2], 1.0, 0), (&[1], 1.0, 0), (&[2, 2], 1.0, 0), 3).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[1, 2, 3, -9]), &bytes(&[4])], &[4]).unwrap();
        // RELU6 at scale 1: clamp to [0, 6].
        assert_eq!(b_i8(&out[0]), [5, 6, 6, 0]);
    }

    #[test]
    fn rejects_bad_shapes_and_types() {
        assert!(add((&[3], 1.0, 0), (&[2], 1.0, 0), (&[3], 1.0, 0), 0).is_err());
        assert!(add((&[3], 1.0, 0), (&[3], 1.0, 0), (&[2, 3], 1.0, 0), 0).is_err());
        // Leading 1s on the output are accepted, as TFLM extends every shape to the largest rank.
        let p = add((&[3], 1.0, 0), (&[1], 1.0, 0), (&[1, 3], 1.0, 0), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[1, 2, 3]), &bytes(&[-1])], &[3]).unwrap();
        assert_eq!(b_i8(&out[0]), [0, 1, 2]);
        let ins = [qt(DType::U8, &[2], 1.0, 0), qt(DType::U8, &[2], 1.0, 0)];
        let outs = [qt(DType::U8, &[2], 1.0, 0)];
        assert!(with_ctx(BuiltinOp::ADD, &ins, &outs, |ctx| prepare_with(
            ctx,
            Activation::None,
            false
        ))
        .is_err());
    }

    #[test]
    fn scales_outside_smaller_than_one_exp_are_refused() {
        // TFLM's QuantizeMultiplierSmallerThanOneExp aborts unless 0 < multiplier < 1: a zero
        // or negative input scale, a zero output scale.
        assert!(add((&[1], 0.0, 0), (&[1], 1.0, 0), (&[1], 1.0, 0), 0).is_err());
        assert!(add((&[1], -1.0, 0), (&[1], 1.0, 0), (&[1], 1.0, 0), 0).is_err());
        assert!(add((&[1], 1.0, 0), (&[1], 1.0, 0), (&[1], 0.0, 0), 0).is_err());
    }

    #[test]
    fn params_stay_small() {
        use super::super::{concatenation, mean, mul, pad, split, split_v, strided_slice};
        use core::mem::size_of;
        let sizes = [
            size_of::<Params>(),
            size_of::<mul::Params>(),
            size_of::<mean::Params>(),
            size_of::<pad::Params>(),
            size_of::<concatenation::Params>(),
            size_of::<strided_slice::Params>(),
            size_of::<split::Params>(),
            size_of::<split_v::Params>(),
        ];
        assert!(sizes.iter().all(|&s| s <= 96), "{sizes:?}");
    }
}
