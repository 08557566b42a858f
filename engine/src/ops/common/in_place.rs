//! Windowed kernels in place: the output may overlap the input from below, as far as the
//! kernels' access order allows (TinyEngine-style partial overlap; TFLM never overlaps them).
//!
//! CONV_2D and DEPTHWISE_CONV_2D compute output rows in order (batch, then row), and output
//! row `oy` reads no input row before its first tap inside the input, `first_row(oy)`. So if
//! every byte written up to the end of row `oy` lies below the first byte of input row
//! `first_row(oy)`, no input byte is overwritten before its last read, whatever order a
//! strategy uses within a row (pixel pairs, channel batches, widened patches on the M4).
//! [`rows_in_place`] makes that structural rather than assumed: for each output row it splits
//! the one exclusive view at that input byte and hands the kernel the output row from below
//! the split and the input rows from above it (the same window shifted by `first_row(oy)`
//! rows), so a kernel cannot read a byte it or an earlier row wrote; a row whose output would
//! cross the split is an error, never a wrong result. [`in_place_gap`] is the least
//! `input offset − output offset` for which no row is refused.

use super::*;
use crate::ops::InPlace;

/// Output row `oy`'s first input row read and the window that computes that one row from the
/// input rows from there on (one batch); `None` if the row reads no input row, or the shifted
/// window does not fit [`Window2D`]'s fields.
fn row_window(w: &Window2D, oy: usize) -> Option<(usize, Window2D)> {
    let (origin, t0, t1) = w.taps(oy, true);
    if t0 >= t1 {
        return None;
    }
    // taps(): origin + t0 * dilation is the first row inside the input (>= 0).
    let first = origin as i64 + t0 as i64 * w.dilation_h as i64;
    let mut r = *w;
    r.batches = 1;
    r.out_h = 1;
    r.in_h = u16::try_from(w.in_h as i64 - first).ok()?;
    // Row 0 of the shifted window starts at input row origin - first: the same taps t0..t1
    // land inside, on the same input rows.
    r.pad_h = u16::try_from(first - origin as i64).ok()?;
    Some((usize::try_from(first).ok()?, r))
}

/// The least `input offset − output offset` (bytes, may be negative) at which a kernel over
/// window `w` (`in_c` input and `out_c` output channels) may run through [`rows_in_place`];
/// `None` if some output row reads no input, or the output would have to end at or below the
/// input's start anyway (nothing to gain).
pub fn in_place_gap(w: &Window2D, in_c: usize, out_c: usize) -> Option<i32> {
    let in_row = w.in_w as i64 * in_c as i64;
    let in_img = w.in_h as i64 * in_row;
    let out_row = w.out_w as i64 * out_c as i64;
    let out_img = w.out_h as i64 * out_row;
    let batches = w.batches as i64;
    if batches == 0 || out_img == 0 {
        return None;
    }
    let mut gap = i64::MIN;
    for oy in 0..w.out_h as usize {
        let (first, _) = row_window(w, oy)?;
        // End of output row oy minus its first input byte, in batch 0; batch b adds
        // b * (out_img - in_img), largest at the first or the last batch.
        let d = (oy as i64 + 1) * out_row - first as i64 * in_row;
        gap = gap.max(d + (batches - 1) * (out_img - in_img).max(0));
    }
    if gap >= batches * out_img {
        return None;
    }
    i32::try_from(gap).ok()
}

/// Run a windowed kernel in place, one output row at a time: `row(window, input, output)`
/// computes the single output row of `window` (one batch, `out_h == 1`) from `input` (that
/// window's rows: `window.in_h` rows of `w.in_w * in_c` bytes) into `output`.
pub fn rows_in_place(
    w: &Window2D,
    in_c: usize,
    out_c: usize,
    io: InPlace<'_>,
    mut row: impl FnMut(&Window2D, &[u8], &mut [u8]) -> Result<(), Error>,
) -> Result<(), Error> {
    let (in_h, in_row) = (w.in_h as usize, w.in_w as usize * in_c);
    let (out_h, out_row) = (w.out_h as usize, w.out_w as usize * out_c);
    let batches = w.batches as usize;
    let (in_img, out_img) = (in_h * in_row, out_h * out_row);
    let bytes = io.bytes;
    let fits = |at: usize, n: usize| at.checked_add(n).is_some_and(|e| e <= bytes.len());
    if !fits(io.input, batches * in_img) || !fits(io.output, batches * out_img) {
        return Err(Error::InvalidGraph {
            what: "in place: operand outside its view",
            index: -1,
        });
    }
    let deep = Error::InvalidGraph {
        what: "in place: an output row would overwrite input still to be read",
        index: -1,
    };
    for b in 0..batches {
        for oy in 0..out_h {
            let (first, win) = row_window(w, oy).ok_or(deep)?;
            let split = io.input + b * in_img + first * in_row;
            let out_at = io.output + b * out_img + oy * out_row;
            if out_at + out_row > split {
                return Err(deep);
            }
            let (below, above) = bytes.split_at_mut(split);
            let out = below.get_mut(out_at..out_at + out_row).ok_or(deep)?;
            let img = above.get(..(in_h - first) * in_row).ok_or(deep)?;
            row(&win, img, out)?;
        }
    }
    Ok(())
}
