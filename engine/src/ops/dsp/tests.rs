use super::*;
use proptest::prelude::*;
use std::vec::Vec;

/// The reference: TFLM's loop, in i64 then reduced mod 2^32 (what wrapping i32 gives).
fn naive(x: &[u8], f: &[u8], off: i32) -> i32 {
    let s: i64 = x
        .iter()
        .zip(f)
        .map(|(&a, &b)| (b as i8 as i64) * (a as i8 as i64 + off as i64))
        .sum();
    s as i32
}

fn offsets() -> impl Strategy<Value = i32> {
    prop_oneof![-127i32..=128, Just(-127), Just(128), Just(0)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 512 }))]

    #[test]
    fn dot_paths_agree(x in proptest::collection::vec(any::<u8>(), 0..300), seed in any::<u64>(), off in offsets(), cut in 0usize..4) {
        let f: Vec<u8> = x.iter().enumerate().map(|(i, _)| (seed.rotate_left(i as u32 % 64) as u8) ^ (i as u8).wrapping_mul(37)).collect();
        let want = naive(&x, &f, off);
        prop_assert_eq!(portable::dot(&x, &f, off), want);
        prop_assert_eq!(packed::dot(&x, &f, off), want);
        prop_assert_eq!(dot(&x, &f, off), want);
        // Unequal lengths: the common prefix counts.
        let short = &f[..f.len().saturating_sub(cut)];
        prop_assert_eq!(packed::dot(&x, short, off), naive(&x, short, off));
        let [a, b] = packed::dot2(&x, &f, short, off);
        let n = short.len();
        prop_assert_eq!([a, b], [naive(&x[..n], &f[..n], off), naive(&x, short, off)]);
        prop_assert_eq!(dot2(&x, &f, &f, off), [want, want]);
        let g: Vec<u8> = f.iter().rev().copied().collect();
        let want4 = [naive(&x, &f, off), naive(&x, &g, off), naive(&g, &f, off), naive(&g, &g, off)];
        prop_assert_eq!(packed::dot2x2(&x, &g, &f, &g, off), want4);
        prop_assert_eq!(dot2x2(&x, &g, &f, &g, off), want4);
    }

    #[test]
    fn extreme_values(len in 0usize..64, xb in prop_oneof![Just(0x80u8), Just(0x7f)], fb in prop_oneof![Just(0x80u8), Just(0x7f)], off in offsets()) {
        let x = std::vec![xb; len];
        let f = std::vec![fb; len];
        prop_assert_eq!(packed::dot(&x, &f, off), naive(&x, &f, off));
        prop_assert_eq!(packed::dot2(&x, &f, &x, off), [naive(&x, &f, off), naive(&x, &x, off)]);
    }

    #[test]
    fn mac4_paths_agree(acc in any::<[i32; 4]>(), x in any::<u32>(), f in any::<u32>(), off in offsets()) {
        let o2 = pack_offset(off);
        let mut want = acc;
        for (i, a) in want.iter_mut().enumerate() {
            let xv = (x >> (8 * i)) as u8 as i8 as i32;
            let fv = (f >> (8 * i)) as u8 as i8 as i32;
            *a = a.wrapping_add(fv * (xv + off));
        }
        let mut p = acc;
        portable::mac4(&mut p, x, f, o2);
        prop_assert_eq!(p, want);
        let mut q = acc;
        packed::mac4(&mut q, x, f, o2);
        prop_assert_eq!(q, want);

        let xo = (x as u8 as i8 as i32) + off;
        let mut want = acc;
        for (i, a) in want.iter_mut().enumerate() {
            *a = a.wrapping_add(((f >> (8 * i)) as u8 as i8 as i32) * xo);
        }
        let mut p = acc;
        portable::mac4_scalar(&mut p, xo, f);
        prop_assert_eq!(p, want);
        let mut q = acc;
        packed::mac4_scalar(&mut q, xo, f);
        prop_assert_eq!(q, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
    #[test]
    fn runs_match_naive(n in 0usize..12, xs in 1usize..9, fs in 4usize..12, off in prop_oneof![offsets(), Just(40_000)], seed in any::<u64>(), lanes in any::<bool>(), short in 0usize..3) {
        let xlen = (n.max(1) - 1) * xs + 4;
        let flen = (n.max(1) - 1) * fs + 4;
        let x: Vec<u8> = (0..xlen).map(|i| (seed >> (i % 57)) as u8 ^ (i as u8).wrapping_mul(29)).collect();
        let f: Vec<u8> = (0..flen).map(|i| (seed >> (i % 61)) as u8 ^ (i as u8).wrapping_mul(83)).collect();
        // Sometimes a slice too short for the run: the checked path counts missing bytes as 0.
        let f = &f[..flen.saturating_sub(short)];
        let init = [1, -2, 3, i32::MAX];
        let mut want = init;
        for k in 0..n {
            for (i, w) in want.iter_mut().enumerate() {
                let xv = x.get(k * xs + if lanes { i } else { 0 }).map_or(0, |&b| b as i8 as i32);
                let fv = f.get(k * fs + i).map_or(0, |&b| b as i8 as i32);
                *w = w.wrapping_add(fv.wrapping_mul(xv + off));
            }
        }
        let mut got = init;
        if lanes {
            mac4_run::<true>(&mut got, &x, xs, f, fs, n, off);
        } else {
            mac4_run::<false>(&mut got, &x, xs, f, fs, n, off);
        }
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
    /// The depthwise window kernel (rows of taps) against a naive loop, including slices
    /// too short for the grid (the checked fallback).
    #[test]
    fn grids_match_naive(n_in in 0usize..5, n_out in 0usize..5, x_in in 4usize..9, f_in in 4usize..9, x_out in 4usize..40, f_out in 4usize..40, off in prop_oneof![offsets(), Just(40_000)], seed in any::<u64>(), short in 0usize..3, blocks in 1usize..4) {
        let end = |s_in: usize, s_out: usize| (n_out.max(1) - 1) * s_out + (n_in.max(1) - 1) * s_in + 4 * blocks;
        let x: Vec<u8> = (0..end(x_in, x_out)).map(|i| (seed >> (i % 57)) as u8 ^ (i as u8).wrapping_mul(29)).collect();
        let f: Vec<u8> = (0..end(f_in, f_out)).map(|i| (seed >> (i % 61)) as u8 ^ (i as u8).wrapping_mul(83)).collect();
        let f = &f[..f.len().saturating_sub(short)];
        let init: Vec<i32> = (0..4 * blocks).map(|i| [7, -2, i32::MIN, i32::MAX][i % 4]).collect();
        let mut want = init.clone();
        for o in 0..n_out {
            for k in 0..n_in {
                for (i, w) in want.iter_mut().enumerate() {
                    let xv = x.get(o * x_out + k * x_in + i).map_or(0, |&b| b as i8 as i32);
                    let fv = f.get(o * f_out + k * f_in + i).map_or(0, |&b| b as i8 as i32);
                    *w = w.wrapping_add(fv.wrapping_mul(xv + off));
                }
            }
        }
        let mut got = init;
        mac4_grid(&mut got, &x, (x_in, x_out), f, (f_in, f_out), (n_in, n_out), off);
        prop_assert_eq!(got, want);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
    #[test]
    fn widened_kernels_match_naive(len in 0usize..90, off in offsets(), seed in any::<u64>()) {
        let gen = |salt: u8| -> Vec<u8> { (0..len).map(|i| (seed >> (i % 59)) as u8 ^ (i as u8).wrapping_mul(salt)).collect() };
        let (a, b) = (gen(31), gen(77));
        let f: Vec<Vec<u8>> = (0..4u8).map(|r| gen(13 + 2 * r)).collect();
        let k = len / 4;
        let cut = |v: &[u8]| v[..4 * k].to_vec();
        let mut w = std::vec![0u32; 4 * k + 4];
        prop_assert_eq!(wide::widen_pair(&a, &b, off, &mut w), k);
        let got = wide::dot2x2(&w, k, &f[0], &f[1]);
        let want = [naive(&cut(&a), &f[0], off), naive(&cut(&a), &f[1], off), naive(&cut(&b), &f[0], off), naive(&cut(&b), &f[1], off)];
        prop_assert_eq!(got, if k == 0 { [0; 4] } else { want });
        // Rows straight from an "image": a and b as 2 rows each, row_step 4 + len/2.
        if len % 8 == 0 && len > 0 {
            let half = len / 2;
            let step = half + 4;
            let mut img = std::vec![0u8; 2 * (half + step) + 8];
            img[..half].copy_from_slice(&a[..half]);
            img[step..step + half].copy_from_slice(&a[half..]);
            let bs = half + step + 4;
            img[bs..bs + half].copy_from_slice(&b[..half]);
            img[bs + step..bs + step + half].copy_from_slice(&b[half..]);
            let mut w2 = std::vec![0u32; 4 * k];
            prop_assert_eq!(wide::widen_pair_rows(&img, 0, bs, step, 2, half, off, &mut w2), k);
            prop_assert_eq!(&w2[..], &w[..4 * k]);
        }
        let mut w = std::vec![0u32; 2 * k];
        prop_assert_eq!(wide::widen(&a, off, &mut w), k);
        let got = wide::dot4(&w, k, [&f[0], &f[1], &f[2], &f[3]]);
        let want: Vec<i32> = f.iter().map(|r| naive(&cut(&a), r, off)).collect();
        prop_assert_eq!(got.to_vec(), if k == 0 { std::vec![0; 4] } else { want });
    }
}

#[test]
fn emulated_instructions() {
    use super::isa::*;
    assert_eq!(sxtb16(0x80_7f_ff_01), 0x007f_0001); // bytes 0 (1) and 2 (127)
    assert_eq!(sxtb16_ror8(0x80_7f_ff_01), 0xff80_ffff); // bytes 1 (-1) and 3 (-128)
                                                         // Lanes wrap independently: 0x7fff + 1 → 0x8000 in the low lane, no carry upward.
    assert_eq!(sxtab16(0x0001_7fff, 0x0000_0001), 0x0001_8000);
    assert_eq!(smlad(0x8000_8000, 0x8000_8000, 0), i32::MIN); // 2^30 + 2^30 wraps
    assert_eq!(smlabb(0x0000_fffe, 0x0000_0003, 10), 4);
    assert_eq!(smlatt(0xfffe_0000, 0x0003_0000, 10), 4);
    assert_eq!(smlatb(0xfffe_0000, 0x0000_0003, 10), 4);
    assert_eq!(pack_offset(-1), 0xffff_ffff);
    assert_eq!(word(&[1, 2, 3, 4, 5]), 0x0403_0201);
}
