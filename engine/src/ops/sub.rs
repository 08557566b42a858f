//! SUB, int8, with numpy broadcasting up to rank 6 and a fused activation.
//!
//! Matches TFLM `sub_common.cc` (`CalculateOpDataSub`) and the reference `sub.h` quantized path.
//! The arithmetic is ADD's (see `add.rs`) with the second operand subtracted. Some TFLM
//! revisions of `sub_common.cc` compute the real multipliers in `float`; the build the oracle
//! runs does it in `double`, like ADD, and so do we.

use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters: ADD's, with `subtract` set.
pub type Params = super::add::Params;

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let act = super::common::fused_activation(ctx, 0)?;
    super::add::prepare_with(ctx, act, true)
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    super::add::eval(p, ctx)
}

#[cfg(test)]
mod tests {
    use super::super::add::prepare_with;
    use super::super::common::test_util::*;
    use super::super::common::Activation;
    use super::*;
    use crate::model::{BuiltinOp, DType};

    fn sub(a: Operand<'_>, b: Operand<'_>, o: Operand<'_>, act: i8) -> Result<Params, Error> {
        binary(BuiltinOp::SUB, [a, b, o], act, |c, act| {
            prepare_with(c, act, true)
        })
    }

    #[test]
    fn subtracts_with_zero_points() {
        // a: scale 1 zp 2, b: scale 1 zp -1, out: scale 1 zp 0: real = (x-2) - (y+1).
        let p = sub((&[4], 1.0, 2), (&[4], 1.0, -1), (&[4], 1.0, 0), 0).unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[&bytes(&[2, 10, -100, 127]), &bytes(&[-1, 0, 100, -128])],
            &[4],
        )
        .unwrap();
        // 0; 8-1=7; -102-101=-203 -> -128; 125+127=252 -> 127.
        assert_eq!(b_i8(&out[0]), [0, 7, -128, 127]);
    }

    #[test]
    fn order_matters_under_broadcast() {
        // a [1] - b [3] and a [3] - b [1], half-scale output rounds ties away from zero.
        let p = sub((&[1], 1.0, 0), (&[3], 1.0, 0), (&[3], 2.0, 0), 0).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[0]), &bytes(&[1, -1, 3])], &[3]).unwrap();
        assert_eq!(b_i8(&out[0]), [-1, 1, -2]);
        let p = sub((&[3], 1.0, 0), (&[1], 1.0, 0), (&[3], 2.0, 0), 1).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[1, -1, 3]), &bytes(&[0])], &[3]).unwrap();
        // 0.5 -> 1; -0.5 -> -1 then RELU -> 0; 1.5 -> 2.
        assert_eq!(b_i8(&out[0]), [1, 0, 2]);
    }

    #[test]
    fn multipliers_match_add() {
        let pa = {
            let ins = [qt(DType::I8, &[2], 0.25, 0), qt(DType::I8, &[2], 0.5, 0)];
            let outs = [qt(DType::I8, &[2], 1.0, 0)];
            with_ctx(BuiltinOp::ADD, &ins, &outs, |ctx| {
                prepare_with(ctx, Activation::None, false)
            })
            .unwrap()
        };
        let ps = sub((&[2], 0.25, 0), (&[2], 0.5, 0), (&[2], 1.0, 0), 0).unwrap();
        assert_eq!(
            (pa.in1_mult, pa.in1_shift, pa.out_mult, pa.out_shift),
            (ps.in1_mult, ps.in1_shift, ps.out_mult, ps.out_shift)
        );
    }
}
