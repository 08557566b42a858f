//! Byte copies for the data-movement kernels (STRIDED_SLICE, SPLIT / SPLIT_V, CONCATENATION,
//! READ_VARIABLE / ASSIGN_VARIABLE): their rows are short (tens of bytes in the streaming
//! keyword models), where a call to `memcpy` costs more than the copy.

/// Copies `src` into `dst` (the shorter length; the callers pass equal ones): 16 bytes at a
/// time as fixed-size arrays (word loads and stores, inlined; the M4 allows unaligned word
/// access), then 4, then single bytes.
#[inline]
pub fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    let mut d16 = dst.chunks_exact_mut(16);
    let mut s16 = src.chunks_exact(16);
    for (d, s) in (&mut d16).zip(&mut s16) {
        if let (Ok(d), Ok(s)) = (<&mut [u8; 16]>::try_from(d), <&[u8; 16]>::try_from(s)) {
            *d = *s;
        }
    }
    let mut d4 = d16.into_remainder().chunks_exact_mut(4);
    let mut s4 = s16.remainder().chunks_exact(4);
    for (d, s) in (&mut d4).zip(&mut s4) {
        if let (Ok(d), Ok(s)) = (<&mut [u8; 4]>::try_from(d), <&[u8; 4]>::try_from(s)) {
            *d = *s;
        }
    }
    for (d, &s) in d4.into_remainder().iter_mut().zip(s4.remainder()) {
        *d = s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_every_length_and_offset() {
        let src: std::vec::Vec<u8> = (0..80u8).collect();
        for off in 0..4 {
            for len in 0..=(80 - off) {
                let mut dst = [0xAAu8; 84];
                copy_bytes(&mut dst[off..off + len], &src[off..off + len]);
                assert_eq!(&dst[off..off + len], &src[off..off + len]);
                assert!(dst[..off]
                    .iter()
                    .chain(&dst[off + len..])
                    .all(|&b| b == 0xAA));
            }
        }
    }
}
