//! SPLIT_V, int8/int16/int32: input 0 the data, input 1 constant `size_splits` (one entry may
//! be -1: the remainder), input 2 a constant axis.
//!
//! Matches TFLM `split_v.cc`: TFLM copies according to the output shapes (it never reads
//! `size_splits`); we also check `size_splits` against them, resolving a single -1 as TFLite
//! does, so a malformed model is refused instead of silently split by its output shapes.

use super::common::read_const_i32s;
use super::split::{check_split, read_axis, split_copy};
use super::{EvalCtx, PrepareCtx, MAX_OUTPUTS};
use crate::error::Error;

/// Prepared parameters: SPLIT's (the outer size and the output count; the slab sizes come from
/// the output buffers).
pub type Params = super::split::Params;

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let axis = read_axis(ctx, 2)?;
    let mut sizes = [0i32; MAX_OUTPUTS];
    let n = read_const_i32s(
        ctx,
        1,
        "non-constant or oversized size_splits tensor",
        &mut sizes,
    )?;
    let input = ctx.input(0)?;
    let (ax, outer) = check_split(ctx, &input, axis)?;
    if n != ctx.outputs.len() {
        return Err(ctx.bad_option("size_splits length differs from the number of outputs"));
    }
    let total = input.shape.dims()[ax];
    let sizes = &mut sizes[..n];
    let unknown: usize = sizes.iter().filter(|&&s| s == -1).count();
    if unknown > 1 || sizes.iter().any(|&s| s < -1) {
        return Err(ctx.bad_option("size_splits"));
    }
    let known: i64 = sizes.iter().filter(|&&s| s >= 0).map(|&s| s as i64).sum();
    for s in sizes.iter_mut() {
        if *s == -1 {
            *s = (total as i64 - known) as i32;
        }
    }
    for (i, &s) in sizes.iter().enumerate() {
        if ctx.output(i)?.shape.dims()[ax] != s {
            return Err(ctx.shape_mismatch(ctx.output_index(i)));
        }
    }
    if sizes.iter().map(|&s| s as i64).sum::<i64>() != total as i64 {
        return Err(ctx.bad_option("size_splits do not add up to the axis size"));
    }
    Ok(Params {
        _pad: Default::default(),
        outer,
        n_outputs: n as u8,
    })
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(0);
    split_copy(p.outer as usize, p.n_outputs as usize, input, ctx.outputs)
}

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::{BuiltinOp, DType};

    fn prep(sizes: &[i32], axis: i32, dims: &[i32], outs: &[&[i32]]) -> Result<Params, Error> {
        let ins = [
            qt(DType::I8, dims, 1.0, 0),
            ci32(&[sizes.len() as i32], sizes),
            ci32(&[1], &[axis]),
        ];
        let outs: std::vec::Vec<_> = outs.iter().map(|d| qt(DType::I8, d, 1.0, 0)).collect();
        with_ctx(BuiltinOp::SPLIT_V, &ins, &outs, |ctx| prepare(ctx))
    }

    #[test]
    fn uneven_split_with_remainder() {
        let p = prep(&[1, -1, 1], -1, &[2, 4], &[&[2, 1], &[2, 2], &[2, 1]]).unwrap();
        let out =
            run_prepared(&p, eval, &[&[0, 1, 2, 3, 4, 5, 6, 7], &[], &[]], &[2, 4, 2]).unwrap();
        assert_eq!(out[0], [0, 4]);
        assert_eq!(out[1], [1, 2, 5, 6]);
        assert_eq!(out[2], [3, 7]);
    }

    #[test]
    fn first_axis_and_rejections() {
        let p = prep(&[2, 1], 0, &[3, 2], &[&[2, 2], &[1, 2]]).unwrap();
        let out = run_prepared(&p, eval, &[&[0, 1, 2, 3, 4, 5], &[], &[]], &[4, 2]).unwrap();
        assert_eq!(out, [std::vec![0, 1, 2, 3], std::vec![4, 5]]);
        assert!(prep(&[-1, -1], 0, &[3, 2], &[&[2, 2], &[1, 2]]).is_err());
        assert!(prep(&[2, 2], 0, &[3, 2], &[&[2, 2], &[1, 2]]).is_err());
        assert!(prep(&[1, 2], 0, &[3, 2], &[&[2, 2], &[1, 2]]).is_err());
    }
}
