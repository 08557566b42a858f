//! AVERAGE_POOL_2D / MAX_POOL_2D parameters (TFLM `PoolingPrepare`).

use super::*;

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

/// Channels reduced together per output pixel (the running values live on the stack).
const POOL_CHUNK: usize = 64;

/// The traversal both pools share (TFLM's `AveragePool` / `MaxPool` loops): for each output
/// pixel and channel, fold `step` over the window's taps that lie inside the input, starting
/// from `init`, then `finish(value, taps)` gives the output byte. Padding taps are skipped, not
/// read as zero.
pub fn pool_2d<T: Copy>(
    p: &PoolParams,
    ctx: &mut super::super::EvalCtx<'_, '_>,
    init: T,
    step: impl Fn(T, i8) -> T,
    finish: impl Fn(T, i32) -> u8,
) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, ch) = (w.in_h as usize, w.in_w as usize, p.channels as usize);
    let (out_h, out_w) = (w.out_h as usize, w.out_w as usize);
    let batches = w.batches as usize;
    let input = ctx.input(0);
    let output = crate::ops::quantize::output0(ctx)?;
    let in_img = in_h * in_w * ch;
    check_len(input, batches * in_img)?;
    check_len(output, batches * out_h * out_w * ch)?;
    if ch == 0 {
        return Ok(());
    }
    let mut buf = [init; POOL_CHUNK];
    w.for_each_pixel(
        input,
        in_img,
        output,
        ch,
        |img, (y0, ty0, ty1), (x0, tx0, tx1), out| {
            // Prepare proved every window overlaps the input, so taps >= 1.
            let taps = ((ty1 - ty0) * (tx1 - tx0)).max(1) as i32;
            let mut c0 = 0;
            while c0 < ch {
                let n = POOL_CHUNK.min(ch - c0);
                let vals = &mut buf[..n];
                vals.fill(init);
                for ty in ty0..ty1 {
                    let iy = (y0 + ty as i32) as usize;
                    for tx in tx0..tx1 {
                        let ix = (x0 + tx as i32) as usize;
                        let s = (iy * in_w + ix) * ch + c0;
                        for (v, &x) in vals.iter_mut().zip(&img[s..s + n]) {
                            *v = step(*v, x as i8);
                        }
                    }
                }
                for (o, &v) in out[c0..c0 + n].iter_mut().zip(vals.iter()) {
                    *o = finish(v, taps);
                }
                c0 += n;
            }
            Ok(())
        },
    )
}
