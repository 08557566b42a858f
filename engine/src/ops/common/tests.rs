//! Unit tests of the shared helpers.

use super::*;

#[test]
fn activation_ranges() {
    use Activation as A;
    // (activation, type, output scale, output zero point, range)
    let cases = [
        // Output scale 0.05, zp -10: relu → 0 quantizes to -10; relu6 → 6/0.05 = 120 → 110.
        (A::None, DType::I8, 0.05, -10, Some((-128, 127))),
        (A::Relu, DType::I8, 0.05, -10, Some((-10, 127))),
        (A::Relu6, DType::I8, 0.05, -10, Some((-10, 110))),
        // -1/0.05 = -20 → -30; 1/0.05 = 20 → 10.
        (A::ReluN1To1, DType::I8, 0.05, -10, Some((-30, 10))),
        // Relu6 beyond the type range clamps to qmax; round half away from zero: 6/4 = 1.5 → 2.
        (A::Relu6, DType::I8, 0.01, 0, Some((0, 127))),
        (A::Relu6, DType::I8, 4.0, 0, Some((0, 2))),
        (A::ReluN1To1, DType::I8, 0.8, 0, Some((-1, 1))),
        (A::Relu, DType::U8, 0.1, 3, Some((3, 255))),
        (A::None, DType::I16, 0.1, 0, Some((-32768, 32767))),
        (A::None, DType::F32, 0.1, 0, None),
        // Zero scale: 0/0 is NaN → TFLM's Quantize fails.
        (A::Relu, DType::I8, 0.0, 0, None),
    ];
    for (act, dtype, scale, zp, want) in cases {
        let got = activation_range_quantized(act, dtype, scale, zp);
        assert_eq!(got, want, "{act:?} {dtype:?} scale {scale} zp {zp}");
    }
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

/// Rounding ties of both TFLM roundings, swept: multiplier 0.5 makes `high = floor((a+1)/2)`,
/// so every `e` sees exact halves for positive and negative `a`; other multipliers and large
/// accumulators around multiples of `2^e` cover the carries.
#[test]
fn right_shift_requantize_ties() {
    use crate::fixedpoint::multiply_by_quantized_multiplier as reference;
    for m in [
        0,
        1,
        1 << 30,
        (1 << 30) + 1,
        0x5555_5555,
        0x7fff_fffe,
        i32::MAX,
    ] {
        for e in 2..=31 {
            let s = -e;
            let mut check = |a: i32| {
                assert_eq!(
                    right_shift_requantize(a, m, s),
                    reference(a, m, s),
                    "a {a} m {m} s {s}"
                );
            };
            (-3000..3000).for_each(&mut check);
            for k in [1i64, 3, 1000, 123_457] {
                let base = (k << e).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
                for d in -4..=4 {
                    check(base.saturating_add(d));
                    check(base.saturating_neg().saturating_add(d));
                }
            }
            [i32::MIN, i32::MIN + 1, i32::MAX, i32::MAX - 1]
                .into_iter()
                .for_each(&mut check);
        }
    }
}

proptest::proptest! {
    /// The folded single-multiply output stage equals TFLM's two roundings for every
    /// accumulator, multiplier >= 0 and right shift 2..=31, through `OutputStage::store`.
    #[test]
    fn right_shift_stage_matches_requantize(
        acc in proptest::prelude::any::<i32>(),
        bias in proptest::prelude::any::<i32>(),
        m in proptest::prelude::prop_oneof![0i32..=i32::MAX, (1i32 << 30)..=i32::MAX, proptest::prelude::Just(0), proptest::prelude::Just(1 << 30), proptest::prelude::Just(i32::MAX)],
        shift in -31i32..=-2,
        zp in -128i32..=127,
        lo in -128i32..=127,
        span in 0i32..=255,
    ) {
        use crate::fixedpoint::multiply_by_quantized_multiplier as reference;
        let hi = (lo + span).min(127);
        let want = |a: i32| reference(a.wrapping_add(bias), m, shift).wrapping_add(zp).max(lo).min(hi) as i8 as u8;
        let accs = [acc, acc >> 8, acc >> 16, acc >> 24, 0, -1, 1, i32::MIN, i32::MAX, -(1 << 30) / m.max(1)];
        let bias_bytes: std::vec::Vec<u8> = accs.iter().flat_map(|_| bias.to_le_bytes()).collect();
        let words: std::vec::Vec<i32> = accs.iter().flat_map(|_| [m, shift]).collect();
        let q = ChannelQuant { span: Span::default(), multiplier: m, shift };
        let expect: std::vec::Vec<u8> = accs.iter().map(|&a| want(a)).collect();
        for stage in [
            OutputStage::new(&bias_bytes, &words, ChannelQuant::default(), zp, lo, hi),
            OutputStage::new(&bias_bytes, &[], q, zp, lo, hi),
        ] {
            let mut out = [0u8; 10];
            stage.store(0, &accs, &mut out);
            proptest::prop_assert_eq!(&out[..], &expect[..], "bias {} m {} shift {}", bias, m, shift);
            let (mut a, mut b) = ([0u8; 10], [0u8; 10]);
            stage.store_pair(0, &accs, &accs, &mut a, &mut b);
            proptest::prop_assert_eq!(&a[..], &expect[..]);
            proptest::prop_assert_eq!(&b[..], &expect[..]);
            let one: std::vec::Vec<u8> = accs.iter().enumerate().map(|(c, &x)| stage.apply(c, x)).collect();
            proptest::prop_assert_eq!(&one[..], &expect[..]);
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

/// An infinite multiplier has no defined TFLM result (`QuantizeMultiplier`'s float-to-int
/// conversion is undefined; where it saturates, `TFLITE_CHECK` aborts at prepare): every op whose
/// prepare calls it gives `InfiniteMultiplier` for an output scale of 0, per tensor and per channel.
mod infinite_multiplier {
    use crate::error::Error;
    use crate::model::{BuiltinOp, DType, Tensor};
    use crate::ops::common::test_util::{i8t, qt, tensor, window, with_ctx};
    use crate::ops::common::{Activation, Padding};
    use crate::ops::{conv_2d, depthwise_conv_2d, fully_connected, mean, mul, quantize, relu};

    fn refused<P>(r: Result<P, Error>, op: BuiltinOp) {
        match r {
            Err(Error::InfiniteMultiplier { op: o, tensor: 100 }) if o == op => {}
            Err(e) => panic!("{op:?}: {e}"),
            Ok(_) => panic!("{op:?}: prepared an infinite multiplier"),
        }
    }

    /// Filters of one per-tensor scale and of two per-channel scales (axis `axis`).
    fn filters(dims: &[i32], axis: i32) -> [Tensor<'static>; 2] {
        [
            tensor(DType::I8, dims, &[0.5], &[0], 0),
            tensor(DType::I8, dims, &[0.5, 0.25], &[0, 0], axis),
        ]
    }

    #[test]
    fn conv_2d_zero_output_scale() {
        let o = conv_2d::Options {
            window: window(Padding::Valid, 1, 1),
            activation: Activation::None,
        };
        for f in filters(&[2, 1, 1, 1], 0) {
            let ins = [i8t(&[1, 1, 1, 1], 1.0, 0), f];
            let r = with_ctx(
                BuiltinOp::CONV_2D,
                &ins,
                &[i8t(&[1, 1, 1, 2], 0.0, 0)],
                |c| conv_2d::prepare_with(c, &o),
            );
            refused(r, BuiltinOp::CONV_2D);
        }
        // A finite multiplier from the same shapes prepares.
        let ins = [i8t(&[1, 1, 1, 1], 1.0, 0), filters(&[2, 1, 1, 1], 0)[1]];
        let out = [i8t(&[1, 1, 1, 2], 1.0, 0)];
        assert!(
            with_ctx(BuiltinOp::CONV_2D, &ins, &out, |c| conv_2d::prepare_with(
                c, &o
            ))
            .is_ok()
        );
    }

    #[test]
    fn depthwise_conv_2d_zero_output_scale() {
        let o = depthwise_conv_2d::Options {
            window: window(Padding::Valid, 1, 1),
            depth_multiplier: 2,
            activation: Activation::None,
        };
        for f in filters(&[1, 1, 1, 2], 3) {
            let ins = [i8t(&[1, 1, 1, 1], 1.0, 0), f];
            let out = [i8t(&[1, 1, 1, 2], 0.0, 0)];
            let r = with_ctx(BuiltinOp::DEPTHWISE_CONV_2D, &ins, &out, |c| {
                depthwise_conv_2d::prepare_with(c, &o)
            });
            refused(r, BuiltinOp::DEPTHWISE_CONV_2D);
        }
    }

    #[test]
    fn fully_connected_zero_output_scale_or_overflowing_product() {
        let o = fully_connected::Options {
            activation: Activation::None,
            weights_format: 0,
            keep_num_dims: false,
        };
        let fc = |input: Tensor<'static>, f: Tensor<'static>, out_scale: f32| {
            with_ctx(
                BuiltinOp::FULLY_CONNECTED,
                &[input, f],
                &[i8t(&[1, 2], out_scale, 0)],
                |c| fully_connected::prepare_with(c, &o),
            )
        };
        for f in filters(&[2, 3], 0) {
            refused(fc(i8t(&[1, 3], 1.0, 0), f, 0.0), BuiltinOp::FULLY_CONNECTED);
        }
        // Per tensor, TFLM takes input x filter scale in f32: 1e30 x 1e30 overflows to +inf.
        let f = tensor(DType::I8, &[2, 3], &[1e30], &[0], 0);
        refused(
            fc(i8t(&[1, 3], 1e30, 0), f, 1.0),
            BuiltinOp::FULLY_CONNECTED,
        );
    }

    #[test]
    fn relu_zero_output_scale() {
        // x / 0 is infinite, 0 / 0 NaN: both refused.
        for in_scale in [0.5, 0.0] {
            let (ins, outs) = ([i8t(&[4], in_scale, 0)], [i8t(&[4], 0.0, 0)]);
            let r = with_ctx(BuiltinOp::RELU, &ins, &outs, |c| relu::prepare(c));
            refused(r, BuiltinOp::RELU);
        }
    }

    #[test]
    fn quantize_requantize_zero_output_scale() {
        for (a, b) in [
            (DType::I8, DType::I8),
            (DType::I16, DType::I8),
            (DType::U8, DType::I8),
        ] {
            let r = with_ctx(
                BuiltinOp::QUANTIZE,
                &[qt(a, &[3], 0.5, 0)],
                &[qt(b, &[3], 0.0, 0)],
                |c| quantize::prepare(c),
            );
            refused(r, BuiltinOp::QUANTIZE);
        }
    }

    #[test]
    fn mul_and_mean_zero_output_scale() {
        let ins = [i8t(&[2], 1.0, 0), i8t(&[2], 1.0, 0)];
        let r = with_ctx(BuiltinOp::MUL, &ins, &[i8t(&[2], 0.0, 0)], |c| {
            mul::prepare_with(c, Activation::None)
        });
        refused(r, BuiltinOp::MUL);
        let axis = crate::ops::common::test_util::ci32(&[1], &[0]);
        let r = with_ctx(
            BuiltinOp::MEAN,
            &[i8t(&[2], 1.0, 0), axis],
            &[i8t(&[1], 0.0, 0)],
            |c| mean::prepare(c),
        );
        refused(r, BuiltinOp::MEAN);
    }
}
