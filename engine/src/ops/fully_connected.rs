//! FULLY_CONNECTED, int8: TFLM `reference_integer_ops::FullyConnected` (per-tensor weights)
//! and `FullyConnectedPerChannel`, with the quantization of `CalculateOpDataFullyConnected`.
//!
//! The input is read as `[batches, accum_depth]` whatever its rank (TFLM indexes it flat), and
//! `batches` comes from the output shape, so `keep_num_dims` only changes the output's shape,
//! which the model already records.

use super::common::weighted_int8_operands;
use super::common::{
    check_bias, check_len, check_symmetric_filter, conv_channel_quant, dot_i8, fused_activation,
    output_activation_range, prepare_multiplier, Activation, ChannelQuant, OutputStage,
};
use super::dsp::dot2;
use super::{EvalCtx, PrepareCtx, Span};
use crate::error::Error;

/// Prepared parameters.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Rows of the flattened input (= output elements / units).
    pub batches: u32,
    /// Input values per row (the weights' inner dimension).
    pub accum_depth: u32,
    /// Output values per row (the weights' outer dimension).
    pub units: u32,
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
    /// Multiply-accumulates per invoke: batches × units × accumulation depth.
    pub fn macs(&self) -> u64 {
        self.batches as u64 * self.units as u64 * self.accum_depth as u64
    }
}

/// FULLY_CONNECTED options (schema `FullyConnectedOptions`).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Fused activation.
    pub activation: Activation,
    /// `weights_format` (only DEFAULT = 0 is supported).
    pub weights_format: i8,
    /// `keep_num_dims` (informational: the output shape is taken from the model).
    pub keep_num_dims: bool,
}

/// Read `FullyConnectedOptions`: fused_activation_function(0), weights_format(1),
/// keep_num_dims(2), asymmetric_quantize_inputs(3, hybrid only: ignored).
pub fn read_options(ctx: &PrepareCtx<'_, '_, '_>) -> Result<Options, Error> {
    Ok(Options {
        activation: fused_activation(ctx, 0)?,
        weights_format: ctx.options.i8(1, 0)?,
        keep_num_dims: ctx.options.bool(2, false)?,
    })
}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    let opts = read_options(ctx)?;
    prepare_with(ctx, &opts)
}

/// [`prepare`] with the options already read.
pub fn prepare_with(ctx: &mut PrepareCtx<'_, '_, '_>, opts: &Options) -> Result<Params, Error> {
    let ops = weighted_int8_operands(ctx, "FULLY_CONNECTED takes 2 or 3 inputs and 1 output")?;
    if opts.weights_format != 0 {
        return Err(ctx.bad_option("weights_format (only DEFAULT is supported)"));
    }
    let (input, filter, output) = (ops.input, ops.filter, ops.output);
    let (in_scale, out_scale) = (ops.in_scale, ops.out_scale);

    // Weights [units, accum_depth]; output [..., units]; input flattened to [batches, accum_depth].
    let fidx = ctx.input_index(1);
    if filter.shape.rank() != 2 {
        return Err(ctx.shape_mismatch(fidx));
    }
    let (units, accum) = (filter.shape.dim(0), filter.shape.dim(1));
    let out_rank = output.shape.rank();
    if out_rank == 0 || units == 0 || output.shape.dim(out_rank - 1) != units {
        return Err(ctx.shape_mismatch(ctx.output_index(0)));
    }
    let out_elems = output.shape.elements().unwrap_or(0);
    let batches = out_elems / units;
    if input.shape.elements() != batches.checked_mul(accum) {
        return Err(ctx.shape_mismatch(ctx.input_index(0)));
    }
    let u = |v: usize| {
        u32::try_from(v).map_err(|_| Error::LimitExceeded {
            what: "dimension",
            limit: u32::MAX,
        })
    };

    let has_bias = check_bias(ctx, 2, units)?;
    let quant = if filter.quant.is_per_channel() {
        conv_channel_quant(ctx, in_scale, 1, out_scale, units, 0)?
    } else {
        check_symmetric_filter(ctx, &filter, fidx, units, 0)?;
        // TFLM `GetQuantizedConvolutionMultipler`: note the product is taken in f32 here,
        // unlike the per-channel path; and a present bias's scale must be close to it.
        let f_scale = filter.quant.scale();
        if let Some(b) = ctx.optional_input(2) {
            let product = in_scale as f64 * f_scale as f64;
            let diff = (product - b.quant.scale() as f64).abs();
            let close = diff / out_scale as f64 <= 0.02; // false for NaN, as in TFLM
            if !close {
                return Err(ctx.bad_quant(ctx.input_index(2)));
            }
        }
        let product = (in_scale * f_scale) as f64;
        let non_negative = product >= 0.0; // false for NaN, as in TFLM
        if !non_negative {
            return Err(ctx.bad_quant(fidx));
        }
        let (multiplier, shift) = prepare_multiplier(ctx, product / out_scale as f64)?;
        ChannelQuant {
            span: Span::default(),
            multiplier,
            shift,
        }
    };
    let (act_min, act_max) = output_activation_range(ctx, opts.activation, 0)?;
    Ok(Params {
        _pad: Default::default(),
        batches: u(batches)?,
        accum_depth: u(accum)?,
        units: u(units)?,
        has_bias,
        input_offset: -ops.in_zp,
        output_offset: ops.out_zp,
        act_min,
        act_max,
        quant,
    })
}

/// Compute.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let (batches, accum, units) = (p.batches as usize, p.accum_depth as usize, p.units as usize);
    let input = ctx.input(0);
    let filter = ctx.input(1);
    let bias = if p.has_bias { ctx.input(2) } else { &[][..] };
    let words = ctx.words(p.quant.span);
    let output = crate::ops::quantize::output0(ctx)?;
    check_len(input, batches * accum)?;
    check_len(filter, units * accum)?;
    check_len(output, batches * units)?;
    if p.has_bias {
        check_len(bias, 4 * units)?;
    }
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    // Accumulators of up to GROUP units, requantized together (TFLM: bias added, then
    // `MultiplyByQuantizedMultiplier`, zero point, clamp; the same stage as CONV_2D's).
    const GROUP: usize = 32;
    let mut acc = [0i32; GROUP];
    for (b, row) in output
        .chunks_exact_mut(units.max(1))
        .enumerate()
        .take(batches)
    {
        // With accum == 0 there is nothing to accumulate: every output is the requantized bias.
        let x = input.get(b * accum..(b + 1) * accum).unwrap_or(&[]);
        let mut c0 = 0;
        while c0 < units {
            let n = GROUP.min(units - c0);
            let group = &mut acc[..n];
            let rows = filter.get(c0 * accum..(c0 + n) * accum).unwrap_or(&[]);
            if accum == 0 {
                group.fill(0);
            } else {
                // Two units per pass share each load of the input row.
                let mut pairs = group.chunks_exact_mut(2);
                let mut ws = rows.chunks_exact(2 * accum);
                for (a, w) in (&mut pairs).zip(&mut ws) {
                    let (w0, w1) = w.split_at(accum);
                    a.copy_from_slice(&dot2(x, w0, w1, p.input_offset));
                }
                if let [a] = pairs.into_remainder() {
                    *a = dot_i8(x, ws.remainder(), p.input_offset);
                }
            }
            stage.store(c0, group, &mut row[c0..c0 + n]);
            c0 += n;
        }
    }
    Ok(())
}

crate::ops::stored::no_uninit!(Params {
    batches: u32,
    accum_depth: u32,
    units: u32,
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
    use crate::model::BuiltinOp;
    use crate::model::Tensor;
    use crate::ops::common::test_util::{bias, bytes, bytes32, i8t, run, tensor, Input};

    fn opts(act: Activation) -> Options {
        Options {
            activation: act,
            weights_format: 0,
            keep_num_dims: false,
        }
    }

    /// Prepare (measure, then store) and run one FULLY_CONNECTED with `o`; output 0's bytes.
    fn fc(ins: &[Input], out: Tensor<'static>, o: &Options) -> Result<Vec<u8>, Error> {
        run(
            BuiltinOp::FULLY_CONNECTED,
            ins,
            out,
            |c| prepare_with(c, o),
            eval,
        )
    }

    #[test]
    fn per_tensor_with_bias() {
        // x - zp = [2, -1, 3]; W = [[1, 2, 3], [-1, 0, 1]]; bias [1, -1].
        // acc0 = 2 - 2 + 9 + 1 = 10 → × 0.25 = 2.5 → 3; acc1 = -2 + 3 - 1 = 0 → 0. Out zp 5.
        let input = i8t(&[1, 3], 0.5, 1);
        let filter = tensor(DType::I8, &[2, 3], &[0.5], &[0], 0);
        let mut b = bias(2);
        b.quant = tensor(DType::I32, &[2], &[0.25], &[0], 0).quant;
        let out = i8t(&[1, 2], 1.0, 5);
        let got = fc(
            &[
                Some((input, bytes(&[3, 0, 4]))),
                Some((filter, bytes(&[1, 2, 3, -1, 0, 1]))),
                Some((b, bytes32(&[1, -1]))),
            ],
            out,
            &opts(Activation::None),
        )
        .unwrap();
        assert_eq!(got, bytes(&[8, 5]));
    }

    #[test]
    fn per_tensor_bias_scale_must_match() {
        // TFLM rejects a bias whose scale is far from input_scale * filter_scale.
        let input = i8t(&[1, 3], 0.5, 1);
        let filter = tensor(DType::I8, &[2, 3], &[0.5], &[0], 0);
        let out = i8t(&[1, 2], 1.0, 5);
        let r = fc(
            &[
                Some((input, bytes(&[3, 0, 4]))),
                Some((filter, bytes(&[0; 6]))),
                Some((bias(2), bytes32(&[1, -1]))),
            ],
            out,
            &opts(Activation::None),
        );
        assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    }

    #[test]
    fn per_channel_rank4_input_no_bias_relu() {
        // Input [1, 2, 1, 2] flattened to 2 rows of 2 (batches from output [2, 2]).
        // Rows (x - zp, zp = -2): [1, -3], [4, 0]. W = [[2, 1], [1, -1]], scales [0.5, 0.25].
        // row0: c0 = 2 - 3 = -1 → -0.5 → 0 (SRDHM ties up); c1 = 1 + 3 = 4 → 1.
        // row1: c0 = 8 → 4; c1 = 4 → 1. Relu with zp 0 clamps negatives (none here).
        let input = i8t(&[1, 2, 1, 2], 1.0, -2);
        let filter = tensor(DType::I8, &[2, 2], &[0.5, 0.25], &[0, 0], 0);
        let out = i8t(&[2, 2], 1.0, 0);
        let got = fc(
            &[
                Some((input, bytes(&[-1, -5, 2, -2]))),
                Some((filter, bytes(&[2, 1, 1, -1]))),
                None,
            ],
            out,
            &opts(Activation::Relu),
        )
        .unwrap();
        assert_eq!(got, bytes(&[0, 1, 4, 1]));
    }

    #[test]
    fn keep_num_dims_output_and_macs() {
        // Input [2, 3, 4] with keep_num_dims → output [2, 3, 5]: 6 batches of depth 4.
        let input = i8t(&[2, 3, 4], 1.0, 0);
        let filter = tensor(DType::I8, &[5, 4], &[1.0], &[0], 0);
        let out = i8t(&[2, 3, 5], 1.0, 0);
        let x: Vec<i8> = (0..24).map(|i| i as i8 - 12).collect();
        let w: Vec<i8> = (0..20).map(|i| (i % 3) as i8 - 1).collect();
        let mut macs = 0;
        let got = run(
            BuiltinOp::FULLY_CONNECTED,
            &[Some((input, bytes(&x))), Some((filter, bytes(&w)))],
            out,
            |c| {
                let p = prepare_with(
                    c,
                    &Options {
                        keep_num_dims: true,
                        ..opts(Activation::None)
                    },
                )?;
                macs = p.macs();
                Ok(p)
            },
            eval,
        )
        .unwrap();
        assert_eq!(macs, 6 * 5 * 4);
        let want: Vec<i8> = (0..6)
            .flat_map(|b| {
                let x = &x;
                let w = &w;
                (0..5).map(move |c| {
                    (0..4)
                        .map(|d| x[b * 4 + d] as i32 * w[c * 4 + d] as i32)
                        .sum::<i32>()
                        .clamp(-128, 127) as i8
                })
            })
            .collect();
        assert_eq!(got, bytes(&want));
        // Output batches must account for every input value.
        let bad = i8t(&[2, 2, 5], 1.0, 0);
        let r = fc(
            &[Some((input, bytes(&x))), Some((filter, bytes(&w)))],
            bad,
            &opts(Activation::None),
        );
        assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn rejects_shuffled_weights_format() {
        let input = i8t(&[1, 4], 1.0, 0);
        let filter = tensor(DType::I8, &[1, 4], &[1.0], &[0], 0);
        let out = i8t(&[1, 1], 1.0, 0);
        let o = Options {
            weights_format: 1,
            ..opts(Activation::None)
        };
        let ins = [
            Some((input, std::vec![0; 4])),
            Some((filter, std::vec![0; 4])),
        ];
        let r = fc(&ins, out, &o);
        assert!(matches!(r, Err(Error::UnsupportedOption { .. })));
    }
}
