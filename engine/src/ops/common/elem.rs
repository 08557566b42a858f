//! Element-wise operators' helpers: activation ranges, broadcasting, constant-input readers (ADD/SUB/MUL/MEAN/PAD/...).

use super::*;

// ---------------------------------------------------------------------------------------------
// ops-elem: activation ranges, broadcasting, constant-input readers (ADD/SUB/MUL/MEAN/PAD/...).
// ---------------------------------------------------------------------------------------------

// No `use` lines here (this section is appended to a shared file): paths are spelled out.

/// Reads a constant int32 input tensor (axis, paddings, begin/end/strides, size_splits) at
/// prepare time: `Some(values)` as little-endian words, `None` if the tensor has no constant
/// data. The caller checks the dtype.
pub fn const_i32s<'m>(t: &crate::model::Tensor<'m>) -> Option<impl Iterator<Item = i32> + 'm> {
    let d = t.data?;
    Some(
        d.chunks_exact(4)
            .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    )
}

/// Input `i` as a constant int32 vector copied into `out` (returns the count), or
/// `bad_option(what)` if it is not a constant int32 tensor of at most `out.len()` values.
pub fn read_const_i32s(
    ctx: &crate::ops::PrepareCtx<'_, '_, '_>,
    i: usize,
    what: &'static str,
    out: &mut [i32],
) -> Result<usize, crate::error::Error> {
    let t = ctx.input(i)?;
    if t.dtype != crate::model::DType::I32 {
        return Err(ctx.bad_input_type(i));
    }
    let vals = const_i32s(&t).ok_or(ctx.bad_option(what))?;
    let mut n = 0;
    for v in vals {
        *out.get_mut(n).ok_or(ctx.bad_option(what))? = v;
        n += 1;
    }
    Ok(n)
}

/// Input 0 and output 0 of an operator that moves elements without reading them (PAD,
/// STRIDED_SLICE), with the element size in bytes: input 0 must be one of `types` and output 0
/// of the same type (TFLM's `TF_LITE_ENSURE_TYPES_EQ`), checked in that order.
pub fn raw_copy_operands<'m>(
    ctx: &PrepareCtx<'_, 'm, '_>,
    types: &[DType],
) -> Result<(crate::model::Tensor<'m>, crate::model::Tensor<'m>, u8), Error> {
    let (input, out) = (ctx.input(0)?, ctx.output(0)?);
    if !types.contains(&input.dtype) {
        return Err(ctx.bad_input_type(0));
    }
    if out.dtype != input.dtype {
        return Err(ctx.bad_output_type(0));
    }
    Ok((input, out, input.dtype.size() as u8))
}

/// The broadcast of two shapes (numpy rules, right-aligned), or `None` if incompatible.
pub fn broadcast_shape(
    a: &crate::model::Shape,
    b: &crate::model::Shape,
) -> Option<crate::model::Shape> {
    let rank = a.rank().max(b.rank());
    let ea = a.extended(rank)?;
    let eb = b.extended(rank)?;
    let mut dims = [0i32; crate::model::MAX_RANK];
    for ((d, &x), &y) in dims.iter_mut().zip(ea.dims()).zip(eb.dims()) {
        *d = if x == y || y == 1 {
            x
        } else if x == 1 {
            y
        } else {
            return None;
        };
    }
    crate::model::Shape::new(&dims[..rank])
}

/// A binary elementwise iteration space with numpy broadcasting, as TFLM's
/// `BroadcastBinaryOpSimple` walks it: output dims of size 1 are dropped and adjacent dims with
/// the same broadcast pattern are fused, so most cases collapse to one or two loops.
///
/// `dims[0]` is the innermost fused dimension. Bit `g` of `a_bcast`/`b_bcast` says operand a/b
/// is broadcast (stride 0) along fused dim `g`. The order of elements is the output's row-major
/// order, so results do not depend on the fusion.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Broadcast {
    /// Fused dimension sizes, innermost first.
    pub dims: [u32; crate::model::MAX_RANK],
    /// Number of fused dims in use (0 means a single element).
    pub n: u8,
    /// Broadcast bits of operand a.
    pub a_bcast: u8,
    /// Broadcast bits of operand b.
    pub b_bcast: u8,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: u8,
}

crate::ops::stored::no_uninit!(Window2D {
    batches: u16,
    in_h: u16,
    in_w: u16,
    out_h: u16,
    out_w: u16,
    filter_h: u16,
    filter_w: u16,
    stride_h: u16,
    stride_w: u16,
    dilation_h: u16,
    dilation_w: u16,
    pad_h: u16,
    pad_w: u16,
});
crate::ops::stored::no_uninit!(ChannelQuant {
    span: Span,
    multiplier: i32,
    shift: i32
});
crate::ops::stored::no_uninit!(PoolParams {
    win: Window2D,
    channels: u16,
    act_min: i32,
    act_max: i32
});
crate::ops::stored::no_uninit!(Broadcast {
    dims: [u32; crate::model::MAX_RANK],
    n: u8,
    a_bcast: u8,
    b_bcast: u8,
    _pad: u8
});

impl Broadcast {
    /// The iteration space for `a op b -> out`, or `None` unless `out` is the numpy broadcast of
    /// `a` and `b`. As in TFLM's `BroadcastBinaryOpSimple`, all three shapes are first
    /// left-extended with 1s to the largest of their ranks, so e.g. `[3] + [1] -> [1, 3]` is fine.
    pub fn new(
        a: &crate::model::Shape,
        b: &crate::model::Shape,
        out: &crate::model::Shape,
    ) -> Option<Broadcast> {
        let rank = a.rank().max(b.rank()).max(out.rank());
        let ea = a.extended(rank)?;
        let eb = b.extended(rank)?;
        let out = out.extended(rank)?;
        // Compare dims, not `Shape`s: unused slots differ between `new` and `extended`.
        if broadcast_shape(&ea, &eb)?.dims() != out.dims() {
            return None;
        }
        let mut bc = Broadcast::default();
        for i in (0..rank).rev() {
            let od = out.dims()[i];
            let (ad, bd) = (ea.dims()[i], eb.dims()[i]);
            if (ad != od && ad != 1) || (bd != od && bd != 1) {
                return None;
            }
            if od == 1 {
                continue;
            }
            let (ab, bb) = (ad == 1, bd == 1);
            let n = bc.n as usize;
            if n > 0
                && ((bc.a_bcast >> (n - 1)) & 1 == 1) == ab
                && ((bc.b_bcast >> (n - 1)) & 1 == 1) == bb
            {
                bc.dims[n - 1] = bc.dims[n - 1].checked_mul(od as u32)?;
            } else {
                bc.dims[n] = od as u32;
                bc.a_bcast |= (ab as u8) << n;
                bc.b_bcast |= (bb as u8) << n;
                bc.n += 1;
            }
        }
        Some(bc)
    }

    /// Calls `f(a_offset, a_is_scalar, b_offset, b_is_scalar, out_offset, len)` for each
    /// contiguous output run, in output order. Offsets are in elements. Stops at the first error.
    pub fn for_each_run(
        &self,
        mut f: impl FnMut(usize, bool, usize, bool, usize, usize) -> Result<(), crate::error::Error>,
    ) -> Result<(), crate::error::Error> {
        const R: usize = crate::model::MAX_RANK;
        let n = (self.n as usize).min(R);
        if n == 0 {
            return f(0, false, 0, false, 0, 1);
        }
        // Element strides of each fused dim for a, b and out.
        let mut sa = [0usize; R];
        let mut sb = [0usize; R];
        let mut so = [0usize; R];
        let (mut acc_a, mut acc_b, mut acc_o) = (1usize, 1usize, 1usize);
        for g in 0..n {
            let d = self.dims[g] as usize;
            let ab = (self.a_bcast >> g) & 1 == 1;
            let bb = (self.b_bcast >> g) & 1 == 1;
            sa[g] = if ab { 0 } else { acc_a };
            sb[g] = if bb { 0 } else { acc_b };
            so[g] = acc_o;
            if !ab {
                acc_a *= d;
            }
            if !bb {
                acc_b *= d;
            }
            acc_o *= d;
        }
        let len = self.dims[0] as usize;
        let a_scalar = self.a_bcast & 1 == 1;
        let b_scalar = self.b_bcast & 1 == 1;
        // Odometer over the outer fused dims 1..n.
        let mut idx = [0usize; R];
        let (mut oa, mut ob, mut oo) = (0usize, 0usize, 0usize);
        loop {
            f(oa, a_scalar, ob, b_scalar, oo, len)?;
            let mut g = 1;
            loop {
                if g >= n {
                    return Ok(());
                }
                idx[g] += 1;
                oa += sa[g];
                ob += sb[g];
                oo += so[g];
                if idx[g] < self.dims[g] as usize {
                    break;
                }
                oa -= sa[g] * idx[g];
                ob -= sb[g] * idx[g];
                oo -= so[g] * idx[g];
                idx[g] = 0;
                g += 1;
            }
        }
    }
}

/// Applies `op` elementwise over byte-sized operands with broadcasting (int8/uint8 kernels).
///
/// The slices must hold the element counts the shapes given to [`Broadcast::new`] imply;
/// otherwise `err` is returned.
pub fn broadcast_bytes(
    bc: &Broadcast,
    a: &[u8],
    b: &[u8],
    out: &mut [u8],
    err: crate::error::Error,
    op: impl Fn(u8, u8) -> u8,
) -> Result<(), crate::error::Error> {
    bc.for_each_run(|ao, a_sc, bo, b_sc, oo, len| {
        let o = out.get_mut(oo..oo + len).ok_or(err)?;
        let ra = a.get(ao..ao + if a_sc { 1 } else { len }).ok_or(err)?;
        let rb = b.get(bo..bo + if b_sc { 1 } else { len }).ok_or(err)?;
        match (a_sc, b_sc) {
            (false, false) => o
                .iter_mut()
                .zip(ra.iter().zip(rb))
                .for_each(|(o, (&x, &y))| *o = op(x, y)),
            (true, false) => {
                let x = ra[0];
                o.iter_mut().zip(rb).for_each(|(o, &y)| *o = op(x, y));
            }
            (false, true) => {
                let y = rb[0];
                o.iter_mut().zip(ra).for_each(|(o, &x)| *o = op(x, y));
            }
            (true, true) => {
                let v = op(ra[0], rb[0]);
                o.iter_mut().for_each(|o| *o = v);
            }
        }
        Ok(())
    })
}

/// The eval of a two-input element-wise op (ADD, SUB, MUL, ...): `out[i] = f(a[j], b[k])`
/// over the prepared broadcast; `what` names the op in the size error.
pub fn eval_binary(
    bc: &Broadcast,
    ctx: &mut super::super::EvalCtx<'_, '_>,
    what: &'static str,
    f: impl Fn(u8, u8) -> u8,
) -> Result<(), Error> {
    let (a, b) = (ctx.input(0), ctx.input(1));
    let out = crate::ops::quantize::output0(ctx)?;
    broadcast_bytes(bc, a, b, out, Error::InvalidGraph { what, index: 0 }, f)
}

/// The two inputs and the output of an int8 binary element-wise op (ADD, SUB, MUL), validated
/// as TFLM's prepares do: all int8, each quantized per tensor, shapes broadcastable to the
/// output (rank <= 6).
pub struct BinaryOperands<'m> {
    /// First input.
    pub a: crate::model::Tensor<'m>,
    /// Second input.
    pub b: crate::model::Tensor<'m>,
    /// Output.
    pub out: crate::model::Tensor<'m>,
    /// How the inputs broadcast to the output.
    pub bc: Broadcast,
}

/// Validate the operands of an int8 binary element-wise op (see [`BinaryOperands`]).
pub fn binary_int8_operands<'m>(ctx: &PrepareCtx<'_, 'm, '_>) -> Result<BinaryOperands<'m>, Error> {
    let (a, b, out) = (ctx.input(0)?, ctx.input(1)?, ctx.output(0)?);
    if a.dtype != DType::I8 {
        return Err(ctx.bad_input_type(0));
    }
    if b.dtype != DType::I8 {
        return Err(ctx.bad_input_type(1));
    }
    if out.dtype != DType::I8 {
        return Err(ctx.bad_output_type(0));
    }
    let bc = Broadcast::new(&a.shape, &b.shape, &out.shape)
        .ok_or(ctx.shape_mismatch(ctx.output_index(0)))?;
    for (t, idx) in [
        (&a, ctx.input_index(0)),
        (&b, ctx.input_index(1)),
        (&out, ctx.output_index(0)),
    ] {
        if per_tensor_quant(t).is_none() {
            return Err(ctx.bad_quant(idx));
        }
    }
    Ok(BinaryOperands { a, b, out, bc })
}
