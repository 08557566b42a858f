//! DEPTHWISE_CONV_2D, int8: TFLM `reference_integer_ops::DepthwiseConvPerChannel` with the
//! quantization set up by `DepthwiseConvPrepare` (per-channel along axis 3, or a broadcast
//! per-tensor scale; symmetric int8 filter; optional int32 bias).

use super::common::{channels_u16, conv_prepare, weighted_int8_operands};
use super::common::{
    check_len, fused_activation, Activation, ChannelQuant, OutputStage, Window2D, WindowOptions,
};
use super::{common, conv_2d, dsp, EvalCtx, InPlace, PrepareCtx};
use crate::error::Error;

/// Output channels accumulated together per output pixel (the accumulators live on the stack).
const CHUNK: usize = 64;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Input, output and filter geometry.
    pub win: Window2D,
    /// Input channels.
    pub in_c: u16,
    /// Output channels (`in_c * depth_multiplier`).
    pub out_c: u16,
    /// Output channels per input channel.
    pub depth_multiplier: u16,
    /// True if the bias input is present.
    pub has_bias: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
    /// `-input_zero_point`.
    pub input_offset: i32,
    /// `output_zero_point`.
    pub output_offset: i32,
    /// Activation clamp, quantized.
    pub act_min: i32,
    /// See `act_min`.
    pub act_max: i32,
    /// Output multipliers and shifts (per channel in the words, or per tensor).
    pub quant: ChannelQuant,
}

impl Params {
    /// Multiply-accumulates per invoke: output elements × filter taps.
    pub fn macs(&self) -> u64 {
        let w = &self.win;
        w.batches as u64
            * w.out_pixels() as u64
            * self.out_c as u64
            * w.filter_h as u64
            * w.filter_w as u64
    }
}

/// DEPTHWISE_CONV_2D options (schema `DepthwiseConv2DOptions`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Padding, strides, dilations.
    pub window: WindowOptions,
    /// Output channels per input channel.
    pub depth_multiplier: i32,
    /// Fused activation.
    pub activation: Activation,
}

/// Read `DepthwiseConv2DOptions`: padding(0), stride_w(1), stride_h(2), depth_multiplier(3),
/// fused_activation_function(4), dilation_w_factor(5, default 1), dilation_h_factor(6, default 1).
pub fn read_options(ctx: &PrepareCtx<'_, '_, '_>) -> Result<Options, Error> {
    Ok(Options {
        window: WindowOptions::read(ctx, 5, 6)?,
        depth_multiplier: ctx.options.i32(3, 0)?,
        activation: fused_activation(ctx, 4)?,
    })
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let opts = read_options(ctx)?;
    prepare_with(ctx, &opts)
}

/// [`prepare`] with the options already read.
pub fn prepare_with(ctx: &mut PrepareCtx<'_, '_, '_>, opts: &Options) -> Result<Params, Error> {
    let ops = weighted_int8_operands(ctx, "DEPTHWISE_CONV_2D takes 2 or 3 inputs and 1 output")?;
    let (input, filter) = (ops.input, ops.filter);

    // Filter [1, fh, fw, out_c]; output channel c reads input channel c / depth_multiplier.
    let fidx = ctx.input_index(1);
    if filter.shape.rank() != 4 || filter.shape.dim(0) != 1 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let (fh, fw, out_c) = (
        filter.shape.dim(1),
        filter.shape.dim(2),
        filter.shape.dim(3),
    );
    if input.shape.rank() != 4 {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    let in_c = input.shape.dim(3);
    // TFLM loops `depth_multiplier` times per input channel and only DCHECKs the product, so a
    // model whose option disagrees with the shapes is rejected here rather than guessed at.
    let mult =
        usize::try_from(opts.depth_multiplier).map_err(|_| ctx.bad_option("depth_multiplier"))?;
    if in_c == 0 {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    if mult == 0 || in_c.checked_mul(mult) != Some(out_c) {
        return Err(ctx.bad_option("depth_multiplier"));
    }
    let c = conv_prepare(ctx, &ops, &opts.window, fh, fw, out_c, 3, opts.activation)?;
    let u = channels_u16;
    Ok(Params {
        _pad: Default::default(),
        win: c.win,
        in_c: u(in_c)?,
        out_c: u(out_c)?,
        depth_multiplier: u(mult)?,
        has_bias: c.has_bias,
        input_offset: -ops.in_zp,
        output_offset: ops.out_zp,
        act_min: c.act_min,
        act_max: c.act_max,
        quant: c.quant,
    })
}

/// The valid taps of one output pixel as a 2-D grid of (input offset, filter offset) pairs,
/// inner dimension first. Offsets are in bytes, relative to the image and the filter; the
/// channel offset is added by the caller.
#[derive(Clone, Copy)]
struct Taps {
    x0: usize,
    f0: usize,
    /// Inner steps (input, filter) and count.
    x_in: usize,
    f_in: usize,
    n_in: usize,
    /// Outer steps (input, filter) and count.
    x_out: usize,
    f_out: usize,
    n_out: usize,
}

/// Accumulate four output channels `c..c + 4` that share input channel `xc` (a depth
/// multiplier that is a multiple of 4) over every tap of `t` (see [`dsp::mac4_run_scalar`]);
/// channels that read their own input channel take [`dsp::mac4_grid`] instead.
#[inline(always)]
fn block4(img: &[u8], filter: &[u8], t: &Taps, c: usize, xc: usize, in_off: i32) -> [i32; 4] {
    let mut acc = [0i32; 4];
    for o in 0..t.n_out {
        let xs = img.get(t.x0 + o * t.x_out + xc..).unwrap_or(&[]);
        let fs = filter.get(t.f0 + o * t.f_out + c..).unwrap_or(&[]);
        dsp::mac4_run_scalar(&mut acc, xs, t.x_in, fs, t.f_in, t.n_in, in_off);
    }
    acc
}

/// Bytes of the on-stack transposed filter for the one-input-channel path (micro_speech's
/// 10x8 taps x 8 channels fit exactly); larger filters take the four-lane path.
const TRANSPOSED: usize = 640;

/// DEPTHWISE_CONV_2D with one input channel is a CONV_2D with `out_c` filters of
/// `fh x fw x 1`: transpose the filter to that layout (`[out_c][fh][fw]`, on the stack) and
/// take the convolution's patch path. Out of line, so the buffer is only on the stack here.
#[inline(never)]
fn single_input_channel(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    bias: &[u8],
    words: &[i32],
    output: &mut [u8],
) -> Result<(), Error> {
    let mut tf = [0u8; TRANSPOSED];
    let (cp, tf) = transposed(p, filter, &mut tf);
    conv_2d::run(&cp, input, tf, bias, words, output)
}

/// The CONV_2D `p` is with one input channel, and its filter transposed into `tf` (inlined,
/// so the CONV_2D's strategy folds with constant `Params`).
#[inline(always)]
fn transposed<'t>(
    p: &Params,
    filter: &[u8],
    tf: &'t mut [u8; TRANSPOSED],
) -> (conv_2d::Params, &'t [u8]) {
    let (taps, out_c) = (
        p.win.filter_h as usize * p.win.filter_w as usize,
        p.out_c as usize,
    );
    for (t, row) in filter.chunks_exact(out_c).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            if let Some(d) = tf.get_mut(c * taps + t) {
                *d = v;
            }
        }
    }
    let cp = conv_2d::Params::single_input_channel(
        p.win,
        p.out_c,
        p.has_bias,
        p.input_offset,
        p.output_offset,
        p.act_min,
        p.act_max,
        p.quant,
    );
    (cp, tf.get(..taps * out_c).unwrap_or(&[]))
}

/// The least `input offset − output offset` at which DEPTHWISE_CONV_2D `p` may run in place
/// ([`eval_in_place`]; rows in order, as CONV_2D: see `ops::common::in_place`), or `None`.
pub fn in_place_gap(p: &Params) -> Option<i32> {
    common::in_place_gap(&p.win, p.in_c as usize, p.out_c as usize)
}

/// DEPTHWISE_CONV_2D with input 0 and output 0 sharing `io` (the path [`eval`] takes, row by
/// row); `ctx.inputs[0]` and `ctx.outputs[0]` are not read.
pub fn eval_in_place(p: &Params, ctx: &mut EvalCtx<'_, '_>, io: InPlace<'_>) -> Result<(), Error> {
    let w = &p.win;
    let out_c = p.out_c as usize;
    let filter = ctx.input(1);
    let bias = if p.has_bias { ctx.input(2) } else { &[][..] };
    let words = ctx.words(p.quant.span);
    check_len(filter, w.filter_h as usize * w.filter_w as usize * out_c)?;
    if p.has_bias {
        check_len(bias, 4 * out_c)?;
    }
    if as_conv(p) {
        let mut tf = [0u8; TRANSPOSED];
        let (cp, tf) = transposed(p, filter, &mut tf);
        return conv_2d::run_in_place(&cp, io, tf, bias, words);
    }
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    common::rows_in_place(w, p.in_c as usize, out_c, io, |win, img, out| {
        channels(&Params { win: *win, ..*p }, img, filter, &stage, out)
    })
}

/// Compute.
///
/// Per output pixel, channels go four at a time through [`block4`] when the depth multiplier
/// is 1 or a multiple of 4 (the accumulators stay in registers across the taps); anything
/// else (and the last `out_c % 4` channels) takes the chunked scalar path, which keeps up to
/// [`CHUNK`] accumulators on the stack and walks each tap's contiguous channel range.
/// The order of the exact int32 additions differs from TFLM's; the sums do not.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw) = (w.filter_h as usize, w.filter_w as usize);
    let batches = w.batches as usize;

    let input = ctx.input(0);
    let filter = ctx.input(1);
    let bias = if p.has_bias { ctx.input(2) } else { &[][..] };
    let words = ctx.words(p.quant.span);
    let output = crate::ops::quantize::output0(ctx)?;

    let in_img = in_h * in_w * in_c;
    check_len(input, batches * in_img)?;
    check_len(filter, fh * fw * out_c)?;
    check_len(output, batches * out_h * out_w * out_c)?;
    if p.has_bias {
        check_len(bias, 4 * out_c)?;
    }
    // One input channel: this is a CONV_2D with `out_c` filters of fh x fw x 1 (see
    // `single_input_channel`).
    if as_conv(p) {
        return single_input_channel(p, input, filter, bias, words, output);
    }
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    channels(p, input, filter, &stage, output)
}

/// Whether [`eval`] runs `p` as a CONV_2D (one input channel, transposed filter on the stack).
fn as_conv(p: &Params) -> bool {
    let taps = p.win.filter_h as usize * p.win.filter_w as usize;
    p.in_c == 1 && taps * p.out_c as usize <= TRANSPOSED
}

/// The general path of [`eval`] (lengths checked): channels four at a time or chunked.
fn channels(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fw, dh, dw) = (
        w.filter_w as usize,
        w.dilation_h as usize,
        w.dilation_w as usize,
    );
    let mult = p.depth_multiplier as usize;
    let batches = w.batches as usize;
    let in_img = in_h * in_w * in_c;
    let in_off = p.input_offset;
    let finish = |c: usize, a: i32| stage.apply(c, a);
    // Channels handled four at a time; the rest (from `packed_c` on) by the scalar path.
    let lanes = mult == 1;
    let packed_c = if dsp::offset_ok(in_off) && (lanes || mult.is_multiple_of(4)) {
        out_c - out_c % 4
    } else {
        0
    };

    let mut out_px = output.chunks_exact_mut(out_c);
    let mut acc_blocks = [0i32; CHUNK];
    for img in input.chunks_exact(in_img).take(batches) {
        for oy in 0..out_h {
            let (y0, ty0, ty1) = w.taps(oy, true);
            for ox in 0..out_w {
                let (x0, tx0, tx1) = w.taps(ox, false);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                if ty0 >= ty1 || tx0 >= tx1 {
                    // No tap inside the image: every accumulator is 0.
                    for (c, o) in out.iter_mut().enumerate() {
                        *o = finish(c, 0);
                    }
                    continue;
                }
                if packed_c > 0 {
                    // taps() guarantees the first tap lies inside the image.
                    let iy = (y0 + (ty0 * dh) as i32) as usize;
                    let ix = (x0 + (tx0 * dw) as i32) as usize;
                    let (nx, ny) = (tx1 - tx0, ty1 - ty0);
                    let (xs_x, fs_x) = (dw * in_c, out_c);
                    let (xs_y, fs_y) = (dh * in_w * in_c, fw * out_c);
                    let base = Taps {
                        x0: (iy * in_w + ix) * in_c,
                        f0: (ty0 * fw + tx0) * out_c,
                        x_in: xs_x,
                        f_in: fs_x,
                        n_in: nx,
                        x_out: xs_y,
                        f_out: fs_y,
                        n_out: ny,
                    };
                    // Longer runs inside: a column filter (fw == 1) walks rows as its inner loop.
                    let t = if nx == 1 {
                        Taps {
                            x_in: xs_y,
                            f_in: fs_y,
                            n_in: ny,
                            x_out: xs_x,
                            f_out: fs_x,
                            n_out: 1,
                            ..base
                        }
                    } else {
                        base
                    };
                    // Accumulators for up to CHUNK channels, then one output-stage call for
                    // them all (its set-up is paid per call, not per block of four).
                    let mut c = 0;
                    while c < packed_c {
                        let n = (packed_c - c).min(CHUNK);
                        let acc = &mut acc_blocks[..n];
                        acc.fill(0);
                        if lanes {
                            let xs = img.get(t.x0 + c..).unwrap_or(&[]);
                            let fs = filter.get(t.f0 + c..).unwrap_or(&[]);
                            let (xst, fst) = ((t.x_in, t.x_out), (t.f_in, t.f_out));
                            dsp::mac4_grid(acc, xs, xst, fs, fst, (t.n_in, t.n_out), in_off);
                        } else {
                            for (b, a4) in acc.chunks_exact_mut(4).enumerate() {
                                let cc = c + 4 * b;
                                a4.copy_from_slice(&block4(img, filter, &t, cc, cc / mult, in_off));
                            }
                        }
                        stage.store(c, acc, &mut out[c..c + n]);
                        c += n;
                    }
                }
                let mut c0 = packed_c;
                while c0 < out_c {
                    // Chunks hold whole groups of `mult` channels (one input channel each), or,
                    // when one group exceeds CHUNK, lie inside a single group.
                    let n = if mult <= CHUNK {
                        ((CHUNK / mult) * mult).min(out_c - c0)
                    } else {
                        CHUNK.min(mult - c0 % mult)
                    };
                    let ic0 = c0 / mult;
                    let mut acc_buf = [0i32; CHUNK];
                    let acc = &mut acc_buf[..n];
                    for ty in ty0..ty1 {
                        // taps() guarantees both coordinates are inside the image.
                        let iy = (y0 + (ty * dh) as i32) as usize;
                        for tx in tx0..tx1 {
                            let ix = (x0 + (tx * dw) as i32) as usize;
                            let px = &img[(iy * in_w + ix) * in_c..(iy * in_w + ix + 1) * in_c];
                            let fo = (ty * fw + tx) * out_c + c0;
                            let f = &filter[fo..fo + n];
                            if mult == 1 {
                                for ((a, &fv), &xv) in acc.iter_mut().zip(f).zip(&px[c0..c0 + n]) {
                                    *a = a
                                        .wrapping_add(fv as i8 as i32 * (xv as i8 as i32 + in_off));
                                }
                            } else if mult <= CHUNK {
                                let groups = acc.chunks_exact_mut(mult).zip(f.chunks_exact(mult));
                                for ((ag, fg), &xv) in groups.zip(&px[ic0..]) {
                                    let xv = xv as i8 as i32 + in_off;
                                    for (a, &fv) in ag.iter_mut().zip(fg) {
                                        *a = a.wrapping_add(fv as i8 as i32 * xv);
                                    }
                                }
                            } else {
                                let xv = px[ic0] as i8 as i32 + in_off;
                                for (a, &fv) in acc.iter_mut().zip(f) {
                                    *a = a.wrapping_add(fv as i8 as i32 * xv);
                                }
                            }
                        }
                    }
                    for (j, (o, &a)) in out[c0..c0 + n].iter_mut().zip(acc.iter()).enumerate() {
                        *o = finish(c0 + j, a);
                    }
                    c0 += n;
                }
            }
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    win: Window2D,
    in_c: u16,
    out_c: u16,
    depth_multiplier: u16,
    has_bias: bool,
    _pad: [u8; 3],
    input_offset: i32,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
    quant: ChannelQuant
});

#[cfg(test)]
mod tests {
    use crate::model::DType;
    use std::vec::Vec;

    use super::*;
    use crate::fixedpoint::{multiply_by_quantized_multiplier, quantize_multiplier};
    use crate::model::{BuiltinOp, Tensor};
    use crate::ops::common::test_util::{bias, bytes, bytes32, i8t, run, tensor, window, Input};
    use crate::ops::common::{compute_out_size, compute_padding_with_offset, Padding};

    fn opts(padding: Padding, stride: i32, dilation: i32, mult: i32, act: Activation) -> Options {
        let window = window(padding, stride, dilation);
        Options {
            window,
            depth_multiplier: mult,
            activation: act,
        }
    }

    /// Prepare (measure, then store) and run one DEPTHWISE_CONV_2D with `o`; output 0's bytes.
    fn dw(ins: &[Input], out: Tensor<'static>, o: &Options) -> Result<Vec<u8>, Error> {
        run(
            BuiltinOp::DEPTHWISE_CONV_2D,
            ins,
            out,
            |c| prepare_with(c, o),
            eval,
        )
    }

    #[test]
    fn hand_computed_multiplier_two() {
        // Input 1x1x2x1 (one channel), filter 1x1x2x2 → 2 output channels per input channel.
        // in scale 1, zp 1; filter scales [0.5, 0.25]; out scale 1, zp 0.
        let input = i8t(&[1, 1, 2, 1], 1.0, 1);
        let filter = tensor(DType::I8, &[1, 1, 2, 2], &[0.5, 0.25], &[0, 0], 3);
        let out = i8t(&[1, 1, 1, 2], 1.0, 0);
        // x - zp = [4, -2]; taps (0,0),(0,1); f[tap][c] = [[1, 3], [2, -1]].
        // c0 = 1*4 + 2*(-2) = 0 → 0;  c1 = 3*4 + (-1)*(-2) = 14 → 14 * 0.25 = 3.5 → 4.
        let ins = [
            Some((input, bytes(&[5, -1]))),
            Some((filter, bytes(&[1, 3, 2, -1]))),
            None,
        ];
        let got = dw(&ins, out, &opts(Padding::Valid, 1, 1, 2, Activation::None)).unwrap();
        assert_eq!(got, bytes(&[0, 4]));
        // With bias [-3, -20]: c0 = -3 → -1.5 → -1 (SRDHM tie goes up); c1 = -6 → -1.5 → -2.
        let ins = [
            Some((input, bytes(&[5, -1]))),
            Some((filter, bytes(&[1, 3, 2, -1]))),
            Some((bias(2), bytes32(&[-3, -20]))),
        ];
        let got = dw(&ins, out, &opts(Padding::Valid, 1, 1, 2, Activation::None)).unwrap();
        assert_eq!(got, bytes(&[-1, -2]));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random geometries (one input channel included: the transposed-conv path), depth
        /// multipliers 1/2/4/8, zero points and unsaturated per-channel scales, against a
        /// direct transcription of TFLM's loop nest.
        #[test]
        fn matches_naive_random(
            ih in 1usize..7, iw in 1usize..8, ic in 1usize..10, mult in proptest::prelude::prop_oneof![proptest::prelude::Just(1usize), proptest::prelude::Just(2), proptest::prelude::Just(4), proptest::prelude::Just(8)],
            fh in 1usize..5, fw in 1usize..4, stride in 1usize..3, dil in 1usize..3,
            same in proptest::prelude::any::<bool>(), in_zp in -128i64..=127, out_zp in -128i64..=127,
            seed in proptest::prelude::any::<u64>(), with_bias in proptest::prelude::any::<bool>(),
        ) {
            let oc = ic * mult;
            let padding = if same { Padding::Same } else { Padding::Valid };
            let (s, d) = (stride as i64, dil as i64);
            let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
            let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
            if oh <= 0 || ow <= 0 {
                return Ok(());
            }
            let (ph, _) = compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
            let (pw, _) = compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
            let (oh, ow) = (oh as usize, ow as usize);
            let byte = |i: usize, salt: u64| (seed.rotate_left((i % 61) as u32) ^ salt.wrapping_mul(i as u64 + 1)) as u8 as i8;
            let x: Vec<i8> = (0..ih * iw * ic).map(|i| byte(i, 0x9e37)).collect();
            let f: Vec<i8> = (0..fh * fw * oc).map(|i| byte(i, 0x7f4a)).collect();
            let b: Vec<i32> = (0..oc).map(|c| (byte(c, 0x1234) as i32) * 31).collect();
            let taps = (fh * fw) as f32;
            let scales: Vec<f32> = (0..oc).map(|c| (c % 5) as f32 / (100.0 * taps) + 1.0 / (200.0 * taps)).collect();
            let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp);
            let filter = tensor(DType::I8, &[1, fh as i32, fw as i32, oc as i32], &scales, &std::vec![0; oc], 3);
            let out = i8t(&[1, oh as i32, ow as i32, oc as i32], 1.0, out_zp);
            let bias_in = if with_bias { Some((bias(oc as i32), bytes32(&b))) } else { None };
            let got = dw(&[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in], out, &opts(padding, stride as i32, dil as i32, mult as i32, Activation::None))
            .unwrap();
            let mut want = Vec::new();
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..oc {
                        let mut acc = 0i32;
                        for ky in 0..fh {
                            for kx in 0..fw {
                                let iy = (oy * stride) as i64 - ph + (ky * dil) as i64;
                                let ix = (ox * stride) as i64 - pw + (kx * dil) as i64;
                                if iy < 0 || ix < 0 || iy >= ih as i64 || ix >= iw as i64 {
                                    continue;
                                }
                                let xv = x[((iy as usize) * iw + ix as usize) * ic + c / mult] as i32;
                                let fv = f[(ky * fw + kx) * oc + c] as i32;
                                acc += fv * (xv - in_zp as i32);
                            }
                        }
                        if with_bias {
                            acc += b[c];
                        }
                        let (m, sh) = quantize_multiplier(1.0f32 as f64 * scales[c] as f64 / 1.0f32 as f64);
                        let v = multiply_by_quantized_multiplier(acc, m, sh) + out_zp as i32;
                        want.push(v.clamp(-128, 127) as i8);
                    }
                }
            }
            proptest::prop_assert_eq!(got, bytes(&want));
        }
    }

    #[test]
    fn matches_naive() {
        let mut seed = 777u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        for &(ih, iw, ic, mult, fh, fw, stride, dil, padding) in &[
            (
                5usize,
                6usize,
                3usize,
                1usize,
                3usize,
                3usize,
                1usize,
                1usize,
                Padding::Same,
            ),
            (6, 5, 2, 3, 3, 2, 2, 1, Padding::Same),
            (7, 7, 3, 2, 3, 3, 1, 2, Padding::Same),
            (7, 8, 1, 8, 3, 3, 2, 2, Padding::Valid),
            (3, 3, 70, 1, 3, 3, 1, 1, Padding::Same), // more channels than one chunk
            (3, 3, 5, 30, 2, 2, 1, 1, Padding::Valid), // 2 groups of 30 per chunk
            (3, 4, 2, 150, 2, 2, 1, 1, Padding::Same), // one group spans 3 chunks
        ] {
            let oc = ic * mult;
            let x: Vec<i8> = (0..2 * ih * iw * ic).map(|_| rnd()).collect();
            let f: Vec<i8> = (0..fh * fw * oc).map(|_| rnd()).collect();
            let b: Vec<i32> = (0..oc as i32).map(|i| i * 53 - 400).collect();
            let (s, d) = (stride as i64, dil as i64);
            let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
            let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
            let (ph, _) = compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
            let (pw, _) = compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
            let (oh, ow) = (oh as usize, ow as usize);
            let scales: Vec<f32> = (0..oc).map(|c| 0.01 * (c % 7 + 1) as f32).collect();
            let zps: Vec<i64> = std::vec![0; oc];
            let input = i8t(&[2, ih as i32, iw as i32, ic as i32], 0.5, -7);
            let filter = tensor(
                DType::I8,
                &[1, fh as i32, fw as i32, oc as i32],
                &scales,
                &zps,
                3,
            );
            let out = i8t(&[2, oh as i32, ow as i32, oc as i32], 0.1, 4);
            let mut want = Vec::new();
            for bi in 0..2 {
                for oy in 0..oh {
                    for ox in 0..ow {
                        for c in 0..oc {
                            let mut acc = 0i32;
                            for ky in 0..fh {
                                for kx in 0..fw {
                                    let iy = (oy * stride) as i32 - ph as i32 + (ky * dil) as i32;
                                    let ix = (ox * stride) as i32 - pw as i32 + (kx * dil) as i32;
                                    if iy < 0 || ix < 0 || iy >= ih as i32 || ix >= iw as i32 {
                                        continue;
                                    }
                                    let xv = x[((bi * ih + iy as usize) * iw + ix as usize) * ic
                                        + c / mult]
                                        as i32;
                                    acc += f[(ky * fw + kx) * oc + c] as i32 * (xv + 7);
                                }
                            }
                            acc += b[c];
                            let (m, sh) = quantize_multiplier(
                                0.5f32 as f64 * scales[c] as f64 / 0.1f32 as f64,
                            );
                            let v = multiply_by_quantized_multiplier(acc, m, sh) + 4;
                            want.push(v.clamp(-128, 127) as i8);
                        }
                    }
                }
            }
            let got = run(
                BuiltinOp::DEPTHWISE_CONV_2D,
                &[
                    Some((input, bytes(&x))),
                    Some((filter, bytes(&f))),
                    Some((bias(oc as i32), bytes32(&b))),
                ],
                out,
                |c| {
                    prepare_with(
                        c,
                        &opts(
                            padding,
                            stride as i32,
                            dil as i32,
                            mult as i32,
                            Activation::None,
                        ),
                    )
                },
                eval,
            )
            .unwrap();
            assert_eq!(
                got,
                bytes(&want),
                "geometry {ih}x{iw}x{ic} m{mult} f{fh}x{fw} s{stride} d{dil}"
            );
        }
    }

    /// In place = separate buffers, byte for byte, over a sweep of geometries (strides,
    /// paddings, filter sizes, dilations, depth multipliers, one input channel (the CONV_2D
    /// path) or several, two batches, micro_speech's first layer), at the tightest offset
    /// [`in_place_gap`] allows (with `MOTE_DSP_EMULATE=1`: the M4's four-lane paths).
    #[test]
    fn in_place_equals_separate_buffers() {
        use crate::ops::common::test_util::in_place_at;
        let mut rnd = crate::ops::common::test_util::xorshift_i8(0x1b87_3593u32);
        let mut shapes = std::vec![(
            1usize,
            49usize,
            40usize,
            1usize,
            8usize,
            10usize,
            8usize,
            2usize,
            1usize,
            Padding::Same
        )];
        for (n, ih, iw) in [(1, 1, 1), (1, 3, 4), (2, 6, 5), (1, 9, 3)] {
            for (ic, mult) in [(1, 1), (1, 3), (3, 1), (4, 2), (8, 4), (5, 1)] {
                for (fh, fw) in [(1, 1), (2, 3), (3, 3), (5, 1)] {
                    for (stride, dil) in [(1, 1), (2, 1), (1, 2), (3, 2)] {
                        for padding in [Padding::Same, Padding::Valid] {
                            shapes.push((n, ih, iw, ic, mult, fh, fw, stride, dil, padding));
                        }
                    }
                }
            }
        }
        let (mut ran, mut refused) = (0, 0);
        for (n, ih, iw, ic, mult, fh, fw, stride, dil, padding) in shapes {
            let (s, d) = (stride as i64, dil as i64);
            let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
            let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
            if oh <= 0 || ow <= 0 {
                continue;
            }
            let oc = ic * mult;
            let x: Vec<i8> = (0..n * ih * iw * ic).map(|_| rnd()).collect();
            let f: Vec<i8> = (0..fh * fw * oc).map(|_| rnd()).collect();
            let b: Vec<i32> = (0..oc).map(|_| rnd() as i32 * 29).collect();
            let scales: Vec<f32> = (0..oc)
                .map(|c| (c as f32 + 1.0) / (60.0 * (fh * fw) as f32))
                .collect();
            let dims = |h: usize, w: usize, c: usize| [n as i32, h as i32, w as i32, c as i32];
            let input = i8t(&dims(ih, iw, ic), 1.0, rnd() as i64);
            let fdims = [1, fh as i32, fw as i32, oc as i32];
            let filter = tensor(DType::I8, &fdims, &scales, &std::vec![0; oc], 3);
            let out = i8t(&dims(oh as usize, ow as usize, oc), 1.0, rnd() as i64);
            let ins = [
                Some((input, bytes(&x))),
                Some((filter, bytes(&f))),
                Some((bias(oc as i32), bytes32(&b))),
            ];
            let o = opts(
                padding,
                stride as i32,
                dil as i32,
                mult as i32,
                Activation::Relu,
            );
            let want = dw(&ins, out, &o).unwrap();
            let gap = std::cell::Cell::new(None);
            let got = run(
                BuiltinOp::DEPTHWISE_CONV_2D,
                &ins,
                out,
                |c| prepare_with(c, &o),
                |p, c| {
                    gap.set(in_place_gap(p));
                    match in_place_gap(p) {
                        Some(g) => in_place_at(p, c, g, eval_in_place),
                        None => eval(p, c),
                    }
                },
            )
            .unwrap();
            let what =
                std::format!("{n}x{ih}x{iw}x{ic} x{mult} f{fh}x{fw} s{stride} d{dil} {padding:?}");
            assert_eq!(got, want, "{what}");
            match gap.get() {
                Some(_) => ran += 1,
                None => refused += 1,
            }
        }
        assert!(
            ran > 300,
            "{ran} geometries ran in place ({refused} refused)"
        );
    }

    #[test]
    fn relu6_and_per_tensor_filter() {
        // Per-tensor filter scale broadcast; relu6 with out scale 0.1, zp -128 → [-128, -68].
        let input = i8t(&[1, 1, 1, 3], 1.0, 0);
        let filter = tensor(DType::I8, &[1, 1, 1, 3], &[0.1], &[0], 3);
        let out = i8t(&[1, 1, 1, 3], 0.1, -128);
        let ins = [
            Some((input, bytes(&[-5, 30, 100]))),
            Some((filter, bytes(&[1, 1, 1]))),
            None,
        ];
        let got = dw(&ins, out, &opts(Padding::Same, 1, 1, 1, Activation::Relu6)).unwrap();
        // Multiplier 1: -5 → -133 → clamp -128; 30 → -98; 100 → -28 → clamp -68.
        assert_eq!(got, bytes(&[-128, -98, -68]));
    }

    #[test]
    fn rejects_inconsistent_depth_multiplier() {
        let input = i8t(&[1, 2, 2, 2], 1.0, 0);
        let filter = tensor(DType::I8, &[1, 1, 1, 4], &[1.0], &[0], 3);
        let out = i8t(&[1, 2, 2, 4], 1.0, 0);
        let ins = [
            Some((input, std::vec![0; 8])),
            Some((filter, std::vec![0; 4])),
        ];
        let r = dw(&ins, out, &opts(Padding::Same, 1, 1, 1, Activation::None));
        assert!(matches!(r, Err(Error::UnsupportedOption { .. })));
        let mut macs = 0;
        run(
            BuiltinOp::DEPTHWISE_CONV_2D,
            &ins,
            out,
            |c| {
                let p = prepare_with(c, &opts(Padding::Same, 1, 1, 2, Activation::None))?;
                macs = p.macs();
                Ok(p)
            },
            eval,
        )
        .unwrap();
        assert_eq!(macs, 16);
        // Per-channel scales on the wrong axis.
        let filter = tensor(
            DType::I8,
            &[1, 1, 1, 4],
            &[1.0, 1.0, 1.0, 1.0],
            &[0, 0, 0, 0],
            0,
        );
        let ins = [
            Some((input, std::vec![0; 8])),
            Some((filter, std::vec![0; 4])),
        ];
        let r = dw(&ins, out, &opts(Padding::Same, 1, 1, 2, Activation::None));
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    }
}
