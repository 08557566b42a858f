//! MEAN, int8/int16, over any set of axes (constant axis tensor), with or without keep_dims.
//!
//! Matches the TFLM build the oracle runs (`reduce_common.cc` `EvalMeanHelper`), whose integer
//! path always goes through `reference_ops::QuantizedMeanOrSum` (reduce.h), whether or not input
//! and output quantization are equal and including the 4-D mean over H and W (older TFLM had
//! separate `Mean`/`integer_ops::Mean` paths there; the current one does not):
//!
//! 1. `QuantizeMultiplier(in_scale / out_scale)` in double (`PrepareMeanOrSumHelper`);
//! 2. fold `1/n` (`n` = elements per mean) into it: with `k = min(floor(log2 n), 32, 31 + shift)`,
//!    `mult = (mult << k) / n` (int64, truncating) and `shift -= k`;
//! 3. per output: `sum` of the raw inputs in int32, `sum - in_zp * n` (int64, cast to int32),
//!    `MultiplyByQuantizedMultiplier`, `+ out_zp`, clamp to the type's range.
//!
//! TFLM accumulates with a scratch buffer while walking the input once; we sum each output's
//! elements directly (no scratch), which gives the same int32 sums (wrapping addition commutes).

use super::common::{per_tensor_quant, prepare_multiplier, read_const_i32s};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::multiply_by_quantized_multiplier;
use crate::model::{DType, MAX_RANK};

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Input dims fused into groups of like kind (kept or reduced), outermost first.
    pub dims: [u32; MAX_RANK],
    /// Bit `g` set if group `g` is reduced.
    pub reduced: u8,
    /// Number of groups in use.
    pub n_groups: u8,
    /// True for int16 data (else int8).
    pub int16: bool,
    /// True if some input dimension is 0: the output is all zeros, as TFLM leaves it.
    pub empty: bool,
    /// Elements averaged per output (`n`).
    pub count: u32,
    /// Input zero point.
    pub in_zp: i32,
    /// Output zero point.
    pub out_zp: i32,
    /// Multiplier with `1/n` folded in (Q31).
    pub mult: i32,
    /// Shift with `1/n` folded in (positive = left).
    pub shift: i32,
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    // keep_dims (ReducerOptions slot 0) only changes the output shape, which the model states.
    let (input, out) = (ctx.input(0)?, ctx.output(0)?);
    let int16 = match input.dtype {
        DType::I8 => false,
        DType::I16 => true,
        _ => return Err(ctx.bad_input_type(0)),
    };
    if out.dtype != input.dtype {
        return Err(ctx.bad_output_type(0));
    }
    for (t, idx) in [(&input, ctx.input_index(0)), (&out, ctx.output_index(0))] {
        if per_tensor_quant(t).is_none() {
            return Err(ctx.bad_quant(idx));
        }
    }
    let mut axes = [0i32; 16];
    let n_axes = read_const_i32s(ctx, 1, "non-constant or oversized axis tensor", &mut axes)?;
    let rank = input.shape.rank();
    // TFLM ResolveAxis: negative axes count from the end; duplicates are ignored; scalars
    // ignore the axis list altogether.
    let mut is_reduced = [false; MAX_RANK];
    if rank > 0 {
        for &a in &axes[..n_axes] {
            let r = if a < 0 { a + rank as i32 } else { a };
            if r < 0 || r >= rank as i32 {
                return Err(ctx.bad_option("axis out of range"));
            }
            is_reduced[r as usize] = true;
        }
    }
    let dims = input.shape.dims();
    let mut p = Params {
        int16,
        ..Params::default()
    };
    let mut count: u64 = 1;
    let mut kept: u64 = 1;
    for (i, &d) in dims.iter().enumerate() {
        let d = d as u32;
        if d == 0 {
            p.empty = true;
        }
        if is_reduced[i] {
            count = count.saturating_mul(d as u64);
        } else {
            kept = kept.saturating_mul(d as u64);
        }
        if d == 1 {
            continue; // size-1 dims affect neither order nor offsets
        }
        let g = p.n_groups as usize;
        if g > 0 && ((p.reduced >> (g - 1)) & 1 == 1) == is_reduced[i] {
            // Saturating: only a shape with a 0 dimension (p.empty, nothing to compute) can
            // have dims whose product passes u32 (the reader checks the element count).
            p.dims[g - 1] = p.dims[g - 1].saturating_mul(d);
        } else {
            p.dims[g] = d;
            p.reduced |= (is_reduced[i] as u8) << g;
            p.n_groups += 1;
        }
    }
    if out.shape.elements() != Some(kept as usize) {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    p.count = count as u32;
    p.in_zp = input.quant.zero_point();
    p.out_zp = out.quant.zero_point();
    let real = input.quant.scale() as f64 / out.quant.scale() as f64;
    // TFLM `QuantizeMultiplier`: an infinite multiplier (a zero output scale) is refused; zero
    // and negative ones are quantized like any other.
    let (mut mult, mut shift) = prepare_multiplier(ctx, real)?;
    if count > 0 {
        let k = (63 - count.leading_zeros() as i32).min(32).min(31 + shift);
        mult = (((mult as i64) << k) / count as i64) as i32;
        shift -= k;
    }
    p.mult = mult;
    p.shift = shift;
    Ok(p)
}

/// Calls `f(offset)` for every element offset of a row-major walk over `(size, stride)` pairs
/// (outermost first).
fn walk(
    groups: &[(usize, usize)],
    mut f: impl FnMut(usize) -> Result<(), Error>,
) -> Result<(), Error> {
    let n = groups.len();
    if groups.iter().any(|&(s, _)| s == 0) {
        return Ok(());
    }
    let mut idx = [0usize; MAX_RANK];
    let mut off = 0usize;
    loop {
        f(off)?;
        let mut g = n;
        loop {
            if g == 0 {
                return Ok(());
            }
            g -= 1;
            let (size, stride) = groups[g];
            idx[g] += 1;
            off += stride;
            if idx[g] < size {
                break;
            }
            off -= stride * size;
            idx[g] = 0;
        }
    }
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(0);
    let out = crate::ops::quantize::output0(ctx)?;
    if p.empty {
        out.fill(0);
        return Ok(());
    }
    let err = Error::InvalidGraph {
        what: "MEAN buffer size",
        index: 0,
    };
    // Split the fused groups into kept and reduced walks with element strides.
    let n = (p.n_groups as usize).min(MAX_RANK);
    let (mut kept, mut red) = ([(0usize, 0usize); MAX_RANK], [(0usize, 0usize); MAX_RANK]);
    let (mut nk, mut nr) = (0, 0);
    let mut stride = 1usize;
    for g in (0..n).rev() {
        let size = p.dims[g] as usize;
        if (p.reduced >> g) & 1 == 1 {
            red[nr] = (size, stride);
            nr += 1;
        } else {
            kept[nk] = (size, stride);
            nk += 1;
        }
        stride *= size;
    }
    kept[..nk].reverse();
    red[..nr].reverse();
    let (kept, red) = (&kept[..nk], &red[..nr]);
    let (w, lo, hi) = if p.int16 {
        (2, i16::MIN as i32, i16::MAX as i32)
    } else {
        (1, i8::MIN as i32, i8::MAX as i32)
    };
    let get = |i: usize| -> Option<i32> {
        if w == 2 {
            let b = input.get(2 * i..2 * i + 2)?;
            Some(i16::from_le_bytes([b[0], b[1]]) as i32)
        } else {
            input.get(i).map(|&b| b as i8 as i32)
        }
    };
    let zp_n = p.in_zp as i64 * p.count as i64;
    let mut o = 0usize;
    walk(kept, |base| {
        let mut sum: i32 = 0;
        walk(red, |off| {
            sum = sum.wrapping_add(get(base + off).ok_or(err)?);
            Ok(())
        })?;
        let shifted = (sum as i64 - zp_n) as i32;
        let v = multiply_by_quantized_multiplier(shifted, p.mult, p.shift)
            .wrapping_add(p.out_zp)
            .clamp(lo, hi);
        let dst = out.get_mut(o * w..o * w + w).ok_or(err)?;
        if w == 2 {
            dst.copy_from_slice(&(v as i16).to_le_bytes());
        } else {
            dst[0] = v as i8 as u8;
        }
        o += 1;
        Ok(())
    })
}

crate::ops::stored::no_uninit!(Params {
    dims: [u32; MAX_RANK],
    reduced: u8,
    n_groups: u8,
    int16: bool,
    empty: bool,
    count: u32,
    in_zp: i32,
    out_zp: i32,
    mult: i32,
    shift: i32
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::BuiltinOp;

    fn mean(
        dims: &[i32],
        axes: &[i32],
        out_dims: &[i32],
        qi: (f32, i64),
        qo: (f32, i64),
    ) -> Result<Params, Error> {
        let ins = [
            qt(DType::I8, dims, qi.0, qi.1),
            ci32(&[axes.len() as i32], axes),
        ];
        let outs = [qt(DType::I8, out_dims, qo.0, qo.1)];
        with_ctx(BuiltinOp::MEAN, &ins, &outs, |ctx| prepare(ctx))
    }

    #[test]
    fn mean_over_hw_keep_dims_same_quant() {
        // [1,2,2,2] over H,W: per channel mean of 4 values; same quantization (scale 1, zp 0).
        let p = mean(&[1, 2, 2, 2], &[1, 2], &[1, 1, 1, 2], (1.0, 0), (1.0, 0)).unwrap();
        let x = bytes(&[1, -1, 2, -2, 3, -3, 5, -4]);
        let out = run_prepared(&p, eval, &[&x], &[2]).unwrap();
        // ch0: 11/4 = 2.75 -> 3; ch1: -10/4 = -2.5 -> -3 (ties away from zero).
        assert_eq!(b_i8(&out[0]), [3, -3]);
    }

    #[test]
    fn negative_axis_and_zero_points() {
        // [2,3] over axis -1; in zp 10, out scale 0.5 zp -2: out = round(2 * mean(x - 10)) - 2.
        let p = mean(&[2, 3], &[-1], &[2], (1.0, 10), (0.5, -2)).unwrap();
        let x = bytes(&[10, 11, 13, 0, 1, 2]);
        let out = run_prepared(&p, eval, &[&x], &[2]).unwrap();
        // row0: mean 4/3 -> 2.666 -> 3, -2 = 1; row1: mean -9 -> -18 - 2 = -20.
        assert_eq!(b_i8(&out[0]), [1, -20]);
    }

    #[test]
    fn first_and_middle_axes_with_duplicates() {
        // [2,2,3] over axes {0, 2, -1}: output [2] (the middle dim), 6 values each.
        let p = mean(&[2, 2, 3], &[0, 2, -1], &[2], (1.0, 0), (1.0, 0)).unwrap();
        assert_eq!(p.count, 6);
        let x = bytes(&[1, 2, 3, 10, 20, 30, 4, 5, 6, -10, -20, -31]);
        let out = run_prepared(&p, eval, &[&x], &[2]).unwrap();
        // 21/6 = 3.5 -> 4; -1/6 -> 0.
        assert_eq!(b_i8(&out[0]), [4, 0]);
    }

    #[test]
    fn saturates_and_rejects_bad_axes() {
        let p = mean(&[4], &[0], &[1], (1.0, 0), (0.01, 0)).unwrap();
        let out = run_prepared(&p, eval, &[&bytes(&[5, 5, 5, 5])], &[1]).unwrap();
        assert_eq!(b_i8(&out[0]), [127]);
        assert!(mean(&[4], &[1], &[1], (1.0, 0), (1.0, 0)).is_err());
        assert!(mean(&[2, 4], &[1], &[4], (1.0, 0), (1.0, 0)).is_err());
    }
}
