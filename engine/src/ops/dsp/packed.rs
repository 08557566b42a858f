use super::isa::*;
use super::{pack_offset, word};

/// See [`super::dot`].
#[inline(always)]
pub fn dot(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
    let n = x.len().min(f.len());
    let (x, f) = (x.get(..n).unwrap_or(&[]), f.get(..n).unwrap_or(&[]));
    let off2 = pack_offset(x_offset);
    let mut acc = 0i32;
    let (xc, fc) = (x.chunks_exact(4), f.chunks_exact(4));
    let (xr, fr) = (xc.remainder(), fc.remainder());
    for (xw, fw) in xc.zip(fc) {
        let (xv, fv) = (word(xw), word(fw));
        acc = smlad(sxtab16(off2, xv), sxtb16(fv), acc);
        acc = smlad(sxtab16_ror8(off2, xv), sxtb16_ror8(fv), acc);
    }
    acc.wrapping_add(super::portable::dot(xr, fr, x_offset))
}

/// See [`super::dot2`].
#[inline(always)]
pub fn dot2(x: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 2] {
    let n = x.len().min(f0.len()).min(f1.len());
    let x = x.get(..n).unwrap_or(&[]);
    let (f0, f1) = (f0.get(..n).unwrap_or(&[]), f1.get(..n).unwrap_or(&[]));
    let off2 = pack_offset(x_offset);
    let (mut a0, mut a1) = (0i32, 0i32);
    let (xc, c0, c1) = (x.chunks_exact(4), f0.chunks_exact(4), f1.chunks_exact(4));
    let (xr, r0, r1) = (xc.remainder(), c0.remainder(), c1.remainder());
    for ((xw, w0), w1) in xc.zip(c0).zip(c1) {
        let xv = word(xw);
        let (xe, xo) = (sxtab16(off2, xv), sxtab16_ror8(off2, xv));
        let v0 = word(w0);
        a0 = smlad(xe, sxtb16(v0), a0);
        a0 = smlad(xo, sxtb16_ror8(v0), a0);
        let v1 = word(w1);
        a1 = smlad(xe, sxtb16(v1), a1);
        a1 = smlad(xo, sxtb16_ror8(v1), a1);
    }
    // The last len % 4 bytes, one at a time.
    for ((&x, &u), &v) in xr.iter().zip(r0).zip(r1) {
        let x = (x as i8 as i32).wrapping_add(x_offset);
        a0 = a0.wrapping_add((u as i8 as i32).wrapping_mul(x));
        a1 = a1.wrapping_add((v as i8 as i32).wrapping_mul(x));
    }
    [a0, a1]
}

/// See [`super::dot2x2`].
#[inline(always)]
pub fn dot2x2(a: &[u8], b: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 4] {
    let n = a.len().min(b.len()).min(f0.len()).min(f1.len());
    let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
    let (f0, f1) = (f0.get(..n).unwrap_or(&[]), f1.get(..n).unwrap_or(&[]));
    let off2 = pack_offset(x_offset);
    let (mut a0, mut a1, mut b0, mut b1) = (0i32, 0i32, 0i32, 0i32);
    let (ac, bc, c0, c1) = (
        a.chunks_exact(4),
        b.chunks_exact(4),
        f0.chunks_exact(4),
        f1.chunks_exact(4),
    );
    let (ar, br, r0, r1) = (
        ac.remainder(),
        bc.remainder(),
        c0.remainder(),
        c1.remainder(),
    );
    for (((aw, bw), w0), w1) in ac.zip(bc).zip(c0).zip(c1) {
        let (av, bv) = (word(aw), word(bw));
        let (ae, ao) = (sxtab16(off2, av), sxtab16_ror8(off2, av));
        let (be, bo) = (sxtab16(off2, bv), sxtab16_ror8(off2, bv));
        let v0 = word(w0);
        let (e0, o0) = (sxtb16(v0), sxtb16_ror8(v0));
        a0 = smlad(ae, e0, a0);
        a0 = smlad(ao, o0, a0);
        b0 = smlad(be, e0, b0);
        b0 = smlad(bo, o0, b0);
        let v1 = word(w1);
        let (e1, o1) = (sxtb16(v1), sxtb16_ror8(v1));
        a1 = smlad(ae, e1, a1);
        a1 = smlad(ao, o1, a1);
        b1 = smlad(be, e1, b1);
        b1 = smlad(bo, o1, b1);
    }
    // The last len % 4 bytes, one at a time.
    for (((&x, &y), &u), &v) in ar.iter().zip(br).zip(r0).zip(r1) {
        let (x, y) = (
            (x as i8 as i32).wrapping_add(x_offset),
            (y as i8 as i32).wrapping_add(x_offset),
        );
        let (u, v) = (u as i8 as i32, v as i8 as i32);
        a0 = a0.wrapping_add(u.wrapping_mul(x));
        a1 = a1.wrapping_add(v.wrapping_mul(x));
        b0 = b0.wrapping_add(u.wrapping_mul(y));
        b1 = b1.wrapping_add(v.wrapping_mul(y));
    }
    [a0, a1, b0, b1]
}

/// See [`super::mac4`]: lanes 0/2 come from the plain `SXTB16`, 1/3 from the rotated one.
#[inline(always)]
pub fn mac4(acc: &mut [i32; 4], x: u32, f: u32, offset2: u32) {
    let (xe, xo) = (sxtab16(offset2, x), sxtab16_ror8(offset2, x));
    let (fe, fo) = (sxtb16(f), sxtb16_ror8(f));
    acc[0] = smlabb(xe, fe, acc[0]);
    acc[1] = smlabb(xo, fo, acc[1]);
    acc[2] = smlatt(xe, fe, acc[2]);
    acc[3] = smlatt(xo, fo, acc[3]);
}

/// See [`super::mac4_scalar`].
#[inline(always)]
pub fn mac4_scalar(acc: &mut [i32; 4], xo: i32, f: u32) {
    let (fe, fo) = (sxtb16(f), sxtb16_ror8(f));
    let x = xo as u32;
    acc[0] = smlabb(fe, x, acc[0]);
    acc[1] = smlabb(fo, x, acc[1]);
    acc[2] = smlatb(fe, x, acc[2]);
    acc[3] = smlatb(fo, x, acc[3]);
}
