//! Quantization checks, per-channel multipliers and the int8 output stage (TFLM `PopulateConvolutionQuantizationParams`, `MultiplyByQuantizedMultiplier`).

use super::*;

// ---------------------------------------------------------------------------------------------
// Quantization parameters
// ---------------------------------------------------------------------------------------------

/// The int8 operands of a weighted op (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED): input 0,
/// filter 1, output 0, all int8, with the input's and output's per-tensor quantization.
pub struct WeightedOperands<'m> {
    /// Input 0.
    pub input: Tensor<'m>,
    /// Input 1 (the filter / weights).
    pub filter: Tensor<'m>,
    /// Output 0.
    pub output: Tensor<'m>,
    /// Input scale.
    pub in_scale: f32,
    /// Input zero point.
    pub in_zp: i32,
    /// Output scale.
    pub out_scale: f32,
    /// Output zero point.
    pub out_zp: i32,
}

/// Checks and reads [`WeightedOperands`] (types first, then quantization, as each op did).
pub fn weighted_int8_operands<'m>(
    ctx: &PrepareCtx<'_, 'm, '_>,
    arity_error: &'static str,
) -> Result<WeightedOperands<'m>, Error> {
    if ctx.inputs.len() < 2 || ctx.inputs.len() > 3 || ctx.outputs.len() != 1 {
        return Err(Error::InvalidGraph {
            what: arity_error,
            index: ctx.inputs.len() as i32,
        });
    }
    let input = ctx.input(0)?;
    let filter = ctx.input(1)?;
    let output = ctx.output(0)?;
    if input.dtype != DType::I8 {
        return Err(ctx.bad_input_type(0));
    }
    if filter.dtype != DType::I8 {
        return Err(ctx.bad_input_type(1));
    }
    if output.dtype != DType::I8 {
        return Err(ctx.bad_output_type(0));
    }
    let (in_scale, in_zp) = per_tensor_quant(&input).ok_or(ctx.bad_quant(ctx.input_index(0)))?;
    let (out_scale, out_zp) =
        per_tensor_quant(&output).ok_or(ctx.bad_quant(ctx.output_index(0)))?;
    Ok(WeightedOperands {
        input,
        filter,
        output,
        in_scale,
        in_zp,
        out_scale,
        out_zp,
    })
}

/// `(scale, zero_point)` of a per-tensor quantized activation: exactly one scale (the reader
/// guarantees at most one zero point then); `None` if unquantized or per-channel. The one rule
/// for every op's activations. TFLM's kernels read `params.scale` (the first scale) without
/// checking the count; no TFLM kernel quantizes activations per channel, so several scales are
/// refused here. Whether a scale's *value* is usable is each op's own TFLM rule, checked where
/// its multiplier is made: ADD/SUB refuse multipliers outside (0, 1)
/// (`QuantizeMultiplierSmallerThanOneExp` aborts); every op that calls `QuantizeMultiplier`
/// (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, RELU, QUANTIZE, MUL, MEAN) refuses an infinite
/// one ([`prepare_multiplier`]) and takes zero or negative scales as TFLM does; pools take the
/// value as it is (the activation range).
pub fn per_tensor_quant(t: &Tensor<'_>) -> Option<(f32, i32)> {
    if t.quant.scales.len() != 1 || t.quant.zero_points.len() > 1 {
        return None;
    }
    Some((t.quant.scale(), t.quant.zero_point()))
}

/// TFLM `QuantizeMultiplier` at prepare: `(multiplier, shift)` of `real`, or
/// [`Error::InfiniteMultiplier`] when `real` is infinite or NaN (an output scale of 0, or
/// scales that are themselves infinite). TFLM converts `round(q * 2^31)` to `int64_t` there,
/// which C++ leaves undefined for such values: where the conversion saturates (aarch64)
/// `TFLITE_CHECK(q_fixed <= 2^31)` aborts; on x86 it happens to give multiplier 0 and the model
/// runs (so no x86 golden can record the refusal). There is no defined result to match, so the
/// model is refused everywhere. Zero, negative and large finite multipliers are quantized as
/// TFLM does.
pub fn prepare_multiplier(ctx: &PrepareCtx<'_, '_, '_>, real: f64) -> Result<(i32, i32), Error> {
    finite_multiplier(real).ok_or_else(|| ctx.infinite_multiplier())
}

/// [`quantize_multiplier`] of a finite `real`; `None` for infinity or NaN (see
/// [`prepare_multiplier`]).
pub fn finite_multiplier(real: f64) -> Option<(i32, i32)> {
    real.is_finite().then(|| quantize_multiplier(real))
}

/// A channel count (or other dimension) as the `u16` the conv kernels' parameters store.
pub fn channels_u16(v: usize) -> Result<u16, Error> {
    u16::try_from(v).map_err(|_| Error::LimitExceeded {
        what: "channels",
        limit: u16::MAX as u32,
    })
}

/// What CONV_2D and DEPTHWISE_CONV_2D prepare alike once their shapes are known.
pub struct ConvPrepared {
    /// The window over the input.
    pub win: Window2D,
    /// True if the optional bias (input 2, `out_c` int32) is there.
    pub has_bias: bool,
    /// The filter's (input 1) output multipliers.
    pub quant: ChannelQuant,
    /// The output's activation range.
    pub act_min: i32,
    /// See `act_min`.
    pub act_max: i32,
}

/// The rank-4 shapes of a convolution's operands, checked in this order: the filter's four
/// dimensions (with `dim0_one`, the first must be 1: DEPTHWISE_CONV_2D's `[1, fh, fw, out_c]`),
/// then the input's rank; returns the filter's dimensions and the input's channels (`dim(3)`).
pub fn conv_dims(
    ctx: &PrepareCtx<'_, '_, '_>,
    ops: &WeightedOperands<'_>,
    dim0_one: bool,
) -> Result<([usize; 4], usize), Error> {
    let f = &ops.filter.shape;
    if f.rank() != 4 || (dim0_one && f.dim(0) != 1) {
        return Err(ctx.shape_mismatch(ctx.input_index(1)));
    }
    if ops.input.shape.rank() != 4 {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    Ok((
        [f.dim(0), f.dim(1), f.dim(2), f.dim(3)],
        ops.input.shape.dim(3),
    ))
}

/// `out[j] = stage(acc[j] + bias_j, multiplier_j, shift_j)` for each channel's int32 bias (4
/// little-endian bytes of `b`) and `[multiplier, shift]` pair of `w` ([`OutputStage::store`]'s
/// per-channel loops; inlined, so each stage is its own loop).
#[inline(always)]
fn biased_per_channel(
    acc: &[i32],
    out: &mut [u8],
    b: &[u8],
    w: &[i32],
    stage: impl Fn(i32, i32, i32) -> u8,
) {
    for (((&a, o), b), w) in acc
        .iter()
        .zip(out.iter_mut())
        .zip(b.chunks_exact(4))
        .zip(w.chunks_exact(2))
    {
        if let [m, s] = *w {
            *o = stage(a.wrapping_add(crate::ops::dsp::word(b) as i32), m, s);
        }
    }
}

/// A convolution's filter bytes, bias bytes and output-multiplier words ([`conv_weights`]).
pub type ConvWeights<'b> = (&'b [u8], &'b [u8], &'b [i32]);

/// A convolution's weights at eval: the filter (input 1, `filter_len` bytes), the bias
/// (input 2, `4 * out_c` bytes; empty when `has_bias` is false) and the words of `span` (the
/// output multipliers), lengths checked.
#[inline]
pub fn conv_weights<'b>(
    ctx: &crate::ops::EvalCtx<'_, 'b>,
    filter_len: usize,
    (has_bias, out_c): (bool, usize),
    span: Span,
) -> Result<ConvWeights<'b>, Error> {
    let filter = ctx.input(1);
    let bias = if has_bias { ctx.input(2) } else { &[][..] };
    check_len(filter, filter_len)?;
    if has_bias {
        check_len(bias, 4 * out_c)?;
    }
    Ok((filter, bias, ctx.words(span)))
}

/// [`ConvPrepared`] for a filter of `fh x fw` taps and `out_c` output channels (along filter
/// axis `axis`): the output must be rank 4 with `out_c` channels.
#[allow(clippy::too_many_arguments)]
pub fn conv_prepare(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    ops: &WeightedOperands<'_>,
    window: &WindowOptions,
    fh: usize,
    fw: usize,
    out_c: usize,
    axis: usize,
    activation: Activation,
) -> Result<ConvPrepared, Error> {
    let output = &ops.output;
    if output.shape.rank() != 4 || output.shape.dim(3) != out_c {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let win = Window2D::new(ctx, window, &ops.input, fh as i32, fw as i32, output)?;
    let has_bias = check_bias(ctx, 2, out_c)?;
    let quant = conv_channel_quant(ctx, ops.in_scale, 1, ops.out_scale, out_c, axis)?;
    let (act_min, act_max) = output_activation_range(ctx, activation, 0)?;
    Ok(ConvPrepared {
        win,
        has_bias,
        quant,
        act_min,
        act_max,
    })
}

/// Output multipliers of a conv-like operator: one `(multiplier, shift)` per output channel,
/// or a single pair when the filter is quantized per tensor (TFLM broadcasts it).
///
/// Per-channel pairs live in persistent words, interleaved `[m0, s0, m1, s1, ...]`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelQuant {
    /// Per-channel pairs (empty when per tensor).
    pub span: Span,
    /// The per-tensor multiplier (Q31), used when `span` is empty.
    pub multiplier: i32,
    /// The per-tensor shift (positive = left), used when `span` is empty.
    pub shift: i32,
}

impl ChannelQuant {
    /// `(multiplier, shift)` of `channel`, given `words = ctx.words(self.span)`.
    #[inline(always)]
    pub fn get(&self, words: &[i32], channel: usize) -> (i32, i32) {
        match words.get(2 * channel..2 * channel + 2) {
            Some(&[m, s]) => (m, s),
            _ => (self.multiplier, self.shift),
        }
    }
}

/// TFLM `PopulateConvolutionQuantizationParams` for an int8 filter (input `filter_pos`) with
/// `channels` output channels along `axis`:
/// `QuantizeMultiplier(double(input_scale) * double(filter_scale[c]) / double(output_scale))`.
///
/// Checks what TFLM checks (one scale or one per channel along the quantized dimension) plus
/// that every filter zero point is 0 (TFLM's int8 kernels ignore the filter offset).
pub fn conv_channel_quant(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    input_scale: f32,
    filter_pos: usize,
    output_scale: f32,
    channels: usize,
    axis: usize,
) -> Result<ChannelQuant, Error> {
    let filter = ctx.input(filter_pos)?;
    let fidx = ctx.input_index(filter_pos);
    check_symmetric_filter(ctx, &filter, fidx, channels, axis)?;
    let q = filter.quant;
    let real = |s: f32| input_scale as f64 * s as f64 / output_scale as f64;
    if q.scales.len() == 1 {
        let (multiplier, shift) = prepare_multiplier(ctx, real(q.scale()))?;
        return Ok(ChannelQuant {
            span: Span::default(),
            multiplier,
            shift,
        });
    }
    let infinite = ctx.infinite_multiplier();
    let (span, mut words) = ctx.alloc_words(2 * channels)?;
    for c in 0..channels {
        let (m, s) = finite_multiplier(real(q.scales.get(c).unwrap_or(0.0))).ok_or(infinite)?;
        words.set(2 * c, m);
        words.set(2 * c + 1, s);
    }
    Ok(ChannelQuant {
        span,
        multiplier: 0,
        shift: 0,
    })
}

/// Filter quantization accepted by the int8 kernels: at least one scale; either one scale or
/// `channels` scales along `axis` (which must have `channels` entries); zero points absent,
/// single or matching, and all 0.
pub fn check_symmetric_filter(
    ctx: &PrepareCtx<'_, '_, '_>,
    filter: &Tensor<'_>,
    fidx: i32,
    channels: usize,
    axis: usize,
) -> Result<(), Error> {
    let q = filter.quant;
    let n = q.scales.len();
    if n == 0 {
        return Err(ctx.bad_quant(fidx));
    }
    if n > 1
        && (n != channels
            || q.axis as usize != axis
            || filter.shape.dim(axis) != channels
            || q.axis < 0)
    {
        return Err(ctx.bad_quant(fidx));
    }
    let nz = q.zero_points.len();
    if nz > 1 && nz != n {
        return Err(ctx.bad_quant(fidx));
    }
    if (0..nz).any(|i| q.zero_points.get(i) != Some(0)) {
        return Err(ctx.bad_quant(fidx));
    }
    Ok(())
}

/// Bias of a conv-like operator (input `pos`, optional): `Ok(true)` if present, after checking
/// it is int32 with exactly `channels` elements (TFLM's `bias_shape.FlatSize() == output_depth`).
pub fn check_bias(
    ctx: &PrepareCtx<'_, '_, '_>,
    pos: usize,
    channels: usize,
) -> Result<bool, Error> {
    let Some(bias) = ctx.optional_input(pos) else {
        return Ok(false);
    };
    if bias.dtype != DType::I32 {
        return Err(ctx.bad_input_type(pos));
    }
    if bias.shape.elements() != Some(channels) {
        return Err(ctx.shape_mismatch(ctx.input_index(pos)));
    }
    Ok(true)
}

/// Int32 value `i` of a little-endian byte buffer (0 past the end, which prepare rules out).
#[inline(always)]
pub fn le_i32(bytes: &[u8], i: usize) -> i32 {
    match bytes.get(4 * i..4 * i + 4) {
        Some(&[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// `sum(f[k] * (x[k] + x_offset))` over int8 bytes, wrapping like TFLM's int32 accumulator.
///
/// Each product fits easily (|f| <= 128, |x + offset| <= 255); only the running sum could wrap,
/// which TFLM leaves undefined and which never happens for accumulation depths below 2^16.
#[inline]
pub fn dot_i8(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
    crate::ops::dsp::dot(x, f, x_offset)
}

/// TFLM `MultiplyByQuantizedMultiplier` (double rounding), computed with fewer and 32-bit
/// friendly steps; equal to [`crate::fixedpoint::multiply_by_quantized_multiplier`] for every
/// input with `shift` in `-31..=30` (the range `quantize_multiplier` produces), proven by the
/// property test below.
///
/// - `SaturatingRoundingDoublingHighMul(a, m)` = `floor((a*m + 2^30) / 2^31)`: gemmlowp's
///   nudge-then-truncate rounds ties toward +infinity on both signs, which is exactly this
///   floor; the only overflow (`a == m == i32::MIN`) saturates to `i32::MAX`.
/// - `RoundingDivideByPOT(v, e)`: TFLM's mask/threshold form with 32-bit masks.
#[inline(always)]
pub fn multiply_by_quantized_multiplier_fast(acc: i32, multiplier: i32, shift: i32) -> i32 {
    let left = if shift > 0 { shift } else { 0 };
    let right = if shift > 0 { 0 } else { -shift };
    let a = acc.wrapping_mul(1i32.wrapping_shl(left as u32));
    let high = (a as i64 * multiplier as i64 + (1i64 << 30)) >> 31;
    let v = if high > i32::MAX as i64 {
        i32::MAX
    } else {
        high as i32
    };
    let mask = (1u32.wrapping_shl(right as u32)).wrapping_sub(1) as i32;
    let remainder = v & mask;
    let threshold = (mask >> 1) + (v < 0) as i32;
    v.wrapping_shr(right as u32) + (remainder > threshold) as i32
}

/// The int8 output stage of a conv-like operator, with everything per-channel bound once per
/// eval: bias bytes (empty if none), multiplier words, zero point and clamp.
#[derive(Clone, Copy)]
pub struct OutputStage<'a> {
    bias: &'a [u8],
    words: &'a [i32],
    quant: ChannelQuant,
    out_offset: i32,
    act_min: i32,
    act_max: i32,
    /// Every channel's multiplier is `>= 0` and its shift in `-31..=-2`, so [`right_shift_stage`]
    /// applies (decided once per eval, not per output).
    right_only: bool,
}

impl<'a> OutputStage<'a> {
    /// Bind a stage: `bias` is the int32 bias bytes (empty for none), `words` the quant span's words.
    pub fn new(
        bias: &'a [u8],
        words: &'a [i32],
        quant: ChannelQuant,
        out_offset: i32,
        act_min: i32,
        act_max: i32,
    ) -> Self {
        let fits = |m: i32, s: i32| m >= 0 && (-31..=-2).contains(&s);
        let right_only = if words.is_empty() {
            fits(quant.multiplier, quant.shift)
        } else {
            words
                .chunks_exact(2)
                .all(|w| matches!(*w, [m, s] if fits(m, s)))
        };
        OutputStage {
            bias,
            words,
            quant,
            out_offset,
            act_min,
            act_max,
            right_only,
        }
    }

    /// Output byte of channel `c` for accumulator `acc` (bias added here, as TFLM does).
    #[inline(always)]
    pub fn apply(&self, c: usize, acc: i32) -> u8 {
        if self.right_only {
            let bias = self
                .bias
                .get(4 * c..)
                .map_or(0, |b| crate::ops::dsp::word(b) as i32);
            let (m, s) = self.quant.get(self.words, c);
            let (off, lo, hi) = (self.out_offset, self.act_min, self.act_max);
            return right_shift_stage(acc.wrapping_add(bias), m, s, off, lo, hi);
        }
        self.channel(c).apply(acc)
    }

    /// `out[j]` = output byte of channel `c0 + j` for accumulator `acc[j]` (as [`Self::apply`]),
    /// for `j < min(acc.len(), out.len())`: one bounds check for the run, then a straight loop.
    #[inline(never)]
    pub fn store(&self, c0: usize, acc: &[i32], out: &mut [u8]) {
        let n = acc.len().min(out.len());
        let (acc, out) = (
            acc.get(..n).unwrap_or(&[]),
            out.get_mut(..n).unwrap_or(&mut []),
        );
        let one = |a: i32, m: i32, s: i32| {
            OutputChannel::new(0, m, s, self.out_offset, self.act_min, self.act_max).apply(a)
        };
        let bias = self.bias.get(4 * c0..4 * (c0 + n));
        let words = self.words.get(2 * c0..2 * (c0 + n));
        let (off, lo, hi) = (self.out_offset, self.act_min, self.act_max);
        match (bias, words, self.right_only) {
            // Per-channel multipliers, a bias, right shifts only: the hot loop of every conv.
            (Some(b), Some(w), true) => {
                biased_per_channel(acc, out, b, w, |a, m, s| {
                    right_shift_stage(a, m, s, off, lo, hi)
                });
                return;
            }
            (Some(b), None, true) if self.words.is_empty() => {
                let (m, s) = (self.quant.multiplier, self.quant.shift);
                for ((&a, o), b) in acc.iter().zip(out.iter_mut()).zip(b.chunks_exact(4)) {
                    let a = a.wrapping_add(crate::ops::dsp::word(b) as i32);
                    *o = right_shift_stage(a, m, s, off, lo, hi);
                }
                return;
            }
            _ => {}
        }
        match (bias, words) {
            // The common case (per-channel multipliers and a bias) without any per-channel test.
            (Some(b), Some(w)) => biased_per_channel(acc, out, b, w, one),
            (bias, words) => {
                for (j, (&a, o)) in acc.iter().zip(out.iter_mut()).enumerate() {
                    let b = bias
                        .and_then(|b| b.get(4 * j..))
                        .map_or(0, |b| crate::ops::dsp::word(b) as i32);
                    let (m, s) = match words.and_then(|w| w.get(2 * j..2 * j + 2)) {
                        Some(&[m, s]) => (m, s),
                        _ => (self.quant.multiplier, self.quant.shift),
                    };
                    *o = one(a.wrapping_add(b), m, s);
                }
            }
        }
    }

    /// [`Self::store`] for two pixels sharing channels `c0..`: each channel decoded once.
    #[inline(never)]
    pub fn store_pair(
        &self,
        c0: usize,
        acc_a: &[i32],
        acc_b: &[i32],
        out_a: &mut [u8],
        out_b: &mut [u8],
    ) {
        let n = acc_a
            .len()
            .min(acc_b.len())
            .min(out_a.len())
            .min(out_b.len());
        let (acc_a, acc_b) = (acc_a.get(..n).unwrap_or(&[]), acc_b.get(..n).unwrap_or(&[]));
        let (out_a, out_b) = (
            out_a.get_mut(..n).unwrap_or(&mut []),
            out_b.get_mut(..n).unwrap_or(&mut []),
        );
        let pairs = acc_a
            .iter()
            .zip(acc_b)
            .zip(out_a.iter_mut().zip(out_b.iter_mut()));
        let bias = self.bias.get(4 * c0..4 * (c0 + n));
        let (off, lo, hi) = (self.out_offset, self.act_min, self.act_max);
        match (bias, self.words.get(2 * c0..2 * (c0 + n))) {
            (Some(b), Some(w)) if self.right_only => {
                for ((((&a, &q), (oa, ob)), b), w) in
                    pairs.zip(b.chunks_exact(4)).zip(w.chunks_exact(2))
                {
                    if let [m, s] = *w {
                        let b = crate::ops::dsp::word(b) as i32;
                        *oa = right_shift_stage(a.wrapping_add(b), m, s, off, lo, hi);
                        *ob = right_shift_stage(q.wrapping_add(b), m, s, off, lo, hi);
                    }
                }
            }
            (Some(b), Some(w)) => {
                for ((((&a, &q), (oa, ob)), b), w) in
                    pairs.zip(b.chunks_exact(4)).zip(w.chunks_exact(2))
                {
                    if let [m, s] = *w {
                        let ch = OutputChannel::new(
                            crate::ops::dsp::word(b) as i32,
                            m,
                            s,
                            self.out_offset,
                            self.act_min,
                            self.act_max,
                        );
                        *oa = ch.apply(a);
                        *ob = ch.apply(q);
                    }
                }
            }
            _ => {
                for (j, ((&a, &q), (oa, ob))) in pairs.enumerate() {
                    let ch = self.channel(c0 + j);
                    *oa = ch.apply(a);
                    *ob = ch.apply(q);
                }
            }
        }
    }

    /// Channel `c`'s bias and multiplier, decoded once for several accumulators.
    #[inline(always)]
    pub fn channel(&self, c: usize) -> OutputChannel {
        let bias = self
            .bias
            .get(4 * c..)
            .map_or(0, |b| crate::ops::dsp::word(b) as i32);
        let (m, s) = match self.words.get(2 * c..) {
            Some([m, s, ..]) => (*m, *s),
            _ => (self.quant.multiplier, self.quant.shift),
        };
        OutputChannel::new(bias, m, s, self.out_offset, self.act_min, self.act_max)
    }
}

/// One channel of an [`OutputStage`], with the shifts and rounding mask precomputed.
#[derive(Clone, Copy)]
pub struct OutputChannel {
    bias: i32,
    multiplier: i32,
    shift: i32,
    left: u32,
    right: u32,
    mask: u32,
    out_offset: i32,
    act_min: i32,
    act_max: i32,
}

impl OutputChannel {
    /// A channel with bias `bias`, multiplier `m`, shift `s` (positive = left).
    #[inline(always)]
    fn new(bias: i32, m: i32, s: i32, out_offset: i32, act_min: i32, act_max: i32) -> Self {
        let right = if s > 0 { 0 } else { s.unsigned_abs() };
        OutputChannel {
            bias,
            multiplier: m,
            shift: s,
            left: if s > 0 { s as u32 } else { 0 },
            right,
            mask: 1u32.wrapping_shl(right).wrapping_sub(1),
            out_offset,
            act_min,
            act_max,
        }
    }

    /// TFLM's int8 output stage for this channel: bias, `MultiplyByQuantizedMultiplier`,
    /// zero point, clamp. Same arithmetic as [`multiply_by_quantized_multiplier_fast`]; the
    /// saturating case of the high multiply (`a == m == i32::MIN`) can only occur with a
    /// multiplier of `i32::MIN`, which takes that function instead.
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> u8 {
        let a = acc.wrapping_add(self.bias);
        let v = if self.multiplier == i32::MIN || self.right > 31 {
            unusual_multiplier(a, self.multiplier, self.shift)
        } else {
            let a = a.wrapping_shl(self.left);
            // floor((a*m + 2^30) / 2^31) fits an i32 unless a == m == i32::MIN.
            let high = ((a as i64 * self.multiplier as i64 + (1i64 << 30)) >> 31) as i32;
            let remainder = (high as u32) & self.mask;
            let threshold = (self.mask >> 1) + ((high as u32) >> 31);
            (high >> self.right) + (remainder > threshold) as i32
        };
        let v = v.wrapping_add(self.out_offset);
        v.max(self.act_min).min(self.act_max) as i8 as u8
    }
}

/// TFLM's int8 output stage (`MultiplyByQuantizedMultiplier`, zero point, clamp) for a
/// multiplier `m >= 0` and a shift `s` in `-31..=-2` (a right shift `e = -s >= 2`), in one
/// 64-bit multiply-accumulate (SMLAL on the M4) and one shift of its high word.
///
/// TFLM computes `high = floor((a·m + 2^30) / 2^31)` (no saturation: `m >= 0`), then rounds
/// `high / 2^e` half away from zero: `floor((high + 2^(e-1) - [high < 0]) / 2^e)`. Since
/// `floor((floor(y) + k) / n) = floor((y + k) / n)` for integers `k`, `n > 0`, both roundings
/// fold into `floor((a·m + 2^30 - [high < 0]·2^31 + 2^(30+e)) / 2^(31+e))`: the high word of
/// `a·m + 2^30 - [high < 0]·2^31` (one SMLAL), rounded by `2^(e-1)` with `e >= 2`. `high < 0`
/// iff `a < 0`, except at `a·m = -2^30` where `high = 0` and both choices give 0.
#[inline(always)]
pub fn right_shift_stage(
    a: i32,
    m: i32,
    s: i32,
    out_offset: i32,
    act_min: i32,
    act_max: i32,
) -> u8 {
    let v = right_shift_requantize(a, m, s);
    v.wrapping_add(out_offset).max(act_min).min(act_max) as i8 as u8
}

/// `MultiplyByQuantizedMultiplier(a, m, s)` for `m >= 0`, `s` in `-31..=-2` (see
/// [`right_shift_stage`]).
#[inline(always)]
pub fn right_shift_requantize(a: i32, m: i32, s: i32) -> i32 {
    let sign = a >> 31; // -1 or 0
    let init_lo = 0x4000_0000u32 | ((sign as u32) << 31);
    let init = ((sign as i64) << 32) | init_lo as i64;
    let high = (init.wrapping_add(a as i64 * m as i64) >> 32) as i32;
    // floor((high + 2^(e-2)) / 2^(e-1)) = floor((floor(high / 2^(e-2)) + 1) / 2).
    let t = high >> ((s.wrapping_neg().wrapping_sub(2)) as u32 & 31);
    (t + 1) >> 1
}

/// [`multiply_by_quantized_multiplier_fast`] out of line, for multipliers the output stage's
/// fast path does not cover (`i32::MIN`, shifts below -31); no valid model has them.
#[cold]
#[inline(never)]
fn unusual_multiplier(a: i32, multiplier: i32, shift: i32) -> i32 {
    multiply_by_quantized_multiplier_fast(a, multiplier, shift)
}

/// TFLM's int8 output stage: scale the accumulator, add the output zero point, clamp.
#[inline(always)]
pub fn requantize_i8(
    acc: i32,
    multiplier: i32,
    shift: i32,
    out_offset: i32,
    act_min: i32,
    act_max: i32,
) -> u8 {
    let v = multiply_by_quantized_multiplier_fast(acc, multiplier, shift).wrapping_add(out_offset);
    v.max(act_min).min(act_max) as i8 as u8
}

/// Check that an eval buffer has the byte length prepare validated (defence in depth: the
/// interpreter guarantees it, and the kernels' slicing relies on it).
#[inline]
pub fn check_len(buf: &[u8], expected: usize) -> Result<(), Error> {
    if buf.len() == expected {
        Ok(())
    } else {
        Err(Error::InvalidGraph {
            what: "operator buffer has the wrong size",
            index: buf.len() as i32,
        })
    }
}
