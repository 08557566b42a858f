//! MAX_POOL_2D, int8: TFLM `reference_integer_ops::MaxPool` — the maximum over the part of
//! each window inside the input, then the fused activation clamp.

use super::common::{pool_2d, prepare_pool, PoolParams};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters.
#[derive(Clone, Copy, Debug)]
pub struct Params(pub PoolParams);

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    prepare_pool(ctx).map(Params)
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let p = &p.0;
    // The clamp bounds lie within int8 for an int8 output (activation_range_quantized).
    let (lo, hi) = (
        p.act_min.clamp(-128, 127) as i8,
        p.act_max.clamp(-128, 127) as i8,
    );
    pool_2d(p, ctx, i8::MIN, i8::max, |m, _| m.max(lo).min(hi) as u8)
}

crate::ops::stored::no_uninit!(Params(PoolParams));

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;
    use crate::model::{BuiltinOp, Tensor};
    use crate::ops::common::test_util::{bytes, i8t, pool, PoolWindow as Win};
    type R = Result<std::vec::Vec<u8>, Error>;
    use crate::ops::common::{Activation, Padding};

    /// One MAX_POOL_2D case: see `test_util::pool`.
    fn max_pool(x: (Tensor<'static>, &[i8]), out: Tensor<'static>, win: Win, act: Activation) -> R {
        pool(BuiltinOp::MAX_POOL_2D, x, out, win, act, Params, eval)
    }

    #[test]
    fn same_padding_ignores_outside_cells() {
        // All-negative 3x3 image, 2x2 window stride 2 SAME → 2x2; padding must not act as 0.
        let x: Vec<i8> = (0..9).map(|i| -100 + i as i8).collect();
        let input = i8t(&[1, 3, 3, 1], 1.0, 0);
        let out = i8t(&[1, 2, 2, 1], 1.0, 0);
        let got = max_pool(
            (input, &x),
            out,
            (Padding::Same, 2, [2, 2]),
            Activation::None,
        )
        .unwrap();
        // Windows: {0,1,3,4} → -96; {2,5} → -95; {6,7} → -93; {8} → -92.
        assert_eq!(got, bytes(&[-96, -95, -93, -92]));
    }

    #[test]
    fn relu6_clamps_both_ends() {
        // Scale 0.1, zp 0: relu6 → [0, 60].
        let input = i8t(&[1, 1, 2, 3], 0.1, 0);
        let out = i8t(&[1, 1, 1, 3], 0.1, 0);
        let got = max_pool(
            (input, &[-5, 70, 12, -7, 100, 30]),
            out,
            (Padding::Valid, 1, [1, 2]),
            Activation::Relu6,
        )
        .unwrap();
        assert_eq!(got, bytes(&[0, 60, 30]));
    }

    #[test]
    fn many_channels_cross_chunks() {
        let ch = 150usize;
        let x: Vec<i8> = (0..4 * ch).map(|i| ((i * 37) % 256) as u8 as i8).collect();
        let input = i8t(&[1, 2, 2, ch as i32], 1.0, 0);
        let out = i8t(&[1, 1, 1, ch as i32], 1.0, 0);
        let got = max_pool(
            (input, &x),
            out,
            (Padding::Valid, 2, [2, 2]),
            Activation::None,
        )
        .unwrap();
        let want: Vec<i8> = (0..ch)
            .map(|c| (0..4).map(|k| x[k * ch + c]).max().unwrap())
            .collect();
        assert_eq!(got, bytes(&want));
    }
}
