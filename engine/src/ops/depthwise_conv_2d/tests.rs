use crate::model::DType;
use std::vec::Vec;

use super::*;
use crate::fixedpoint::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::model::{BuiltinOp, Tensor};
use crate::ops::common::test_util::{
    bias, bytes, bytes32, conv_operands, i8t, out_geometry, run, tensor, window, window_sweep,
    InPlaceSweep, Input,
};
use crate::ops::common::Padding;

fn opts(padding: Padding, stride: i32, dilation: i32, mult: i32, act: Activation) -> Options {
    let window = window(padding, stride, dilation);
    Options {
        window,
        depth_multiplier: mult,
        activation: act,
    }
}

/// Prepare (measure, then store) and run one DEPTHWISE_CONV_2D with `o`; output 0's bytes.
fn dw(ins: &[Input], out: Tensor<'static>, o: &Options) -> Result<Vec<u8>, Error> {
    run(
        BuiltinOp::DEPTHWISE_CONV_2D,
        ins,
        out,
        |c| prepare_with(c, o),
        eval,
    )
}

/// TFLM's `DepthwiseConvPerChannel` loop nest, transcribed: input `x` `[n, ih, iw, ic]`, filter
/// `f` `[1, fh, fw, ic * mult]`, output `(oh, ow)` with leading padding `(ph, pw)`, zero points
/// `(in_zp, out_zp)`, each channel's real multiplier in `reals`; no activation.
fn naive(
    (x, [n, ih, iw, ic]): (&[i8], [usize; 4]),
    (f, [fh, fw, mult]): (&[i8], [usize; 3]),
    b: Option<&[i32]>,
    ((oh, ow), (ph, pw)): ((usize, usize), (i64, i64)),
    (stride, dil): (usize, usize),
    (in_zp, out_zp): (i32, i32),
    reals: &[f64],
) -> Vec<i8> {
    let oc = ic * mult;
    let mut want = Vec::new();
    for bi in 0..n {
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
                            let px = (bi * ih + iy as usize) * iw + ix as usize;
                            let xv = x[px * ic + c / mult] as i32;
                            acc += f[(ky * fw + kx) * oc + c] as i32 * (xv - in_zp);
                        }
                    }
                    acc += b.map_or(0, |b| b[c]);
                    let (m, sh) = quantize_multiplier(reals[c]);
                    let v = multiply_by_quantized_multiplier(acc, m, sh) + out_zp;
                    want.push(v.clamp(-128, 127) as i8);
                }
            }
        }
    }
    want
}

#[test]
fn hand_computed_multiplier_two() {
    // Input 1x1x2x1 (one channel), filter 1x1x2x2 → 2 output channels per input channel.
    // in scale 1, zp 1; filter scales [0.5, 0.25]; out scale 1, zp 0.
    let input = i8t(&[1, 1, 2, 1], 1.0, 1);
    let filter = tensor(DType::I8, &[1, 1, 2, 2], &[0.5, 0.25], &[0, 0], 3);
    let out = i8t(&[1, 1, 1, 2], 1.0, 0);
    // x - zp = [4, -2]; taps (0,0),(0,1); f[tap][c] = [[1, 3], [2, -1]].
    // c0 = 1*4 + 2*(-2) = 0 → 0;  c1 = 3*4 + (-1)*(-2) = 14 → 14 * 0.25 = 3.5 → 4.
    let ins = [
        Some((input, bytes(&[5, -1]))),
        Some((filter, bytes(&[1, 3, 2, -1]))),
        None,
    ];
    let got = dw(&ins, out, &opts(Padding::Valid, 1, 1, 2, Activation::None)).unwrap();
    assert_eq!(got, bytes(&[0, 4]));
    // With bias [-3, -20]: c0 = -3 → -1.5 → -1 (SRDHM tie goes up); c1 = -6 → -1.5 → -2.
    let ins = [
        Some((input, bytes(&[5, -1]))),
        Some((filter, bytes(&[1, 3, 2, -1]))),
        Some((bias(2), bytes32(&[-3, -20]))),
    ];
    let got = dw(&ins, out, &opts(Padding::Valid, 1, 1, 2, Activation::None)).unwrap();
    assert_eq!(got, bytes(&[-1, -2]));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Random geometries (one input channel included: the transposed-conv path), depth
    /// multipliers 1/2/4/8, zero points and unsaturated per-channel scales, against a
    /// direct transcription of TFLM's loop nest.
    #[test]
    fn matches_naive_random(
        ih in 1usize..7, iw in 1usize..8, ic in 1usize..10, mult in proptest::prelude::prop_oneof![proptest::prelude::Just(1usize), proptest::prelude::Just(2), proptest::prelude::Just(4), proptest::prelude::Just(8)],
        fh in 1usize..5, fw in 1usize..4, stride in 1usize..3, dil in 1usize..3,
        same in proptest::prelude::any::<bool>(), in_zp in -128i64..=127, out_zp in -128i64..=127,
        seed in proptest::prelude::any::<u64>(), with_bias in proptest::prelude::any::<bool>(),
    ) {
        let oc = ic * mult;
        let padding = if same { Padding::Same } else { Padding::Valid };
        let Some((o_hw, pads)) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil) else {
            return Ok(());
        };
        let (oh, ow) = o_hw;
        let byte = |i: usize, salt: u64| (seed.rotate_left((i % 61) as u32) ^ salt.wrapping_mul(i as u64 + 1)) as u8 as i8;
        let x: Vec<i8> = (0..ih * iw * ic).map(|i| byte(i, 0x9e37)).collect();
        let f: Vec<i8> = (0..fh * fw * oc).map(|i| byte(i, 0x7f4a)).collect();
        let b: Vec<i32> = (0..oc).map(|c| (byte(c, 0x1234) as i32) * 31).collect();
        let taps = (fh * fw) as f32;
        let scales: Vec<f32> = (0..oc).map(|c| (c % 5) as f32 / (100.0 * taps) + 1.0 / (200.0 * taps)).collect();
        let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp);
        let filter = tensor(DType::I8, &[1, fh as i32, fw as i32, oc as i32], &scales, &std::vec![0; oc], 3);
        let out = i8t(&[1, oh as i32, ow as i32, oc as i32], 1.0, out_zp);
        let bias_in = if with_bias { Some((bias(oc as i32), bytes32(&b))) } else { None };
        let got = dw(&[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in], out, &opts(padding, stride as i32, dil as i32, mult as i32, Activation::None))
        .unwrap();
        let reals: Vec<f64> = scales.iter().map(|&sc| 1.0f32 as f64 * sc as f64 / 1.0f32 as f64).collect();
        let want = naive(
            (&x, [1, ih, iw, ic]),
            (&f, [fh, fw, mult]),
            with_bias.then_some(&b[..]),
            (o_hw, pads),
            (stride, dil),
            (in_zp as i32, out_zp as i32),
            &reals,
        );
        proptest::prop_assert_eq!(got, bytes(&want));
    }
}

#[test]
fn matches_naive() {
    let mut seed = 777u32;
    let mut rnd = || {
        seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        (seed >> 16) as i8
    };
    for &(ih, iw, ic, mult, fh, fw, stride, dil, padding) in &[
        (
            5usize,
            6usize,
            3usize,
            1usize,
            3usize,
            3usize,
            1usize,
            1usize,
            Padding::Same,
        ),
        (6, 5, 2, 3, 3, 2, 2, 1, Padding::Same),
        (7, 7, 3, 2, 3, 3, 1, 2, Padding::Same),
        (7, 8, 1, 8, 3, 3, 2, 2, Padding::Valid),
        (3, 3, 70, 1, 3, 3, 1, 1, Padding::Same), // more channels than one chunk
        (3, 3, 5, 30, 2, 2, 1, 1, Padding::Valid), // 2 groups of 30 per chunk
        (3, 4, 2, 150, 2, 2, 1, 1, Padding::Same), // one group spans 3 chunks
    ] {
        let oc = ic * mult;
        let x: Vec<i8> = (0..2 * ih * iw * ic).map(|_| rnd()).collect();
        let f: Vec<i8> = (0..fh * fw * oc).map(|_| rnd()).collect();
        let b: Vec<i32> = (0..oc as i32).map(|i| i * 53 - 400).collect();
        let Some((o_hw, pads)) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil) else {
            continue;
        };
        let (oh, ow) = o_hw;
        let scales: Vec<f32> = (0..oc).map(|c| 0.01 * (c % 7 + 1) as f32).collect();
        let zps: Vec<i64> = std::vec![0; oc];
        let input = i8t(&[2, ih as i32, iw as i32, ic as i32], 0.5, -7);
        let filter = tensor(
            DType::I8,
            &[1, fh as i32, fw as i32, oc as i32],
            &scales,
            &zps,
            3,
        );
        let out = i8t(&[2, oh as i32, ow as i32, oc as i32], 0.1, 4);
        let reals: Vec<f64> = scales
            .iter()
            .map(|&sc| 0.5f32 as f64 * sc as f64 / 0.1f32 as f64)
            .collect();
        let want = naive(
            (&x, [2, ih, iw, ic]),
            (&f, [fh, fw, mult]),
            Some(&b),
            (o_hw, pads),
            (stride, dil),
            (-7, 4),
            &reals,
        );
        let got = run(
            BuiltinOp::DEPTHWISE_CONV_2D,
            &[
                Some((input, bytes(&x))),
                Some((filter, bytes(&f))),
                Some((bias(oc as i32), bytes32(&b))),
            ],
            out,
            |c| {
                prepare_with(
                    c,
                    &opts(
                        padding,
                        stride as i32,
                        dil as i32,
                        mult as i32,
                        Activation::None,
                    ),
                )
            },
            eval,
        )
        .unwrap();
        assert_eq!(
            got,
            bytes(&want),
            "geometry {ih}x{iw}x{ic} m{mult} f{fh}x{fw} s{stride} d{dil}"
        );
    }
}

/// In place = separate buffers, byte for byte, over a sweep of geometries (strides,
/// paddings, filter sizes, dilations, depth multipliers, one input channel (the CONV_2D
/// path) or several, two batches, micro_speech's first layer), at the tightest offset
/// [`in_place_gap`] allows (with `MOTE_DSP_EMULATE=1`: the M4's four-lane paths).
#[test]
fn in_place_equals_separate_buffers() {
    let mut rnd = crate::ops::common::test_util::xorshift_i8(0x1b87_3593u32);
    // micro_speech's first layer, then the sweep: channels (in, depth multiplier).
    let first = (1, (49, 40), (1, 8), (10, 8), (2, 1), Padding::Same);
    let channels = [(1, 1), (1, 3), (3, 1), (4, 2), (8, 4), (5, 1)];
    let filters = [(1, 1), (2, 3), (3, 3), (5, 1)];
    let mut sweep = InPlaceSweep::default();
    for case in window_sweep(first, &channels, &filters) {
        let (n, (ih, iw), (ic, mult), (fh, fw), (stride, dil), padding) = case;
        let Some(((oh, ow), _)) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil) else {
            continue;
        };
        let oc = ic * mult;
        let scales: Vec<f32> = (0..oc)
            .map(|c| (c as f32 + 1.0) / (60.0 * (fh * fw) as f32))
            .collect();
        let fdims = ([1, fh, fw, oc], 3, &scales[..]);
        let (ins, out) = conv_operands(&mut rnd, [n, ih, iw, ic], (oh, ow), fdims, 29);
        let o = opts(
            padding,
            stride as i32,
            dil as i32,
            mult as i32,
            Activation::Relu,
        );
        let what =
            std::format!("{n}x{ih}x{iw}x{ic} x{mult} f{fh}x{fw} s{stride} d{dil} {padding:?}");
        let prep = |c: &mut PrepareCtx<'_, '_, '_>| prepare_with(c, &o);
        let op = BuiltinOp::DEPTHWISE_CONV_2D;
        sweep.check(
            op,
            &ins,
            out,
            prep,
            eval,
            eval_in_place,
            in_place_gap,
            &what,
        );
    }
    sweep.ran_more_than(300);
}

#[test]
fn relu6_and_per_tensor_filter() {
    // Per-tensor filter scale broadcast; relu6 with out scale 0.1, zp -128 → [-128, -68].
    let input = i8t(&[1, 1, 1, 3], 1.0, 0);
    let filter = tensor(DType::I8, &[1, 1, 1, 3], &[0.1], &[0], 3);
    let out = i8t(&[1, 1, 1, 3], 0.1, -128);
    let ins = [
        Some((input, bytes(&[-5, 30, 100]))),
        Some((filter, bytes(&[1, 1, 1]))),
        None,
    ];
    let got = dw(&ins, out, &opts(Padding::Same, 1, 1, 1, Activation::Relu6)).unwrap();
    // Multiplier 1: -5 → -133 → clamp -128; 30 → -98; 100 → -28 → clamp -68.
    assert_eq!(got, bytes(&[-128, -98, -68]));
}

#[test]
fn rejects_inconsistent_depth_multiplier() {
    let input = i8t(&[1, 2, 2, 2], 1.0, 0);
    let filter = tensor(DType::I8, &[1, 1, 1, 4], &[1.0], &[0], 3);
    let out = i8t(&[1, 2, 2, 4], 1.0, 0);
    let ins = [
        Some((input, std::vec![0; 8])),
        Some((filter, std::vec![0; 4])),
    ];
    let r = dw(&ins, out, &opts(Padding::Same, 1, 1, 1, Activation::None));
    assert!(matches!(r, Err(Error::UnsupportedOption { .. })));
    let mut macs = 0;
    run(
        BuiltinOp::DEPTHWISE_CONV_2D,
        &ins,
        out,
        |c| {
            let p = prepare_with(c, &opts(Padding::Same, 1, 1, 2, Activation::None))?;
            macs = p.macs();
            Ok(p)
        },
        eval,
    )
    .unwrap();
    assert_eq!(macs, 16);
    // Per-channel scales on the wrong axis.
    let filter = tensor(
        DType::I8,
        &[1, 1, 1, 4],
        &[1.0, 1.0, 1.0, 1.0],
        &[0, 0, 0, 0],
        0,
    );
    let ins = [
        Some((input, std::vec![0; 8])),
        Some((filter, std::vec![0; 4])),
    ];
    let r = dw(&ins, out, &opts(Padding::Same, 1, 1, 2, Activation::None));
    assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
}
