//! DEQUANTIZE: int8 / uint8 / int16 → float32, as TFLM `reference_ops::Dequantize`:
//! `scale * (value - zero_point)` with the integer difference converted to `f32` and one `f32`
//! multiply (TFLM stores the scale as `double` but casts it back to `float` before use).

use super::quantize::{check_unary, output0, Elem, I16, I8, U8};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::model::DType;

/// Prepared parameters.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Params {
    /// Input scale.
    pub scale: f32,
    /// Input zero point.
    pub zero_point: i32,
    /// Input element type (int8, uint8 or int16) as its schema code ([`DType::code`]): a
    /// `DType` has unused payload bytes, which must not be stored (see `ops::stored`).
    pub input_type: u8,
    /// Explicit padding (every stored byte initialised).
    pub _pad: [u8; 3],
}
crate::ops::stored::no_uninit!(Params {
    scale: f32,
    zero_point: i32,
    input_type: u8,
    _pad: [u8; 3]
});

/// Validate and precompute (TFLM `DequantizePrepare`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    check_unary(ctx)?;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    if !matches!(input.dtype, DType::I8 | DType::U8 | DType::I16) {
        return Err(ctx.bad_input_type(0));
    }
    if output.dtype != DType::F32 {
        return Err(ctx.bad_output_type(0));
    }
    if !input.quant.is_quantized() {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    Ok(Params {
        input_type: input.dtype.code(),
        _pad: [0; 3],
        scale: input.quant.scale(),
        zero_point: input.quant.zero_point(),
    })
}

fn dequantize<In: Elem>(scale: f32, zero_point: i32, input: &[u8], output: &mut [u8]) {
    for (i, o) in input.chunks_exact(In::SIZE).zip(output.chunks_exact_mut(4)) {
        // int → float rounds to nearest like C++; exact for any realistic zero point (< 2^24 apart).
        let v = scale * In::load(i).wrapping_sub(zero_point) as f32;
        o.copy_from_slice(&v.to_le_bytes());
    }
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(0);
    let output = output0(ctx)?;
    match DType::from_schema(p.input_type) {
        DType::I8 => dequantize::<I8>(p.scale, p.zero_point, input, output),
        DType::U8 => dequantize::<U8>(p.scale, p.zero_point, input, output),
        DType::I16 => dequantize::<I16>(p.scale, p.zero_point, input, output),
        _ => {
            return Err(Error::InvalidGraph {
                what: "DEQUANTIZE type not prepared",
                index: 0,
            })
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(b: &[u8]) -> std::vec::Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    #[test]
    fn int8_dequantize() {
        let input = [(-128i8) as u8, 0, 5, 127];
        let mut out = [0u8; 16];
        dequantize::<I8>(0.1, -3, &input, &mut out);
        // f32 products: 0.1f32 * -125, 0.1f32 * 3, ...
        assert_eq!(
            floats(&out),
            [0.1f32 * -125.0, 0.1f32 * 3.0, 0.1f32 * 8.0, 0.1f32 * 130.0]
        );
        // 0.1f32 * 3 = 0.30000000447 (exact product) rounds to the f32 0.30000001192.
        assert_eq!(floats(&out)[1].to_bits(), 0x3E99_999A);
    }

    #[test]
    fn int16_and_uint8_dequantize() {
        let input = (-32768i16).to_le_bytes();
        let mut out = [0u8; 4];
        dequantize::<I16>(0.5, 0, &input, &mut out);
        assert_eq!(floats(&out), [-16384.0]);
        let mut out = [0u8; 8];
        dequantize::<U8>(0.25, 128, &[0, 255], &mut out);
        assert_eq!(floats(&out), [-32.0, 31.75]);
    }
}
