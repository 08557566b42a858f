//! SPLIT, int8/int16/int32: input 0 is a constant axis, input 1 the data; `num_splits` equal
//! outputs.
//!
//! Matches TFLM `split.cc`: the axis must be constant (negative counts from the end), each
//! output takes `dim(axis) / num_splits` along the axis, and the data are copied raw. TFLM
//! never checks `num_splits` itself (it uses the output count and shapes); we also require it to
//! equal the number of outputs, which every converter-produced model satisfies.

use super::common::{copy_bytes, read_const_i32s};
use super::{EvalCtx, PrepareCtx, MAX_OUTPUTS};
use crate::error::Error;
use crate::model::{DType, Tensor};

/// Prepared parameters (SPLIT_V's too: `split_v::Params` is this type).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Product of the input dims before the axis: how many slabs each output receives.
    pub outer: u32,
    /// Number of outputs.
    pub n_outputs: u8,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let num_splits = ctx.options.i32(0, 0)?;
    prepare_with(ctx, num_splits)
}

/// Prepare with `num_splits` (SplitOptions slot 0) given explicitly.
pub(crate) fn prepare_with(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    num_splits: i32,
) -> Result<Params, Error> {
    if num_splits != ctx.outputs.len() as i32 {
        return Err(ctx.bad_option("num_splits differs from the number of outputs"));
    }
    let axis = read_axis(ctx, 0)?;
    let input = ctx.input(1)?;
    let dim = |t: &Tensor<'_>, a: usize| t.shape.dims()[a];
    let (ax, outer) = check_split(ctx, &input, axis)?;
    let n = ctx.outputs.len() as i32;
    for i in 0..ctx.outputs.len() {
        let o = ctx.output(i)?;
        if dim(&o, ax) * n != dim(&input, ax) {
            return Err(ctx.shape_mismatch(ctx.output_index(i)));
        }
    }
    Ok(Params {
        _pad: Default::default(),
        outer,
        n_outputs: n as u8,
    })
}

/// The constant axis of SPLIT (input 0) and SPLIT_V (input 2): exactly one int32 value, not yet
/// resolved against the rank (`check_split` does that).
pub(crate) fn read_axis(ctx: &PrepareCtx<'_, '_, '_>, input: usize) -> Result<i32, Error> {
    let mut axis = [0i32; 1];
    if read_const_i32s(ctx, input, "non-constant axis tensor", &mut axis)? != 1 {
        return Err(ctx.bad_option("axis tensor must hold one value"));
    }
    Ok(axis[0])
}

/// Checks shared by SPLIT and SPLIT_V: data type, output count, the axis (resolved), and that
/// every output matches the input except along the axis. Returns the axis and the outer size.
pub(crate) fn check_split(
    ctx: &PrepareCtx<'_, '_, '_>,
    input: &Tensor<'_>,
    axis: i32,
) -> Result<(usize, u32), Error> {
    let data = if ctx.op == crate::model::BuiltinOp::SPLIT {
        1
    } else {
        0
    };
    if !matches!(input.dtype, DType::I8 | DType::I16 | DType::I32) {
        return Err(ctx.bad_input_type(data));
    }
    let n = ctx.outputs.len();
    if n == 0 || n > MAX_OUTPUTS {
        return Err(Error::LimitExceeded {
            what: "split outputs",
            limit: MAX_OUTPUTS as u32,
        });
    }
    let rank = input.shape.rank();
    let ax = if axis < 0 { axis + rank as i32 } else { axis };
    if ax < 0 || ax >= rank as i32 {
        return Err(ctx.bad_option("axis out of range"));
    }
    let ax = ax as usize;
    for i in 0..n {
        let o = ctx.output(i)?;
        if o.dtype != input.dtype {
            return Err(ctx.bad_output_type(i));
        }
        if o.shape.rank() != rank
            || (0..rank).any(|j| j != ax && o.shape.dims()[j] != input.shape.dims()[j])
        {
            return Err(ctx.shape_mismatch(ctx.output_index(i)));
        }
    }
    let outer: usize = input.shape.dims()[..ax]
        .iter()
        .map(|&d| d as usize)
        .product();
    Ok((ax, outer as u32))
}

/// The copy shared by SPLIT and SPLIT_V: for each outer slab, each output takes its slab in
/// turn. An output's slab size is its byte length divided by `outer`.
pub(crate) fn split_copy(
    outer: usize,
    n: usize,
    input: &[u8],
    outputs: &mut [&mut [u8]],
) -> Result<(), Error> {
    let err = Error::InvalidGraph {
        what: "SPLIT buffer size",
        index: 0,
    };
    if outer == 0 {
        return Ok(());
    }
    let outs = outputs.get_mut(..n).ok_or(err)?;
    let mut src = 0usize;
    for k in 0..outer {
        for o in outs.iter_mut() {
            let slab = o.len() / outer;
            let s = input.get(src..src + slab).ok_or(err)?;
            copy_bytes(o.get_mut(k * slab..(k + 1) * slab).ok_or(err)?, s);
            src += slab;
        }
    }
    Ok(())
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(1);
    split_copy(p.outer as usize, p.n_outputs as usize, input, ctx.outputs)
}

crate::ops::stored::no_uninit!(Params {
    outer: u32,
    n_outputs: u8,
    _pad: [u8; 3]
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::BuiltinOp;

    fn prep(axis: i32, dims: &[i32], outs: &[&[i32]]) -> Result<Params, Error> {
        let ins = [ci32(&[], &[axis]), qt(DType::I8, dims, 1.0, 0)];
        let outs: std::vec::Vec<_> = outs.iter().map(|d| qt(DType::I8, d, 1.0, 0)).collect();
        with_ctx(BuiltinOp::SPLIT, &ins, &outs, |ctx| {
            prepare_with(ctx, outs.len() as i32)
        })
    }

    #[test]
    fn split_middle_and_negative_axis() {
        let p = prep(1, &[2, 4], &[&[2, 2], &[2, 2]]).unwrap();
        let out = run_prepared(&p, eval, &[&[], &[0, 1, 2, 3, 4, 5, 6, 7]], &[4, 4]).unwrap();
        assert_eq!(out, [[0, 1, 4, 5], [2, 3, 6, 7]]);
        let p = prep(-2, &[3, 2], &[&[1, 2], &[1, 2], &[1, 2]]).unwrap();
        let out = run_prepared(&p, eval, &[&[], &[0, 1, 2, 3, 4, 5]], &[2, 2, 2]).unwrap();
        assert_eq!(out, [[0, 1], [2, 3], [4, 5]]);
        assert!(prep(2, &[3, 2], &[&[3, 2]]).is_err());
        assert!(prep(0, &[3, 2], &[&[1, 2], &[1, 2]]).is_err());
        // num_splits must match the outputs.
        let ins = [ci32(&[], &[0]), qt(DType::I8, &[2, 2], 1.0, 0)];
        let outs = [
            qt(DType::I8, &[1, 2], 1.0, 0),
            qt(DType::I8, &[1, 2], 1.0, 0),
        ];
        assert!(with_ctx(BuiltinOp::SPLIT, &ins, &outs, |ctx| prepare_with(ctx, 3)).is_err());
    }
}
