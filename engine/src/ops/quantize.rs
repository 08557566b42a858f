//! QUANTIZE: float → int8/int16 (TFLM `reference_ops::AffineQuantize`) and integer
//! requantization between int8/uint8/int16/int32 (TFLM `reference_ops::Requantize`), as TFLM
//! micro's `quantize_common.cc` prepares and dispatches them.
//!
//! Also home of [`Elem`], the little-endian integer element access the other elementwise
//! kernels of this family (RELU, RELU6, LOGISTIC, TANH, DEQUANTIZE) share, and of their eval
//! prelude ([`eval_map`], [`eval_same_type`]).

use super::common::prepare_multiplier;
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::multiply_by_quantized_multiplier;
use crate::model::DType;

/// An integer tensor element type: size, range, and little-endian load/store via `i32`.
pub(crate) trait Elem {
    /// Bytes per element.
    const SIZE: usize;
    /// Smallest value, as `i32`.
    const MIN: i32;
    /// Largest value, as `i32`.
    const MAX: i32;
    /// Read one element from exactly `SIZE` bytes.
    fn load(b: &[u8]) -> i32;
    /// Write `v` (already in range; truncated like a C++ `static_cast`) into exactly `SIZE` bytes.
    fn store(v: i32, b: &mut [u8]);
}

/// `int8_t`.
pub(crate) struct I8;
/// `uint8_t`.
pub(crate) struct U8;
/// `int16_t`.
pub(crate) struct I16;
/// `int32_t`.
pub(crate) struct I32;

/// `Elem` for a one-byte type: the byte reinterpreted as `$t` (`static_cast` both ways).
macro_rules! byte_elem {
    ($($name:ident: $t:ty),*) => {$(
        impl Elem for $name {
            const SIZE: usize = 1;
            const MIN: i32 = <$t>::MIN as i32;
            const MAX: i32 = <$t>::MAX as i32;
            #[inline(always)]
            fn load(b: &[u8]) -> i32 {
                b.first().map_or(0, |&x| x as $t as i32)
            }
            #[inline(always)]
            fn store(v: i32, b: &mut [u8]) {
                if let Some(x) = b.first_mut() {
                    *x = v as $t as u8;
                }
            }
        }
    )*};
}
byte_elem!(I8: i8, U8: u8);

impl Elem for I16 {
    const SIZE: usize = 2;
    const MIN: i32 = i16::MIN as i32;
    const MAX: i32 = i16::MAX as i32;
    #[inline(always)]
    fn load(b: &[u8]) -> i32 {
        match b {
            [a, c] => i16::from_le_bytes([*a, *c]) as i32,
            _ => 0,
        }
    }
    #[inline(always)]
    fn store(v: i32, b: &mut [u8]) {
        if b.len() == 2 {
            b.copy_from_slice(&(v as i16).to_le_bytes());
        }
    }
}

impl Elem for I32 {
    const SIZE: usize = 4;
    const MIN: i32 = i32::MIN;
    const MAX: i32 = i32::MAX;
    #[inline(always)]
    fn load(b: &[u8]) -> i32 {
        match b {
            [a, c, d, e] => i32::from_le_bytes([*a, *c, *d, *e]),
            _ => 0,
        }
    }
    #[inline(always)]
    fn store(v: i32, b: &mut [u8]) {
        if b.len() == 4 {
            b.copy_from_slice(&v.to_le_bytes());
        }
    }
}

/// Apply `f` to every element of `input` (type `In`) and store the results into `output`
/// (type `Out`), pairing elements in order. The interpreter sizes both buffers as prepared.
#[inline(always)]
pub(crate) fn map_elems<In: Elem, Out: Elem>(
    input: &[u8],
    output: &mut [u8],
    f: impl Fn(i32) -> i32,
) {
    for (i, o) in input
        .chunks_exact(In::SIZE)
        .zip(output.chunks_exact_mut(Out::SIZE))
    {
        Out::store(f(In::load(i)), o);
    }
}

/// The value range of int16 (`int16`) or int8 elements.
pub(crate) fn type_range(int16: bool) -> (i32, i32) {
    if int16 {
        (i16::MIN as i32, i16::MAX as i32)
    } else {
        (i8::MIN as i32, i8::MAX as i32)
    }
}

/// Eval of an element-wise kernel: [`map_elems`] from input 0 (type `In`) into output 0 (type
/// `Out`).
#[inline(always)]
pub(crate) fn eval_map<In: Elem, Out: Elem>(
    ctx: &mut EvalCtx<'_, '_>,
    f: impl Fn(i32) -> i32,
) -> Result<(), Error> {
    let input = ctx.input(0);
    let output = output0(ctx)?;
    map_elems::<In, Out>(input, output, f);
    Ok(())
}

/// [`eval_map`] from a type to itself: int16 elements if `int16`, else int8.
pub(crate) fn eval_same_type(
    int16: bool,
    ctx: &mut EvalCtx<'_, '_>,
    f: impl Fn(i32) -> i32,
) -> Result<(), Error> {
    if int16 {
        eval_map::<I16, I16>(ctx, f)
    } else {
        eval_map::<I8, I8>(ctx, f)
    }
}

/// Output 0's bytes in eval (the interpreter always provides it).
#[inline]
pub(crate) fn output0<'o, 'b>(ctx: &'o mut EvalCtx<'_, 'b>) -> Result<&'o mut [u8], Error> {
    match ctx.outputs.get_mut(0) {
        Some(o) => Ok(&mut **o),
        None => Err(Error::InvalidGraph {
            what: "missing operator output",
            index: 0,
        }),
    }
}

/// [`check_unary`], then the input and output of an op whose output has the input's type:
/// int8, or int16 too when `allow_i16`. Returns them and whether they are int16.
pub(crate) fn same_type_unary<'m>(
    ctx: &PrepareCtx<'_, 'm, '_>,
    allow_i16: bool,
) -> Result<(crate::model::Tensor<'m>, crate::model::Tensor<'m>, bool), Error> {
    check_unary(ctx)?;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let int16 = match input.dtype {
        DType::I8 => false,
        DType::I16 if allow_i16 => true,
        _ => return Err(ctx.bad_input_type(0)),
    };
    if output.dtype != input.dtype {
        return Err(ctx.bad_output_type(0));
    }
    Ok((input, output, int16))
}

/// Checks shared by the one-input, one-output elementwise kernels of this family: operand
/// counts and equal element counts (TFLM's `MatchingFlatSize`). Returns the element count.
pub(crate) fn check_unary(ctx: &PrepareCtx<'_, '_, '_>) -> Result<u32, Error> {
    if ctx.inputs.len() != 1 {
        return Err(Error::InvalidGraph {
            what: "operator takes exactly one input",
            index: ctx.inputs.len() as i32,
        });
    }
    if ctx.outputs.len() != 1 {
        return Err(Error::InvalidGraph {
            what: "operator has exactly one output",
            index: ctx.outputs.len() as i32,
        });
    }
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    let n = input
        .shape
        .elements()
        .ok_or(ctx.shape_mismatch(ctx.input_index(0)))?;
    if output.shape.elements() != Some(n) {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    Ok(n as u32)
}

/// Which conversion a QUANTIZE performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// float32 → int8 (`AffineQuantize`).
    F32ToI8,
    /// float32 → int16 (`AffineQuantize`).
    F32ToI16,
    /// Integer → integer (`Requantize`) from `from` to `to`.
    Requantize {
        /// Input element type.
        from: DType,
        /// Output element type.
        to: DType,
    },
}

impl Mode {
    /// As four initialised bytes (kind, from, to, 0) for [`Params`]: the enum itself has
    /// unused payload bytes, which must not be stored (see `ops::stored`).
    pub fn encode(self) -> [u8; 4] {
        match self {
            Mode::F32ToI8 => [0, 0, 0, 0],
            Mode::F32ToI16 => [1, 0, 0, 0],
            Mode::Requantize { from, to } => [2, from.code(), to.code(), 0],
        }
    }
    /// Inverse of [`Mode::encode`].
    pub fn decode(b: [u8; 4]) -> Mode {
        match b[0] {
            0 => Mode::F32ToI8,
            1 => Mode::F32ToI16,
            _ => Mode::Requantize {
                from: DType::from_schema(b[1]),
                to: DType::from_schema(b[2]),
            },
        }
    }
}

/// Prepared parameters.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Params {
    /// The conversion, [`Mode::encode`]d.
    pub mode: [u8; 4],
    /// Requantize multiplier for `input_scale / output_scale` (TFLM `QuantizeMultiplier`).
    pub multiplier: i32,
    /// Requantize shift (positive = left).
    pub shift: i32,
    /// Input zero point (requantize only).
    pub input_zero_point: i32,
    /// Output zero point.
    pub output_zero_point: i32,
    /// Output scale (float quantize only).
    pub output_scale: f32,
}

/// Validate and precompute (TFLM `PrepareQuantizeReference`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    check_unary(ctx)?;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    // TFLM: the output must carry exactly one (per-tensor) scale.
    if output.quant.scales.len() != 1 {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    use DType as D;
    let mode = match (input.dtype, output.dtype) {
        (D::F32, D::I8) => Mode::F32ToI8,
        (D::F32, D::I16) => Mode::F32ToI16,
        // The pairs TFLM's EvalQuantizeReference dispatches to Requantize.
        (D::I8, D::I8 | D::U8 | D::I16 | D::I32)
        | (D::U8, D::I8)
        | (D::I16, D::I8 | D::I16 | D::I32)
        | (D::I32, D::I8 | D::I16) => Mode::Requantize {
            from: input.dtype,
            to: output.dtype,
        },
        (D::F32 | D::I8 | D::U8 | D::I16 | D::I32, _) => return Err(ctx.bad_output_type(0)),
        _ => return Err(ctx.bad_input_type(0)),
    };
    let (multiplier, shift) = if matches!(mode, Mode::Requantize { .. }) {
        if !input.quant.is_quantized() {
            return Err(ctx.bad_quant(ctx.input_index(0)));
        }
        // f32 scales widened to f64 before dividing, as TFLM does.
        prepare_multiplier(
            ctx,
            input.quant.scale() as f64 / output.quant.scale() as f64,
        )?
    } else {
        (0, 0)
    };
    Ok(Params {
        mode: mode.encode(),
        multiplier,
        shift,
        input_zero_point: input.quant.zero_point(),
        output_zero_point: output.quant.zero_point(),
        output_scale: output.quant.scale(),
    })
}

/// TFLM `AffineQuantize` for one value: `round(v / scale)` in `f32`, half away from zero
/// (`TfLiteRound`), plus the zero point, clamped to `[lo, hi]`.
///
/// Out-of-`i32` quotients (and NaN) are UB in TFLM's `static_cast<int32_t>`; here they saturate
/// (NaN → 0) and the zero point is added saturating, which matches a saturating FPU (Arm).
#[inline(always)]
fn affine_quantize(v: f32, scale: f32, zero_point: i32, lo: i32, hi: i32) -> i32 {
    let q = libm::roundf(v / scale) as i32;
    q.saturating_add(zero_point).clamp(lo, hi)
}

fn quantize_float<Out: Elem>(p: &Params, input: &[u8], output: &mut [u8]) {
    let (scale, zp) = (p.output_scale, p.output_zero_point);
    for (i, o) in input
        .chunks_exact(4)
        .zip(output.chunks_exact_mut(Out::SIZE))
    {
        let v = f32::from_le_bytes([i[0], i[1], i[2], i[3]]);
        Out::store(affine_quantize(v, scale, zp, Out::MIN, Out::MAX), o);
    }
}

/// TFLM `Requantize`: `clamp(MultiplyByQuantizedMultiplier(x - in_zp) + out_zp)`.
///
/// TFLM's fast path for int8↔uint8 with equal scales and a 128 zero-point difference (`x ^ 0x80`)
/// gives the same bytes as this general path (the multiplier is then exactly 1), so it is not
/// special-cased. Integer overflow in the int32 cases wraps as TFLM's does in practice.
fn requantize<In: Elem, Out: Elem>(p: &Params, input: &[u8], output: &mut [u8]) {
    let (m, s, izp, ozp) = (
        p.multiplier,
        p.shift,
        p.input_zero_point,
        p.output_zero_point,
    );
    map_elems::<In, Out>(input, output, |x| {
        multiply_by_quantized_multiplier(x.wrapping_sub(izp), m, s)
            .wrapping_add(ozp)
            .clamp(Out::MIN, Out::MAX)
    });
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(0);
    let output = output0(ctx)?;
    use DType as D;
    match Mode::decode(p.mode) {
        Mode::F32ToI8 => quantize_float::<I8>(p, input, output),
        Mode::F32ToI16 => quantize_float::<I16>(p, input, output),
        Mode::Requantize { from, to } => match (from, to) {
            (D::I8, D::I8) => requantize::<I8, I8>(p, input, output),
            (D::I8, D::U8) => requantize::<I8, U8>(p, input, output),
            (D::I8, D::I16) => requantize::<I8, I16>(p, input, output),
            (D::I8, D::I32) => requantize::<I8, I32>(p, input, output),
            (D::U8, D::I8) => requantize::<U8, I8>(p, input, output),
            (D::I16, D::I8) => requantize::<I16, I8>(p, input, output),
            (D::I16, D::I16) => requantize::<I16, I16>(p, input, output),
            (D::I16, D::I32) => requantize::<I16, I32>(p, input, output),
            (D::I32, D::I8) => requantize::<I32, I8>(p, input, output),
            (D::I32, D::I16) => requantize::<I32, I16>(p, input, output),
            _ => {
                return Err(Error::InvalidGraph {
                    what: "QUANTIZE type pair not prepared",
                    index: 0,
                })
            }
        },
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    mode: [u8; 4],
    multiplier: i32,
    shift: i32,
    input_zero_point: i32,
    output_zero_point: i32,
    output_scale: f32
});

/// Test support: run a unary op's `prepare` on hand-made int/float tensors.
#[cfg(test)]
pub(crate) mod test_support {
    use super::super::PrepareCtx;
    use crate::error::Error;
    use crate::model::{BuiltinOp, DType, F32s, I64s, Quant, Shape, Tensor};

    /// Quantization bytes for one scale and zero point (leaked: tests only).
    pub fn quant(scale: f32, zero_point: i64) -> Quant<'static> {
        let s: &'static [u8] = std::boxed::Box::leak(std::boxed::Box::new(scale.to_le_bytes()));
        let z: &'static [u8] =
            std::boxed::Box::leak(std::boxed::Box::new(zero_point.to_le_bytes()));
        Quant {
            scales: F32s(s),
            zero_points: I64s(z),
            axis: 0,
        }
    }

    /// A non-constant tensor.
    pub fn tensor(dtype: DType, dims: &[i32], quant: Quant<'static>) -> Tensor<'static> {
        Tensor {
            name: "",
            dtype,
            shape: Shape::new(dims).unwrap(),
            quant,
            data: None,
            buffer: 0,
            is_variable: false,
        }
    }

    /// Call `f` (an op's prepare) for `op` with one input and one output and default options.
    pub fn prepare_unary<P>(
        op: BuiltinOp,
        input: Tensor<'static>,
        output: Tensor<'static>,
        f: fn(&mut PrepareCtx<'_, '_, '_>) -> Result<P, Error>,
    ) -> Result<P, Error> {
        crate::ops::common::test_util::with_ctx(op, &[input], &[output], |c| f(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixedpoint::quantize_multiplier;

    fn params(mode: Mode, in_scale: f32, izp: i32, out_scale: f32, ozp: i32) -> Params {
        let (multiplier, shift) = quantize_multiplier(in_scale as f64 / out_scale as f64);
        Params {
            mode: mode.encode(),
            multiplier,
            shift,
            input_zero_point: izp,
            output_zero_point: ozp,
            output_scale: out_scale,
        }
    }

    #[test]
    fn int8_to_uint8_same_scale_is_xor_0x80() {
        // TFLM Requantize fast path: equal scales, zero points -128 → 0.
        let p = params(
            Mode::Requantize {
                from: DType::I8,
                to: DType::U8,
            },
            0.5,
            -128,
            0.5,
            0,
        );
        let input: [u8; 4] = [0x80, 0xFF, 0x00, 0x7F]; // -128, -1, 0, 127
        let mut out = [0u8; 4];
        requantize::<I8, U8>(&p, &input, &mut out);
        assert_eq!(out, [0x00, 0x7F, 0x80, 0xFF]);
    }

    #[test]
    fn int8_requantize_rounds_like_tflm() {
        // in scale 1, zp 0 → out scale 2, zp 10: x/2 with SRDHM rounding (ties away from zero
        // for positives, toward zero for negatives; then RoundingDivideByPOT).
        let p = params(
            Mode::Requantize {
                from: DType::I8,
                to: DType::I8,
            },
            1.0,
            0,
            2.0,
            10,
        );
        let input: [u8; 6] = [3, 5, (-3i8) as u8, (-5i8) as u8, 127, (-128i8) as u8];
        let mut out = [0u8; 6];
        requantize::<I8, I8>(&p, &input, &mut out);
        let got: [i8; 6] = out.map(|b| b as i8);
        // 0.5 multiplier = 2^30 * 2^-31 with shift 0: SRDHM(3, 2^30) = 2 (1.5 → 2),
        // SRDHM(-3, 2^30) = -1 (-1.5 → -1).
        assert_eq!(got, [12, 13, 9, 8, 74, -54]);
    }

    #[test]
    fn uint8_to_int8_and_clamping() {
        let p = params(
            Mode::Requantize {
                from: DType::U8,
                to: DType::I8,
            },
            1.0,
            0,
            0.5,
            0,
        );
        let input: [u8; 3] = [0, 63, 64];
        let mut out = [0u8; 3];
        requantize::<U8, I8>(&p, &input, &mut out);
        assert_eq!(out.map(|b| b as i8), [0, 126, 127]);
    }

    #[test]
    fn float_quantize_rounds_half_away_from_zero() {
        let p = Params {
            mode: Mode::F32ToI8.encode(),
            multiplier: 0,
            shift: 0,
            input_zero_point: 0,
            output_zero_point: -3,
            output_scale: 0.5,
        };
        let vals: [f32; 7] = [0.25, -0.25, 0.75, -0.75, 1000.0, -1000.0, 0.0];
        let mut input = [0u8; 28];
        for (c, v) in input.chunks_exact_mut(4).zip(vals) {
            c.copy_from_slice(&v.to_le_bytes());
        }
        let mut out = [0u8; 7];
        quantize_float::<I8>(&p, &input, &mut out);
        // 0.5 → 1, -0.5 → -1, 1.5 → 2, -1.5 → -2 (half away from zero), then + zp -3.
        assert_eq!(out.map(|b| b as i8), [-2, -4, -1, -5, 127, -128, -3]);
    }

    #[test]
    fn int16_load_store_little_endian() {
        let mut b = [0u8; 2];
        I16::store(-2, &mut b);
        assert_eq!(b, [0xFE, 0xFF]);
        assert_eq!(I16::load(&b), -2);
        let mut w = [0u8; 4];
        I32::store(0x0102_0304, &mut w);
        assert_eq!(w, [4, 3, 2, 1]);
    }

    #[test]
    fn prepare_type_pairs_and_quantization() {
        use crate::model::{BuiltinOp, Quant};
        use test_support::*;
        let q = |s, z| quant(s, z);
        // MWW output: int8 (1/256, -128) → uint8 (1/256, 0): multiplier exactly 1.
        let p = prepare_unary(
            BuiltinOp::QUANTIZE,
            tensor(DType::I8, &[1, 1], q(1.0 / 256.0, -128)),
            tensor(DType::U8, &[1, 1], q(1.0 / 256.0, 0)),
            prepare,
        )
        .unwrap();
        assert_eq!(
            (
                p.multiplier,
                p.shift,
                p.input_zero_point,
                p.output_zero_point
            ),
            (1 << 30, 1, -128, 0)
        );
        // float → int8 keeps the output scale for AffineQuantize.
        let p = prepare_unary(
            BuiltinOp::QUANTIZE,
            tensor(DType::F32, &[3], Quant::default()),
            tensor(DType::I8, &[3], q(0.5, 1)),
            prepare,
        )
        .unwrap();
        assert_eq!(
            (Mode::decode(p.mode), p.output_scale, p.output_zero_point),
            (Mode::F32ToI8, 0.5, 1)
        );
        // Pairs TFLM does not dispatch: float → uint8, uint8 → uint8, int16 → uint8.
        for (a, b) in [
            (DType::F32, DType::U8),
            (DType::U8, DType::U8),
            (DType::I16, DType::U8),
            (DType::F32, DType::I32),
        ] {
            let r = prepare_unary(
                BuiltinOp::QUANTIZE,
                tensor(a, &[3], q(0.5, 0)),
                tensor(b, &[3], q(0.5, 0)),
                prepare,
            );
            assert!(
                matches!(r, Err(Error::UnsupportedType { .. })),
                "{a:?} → {b:?}"
            );
        }
        // The output needs exactly one scale; element counts must agree.
        let r = prepare_unary(
            BuiltinOp::QUANTIZE,
            tensor(DType::I8, &[3], q(0.5, 0)),
            tensor(DType::I8, &[3], Quant::default()),
            prepare,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
        let r = prepare_unary(
            BuiltinOp::QUANTIZE,
            tensor(DType::I8, &[3], q(0.5, 0)),
            tensor(DType::I8, &[4], q(0.5, 0)),
            prepare,
        );
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    }
}
