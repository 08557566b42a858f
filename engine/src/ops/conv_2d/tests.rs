//! CONV_2D unit tests: every eval strategy against a naive convolution.

use crate::model::DType;
use std::vec::Vec;

use super::*;
use crate::model::{BuiltinOp, Tensor};
use crate::ops::common::test_util::{
    bias, bytes, bytes32, conv_operands, i8t, out_geometry, run, tensor, window, window_sweep,
    InPlaceSweep, Input,
};
use crate::ops::common::Padding;

fn opts(padding: Padding, stride: i32, dilation: i32, activation: Activation) -> Options {
    let window = window(padding, stride, dilation);
    Options { window, activation }
}

/// Prepare (measure, then store) and run one CONV_2D with `o`; output 0's bytes.
fn conv(ins: &[Input], out: Tensor<'static>, o: &Options) -> Result<Vec<u8>, Error> {
    run(BuiltinOp::CONV_2D, ins, out, |c| prepare_with(c, o), eval)
}

/// Straightforward transcription of the reference loop nest, for cross-checking eval on
/// shapes too large to work out by hand (channel `c`'s real multiplier `reals[c]` applied with
/// rounding).
#[allow(clippy::too_many_arguments)]
fn naive(
    x: &[i8],
    ishape: [usize; 4],
    f: &[i8],
    fshape: [usize; 4],
    b: Option<&[i32]>,
    oshape: [usize; 4],
    stride: usize,
    dil: usize,
    pad: (i32, i32),
    in_zp: i32,
    (out_zp, reals): (i32, &[f64]),
) -> Vec<i8> {
    let [n, ih, iw, ic] = ishape;
    let [oc, fh, fw, fic] = fshape;
    let [_, oh, ow, _] = oshape;
    let per_group = oc / (ic / fic);
    let mut out = Vec::new();
    for bi in 0..n {
        for oy in 0..oh {
            for ox in 0..ow {
                for c in 0..oc {
                    let g = c / per_group;
                    let mut acc = 0i32;
                    for ky in 0..fh {
                        for kx in 0..fw {
                            let iy = (oy * stride) as i32 - pad.0 + (ky * dil) as i32;
                            let ix = (ox * stride) as i32 - pad.1 + (kx * dil) as i32;
                            if iy < 0 || ix < 0 || iy >= ih as i32 || ix >= iw as i32 {
                                continue;
                            }
                            for k in 0..fic {
                                let xv = x[((bi * ih + iy as usize) * iw + ix as usize) * ic
                                    + g * fic
                                    + k] as i32;
                                let fv = f[((c * fh + ky) * fw + kx) * fic + k] as i32;
                                acc += fv * (xv - in_zp);
                            }
                        }
                    }
                    acc += b.map_or(0, |b| b[c]);
                    let (m, sh) = crate::fixedpoint::quantize_multiplier(reals[c]);
                    let v = crate::fixedpoint::multiply_by_quantized_multiplier(acc, m, sh);
                    out.push((v + out_zp).clamp(-128, 127) as i8);
                }
            }
        }
    }
    out
}

#[test]
fn one_by_one_with_bias_and_rounding() {
    // Input 1x1x2x2, filter 2x1x1x2, scales in 0.5 * f 1.0 / out 1.0 → multiplier 0.5.
    let x = [3i8, -4, 5, 7];
    let f = [1i8, 1, 2, -1];
    let input = i8t(&[1, 1, 2, 2], 0.5, -1);
    let filter = tensor(DType::I8, &[2, 1, 1, 2], &[1.0], &[0], 0);
    let out = i8t(&[1, 1, 2, 2], 1.0, 2);
    let got = conv(
        &[
            Some((input, bytes(&x))),
            Some((filter, bytes(&f))),
            Some((bias(2), bytes32(&[1, -2]))),
        ],
        out,
        &opts(Padding::Valid, 1, 1, Activation::None),
    )
    .unwrap();
    // px0: c0 = (4 + -3) + 1 = 2 → 1; c1 = 2*4 - (-3) - 2 = 9 → 4.5 → 5. +2 zp.
    // px1: c0 = 6 + 8 + 1 = 15 → 7.5 → 8; c1 = 12 - 8 - 2 = 2 → 1. +2 zp.
    assert_eq!(got, bytes(&[3, 7, 10, 3]));
}

#[test]
fn negative_ties_and_relu() {
    // Multiplier 0.25 = (2^30, shift -1): acc -6 → SRDHM -3 → RoundingDivideByPOT(-3, 1)
    // = -1.5 → -2 (ties away from zero); acc 6 → 2. Relu clamps at the zero point.
    let input = i8t(&[1, 1, 1, 1], 1.0, 0);
    let filter = tensor(DType::I8, &[2, 1, 1, 1], &[0.25, 0.25], &[0, 0], 0);
    let out = i8t(&[1, 1, 1, 2], 1.0, 0);
    let ins = [
        Some((input, bytes(&[-6]))),
        Some((filter, bytes(&[1, -1]))),
        None,
    ];
    let got = conv(&ins, out, &opts(Padding::Valid, 1, 1, Activation::None)).unwrap();
    assert_eq!(got, bytes(&[-2, 2]));
    let got = conv(&ins, out, &opts(Padding::Valid, 1, 1, Activation::Relu)).unwrap();
    assert_eq!(got, bytes(&[0, 2]));
}

#[test]
fn same_padding_edges_skip_instead_of_multiplying_zero_point() {
    // 3x3 all-ones filter over a 2x2 image, SAME: each window covers all 4 pixels plus 5
    // padding cells. Padding must contribute nothing (not `0 - zero_point`).
    let input = i8t(&[1, 2, 2, 1], 1.0, -1);
    let filter = tensor(DType::I8, &[1, 3, 3, 1], &[1.0], &[0], 0);
    let out = i8t(&[1, 2, 2, 1], 1.0, 0);
    // x - zp = 2 per pixel → 8 per window (13 if padding counted as raw 0).
    let got = conv(
        &[
            Some((input, bytes(&[1, 1, 1, 1]))),
            Some((filter, bytes(&[1; 9]))),
        ],
        out,
        &opts(Padding::Same, 1, 1, Activation::None),
    );
    // Multiplier 1.0 * 1.0 / 1.0 = 1 → 8.
    assert_eq!(got.unwrap(), bytes(&[8, 8, 8, 8]));
}

#[test]
fn matches_naive_on_stride_dilation_groups() {
    // Pseudo-random data, several geometries, multiplier 0.5 (in 0.5 × f 1 / out 1).
    let mut seed = 12345u32;
    let mut rnd = || {
        seed = seed.wrapping_mul(1103515245).wrapping_add(12345);
        (seed >> 16) as i8
    };
    for &(ih, iw, ic, oc, fh, fw, fic, stride, dil, padding) in &[
        (
            5usize,
            6usize,
            3usize,
            4usize,
            3usize,
            3usize,
            3usize,
            1usize,
            1usize,
            Padding::Same,
        ),
        (5, 6, 3, 4, 3, 2, 3, 2, 1, Padding::Same),
        (7, 7, 2, 3, 3, 3, 2, 1, 2, Padding::Same),
        (7, 8, 2, 3, 3, 3, 2, 2, 2, Padding::Valid),
        (6, 6, 4, 6, 2, 3, 2, 1, 1, Padding::Same), // 2 groups
        (4, 5, 4, 4, 1, 1, 1, 1, 1, Padding::Valid), // depthwise-like 4 groups
    ] {
        let x: Vec<i8> = (0..2 * ih * iw * ic).map(|_| rnd()).collect();
        let f: Vec<i8> = (0..oc * fh * fw * fic).map(|_| rnd()).collect();
        let b: Vec<i32> = (0..oc as i32).map(|i| i * 37 - 50).collect();
        let Some(((oh, ow), (ph, pw))) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil)
        else {
            continue;
        };
        let scales: Vec<f32> = (0..oc).map(|_| 1.0).collect();
        let zps: Vec<i64> = (0..oc).map(|_| 0).collect();
        let input = i8t(&[2, ih as i32, iw as i32, ic as i32], 0.5, 3);
        let filter = tensor(
            DType::I8,
            &[oc as i32, fh as i32, fw as i32, fic as i32],
            &scales,
            &zps,
            0,
        );
        let out = i8t(&[2, oh as i32, ow as i32, oc as i32], 1.0, -5);
        for with_bias in [false, true] {
            let bias_in = if with_bias {
                Some((bias(oc as i32), bytes32(&b)))
            } else {
                None
            };
            let got = run(
                BuiltinOp::CONV_2D,
                &[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in],
                out,
                |c| {
                    prepare_with(
                        c,
                        &opts(padding, stride as i32, dil as i32, Activation::None),
                    )
                },
                eval,
            )
            .unwrap();
            let want = naive(
                &x,
                [2, ih, iw, ic],
                &f,
                [oc, fh, fw, fic],
                if with_bias { Some(&b) } else { None },
                [2, oh, ow, oc],
                stride,
                dil,
                (ph as i32, pw as i32),
                3,
                (-5, &std::vec![0.5; oc]),
            );
            assert_eq!(
                got,
                bytes(&want),
                "geometry {ih}x{iw}x{ic} -> {oc} f{fh}x{fw} s{stride} d{dil}"
            );
        }
    }
}

/// Regression (issue 8, DS-CNN / str-ww outputs on the M4): on DSP builds a pair of output
/// pixels whose windows lie inside the image is widened straight from the image, leaving
/// the gathered patches of the *previous* pair in place; with an odd output-channel count
/// the last channel was computed from those stale patches. SAME padding makes the edge
/// pairs gathered and the inner pairs direct, and 3 channels leave an odd one. Fails before
/// the fix under `MOTE_DSP_EMULATE=1` (and on the device); always runs on the host.
#[test]
fn odd_last_channel_after_a_direct_pair() {
    let (ih, iw, ic, oc, k) = (5usize, 8usize, 4usize, 3usize, 3usize);
    let x: Vec<i8> = (0..ih * iw * ic)
        .map(|i| ((i * 37 + 11) % 251) as u8 as i8)
        .collect();
    let f: Vec<i8> = (0..oc * k * k * ic)
        .map(|i| ((i * 53 + 7) % 249) as u8 as i8)
        .collect();
    let (in_zp, out_zp) = (-3, 5);
    let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp as i64);
    // Scale 1/2: filter 1.0 with input 0.5 / output 1.0, like `naive`.
    let filter = tensor(
        DType::I8,
        &[oc as i32, k as i32, k as i32, ic as i32],
        &[0.5],
        &[0],
        0,
    );
    let out = i8t(&[1, ih as i32, iw as i32, oc as i32], 1.0, out_zp as i64);
    let got = conv(
        &[Some((input, bytes(&x))), Some((filter, bytes(&f))), None],
        out,
        &opts(Padding::Same, 1, 1, Activation::None),
    )
    .unwrap();
    let want = naive(
        &x,
        [1, ih, iw, ic],
        &f,
        [oc, k, k, ic],
        None,
        [1, ih, iw, oc],
        1,
        1,
        (1, 1),
        in_zp,
        (out_zp, &[0.5; 3]),
    );
    assert_eq!(got, bytes(&want));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    /// Random geometries, zero points and per-channel scales small enough that outputs
    /// spread over the int8 range (rather than saturating), against a direct transcription
    /// of TFLM's loop nest: exercises the direct, gathered (pixel pairs) and row paths.
    #[test]
    fn matches_naive_random(
        ih in 1usize..7, iw in 1usize..9, ic in 1usize..6, oc in 1usize..7,
        fh in 1usize..4, fw in 1usize..4, stride in 1usize..3, dil in 1usize..3,
        same in proptest::prelude::any::<bool>(), in_zp in -128i64..=127, out_zp in -128i64..=127,
        seed in proptest::prelude::any::<u64>(), with_bias in proptest::prelude::any::<bool>(),
    ) {
        let padding = if same { Padding::Same } else { Padding::Valid };
        let Some(((oh, ow), (ph, pw))) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil) else {
            return Ok(());
        };
        let byte = |i: usize, salt: u64| (seed.rotate_left((i % 61) as u32) ^ salt.wrapping_mul(i as u64 + 1)) as u8 as i8;
        let x: Vec<i8> = (0..ih * iw * ic).map(|i| byte(i, 0x9e37)).collect();
        let f: Vec<i8> = (0..oc * fh * fw * ic).map(|i| byte(i, 0x7f4a)).collect();
        let b: Vec<i32> = (0..oc).map(|c| (byte(c, 0x1234) as i32) * 97).collect();
        let taps = (fh * fw * ic) as f32;
        let scales: Vec<f32> = (0..oc).map(|c| (c as f32 + 1.0) / (300.0 * taps)).collect();
        let input = i8t(&[1, ih as i32, iw as i32, ic as i32], 1.0, in_zp);
        let filter = tensor(DType::I8, &[oc as i32, fh as i32, fw as i32, ic as i32], &scales, &std::vec![0; oc], 0);
        let out = i8t(&[1, oh as i32, ow as i32, oc as i32], 1.0, out_zp);
        let bias_in = if with_bias { Some((bias(oc as i32), bytes32(&b))) } else { None };
        let got = conv(&[Some((input, bytes(&x))), Some((filter, bytes(&f))), bias_in], out, &opts(padding, stride as i32, dil as i32, Activation::None))
        .unwrap();
        let reals: Vec<f64> = scales.iter().map(|&sc| 1.0f32 as f64 * sc as f64 / 1.0f32 as f64).collect();
        let want = naive(
            &x,
            [1, ih, iw, ic],
            &f,
            [oc, fh, fw, ic],
            with_bias.then_some(&b[..]),
            [1, oh, ow, oc],
            stride,
            dil,
            (ph as i32, pw as i32),
            in_zp as i32,
            (out_zp as i32, &reals),
        );
        proptest::prop_assert_eq!(got, bytes(&want));
    }
}

#[test]
fn rejects_bad_models() {
    let input = i8t(&[1, 3, 3, 1], 1.0, 0);
    let out = i8t(&[1, 3, 3, 1], 1.0, 0);
    let o = opts(Padding::Same, 1, 1, Activation::None);
    // Nonzero filter zero point.
    let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0], &[3], 0);
    let r = conv(
        &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
        out,
        &o,
    );
    assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    // Per-channel scale count not matching output channels.
    let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0, 2.0], &[0, 0], 0);
    let r = conv(
        &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
        out,
        &o,
    );
    assert!(matches!(r, Err(Error::UnsupportedQuantization { .. })));
    // Output shape not what SAME padding gives.
    let filter = tensor(DType::I8, &[1, 1, 1, 1], &[1.0], &[0], 0);
    let bad_out = i8t(&[1, 2, 3, 1], 1.0, 0);
    let r = conv(
        &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
        bad_out,
        &o,
    );
    assert!(matches!(r, Err(Error::ShapeMismatch { .. })));
    // Stride 0.
    let r = conv(
        &[Some((input, bytes(&[0; 9]))), Some((filter, bytes(&[1])))],
        out,
        &opts(Padding::Same, 0, 1, Activation::None),
    );
    assert!(matches!(r, Err(Error::UnsupportedOption { .. })));
    // Float input.
    let fin = tensor(DType::F32, &[1, 3, 3, 1], &[], &[], 0);
    let r = conv(
        &[Some((fin, std::vec![0; 36])), Some((filter, bytes(&[1])))],
        out,
        &o,
    );
    assert!(matches!(r, Err(Error::UnsupportedType { .. })));
}

#[test]
fn macs_count() {
    let input = i8t(&[1, 4, 4, 3], 1.0, 0);
    let filter = tensor(DType::I8, &[5, 3, 3, 3], &[1.0], &[0], 0);
    let out = i8t(&[1, 2, 2, 5], 1.0, 0);
    let ins: Vec<Option<(crate::model::Tensor<'static>, Vec<u8>)>> = std::vec![
        Some((input, std::vec![0; 48])),
        Some((filter, std::vec![0; 135]))
    ];
    let mut macs = 0;
    run(
        BuiltinOp::CONV_2D,
        &ins,
        out,
        |c| {
            let p = prepare_with(c, &opts(Padding::Same, 2, 1, Activation::None))?;
            macs = p.macs();
            Ok(p)
        },
        eval,
    )
    .unwrap();
    assert_eq!(macs, 4 * 5 * 27);
}

/// In place = separate buffers, byte for byte, over a sweep of geometries (strides,
/// paddings, filter sizes, dilations, channels, groups, two batches, micro_speech's first
/// layer): every strategy ([`strategy`] picks direct, gathered or rows; with
/// `MOTE_DSP_EMULATE=1` the M4's widened pair paths) runs at the tightest offset
/// [`in_place_gap`] allows.
#[test]
fn in_place_equals_separate_buffers() {
    let mut rnd = crate::ops::common::test_util::xorshift_i8(0x2545_f491u32);
    // micro_speech's first layer, then the sweep: channels (in, per filter, out).
    let first = (1, (49, 40), (1, 1, 8), (10, 8), (2, 1), Padding::Same);
    let channels = [(1, 1, 3), (3, 3, 2), (8, 8, 5), (4, 2, 4), (2, 2, 33)];
    let filters = [(1, 1), (2, 3), (3, 1), (5, 5)];
    let mut sweep = InPlaceSweep::default();
    for case in window_sweep(first, &channels, &filters) {
        let (n, (ih, iw), (ic, fic, oc), (fh, fw), (stride, dil), padding) = case;
        let Some(((oh, ow), _)) = out_geometry(padding, (ih, iw), (fh, fw), stride, dil) else {
            continue;
        };
        let scales: Vec<f32> = (0..oc)
            .map(|c| (c as f32 + 1.0) / (200.0 * (fh * fw * fic) as f32))
            .collect();
        let fdims = ([oc, fh, fw, fic], 0, &scales[..]);
        let (ins, out) = conv_operands(&mut rnd, [n, ih, iw, ic], (oh, ow), fdims, 41);
        let o = opts(padding, stride as i32, dil as i32, Activation::Relu);
        let what = std::format!(
            "{n}x{ih}x{iw}x{ic} -> {oc} f{fh}x{fw}/{fic} s{stride} d{dil} {padding:?}"
        );
        let prep = |c: &mut PrepareCtx<'_, '_, '_>| prepare_with(c, &o);
        let op = BuiltinOp::CONV_2D;
        let gap = sweep.check(
            op,
            &ins,
            out,
            prep,
            eval,
            eval_in_place,
            in_place_gap,
            &what,
        );
        if let Some(g) = gap {
            // The overlap is real: the tightest layout shares bytes.
            assert!(g < (n * oh * ow * oc) as i32, "{what}");
        }
    }
    sweep.ran_more_than(300);
}

/// micro_speech's CONV_2D (49x40x1 -> 25x20x8, 10x8, stride 2, SAME): the input may start
/// 2,240 bytes above the output, so the two need 4,200 bytes instead of 5,960.
#[test]
fn micro_speech_gap() {
    let win = Window2D {
        batches: 1,
        in_h: 49,
        in_w: 40,
        out_h: 25,
        out_w: 20,
        filter_h: 10,
        filter_w: 8,
        stride_h: 2,
        stride_w: 2,
        dilation_h: 1,
        dilation_w: 1,
        pad_h: 4,
        pad_w: 3,
    };
    let p = Params::single_input_channel(win, 8, true, 0, 0, -128, 127, ChannelQuant::default());
    assert_eq!(in_place_gap(&p), Some(2240));
}
