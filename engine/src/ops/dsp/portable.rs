/// See [`super::dot`].
#[inline]
pub fn dot(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
    let mut acc = 0i32;
    for (&a, &b) in x.iter().zip(f) {
        acc = acc
            .wrapping_add((b as i8 as i32).wrapping_mul((a as i8 as i32).wrapping_add(x_offset)));
    }
    acc
}

/// See [`super::mac4`] (the packed offset's low lane is the offset).
#[inline(always)]
pub fn mac4(acc: &mut [i32; 4], x: u32, f: u32, offset2: u32) {
    let off = offset2 as u16 as i16 as i32;
    for (i, a) in acc.iter_mut().enumerate() {
        let xv = (x >> (8 * i)) as u8 as i8 as i32;
        let fv = (f >> (8 * i)) as u8 as i8 as i32;
        *a = a.wrapping_add(fv * (xv + off));
    }
}

/// See [`super::mac4_scalar`].
#[inline(always)]
pub fn mac4_scalar(acc: &mut [i32; 4], xo: i32, f: u32) {
    for (i, a) in acc.iter_mut().enumerate() {
        let fv = (f >> (8 * i)) as u8 as i8 as i32;
        *a = a.wrapping_add(fv.wrapping_mul(xo));
    }
}
