//! The patch paths of CONV_2D (one group): each output pixel's receptive field as one run of
//! bytes, straight from the input ([`direct`]) or gathered into a stack buffer ([`gathered`],
//! [`pixel`]), with the DSP strategies that widen it once and reuse it for several filters.

use super::*;

/// Words of the widened-input buffer (see [`dsp::wide`]): two patches of up to [`PATCH`]
/// bytes, or one pixel's receptive field of up to `2 * PATCH` bytes.
#[cfg(mote_dsp)]
const WIDE: usize = PATCH;

/// Scratch for the widened inputs ([`WIDE`] words on DSP cores; nothing elsewhere).
#[cfg(mote_dsp)]
pub(super) type WideBuf = [u32; WIDE];
#[cfg(not(mote_dsp))]
pub(super) type WideBuf = [u32; 0];

/// Output channels whose accumulators [`pixel`] collects before one [`OutputStage::store`]
/// (a multiple of 4: the call's set-up is paid once per batch, not per group of filters).
const BATCH: usize = 32;

/// All channels of one pixel from its patch: on DSP cores four filters at a time against the
/// widened patch (if it fits `wbuf`), then two at a time on the raw bytes; the accumulators
/// are stored in batches of [`BATCH`] channels.
#[inline(never)]
pub(super) fn pixel(
    patch: &[u8],
    filter: &[u8],
    f_chan: usize,
    in_off: i32,
    stage: &OutputStage<'_>,
    out: &mut [u8],
    wbuf: &mut WideBuf,
) {
    let mut c = 0;
    let mut accs = [0i32; BATCH];
    #[cfg(not(mote_dsp))]
    let _ = wbuf;
    #[cfg(mote_dsp)]
    if dsp::offset_ok(in_off) && 2 * (f_chan / 4) <= wbuf.len() {
        let k = dsp::wide::widen(patch, in_off, wbuf);
        let xt = patch.get(4 * k..).unwrap_or(&[]);
        // Whole groups of four filters (only the last batch can end with fewer; those go to
        // the pairs below).
        for (b, fb) in out.chunks_mut(BATCH).zip(filter.chunks(BATCH * f_chan)) {
            let mut n = 0;
            for (a4, f) in accs.chunks_exact_mut(4).zip(fb.chunks_exact(4 * f_chan)) {
                let (r01, r23) = f.split_at(2 * f_chan);
                let (r0, r1) = r01.split_at(f_chan);
                let (r2, r3) = r23.split_at(f_chan);
                let mut acc = dsp::wide::dot4(wbuf, k, [r0, r1, r2, r3]);
                if !xt.is_empty() {
                    for (a, r) in acc.iter_mut().zip([r0, r1, r2, r3]) {
                        *a = a.wrapping_add(dsp::portable::dot(
                            xt,
                            r.get(4 * k..).unwrap_or(&[]),
                            in_off,
                        ));
                    }
                }
                a4.copy_from_slice(&acc);
                n += 4;
            }
            stage.store(c, accs.get(..n).unwrap_or(&[]), b);
            c += n;
        }
    }
    let (out, filter) = (
        out.get_mut(c..).unwrap_or(&mut []),
        filter.get(c * f_chan..).unwrap_or(&[]),
    );
    // Pairs of filters, then at most one more (only the last batch can be odd).
    for (b, fb) in out.chunks_mut(BATCH).zip(filter.chunks(BATCH * f_chan)) {
        let mut n = 0;
        let mut fils = fb.chunks_exact(2 * f_chan);
        for (a2, f) in accs.chunks_exact_mut(2).zip(&mut fils) {
            let (f0, f1) = f.split_at(f_chan);
            a2.copy_from_slice(&dsp::dot2(patch, f0, f1, in_off));
            n += 2;
        }
        stage.store(c, accs.get(..n).unwrap_or(&[]), b);
        c += n;
        if let Some(o) = b.get_mut(n) {
            *o = stage.apply(c, dsp::dot(patch, fils.remainder(), in_off));
        }
    }
}

/// The patch path when every window is contiguous in the input (one group).
#[inline(never)]
pub(super) fn direct(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let mut wbuf: WideBuf = [0; core::mem::size_of::<WideBuf>() / 4];
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let out_c = p.out_c as usize;
    let f_chan = w.filter_h as usize * w.filter_w as usize * in_c;
    let in_img = in_h * in_w * in_c;
    w.for_each_pixel(
        input,
        in_img,
        output,
        out_c,
        |img, (y0, _, _), (x0, _, _), out| {
            // Full windows: y0, x0 >= 0, and the window lies inside the image.
            let start = (y0 as usize * in_w + x0 as usize) * in_c;
            let patch = img.get(start..start + f_chan).ok_or(Error::InvalidGraph {
                what: "CONV_2D window",
                index: 0,
            })?;
            pixel(patch, filter, f_chan, p.input_offset, stage, out, &mut wbuf);
            Ok(())
        },
    )
}

/// Copy the receptive field of output pixel (`y`, `x`) into `dst` (`fh * fw * in_c` bytes),
/// padding taps set to `pad`.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn gather(
    dst: &mut [u8],
    img: &[u8],
    w: &Window2D,
    in_c: usize,
    (y0, ty0, ty1): (i32, usize, usize),
    (x0, tx0, tx1): (i32, usize, usize),
    pad: u8,
) {
    let (in_w, fw) = (w.in_w as usize, w.filter_w as usize);
    let (dh, dw) = (w.dilation_h as usize, w.dilation_w as usize);
    let in_row = in_w * in_c;
    for (ty, d) in dst.chunks_exact_mut(fw * in_c).enumerate() {
        if ty < ty0 || ty >= ty1 {
            d.fill(pad);
            continue;
        }
        // taps() guarantees 0 <= y0 + ty*dh < in_h and likewise for the columns tx0..tx1.
        let iy = (y0 + (ty * dh) as i32) as usize;
        let row = img.get(iy * in_row..(iy + 1) * in_row).unwrap_or(&[]);
        let (head, rest) = d.split_at_mut(tx0 * in_c);
        let (mid, tail) = rest.split_at_mut((tx1 - tx0) * in_c);
        // Interior windows have no padding columns: skip the (call-heavy) empty fills.
        if !head.is_empty() {
            head.fill(pad);
        }
        if !tail.is_empty() {
            tail.fill(pad);
        }
        if dw == 1 {
            let ix = (x0 + tx0 as i32) as usize;
            copy_small(mid, row.get(ix * in_c..).unwrap_or(&[]));
        } else {
            for (k, m) in mid.chunks_exact_mut(in_c).enumerate() {
                let ix = (x0 + ((tx0 + k) * dw) as i32) as usize;
                copy_small(m, row.get(ix * in_c..).unwrap_or(&[]));
            }
        }
    }
}

/// `dst.copy_from_slice(&src[..dst.len()])` for the short runs of a gather, a word at a time
/// without a `memcpy` call (short slices are the common case here).
#[inline(always)]
fn copy_small(dst: &mut [u8], src: &[u8]) {
    let src = src.get(..dst.len()).unwrap_or(src);
    let mut d = dst.chunks_exact_mut(4);
    let mut s = src.chunks_exact(4);
    for (dw, sw) in (&mut d).zip(&mut s) {
        dw.copy_from_slice(sw);
    }
    let s = s.remainder();
    for (db, sb) in d.into_remainder().iter_mut().zip(s) {
        *db = *sb;
    }
}

/// The patch path with gathering (one group, receptive field <= [`PATCH`] bytes): pixels in
/// pairs along each output row, two filters at a time. `buf` holds two patches.
/// Out of line (like [`direct`]), so its buffers are only on the stack while it runs.
#[inline(never)]
pub(super) fn gathered(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
    pad: u8,
) -> Result<(), Error> {
    let mut buf = [0u8; 2 * PATCH];
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let (out_h, out_w, out_c) = (w.out_h as usize, w.out_w as usize, p.out_c as usize);
    let (fh, fw) = (w.filter_h as usize, w.filter_w as usize);
    let f_chan = fh * fw * in_c;
    let in_off = p.input_offset;
    let (pa, pb) = buf.split_at_mut(PATCH);
    let (pa, pb) = (&mut pa[..f_chan], &mut pb[..f_chan]);
    let mut wbuf: WideBuf = [0; core::mem::size_of::<WideBuf>() / 4];
    // Accumulators of up to GROUP channels per pixel, requantized together (the output stage's
    // set-up is paid per group). Every slot is written before it is read.
    const GROUP: usize = 32;
    let (mut acc_a, mut acc_b) = ([0i32; GROUP], [0i32; GROUP]);
    let mut out_px = output.chunks_exact_mut(out_c);
    for img in input
        .chunks_exact(in_h * in_w * in_c)
        .take(w.batches as usize)
    {
        for oy in 0..out_h {
            let ys = w.taps(oy, true);
            let mut ox = 0;
            while ox + 1 < out_w {
                let (xa, xb) = (w.taps(ox, false), w.taps(ox + 1, false));
                // On DSP cores both windows are widened once, interleaved, for dot2x2: straight
                // from the image when they lie inside it with contiguous rows, else gathered.
                // Whether `pa`/`pb` hold this pair's patches: the direct DSP path below widens
                // straight from the image and leaves them stale (the previous pair's), so the
                // odd last channel must gather them before it reads them.
                #[cfg(mote_dsp)]
                let mut patches_ready = true;
                #[cfg(mote_dsp)]
                let k = {
                    let inside = |(x0, t0, t1): (i32, usize, usize)| x0 >= 0 && t0 == 0 && t1 == fw;
                    let direct = dsp::offset_ok(in_off)
                        && w.dilation_w == 1
                        && ys.0 >= 0
                        && ys.1 == 0
                        && ys.2 == fh
                        && inside(xa)
                        && inside(xb);
                    let row = |x0: i32| (ys.0 as usize * in_w + x0 as usize) * in_c;
                    let step = w.dilation_h as usize * in_w * in_c;
                    // (Rows of a multiple of 4 bytes only, so no tail bytes are read from pa/pb.)
                    let k = if direct {
                        dsp::wide::widen_pair_rows(
                            img,
                            row(xa.0),
                            row(xb.0),
                            step,
                            fh,
                            fw * in_c,
                            in_off,
                            &mut wbuf,
                        )
                    } else {
                        0
                    };
                    if k > 0 {
                        patches_ready = false;
                        k
                    } else {
                        gather(pa, img, w, in_c, ys, xa, pad);
                        gather(pb, img, w, in_c, ys, xb, pad);
                        if dsp::offset_ok(in_off) {
                            dsp::wide::widen_pair(pa, pb, in_off, &mut wbuf)
                        } else {
                            0
                        }
                    }
                };
                #[cfg(not(mote_dsp))]
                {
                    gather(pa, img, w, in_c, ys, xa, pad);
                    gather(pb, img, w, in_c, ys, xb, pad);
                }
                let (Some(oa), Some(ob)) = (out_px.next(), out_px.next()) else {
                    return Ok(());
                };
                let mut fils = filter.chunks_exact(2 * f_chan);
                let mut c = 0;
                for f in &mut fils {
                    let (f0, f1) = f.split_at(f_chan);
                    #[cfg(mote_dsp)]
                    let [a0, a1, b0, b1] = if k > 0 {
                        let mut acc = dsp::wide::dot2x2(&wbuf, k, f0, f1);
                        if f_chan % 4 != 0 {
                            let t = |x: &[u8], r: &[u8]| {
                                dsp::portable::dot(
                                    x.get(4 * k..).unwrap_or(&[]),
                                    r.get(4 * k..).unwrap_or(&[]),
                                    in_off,
                                )
                            };
                            for (a, (x, r)) in
                                acc.iter_mut()
                                    .zip([(&*pa, f0), (pa, f1), (pb, f0), (pb, f1)])
                            {
                                *a = a.wrapping_add(t(x, r));
                            }
                        }
                        acc
                    } else {
                        dsp::dot2x2(pa, pb, f0, f1, in_off)
                    };
                    #[cfg(not(mote_dsp))]
                    let [a0, a1, b0, b1] = dsp::dot2x2(pa, pb, f0, f1, in_off);
                    let j = c % GROUP;
                    if let (Some(a), Some(b)) = (acc_a.get_mut(j..j + 2), acc_b.get_mut(j..j + 2)) {
                        a.copy_from_slice(&[a0, a1]);
                        b.copy_from_slice(&[b0, b1]);
                    }
                    c += 2;
                    if c % GROUP == 0 || c + 1 >= out_c {
                        let c0 = (c - 1) / GROUP * GROUP;
                        let (qa, qb) = (
                            oa.get_mut(c0..).unwrap_or(&mut []),
                            ob.get_mut(c0..).unwrap_or(&mut []),
                        );
                        stage.store_pair(c0, &acc_a[..c - c0], &acc_b[..c - c0], qa, qb);
                    }
                }
                let f = fils.remainder();
                #[cfg(mote_dsp)]
                if !patches_ready && !f.is_empty() {
                    gather(pa, img, w, in_c, ys, xa, pad);
                    gather(pb, img, w, in_c, ys, xb, pad);
                }
                if let (Some(o), Some(q)) = (oa.get_mut(c), ob.get_mut(c)) {
                    *o = stage.apply(c, dsp::dot(pa, f, in_off));
                    *q = stage.apply(c, dsp::dot(pb, f, in_off));
                }
                ox += 2;
            }
            if ox < out_w {
                gather(pa, img, w, in_c, ys, w.taps(ox, false), pad);
                let Some(out) = out_px.next() else {
                    return Ok(());
                };
                pixel(pa, filter, f_chan, in_off, stage, out, &mut wbuf);
            }
        }
    }
    Ok(())
}
