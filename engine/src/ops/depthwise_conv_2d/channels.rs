//! The general path of DEPTHWISE_CONV_2D: per output pixel, channels four at a time (DSP
//! lanes) or chunked on the stack.

use super::*;

/// Output channels accumulated together per output pixel (the accumulators live on the stack).
const CHUNK: usize = 64;

/// The valid taps of one output pixel as a 2-D grid of (input offset, filter offset) pairs,
/// inner dimension first. Offsets are in bytes, relative to the image and the filter; the
/// channel offset is added by the caller.
#[derive(Clone, Copy)]
struct Taps {
    x0: usize,
    f0: usize,
    /// Inner steps (input, filter) and count.
    x_in: usize,
    f_in: usize,
    n_in: usize,
    /// Outer steps (input, filter) and count.
    x_out: usize,
    f_out: usize,
    n_out: usize,
}

/// Accumulate four output channels `c..c + 4` that share input channel `xc` (a depth
/// multiplier that is a multiple of 4) over every tap of `t` (see [`dsp::mac4_run`], one
/// input byte per tap); channels that read their own input channel take [`dsp::mac4_grid`]
/// instead.
#[inline(always)]
fn block4(img: &[u8], filter: &[u8], t: &Taps, c: usize, xc: usize, in_off: i32) -> [i32; 4] {
    let mut acc = [0i32; 4];
    for o in 0..t.n_out {
        let xs = img.get(t.x0 + o * t.x_out + xc..).unwrap_or(&[]);
        let fs = filter.get(t.f0 + o * t.f_out + c..).unwrap_or(&[]);
        dsp::mac4_run::<false>(&mut acc, xs, t.x_in, fs, t.f_in, t.n_in, in_off);
    }
    acc
}

/// The general path of [`eval`] (lengths checked): channels four at a time or chunked.
pub(super) fn channels(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let out_c = p.out_c as usize;
    let (fw, dh, dw) = (
        w.filter_w as usize,
        w.dilation_h as usize,
        w.dilation_w as usize,
    );
    let mult = p.depth_multiplier as usize;
    let in_img = in_h * in_w * in_c;
    let in_off = p.input_offset;
    let finish = |c: usize, a: i32| stage.apply(c, a);
    // Channels handled four at a time; the rest (from `packed_c` on) by the scalar path.
    let lanes = mult == 1;
    let packed_c = if dsp::offset_ok(in_off) && (lanes || mult.is_multiple_of(4)) {
        out_c - out_c % 4
    } else {
        0
    };

    let mut acc_blocks = [0i32; CHUNK];
    w.for_each_pixel(
        input,
        in_img,
        output,
        out_c,
        |img, (y0, ty0, ty1), (x0, tx0, tx1), out| {
            if ty0 >= ty1 || tx0 >= tx1 {
                // No tap inside the image: every accumulator is 0.
                for (c, o) in out.iter_mut().enumerate() {
                    *o = finish(c, 0);
                }
                return Ok(());
            }
            if packed_c > 0 {
                // taps() guarantees the first tap lies inside the image.
                let iy = (y0 + (ty0 * dh) as i32) as usize;
                let ix = (x0 + (tx0 * dw) as i32) as usize;
                let (nx, ny) = (tx1 - tx0, ty1 - ty0);
                let (xs_x, fs_x) = (dw * in_c, out_c);
                let (xs_y, fs_y) = (dh * in_w * in_c, fw * out_c);
                let base = Taps {
                    x0: (iy * in_w + ix) * in_c,
                    f0: (ty0 * fw + tx0) * out_c,
                    x_in: xs_x,
                    f_in: fs_x,
                    n_in: nx,
                    x_out: xs_y,
                    f_out: fs_y,
                    n_out: ny,
                };
                // Longer runs inside: a column filter (fw == 1) walks rows as its inner loop.
                let t = if nx == 1 {
                    Taps {
                        x_in: xs_y,
                        f_in: fs_y,
                        n_in: ny,
                        x_out: xs_x,
                        f_out: fs_x,
                        n_out: 1,
                        ..base
                    }
                } else {
                    base
                };
                // Accumulators for up to CHUNK channels, then one output-stage call for
                // them all (its set-up is paid per call, not per block of four).
                let mut c = 0;
                while c < packed_c {
                    let n = (packed_c - c).min(CHUNK);
                    let acc = &mut acc_blocks[..n];
                    acc.fill(0);
                    if lanes {
                        let xs = img.get(t.x0 + c..).unwrap_or(&[]);
                        let fs = filter.get(t.f0 + c..).unwrap_or(&[]);
                        let (xst, fst) = ((t.x_in, t.x_out), (t.f_in, t.f_out));
                        dsp::mac4_grid(acc, xs, xst, fs, fst, (t.n_in, t.n_out), in_off);
                    } else {
                        for (b, a4) in acc.chunks_exact_mut(4).enumerate() {
                            let cc = c + 4 * b;
                            a4.copy_from_slice(&block4(img, filter, &t, cc, cc / mult, in_off));
                        }
                    }
                    stage.store(c, acc, &mut out[c..c + n]);
                    c += n;
                }
            }
            let mut c0 = packed_c;
            while c0 < out_c {
                // Chunks hold whole groups of `mult` channels (one input channel each), or,
                // when one group exceeds CHUNK, lie inside a single group.
                let n = if mult <= CHUNK {
                    ((CHUNK / mult) * mult).min(out_c - c0)
                } else {
                    CHUNK.min(mult - c0 % mult)
                };
                let ic0 = c0 / mult;
                let mut acc_buf = [0i32; CHUNK];
                let acc = &mut acc_buf[..n];
                for ty in ty0..ty1 {
                    // taps() guarantees both coordinates are inside the image.
                    let iy = (y0 + (ty * dh) as i32) as usize;
                    for tx in tx0..tx1 {
                        let ix = (x0 + (tx * dw) as i32) as usize;
                        let px = &img[(iy * in_w + ix) * in_c..(iy * in_w + ix + 1) * in_c];
                        let fo = (ty * fw + tx) * out_c + c0;
                        let f = &filter[fo..fo + n];
                        if mult == 1 {
                            for ((a, &fv), &xv) in acc.iter_mut().zip(f).zip(&px[c0..c0 + n]) {
                                *a = a.wrapping_add(fv as i8 as i32 * (xv as i8 as i32 + in_off));
                            }
                        } else if mult <= CHUNK {
                            let groups = acc.chunks_exact_mut(mult).zip(f.chunks_exact(mult));
                            for ((ag, fg), &xv) in groups.zip(&px[ic0..]) {
                                let xv = xv as i8 as i32 + in_off;
                                for (a, &fv) in ag.iter_mut().zip(fg) {
                                    *a = a.wrapping_add(fv as i8 as i32 * xv);
                                }
                            }
                        } else {
                            let xv = px[ic0] as i8 as i32 + in_off;
                            for (a, &fv) in acc.iter_mut().zip(f) {
                                *a = a.wrapping_add(fv as i8 as i32 * xv);
                            }
                        }
                    }
                }
                for (j, (o, &a)) in out[c0..c0 + n].iter_mut().zip(acc.iter()).enumerate() {
                    *o = finish(c0 + j, a);
                }
                c0 += n;
            }
            Ok(())
        },
    )
}
