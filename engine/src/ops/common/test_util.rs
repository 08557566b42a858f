//! Test scaffolding shared by the kernels' unit tests: build tensors, prepare contexts, and run
//! prepare + eval (measure pass, then a real pass) the way the interpreter will.

use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use crate::error::Error;
use crate::model::{BuiltinOp, DType, F32s, I64s, Options, Quant, Shape, Tensor};
use crate::ops::common::{prepare_pool_with, Activation, Padding, PoolParams, WindowOptions};
use crate::ops::{EvalCtx, PrepareCtx, WordAlloc};

/// An operand for [`run`]: its tensor and bytes (`None`: an absent optional input).
pub type Input = Option<(Tensor<'static>, Vec<u8>)>;

/// Window options with the same stride and dilation on both axes.
pub fn window(padding: Padding, stride: i32, dilation: i32) -> WindowOptions {
    WindowOptions {
        padding,
        stride_h: stride,
        stride_w: stride,
        dilation_h: dilation,
        dilation_w: dilation,
    }
}

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

/// A tensor with the given quantization (per channel along `axis` if several scales).
pub fn tensor(
    dtype: DType,
    dims: &[i32],
    scales: &[f32],
    zps: &[i64],
    axis: i32,
) -> Tensor<'static> {
    let s: Vec<u8> = scales.iter().flat_map(|v| v.to_le_bytes()).collect();
    let z: Vec<u8> = zps.iter().flat_map(|v| v.to_le_bytes()).collect();
    Tensor {
        name: "",
        dtype,
        shape: Shape::new(dims).unwrap(),
        quant: Quant {
            scales: F32s(leak(s)),
            zero_points: I64s(leak(z)),
            axis,
        },
        data: None,
        buffer: 0,
        is_variable: false,
    }
}

/// A tensor with per-tensor quantization.
pub fn qt(dtype: DType, dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
    tensor(dtype, dims, &[scale], &[zp], 0)
}

/// An int8 per-tensor tensor.
pub fn i8t(dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
    qt(DType::I8, dims, scale, zp)
}

/// An unquantized tensor.
pub fn t(dtype: DType, dims: &[i32]) -> Tensor<'static> {
    tensor(dtype, dims, &[], &[], 0)
}

/// An int32 bias (unquantized: the int8 kernels never read its scale).
pub fn bias(n: i32) -> Tensor<'static> {
    t(DType::I32, &[n])
}

/// A constant int32 tensor.
pub fn ci32(dims: &[i32], vals: &[i32]) -> Tensor<'static> {
    let mut x = t(DType::I32, dims);
    x.data = Some(leak(bytes32(vals)));
    x
}

/// Int8 values as raw bytes.
pub fn bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

/// Raw bytes as int8 values.
pub fn b_i8(v: &[u8]) -> Vec<i8> {
    v.iter().map(|&x| x as i8).collect()
}

/// Int32 values as little-endian bytes.
pub fn bytes32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Call `f` with a prepare context for one operator: input tensor indices 0.. (`None`: an
/// absent optional input), outputs 100.., per-channel words going to `words`.
fn prepare_in<R>(
    op: BuiltinOp,
    ins: &[Option<Tensor<'static>>],
    outs: &[Tensor<'static>],
    words: &mut WordAlloc<'_>,
    f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>) -> R,
) -> R {
    let inputs: Vec<Option<(i32, Tensor<'static>)>> = ins
        .iter()
        .enumerate()
        .map(|(i, t)| t.map(|t| (i as i32, t)))
        .collect();
    let outputs: Vec<(i32, Tensor<'static>)> = outs
        .iter()
        .enumerate()
        .map(|(i, t)| ((100 + i) as i32, *t))
        .collect();
    let mut ctx = PrepareCtx {
        op,
        version: 1,
        options: Options::default(),
        inputs: &inputs,
        outputs: &outputs,
        words,
    };
    f(&mut ctx)
}

/// Build a prepare context for one operator (measuring its words, storing none) and hand it to
/// `f` (usually an op's `prepare_with`, so tests can pass options directly).
pub fn with_ctx<R>(
    op: BuiltinOp,
    ins: &[Tensor<'static>],
    outs: &[Tensor<'static>],
    f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>) -> R,
) -> R {
    let ins: Vec<Option<Tensor<'static>>> = ins.iter().copied().map(Some).collect();
    prepare_in(op, &ins, outs, &mut WordAlloc::measure(), f)
}

/// An int8 operand of [`binary`]: `(dims, scale, zero point)`.
pub type Operand<'a> = (&'a [i32], f32, i64);

/// Prepare a two-input int8 op (ADD, SUB, MUL) with `f` (usually its `prepare_with`), given the
/// fused activation `act` as its schema code.
pub fn binary<P>(
    op: BuiltinOp,
    [a, b, o]: [Operand<'_>; 3],
    act: i8,
    f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>, Activation) -> Result<P, Error>,
) -> Result<P, Error> {
    let act = Activation::from_schema(act).expect("a schema activation code");
    let ins = [i8t(a.0, a.1, a.2), i8t(b.0, b.1, b.2)];
    with_ctx(op, &ins, &[i8t(o.0, o.1, o.2)], |ctx| f(ctx, act))
}

/// Eval prepared parameters `p` (with its stored `words`) on raw input bytes; returns each
/// output's bytes (pre-filled with 0xA5, so unwritten bytes show).
pub fn eval_words<P>(
    p: &P,
    ev: impl FnOnce(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
    ins: &[&[u8]],
    words: &[i32],
    out_sizes: &[usize],
) -> Result<Vec<Vec<u8>>, Error> {
    let mut bufs: Vec<Vec<u8>> = out_sizes.iter().map(|&n| vec![0xA5u8; n]).collect();
    let mut outs: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
    let mut state = [0u8; 0];
    let mut ctx = EvalCtx {
        inputs: ins,
        outputs: &mut outs,
        words,
        state: &mut state,
    };
    ev(p, &mut ctx)?;
    Ok(bufs)
}

/// [`eval_words`] for parameters that store no words (prepared with [`with_ctx`]).
pub fn run_prepared<P>(
    p: &P,
    ev: fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
    ins: &[&[u8]],
    out_sizes: &[usize],
) -> Result<Vec<Vec<u8>>, Error> {
    eval_words(p, ev, ins, &[], out_sizes)
}

/// Prepare (measure, then for real) and eval one operator; returns output 0's bytes.
/// `inputs[i] = None` marks an absent optional input.
pub fn run<P>(
    op: BuiltinOp,
    inputs: &[Input],
    output: Tensor<'static>,
    mut prepare: impl FnMut(&mut PrepareCtx<'_, '_, '_>) -> Result<P, Error>,
    ev: impl Fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let ins: Vec<Option<Tensor<'static>>> =
        inputs.iter().map(|t| t.as_ref().map(|(t, _)| *t)).collect();
    let mut measure = WordAlloc::measure();
    prepare_in(op, &ins, &[output], &mut measure, |c| prepare(c))?;
    let mut buf = vec![0i32; measure.used()];
    let p = prepare_in(op, &ins, &[output], &mut WordAlloc::new(&mut buf), |c| {
        prepare(c)
    })?;
    let in_bytes: Vec<&[u8]> = inputs
        .iter()
        .map(|t| t.as_ref().map_or(&[][..], |(_, b)| &b[..]))
        .collect();
    let mut outs = eval_words(&p, ev, &in_bytes, &buf, &[output.bytes()])?;
    Ok(outs.pop().unwrap_or_default())
}

/// A pooling window for [`pool`]: padding, stride, filter (height, width).
pub type PoolWindow = (Padding, i32, [i32; 2]);

/// One pooling case (AVERAGE_POOL_2D, MAX_POOL_2D): the int8 image `x` in tensor `input`, a
/// window of `filter` (height, width) with `padding` and `stride` (dilation 1), the fused
/// activation `act`; `wrap` makes the op's `Params`. Returns the output bytes.
pub fn pool<P>(
    op: BuiltinOp,
    (input, x): (Tensor<'static>, &[i8]),
    output: Tensor<'static>,
    (padding, stride, filter): PoolWindow,
    act: Activation,
    wrap: impl Fn(PoolParams) -> P,
    ev: impl Fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let win = window(padding, stride, 1);
    let prepare = |c: &mut PrepareCtx<'_, '_, '_>| {
        prepare_pool_with(c, &win, filter[0], filter[1], act).map(&wrap)
    };
    run(op, &[Some((input, bytes(x)))], output, prepare, ev)
}

/// Run a kernel in place: output 0 at `max(0, -gap)` and input 0 `gap` bytes above it (the
/// tightest layout the planner may choose), in one region whose other bytes are garbage;
/// output 0 read back into `c`. Also checks that one byte tighter is refused (the gap is
/// exact, and a layout the kernel cannot honour is an error, never a wrong result).
pub fn in_place_at<P>(
    p: &P,
    c: &mut EvalCtx<'_, '_>,
    gap: i32,
    ev: fn(&P, &mut EvalCtx<'_, '_>, crate::ops::InPlace<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    let input = c.input(0).to_vec();
    let out_len = c.outputs[0].len();
    let out_at = (-gap).max(0) as usize;
    let in_at = (out_at as i64 + gap as i64) as usize;
    let mut region = vec![0xA5u8; (in_at + input.len()).max(out_at + out_len) + 1];
    region[in_at..in_at + input.len()].copy_from_slice(&input);
    let mut tight = region.clone();
    let io = crate::ops::InPlace {
        bytes: &mut region,
        input: in_at,
        output: out_at,
    };
    ev(p, c, io)?;
    c.outputs[0].copy_from_slice(&region[out_at..out_at + out_len]);
    let io = crate::ops::InPlace {
        bytes: &mut tight,
        input: in_at,
        output: out_at + 1,
    };
    assert!(ev(p, c, io).is_err(), "one byte tighter accepted");
    Ok(())
}

/// A xorshift32 stream of int8 values from `seed` (the in-place sweeps' data).
pub fn xorshift_i8(mut seed: u32) -> impl FnMut() -> i8 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        (seed >> 8) as i8
    }
}

/// A window's output size and leading padding, as TFLM computes them (`ComputeOutSize`,
/// `ComputePaddingHeightWidth`), for an `ih x iw` input and an `fh x fw` filter with the same
/// stride and dilation on both axes: `((out_h, out_w), (pad_h, pad_w))`, or `None` if an
/// output axis is empty.
pub fn out_geometry(
    padding: Padding,
    (ih, iw): (usize, usize),
    (fh, fw): (usize, usize),
    stride: usize,
    dil: usize,
) -> Option<((usize, usize), (i64, i64))> {
    use crate::ops::common::{compute_out_size, compute_padding_with_offset};
    let (s, d) = (stride as i64, dil as i64);
    let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
    let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
    if oh <= 0 || ow <= 0 {
        return None;
    }
    let (ph, _) = compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
    let (pw, _) = compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
    Some(((oh as usize, ow as usize), (ph, pw)))
}

/// One case of an in-place sweep: batches, input `(h, w)`, the kernel's channel tuple,
/// filter `(h, w)`, `(stride, dilation)` (both axes), padding.
pub type SweepCase<C> = (
    usize,
    (usize, usize),
    C,
    (usize, usize),
    (usize, usize),
    Padding,
);

/// The windowed kernels' in-place sweep: `first`, then every combination of a few input
/// sizes and batch counts, `channels`, `filters`, strides / dilations and both paddings.
pub fn window_sweep<C: Copy>(
    first: SweepCase<C>,
    channels: &[C],
    filters: &[(usize, usize)],
) -> Vec<SweepCase<C>> {
    let mut cases = vec![first];
    for (n, ih, iw) in [(1, 1, 1), (1, 3, 4), (2, 6, 5), (1, 9, 3)] {
        for &ch in channels {
            for &f in filters {
                for sd in [(1, 1), (2, 1), (1, 2), (3, 2)] {
                    for padding in [Padding::Same, Padding::Valid] {
                        cases.push((n, (ih, iw), ch, f, sd, padding));
                    }
                }
            }
        }
    }
    cases
}

/// Counts of an in-place sweep's cases that ran in place and that the kernel refused.
#[derive(Default)]
pub struct InPlaceSweep {
    ran: usize,
    refused: usize,
}

impl InPlaceSweep {
    /// A windowed kernel run in place equals the same kernel on separate buffers: prepare
    /// and run `op` on separate buffers, then again through `ev_in_place` at the tightest
    /// offset `gap` allows ([`in_place_at`]; `eval` again where `gap` refuses), and assert
    /// the outputs equal (`what` names the case). Returns the gap (`None`: refused).
    #[allow(clippy::too_many_arguments)]
    pub fn check<P>(
        &mut self,
        op: BuiltinOp,
        ins: &[Input],
        out: Tensor<'static>,
        mut prepare: impl FnMut(&mut PrepareCtx<'_, '_, '_>) -> Result<P, Error>,
        ev: fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
        ev_in_place: fn(&P, &mut EvalCtx<'_, '_>, crate::ops::InPlace<'_>) -> Result<(), Error>,
        gap: fn(&P) -> Option<i32>,
        what: &str,
    ) -> Option<i32> {
        let want = run(op, ins, out, &mut prepare, ev).unwrap();
        let got_gap = std::cell::Cell::new(None);
        let got = run(op, ins, out, &mut prepare, |p, c| {
            got_gap.set(gap(p));
            match gap(p) {
                Some(g) => in_place_at(p, c, g, ev_in_place),
                None => ev(p, c),
            }
        })
        .unwrap();
        assert_eq!(got, want, "{what}");
        match got_gap.get() {
            Some(_) => self.ran += 1,
            None => self.refused += 1,
        }
        got_gap.get()
    }

    /// Assert that more than `min` cases ran in place.
    pub fn ran_more_than(&self, min: usize) {
        let (ran, refused) = (self.ran, self.refused);
        assert!(
            ran > min,
            "{ran} geometries ran in place ({refused} refused)"
        );
    }
}

/// The operands of one convolution-family sweep case, drawn from `rnd` in this order: input
/// data (`[n, ih, iw, ic]`), filter data (`fdims`, int8 with per-channel `scales` along
/// `axis`), bias (`[oc]`, each draw × `bias_mul`), then the input and output zero points
/// (scale 1; output `[n, oh, ow, oc]`).
pub fn conv_operands(
    rnd: &mut impl FnMut() -> i8,
    [n, ih, iw, ic]: [usize; 4],
    (oh, ow): (usize, usize),
    (fdims, axis, scales): ([usize; 4], i32, &[f32]),
    bias_mul: i32,
) -> ([Input; 3], Tensor<'static>) {
    let oc = scales.len();
    let x: Vec<i8> = (0..n * ih * iw * ic).map(|_| rnd()).collect();
    let f: Vec<i8> = (0..fdims.iter().product()).map(|_| rnd()).collect();
    let b: Vec<i32> = (0..oc).map(|_| rnd() as i32 * bias_mul).collect();
    let dims = |h: usize, w: usize, c: usize| [n as i32, h as i32, w as i32, c as i32];
    let input = i8t(&dims(ih, iw, ic), 1.0, rnd() as i64);
    let fdims = fdims.map(|d| d as i32);
    let filter = tensor(DType::I8, &fdims, scales, &vec![0; oc], axis);
    let out = i8t(&dims(oh, ow, oc), 1.0, rnd() as i64);
    let ins = [
        Some((input, bytes(&x))),
        Some((filter, bytes(&f))),
        Some((bias(oc as i32), bytes32(&b))),
    ];
    (ins, out)
}
