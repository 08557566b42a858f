//! Fused activations: TFLM's `CalculateActivationRangeQuantized` and friends.

use super::*;

// ---------------------------------------------------------------------------------------------
// Fused activations
// ---------------------------------------------------------------------------------------------

/// A fused activation (schema `ActivationFunctionType`), limited to those TFLM's integer
/// kernels clamp for; `TANH` and `SIGN_BIT` are rejected rather than silently ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `NONE` (0)
    None,
    /// `RELU` (1)
    Relu,
    /// `RELU_N1_TO_1` (2)
    ReluN1To1,
    /// `RELU6` (3)
    Relu6,
}

impl Activation {
    /// From the schema byte; `None` for anything this engine does not fuse.
    pub fn from_schema(v: i8) -> Option<Activation> {
        match v {
            0 => Some(Activation::None),
            1 => Some(Activation::Relu),
            2 => Some(Activation::ReluN1To1),
            3 => Some(Activation::Relu6),
            _ => None,
        }
    }
}

/// Read the `fused_activation_function` option at `slot` (default `NONE`).
pub fn fused_activation(ctx: &PrepareCtx<'_, '_, '_>, slot: usize) -> Result<Activation, Error> {
    let v = ctx.options.i8(slot, 0)?;
    Activation::from_schema(v).ok_or(ctx.bad_option("fused activation function"))
}

/// TFLM `Quantize` (kernel_util.cc): `zero_point + round(f / scale)`, all in `f32` as TFLM
/// does; `None` if the rounded value does not fit `i32` (or is NaN).
fn quantize_f32(scale: f32, zero_point: i32, f: f32) -> Option<i64> {
    let t = libm::roundf(f / scale);
    // TFLM compares against (float)INT32_MIN / (float)INT32_MAX; the latter rounds up to 2^31.
    if !(-2_147_483_648.0f32..=2_147_483_648.0f32).contains(&t) {
        return None;
    }
    Some(zero_point as i64 + t as i64)
}

/// TFLM `CalculateActivationRangeQuantized`: the `[min, max]` clamp for a quantized output of
/// type `dtype` (int8, uint8 or int16) with the given scale and zero point. `None` when the
/// type is not quantizable or a bound does not fit `i32` (TFLM fails Prepare then).
pub fn activation_range_quantized(
    act: Activation,
    dtype: DType,
    scale: f32,
    zero_point: i32,
) -> Option<(i32, i32)> {
    let (qmin, qmax): (i64, i64) = match dtype {
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::U8 => (0, u8::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        _ => return None,
    };
    let (lo, hi) = match act {
        Activation::None => (qmin, qmax),
        Activation::Relu => (qmin.max(quantize_f32(scale, zero_point, 0.0)?), qmax),
        Activation::Relu6 => (
            qmin.max(quantize_f32(scale, zero_point, 0.0)?),
            qmax.min(quantize_f32(scale, zero_point, 6.0)?),
        ),
        Activation::ReluN1To1 => (
            qmin.max(quantize_f32(scale, zero_point, -1.0)?),
            qmax.min(quantize_f32(scale, zero_point, 1.0)?),
        ),
    };
    // Both bounds lie in [qmin, qmax] except when the zero point alone pushes one outside; TFLM
    // then produces an empty range (min > max) which clamps everything to max. Keep that.
    Some((clamp_i32(lo), clamp_i32(hi)))
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// [`activation_range_quantized`] for operator output `pos`, with the error TFLM's failure maps to.
pub fn output_activation_range(
    ctx: &PrepareCtx<'_, '_, '_>,
    act: Activation,
    pos: usize,
) -> Result<(i32, i32), Error> {
    let out = ctx.output(pos)?;
    activation_range_quantized(act, out.dtype, out.quant.scale(), out.quant.zero_point())
        .ok_or(ctx.bad_quant(ctx.output_index(pos)))
}
