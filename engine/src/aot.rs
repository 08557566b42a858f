//! Running a model compiled ahead of time (`mote export`'s default for a fixed model).
//!
//! The exporter prepares the model on the host with the interpreter (same `prepare`, same
//! planner), then writes Rust source: weights as aligned statics, each operator's `Params` as a
//! constant ([`crate::ops::literal`]), and a straight-line `invoke` that calls each operator's
//! `eval` through [`run`] at arena offsets fixed at export time. No flatbuffer, planner or
//! dispatch runs on the chip; the kernels are the interpreter's, so results are bit-exact.
//!
//! [`Net`] is what the streaming pipeline needs from a model, implemented by both the
//! [`Interpreter`] and a [`Compiled`] model.

use crate::error::Error;
use crate::interpreter::Interpreter;
use crate::ops::{EvalCtx, InPlace};

/// A runnable model: write the inputs, invoke, read the outputs.
pub trait Net {
    /// The bytes of input `i`, to fill before [`Net::invoke`].
    fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error>;
    /// Run the model once.
    fn invoke(&mut self) -> Result<(), Error>;
    /// The bytes of output `i` after [`Net::invoke`].
    fn output(&self, i: usize) -> Result<&[u8], Error>;
    /// Resource variables back to their initial values (and CALL_ONCE armed again).
    fn reset_state(&mut self);
}

impl Net for Interpreter<'_, '_> {
    fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        Interpreter::input_mut(self, i)
    }
    fn invoke(&mut self) -> Result<(), Error> {
        Interpreter::invoke(self)
    }
    fn output(&self, i: usize) -> Result<&[u8], Error> {
        Interpreter::output(self, i)
    }
    fn reset_state(&mut self) {
        Interpreter::reset_state(self)
    }
}

/// Aligns its contents to 16 bytes (generated weights).
#[repr(C, align(16))]
pub struct Aligned<T: ?Sized>(pub T);

/// One input of an operator in generated code.
#[derive(Clone, Copy, Debug)]
pub enum In {
    /// An absent optional input (e.g. no bias).
    Absent,
    /// `len` bytes at byte `offset` of the arena.
    Arena(u32, u32),
    /// Constant bytes (weights) in flash.
    Const(&'static [u8]),
}

/// A generated `invoke`: `(arena, state, once)`.
pub type InvokeFn = fn(&mut [u8], &mut [u8], &mut u32) -> Result<(), Error>;

/// What generated code describes about its model (see the generated `MODEL` constant).
#[derive(Clone, Copy, Debug)]
pub struct CompiledModel {
    /// Arena bytes `invoke` needs (the planned tensor region).
    pub arena_bytes: usize,
    /// Resource-variable state bytes.
    pub state_bytes: usize,
    /// (offset, bytes) of each model input in the arena.
    pub inputs: &'static [(u32, u32)],
    /// (offset, bytes) of each model output in the arena.
    pub outputs: &'static [(u32, u32)],
    /// Run the model: `(arena, state, once)`; `once` has bit `s` set once CALL_ONCE ran
    /// subgraph `s`.
    pub invoke: InvokeFn,
    /// Fill the state with the variables' initial values.
    pub reset: fn(&mut [u8]),
}

/// A compiled model bound to its arena and state.
pub struct Compiled<'a> {
    model: &'static CompiledModel,
    arena: &'a mut [u8],
    state: &'a mut [u8],
    once: u32,
}

impl<'a> Compiled<'a> {
    /// Bind `model` to `arena` and `state` (each at least the size the model says).
    pub fn new(
        model: &'static CompiledModel,
        arena: &'a mut [u8],
        state: &'a mut [u8],
    ) -> Result<Self, Error> {
        if arena.len() < model.arena_bytes {
            return Err(Error::ArenaTooSmall {
                needed: model.arena_bytes as u32,
                available: arena.len() as u32,
            });
        }
        if state.len() < model.state_bytes {
            return Err(Error::StateTooSmall {
                needed: model.state_bytes as u32,
                available: state.len() as u32,
            });
        }
        let mut c = Compiled {
            model,
            arena,
            state,
            once: 0,
        };
        c.reset_state();
        Ok(c)
    }

    fn range(list: &[(u32, u32)], i: usize, what: &'static str) -> Result<(usize, usize), Error> {
        let &(o, n) = list.get(i).ok_or(Error::IndexOutOfRange {
            what,
            index: i as i32,
            len: list.len() as u32,
        })?;
        Ok((o as usize, o as usize + n as usize))
    }
}

impl Net for Compiled<'_> {
    fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let (a, b) = Self::range(self.model.inputs, i, "input")?;
        self.arena.get_mut(a..b).ok_or(Error::InvalidGraph {
            what: "input outside arena",
            index: i as i32,
        })
    }
    fn invoke(&mut self) -> Result<(), Error> {
        (self.model.invoke)(self.arena, self.state, &mut self.once)
    }
    fn output(&self, i: usize) -> Result<&[u8], Error> {
        let (a, b) = Self::range(self.model.outputs, i, "output")?;
        self.arena.get(a..b).ok_or(Error::InvalidGraph {
            what: "output outside arena",
            index: i as i32,
        })
    }
    fn reset_state(&mut self) {
        (self.model.reset)(self.state);
        self.once = 0;
    }
}

/// Evaluate one operator of generated code: views of `arena` for its inputs and outputs
/// (`(offset, bytes)`), then `eval` (a closure calling `ops::<op>::eval` with its constant
/// `Params`). `words` are the kernel's persistent words (rebased to 0 by the generator).
///
/// Checked here, so generated code cannot cause undefined behaviour: every range is inside
/// `arena`, and no output overlaps an input or another output. Generated code passes constant
/// operands and an arena of constant length, so once this is inlined the checks fold away at
/// compile time (no cost per invoke; measured with `scripts/m4bench.sh`).
#[inline(always)]
pub fn run<const I: usize, const O: usize>(
    arena: &mut [u8],
    state: &mut [u8],
    inputs: [In; I],
    outputs: [(u32, u32); O],
    words: &[i32],
    eval: impl FnOnce(&mut EvalCtx<'_, '_>) -> Result<(), Error>,
) -> Result<(), Error> {
    run_views(arena, state, inputs, outputs, words, false, |c, _| eval(c))
}

/// [`run`] for an operator that runs in place: input 0 and output 0 may overlap (the kernel's
/// `eval_in_place` checks that the layout keeps every byte it reads unwritten until then, so
/// a wrong offset is an error, not a wrong result); they are handed over as one
/// [`InPlace`] view of their union, which no other operand may touch (checked here).
#[inline(always)]
pub fn run_in_place<const I: usize, const O: usize>(
    arena: &mut [u8],
    state: &mut [u8],
    inputs: [In; I],
    outputs: [(u32, u32); O],
    words: &[i32],
    eval: impl FnOnce(&mut EvalCtx<'_, '_>, InPlace<'_>) -> Result<(), Error>,
) -> Result<(), Error> {
    run_views(
        arena,
        state,
        inputs,
        outputs,
        words,
        true,
        |c, io| match io {
            Some(io) => eval(c, io),
            None => Err(Error::InvalidGraph {
                what: "in-place operator without arena input 0 and output 0",
                index: -1,
            }),
        },
    )
}

/// [`run`] and [`run_in_place`]: with `in_place`, output 0's range is the union of input 0
/// and output 0 (input 0 then needs no view of its own), passed to `eval` as an [`InPlace`].
#[inline(always)]
fn run_views<const I: usize, const O: usize>(
    arena: &mut [u8],
    state: &mut [u8],
    inputs: [In; I],
    outputs: [(u32, u32); O],
    words: &[i32],
    in_place: bool,
    eval: impl FnOnce(&mut EvalCtx<'_, '_>, Option<InPlace<'_>>) -> Result<(), Error>,
) -> Result<(), Error> {
    let bad = |what| Error::InvalidGraph { what, index: -1 };
    let len = arena.len();
    let end = |o: u32, n: u32| (o as usize).checked_add(n as usize).filter(|&e| e <= len);
    let overlap = |a: (u32, u32), b: (u32, u32)| {
        let (a0, a1) = (a.0 as usize, a.0 as usize + a.1 as usize);
        let (b0, b1) = (b.0 as usize, b.0 as usize + b.1 as usize);
        a0 < b1 && b0 < a1 && a1 > a0
    };
    // In place: (union of input 0 and output 0, input 0's offset, output 0's offset).
    let shared = match (in_place, inputs.first(), outputs.first()) {
        (false, _, _) => None,
        (true, Some(&In::Arena(i, n)), Some(&(o, m))) => {
            let (i_end, o_end) = (i as u64 + n as u64, o as u64 + m as u64);
            let (lo, hi) = (i.min(o), i_end.max(o_end));
            let n = u32::try_from(hi - lo as u64).map_err(|_| bad("output outside arena"))?;
            Some(((lo, n), i, o))
        }
        (true, _, _) => None,
    };
    // The bytes each output's view covers (output 0's: the union when in place).
    let span = |k: usize, out: (u32, u32)| match shared {
        Some((union, _, _)) if k == 0 => union,
        _ => out,
    };
    for (i, &out) in outputs.iter().enumerate() {
        let out = span(i, out);
        end(out.0, out.1).ok_or(bad("output outside arena"))?;
        for (j, x) in inputs.iter().enumerate() {
            if let In::Arena(o, n) = *x {
                end(o, n).ok_or(bad("input outside arena"))?;
                if !(shared.is_some() && i == 0 && j == 0) && overlap(out, (o, n)) {
                    return Err(bad("operator output overlaps an input"));
                }
            }
        }
        for (j, &other) in outputs.iter().enumerate() {
            if j != i && overlap(out, span(j, other)) {
                return Err(bad("operator outputs overlap"));
            }
        }
    }
    for x in &inputs {
        if let In::Arena(o, n) = *x {
            end(o, n).ok_or(bad("input outside arena"))?;
        }
    }
    let base = arena.as_mut_ptr();
    let skip = usize::from(shared.is_some());
    let ins: [&[u8]; I] = core::array::from_fn(|k| match inputs[k] {
        _ if k < skip => &[][..],
        In::Absent => &[][..],
        In::Const(c) => c,
        // SAFETY: in bounds (checked above); no output view below overlaps it (checked above),
        // and `arena` stays mutably borrowed while the views live.
        In::Arena(o, n) => unsafe { core::slice::from_raw_parts(base.add(o as usize), n as usize) },
    });
    let mut outs: [&mut [u8]; O] = core::array::from_fn(|k| {
        if k < skip {
            return &mut [][..];
        }
        let (o, n) = outputs[k];
        // SAFETY: in bounds and disjoint from every input and every other output (checked
        // above), so this is the only view of these bytes.
        unsafe { core::slice::from_raw_parts_mut(base.add(o as usize), n as usize) }
    });
    let io = shared.map(|((lo, n), i, o)| InPlace {
        // SAFETY: in bounds (checked above as output 0's span); no other input or output view
        // overlaps it (checked above), and input 0 and output 0 have no views of their own.
        bytes: unsafe { core::slice::from_raw_parts_mut(base.add(lo as usize), n as usize) },
        input: (i - lo) as usize,
        output: (o - lo) as usize,
    });
    let mut ctx = EvalCtx {
        inputs: &ins,
        outputs: &mut outs,
        words,
        state,
    };
    eval(&mut ctx, io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_are_checked() {
        let mut arena = [0u8; 16];
        let r = run(
            &mut arena,
            &mut [],
            [In::Arena(0, 4), In::Absent],
            [(4, 4)],
            &[],
            |c| {
                c.outputs[0].copy_from_slice(&[1, 2, 3, 4]);
                assert_eq!(c.inputs[1].len(), 0);
                Ok(())
            },
        );
        assert!(r.is_ok());
        assert_eq!(&arena[4..8], &[1, 2, 3, 4]);
        let mut a = [0u8; 16];
        let nop = |_: &mut EvalCtx<'_, '_>| Ok(());
        let ok = |r: Result<(), Error>| r.is_ok();
        let overlap = run(&mut a, &mut [], [In::Arena(0, 8)], [(4, 4)], &[], nop);
        assert!(!ok(overlap));
        let outs_overlap = run(&mut a, &mut [], [], [(0, 8), (4, 8)], &[], nop);
        assert!(!ok(outs_overlap));
        assert!(!ok(run(&mut a, &mut [], [], [(12, 8)], &[], nop)));
        let in_oob = run(&mut a, &mut [], [In::Arena(12, 8)], [(0, 4)], &[], nop);
        assert!(!ok(in_oob));
        let adjacent = run(&mut a, &mut [], [In::Arena(0, 8)], [(8, 8)], &[], nop);
        assert!(ok(adjacent));
    }

    #[test]
    fn in_place_views_are_checked() {
        let mut arena = [7u8; 16];
        // Input 0 at 4..12, output 0 at 0..8: one view of 0..12.
        let r = run_in_place(
            &mut arena,
            &mut [],
            [In::Arena(4, 8), In::Const(&[1, 2])],
            [(0, 8)],
            &[],
            |c, io| {
                assert_eq!((io.bytes.len(), io.input, io.output), (12, 4, 0));
                assert!(c.inputs[0].is_empty() && c.outputs[0].is_empty());
                assert_eq!(c.inputs[1], &[1, 2]);
                io.bytes[0] = 1;
                Ok(())
            },
        );
        assert!(r.is_ok());
        assert_eq!(arena[0], 1);
        let nop = |_: &mut EvalCtx<'_, '_>, _: InPlace<'_>| Ok(());
        let mut a = [0u8; 16];
        // Another input inside the union, an input outside the arena, no arena input 0.
        let other = run_in_place(
            &mut a,
            &mut [],
            [In::Arena(4, 8), In::Arena(2, 2)],
            [(0, 8)],
            &[],
            nop,
        );
        assert!(other.is_err());
        let oob = run_in_place(&mut a, &mut [], [In::Arena(12, 8)], [(0, 8)], &[], nop);
        assert!(oob.is_err());
        let konst = run_in_place(&mut a, &mut [], [In::Const(&[0; 4])], [(0, 8)], &[], nop);
        assert!(konst.is_err());
    }
}
