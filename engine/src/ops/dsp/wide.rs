#[cfg(not(mote_dsp_asm))]
use super::isa::{smlad, sxtb16, sxtb16_ror8};
use super::isa::{sxtab16, sxtab16_ror8};
use super::{pack_offset, word};

/// Widen `x` (its first `4 * k` bytes, `k = x.len() / 4`) into `out[2k]` as `[even, odd]`
/// per word; returns `k` (0 if `out` is too small).
pub fn widen(x: &[u8], x_offset: i32, out: &mut [u32]) -> usize {
    let k = x.len() / 4;
    let off2 = pack_offset(x_offset);
    let Some(out) = out.get_mut(..2 * k) else {
        return 0;
    };
    for (o, xw) in out.chunks_exact_mut(2).zip(x.chunks_exact(4)) {
        let v = word(xw);
        if let [e, d] = o {
            *e = sxtab16(off2, v);
            *d = sxtab16_ror8(off2, v);
        }
    }
    k
}

/// Widen two equally long inputs interleaved, `[a.even, a.odd, b.even, b.odd]` per word,
/// into `out[4k]`; returns `k` (0 if `out` is too small or the lengths differ).
pub fn widen_pair(a: &[u8], b: &[u8], x_offset: i32, out: &mut [u32]) -> usize {
    let k = a.len() / 4;
    let off2 = pack_offset(x_offset);
    let Some(out) = out.get_mut(..4 * k).filter(|_| a.len() == b.len()) else {
        return 0;
    };
    for ((o, aw), bw) in out
        .chunks_exact_mut(4)
        .zip(a.chunks_exact(4))
        .zip(b.chunks_exact(4))
    {
        let (va, vb) = (word(aw), word(bw));
        if let [ae, ao, be, bo] = o {
            *ae = sxtab16(off2, va);
            *ao = sxtab16_ror8(off2, va);
            *be = sxtab16(off2, vb);
            *bo = sxtab16_ror8(off2, vb);
        }
    }
    k
}

/// [`widen_pair`] of two windows read straight from an image: `rows` runs of `row_len`
/// bytes (a multiple of 4), one every `row_step` bytes, starting at byte `a` (resp. `b`)
/// of `img`. Returns the words per input (`rows * row_len / 4`), or 0 if a run is out of
/// `img`, `out` is too small or `row_len` is 0 or not a multiple of 4 (the caller then
/// gathers; a zero `row_len` would otherwise panic in `chunks_exact_mut`).
#[allow(clippy::too_many_arguments)]
pub fn widen_pair_rows(
    img: &[u8],
    a: usize,
    b: usize,
    row_step: usize,
    rows: usize,
    row_len: usize,
    x_offset: i32,
    out: &mut [u32],
) -> usize {
    let k = rows * row_len / 4;
    let last = |start: usize| start.checked_add((rows.max(1) - 1) * row_step + row_len);
    let fits = |start: usize| last(start).is_some_and(|end| end <= img.len());
    if !row_len.is_multiple_of(4)
        || row_len == 0
        || rows == 0
        || !fits(a)
        || !fits(b)
        || out.len() < 4 * k
    {
        return 0;
    }
    let off2 = pack_offset(x_offset);
    for (r, o) in out.chunks_exact_mut(row_len).take(rows).enumerate() {
        let (ra, rb) = (a + r * row_step, b + r * row_step);
        let (Some(xa), Some(xb)) = (img.get(ra..ra + row_len), img.get(rb..rb + row_len)) else {
            return 0;
        };
        for ((q, aw), bw) in o
            .chunks_exact_mut(4)
            .zip(xa.chunks_exact(4))
            .zip(xb.chunks_exact(4))
        {
            let (va, vb) = (word(aw), word(bw));
            if let [ae, ao, be, bo] = q {
                *ae = sxtab16(off2, va);
                *ao = sxtab16_ror8(off2, va);
                *be = sxtab16(off2, vb);
                *bo = sxtab16_ror8(off2, vb);
            }
        }
    }
    k
}

/// Whether `k` words of every filter row can be read.
fn rows_fit(k: usize, rows: &[&[u8]]) -> bool {
    rows.iter().all(|f| f.len() >= 4 * k)
}

/// Two widened inputs (`w` from [`widen_pair`], `k` words) against two filter rows:
/// `[a·f0, a·f1, b·f0, b·f1]` over the first `4k` bytes.
pub fn dot2x2(w: &[u32], k: usize, f0: &[u8], f1: &[u8]) -> [i32; 4] {
    if k == 0 || w.len() < 4 * k || !rows_fit(k, &[f0, f1]) {
        return [0; 4];
    }
    #[cfg(mote_dsp_asm)]
    {
        let (mut a0, mut a1, mut b0, mut b1) = (0i32, 0i32, 0i32, 0i32);
        let fs = (f1.as_ptr() as usize).wrapping_sub(f0.as_ptr() as usize);
        // SAFETY: w holds 4k words and f0/f1 at least 4k bytes (checked above); the loop
        // reads exactly those (LDM of 4 aligned words from w, one unaligned LDR per row per
        // iteration, f1 addressed as f0 + fs). r6/r7 (reserved by LLVM) are pushed before
        // use and popped after, so every register not listed is preserved; sp is restored.
        // SMLAD may set APSR.Q, which nothing reads.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                "2:",
                "ldm r0!, {{r4, r5, r6, r7}}",
                "ldr r8, [r1, r2]",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad r11, r4, r8, r11",
                "smlad r11, r5, r9, r11",
                "smlad lr, r6, r8, lr",
                "smlad lr, r7, r9, lr",
                "ldr r8, [r1], #4",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad r10, r4, r8, r10",
                "smlad r10, r5, r9, r10",
                "smlad r12, r6, r8, r12",
                "smlad r12, r7, r9, r12",
                "subs r3, r3, #1",
                "bne 2b",
                "pop {{r6, r7}}",
                inout("r0") w.as_ptr() => _,
                inout("r1") f0.as_ptr() => _,
                in("r2") fs,
                inout("r3") k => _,
                out("r4") _,
                out("r5") _,
                out("r8") _,
                out("r9") _,
                inout("r10") a0,
                inout("r11") a1,
                inout("r12") b0,
                inout("lr") b1,
                options(readonly),
            );
        }
        [a0, a1, b0, b1]
    }
    #[cfg(not(mote_dsp_asm))]
    {
        let mut acc = [0i32; 4];
        for (j, q) in w.chunks_exact(4).take(k).enumerate() {
            let (v0, v1) = (word(&f0[4 * j..]), word(&f1[4 * j..]));
            let (e0, o0, e1, o1) = (sxtb16(v0), sxtb16_ror8(v0), sxtb16(v1), sxtb16_ror8(v1));
            acc[0] = smlad(q[1], o0, smlad(q[0], e0, acc[0]));
            acc[1] = smlad(q[1], o1, smlad(q[0], e1, acc[1]));
            acc[2] = smlad(q[3], o0, smlad(q[2], e0, acc[2]));
            acc[3] = smlad(q[3], o1, smlad(q[2], e1, acc[3]));
        }
        acc
    }
}

/// One widened input (`w` from [`widen`], `k` words) against four filter rows:
/// `[x·f0, x·f1, x·f2, x·f3]` over the first `4k` bytes.
pub fn dot4(w: &[u32], k: usize, f: [&[u8]; 4]) -> [i32; 4] {
    if k == 0 || w.len() < 2 * k || !rows_fit(k, &f) {
        return [0; 4];
    }
    #[cfg(mote_dsp_asm)]
    {
        let (mut c0, mut c1, mut c2, mut c3) = (0i32, 0i32, 0i32, 0i32);
        let base = f[0].as_ptr() as usize;
        let d = |r: &[u8]| (r.as_ptr() as usize).wrapping_sub(base);
        // SAFETY: as in dot2x2: w holds 2k words, every row at least 4k bytes (checked), rows
        // 1..3 addressed as f0 + their offset; r6/r7 saved and restored around the loop.
        unsafe {
            core::arch::asm!(
                "push {{r6, r7}}",
                "2:",
                "ldm r0!, {{r6, r7}}",
                "ldr r8, [r1, r2]",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad r11, r6, r8, r11",
                "smlad r11, r7, r9, r11",
                "ldr r8, [r1, r3]",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad r12, r6, r8, r12",
                "smlad r12, r7, r9, r12",
                "ldr r8, [r1, r4]",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad lr, r6, r8, lr",
                "smlad lr, r7, r9, lr",
                "ldr r8, [r1], #4",
                "sxtb16 r9, r8, ror #8",
                "sxtb16 r8, r8",
                "smlad r10, r6, r8, r10",
                "smlad r10, r7, r9, r10",
                "subs r5, r5, #1",
                "bne 2b",
                "pop {{r6, r7}}",
                inout("r0") w.as_ptr() => _,
                inout("r1") f[0].as_ptr() => _,
                in("r2") d(f[1]),
                in("r3") d(f[2]),
                in("r4") d(f[3]),
                inout("r5") k => _,
                out("r8") _,
                out("r9") _,
                inout("r10") c0,
                inout("r11") c1,
                inout("r12") c2,
                inout("lr") c3,
                options(readonly),
            );
        }
        [c0, c1, c2, c3]
    }
    #[cfg(not(mote_dsp_asm))]
    {
        let mut acc = [0i32; 4];
        for (j, q) in w.chunks_exact(2).take(k).enumerate() {
            for (a, r) in acc.iter_mut().zip(f) {
                let v = word(&r[4 * j..]);
                *a = smlad(q[1], sxtb16_ror8(v), smlad(q[0], sxtb16(v), *a));
            }
        }
        acc
    }
}
