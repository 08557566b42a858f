//! SOFTMAX, int8 input → int8 or int16 output, as TFLM micro: `softmax_common.cc` prepares
//! (`PreprocessSoftmaxScaling` with 5 integer bits, `CalculateInputRadius`), and the reference
//! `reference_ops::Softmax` computes with gemmlowp fixed point (exp in Q0.31, a Q12.19 sum, and
//! `GetReciprocal`). This is TFLM micro's kernel, not LiteRT's optimized lookup-table one.
//!
//! TFLM requires the int8 output to have scale exactly 1/256 and zero point -128, and the int16
//! output scale 1/65536 (within 0.1 %) and zero point -32768. int16 input (TFLM's LUT kernel)
//! and uint8 are not supported (TFLM micro has no uint8 softmax).

use super::quantize::{check_unary, output0};
use super::{EvalCtx, PrepareCtx};
use crate::error::Error;
use crate::fixedpoint::{
    calculate_input_radius, exp_on_negative_values, get_reciprocal,
    multiply_by_quantized_multiplier_greater_than_one, preprocess_softmax_scaling,
    rounding_divide_by_pot, saturating_rounding_doubling_high_mul,
};
use crate::model::DType;

/// Integer bits of the rescaled input differences (TFLM `kScaledDiffIntegerBits`).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (TFLM `kAccumulationIntegerBits`).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// `beta * input_scale` as a Q31 multiplier (applied with `left_shift`).
    pub input_multiplier: i32,
    /// Left shift for `input_multiplier` (0..=31).
    pub input_left_shift: i32,
    /// Differences from the row maximum below this give an output of the type minimum.
    pub diff_min: i32,
    /// Number of rows (all dimensions but the last).
    pub outer: u32,
    /// Row length (the last dimension).
    pub depth: u32,
    /// True for an int16 output, false for int8.
    pub int16_output: bool,
    /// Explicit padding (every stored byte initialised: see `ops::stored`).
    pub _pad: [u8; 3],
}

/// Validate and precompute (TFLM `SoftmaxPrepare` / `CalculateSoftmaxParams`).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    check_unary(ctx)?;
    let input = ctx.input(0)?;
    let output = ctx.output(0)?;
    if input.shape.rank() < 1 {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    if output.shape != input.shape {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    if input.dtype != DType::I8 {
        return Err(ctx.bad_input_type(0));
    }
    if !input.quant.is_quantized() {
        return Err(ctx.bad_quant(ctx.input_index(0)));
    }
    let out_scale = output.quant.scale();
    let out_zp = output.quant.zero_point();
    let int16_output = match output.dtype {
        DType::I8 => {
            // TFLM: zero point -128 and scale exactly 1/256 (f32 comparison).
            if out_zp != -128 || out_scale != 1.0 / 256.0 {
                return Err(ctx.bad_quant(ctx.output_index(0)));
            }
            false
        }
        DType::I16 => {
            // TFLM: TF_LITE_ENSURE_NEAR(scale, 1/65536, 0.001/65536) in f32.
            let want = 1.0f32 / 65536.0;
            let delta = if out_scale > want {
                out_scale - want
            } else {
                want - out_scale
            };
            if out_zp != -32768 || delta.is_nan() || delta > 0.001f32 * 1.0f32 / 65536.0 {
                return Err(ctx.bad_quant(ctx.output_index(0)));
            }
            true
        }
        _ => return Err(ctx.bad_output_type(0)),
    };
    let beta = ctx.options.f32(0, 0.0)?;
    let dims = input.shape.dims();
    let depth = dims.last().copied().unwrap_or(1) as u32;
    let elements = input.shape.elements().unwrap_or(0) as u32;
    let outer = elements.checked_div(depth).unwrap_or(0);
    scaled(beta as f64, input.quant.scale(), depth, outer, int16_output)
        .ok_or(ctx.bad_option("beta * input scale too small for TFLM's softmax"))
}

/// The parameters for `outer` rows of `depth` values; `None` where TFLM aborts (TFLITE_CHECK:
/// `beta * input_scale * 2^26` not above 1).
fn scaled(
    beta: f64,
    input_scale: f32,
    depth: u32,
    outer: u32,
    int16_output: bool,
) -> Option<Params> {
    let (input_multiplier, input_left_shift) =
        preprocess_softmax_scaling(beta, input_scale as f64, SCALED_DIFF_INTEGER_BITS)?;
    // TFLM: diff_min = -1.0 * CalculateInputRadius(...), stored back into an int.
    let diff_min = -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, input_left_shift, 31);
    Some(Params {
        _pad: Default::default(),
        input_multiplier,
        input_left_shift,
        diff_min,
        outer,
        depth,
        int16_output,
    })
}

/// Compute (TFLM `reference_ops::Softmax<int8_t, OutputT>`).
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let input = ctx.input(0);
    let output = output0(ctx)?;
    if p.int16_output {
        softmax_rows::<2>(p, input, output)
    } else {
        softmax_rows::<1>(p, input, output)
    }
}

/// The exponential of one rescaled difference: Q0.31 `exp(diff * beta * input_scale)`.
#[inline(always)]
fn exp_of_diff(p: &Params, diff: i32) -> i32 {
    let rescaled = multiply_by_quantized_multiplier_greater_than_one(
        diff,
        p.input_multiplier,
        p.input_left_shift,
    );
    exp_on_negative_values(rescaled, SCALED_DIFF_INTEGER_BITS)
}

/// Softmax over each row; `OUT` is the output element size (1 = int8, 2 = int16).
fn softmax_rows<const OUT: usize>(
    p: &Params,
    input: &[u8],
    output: &mut [u8],
) -> Result<(), Error> {
    let depth = p.depth as usize;
    if depth == 0 {
        return Ok(());
    }
    let (out_min, out_max): (i32, i32) = if OUT == 2 {
        (i16::MIN as i32, i16::MAX as i32)
    } else {
        (-128, 127)
    };
    let out_bits = 8 * OUT as i32;
    for (row_in, row_out) in input
        .chunks_exact(depth)
        .zip(output.chunks_exact_mut(depth * OUT))
        .take(p.outer as usize)
    {
        let max_in_row = row_in.iter().map(|&b| b as i8).max().unwrap_or(i8::MIN) as i32;
        // Sum of exp() in Q12.19; int32 overflow wraps as TFLM's does in practice.
        let mut sum_of_exps: i32 = 0;
        for &b in row_in {
            let diff = b as i8 as i32 - max_in_row;
            if diff >= p.diff_min {
                // gemmlowp Rescale<12> from Q0.31.
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(
                    exp_of_diff(p, diff),
                    ACCUMULATION_INTEGER_BITS,
                ));
            }
        }
        let (shifted_scale, num_bits_over_unit) =
            get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        let exponent = num_bits_over_unit + 31 - out_bits;
        // TFLM aborts (TFLITE_CHECK) outside 0..=31: a row sum of 2^28 (512 entries at the
        // maximum) or more in Q12.19.
        if !(0..=31).contains(&exponent) {
            return Err(Error::LimitExceeded {
                what: "softmax row exp-sum in Q12.19 (TFLM aborts beyond)",
                limit: (1 << 28) - 1,
            });
        }
        for (&b, o) in row_in.iter().zip(row_out.chunks_exact_mut(OUT)) {
            let diff = b as i8 as i32 - max_in_row;
            let v = if diff >= p.diff_min {
                let unsat = rounding_divide_by_pot(
                    saturating_rounding_doubling_high_mul(shifted_scale, exp_of_diff(p, diff)),
                    exponent,
                );
                unsat.wrapping_add(out_min).clamp(out_min, out_max)
            } else {
                out_min
            };
            if OUT == 2 {
                o.copy_from_slice(&(v as i16).to_le_bytes());
            } else if let Some(x) = o.first_mut() {
                *x = v as i8 as u8;
            }
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    input_multiplier: i32,
    input_left_shift: i32,
    diff_min: i32,
    outer: u32,
    depth: u32,
    int16_output: bool,
    _pad: [u8; 3]
});

#[cfg(test)]
mod tests {
    use super::*;

    fn params(beta: f64, input_scale: f32, depth: u32, outer: u32, int16_output: bool) -> Params {
        scaled(beta, input_scale, depth, outer, int16_output).unwrap()
    }

    fn run(p: &Params, input: &[i8]) -> std::vec::Vec<u8> {
        let bytes: std::vec::Vec<u8> = input.iter().map(|&v| v as u8).collect();
        let mut out = std::vec![0u8; bytes.len() * if p.int16_output { 2 } else { 1 }];
        let r = if p.int16_output {
            softmax_rows::<2>(p, &bytes, &mut out)
        } else {
            softmax_rows::<1>(p, &bytes, &mut out)
        };
        r.unwrap();
        out
    }

    #[test]
    fn uniform_row_splits_evenly() {
        // Four equal inputs: each 1/4 → 64/256 → 64 - 128 = -64.
        let p = params(1.0, 0.1, 4, 1, false);
        assert_eq!(
            run(&p, &[7, 7, 7, 7])
                .iter()
                .map(|&b| b as i8)
                .collect::<std::vec::Vec<_>>(),
            [-64; 4]
        );
    }

    #[test]
    fn single_element_saturates_to_max() {
        // 1/1 → 256/256 → 256 - 128 = 128, clamped to 127.
        let p = params(1.0, 0.1, 1, 3, false);
        assert_eq!(
            run(&p, &[-128, 0, 127])
                .iter()
                .map(|&b| b as i8)
                .collect::<std::vec::Vec<_>>(),
            [127; 3]
        );
    }

    #[test]
    fn far_below_max_is_type_min() {
        // Scale 0.1: diff_min = -248, so a difference of 255 is dropped; 2 equal maxima get 1/2 each.
        let p = params(1.0, 0.1, 3, 1, false);
        assert_eq!(p.diff_min, -248);
        assert_eq!(
            run(&p, &[127, -128, 127])
                .iter()
                .map(|&b| b as i8)
                .collect::<std::vec::Vec<_>>(),
            [0, -128, 0]
        );
    }

    #[test]
    fn int16_output() {
        // Two equal inputs: 1/2 → 32768 - 32768 = 0.
        let p = params(1.0, 0.5, 2, 1, true);
        assert_eq!(run(&p, &[3, 3]), [0, 0, 0, 0]);
    }

    #[test]
    fn two_values_match_hand_computation() {
        // scale 1/16, diff -16 → exp(-1); softmax = [1/(1+e^-1), e^-1/(1+e^-1)] = [0.7311, 0.2689]
        // → 187.2 / 68.8 of 256 → 187 - 128 = 59 and 69 - 128 = -59 (values from the fixed-point
        // pipeline: exp(-1) = 790015308/2^31).
        let p = params(1.0, 1.0 / 16.0, 2, 1, false);
        assert_eq!(
            run(&p, &[16, 0])
                .iter()
                .map(|&b| b as i8)
                .collect::<std::vec::Vec<_>>(),
            [59, -59]
        );
    }
}
