//! Padding and 2-D windows: TFLM's `ComputePaddingHeightWidth` and the tap ranges the kernels walk.

use super::*;

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

impl WindowOptions {
    /// Read the window fields the conv schemas share: padding (slot 0), stride_w (1),
    /// stride_h (2), and the dilation factors (default 1) at slots `dilation_w` / `dilation_h`.
    pub fn read(
        ctx: &PrepareCtx<'_, '_, '_>,
        dilation_w: usize,
        dilation_h: usize,
    ) -> Result<WindowOptions, Error> {
        let o = &ctx.options;
        Ok(WindowOptions {
            padding: padding_option(ctx, 0)?,
            stride_w: o.i32(1, 0)?,
            stride_h: o.i32(2, 0)?,
            dilation_w: o.i32(dilation_w, 1)?,
            dilation_h: o.i32(dilation_h, 1)?,
        })
    }
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

    /// Multiply-accumulates per invoke of a kernel with `out_c` output channels that reads
    /// `depth` input values per filter tap: batches × output pixels × `out_c` × filter taps ×
    /// `depth`.
    pub fn macs(&self, out_c: u16, depth: u16) -> u64 {
        self.batches as u64
            * self.out_pixels() as u64
            * out_c as u64
            * self.filter_h as u64
            * self.filter_w as u64
            * depth as u64
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

    /// TFLM's output loop nest (batch, output row, output column) over `batches` images of
    /// `in_img` bytes and output pixels of `out_c` bytes: `f(image, rows, cols, pixel)`, `rows`
    /// and `cols` the output pixel's [`taps`](Self::taps). Stops (`Ok`) if the output runs out
    /// first (the callers' length checks rule that out); `f`'s first error stops it too.
    /// Inlined, so each kernel's loop compiles as if written out.
    #[inline(always)]
    pub fn for_each_pixel(
        &self,
        input: &[u8],
        in_img: usize,
        output: &mut [u8],
        out_c: usize,
        mut f: impl FnMut(&[u8], AxisTaps, AxisTaps, &mut [u8]) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut out_px = output.chunks_exact_mut(out_c);
        for img in input.chunks_exact(in_img).take(self.batches as usize) {
            for oy in 0..self.out_h as usize {
                let ys = self.taps(oy, true);
                for ox in 0..self.out_w as usize {
                    let xs = self.taps(ox, false);
                    let Some(out) = out_px.next() else {
                        return Ok(());
                    };
                    f(img, ys, xs, out)?;
                }
            }
        }
        Ok(())
    }
}

/// One axis of an output pixel's window ([`Window2D::taps`]): the input coordinate of tap 0
/// and the half-open range of taps inside the input.
pub type AxisTaps = (i32, usize, usize);
