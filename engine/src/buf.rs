//! Moving samples down within a buffer without `memmove` (1.5 KB of library code on the M4
//! that nothing else in a microphone firmware needs): non-overlapping chunk copies instead.

/// Copies `buf[from..from + len]` to `buf[..len]` (`copy_within(from..from + len, 0)`), as
/// copies of at most `from` elements, whose source and destination never overlap. Out-of-range
/// parts are skipped (callers pass ranges inside `buf`); `from` = 0 copies nothing.
pub(crate) fn move_down<T: Copy>(buf: &mut [T], from: usize, len: usize) {
    let mut at = 0;
    while at < len && from > 0 {
        let n = from.min(len - at);
        // dst = buf[at..at + n] and src = buf[at + from..at + from + n]: disjoint as n ≤ from.
        let Some((low, high)) = buf.split_at_mut_checked(at + from) else {
            return;
        };
        if let (Some(dst), Some(src)) = (low.get_mut(at..at + n), high.get(..n)) {
            dst.copy_from_slice(src);
        }
        at += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_copy_within() {
        for len in 0..12 {
            for from in 0..14 {
                let mut a: [u8; 24] = core::array::from_fn(|i| i as u8);
                let mut b = a;
                move_down(&mut a, from, len);
                if from + len <= b.len() {
                    b.copy_within(from..from + len, 0);
                }
                assert_eq!(a, b, "from {from} len {len}");
            }
        }
    }
}
