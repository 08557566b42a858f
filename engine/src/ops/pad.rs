//! PAD and PADV2, int8/int16/int32, up to rank 5, with constant paddings.
//!
//! Matches TFLM `pad_common.cc` (`PadPrepare`) and `pad.cc`: the paddings tensor must be a
//! constant `[rank, 2]` int32 tensor; each output dim must equal `before + input + after`. The
//! fill value is, for PAD, the output zero point for int8 and 0 for int16/int32; for PADV2, the
//! first element of input 2 (which for int8 must share the output's scale and zero point). Data
//! are copied raw (no requantization), as TFLM does. uint8 is not supported by TFLM's PAD.

use super::common::{raw_copy_operands, read_const_i32s};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::model::{DType, Shape};

/// TFLM `PadKernelMaxDimensionCount`.
const MAX_DIMS: usize = 5;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Input dims, left-extended with 1s to rank 5.
    pub in_dims: [u32; MAX_DIMS],
    /// Output dims, left-extended with 1s to rank 5.
    pub out_dims: [u32; MAX_DIMS],
    /// Padding before each (extended) dim.
    pub before: [u32; MAX_DIMS],
    /// Fill value's little-endian bytes (first `elem` used) when it is not read from input 2.
    pub fill: [u8; 4],
    /// Bytes per element (1, 2 or 4).
    pub elem: u8,
    /// True when the fill value comes from input 2 at eval time (PADV2).
    pub fill_from_input: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 2],
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let (input, out, elem) = raw_copy_operands(ctx, &[DType::I8, DType::I16, DType::I32])?;
    let rank = input.shape.rank();
    if rank > MAX_DIMS || out.shape.rank() != rank {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let mut pads = [0i32; 2 * MAX_DIMS];
    let n = read_const_i32s(
        ctx,
        1,
        "non-constant or oversized paddings tensor",
        &mut pads,
    )?;
    if n != 2 * rank {
        return Err(ctx.shape_mismatch(ctx.input_index(1)));
    }
    let ext = |s: &Shape| s.extended(MAX_DIMS);
    let (ein, eout) = match (ext(&input.shape), ext(&out.shape)) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(ctx.shape_mismatch(ctx.output_index(0))),
    };
    let mut p = Params {
        _pad: Default::default(),
        elem,
        ..Params::default()
    };
    let off = MAX_DIMS - rank;
    for i in 0..MAX_DIMS {
        p.in_dims[i] = ein.dims()[i] as u32;
        p.out_dims[i] = eout.dims()[i] as u32;
    }
    for i in 0..rank {
        let (b, a) = (pads[2 * i], pads[2 * i + 1]);
        // TFLM checks output = input + before + after; negative paddings are not meaningful here.
        if b < 0
            || a < 0
            || input.shape.dims()[i] as i64 + b as i64 + a as i64 != out.shape.dims()[i] as i64
        {
            return Err(ctx.shape_mismatch(ctx.output_index(0)));
        }
        p.before[off + i] = b as u32;
    }
    match ctx.optional_input(2) {
        Some(cv) => {
            if cv.dtype != input.dtype {
                return Err(ctx.bad_input_type(2));
            }
            if cv.shape.elements() != Some(1) {
                return Err(ctx.shape_mismatch(ctx.input_index(2)));
            }
            if input.dtype == DType::I8
                && (cv.quant.zero_point() != out.quant.zero_point()
                    || cv.quant.scale() != out.quant.scale())
            {
                return Err(ctx.bad_quant(ctx.input_index(2)));
            }
            p.fill_from_input = true;
        }
        None => {
            if input.dtype == DType::I8 {
                let zp = out.quant.zero_point();
                if !(i8::MIN as i32..=i8::MAX as i32).contains(&zp) {
                    return Err(ctx.bad_quant(ctx.output_index(0)));
                }
                p.fill[0] = zp as i8 as u8;
            }
        }
    }
    Ok(p)
}

/// Compute: fill the output, then copy each innermost input row into place.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let err = Error::InvalidGraph {
        what: "PAD buffer size",
        index: 0,
    };
    let w = p.elem as usize;
    let fill: &[u8] = if p.fill_from_input {
        ctx.input(2).get(..w).ok_or(err)?
    } else {
        p.fill.get(..w).ok_or(err)?
    };
    let input = ctx.input(0);
    let out = crate::ops::quantize::output0(ctx)?;
    for chunk in out.chunks_exact_mut(w) {
        chunk.copy_from_slice(fill);
    }
    let d = |a: &[u32; MAX_DIMS], i: usize| a[i] as usize;
    let row = d(&p.in_dims, 4) * w;
    if row == 0 {
        return Ok(());
    }
    // Output element strides of dims 0..4.
    let mut os = [0usize; MAX_DIMS];
    os[4] = 1;
    for i in (0..4).rev() {
        os[i] = os[i + 1] * d(&p.out_dims, i + 1);
    }
    let mut src = 0usize;
    for i0 in 0..d(&p.in_dims, 0) {
        for i1 in 0..d(&p.in_dims, 1) {
            for i2 in 0..d(&p.in_dims, 2) {
                for i3 in 0..d(&p.in_dims, 3) {
                    let o = (i0 + d(&p.before, 0)) * os[0]
                        + (i1 + d(&p.before, 1)) * os[1]
                        + (i2 + d(&p.before, 2)) * os[2]
                        + (i3 + d(&p.before, 3)) * os[3]
                        + d(&p.before, 4);
                    let dst = out.get_mut(o * w..o * w + row).ok_or(err)?;
                    dst.copy_from_slice(input.get(src..src + row).ok_or(err)?);
                    src += row;
                }
            }
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    in_dims: [u32; MAX_DIMS],
    out_dims: [u32; MAX_DIMS],
    before: [u32; MAX_DIMS],
    fill: [u8; 4],
    elem: u8,
    fill_from_input: bool,
    _pad: [u8; 2]
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::BuiltinOp;

    #[test]
    fn pad_int8_uses_output_zero_point() {
        let ins = [
            qt(DType::I8, &[2, 2], 0.5, -3),
            ci32(&[2, 2], &[1, 0, 0, 2]),
        ];
        let outs = [qt(DType::I8, &[3, 4], 0.5, -3)];
        let p = with_ctx(BuiltinOp::PAD, &ins, &outs, |ctx| prepare(ctx)).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[1, 2, 3, 4])], &[12]).unwrap();
        assert_eq!(b_i8(&out[0]), [-3, -3, -3, -3, 1, 2, -3, -3, 3, 4, -3, -3]);
    }

    #[test]
    fn padv2_takes_value_from_input_and_handles_rank5() {
        let ins = [
            qt(DType::I8, &[1, 1, 1, 1, 2], 1.0, 0),
            ci32(&[5, 2], &[0, 0, 1, 0, 0, 0, 0, 1, 1, 0]),
            qt(DType::I8, &[], 1.0, 0),
        ];
        let outs = [qt(DType::I8, &[1, 2, 1, 2, 3], 1.0, 0)];
        let p = with_ctx(BuiltinOp::PADV2, &ins, &outs, |ctx| prepare(ctx)).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[5, 6]), &[], &bytes(&[-7])], &[12]).unwrap();
        assert_eq!(
            b_i8(&out[0]),
            [-7, -7, -7, -7, -7, -7, -7, 5, 6, -7, -7, -7]
        );
    }

    #[test]
    fn pad_int32_fills_zero_and_checks_shapes() {
        let ins = [t(DType::I32, &[2]), ci32(&[1, 2], &[1, 1])];
        let outs = [t(DType::I32, &[4])];
        let p = with_ctx(BuiltinOp::PAD, &ins, &outs, |ctx| prepare(ctx)).unwrap();
        let out = run_prepared(&p, eval, &[&bytes32(&[-9, 70000])], &[16]).unwrap();
        assert_eq!(out[0], bytes32(&[0, -9, 70000, 0]));
        let bad = [t(DType::I32, &[5])];
        assert!(with_ctx(BuiltinOp::PAD, &ins, &bad, |ctx| prepare(ctx)).is_err());
        let nonconst = [t(DType::I32, &[2]), t(DType::I32, &[1, 2])];
        assert!(with_ctx(BuiltinOp::PAD, &nonconst, &outs, |ctx| prepare(ctx)).is_err());
    }
}
