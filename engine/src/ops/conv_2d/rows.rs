//! The general path of CONV_2D: one dot product per valid filter row.

use super::*;

/// The general path of [`eval`]: grouped filters, large receptive fields, or an input zero
/// point outside int8. One dot product per valid filter row (or per tap when the row is not
/// contiguous).
#[inline(never)]
pub(super) fn by_rows(
    p: &Params,
    input: &[u8],
    filter: &[u8],
    stage: &OutputStage<'_>,
    output: &mut [u8],
) -> Result<(), Error> {
    let w = &p.win;
    let (in_h, in_w, in_c) = (w.in_h as usize, w.in_w as usize, p.in_c as usize);
    let out_c = p.out_c as usize;
    let (fh, fw, fic) = (
        w.filter_h as usize,
        w.filter_w as usize,
        p.filter_in_c as usize,
    );
    let (dh, dw) = (w.dilation_h as usize, w.dilation_w as usize);

    let in_row = in_w * in_c;
    let in_img = in_h * in_row;
    let f_row = fw * fic;
    let f_chan = fh * f_row;

    let groups = p.groups as usize;
    let per_group = out_c / groups;
    let in_off = p.input_offset;
    // With unit horizontal dilation and one group, a filter row's valid taps and the input
    // pixels under them are both contiguous: one dot product per filter row.
    let row_contiguous = dw == 1 && groups == 1;

    w.for_each_pixel(
        input,
        in_img,
        output,
        out_c,
        |img, (y0, ty0, ty1), (x0, tx0, tx1), out| {
            for (c, (o, fil)) in out.iter_mut().zip(filter.chunks_exact(f_chan)).enumerate() {
                let g_base = if groups == 1 {
                    0
                } else {
                    (c / per_group) * fic
                };
                let mut acc = 0i32;
                for ty in ty0..ty1 {
                    // taps() guarantees 0 <= y0 + ty*dh < in_h for ty in ty0..ty1.
                    let iy = (y0 + (ty * dh) as i32) as usize;
                    let irow = &img[iy * in_row..(iy + 1) * in_row];
                    let frow = &fil[ty * f_row..(ty + 1) * f_row];
                    if row_contiguous {
                        let ix = (x0 + tx0 as i32) as usize;
                        let n = (tx1 - tx0) * in_c;
                        acc = acc.wrapping_add(dot_i8(
                            &irow[ix * in_c..ix * in_c + n],
                            &frow[tx0 * fic..tx0 * fic + n],
                            in_off,
                        ));
                    } else {
                        for tx in tx0..tx1 {
                            let ix = (x0 + (tx * dw) as i32) as usize;
                            let xs = ix * in_c + g_base;
                            acc = acc.wrapping_add(dot_i8(
                                &irow[xs..xs + fic],
                                &frow[tx * fic..(tx + 1) * fic],
                                in_off,
                            ));
                        }
                    }
                }
                *o = stage.apply(c, acc);
            }
            Ok(())
        },
    )
}

crate::ops::stored::no_uninit!(Params {
    win: Window2D,
    in_c: u16,
    filter_in_c: u16,
    out_c: u16,
    groups: u16,
    has_bias: bool,
    _pad: u8,
    input_offset: i32,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
    quant: ChannelQuant
});
