//! Helpers shared by several kernels: activation ranges, padding, quantization checks.
//! Each names the TFLM function whose behaviour it reproduces.

use super::{PrepareCtx, Span};
use crate::error::Error;
use crate::fixedpoint::quantize_multiplier;
use crate::model::{DType, Tensor};

// ---------------------------------------------------------------------------------------------
// Fused activations
// ---------------------------------------------------------------------------------------------

/// A fused activation (schema `ActivationFunctionType`), limited to those TFLM's integer
/// kernels clamp for; `TANH` and `SIGN_BIT` are rejected rather than silently ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `NONE` (0)
    None,
    /// `RELU` (1)
    Relu,
    /// `RELU_N1_TO_1` (2)
    ReluN1To1,
    /// `RELU6` (3)
    Relu6,
}

impl Activation {
    /// From the schema byte; `None` for anything this engine does not fuse.
    pub fn from_schema(v: i8) -> Option<Activation> {
        match v {
            0 => Some(Activation::None),
            1 => Some(Activation::Relu),
            2 => Some(Activation::ReluN1To1),
            3 => Some(Activation::Relu6),
            _ => None,
        }
    }
}

/// Read the `fused_activation_function` option at `slot` (default `NONE`).
pub fn fused_activation(ctx: &PrepareCtx<'_, '_, '_>, slot: usize) -> Result<Activation, Error> {
    let v = ctx.options.i8(slot, 0)?;
    Activation::from_schema(v).ok_or(ctx.bad_option("fused activation function"))
}

/// TFLM `Quantize` (kernel_util.cc): `zero_point + round(f / scale)`, all in `f32` as TFLM
/// does; `None` if the rounded value does not fit `i32` (or is NaN).
fn quantize_f32(scale: f32, zero_point: i32, f: f32) -> Option<i64> {
    let t = libm::roundf(f / scale);
    // TFLM compares against (float)INT32_MIN / (float)INT32_MAX; the latter rounds up to 2^31.
    if !(-2_147_483_648.0f32..=2_147_483_648.0f32).contains(&t) {
        return None;
    }
    Some(zero_point as i64 + t as i64)
}

/// TFLM `CalculateActivationRangeQuantized`: the `[min, max]` clamp for a quantized output of
/// type `dtype` (int8, uint8 or int16) with the given scale and zero point. `None` when the
/// type is not quantizable or a bound does not fit `i32` (TFLM fails Prepare then).
pub fn activation_range_quantized(
    act: Activation,
    dtype: DType,
    scale: f32,
    zero_point: i32,
) -> Option<(i32, i32)> {
    let (qmin, qmax): (i64, i64) = match dtype {
        DType::I8 => (i8::MIN as i64, i8::MAX as i64),
        DType::U8 => (0, u8::MAX as i64),
        DType::I16 => (i16::MIN as i64, i16::MAX as i64),
        _ => return None,
    };
    let (lo, hi) = match act {
        Activation::None => (qmin, qmax),
        Activation::Relu => (qmin.max(quantize_f32(scale, zero_point, 0.0)?), qmax),
        Activation::Relu6 => (
            qmin.max(quantize_f32(scale, zero_point, 0.0)?),
            qmax.min(quantize_f32(scale, zero_point, 6.0)?),
        ),
        Activation::ReluN1To1 => (
            qmin.max(quantize_f32(scale, zero_point, -1.0)?),
            qmax.min(quantize_f32(scale, zero_point, 1.0)?),
        ),
    };
    // Both bounds lie in [qmin, qmax] except when the zero point alone pushes one outside; TFLM
    // then produces an empty range (min > max) which clamps everything to max. Keep that.
    Some((clamp_i32(lo), clamp_i32(hi)))
}

fn clamp_i32(v: i64) -> i32 {
    v.clamp(i32::MIN as i64, i32::MAX as i64) as i32
}

/// [`activation_range_quantized`] for operator output `pos`, with the error TFLM's failure maps to.
pub fn output_activation_range(
    ctx: &PrepareCtx<'_, '_, '_>,
    act: Activation,
    pos: usize,
) -> Result<(i32, i32), Error> {
    let out = ctx.output(pos)?;
    activation_range_quantized(act, out.dtype, out.quant.scale(), out.quant.zero_point())
        .ok_or(ctx.bad_quant(ctx.output_index(pos)))
}

// ---------------------------------------------------------------------------------------------
// Padding
// ---------------------------------------------------------------------------------------------

/// Padding scheme (schema `Padding`: SAME = 0, VALID = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size `ceil(in / stride)`, zero padding split with the extra cell at the end.
    Same,
    /// No padding: only windows that fit entirely.
    Valid,
}

impl Padding {
    /// From the schema byte.
    pub fn from_schema(v: i8) -> Option<Padding> {
        match v {
            0 => Some(Padding::Same),
            1 => Some(Padding::Valid),
            _ => None,
        }
    }
}

/// Read the `padding` option at `slot` (default SAME, as the schema says).
pub fn padding_option(ctx: &PrepareCtx<'_, '_, '_>, slot: usize) -> Result<Padding, Error> {
    Padding::from_schema(ctx.options.i8(slot, 0)?).ok_or(ctx.bad_option("padding"))
}

/// TFLM `ComputeOutSize` (padding.h): output length along one axis; 0 for stride 0.
/// Computed in `i64` so hostile sizes cannot overflow.
pub fn compute_out_size(
    padding: Padding,
    image: i64,
    filter: i64,
    stride: i64,
    dilation: i64,
) -> i64 {
    if stride == 0 {
        return 0;
    }
    let effective = (filter - 1) * dilation + 1;
    match padding {
        Padding::Same => (image + stride - 1) / stride,
        Padding::Valid => (image + stride - effective) / stride,
    }
}

/// TFLM `ComputePaddingWithOffset` (padding.h): `(leading padding, extra trailing cell)`.
pub fn compute_padding_with_offset(
    stride: i64,
    dilation: i64,
    image: i64,
    filter: i64,
    out: i64,
) -> (i64, i64) {
    let effective = (filter - 1) * dilation + 1;
    let total = ((out - 1) * stride + effective - image).max(0);
    (total / 2, total % 2)
}

/// Sliding-window geometry of a 2-D NHWC operator (conv, depthwise conv, pooling), validated
/// at prepare time; every field fits `u16` (checked by [`Window2D::new`]).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Window2D {
    /// Batches (shared by input and output).
    pub batches: u16,
    /// Input height.
    pub in_h: u16,
    /// Input width.
    pub in_w: u16,
    /// Output height.
    pub out_h: u16,
    /// Output width.
    pub out_w: u16,
    /// Filter (window) height.
    pub filter_h: u16,
    /// Filter (window) width.
    pub filter_w: u16,
    /// Vertical stride.
    pub stride_h: u16,
    /// Horizontal stride.
    pub stride_w: u16,
    /// Vertical dilation.
    pub dilation_h: u16,
    /// Horizontal dilation.
    pub dilation_w: u16,
    /// Rows of zero padding before the input (TFLM `padding_values.height`).
    pub pad_h: u16,
    /// Columns of zero padding before the input (TFLM `padding_values.width`).
    pub pad_w: u16,
}

/// Options common to the windowed operators.
#[derive(Clone, Copy, Debug)]
pub struct WindowOptions {
    /// Padding scheme.
    pub padding: Padding,
    /// Vertical stride.
    pub stride_h: i32,
    /// Horizontal stride.
    pub stride_w: i32,
    /// Vertical dilation.
    pub dilation_h: i32,
    /// Horizontal dilation.
    pub dilation_w: i32,
}

impl Window2D {
    /// Geometry for input `[batches, in_h, in_w, _]`, filter `filter_h x filter_w` and the
    /// model's output `[batches, out_h, out_w, _]`, with TFLM `ComputePaddingHeightWidth`.
    ///
    /// TFLM trusts the output shape stored in the model; this engine insists it equals
    /// `ComputeOutSize` (the converter always writes that), so eval's bounds are proven.
    pub fn new(
        ctx: &PrepareCtx<'_, '_, '_>,
        o: &WindowOptions,
        input: &Tensor<'_>,
        filter_h: i32,
        filter_w: i32,
        output: &Tensor<'_>,
    ) -> Result<Window2D, Error> {
        if o.stride_h <= 0 || o.stride_w <= 0 {
            return Err(ctx.bad_option("stride"));
        }
        if o.dilation_h <= 0 || o.dilation_w <= 0 {
            return Err(ctx.bad_option("dilation"));
        }
        let in_idx = ctx.input_index(0);
        let out_idx = ctx.output_index(0);
        if input.shape.rank() != 4 {
            return Err(ctx.shape_mismatch(in_idx));
        }
        if output.shape.rank() != 4 {
            return Err(ctx.shape_mismatch(out_idx));
        }
        let (b, ih, iw) = (
            input.shape.dim(0) as i64,
            input.shape.dim(1) as i64,
            input.shape.dim(2) as i64,
        );
        let (ob, oh, ow) = (
            output.shape.dim(0) as i64,
            output.shape.dim(1) as i64,
            output.shape.dim(2) as i64,
        );
        let (fh, fw) = (filter_h as i64, filter_w as i64);
        if ob != b {
            return Err(ctx.shape_mismatch(out_idx));
        }
        // An empty image would make eval's per-image chunks zero-sized.
        if ih == 0 || iw == 0 {
            return Err(ctx.shape_mismatch(in_idx));
        }
        if fh <= 0 || fw <= 0 {
            return Err(ctx.shape_mismatch(ctx.input_index(1)));
        }
        let (sh, sw, dh, dw) = (
            o.stride_h as i64,
            o.stride_w as i64,
            o.dilation_h as i64,
            o.dilation_w as i64,
        );
        let want_h = compute_out_size(o.padding, ih, fh, sh, dh);
        let want_w = compute_out_size(o.padding, iw, fw, sw, dw);
        if want_h != oh || want_w != ow {
            return Err(ctx.shape_mismatch(out_idx));
        }
        let (pad_h, _) = compute_padding_with_offset(sh, dh, ih, fh, oh);
        let (pad_w, _) = compute_padding_with_offset(sw, dw, iw, fw, ow);
        let f = |v: i64| {
            u16::try_from(v).map_err(|_| Error::LimitExceeded {
                what: "window dimension",
                limit: u16::MAX as u32,
            })
        };
        Ok(Window2D {
            batches: f(b)?,
            in_h: f(ih)?,
            in_w: f(iw)?,
            out_h: f(oh)?,
            out_w: f(ow)?,
            filter_h: f(fh)?,
            filter_w: f(fw)?,
            stride_h: f(sh)?,
            stride_w: f(sw)?,
            dilation_h: f(dh)?,
            dilation_w: f(dw)?,
            pad_h: f(pad_h)?,
            pad_w: f(pad_w)?,
        })
    }

    /// Output positions per batch.
    pub fn out_pixels(&self) -> usize {
        self.out_h as usize * self.out_w as usize
    }

    /// Rows (`vertical`) or columns of the window for output coordinate `out`: returns the
    /// input coordinate of tap 0 and the half-open range of taps that land inside the input.
    /// Taps outside are TFLM's implicit zero padding: they are skipped, not multiplied.
    #[inline]
    pub fn taps(&self, out: usize, vertical: bool) -> (i32, usize, usize) {
        let (stride, pad, dil, size, filter) = if vertical {
            (
                self.stride_h,
                self.pad_h,
                self.dilation_h,
                self.in_h,
                self.filter_h,
            )
        } else {
            (
                self.stride_w,
                self.pad_w,
                self.dilation_w,
                self.in_w,
                self.filter_w,
            )
        };
        let origin = out as i32 * stride as i32 - pad as i32;
        let d = dil as i32;
        // First tap t with origin + d*t >= 0, and one past the last with origin + d*t < size.
        let start = if origin >= 0 {
            0
        } else {
            (-origin + d - 1) / d
        };
        let room = size as i32 - origin;
        let end = if room <= 0 {
            0
        } else {
            ((room + d - 1) / d).min(filter as i32)
        };
        (origin, start as usize, end.max(start) as usize)
    }
}

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
) -> Result<WeightedOperands<'m>, Error> {
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

/// `(scale, zero_point)` of a per-tensor quantized tensor; `None` if unquantized or per-channel.
pub fn per_tensor_quant(t: &Tensor<'_>) -> Option<(f32, i32)> {
    if t.quant.scales.len() != 1 || t.quant.zero_points.len() > 1 {
        return None;
    }
    Some((t.quant.scale(), t.quant.zero_point()))
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
        let (multiplier, shift) = quantize_multiplier(real(q.scale()));
        return Ok(ChannelQuant {
            span: Span::default(),
            multiplier,
            shift,
        });
    }
    let (span, mut words) = ctx.alloc_words(2 * channels)?;
    for c in 0..channels {
        let (m, s) = quantize_multiplier(real(q.scales.get(c).unwrap_or(0.0)));
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
    super::dsp::dot(x, f, x_offset)
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
        OutputStage {
            bias,
            words,
            quant,
            out_offset,
            act_min,
            act_max,
        }
    }

    /// Output byte of channel `c` for accumulator `acc` (bias added here, as TFLM does).
    #[inline(always)]
    pub fn apply(&self, c: usize, acc: i32) -> u8 {
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
        match (bias, self.words.get(2 * c0..2 * (c0 + n))) {
            // The common case (per-channel multipliers and a bias) without any per-channel test.
            (Some(b), Some(w)) => {
                for (((&a, o), b), w) in acc
                    .iter()
                    .zip(out.iter_mut())
                    .zip(b.chunks_exact(4))
                    .zip(w.chunks_exact(2))
                {
                    if let [m, s] = *w {
                        *o = one(a.wrapping_add(super::dsp::word(b) as i32), m, s);
                    }
                }
            }
            (bias, words) => {
                for (j, (&a, o)) in acc.iter().zip(out.iter_mut()).enumerate() {
                    let b = bias
                        .and_then(|b| b.get(4 * j..))
                        .map_or(0, |b| super::dsp::word(b) as i32);
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
        match (bias, self.words.get(2 * c0..2 * (c0 + n))) {
            (Some(b), Some(w)) => {
                for ((((&a, &q), (oa, ob)), b), w) in
                    pairs.zip(b.chunks_exact(4)).zip(w.chunks_exact(2))
                {
                    if let [m, s] = *w {
                        let ch = OutputChannel::new(
                            super::dsp::word(b) as i32,
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
            .map_or(0, |b| super::dsp::word(b) as i32);
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

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/// Prepared parameters shared by AVERAGE_POOL_2D and MAX_POOL_2D.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PoolParams {
    /// Window geometry (dilation 1).
    pub win: Window2D,
    /// Channels (input = output).
    pub channels: u16,
    /// Fused activation clamp, lower bound.
    pub act_min: i32,
    /// Fused activation clamp, upper bound.
    pub act_max: i32,
}

/// Read `Pool2DOptions` — padding(0), stride_w(1), stride_h(2), filter_width(3),
/// filter_height(4), fused_activation_function(5) — and prepare.
pub fn prepare_pool(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<PoolParams, Error> {
    let o = &ctx.options;
    let window = WindowOptions {
        padding: padding_option(ctx, 0)?,
        stride_w: o.i32(1, 0)?,
        stride_h: o.i32(2, 0)?,
        dilation_w: 1,
        dilation_h: 1,
    };
    let (filter_w, filter_h) = (o.i32(3, 0)?, o.i32(4, 0)?);
    let act = fused_activation(ctx, 5)?;
    prepare_pool_with(ctx, &window, filter_h, filter_w, act)
}

/// TFLM `PoolingPrepare` for int8: same input/output quantization (scales within 1e-6, equal
/// zero points), padding from `ComputePaddingHeightWidth`, activation range of the output.
/// Also proves every window overlaps the input (TFLM's average pool fails at eval otherwise).
pub fn prepare_pool_with(
    ctx: &mut PrepareCtx<'_, '_, '_>,
    window: &WindowOptions,
    filter_h: i32,
    filter_w: i32,
    act: Activation,
) -> Result<PoolParams, Error> {
    if ctx.inputs.len() != 1 || ctx.outputs.len() != 1 {
        return Err(Error::InvalidGraph {
            what: "pooling takes 1 input and 1 output",
            index: ctx.inputs.len() as i32,
        });
    }
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    if input.dtype != DType::I8 {
        return Err(ctx.bad_input_type(0));
    }
    if output.dtype != DType::I8 {
        return Err(ctx.bad_output_type(0));
    }
    let (in_scale, in_zp) = per_tensor_quant(&input).ok_or(ctx.bad_quant(ctx.input_index(0)))?;
    let (out_scale, out_zp) =
        per_tensor_quant(&output).ok_or(ctx.bad_quant(ctx.output_index(0)))?;
    // Written so that a NaN difference fails, as TFLM's `TF_LITE_ENSURE(diff <= 1e-6)` does.
    let same_scale = (in_scale as f64 - out_scale as f64).abs() <= 1.0e-6;
    if !same_scale || in_zp != out_zp {
        return Err(ctx.bad_quant(ctx.output_index(0)));
    }
    if filter_h <= 0 || filter_w <= 0 {
        return Err(ctx.bad_option("filter size"));
    }
    let win = Window2D::new(ctx, window, &input, filter_h, filter_w, &output)?;
    let channels = input.shape.dim(3);
    if output.shape.dim(3) != channels {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let empty = (0..win.out_h as usize).any(|y| {
        let (_, a, b) = win.taps(y, true);
        a >= b
    }) || (0..win.out_w as usize).any(|x| {
        let (_, a, b) = win.taps(x, false);
        a >= b
    });
    if empty {
        return Err(ctx.bad_option("pooling window outside the input"));
    }
    let (act_min, act_max) = output_activation_range(ctx, act, 0)?;
    Ok(PoolParams {
        win,
        channels: u16::try_from(channels).map_err(|_| Error::LimitExceeded {
            what: "channels",
            limit: u16::MAX as u32,
        })?,
        act_min,
        act_max,
    })
}

/// Test scaffolding shared by the kernels' unit tests: build tensors and run prepare + eval
/// (measure pass, then a real pass) the way the interpreter will.
#[cfg(test)]
pub(crate) mod test_util {
    use std::boxed::Box;
    use std::vec;
    use std::vec::Vec;

    use crate::error::Error;
    use crate::model::{BuiltinOp, DType, F32s, I64s, Options, Quant, Shape, Tensor};
    use crate::ops::{EvalCtx, PrepareCtx, WordAlloc};

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

    /// An int8 per-tensor tensor.
    pub fn i8t(dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
        tensor(DType::I8, dims, &[scale], &[zp], 0)
    }

    /// An int32 bias (unquantized: the int8 kernels never read its scale).
    pub fn bias(n: i32) -> Tensor<'static> {
        tensor(DType::I32, &[n], &[], &[], 0)
    }

    /// Int8 values as raw bytes.
    pub fn bytes(v: &[i8]) -> Vec<u8> {
        v.iter().map(|&x| x as u8).collect()
    }

    /// Int32 values as little-endian bytes.
    pub fn bytes32(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// Prepare (measure, then for real) and eval one operator; returns output 0's bytes.
    /// `inputs[i] = None` marks an absent optional input.
    pub fn run<P>(
        op: BuiltinOp,
        inputs: &[Option<(Tensor<'static>, Vec<u8>)>],
        output: Tensor<'static>,
        mut prepare: impl FnMut(&mut PrepareCtx<'_, '_, '_>) -> Result<P, Error>,
        eval: impl Fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
    ) -> Result<Vec<u8>, Error> {
        let ins: Vec<Option<(i32, Tensor<'static>)>> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| t.as_ref().map(|(t, _)| (i as i32, *t)))
            .collect();
        let outs = [(100, output)];
        let mut measure = WordAlloc::measure();
        {
            let mut ctx = PrepareCtx {
                op,
                version: 1,
                options: Options::default(),
                inputs: &ins,
                outputs: &outs,
                words: &mut measure,
            };
            prepare(&mut ctx)?;
        }
        let mut buf = vec![0i32; measure.used()];
        let mut alloc = WordAlloc::new(&mut buf);
        let p = {
            let mut ctx = PrepareCtx {
                op,
                version: 1,
                options: Options::default(),
                inputs: &ins,
                outputs: &outs,
                words: &mut alloc,
            };
            prepare(&mut ctx)?
        };
        let in_bytes: Vec<&[u8]> = inputs
            .iter()
            .map(|t| t.as_ref().map_or(&[][..], |(_, b)| &b[..]))
            .collect();
        let mut out = vec![0xAAu8; output.bytes()];
        let mut state = [0u8; 0];
        {
            let mut outs: [&mut [u8]; 1] = [&mut out[..]];
            let mut ctx = EvalCtx {
                inputs: &in_bytes,
                outputs: &mut outs,
                words: &buf,
                state: &mut state,
            };
            eval(&p, &mut ctx)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_ranges() {
        // Output scale 0.05, zp -10: relu → 0 quantizes to -10; relu6 → 6/0.05 = 120 → 110.
        assert_eq!(
            activation_range_quantized(Activation::None, DType::I8, 0.05, -10),
            Some((-128, 127))
        );
        assert_eq!(
            activation_range_quantized(Activation::Relu, DType::I8, 0.05, -10),
            Some((-10, 127))
        );
        assert_eq!(
            activation_range_quantized(Activation::Relu6, DType::I8, 0.05, -10),
            Some((-10, 110))
        );
        // -1/0.05 = -20 → -30; 1/0.05 = 20 → 10.
        assert_eq!(
            activation_range_quantized(Activation::ReluN1To1, DType::I8, 0.05, -10),
            Some((-30, 10))
        );
        // Relu6 beyond the type range clamps to qmax; round half away from zero: 6/4 = 1.5 → 2.
        assert_eq!(
            activation_range_quantized(Activation::Relu6, DType::I8, 0.01, 0),
            Some((0, 127))
        );
        assert_eq!(
            activation_range_quantized(Activation::Relu6, DType::I8, 4.0, 0),
            Some((0, 2))
        );
        assert_eq!(
            activation_range_quantized(Activation::ReluN1To1, DType::I8, 0.8, 0),
            Some((-1, 1))
        );
        assert_eq!(
            activation_range_quantized(Activation::Relu, DType::U8, 0.1, 3),
            Some((3, 255))
        );
        assert_eq!(
            activation_range_quantized(Activation::None, DType::I16, 0.1, 0),
            Some((-32768, 32767))
        );
        assert_eq!(
            activation_range_quantized(Activation::None, DType::F32, 0.1, 0),
            None
        );
        // Zero scale: 0/0 is NaN → TFLM's Quantize fails.
        assert_eq!(
            activation_range_quantized(Activation::Relu, DType::I8, 0.0, 0),
            None
        );
        assert_eq!(Activation::from_schema(4), None);
        assert_eq!(Activation::from_schema(3), Some(Activation::Relu6));
    }

    #[test]
    fn out_size_and_padding() {
        // SAME: ceil(in / stride).
        assert_eq!(compute_out_size(Padding::Same, 5, 3, 2, 1), 3);
        assert_eq!(compute_out_size(Padding::Same, 4, 3, 2, 1), 2);
        // VALID: (in - eff + stride) / stride, eff = (f - 1) * d + 1.
        assert_eq!(compute_out_size(Padding::Valid, 5, 3, 2, 1), 2);
        assert_eq!(compute_out_size(Padding::Valid, 7, 3, 1, 2), 3);
        assert_eq!(compute_out_size(Padding::Valid, 2, 3, 1, 1), 0);
        assert_eq!(compute_out_size(Padding::Same, 5, 3, 0, 1), 0);
        // SAME 4 → 2 with 3x3 stride 2: total = (2-1)*2 + 3 - 4 = 1 → pad 0, offset 1.
        assert_eq!(compute_padding_with_offset(2, 1, 4, 3, 2), (0, 1));
        // SAME 5 → 5 with 3x3 dilation 2: eff 5, total 4 → pad 2.
        assert_eq!(compute_padding_with_offset(1, 2, 5, 3, 5), (2, 0));
        // VALID never pads.
        assert_eq!(compute_padding_with_offset(2, 1, 5, 3, 2), (0, 0));
    }

    #[test]
    fn taps_clip_to_the_image() {
        let w = Window2D {
            batches: 1,
            in_h: 5,
            in_w: 5,
            out_h: 5,
            out_w: 5,
            filter_h: 3,
            filter_w: 3,
            stride_h: 1,
            stride_w: 1,
            dilation_h: 2,
            dilation_w: 1,
            pad_h: 2,
            pad_w: 1,
        };
        // Vertical, dilation 2, pad 2: out 0 → rows -2, 0, 2 → taps 1..3.
        assert_eq!(w.taps(0, true), (-2, 1, 3));
        assert_eq!(w.taps(1, true), (-1, 1, 3)); // rows -1, 1, 3
        assert_eq!(w.taps(2, true), (0, 0, 3)); // rows 0, 2, 4
        assert_eq!(w.taps(3, true), (1, 0, 2)); // rows 1, 3, (5)
        assert_eq!(w.taps(4, true), (2, 0, 2)); // rows 2, 4, (6)
                                                // Horizontal, pad 1.
        assert_eq!(w.taps(0, false), (-1, 1, 3));
        assert_eq!(w.taps(4, false), (3, 0, 2));
    }

    #[test]
    fn channel_quant_lookup() {
        let q = ChannelQuant {
            span: Span::default(),
            multiplier: 7,
            shift: -3,
        };
        assert_eq!(q.get(&[], 5), (7, -3));
        assert_eq!(q.get(&[1, 2, 3, 4], 1), (3, 4));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn fast_requantize_matches_tflm_arithmetic(
            acc in proptest::prelude::any::<i32>(),
            m in proptest::prelude::prop_oneof![
                proptest::prelude::any::<i32>(),
                (1i32 << 30)..=i32::MAX,
                proptest::prelude::Just(i32::MIN),
            ],
            shift in -31i32..=31,
            small in -70000i32..70000,
        ) {
            use crate::fixedpoint::multiply_by_quantized_multiplier as reference;
            for a in [acc, small, i32::MIN, i32::MAX, 0, -1] {
                // Left shifts of large accumulators wrap in both (TFLM multiplies by 1 << s).
                proptest::prop_assert_eq!(multiply_by_quantized_multiplier_fast(a, m, shift), reference(a, m, shift), "acc {} m {} shift {}", a, m, shift);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]
        #[test]
        fn output_channel_matches_requantize(
            acc in proptest::prelude::any::<i32>(),
            bias in proptest::prelude::any::<i32>(),
            m in proptest::prelude::prop_oneof![proptest::prelude::any::<i32>(), (1i32 << 30)..=i32::MAX, proptest::prelude::Just(i32::MIN)],
            shift in -31i32..=31,
            zp in -128i32..=127,
            lo in -128i32..=127,
            span in 0i32..=255,
            per_channel in proptest::prelude::any::<bool>(),
        ) {
            use crate::fixedpoint::multiply_by_quantized_multiplier as reference;
            let hi = (lo + span).min(127);
            let b = bias.to_le_bytes();
            let words = [0, 0, m, shift];
            let q = ChannelQuant { span: Span::default(), multiplier: m, shift };
            let bias_bytes = [0, 0, 0, 0, b[0], b[1], b[2], b[3]];
            let stage = if per_channel {
                OutputStage::new(&bias_bytes, &words, ChannelQuant::default(), zp, lo, hi)
            } else {
                OutputStage::new(&bias_bytes, &[], q, zp, lo, hi)
            };
            for a in [acc, acc >> 16, 0, -1, i32::MIN, i32::MAX] {
                let want = reference(a.wrapping_add(bias), m, shift).wrapping_add(zp).max(lo).min(hi) as i8 as u8;
                proptest::prop_assert_eq!(stage.apply(1, a), want, "acc {} bias {} m {} shift {}", a, bias, m, shift);
            }
        }
    }

    #[test]
    fn dot_and_requantize() {
        // x = [-128, 127], f = [-128, 127], offset 128: (-128)*0 + 127*255 = 32385.
        assert_eq!(dot_i8(&[0x80, 0x7f], &[0x80, 0x7f], 128), 32385);
        let (m, s) = quantize_multiplier(0.5);
        // Multiplier 0.5 has shift 0, so only SaturatingRoundingDoublingHighMul rounds: its
        // ties go up (2.5 → 3, -2.5 → -2). Then + zp, clamp.
        assert_eq!(requantize_i8(5, m, s, 0, -128, 127) as i8, 3);
        assert_eq!(requantize_i8(-5, m, s, 0, -128, 127) as i8, -2);
        assert_eq!(requantize_i8(-5, m, s, -1, -2, 127) as i8, -2);
        // Multiplier 0.25 (shift -1): RoundingDivideByPOT ties go away from zero: -1.5 → -2.
        let (m, s) = quantize_multiplier(0.25);
        assert_eq!(requantize_i8(-6, m, s, 0, -128, 127) as i8, -2);
        assert_eq!(requantize_i8(6, m, s, 0, -128, 127) as i8, 2);
        assert_eq!(requantize_i8(1000, m, s, 0, -128, 127) as i8, 127);
    }
}

// ---------------------------------------------------------------------------------------------
// ops-elem: activation ranges, broadcasting, constant-input readers (ADD/SUB/MUL/MEAN/PAD/...).
// ---------------------------------------------------------------------------------------------

// No `use` lines here (this section is appended to a shared file): paths are spelled out.

/// True if `t` carries one per-tensor scale that is positive and finite (what TFLM's int8
/// arithmetic kernels read as `params.scale`).
pub fn per_tensor_quantized(t: &crate::model::Tensor<'_>) -> bool {
    let s = t.quant.scale();
    t.quant.is_quantized() && !t.quant.is_per_channel() && s.is_finite() && s > 0.0
}

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
    ctx: &super::PrepareCtx<'_, '_, '_>,
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

/// Test scaffolding shared by the ops-elem kernels: tensors, contexts and one-op runs.
#[cfg(test)]
pub(crate) mod elem_test {
    use super::super::{EvalCtx, PrepareCtx, WordAlloc};
    use crate::error::Error;
    use crate::model::{BuiltinOp, DType, F32s, I64s, Options, Quant, Shape, Tensor};
    use std::boxed::Box;
    use std::vec::Vec;

    /// A tensor with per-tensor quantization (leaked so it lives for the test).
    pub fn qt(dtype: DType, dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
        let s: &'static [u8] = Box::leak(scale.to_le_bytes().to_vec().into_boxed_slice());
        let z: &'static [u8] = Box::leak(zp.to_le_bytes().to_vec().into_boxed_slice());
        Tensor {
            name: "",
            dtype,
            shape: Shape::new(dims).unwrap(),
            quant: Quant {
                scales: F32s(s),
                zero_points: I64s(z),
                axis: 0,
            },
            data: None,
            buffer: 0,
            is_variable: false,
        }
    }

    /// An unquantized tensor.
    pub fn t(dtype: DType, dims: &[i32]) -> Tensor<'static> {
        Tensor {
            name: "",
            dtype,
            shape: Shape::new(dims).unwrap(),
            quant: Quant::default(),
            data: None,
            buffer: 0,
            is_variable: false,
        }
    }

    /// A constant int32 tensor.
    pub fn ci32(dims: &[i32], vals: &[i32]) -> Tensor<'static> {
        let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut x = t(DType::I32, dims);
        x.data = Some(Box::leak(bytes.into_boxed_slice()));
        x
    }

    /// Build a prepare context for one operator (input tensor indices 0.., outputs 100..) and
    /// hand it to `f` (usually an op's `prepare_with`, so tests can pass options directly).
    pub fn with_ctx<R>(
        op: BuiltinOp,
        ins: &[Tensor<'static>],
        outs: &[Tensor<'static>],
        f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>) -> R,
    ) -> R {
        let inputs: Vec<Option<(i32, Tensor<'static>)>> = ins
            .iter()
            .enumerate()
            .map(|(i, t)| Some((i as i32, *t)))
            .collect();
        let outputs: Vec<(i32, Tensor<'static>)> = outs
            .iter()
            .enumerate()
            .map(|(i, t)| ((100 + i) as i32, *t))
            .collect();
        let mut words = WordAlloc::measure();
        let mut ctx = PrepareCtx {
            op,
            version: 1,
            options: Options::default(),
            inputs: &inputs,
            outputs: &outputs,
            words: &mut words,
        };
        f(&mut ctx)
    }

    /// Run an op's `eval` on raw input bytes; returns each output's bytes (pre-filled with 0xA5).
    pub fn run<P>(
        p: &P,
        ev: fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
        ins: &[&[u8]],
        out_sizes: &[usize],
    ) -> Result<Vec<Vec<u8>>, Error> {
        let mut bufs: Vec<Vec<u8>> = out_sizes.iter().map(|&n| std::vec![0xA5u8; n]).collect();
        {
            let mut outs: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
            let mut state = [0u8; 0];
            let mut ctx = EvalCtx {
                inputs: ins,
                outputs: &mut outs,
                words: &[],
                state: &mut state,
            };
            ev(p, &mut ctx)?;
        }
        Ok(bufs)
    }

    /// int8 values as bytes.
    pub fn i8b(v: &[i8]) -> Vec<u8> {
        v.iter().map(|&x| x as u8).collect()
    }

    /// bytes as int8 values.
    pub fn b_i8(v: &[u8]) -> Vec<i8> {
        v.iter().map(|&x| x as i8).collect()
    }

    /// int32 values as little-endian bytes.
    pub fn i32b(v: &[i32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }
}
