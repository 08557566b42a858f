//! AVERAGE_POOL_2D, int8: TFLM `reference_integer_ops::AveragePool` — the mean over the part of
//! each window inside the input (padding cells are not counted), rounded half away from zero.

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

/// TFLM's rounding of `sum / count` (count > 0): add or subtract half the count (truncated)
/// according to the sign of the sum, then divide truncating toward zero. A sum of exactly 0
/// takes the "subtract" branch, which still yields 0.
#[inline(always)]
fn rounded_mean(sum: i32, count: i32) -> i32 {
    if sum > 0 {
        (sum + count / 2) / count
    } else {
        (sum - count / 2) / count
    }
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let p = &p.0;
    let (lo, hi) = (p.act_min, p.act_max);
    let step = |a: i32, v: i8| a + v as i32;
    pool_2d(p, ctx, 0i32, step, |a, n| {
        rounded_mean(a, n).max(lo).min(hi) as i8 as u8
    })
}

crate::ops::stored::no_uninit!(Params(PoolParams));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{BuiltinOp, Tensor};
    use crate::ops::common::test_util::{bytes, i8t, pool, PoolWindow as Win};
    type R = Result<std::vec::Vec<u8>, Error>;
    use crate::ops::common::{Activation, Padding};

    /// One AVERAGE_POOL_2D case: see `test_util::pool`.
    fn avg_pool(x: (Tensor<'static>, &[i8]), out: Tensor<'static>, win: Win, act: Activation) -> R {
        pool(BuiltinOp::AVERAGE_POOL_2D, x, out, win, act, Params, eval)
    }

    #[test]
    fn rounding_is_symmetric_half_away_from_zero() {
        assert_eq!(rounded_mean(5, 2), 3); // 2.5 → 3
        assert_eq!(rounded_mean(-5, 2), -3); // -2.5 → -3
        assert_eq!(rounded_mean(7, 4), 2); // 1.75 → 2
        assert_eq!(rounded_mean(-7, 4), -2);
        assert_eq!(rounded_mean(-6, 4), -2); // -1.5 → -2
        assert_eq!(rounded_mean(-5, 4), -1); // -1.25 → -1
        assert_eq!(rounded_mean(0, 3), 0);
        assert_eq!(rounded_mean(4, 3), 1); // 1.33 → 1 (count/2 = 1 → 5/3)
        assert_eq!(rounded_mean(5, 3), 2); // 1.67 → 2
        assert_eq!(rounded_mean(-4, 3), -1);
    }

    #[test]
    fn same_padding_averages_only_inside_cells() {
        // 2x3 single-channel image, 2x2 window, stride 2, SAME → output 1x2.
        // Window (0,0): [1, -2, 4, -6] → -3/4 = -0.75 → -1.  Window (0,2): [3, 6] (only 2
        // cells inside; padding not counted) → 4.5 → 5.
        let input = i8t(&[1, 2, 3, 1], 0.1, 3);
        let out = i8t(&[1, 1, 2, 1], 0.1, 3);
        let got = avg_pool(
            (input, &[1, -2, 3, 4, -6, 6]),
            out,
            (Padding::Same, 2, [2, 2]),
            Activation::None,
        )
        .unwrap();
        assert_eq!(got, bytes(&[-1, 5]));
    }

    #[test]
    fn valid_two_channels_with_relu() {
        // 2x2 image, 2 channels, 2x2 window VALID → 1x1x2; relu at zp -10 clamps channel 1.
        let input = i8t(&[1, 2, 2, 2], 0.5, -10);
        let out = i8t(&[1, 1, 1, 2], 0.5, -10);
        let x = [10, -20, 11, -30, 12, -40, 13, -50];
        let got = avg_pool(
            (input, &x),
            out,
            (Padding::Valid, 1, [2, 2]),
            Activation::Relu,
        )
        .unwrap();
        // ch0: 46/4 = 11.5 → 12; ch1: -140/4 = -35 → clamp to -10.
        assert_eq!(got, bytes(&[12, -10]));
    }

    #[test]
    fn rejects_requantizing_pool() {
        let input = i8t(&[1, 2, 2, 1], 0.5, 0);
        let out = i8t(&[1, 1, 1, 1], 0.25, 0);
        let r = avg_pool(
            (input, &[0; 4]),
            out,
            (Padding::Valid, 1, [2, 2]),
            Activation::None,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    }
}
