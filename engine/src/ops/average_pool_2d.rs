//! AVERAGE_POOL_2D, int8: TFLM `reference_integer_ops::AveragePool` — the mean over the part of
//! each window inside the input (padding cells are not counted), rounded half away from zero.

use super::common::{check_len, prepare_pool, PoolParams};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Channels summed together per output pixel (accumulators live on the stack).
const CHUNK: usize = 64;

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
    let w = &p.win;
    let (in_h, in_w, ch) = (w.in_h as usize, w.in_w as usize, p.channels as usize);
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let batches = w.batches as usize;
    let input = ctx.input(0);
    let output = ctx.outputs.get_mut(0).ok_or(Error::InvalidGraph {
        what: "missing operator output",
        index: 0,
    })?;
    let in_img = in_h * in_w * ch;
    check_len(input, batches * in_img)?;
    check_len(output, batches * out_h * out_w * ch)?;
    if ch == 0 {
        return Ok(());
    }
    let mut out_px = output.chunks_exact_mut(ch);
    for img in input.chunks_exact(in_img).take(batches) {
        for oy in 0..out_h {
            let (y0, ty0, ty1) = w.taps(oy, true);
            for ox in 0..out_w {
                let (x0, tx0, tx1) = w.taps(ox, false);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                // Prepare proved every window overlaps the input, so count >= 1.
                let count = ((ty1 - ty0) * (tx1 - tx0)).max(1) as i32;
                let mut c0 = 0;
                while c0 < ch {
                    let n = CHUNK.min(ch - c0);
                    let mut acc_buf = [0i32; CHUNK];
                    let acc = &mut acc_buf[..n];
                    for ty in ty0..ty1 {
                        let iy = (y0 + ty as i32) as usize;
                        for tx in tx0..tx1 {
                            let ix = (x0 + tx as i32) as usize;
                            let s = (iy * in_w + ix) * ch + c0;
                            for (a, &v) in acc.iter_mut().zip(&img[s..s + n]) {
                                *a += v as i8 as i32;
                            }
                        }
                    }
                    for (o, &a) in out[c0..c0 + n].iter_mut().zip(acc.iter()) {
                        *o = rounded_mean(a, count).max(p.act_min).min(p.act_max) as i8 as u8;
                    }
                    c0 += n;
                }
            }
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params(PoolParams));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::BuiltinOp;
    use crate::ops::common::test_util::{bytes, i8t, run};
    use crate::ops::common::{prepare_pool_with, Activation, Padding, WindowOptions};

    fn win(padding: Padding, stride: i32) -> WindowOptions {
        WindowOptions {
            padding,
            stride_h: stride,
            stride_w: stride,
            dilation_h: 1,
            dilation_w: 1,
        }
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
        let got = run(
            BuiltinOp::AVERAGE_POOL_2D,
            &[Some((input, bytes(&[1, -2, 3, 4, -6, 6])))],
            out,
            |c| prepare_pool_with(c, &win(Padding::Same, 2), 2, 2, Activation::None).map(Params),
            eval,
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
        let got = run(
            BuiltinOp::AVERAGE_POOL_2D,
            &[Some((input, bytes(&x)))],
            out,
            |c| prepare_pool_with(c, &win(Padding::Valid, 1), 2, 2, Activation::Relu).map(Params),
            eval,
        )
        .unwrap();
        // ch0: 46/4 = 11.5 → 12; ch1: -140/4 = -35 → clamp to -10.
        assert_eq!(got, bytes(&[12, -10]));
    }

    #[test]
    fn rejects_requantizing_pool() {
        let input = i8t(&[1, 2, 2, 1], 0.5, 0);
        let out = i8t(&[1, 1, 1, 1], 0.25, 0);
        let r = run(
            BuiltinOp::AVERAGE_POOL_2D,
            &[Some((input, bytes(&[0; 4])))],
            out,
            |c| prepare_pool_with(c, &win(Padding::Valid, 1), 2, 2, Activation::None).map(Params),
            eval,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    }
}
