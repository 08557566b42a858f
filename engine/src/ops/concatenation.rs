//! CONCATENATION along any axis (negative allowed), int8/int16/int32/int64/bool, up to
//! `MAX_INPUTS` inputs of rank <= 6.
//!
//! Matches TFLM `concatenation.cc`: a raw copy, no requantization. For int8 TFLM's Prepare
//! requires every input's scale and zero point to equal the output's; for int16 all zero points
//! must be 0; the fused activation must be NONE. (TFLM caps the input count at 10; we accept up
//! to `MAX_INPUTS`, which only admits more models, with the same result.)

use super::common::copy_bytes;
use super::{EvalCtx, PrepareCtx, MAX_INPUTS};
use crate::error::Error;
use crate::model::DType;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Product of the output dims before the axis: how many slabs each input contributes.
    pub outer: u32,
    /// Number of inputs.
    pub n_inputs: u8,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let axis = ctx.options.i32(0, 0)?;
    let activation = ctx.options.i8(1, 0)?;
    prepare_with(ctx, axis, activation)
}

/// Prepare with the options (axis, fused activation) given explicitly.
pub(crate) fn prepare_with(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    axis: i32,
    activation: i8,
) -> Result<Params, Error> {
    if activation != 0 {
        return Err(ctx.bad_option("fused activation (only NONE is supported)"));
    }
    let n = ctx.inputs.len();
    if n == 0 || n > MAX_INPUTS {
        return Err(Error::LimitExceeded {
            what: "CONCATENATION inputs",
            limit: MAX_INPUTS as u32,
        });
    }
    let out = ctx.output(0)?;
    let dtype = out.dtype;
    if !matches!(
        dtype,
        DType::I8 | DType::I16 | DType::I32 | DType::I64 | DType::Bool
    ) {
        return Err(ctx.bad_output_type(0));
    }
    let rank = out.shape.rank();
    let ax = if axis < 0 { axis + rank as i32 } else { axis };
    if ax < 0 || ax >= rank as i32 {
        return Err(ctx.bad_option("axis out of range"));
    }
    let ax = ax as usize;
    let mut concat: i64 = 0;
    for i in 0..n {
        let t = ctx.input(i)?;
        if t.dtype != dtype {
            return Err(ctx.bad_input_type(i));
        }
        if t.shape.rank() != rank {
            return Err(ctx.shape_mismatch(ctx.input_index(i)));
        }
        for j in 0..rank {
            if j != ax && t.shape.dims()[j] != out.shape.dims()[j] {
                return Err(ctx.shape_mismatch(ctx.input_index(i)));
            }
        }
        concat += t.shape.dims()[ax] as i64;
        match dtype {
            DType::I8
                if t.quant.scale() != out.quant.scale()
                    || t.quant.zero_point() != out.quant.zero_point() =>
            {
                return Err(ctx.bad_quant(ctx.input_index(i)));
            }
            DType::I16 if t.quant.zero_point() != 0 => {
                return Err(ctx.bad_quant(ctx.input_index(i)))
            }
            _ => {}
        }
    }
    if dtype == DType::I16 && out.quant.zero_point() != 0 {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    if concat != out.shape.dims()[ax] as i64 {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let outer: usize = out.shape.dims()[..ax].iter().map(|&d| d as usize).product();
    Ok(Params {
        _pad: [0; 3],
        outer: outer as u32,
        n_inputs: n as u8,
    })
}

/// Compute: for each outer slab, copy each input's slab in turn. An input's slab size is its
/// byte length divided by `outer` (the interpreter guarantees buffer lengths match the shapes).
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let err = Error::InvalidGraph {
        what: "CONCATENATION buffer size",
        index: 0,
    };
    let outer = p.outer as usize;
    let out = ctx.outputs.get_mut(0).ok_or(err)?;
    if outer == 0 {
        return Ok(());
    }
    let inputs = ctx.inputs.get(..p.n_inputs as usize).ok_or(err)?;
    let mut dst = 0usize;
    for k in 0..outer {
        for inp in inputs {
            let slab = inp.len() / outer;
            let src = inp.get(k * slab..(k + 1) * slab).ok_or(err)?;
            copy_bytes(out.get_mut(dst..dst + slab).ok_or(err)?, src);
            dst += slab;
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    outer: u32,
    n_inputs: u8,
    _pad: [u8; 3]
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::BuiltinOp;

    fn prep(
        ins: &[crate::model::Tensor<'static>],
        out: crate::model::Tensor<'static>,
        axis: i32,
    ) -> Result<Params, Error> {
        with_ctx(BuiltinOp::CONCATENATION, ins, &[out], |ctx| {
            prepare_with(ctx, axis, 0)
        })
    }

    #[test]
    fn concat_last_axis_negative() {
        let q = |d: &[i32]| qt(DType::I8, d, 0.1, 3);
        let p = prep(&[q(&[2, 1]), q(&[2, 2])], q(&[2, 3]), -1).unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[&bytes(&[1, 2]), &bytes(&[10, 11, 20, 21])],
            &[6],
        )
        .unwrap();
        assert_eq!(b_i8(&out[0]), [1, 10, 11, 2, 20, 21]);
    }

    #[test]
    fn concat_first_and_middle_axis_three_inputs_int32() {
        let p = prep(
            &[
                t(DType::I32, &[1, 2]),
                t(DType::I32, &[2, 2]),
                t(DType::I32, &[1, 2]),
            ],
            t(DType::I32, &[4, 2]),
            0,
        )
        .unwrap();
        let out = run_prepared(
            &p,
            eval,
            &[
                &bytes32(&[1, 2]),
                &bytes32(&[3, 4, 5, 6]),
                &bytes32(&[-7, 8]),
            ],
            &[32],
        )
        .unwrap();
        assert_eq!(out[0], bytes32(&[1, 2, 3, 4, 5, 6, -7, 8]));
        let p = prep(
            &[t(DType::I16, &[2, 1, 2]), t(DType::I16, &[2, 2, 2])],
            t(DType::I16, &[2, 3, 2]),
            1,
        )
        .unwrap();
        let a: std::vec::Vec<u8> = [1i16, 2, 3, 4]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let b: std::vec::Vec<u8> = [10i16, 11, 12, 13, 20, 21, 22, 23]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let out = run_prepared(&p, eval, &[&a, &b], &[24]).unwrap();
        let want: std::vec::Vec<u8> = [1i16, 2, 10, 11, 12, 13, 3, 4, 20, 21, 22, 23]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        assert_eq!(out[0], want);
    }

    #[test]
    fn rejects_requantization_and_bad_shapes() {
        let p = prep(
            &[qt(DType::I8, &[2], 0.1, 0), qt(DType::I8, &[2], 0.2, 0)],
            qt(DType::I8, &[4], 0.1, 0),
            0,
        );
        assert!(p.is_err());
        let p = prep(
            &[
                qt(DType::I8, &[2, 2], 0.1, 0),
                qt(DType::I8, &[3, 2], 0.1, 0),
            ],
            qt(DType::I8, &[2, 4], 0.1, 0),
            1,
        );
        assert!(p.is_err());
        let p = prep(
            &[qt(DType::I8, &[2], 0.1, 0)],
            qt(DType::I8, &[2], 0.1, 0),
            1,
        );
        assert!(p.is_err());
        let u = |d: &[i32]| qt(DType::U8, d, 0.1, 0);
        assert!(prep(&[u(&[1]), u(&[1])], u(&[2]), 0).is_err());
    }
}
