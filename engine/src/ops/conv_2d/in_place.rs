//! CONV_2D in place (output 0 overlapping input 0 from below): every strategy row by row,
//! through [`rows_in_place`] (see `ops::common::in_place` for why that cannot change a byte).

use super::*;
use crate::ops::common::{in_place_gap as window_gap, rows_in_place};
use crate::ops::InPlace;

/// The least `input offset − output offset` at which CONV_2D `p` may run in place
/// ([`eval_in_place`]), or `None`.
pub fn in_place_gap(p: &Params) -> Option<i32> {
    window_gap(&p.win, p.in_c as usize, p.out_c as usize)
}

/// CONV_2D with input 0 and output 0 sharing `io`; `ctx.inputs[0]` and `ctx.outputs[0]` are
/// not read.
pub fn eval_in_place(p: &Params, ctx: &mut EvalCtx<'_, '_>, io: InPlace<'_>) -> Result<(), Error> {
    let w = &p.win;
    let f_chan = w.filter_h as usize * w.filter_w as usize * p.filter_in_c as usize;
    let out_c = p.out_c as usize;
    let (filter, bias, words) =
        conv_weights(ctx, out_c * f_chan, (p.has_bias, out_c), p.quant.span)?;
    run_in_place(p, io, filter, bias, words)
}

/// [`eval_in_place`] after the filter and bias checks (also DEPTHWISE_CONV_2D's path for one
/// input channel). The strategy is the one [`run`] takes for the whole convolution (inlined:
/// with constant `Params` only that strategy is linked; measured, 3.4 KB of flash otherwise).
#[inline(always)]
pub(crate) fn run_in_place(
    p: &Params,
    io: InPlace<'_>,
    filter: &[u8],
    bias: &[u8],
    words: &[i32],
) -> Result<(), Error> {
    let strategy = strategy(p);
    let stage = OutputStage::new(bias, words, p.quant, p.output_offset, p.act_min, p.act_max);
    rows_in_place(
        &p.win,
        p.in_c as usize,
        p.out_c as usize,
        io,
        |win, img, out| strategy.run(&Params { win: *win, ..*p }, img, filter, &stage, out),
    )
}
