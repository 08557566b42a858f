//! STRIDED_SLICE, int8/int16/int32/bool, input rank <= 5, constant begin/end/strides.
//!
//! Matches TFLM `strided_slice_common.cc` and the reference `strided_slice.h` /
//! `strided_slice_logic.h`:
//! - begin_mask, end_mask and shrink_axis_mask are honoured; TFLM builds its parameters with
//!   `ellipsis_mask = new_axis_mask = 0` and never sets `offset`, so those options are ignored
//!   here too (a model that relies on them fails the output-shape check, as in TFLM);
//! - per axis (after left-padding to 5 dims with full ranges): a negative begin/end gets the dim
//!   size added, then is clamped to `[0, size]` (`[-1, size-1]` for negative strides); masks
//!   then force the full range; a shrunk axis takes one element at `begin`;
//! - Prepare's output-shape check uses TFLM's `StartForAxis`/`StopForAxis` and
//!   `ceil((end - begin) / (float)stride)`.
//!
//! TFLM allows rank <= 4; its reference loop handles 5, and so do we.

use super::common::{copy_bytes, raw_copy_operands, read_const_i32s};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::model::DType;

/// Dimensions of the reference loop nest.
const DIMS: usize = 5;

/// Prepared parameters: the walk over the input, as element offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Params {
    /// Element offset of the first element read.
    pub base: u32,
    /// Element step per iteration of each of the 5 loops (may be negative).
    pub step: [i32; DIMS],
    /// Iterations of each loop.
    pub count: [u32; DIMS],
    /// Bytes per element.
    pub elem: u8,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
}

/// The masks TFLM honours (StridedSliceOptions slots 0, 1 and 4).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Masks {
    /// begin_mask
    pub begin: u32,
    /// end_mask
    pub end: u32,
    /// shrink_axis_mask
    pub shrink: u32,
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let o = ctx.options;
    let m = Masks {
        begin: o.i32(0, 0)? as u32,
        end: o.i32(1, 0)? as u32,
        shrink: o.i32(4, 0)? as u32,
    };
    prepare_with(ctx, m)
}

/// TFLM `strided_slice::Clamp`.
fn clamp(v: i32, lo: i32, hi: i32) -> i32 {
    if hi < v {
        hi
    } else if v < lo {
        lo
    } else {
        v
    }
}

/// An index counted from the end if negative, then clamped to where a walk with `stride` can
/// start or stop: `[0, size]` forward, `[-1, size - 1]` backward.
fn wrap_clamp(v: i32, size: i32, stride: i32) -> i32 {
    let v = if v < 0 { v.wrapping_add(size) } else { v };
    if stride > 0 {
        clamp(v, 0, size)
    } else {
        clamp(v, -1, size - 1)
    }
}

/// Prepare with the masks given explicitly.
pub(crate) fn prepare_with(ctx: &mut PrepareCtx<'_, '_, '_>, m: Masks) -> Result<Params, Error> {
    let (input, out, elem) =
        raw_copy_operands(ctx, &[DType::I8, DType::Bool, DType::I16, DType::I32])?;
    let rank = input.shape.rank();
    if rank > DIMS {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    let (mut begin, mut end, mut strides) = ([0i32; DIMS], [0i32; DIMS], [0i32; DIMS]);
    let nb = read_const_i32s(ctx, 1, "non-constant or oversized begin tensor", &mut begin)?;
    let ne = read_const_i32s(ctx, 2, "non-constant or oversized end tensor", &mut end)?;
    let ns = read_const_i32s(
        ctx,
        3,
        "non-constant or oversized strides tensor",
        &mut strides,
    )?;
    if nb != rank || ne != rank || ns != rank {
        return Err(ctx.shape_mismatch(ctx.input_index(1)));
    }
    if strides[..rank].contains(&0) {
        return Err(ctx.bad_option("stride value has to be non-zero"));
    }
    let dims = input.shape.dims();
    let bit = |mask: u32, i: usize| mask & (1u32 << i) != 0;

    // TFLM CheckOutputSize (StartForAxis / StopForAxis semantics).
    let mut n_out = 0usize;
    for i in 0..rank {
        let size = dims[i];
        let stride = strides[i];
        // A masked bound is the extreme in the stride's direction: the first element for a
        // start, past the last for a stop.
        let (first, past) = if stride > 0 {
            (i32::MIN, i32::MAX)
        } else {
            (i32::MAX, i32::MIN)
        };
        let start = if size == 0 {
            0
        } else {
            let b = if bit(m.begin, i) { first } else { begin[i] };
            wrap_clamp(b, size, stride)
        };
        let stop = if size == 0 {
            0
        } else if bit(m.shrink, i) {
            start + 1
        } else {
            let e = if bit(m.end, i) { past } else { end[i] };
            wrap_clamp(e, size, stride)
        };
        let stop = if bit(m.shrink, i) { start + 1 } else { stop };
        let dim = libm::ceilf((stop - start) as f32 / stride as f32) as i32;
        let dim = dim.max(0);
        if !bit(m.shrink, i) {
            if out.shape.dims().get(n_out) != Some(&dim) {
                return Err(ctx.shape_mismatch(ctx.output_index(0)));
            }
            n_out += 1;
        }
    }
    if out.shape.rank() != n_out {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }

    // The eval walk (StridedSliceStartForAxis / StridedSliceEndForAxis on the 5-D padded view).
    let pad = DIMS - rank;
    let mut p = Params {
        _pad: Default::default(),
        elem,
        ..Params::default()
    };
    let mut in_stride = 1i64;
    let mut base = 0i64;
    let mut lo = 0i64; // lowest and highest element offset the walk touches
    let mut hi = 0i64;
    let mut total = 1u64;
    for k in (0..DIMS).rev() {
        let (size, b, e, stride, bm, em, sh) = if k < pad {
            (1, 0, 1, 1, true, true, false)
        } else {
            let i = k - pad;
            (
                dims[i],
                begin[i],
                end[i],
                strides[i],
                bit(m.begin, i),
                bit(m.end, i),
                bit(m.shrink, i),
            )
        };
        let mut start = wrap_clamp(b, size, stride);
        if bm {
            start = if stride > 0 { 0 } else { size - 1 };
        }
        let stop = if sh {
            if start >= size {
                start
            } else {
                start + 1
            }
        } else {
            let mut s = wrap_clamp(e, size, stride);
            if em {
                s = if stride > 0 { size } else { -1 };
            }
            s
        };
        // Iterations of `for (x = start; stride > 0 ? x < stop : x > stop; x += stride)`.
        let span = if stride > 0 {
            stop as i64 - start as i64
        } else {
            start as i64 - stop as i64
        };
        let astride = (stride as i64).abs();
        let count = if span > 0 {
            (span + astride - 1) / astride
        } else {
            0
        };
        let step = stride as i64 * in_stride;
        base += start as i64 * in_stride;
        if count > 0 {
            let last = (count - 1) * step;
            lo += last.min(0);
            hi += last.max(0);
        }
        p.count[k] = count as u32;
        p.step[k] = i32::try_from(step).map_err(|_| ctx.shape_mismatch(ctx.input_index(0)))?;
        total = total.saturating_mul(count as u64);
        in_stride *= size as i64;
    }
    // TFLM writes exactly the walk's elements: they must fill the output (else TFLM would leave
    // garbage or overrun) and stay inside the input.
    if Some(total as usize) != out.shape.elements() {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    if total > 0 {
        let n_in = input.shape.elements().unwrap_or(0) as i64;
        if base + lo < 0 || base + hi >= n_in {
            return Err(ctx.bad_option("slice outside the input"));
        }
        p.base = base as u32;
    }
    Ok(p)
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let err = Error::InvalidGraph {
        what: "STRIDED_SLICE buffer size",
        index: 0,
    };
    let input = ctx.input(0);
    let out = ctx.outputs.get_mut(0).ok_or(err)?;
    if p.count.contains(&0) {
        return Ok(());
    }
    let w = p.elem as usize;
    let mut count = p.count.map(|n| n as usize);
    let s = |k: usize| p.step[k] as isize;
    // A row is the innermost dimension's walk when its step is one element; each outer
    // dimension that continues the row in the input (its step equals the row so far, or it
    // walks once) folds into it, so a slice of whole rows is one copy, not one per row.
    let mut run = count[4];
    if s(4) == 1 {
        let mut k = 4;
        while k > 0 && (count[k - 1] == 1 || s(k - 1) == run as isize) {
            k -= 1;
            run *= count[k];
            count[k] = 1;
        }
    }
    let c = |k: usize| count[k];
    let mut dst = 0usize;
    let row = run * w;
    let mut o0 = p.base as isize;
    for _ in 0..c(0) {
        let mut o1 = o0;
        for _ in 0..c(1) {
            let mut o2 = o1;
            for _ in 0..c(2) {
                let mut o3 = o2;
                for _ in 0..c(3) {
                    if s(4) == 1 {
                        let a = o3 as usize * w;
                        let src = input.get(a..a + row).ok_or(err)?;
                        copy_bytes(out.get_mut(dst..dst + row).ok_or(err)?, src);
                        dst += row;
                    } else {
                        let mut o4 = o3;
                        for _ in 0..c(4) {
                            let a = o4 as usize * w;
                            let src = input.get(a..a + w).ok_or(err)?;
                            copy_bytes(out.get_mut(dst..dst + w).ok_or(err)?, src);
                            dst += w;
                            o4 += s(4);
                        }
                    }
                    o3 += s(3);
                }
                o2 += s(2);
            }
            o1 += s(1);
        }
        o0 += s(0);
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    base: u32,
    step: [i32; DIMS],
    count: [u32; DIMS],
    elem: u8,
    _pad: [u8; 3]
});

#[cfg(test)]
mod tests {
    use super::super::common::test_util::*;
    use super::*;
    use crate::model::BuiltinOp;

    fn ss(
        dims: &[i32],
        b: &[i32],
        e: &[i32],
        s: &[i32],
        m: Masks,
        out: &[i32],
    ) -> Result<Params, Error> {
        let r = dims.len() as i32;
        let ins = [
            qt(DType::I8, dims, 1.0, 0),
            ci32(&[r], b),
            ci32(&[r], e),
            ci32(&[r], s),
        ];
        with_ctx(
            BuiltinOp::STRIDED_SLICE,
            &ins,
            &[qt(DType::I8, out, 1.0, 0)],
            |ctx| prepare_with(ctx, m),
        )
    }

    fn iota(n: usize) -> std::vec::Vec<u8> {
        (0..n as u8).collect()
    }

    #[test]
    fn whole_row_slices_fold_into_one_copy_with_the_same_bytes() {
        // Every [b, e) with strides 1..=3 on each axis of [2, 3, 1, 4]: eval (which folds
        // contiguous rows into one copy) equals the walk written out index by index.
        let dims = [2usize, 3, 1, 4];
        let input = iota(24);
        let mut cases = 0;
        for mask in 0..81u32 {
            let mut axes = [(0usize, 0usize, 1usize); 4];
            let mut m = mask;
            for (a, &d) in axes.iter_mut().zip(&dims) {
                // Per axis: whole, skip the first, or step 2 (when the axis has room).
                *a = match m % 3 {
                    0 => (0, d, 1),
                    1 => (d.min(1).min(d - 1), d, 1),
                    _ => (0, d, 2),
                };
                m /= 3;
            }
            let out: std::vec::Vec<i32> = axes
                .iter()
                .map(|&(b, e, st)| e.saturating_sub(b).div_ceil(st) as i32)
                .collect();
            let mut want = std::vec::Vec::new();
            for i in (axes[0].0..axes[0].1).step_by(axes[0].2) {
                for j in (axes[1].0..axes[1].1).step_by(axes[1].2) {
                    for k in (axes[2].0..axes[2].1).step_by(axes[2].2) {
                        for l in (axes[3].0..axes[3].1).step_by(axes[3].2) {
                            want.push(input[((i * 3 + j) + k) * 4 + l]);
                        }
                    }
                }
            }
            if want.is_empty() {
                continue;
            }
            let arg = |f: fn(&(usize, usize, usize)) -> usize| -> std::vec::Vec<i32> {
                axes.iter().map(|a| f(a) as i32).collect()
            };
            let dims32: std::vec::Vec<i32> = dims.iter().map(|&d| d as i32).collect();
            let p = ss(
                &dims32,
                &arg(|a| a.0),
                &arg(|a| a.1),
                &arg(|a| a.2),
                Masks::default(),
                &out,
            )
            .unwrap();
            let got = run_prepared(&p, eval, &[&input], &[want.len()]).unwrap();
            assert_eq!(got[0], want, "axes {axes:?}");
            cases += 1;
        }
        assert!(cases > 40, "{cases}");
    }

    #[test]
    fn step_two_on_middle_axis_with_masks() {
        // x[:, 1:5:2, ...] on [2,7,3]: begin/end masks on axes 0 and 2.
        let m = Masks {
            begin: 0b101,
            end: 0b101,
            shrink: 0,
        };
        let p = ss(
            &[2, 7, 3],
            &[0, 1, 0],
            &[0, 5, 0],
            &[1, 2, 1],
            m,
            &[2, 2, 3],
        )
        .unwrap();
        let out = run_prepared(&p, eval, &[&iota(42)], &[12]).unwrap();
        assert_eq!(out[0], [3, 4, 5, 9, 10, 11, 24, 25, 26, 30, 31, 32]);
    }

    #[test]
    fn reverse_and_negative_indices() {
        // x[:, ::-1] on [2,3].
        let m = Masks {
            begin: 0b11,
            end: 0b11,
            shrink: 0,
        };
        let p = ss(&[2, 3], &[0, 0], &[0, 0], &[1, -1], m, &[2, 3]).unwrap();
        let out = run_prepared(&p, eval, &[&iota(6)], &[6]).unwrap();
        assert_eq!(out[0], [2, 1, 0, 5, 4, 3]);
        // x[-2:, -3:-1] on [3,4] -> rows 1..3, cols 1..3.
        let m = Masks {
            begin: 0,
            end: 0b01,
            shrink: 0,
        };
        let p = ss(&[3, 4], &[-2, -3], &[0, -1], &[1, 1], m, &[2, 2]).unwrap();
        let out = run_prepared(&p, eval, &[&iota(12)], &[4]).unwrap();
        assert_eq!(out[0], [5, 6, 9, 10]);
        // x[3:0:-2] on [5] -> 3, 1.
        let p = ss(&[5], &[3], &[0], &[-2], Masks::default(), &[2]).unwrap();
        let out = run_prepared(&p, eval, &[&iota(5)], &[2]).unwrap();
        assert_eq!(out[0], [3, 1]);
    }

    #[test]
    fn shrink_axis() {
        // x[..., 0] on [2,3] -> [2]; x[:, -1] (negative shrink index).
        let m = Masks {
            begin: 0b01,
            end: 0b01,
            shrink: 0b10,
        };
        let p = ss(&[2, 3], &[0, 0], &[0, 1], &[1, 1], m, &[2]).unwrap();
        assert_eq!(
            run_prepared(&p, eval, &[&iota(6)], &[2]).unwrap()[0],
            [0, 3]
        );
        let p = ss(&[2, 3], &[0, -1], &[0, 0], &[1, 1], m, &[2]).unwrap();
        assert_eq!(
            run_prepared(&p, eval, &[&iota(6)], &[2]).unwrap()[0],
            [2, 5]
        );
    }

    #[test]
    fn rank5_and_shape_checks() {
        let m = Masks {
            begin: 0b11101,
            end: 0b11101,
            shrink: 0,
        };
        let p = ss(
            &[1, 2, 1, 1, 3],
            &[0, 1, 0, 0, 0],
            &[0, 2, 0, 0, 0],
            &[1, 1, 1, 1, 2],
            m,
            &[1, 1, 1, 1, 2],
        )
        .unwrap();
        assert_eq!(
            run_prepared(&p, eval, &[&iota(6)], &[2]).unwrap()[0],
            [3, 5]
        );
        // Wrong output shape, zero stride, non-constant begin.
        assert!(ss(&[4], &[0], &[2], &[1], Masks::default(), &[3]).is_err());
        assert!(ss(&[4], &[0], &[2], &[0], Masks::default(), &[2]).is_err());
        let ins = [
            qt(DType::I8, &[4], 1.0, 0),
            t(DType::I32, &[1]),
            ci32(&[1], &[2]),
            ci32(&[1], &[1]),
        ];
        let r = with_ctx(
            BuiltinOp::STRIDED_SLICE,
            &ins,
            &[qt(DType::I8, &[2], 1.0, 0)],
            |ctx| prepare_with(ctx, Masks::default()),
        );
        assert!(r.is_err());
    }
}
