//! CONV_2D, int8: TFLM `reference_integer_ops::ConvPerChannel` with the quantization set up by
//! `ConvPrepare` / `PopulateConvolutionQuantizationParams` (per-channel or broadcast per-tensor
//! filter scales, symmetric int8 filter, optional int32 bias, grouped filters).

use super::common::{channels_u16, conv_dims, conv_prepare, conv_weights, weighted_int8_operands};
use super::common::{
    check_len, dot_i8, fused_activation, Activation, ChannelQuant, OutputStage, Window2D,
    WindowOptions,
};
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
        self.win.macs(self.out_c, self.filter_in_c)
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
    Ok(Options {
        window: WindowOptions::read(ctx, 4, 5)?,
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
    let ops = weighted_int8_operands(ctx, "CONV_2D takes 2 or 3 inputs and 1 output")?;
    // Filter [out_c, fh, fw, filter_in_c]; input channels are split into groups of filter_in_c.
    let ([out_c, fh, fw, fic], in_c) = conv_dims(ctx, &ops, false)?;
    let fidx = ctx.input_index(1);
    if fic == 0 || in_c == 0 || in_c % fic != 0 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let groups = in_c / fic;
    if out_c == 0 || out_c % groups != 0 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let c = conv_prepare(ctx, &ops, &opts.window, fh, fw, out_c, 0, opts.activation)?;
    let u = channels_u16;
    Ok(Params {
        _pad: Default::default(),
        win: c.win,
        in_c: u(in_c)?,
        filter_in_c: u(fic)?,
        out_c: u(out_c)?,
        groups: u(groups)?,
        has_bias: c.has_bias,
        input_offset: -ops.in_zp,
        output_offset: ops.out_zp,
        act_min: c.act_min,
        act_max: c.act_max,
        quant: c.quant,
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
    check_len(input, batches * in_h * in_w * in_c)?;
    let (filter, bias, words) = conv_weights(
        ctx,
        out_c * fh * fw * fic,
        (p.has_bias, out_c),
        p.quant.span,
    )?;
    let output = crate::ops::quantize::output0(ctx)?;
    check_len(output, batches * out_h * out_w * out_c)?;
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
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    strategy(p).run(p, input, filter, &stage, output)
}

/// How [`run`] computes a convolution: chosen once per operator from its whole window (the
/// in-place path runs the same strategy row by row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strategy {
    /// [`direct`]: every receptive field is one run of input bytes.
    Direct,
    /// [`gathered`], padding taps set to this byte (the input zero point).
    Gathered(u8),
    /// [`by_rows`]: the general path.
    Rows,
}

/// The strategy [`run`] takes for `p`. Inlined, so that with constant `Params` (generated
/// code) the strategies not taken are not linked.
#[inline(always)]
fn strategy(p: &Params) -> Strategy {
    let w = &p.win;
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let f_chan = w.filter_h as usize * w.filter_w as usize * p.filter_in_c as usize;
    if p.groups == 1 {
        let all_direct = (0..out_h).all(|y| direct_axis(w, y, true))
            && (0..out_w).all(|x| direct_axis(w, x, false));
        // On DSP cores the pair path (two pixels x two filters per step, inputs widened once
        // per pair) beats the one-pixel path also when every window is contiguous, as long as
        // rows have pixel pairs (measured: a 1x1 64->64 conv over 25x5 pixels takes 9% fewer
        // instructions); with one pixel per row it would only add a gather.
        let pairs = cfg!(mote_dsp) && out_w >= 2 && f_chan <= PATCH;
        if all_direct && !pairs {
            return Strategy::Direct;
        }
        // Padding bytes must be an int8 equal to the input zero point.
        if let (Ok(pad), true) = (i8::try_from(-p.input_offset), f_chan <= PATCH) {
            return Strategy::Gathered(pad as u8);
        }
    }
    Strategy::Rows
}

impl Strategy {
    /// Compute `output` from `input` (whole images, as `p.win` describes them).
    #[inline]
    fn run(
        self,
        p: &Params,
        input: &[u8],
        filter: &[u8],
        stage: &OutputStage<'_>,
        output: &mut [u8],
    ) -> Result<(), Error> {
        match self {
            Strategy::Direct => direct(p, input, filter, stage, output),
            Strategy::Gathered(pad) => gathered(p, input, filter, stage, output, pad),
            Strategy::Rows => by_rows(p, input, filter, stage, output),
        }
    }
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

mod in_place;
mod patch;
mod rows;
#[cfg(test)]
mod tests;

pub(crate) use in_place::run_in_place;
pub use in_place::{eval_in_place, in_place_gap};
use patch::{direct, gathered};
use rows::by_rows;
