use crate::model::DType;
use std::vec::Vec;

use super::*;
use crate::fixedpoint::{multiply_by_quantized_multiplier, quantize_multiplier};
use crate::model::{BuiltinOp, Tensor};
use crate::ops::common::test_util::{bias, bytes, bytes32, i8t, run, tensor, window, Input};
use crate::ops::common::{compute_out_size, compute_padding_with_offset, Padding};

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
        let (s, d) = (stride as i64, dil as i64);
        let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
        let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
        if oh <= 0 || ow <= 0 {
            return Ok(());
        }
        let (ph, _) = compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
        let (pw, _) = compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
        let (oh, ow) = (oh as usize, ow as usize);
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
        let mut want = Vec::new();
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
                            let xv = x[((iy as usize) * iw + ix as usize) * ic + c / mult] as i32;
                            let fv = f[(ky * fw + kx) * oc + c] as i32;
                            acc += fv * (xv - in_zp as i32);
                        }
                    }
                    if with_bias {
                        acc += b[c];
                    }
                    let (m, sh) = quantize_multiplier(1.0f32 as f64 * scales[c] as f64 / 1.0f32 as f64);
                    let v = multiply_by_quantized_multiplier(acc, m, sh) + out_zp as i32;
                    want.push(v.clamp(-128, 127) as i8);
                }
            }
        }
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
        let (s, d) = (stride as i64, dil as i64);
        let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
        let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
        let (ph, _) = compute_padding_with_offset(s, d, ih as i64, fh as i64, oh);
        let (pw, _) = compute_padding_with_offset(s, d, iw as i64, fw as i64, ow);
        let (oh, ow) = (oh as usize, ow as usize);
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
        let mut want = Vec::new();
        for bi in 0..2 {
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..oc {
                        let mut acc = 0i32;
                        for ky in 0..fh {
                            for kx in 0..fw {
                                let iy = (oy * stride) as i32 - ph as i32 + (ky * dil) as i32;
                                let ix = (ox * stride) as i32 - pw as i32 + (kx * dil) as i32;
                                if iy < 0 || ix < 0 || iy >= ih as i32 || ix >= iw as i32 {
                                    continue;
                                }
                                let xv = x
                                    [((bi * ih + iy as usize) * iw + ix as usize) * ic + c / mult]
                                    as i32;
                                acc += f[(ky * fw + kx) * oc + c] as i32 * (xv + 7);
                            }
                        }
                        acc += b[c];
                        let (m, sh) =
                            quantize_multiplier(0.5f32 as f64 * scales[c] as f64 / 0.1f32 as f64);
                        let v = multiply_by_quantized_multiplier(acc, m, sh) + 4;
                        want.push(v.clamp(-128, 127) as i8);
                    }
                }
            }
        }
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
    use crate::ops::common::test_util::in_place_at;
    let mut rnd = crate::ops::common::test_util::xorshift_i8(0x1b87_3593u32);
    let mut shapes = std::vec![(
        1usize,
        49usize,
        40usize,
        1usize,
        8usize,
        10usize,
        8usize,
        2usize,
        1usize,
        Padding::Same
    )];
    for (n, ih, iw) in [(1, 1, 1), (1, 3, 4), (2, 6, 5), (1, 9, 3)] {
        for (ic, mult) in [(1, 1), (1, 3), (3, 1), (4, 2), (8, 4), (5, 1)] {
            for (fh, fw) in [(1, 1), (2, 3), (3, 3), (5, 1)] {
                for (stride, dil) in [(1, 1), (2, 1), (1, 2), (3, 2)] {
                    for padding in [Padding::Same, Padding::Valid] {
                        shapes.push((n, ih, iw, ic, mult, fh, fw, stride, dil, padding));
                    }
                }
            }
        }
    }
    let (mut ran, mut refused) = (0, 0);
    for (n, ih, iw, ic, mult, fh, fw, stride, dil, padding) in shapes {
        let (s, d) = (stride as i64, dil as i64);
        let oh = compute_out_size(padding, ih as i64, fh as i64, s, d);
        let ow = compute_out_size(padding, iw as i64, fw as i64, s, d);
        if oh <= 0 || ow <= 0 {
            continue;
        }
        let oc = ic * mult;
        let x: Vec<i8> = (0..n * ih * iw * ic).map(|_| rnd()).collect();
        let f: Vec<i8> = (0..fh * fw * oc).map(|_| rnd()).collect();
        let b: Vec<i32> = (0..oc).map(|_| rnd() as i32 * 29).collect();
        let scales: Vec<f32> = (0..oc)
            .map(|c| (c as f32 + 1.0) / (60.0 * (fh * fw) as f32))
            .collect();
        let dims = |h: usize, w: usize, c: usize| [n as i32, h as i32, w as i32, c as i32];
        let input = i8t(&dims(ih, iw, ic), 1.0, rnd() as i64);
        let fdims = [1, fh as i32, fw as i32, oc as i32];
        let filter = tensor(DType::I8, &fdims, &scales, &std::vec![0; oc], 3);
        let out = i8t(&dims(oh as usize, ow as usize, oc), 1.0, rnd() as i64);
        let ins = [
            Some((input, bytes(&x))),
            Some((filter, bytes(&f))),
            Some((bias(oc as i32), bytes32(&b))),
        ];
        let o = opts(
            padding,
            stride as i32,
            dil as i32,
            mult as i32,
            Activation::Relu,
        );
        let want = dw(&ins, out, &o).unwrap();
        let gap = std::cell::Cell::new(None);
        let got = run(
            BuiltinOp::DEPTHWISE_CONV_2D,
            &ins,
            out,
            |c| prepare_with(c, &o),
            |p, c| {
                gap.set(in_place_gap(p));
                match in_place_gap(p) {
                    Some(g) => in_place_at(p, c, g, eval_in_place),
                    None => eval(p, c),
                }
            },
        )
        .unwrap();
        let what =
            std::format!("{n}x{ih}x{iw}x{ic} x{mult} f{fh}x{fw} s{stride} d{dil} {padding:?}");
        assert_eq!(got, want, "{what}");
        match gap.get() {
            Some(_) => ran += 1,
            None => refused += 1,
        }
    }
    assert!(
        ran > 300,
        "{ran} geometries ran in place ({refused} refused)"
    );
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
