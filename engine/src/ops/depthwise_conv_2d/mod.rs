//! DEPTHWISE_CONV_2D, int8: TFLM `reference_integer_ops::DepthwiseConvPerChannel` with the
//! quantization set up by `DepthwiseConvPrepare` (per-channel along axis 3, or a broadcast
//! per-tensor scale; symmetric int8 filter; optional int32 bias).

use super::common::{channels_u16, conv_dims, conv_prepare, conv_weights, weighted_int8_operands};
use super::common::{
    check_len, fused_activation, Activation, ChannelQuant, OutputStage, Window2D, WindowOptions,
};
use super::{common, conv_2d, dsp, EvalCtx, InPlace, PrepareCtx};
use crate::error::Error;

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
        self.win.macs(self.out_c, 1)
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
    // Filter [1, fh, fw, out_c]; output channel c reads input channel c / depth_multiplier.
    let ([_, fh, fw, out_c], in_c) = conv_dims(ctx, &ops, true)?;
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
    // Written out rather than through `conv_weights`: on the L432KC's micro_speech AOT build
    // (this is its first layer) the helper's register allocation cost 4 B of flash.
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
/// Per output pixel ([`channels`]), channels go four at a time through `block4` when the depth
/// multiplier is 1 or a multiple of 4 (the accumulators stay in registers across the taps);
/// anything else (and the last `out_c % 4` channels) takes the chunked scalar path, which keeps
/// up to `CHUNK` accumulators on the stack and walks each tap's contiguous channel range.
/// The order of the exact int32 additions differs from TFLM's; the sums do not.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw) = (w.filter_h as usize, w.filter_w as usize);
    let batches = w.batches as usize;

    let input = ctx.input(0);
    check_len(input, batches * in_h * in_w * in_c)?;
    let (filter, bias, words) =
        conv_weights(ctx, fh * fw * out_c, (p.has_bias, out_c), p.quant.span)?;
    let output = crate::ops::quantize::output0(ctx)?;
    check_len(output, batches * out_h * out_w * out_c)?;
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

mod channels;
#[cfg(test)]
mod tests;

use channels::channels;
