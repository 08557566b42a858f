//! CONV_2D, int8: TFLM `reference_integer_ops::ConvPerChannel` with the quantization set up by
//! `ConvPrepare` / `PopulateConvolutionQuantizationParams` (per-channel or broadcast per-tensor
//! filter scales, symmetric int8 filter, optional int32 bias, grouped filters).

use super::common::{
    check_bias, check_len, conv_channel_quant, dot_i8, fused_activation, output_activation_range,
    padding_option, Activation, ChannelQuant, OutputStage, Window2D, WindowOptions,
};
use super::common::{weighted_int8_operands, WeightedOperands};
use super::{dsp, EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Input, output and filter geometry.
    pub win: Window2D,
    /// Input channels.
    pub in_c: u16,
    /// Input channels each filter sees (`in_c / groups`).
    pub filter_in_c: u16,
    /// Output channels.
    pub out_c: u16,
    /// Channel groups (`in_c / filter_in_c`; 1 for an ordinary convolution).
    pub groups: u16,
    /// True if the bias input is present.
    pub has_bias: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: u8,
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
    /// The convolution a DEPTHWISE_CONV_2D with one input channel is: `out_c` filters of
    /// `filter_h x filter_w x 1` (its filter transposed to `[out_c, fh, fw]`), same quantization.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn single_input_channel(
        win: Window2D,
        out_c: u16,
        has_bias: bool,
        input_offset: i32,
        output_offset: i32,
        act_min: i32,
        act_max: i32,
        quant: ChannelQuant,
    ) -> Params {
        Params {
            _pad: Default::default(),
            win,
            in_c: 1,
            filter_in_c: 1,
            out_c,
            groups: 1,
            has_bias,
            input_offset,
            output_offset,
            act_min,
            act_max,
            quant,
        }
    }

    /// Multiply-accumulates per invoke: output elements × filter taps × filter input depth.
    pub fn macs(&self) -> u64 {
        let w = &self.win;
        w.batches as u64
            * w.out_pixels() as u64
            * self.out_c as u64
            * w.filter_h as u64
            * w.filter_w as u64
            * self.filter_in_c as u64
    }
}

/// CONV_2D options (schema `Conv2DOptions`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Padding, strides, dilations.
    pub window: WindowOptions,
    /// Fused activation.
    pub activation: Activation,
}

/// Read `Conv2DOptions`: padding(0), stride_w(1), stride_h(2), fused_activation_function(3),
/// dilation_w_factor(4, default 1), dilation_h_factor(5, default 1).
pub fn read_options(ctx: &PrepareCtx<'_, '_, '_>) -> Result<Options, Error> {
    let o = &ctx.options;
    Ok(Options {
        window: WindowOptions {
            padding: padding_option(ctx, 0)?,
            stride_w: o.i32(1, 0)?,
            stride_h: o.i32(2, 0)?,
            dilation_w: o.i32(4, 1)?,
            dilation_h: o.i32(5, 1)?,
        },
        activation: fused_activation(ctx, 3)?,
    })
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let opts = read_options(ctx)?;
    prepare_with(ctx, &opts)
}

/// [`prepare`] with the options already read.
pub fn prepare_with(ctx: &mut PrepareCtx<'_, '_, '_>, opts: &Options) -> Result<Params, Error> {
    if ctx.inputs.len() < 2 || ctx.inputs.len() > 3 || ctx.outputs.len() != 1 {
        return Err(Error::InvalidGraph {
            what: "CONV_2D takes 2 or 3 inputs and 1 output",
            index: ctx.inputs.len() as i32,
        });
    }
    let WeightedOperands {
        input,
        filter,
        output,
        in_scale,
        in_zp,
        out_scale,
        out_zp,
    } = weighted_int8_operands(ctx)?;

    // Filter [out_c, fh, fw, filter_in_c]; input channels are split into groups of filter_in_c.
    let fidx = ctx.input_index(1);
    if filter.shape.rank() != 4 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let (out_c, fh, fw, fic) = (
        filter.shape.dim(0),
        filter.shape.dim(1),
        filter.shape.dim(2),
        filter.shape.dim(3),
    );
    if input.shape.rank() != 4 {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    let in_c = input.shape.dim(3);
    if fic == 0 || in_c == 0 || in_c % fic != 0 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let groups = in_c / fic;
    if out_c == 0 || out_c % groups != 0 {
        return Err(ctx.shape_mismatch(fidx));
    }
    if output.shape.rank() != 4 || output.shape.dim(3) != out_c {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let win = Window2D::new(ctx, &opts.window, &input, fh as i32, fw as i32, &output)?;
    let u = |v: usize| {
        u16::try_from(v).map_err(|_| Error::LimitExceeded {
            what: "channels",
            limit: u16::MAX as u32,
        })
    };

    let has_bias = check_bias(ctx, 2, out_c)?;
    let quant = conv_channel_quant(ctx, in_scale, 1, out_scale, out_c, 0)?;
    let (act_min, act_max) = output_activation_range(ctx, opts.activation, 0)?;
    Ok(Params {
        _pad: Default::default(),
        win,
        in_c: u(in_c)?,
        filter_in_c: u(fic)?,
        out_c: u(out_c)?,
        groups: u(groups)?,
        has_bias,
        input_offset: -in_zp,
        output_offset: out_zp,
        act_min,
        act_max,
        quant,
    })
}

/// Bytes of one gathered patch (one output pixel's receptive field, im2col style); two live
/// on the stack while gathering, plus (on DSP cores) [`WIDE`] words of widened input: about
/// 0.8 KB of stack in all. Larger receptive fields that need gathering take the row-by-row
/// path; contiguous ones (1x1 filters, full-width windows) need no gathering at any size.
const PATCH: usize = 128;

/// Compute.
///
/// With one group, each output pixel's receptive field is taken as one contiguous patch:
/// straight from the input when every window is contiguous there (1x1 filters, full-width
/// windows), else gathered (at most [`PATCH`] bytes) into a stack buffer with padding taps set
/// to the input zero point, so `x + input_offset` is exactly 0 there, as TFLM's skipped taps
/// contribute nothing. Gathered pixels go two at a time and output channels two at a time
/// through [`dsp::dot2x2`] (each loaded word serves two products); direct ones through
/// [`dsp::dot2`]. Anything else: one dot product per valid filter row.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw, fic) = (
        w.filter_h as usize,
        w.filter_w as usize,
        p.filter_in_c as usize,
    );
    let batches = w.batches as usize;

    let input = ctx.input(0);
    let filter = ctx.input(1);
    let bias = if p.has_bias { ctx.input(2) } else { &[][..] };
    let words = ctx.words(p.quant.span);
    let output = ctx.outputs.get_mut(0).ok_or(Error::InvalidGraph {
        what: "missing operator output",
        index: 0,
    })?;

    let in_img = in_h * in_w * in_c;
    let f_chan = fh * fw * fic;
    check_len(input, batches * in_img)?;
    check_len(filter, out_c * f_chan)?;
    check_len(output, batches * out_h * out_w * out_c)?;
    if p.has_bias {
        check_len(bias, 4 * out_c)?;
    }
    run(p, input, filter, bias, words, output)
}

/// [`eval`] after the length checks (also DEPTHWISE_CONV_2D's path for one input channel,
/// with its filter transposed to this layout).
pub(crate) fn run(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    bias: &[u8],
    words: &[i32],
    output: &mut [u8],
) -> Result<(), Error> {
    let w = &p.win;
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let f_chan = w.filter_h as usize * w.filter_w as usize * p.filter_in_c as usize;
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    if p.groups == 1 {
        let all_direct = (0..out_h).all(|y| direct_axis(w, y, true))
            && (0..out_w).all(|x| direct_axis(w, x, false));
        // On DSP cores the pair path (two pixels x two filters per step, inputs widened once
        // per pair) beats the one-pixel path also when every window is contiguous, as long as
        // rows have pixel pairs (measured: a 1x1 64->64 conv over 25x5 pixels takes 9% fewer
        // instructions); with one pixel per row it would only add a gather.
        let pairs = cfg!(mote_dsp) && out_w >= 2 && f_chan <= PATCH;
        if all_direct && !pairs {
            return direct(p, input, filter, &stage, output);
        }
        // Padding bytes must be an int8 equal to the input zero point.
        if let (Ok(pad), true) = (i8::try_from(-p.input_offset), f_chan <= PATCH) {
            return gathered(p, input, filter, &stage, output, pad as u8);
        }
    }
    by_rows(p, input, filter, &stage, output)
}

/// Whether the window of output row (`vertical`) or column `o` is all inside the input and
/// contiguous along that axis, so that (with the other axis too) the whole receptive field is
/// one run of `fh * fw * in_c` input bytes.
fn direct_axis(w: &Window2D, o: usize, vertical: bool) -> bool {
    let (_, t0, t1) = w.taps(o, vertical);
    let (f, d) = if vertical {
        (w.filter_h, w.dilation_h)
    } else {
        (w.filter_w, w.dilation_w)
    };
    // Rows are contiguous only if a filter row spans the whole input row.
    let contiguous = f == 1 || (d == 1 && (!vertical || w.filter_w == w.in_w));
    t0 == 0 && t1 == f as usize && contiguous
}

/// Words of the widened-input buffer (see [`dsp::wide`]): two patches of up to [`PATCH`]
/// bytes, or one pixel's receptive field of up to `2 * PATCH` bytes.
#[cfg(mote_dsp)]
const WIDE: usize = PATCH;

/// Scratch for the widened inputs ([`WIDE`] words on DSP cores; nothing elsewhere).
#[cfg(mote_dsp)]
type WideBuf = [u32; WIDE];
#[cfg(not(mote_dsp))]
type WideBuf = [u32; 0];

/// All channels of one pixel from its patch: on DSP cores four filters at a time against the
/// widened patch (if it fits `wbuf`), then two at a time on the raw bytes.
#[inline(never)]
fn pixel(
    patch: &[u8],
    filter: &[u8],
    f_chan: usize,
    in_off: i32,
    stage: &OutputStage<'_>,
    out: &mut [u8],
    wbuf: &mut WideBuf,
) {
    let mut c = 0;
    #[cfg(not(mote_dsp))]
    let _ = wbuf;
    #[cfg(mote_dsp)]
    if dsp::offset_ok(in_off) && 2 * (f_chan / 4) <= wbuf.len() {
        let k = dsp::wide::widen(patch, in_off, wbuf);
        let xt = patch.get(4 * k..).unwrap_or(&[]);
        for (o, f) in out.chunks_exact_mut(4).zip(filter.chunks_exact(4 * f_chan)) {
            let (r01, r23) = f.split_at(2 * f_chan);
            let (r0, r1) = r01.split_at(f_chan);
            let (r2, r3) = r23.split_at(f_chan);
            let mut acc = dsp::wide::dot4(wbuf, k, [r0, r1, r2, r3]);
            if !xt.is_empty() {
                for (a, r) in acc.iter_mut().zip([r0, r1, r2, r3]) {
                    *a = a.wrapping_add(dsp::portable::dot(
                        xt,
                        r.get(4 * k..).unwrap_or(&[]),
                        in_off,
                    ));
                }
            }
            stage.store(c, &acc, o);
            c += 4;
        }
    }
    let (out, filter) = (
        out.get_mut(c..).unwrap_or(&mut []),
        filter.get(c * f_chan..).unwrap_or(&[]),
    );
    let mut outs = out.chunks_exact_mut(2);
    let mut fils = filter.chunks_exact(2 * f_chan);
    for (o, f) in (&mut outs).zip(&mut fils) {
        let (f0, f1) = f.split_at(f_chan);
        stage.store(c, &dsp::dot2(patch, f0, f1, in_off), o);
        c += 2;
    }
    if let [o] = outs.into_remainder() {
        *o = stage.apply(c, dsp::dot(patch, fils.remainder(), in_off));
    }
}

/// The patch path when every window is contiguous in the input (one group).
#[inline(never)]
fn direct(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let mut wbuf: WideBuf = [0; core::mem::size_of::<WideBuf>() / 4];
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let f_chan = w.filter_h as usize * w.filter_w as usize * in_c;
    let mut out_px = output.chunks_exact_mut(out_c);
    for img in input
        .chunks_exact(in_h * in_w * in_c)
        .take(w.batches as usize)
    {
        for oy in 0..out_h {
            let (y0, _, _) = w.taps(oy, true);
            for ox in 0..out_w {
                let (x0, _, _) = w.taps(ox, false);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                // Full windows: y0, x0 >= 0, and the window lies inside the image.
                let start = (y0 as usize * in_w + x0 as usize) * in_c;
                let patch = img.get(start..start + f_chan).ok_or(Error::InvalidGraph {
                    what: "CONV_2D window",
                    index: 0,
                })?;
                pixel(patch, filter, f_chan, p.input_offset, stage, out, &mut wbuf);
            }
        }
    }
    Ok(())
}

/// Copy the receptive field of output pixel (`y`, `x`) into `dst` (`fh * fw * in_c` bytes),
/// padding taps set to `pad`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn gather(
    dst: &mut [u8],
    img: &[u8],
    w: &Window2D,
    in_c: usize,
    (y0, ty0, ty1): (i32, usize, usize),
    (x0, tx0, tx1): (i32, usize, usize),
    pad: u8,
) {
    let (in_w, fw) = (w.in_w as usize, w.filter_w as usize);
    let (dh, dw) = (w.dilation_h as usize, w.dilation_w as usize);
    let in_row = in_w * in_c;
    for (ty, d) in dst.chunks_exact_mut(fw * in_c).enumerate() {
        if ty < ty0 || ty >= ty1 {
            d.fill(pad);
            continue;
        }
        // taps() guarantees 0 <= y0 + ty*dh < in_h and likewise for the columns tx0..tx1.
        let iy = (y0 + (ty * dh) as i32) as usize;
        let row = img.get(iy * in_row..(iy + 1) * in_row).unwrap_or(&[]);
        let (head, rest) = d.split_at_mut(tx0 * in_c);
        let (mid, tail) = rest.split_at_mut((tx1 - tx0) * in_c);
        // Interior windows have no padding columns: skip the (call-heavy) empty fills.
        if !head.is_empty() {
            head.fill(pad);
        }
        if !tail.is_empty() {
            tail.fill(pad);
        }
        if dw == 1 {
            let ix = (x0 + tx0 as i32) as usize;
            copy_small(mid, row.get(ix * in_c..).unwrap_or(&[]));
        } else {
            for (k, m) in mid.chunks_exact_mut(in_c).enumerate() {
                let ix = (x0 + ((tx0 + k) * dw) as i32) as usize;
                copy_small(m, row.get(ix * in_c..).unwrap_or(&[]));
            }
        }
    }
}

/// `dst.copy_from_slice(&src[..dst.len()])` for the short runs of a gather, a word at a time
/// without a `memcpy` call (short slices are the common case here).
#[inline(always)]
fn copy_small(dst: &mut [u8], src: &[u8]) {
    let src = src.get(..dst.len()).unwrap_or(src);
    let mut d = dst.chunks_exact_mut(4);
    let mut s = src.chunks_exact(4);
    for (dw, sw) in (&mut d).zip(&mut s) {
        dw.copy_from_slice(sw);
    }
    let s = s.remainder();
    for (db, sb) in d.into_remainder().iter_mut().zip(s) {
        *db = *sb;
    }
}

/// The patch path with gathering (one group, receptive field <= [`PATCH`] bytes): pixels in
/// pairs along each output row, two filters at a time. `buf` holds two patches.
/// Out of line (like [`direct`]), so its buffers are only on the stack while it runs.
#[inline(never)]
fn gathered(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
    pad: u8,
) -> Result<(), Error> {
    let mut buf = [0u8; 2 * PATCH];
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw) = (w.filter_h as usize, w.filter_w as usize);
    let f_chan = fh * fw * in_c;
    let in_off = p.input_offset;
    let (pa, pb) = buf.split_at_mut(PATCH);
    let (pa, pb) = (&mut pa[..f_chan], &mut pb[..f_chan]);
    let mut wbuf: WideBuf = [0; core::mem::size_of::<WideBuf>() / 4];
    let mut out_px = output.chunks_exact_mut(out_c);
    for img in input
        .chunks_exact(in_h * in_w * in_c)
        .take(w.batches as usize)
    {
        for oy in 0..out_h {
            let ys = w.taps(oy, true);
            let mut ox = 0;
            while ox + 1 < out_w {
                let (xa, xb) = (w.taps(ox, false), w.taps(ox + 1, false));
                // On DSP cores both windows are widened once, interleaved, for dot2x2: straight
                // from the image when they lie inside it with contiguous rows, else gathered.
                // Whether `pa`/`pb` hold this pair's patches: the direct DSP path below widens
                // straight from the image and leaves them stale (the previous pair's), so the
                // odd last channel must gather them before it reads them.
                #[cfg(mote_dsp)]
                let mut patches_ready = true;
                #[cfg(mote_dsp)]
                let k = {
                    let inside = |(x0, t0, t1): (i32, usize, usize)| x0 >= 0 && t0 == 0 && t1 == fw;
                    let direct = dsp::offset_ok(in_off)
                        && w.dilation_w == 1
                        && ys.0 >= 0
                        && ys.1 == 0
                        && ys.2 == fh
                        && inside(xa)
                        && inside(xb);
                    let row = |x0: i32| (ys.0 as usize * in_w + x0 as usize) * in_c;
                    let step = w.dilation_h as usize * in_w * in_c;
                    // (Rows of a multiple of 4 bytes only, so no tail bytes are read from pa/pb.)
                    let k = if direct {
                        dsp::wide::widen_pair_rows(
                            img,
                            row(xa.0),
                            row(xb.0),
                            step,
                            fh,
                            fw * in_c,
                            in_off,
                            &mut wbuf,
                        )
                    } else {
                        0
                    };
                    if k > 0 {
                        patches_ready = false;
                        k
                    } else {
                        gather(pa, img, w, in_c, ys, xa, pad);
                        gather(pb, img, w, in_c, ys, xb, pad);
                        if dsp::offset_ok(in_off) {
                            dsp::wide::widen_pair(pa, pb, in_off, &mut wbuf)
                        } else {
                            0
                        }
                    }
                };
                #[cfg(not(mote_dsp))]
                {
                    gather(pa, img, w, in_c, ys, xa, pad);
                    gather(pb, img, w, in_c, ys, xb, pad);
                }
                let (Some(oa), Some(ob)) = (out_px.next(), out_px.next()) else {
                    return Ok(());
                };
                let mut fils = filter.chunks_exact(2 * f_chan);
                let mut c = 0;
                // Accumulators of up to GROUP channels per pixel, requantized together.
                const GROUP: usize = 16;
                let (mut acc_a, mut acc_b) = ([0i32; GROUP], [0i32; GROUP]);
                for f in &mut fils {
                    let (f0, f1) = f.split_at(f_chan);
                    #[cfg(mote_dsp)]
                    let [a0, a1, b0, b1] = if k > 0 {
                        let mut acc = dsp::wide::dot2x2(&wbuf, k, f0, f1);
                        if f_chan % 4 != 0 {
                            let t = |x: &[u8], r: &[u8]| {
                                dsp::portable::dot(
                                    x.get(4 * k..).unwrap_or(&[]),
                                    r.get(4 * k..).unwrap_or(&[]),
                                    in_off,
                                )
                            };
                            for (a, (x, r)) in
                                acc.iter_mut()
                                    .zip([(&*pa, f0), (pa, f1), (pb, f0), (pb, f1)])
                            {
                                *a = a.wrapping_add(t(x, r));
                            }
                        }
                        acc
                    } else {
                        dsp::dot2x2(pa, pb, f0, f1, in_off)
                    };
                    #[cfg(not(mote_dsp))]
                    let [a0, a1, b0, b1] = dsp::dot2x2(pa, pb, f0, f1, in_off);
                    let j = c % GROUP;
                    if let (Some(a), Some(b)) = (acc_a.get_mut(j..j + 2), acc_b.get_mut(j..j + 2)) {
                        a.copy_from_slice(&[a0, a1]);
                        b.copy_from_slice(&[b0, b1]);
                    }
                    c += 2;
                    if c % GROUP == 0 || c + 1 >= out_c {
                        let c0 = (c - 1) / GROUP * GROUP;
                        let (qa, qb) = (
                            oa.get_mut(c0..).unwrap_or(&mut []),
                            ob.get_mut(c0..).unwrap_or(&mut []),
                        );
                        stage.store_pair(c0, &acc_a[..c - c0], &acc_b[..c - c0], qa, qb);
                    }
                }
                let f = fils.remainder();
                #[cfg(mote_dsp)]
                if !patches_ready && !f.is_empty() {
                    gather(pa, img, w, in_c, ys, xa, pad);
                    gather(pb, img, w, in_c, ys, xb, pad);
                }
                if let (Some(o), Some(q)) = (oa.get_mut(c), ob.get_mut(c)) {
                    *o = stage.apply(c, dsp::dot(pa, f, in_off));
                    *q = stage.apply(c, dsp::dot(pb, f, in_off));
                }
                ox += 2;
            }
            if ox < out_w {
                gather(pa, img, w, in_c, ys, w.taps(ox, false), pad);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                pixel(pa, filter, f_chan, in_off, stage, out, &mut wbuf);
            }
        }
    }
    Ok(())
}

/// The general path of [`eval`]: grouped filters, large receptive fields, or an input zero
/// point outside int8. One dot product per valid filter row (or per tap when the row is not
/// contiguous).
#[inline(never)]
fn by_rows(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw, fic) = (
        w.filter_h as usize,
        w.filter_w as usize,
        p.filter_in_c as usize,
    );
    let (dh, dw) = (w.dilation_h as usize, w.dilation_w as usize);
    let batches = w.batches as usize;

    let in_row = in_w * in_c;
    let in_img = in_h * in_row;
    let f_row = fw * fic;
    let f_chan = fh * f_row;

    let groups = p.groups as usize;
    let per_group = out_c / groups;
    let in_off = p.input_offset;
    // With unit horizontal dilation and one group, a filter row's valid taps and the input
    // pixels under them are both contiguous: one dot product per filter row.
    let row_contiguous = dw == 1 && groups == 1;

    let mut out_px = output.chunks_exact_mut(out_c);
    for img in input.chunks_exact(in_img).take(batches) {
        for oy in 0..out_h {
            let (y0, ty0, ty1) = w.taps(oy, true);
            for ox in 0..out_w {
                let (x0, tx0, tx1) = w.taps(ox, false);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                for (c, (o, fil)) in out.iter_mut().zip(filter.chunks_exact(f_chan)).enumerate() {
                    let g_base = if groups == 1 {
                        0
                    } else {
                        (c / per_group) * fic
                    };
                    let mut acc = 0i32;
                    for ty in ty0..ty1 {
                        // taps() guarantees 0 <= y0 + ty*dh < in_h for ty in ty0..ty1.
                        let iy = (y0 + (ty * dh) as i32) as usize;
                        let irow = &img[iy * in_row..(iy + 1) * in_row];
                        let frow = &fil[ty * f_row..(ty + 1) * f_row];
                        if row_contiguous {
                            let ix = (x0 + tx0 as i32) as usize;
                            let n = (tx1 - tx0) * in_c;
                            acc = acc.wrapping_add(dot_i8(
                                &irow[ix * in_c..ix * in_c + n],
                                &frow[tx0 * fic..tx0 * fic + n],
                                in_off,
                            ));
                        } else {
                            for tx in tx0..tx1 {
                                let ix = (x0 + (tx * dw) as i32) as usize;
                                let xs = ix * in_c + g_base;
                                acc = acc.wrapping_add(dot_i8(
                                    &irow[xs..xs + fic],
                                    &frow[tx * fic..(tx + 1) * fic],
                                    in_off,
                                ));
                            }
                        }
                    }
                    *o = stage.apply(c, acc);
                }
            }
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    win: Window2D,
    in_c: u16,
    filter_in_c: u16,
    out_c: u16,
    groups: u16,
    has_bias: bool,
    _pad: u8,
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
    use crate::model::BuiltinOp;
    use crate::ops::common::test_util::{bias, bytes, bytes32, i8t, run, tensor};
    use crate::ops::common::Padding;

    fn opts(padding: Padding, stride: i32, dilation: i32, act: Activation) -> Options {
        Options {
            window: WindowOptions {
                padding,
                stride_h: stride,
                stride_w: stride,
                dilation_h: dilation,
                dilation_w: dilation,
            },
            activation: act,
        }
    }

    /// Straightforward transcription of the reference loop nest, for cross-checking eval on
    /// shapes too large to work out by hand (real multiplier 1/2 applied with rounding).
    #[allow(clippy::too_many_arguments)]
    fn naive(
        x: &[i8],
        ishape: [usize; 4],
        f: &[i8],
        fshape: [usize; 4],
        b: Option<&[i32]>,
        oshape: [usize; 4],
        stride: usize,
        dil: usize,
        pad: (i32, i32),
        in_zp: i32,
        out_zp: i32,
    ) -> Vec<i8> {
        let [n, ih, iw, ic] = ishape;
        let [oc, fh, fw, fic] = fshape;
        let [_, oh, ow, _] = oshape;
        let per_group = oc / (ic / fic);
        let mut out = Vec::new();
        for bi in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..oc {
                        let g = c / per_group;
                        let mut acc = 0i32;
                        for ky in 0..fh {
                            for kx in 0..fw {
                                let iy = (oy * stride) as i32 - pad.0 + (ky * dil) as i32;
                                let ix = (ox * stride) as i32 - pad.1 + (kx * dil) as i32;
                                if iy < 0 || ix < 0 || iy >= ih as i32 || ix >= iw as i32 {
                                    continue;
                                }
                                for k in 0..fic {
                                    let xv = x[((bi * ih + iy as usize) * iw + ix as usize) * ic
                                        + g * fic
                                        + k] as i32;
                                    let fv = f[((c * fh + ky) * fw + kx) * fic + k] as i32;
                                    acc += fv * (xv - in_zp);
                                }
                            }
                        }
                        acc += b.map_or(0, |b| b[c]);
                        let (m, sh) = crate::fixedpoint::quantize_multiplier(0.5);
                        let half = crate::fixedpoint::multiply_by_quantized_multiplier(acc, m, sh);
                        out.push((half + out_zp).clamp(-128, 127) as i8);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn one_by_one_with_bias_and_rounding() {
        // Input 1x1x2x2, filter 2x1x1x2, scales in 0.5 * f 1.0 / out 1.0 → multiplier 0.5.
        let x = [3i8, -4, 5, 7];
        let f = [1i8, 1, 2, -1];
        let input = i8t(&[1, 1, 2, 2], 0.5, -1);
        let filter = tensor(DType::I8, &[2, 1, 1, 2], &[1.0], &[0], 0);
        let out = i8t(&[1, 1, 2, 2], 1.0, 2);
        let got = run(
            BuiltinOp::CONV_2D,
            &[
                Some((input, bytes(&x))),
                Some((filter, bytes(&f))),
                Some((bias(2), bytes32(&[1, -2]))),
            ],
            out,
            |c| prepare_with(c, &opts(Padding::Valid, 1, 1, Activation::None)),
            eval,
        )
        .unwrap();
        // px0: c0 = (4 + -3) + 1 = 2 → 1; c1 = 2*4 - (-3) - 2 = 9 → 4.5 → 5. +2 zp.
        // px1: c0 = 6 + 8 + 1 = 15 → 7.5 → 8; c1 = 12 - 8 - 2 = 2 → 1. +2 zp.
        assert_eq!(got, bytes(&[3, 7, 10, 3]));
    }

    #[test]
    fn negative_ties_and_relu() {
        // Multiplier 0.25 = (2^30, shift -1): acc -6 → SRDHM -3 → RoundingDivideByPOT(-3, 1)
        // = -1.5 → -2 (ties away from zero); acc 6 → 2. Relu clamps at the zero point.
        let input = i8t(&[1, 1, 1, 1], 1.0, 0);
        let filter = tensor(DType::I8, &[2, 1, 1, 1], &[0.25, 0.25], &[0, 0], 0);
        let out = i8t(&[1, 1, 1, 2], 1.0, 0);
        let ins = [
            Some((input, bytes(&[-6]))),
            Some((filter, bytes(&[1, -1]))),
            None,
        ];
        let got = run(
            BuiltinOp::CONV_2D,
            &ins,
            out,
            |c| prepare_with(c, &opts(Padding::Valid, 1, 1, Activation::None)),
            eval,
        )
        .unwrap();
        assert_eq!(got, bytes(&[-2, 2]));
        let got = run(
            BuiltinOp::CONV_2D,
            &ins,
            out,
            |c| prepare_with(c, &opts(Padding::Valid, 1, 1, Activation::Relu)),
            eval,
        )
        .unwrap();
        assert_eq!(got, bytes(&[0, 2]));
    }

    #[test]
    fn same_padding_edges_skip_instead_of_multiplying_zero_point() {
        // 3x3 all-ones filter over a 2x2 image, SAME: each window covers all 4 pixels plus 5
        // padding cells. Padding must contribute nothing (not `0 - zero_point`).
        let input = i8t(&[1, 2, 2, 1], 1.0, -1);
        let filter = tensor(DType::I8, &[1, 3, 3, 1], &[1.0], &[0], 0);
        let out = i8t(&[1, 2, 2, 1], 1.0, 0);
        // x - zp = 2 per pixel → 8 per window (13 if padding counted as raw 0).
        let got = run(
            BuiltinOp::CONV_2D,
            &[
                Some((input, bytes(&[1, 1, 1, 1]))),
                Some((filter, bytes(&[1; 9]))),
            ],
            out,
            |c| prepare_with(c, &opts(Padding::Same, 1, 1, Activation::None)),
            eval,
        );
        // Multiplier 1.0 * 1.0 / 1.0 = 1 → 8.
        assert_eq!(got.unwrap(), bytes(&[8, 8, 8, 8]));
    }

    #[test]
    fn matches_naive_on_stride_dilation_groups() {
        // Pseudo-random data, several geometries, multiplier 0.5 (in 0.5 × f 1 / out 1).
        let mut seed = 12345u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
            (seed >> 16) as i8
        };
        for &(ih, iw, ic, oc, fh, fw, fic, stride, dil, padding) in &[
            (
                5usize,
                6usize,
                3usize,
                4usize,
                3usize,
                3usize,
                3usize,
                1usize,
                1usize,
                Padding::Same,
            ),
            (5, 6, 3, 4, 3, 2, 3, 2, 1, Padding::Same),
            (7, 7, 2, 3, 3, 3, 2, 1, 2, Padding::Same),
            (7, 8, 2, 3, 3, 3, 2, 2, 2, Padding::Valid),
            (6, 6, 4, 6, 2, 3, 2, 1, 1, Padding::Same), // 2 groups
            (4, 5, 4, 4, 1, 1, 1, 1, 1, Padding::Valid), // depthwise-like 4 groups
        ] {
            let x: Vec<i8> = (0..2 * ih * iw * ic).map(|_| rnd()).collect();
            let f: Vec<i8> = (0..oc * fh * fw * fic).map(|_| rnd()).collect();
            let b: Vec<i32> = (0..oc as i32).map(|i| i * 37 - 50).collect();
            let (s, d) = (stride as i64, dil as i64);
            let oh = crate::ops::common::compute_out_size(padding, ih as i64, fh as i64, s, d);
            let ow = crate::ops::common::compute_out_size(padding, iw as i64, fw as i64, s, d);
            let (ph, _) =
                crate::ops::common::compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
            let (pw, _) =
                crate::ops::common::compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
            let (oh, ow) = (oh as usize, ow as usize);
            let scales: Vec<f32> = (0..oc).map(|_| 1.0).collect();
            let zps: Vec<i64> = (0..oc).map(|_| 0).collect();
            let input = i8t(&[2, ih as i32, iw as i32, ic as i32], 0.5, 3);
            let filter = tensor(
                DType::I8,
                &[oc as i32, fh as i32, fw as i32, fic as i32],
                &scales,
                &zps,
                0,
            );
            let out = i8t(&[2, oh as i32, ow as i32, oc as i32], 1.0, -5);
            for with_bias in [false, true] {
                let bias_in = if with_bias {
                    Some((bias(oc as i32), bytes32(&b)))
                } else {
                    None
                };
                let got = run(
                    BuiltinOp::CONV_2D,
                    &[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in],
                    out,
                    |c| {
                        prepare_with(
                            c,
                            &opts(padding, stride as i32, dil as i32, Activation::None),
                        )
                    },
                    eval,
                )
                .unwrap();
                let want = naive(
                    &x,
                    [2, ih, iw, ic],
                    &f,
                    [oc, fh, fw, fic],
                    if with_bias { Some(&b) } else { None },
                    [2, oh, ow, oc],
                    stride,
                    dil,
                    (ph as i32, pw as i32),
                    3,
                    -5,
                );
                assert_eq!(
                    got,
                    bytes(&want),
                    "geometry {ih}x{iw}x{ic} -> {oc} f{fh}x{fw} s{stride} d{dil}"
                );
            }
        }
    }

    /// Regression (issue 8, DS-CNN / str-ww outputs on the M4): on DSP builds a pair of output
    /// pixels whose windows lie inside the image is widened straight from the image, leaving
    /// the gathered patches of the *previous* pair in place; with an odd output-channel count
    /// the last channel was computed from those stale patches. SAME padding makes the edge
    /// pairs gathered and the inner pairs direct, and 3 channels leave an odd one. Fails before
    /// the fix under `MOTE_DSP_EMULATE=1` (and on the device); always runs on the host.
    #[test]
    fn odd_last_channel_after_a_direct_pair() {
        let (ih, iw, ic, oc, k) = (5usize, 8usize, 4usize, 3usize, 3usize);
        let x: Vec<i8> = (0..ih * iw * ic)
            .map(|i| ((i * 37 + 11) % 251) as u8 as i8)
            .collect();
        let f: Vec<i8> = (0..oc * k * k * ic)
            .map(|i| ((i * 53 + 7) % 249) as u8 as i8)
            .collect();
        let (in_zp, out_zp) = (-3, 5);
        let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp as i64);
        // Scale 1/2: filter 1.0 with input 0.5 / output 1.0, like `naive`.
        let filter = tensor(
            DType::I8,
            &[oc as i32, k as i32, k as i32, ic as i32],
            &[0.5],
            &[0],
            0,
        );
        let out = i8t(&[1, ih as i32, iw as i32, oc as i32], 1.0, out_zp as i64);
        let got = run(
            BuiltinOp::CONV_2D,
            &[Some((input, bytes(&x))), Some((filter, bytes(&f))), None],
            out,
            |c| prepare_with(c, &opts(Padding::Same, 1, 1, Activation::None)),
            eval,
        )
        .unwrap();
        let want = naive(
            &x,
            [1, ih, iw, ic],
            &f,
            [oc, k, k, ic],
            None,
            [1, ih, iw, oc],
            1,
            1,
            (1, 1),
            in_zp,
            out_zp,
        );
        assert_eq!(got, bytes(&want));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        /// Random geometries, zero points and per-channel scales small enough that outputs
        /// spread over the int8 range (rather than saturating), against a direct transcription
        /// of TFLM's loop nest: exercises the direct, gathered (pixel pairs) and row paths.
        #[test]
        fn matches_naive_random(
            ih in 1usize..7, iw in 1usize..9, ic in 1usize..6, oc in 1usize..7,
            fh in 1usize..4, fw in 1usize..4, stride in 1usize..3, dil in 1usize..3,
            same in proptest::prelude::any::<bool>(), in_zp in -128i64..=127, out_zp in -128i64..=127,
            seed in proptest::prelude::any::<u64>(), with_bias in proptest::prelude::any::<bool>(),
        ) {
            let padding = if same { Padding::Same } else { Padding::Valid };
            let (s, d) = (stride as i64, dil as i64);
            let oh = crate::ops::common::compute_out_size(padding, ih as i64, fh as i64, s, d);
            let ow = crate::ops::common::compute_out_size(padding, iw as i64, fw as i64, s, d);
            if oh <= 0 || ow <= 0 {
                return Ok(());
            }
            let (ph, _) = crate::ops::common::compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
            let (pw, _) = crate::ops::common::compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
            let (oh, ow) = (oh as usize, ow as usize);
            let byte = |i: usize, salt: u64| (seed.rotate_left((i % 61) as u32) ^ salt.wrapping_mul(i as u64 + 1)) as u8 as i8;
            let x: Vec<i8> = (0..ih * iw * ic).map(|i| byte(i, 0x9e37)).collect();
            let f: Vec<i8> = (0..oc * fh * fw * ic).map(|i| byte(i, 0x7f4a)).collect();
            let b: Vec<i32> = (0..oc).map(|c| (byte(c, 0x1234) as i32) * 97).collect();
            let taps = (fh * fw * ic) as f32;
            let scales: Vec<f32> = (0..oc).map(|c| (c as f32 + 1.0) / (300.0 * taps)).collect();
            let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp);
            let filter = tensor(DType::I8, &[oc as i32, fh as i32, fw as i32, ic as i32], &scales, &std::vec![0; oc], 0);
            let out = i8t(&[1, oh as i32, ow as i32, oc as i32], 1.0, out_zp);
            let bias_in = if with_bias { Some((bias(oc as i32), bytes32(&b))) } else { None };
            let got = run(
                BuiltinOp::CONV_2D,
                &[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in],
                out,
                |c| prepare_with(c, &opts(padding, stride as i32, dil as i32, Activation::None)),
                eval,
            )
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
                                for k in 0..ic {
                                    let xv = x[((iy as usize) * iw + ix as usize) * ic + k] as i32;
                                    let fv = f[((c * fh + ky) * fw + kx) * ic + k] as i32;
                                    acc += fv * (xv - in_zp as i32);
                                }
                            }
                        }
                        if with_bias {
                            acc += b[c];
                        }
                        let (m, sh) = crate::fixedpoint::quantize_multiplier(1.0f32 as f64 * scales[c] as f64 / 1.0f32 as f64);
                        let v = crate::fixedpoint::multiply_by_quantized_multiplier(acc, m, sh) + out_zp as i32;
                        want.push(v.clamp(-128, 127) as i8);
                    }
                }
            }
            proptest::prop_assert_eq!(got, bytes(&want));
        }
    }

    #[test]
    fn rejects_bad_models() {
        let input = i8t(&[1, 3, 3, 1], 1.0, 0);
        let out = i8t(&[1, 3, 3, 1], 1.0, 0);
        let o = opts(Padding::Same, 1, 1, Activation::None);
        // Nonzero filter zero point.
        let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0], &[3], 0);
        let r = run(
            BuiltinOp::CONV_2D,
            &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
            out,
            |c| prepare_with(c, &o),
            eval,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
        // Per-channel scale count not matching output channels.
        let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0, 2.0], &[0, 0], 0);
        let r = run(
            BuiltinOp::CONV_2D,
            &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
            out,
            |c| prepare_with(c, &o),
            eval,
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
        // Output shape not what SAME padding gives.
        let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0], &[0], 0);
        let bad_out = i8t(&[1, 2, 3, 1], 1.0, 0);
        let r = run(
            BuiltinOp::CONV_2D,
            &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
            bad_out,
            |c| prepare_with(c, &o),
            eval,
        );
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
        // Stride 0.
        let r = run(
            BuiltinOp::CONV_2D,
            &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
            out,
            |c| prepare_with(c, &opts(Padding::Same, 0, 1, Activation::None)),
            eval,
        );
        assert!(matches!(r, Err(Error::UnsupportedOption { .. })));
        // Float input.
        let fin = tensor(DType::F32, &[1, 3, 3, 1], &[], &[], 0);
        let r = run(
            BuiltinOp::CONV_2D,
            &[Some((fin, std::vec![0; 36])), Some((filter, bytes(&[1])))],
            out,
            |c| prepare_with(c, &o),
            eval,
        );
        assert!(matches!(r, Err(Error::UnsupportedType { .. })));
    }

    #[test]
    fn macs_count() {
        let input = i8t(&[1, 4, 4, 3], 1.0, 0);
        let filter = tensor(DType::I8, &[5, 3, 3, 3], &[1.0], &[0], 0);
        let out = i8t(&[1, 2, 2, 5], 1.0, 0);
        let ins: Vec<Option<(crate::model::Tensor<'static>, Vec<u8>)>> = std::vec![
            Some((input, std::vec![0; 48])),
            Some((filter, std::vec![0; 135]))
        ];
        let mut macs = 0;
        run(
            BuiltinOp::CONV_2D,
            &ins,
            out,
            |c| {
                let p = prepare_with(c, &opts(Padding::Same, 2, 1, Activation::None))?;
                macs = p.macs();
                Ok(p)
            },
            eval,
        )
        .unwrap();
        assert_eq!(macs, 4 * 5 * 27);
    }
}
