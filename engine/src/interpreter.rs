//! The interpreter: prepares a model into a caller-provided arena, then invokes it.
//!
//! Arena layout (front to back), all decided in [`Interpreter::new`]:
//! `[Loc; tensors]` placement table · `[KernelSlot; operators]` prepared kernels ·
//! `[u32; operators]` operand-list index · `[i32]` persistent words (kernel parameters,
//! per-channel multipliers, operand lists) · tensor region (planned).
//!
//! Each computing operator's inputs and outputs are resolved once, at prepare time, to root
//! tensor ids (aliases followed) packed into the words, so `invoke` never reads the
//! flatbuffer's operator table (see [`operand_words`]).
//! Resource variables live in a second caller-provided buffer, the *state*, which persists
//! across invokes until [`Interpreter::reset_state`].

use core::mem::{align_of, size_of};

use crate::error::Error;
use crate::model::{BuiltinOp, DType, Model, Quant, Shape, Subgraph, Tensor};
use crate::ops::stored::NoUninit;
use crate::ops::{
    self, EvalCtx, Kernel, KernelSlot, PrepareCtx, WordAlloc, MAX_INPUTS, MAX_OUTPUTS,
};
use crate::plan::{self, Bases, Loc, MemoryReport, Place, TensorPlacement};

/// Options for [`Interpreter::with_options`].
#[derive(Clone, Copy, Debug, Default)]
pub struct InterpreterOptions {
    /// Give every tensor its own bytes (no sharing), so all intermediate tensors can be read
    /// after `invoke` (like TFLM's `kPreserveAllTensors`). For tests and debugging.
    pub preserve_all_tensors: bool,
}

/// One side of an operator's evaluation, seen by [`Interpreter::invoke_observed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpEvent {
    /// Subgraph of the operator.
    pub subgraph: usize,
    /// Operator index within `subgraph` (the flatbuffer's order).
    pub op: usize,
    /// `false` just before the kernel runs, `true` just after (also when it failed).
    pub done: bool,
}

/// A model prepared in an arena, ready to invoke.
pub struct Interpreter<'m, 'a> {
    model: Model<'m>,
    bases: Bases,
    locs: &'a [Loc],
    kernels: &'a [KernelSlot],
    /// Per operator: first word of its operand list (`u32::MAX` if it has none).
    io: &'a [u32],
    words: &'a [i32],
    tensors: &'a mut [u8],
    state: &'a mut [u8],
    /// Bit `s` set once subgraph `s` has run as a CALL_ONCE init.
    once_done: u32,
    report: MemoryReport,
}

impl<'m, 'a> Interpreter<'m, 'a> {
    /// Prepare `model` in `arena`, with resource variables in `state`.
    pub fn new(model: &Model<'m>, arena: &'a mut [u8], state: &'a mut [u8]) -> Result<Self, Error> {
        Self::with_options(model, arena, state, InterpreterOptions::default())
    }

    /// [`Interpreter::new`] with options.
    ///
    /// Two passes over the timeline: the first records lifetimes and counts persistent words
    /// without storing them, so the exact arena size is known before anything is committed;
    /// the second prepares the kernels again and stores their words.
    pub fn with_options(
        model: &Model<'m>,
        arena: &'a mut [u8],
        state: &'a mut [u8],
        options: InterpreterOptions,
    ) -> Result<Self, Error> {
        let model = *model;
        let bases = Bases::new(&model)?;
        let available = arena.len() as u32;
        let arena_start = arena.as_ptr() as usize;

        let vars = Vars::new(&model)?;
        let state_needed = vars.state_bytes;
        if state.len() < state_needed as usize {
            return Err(Error::StateTooSmall {
                needed: state_needed,
                available: state.len() as u32,
            });
        }

        let (locs, rest) = carve(arena, bases.tensors, Loc::default(), available)?;
        let (kernels, rest) = carve(rest, bases.ops, KernelSlot::default(), available)?;
        let (io, rest) = carve(rest, bases.ops, u32::MAX, available)?;
        let callee = |s: usize, k: usize| call_once_target(&model, s, k);

        // Subgraph 0's inputs are alive from the start.
        let sg0 = subgraph(&model, 0)?;
        for t in sg0.inputs().iter() {
            let tensor = sg0.tensor(t as usize).ok_or(Error::InvalidGraph {
                what: "input tensor",
                index: t,
            })?;
            let l = &mut locs[t as usize];
            if tensor.data.is_some() || tensor.dtype == DType::Resource {
                return Err(Error::InvalidGraph {
                    what: "model input is a constant or resource",
                    index: t,
                });
            }
            l.len = tensor.bytes() as u32;
            l.set(Place::Pending)?;
            l.touch(0);
        }

        // Pass 1: lifetimes and word count.
        let mut measure = WordAlloc::measure();
        let steps = plan::walk(&model, callee, |st| {
            let k = prepare_op(&model, &bases, &vars, st, Some(&mut *locs), &mut measure)?;
            operand_list(&model, &bases, st, &k, None, &mut measure)?;
            if let Some(slot) = kernels.get_mut(bases.op[st.subgraph] as usize + st.op) {
                *slot = k.slot();
            }
            Ok(())
        })?;
        let words_used = measure.used();

        // Subgraph 0's outputs are alive to the end.
        let end = steps.saturating_sub(1);
        for t in sg0.outputs().iter() {
            let r = plan::root(locs, t as usize);
            if matches!(locs[r].place(), Place::Pending) {
                locs[r].touch(end);
            }
        }
        if options.preserve_all_tensors {
            for l in locs.iter_mut().filter(|l| l.place() == Place::Pending) {
                l.first = 0;
                l.last = end;
            }
        }
        let tensor_bytes = plan::place(locs)?;

        // Exact size: tables, words, then the tensor region (aligned).
        let words_pad = rest.as_ptr().align_offset(align_of::<i32>());
        let words_end = (rest.as_ptr() as usize - arena_start) + words_pad + words_used * 4;
        let region_start = plan::align_up(words_end as u32)? as usize;
        let needed = (region_start as u64 + tensor_bytes as u64).min(u32::MAX as u64) as u32;
        if needed > available {
            return Err(Error::ArenaTooSmall { needed, available });
        }
        let (words, rest) = carve(rest, words_used, 0i32, available)?;
        let region_off = rest.as_ptr() as usize - arena_start;
        let tensors = rest
            .get_mut(region_start - region_off..region_start - region_off + tensor_bytes as usize)
            .ok_or(Error::ArenaTooSmall { needed, available })?;

        // Pass 2: the same kernels, now with their words stored.
        let mut alloc = WordAlloc::new(words);
        plan::walk(&model, callee, |st| {
            let k = prepare_op(&model, &bases, &vars, st, None, &mut alloc)?;
            let at = operand_list(&model, &bases, st, &k, Some(&*locs), &mut alloc)?;
            let g = bases.op[st.subgraph] as usize + st.op;
            if let (Some(slot), Some(i)) = (kernels.get_mut(g), io.get_mut(g)) {
                *slot = k.slot();
                *i = at;
            }
            Ok(())
        })?;
        let kernels: &'a [KernelSlot] = kernels;
        let io: &'a [u32] = io;
        let locs: &'a [Loc] = locs;
        let words: &'a [i32] = &*words;

        check_disjoint(&model, &bases, locs, kernels)?;

        let report = MemoryReport {
            arena_bytes: needed,
            persistent_bytes: region_start as u32,
            kernel_bytes: (bases.ops * (size_of::<KernelSlot>() + size_of::<u32>())) as u32,
            tensor_table_bytes: (bases.tensors * size_of::<Loc>()) as u32,
            word_bytes: (words_used * 4) as u32,
            tensor_bytes,
            scratch_bytes: 0,
            state_bytes: state_needed,
            weights_bytes: model.weights_bytes() as u32,
            steps: steps as u32,
        };
        let mut interp = Interpreter {
            model,
            bases,
            locs,
            kernels,
            io,
            words,
            tensors,
            state,
            once_done: 0,
            report,
        };
        interp.reset_state();
        Ok(interp)
    }

    /// Every byte this model uses, by purpose.
    pub fn memory(&self) -> MemoryReport {
        self.report
    }

    /// The model.
    pub fn model(&self) -> &Model<'m> {
        &self.model
    }

    /// Number of inputs of subgraph 0.
    pub fn input_count(&self) -> usize {
        self.model.subgraph(0).map_or(0, |s| s.inputs().len())
    }
    /// Number of outputs of subgraph 0.
    pub fn output_count(&self) -> usize {
        self.model.subgraph(0).map_or(0, |s| s.outputs().len())
    }
    /// Description of input `i`.
    pub fn input_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        let sg = subgraph(&self.model, 0)?;
        let t = sg.inputs().get(i).ok_or(Error::IndexOutOfRange {
            what: "input",
            index: i as i32,
            len: sg.inputs().len() as u32,
        })?;
        sg.tensor(t as usize).ok_or(Error::InvalidGraph {
            what: "input tensor",
            index: t,
        })
    }
    /// Description of output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        let sg = subgraph(&self.model, 0)?;
        let t = sg.outputs().get(i).ok_or(Error::IndexOutOfRange {
            what: "output",
            index: i as i32,
            len: sg.outputs().len() as u32,
        })?;
        sg.tensor(t as usize).ok_or(Error::InvalidGraph {
            what: "output tensor",
            index: t,
        })
    }

    /// The bytes of input `i`, to fill before [`Interpreter::invoke`].
    pub fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let sg = subgraph(&self.model, 0)?;
        let t = sg.inputs().get(i).ok_or(Error::IndexOutOfRange {
            what: "input",
            index: i as i32,
            len: sg.inputs().len() as u32,
        })?;
        match self.locs.get(t as usize).map(|l| (l.place(), l.len)) {
            Some((Place::Arena(o), n)) => self
                .tensors
                .get_mut(o as usize..o as usize + n as usize)
                .ok_or(Error::InvalidGraph {
                    what: "input outside arena",
                    index: t,
                }),
            _ => Err(Error::InvalidGraph {
                what: "input is not an arena tensor",
                index: t,
            }),
        }
    }

    /// The bytes of output `i` after [`Interpreter::invoke`].
    pub fn output(&self, i: usize) -> Result<&[u8], Error> {
        let sg = subgraph(&self.model, 0)?;
        let t = sg.outputs().get(i).ok_or(Error::IndexOutOfRange {
            what: "output",
            index: i as i32,
            len: sg.outputs().len() as u32,
        })?;
        self.tensor_data(0, t as usize).ok_or(Error::InvalidGraph {
            what: "output has no data",
            index: t,
        })
    }

    /// The current bytes of any tensor (intermediate ones are only meaningful with
    /// `preserve_all_tensors`, since the planner shares their memory otherwise).
    pub fn tensor_data(&self, subgraph: usize, tensor: usize) -> Option<&[u8]> {
        let base = *self.bases.tensor.get(subgraph)? as usize;
        if subgraph >= self.bases.count {
            return None;
        }
        let g = plan::root(self.locs, base.checked_add(tensor)?);
        let l = self.locs.get(g)?;
        let (o, n) = match l.place() {
            Place::Arena(o) => (o as usize, l.len as usize),
            Place::Const(o) => {
                return self
                    .model
                    .bytes()
                    .get(o as usize..o as usize + l.len as usize)
            }
            _ => return None,
        };
        self.tensors.get(o..o + n)
    }

    /// Where tensor `tensor` of `subgraph` lives and when (for reports and the visualizer).
    pub fn placement(&self, subgraph: usize, tensor: usize) -> Option<TensorPlacement> {
        if subgraph >= self.bases.count {
            return None;
        }
        let g = (self.bases.tensor[subgraph] as usize).checked_add(tensor)?;
        let own = self.locs.get(g)?;
        let root = self.locs.get(plan::root(self.locs, g))?;
        let (first, last) = if own.first == u16::MAX {
            (None, None)
        } else {
            (Some(own.first), Some(own.last))
        };
        let alias = matches!(own.place(), Place::Alias(_));
        Some(TensorPlacement {
            subgraph,
            tensor,
            place: root.place(),
            alias,
            bytes: own.len,
            first_step: first,
            last_step: last,
        })
    }

    /// Multiply-accumulates operator `op` of `subgraph` performs per invoke.
    pub fn op_macs(&self, subgraph: usize, op: usize) -> u64 {
        self.kernel(subgraph, op)
            .map_or(0, |k| ops::macs(&k, self.words))
    }

    /// The prepared kernel of operator `op` of `subgraph`.
    pub fn kernel(&self, subgraph: usize, op: usize) -> Option<Kernel> {
        if subgraph >= self.bases.count {
            return None;
        }
        self.kernels
            .get((self.bases.op[subgraph] as usize).checked_add(op)?)
            .map(|k| k.kernel())
    }

    /// Visit the execution timeline (CALL_ONCE subgraphs expanded), as planned.
    pub fn timeline(
        &self,
        visit: impl FnMut(plan::Step) -> Result<(), Error>,
    ) -> Result<u16, Error> {
        let model = self.model;
        plan::walk(&model, |s, k| call_once_target(&model, s, k), visit)
    }

    /// Return resource variables to their initial values and let CALL_ONCE run again.
    pub fn reset_state(&mut self) {
        for k in self.kernels {
            if let Kernel::AssignVariable(p) = k.kernel() {
                if let Some(s) = self
                    .state
                    .get_mut(p.offset as usize..(p.offset + p.len) as usize)
                {
                    s.fill(p.default);
                }
            }
        }
        self.once_done = 0;
    }

    /// Run the model once: inputs must have been written with [`Interpreter::input_mut`].
    pub fn invoke(&mut self) -> Result<(), Error> {
        self.run_subgraph(0, 0, &mut |_| {})
    }

    /// [`Interpreter::invoke`], calling `around` just before and just after each evaluated
    /// operator (not aliases, VAR_HANDLE or CALL_ONCE itself), e.g. to place an instruction
    /// counter's markers around every kernel (`scripts/op-costs.sh`).
    pub fn invoke_observed(&mut self, mut around: impl FnMut(OpEvent)) -> Result<(), Error> {
        self.run_subgraph(0, 0, &mut around)
    }

    fn run_subgraph<F: FnMut(OpEvent)>(
        &mut self,
        s: usize,
        depth: usize,
        around: &mut F,
    ) -> Result<(), Error> {
        if s >= self.bases.count {
            return Err(Error::IndexOutOfRange {
                what: "subgraph",
                index: s as i32,
                len: self.bases.count as u32,
            });
        }
        let op_base = self.bases.op[s] as usize;
        let op_end = if s + 1 < self.bases.count {
            self.bases.op[s + 1] as usize
        } else {
            self.bases.ops
        };
        for g in op_base..op_end {
            let kernel = self
                .kernels
                .get(g)
                .ok_or(Error::InvalidGraph {
                    what: "operator",
                    index: (g - op_base) as i32,
                })?
                .kernel();
            match kernel {
                Kernel::Alias | Kernel::VarHandle => continue,
                Kernel::CallOnce { subgraph } => {
                    let bit = 1u32 << (subgraph & 31);
                    if self.once_done & bit == 0 {
                        if depth + 1 >= plan::MAX_CALL_DEPTH {
                            return Err(Error::LimitExceeded {
                                what: "nested CALL_ONCE levels",
                                limit: plan::MAX_CALL_DEPTH as u32,
                            });
                        }
                        self.run_subgraph(subgraph as usize, depth + 1, around)?;
                        self.once_done |= bit;
                    }
                    continue;
                }
                _ => {}
            }
            let list = self
                .io
                .get(g)
                .and_then(|&at| operands(self.words, at))
                .ok_or(Error::InvalidGraph {
                    what: "operator without operand list",
                    index: (g - op_base) as i32,
                })?;
            let model_bytes = self.model.bytes();
            let base = self.tensors.as_mut_ptr();
            let region_len = self.tensors.len();
            let mut ins: [&[u8]; MAX_INPUTS] = [&[]; MAX_INPUTS];
            let mut outs: [&mut [u8]; MAX_OUTPUTS] = core::array::from_fn(|_| &mut [][..]);
            let (n_in, n_out) = (list.n_in.min(MAX_INPUTS), list.n_out.min(MAX_OUTPUTS));
            for (i, slot) in ins.iter_mut().enumerate().take(n_in) {
                let Some(l) = list.root(i).and_then(|r| self.locs.get(r)) else {
                    continue;
                };
                *slot = match l.place() {
                    Place::Const(o) => model_bytes
                        .get(o as usize..(o + l.len) as usize)
                        .unwrap_or(&[]),
                    Place::Arena(o) if (o as usize + l.len as usize) <= region_len => {
                        // SAFETY: the range is inside `self.tensors` (checked just above), and
                        // `check_disjoint` proved at prepare time that no output of this operator
                        // overlaps it, so no `&mut` created below aliases these bytes.
                        unsafe { core::slice::from_raw_parts(base.add(o as usize), l.len as usize) }
                    }
                    _ => &[],
                };
            }
            for (i, slot) in outs.iter_mut().enumerate().take(n_out) {
                let Some(l) = list.root(n_in + i).and_then(|r| self.locs.get(r)) else {
                    continue;
                };
                if let Place::Arena(o) = l.place() {
                    if (o as usize + l.len as usize) <= region_len {
                        // SAFETY: in bounds (checked); `check_disjoint` proved this range overlaps
                        // neither any input nor any other output of this operator.
                        *slot = unsafe {
                            core::slice::from_raw_parts_mut(base.add(o as usize), l.len as usize)
                        };
                    }
                }
            }
            let mut ctx = EvalCtx {
                inputs: &ins[..n_in],
                outputs: &mut outs[..n_out],
                words: self.words,
                state: self.state,
            };
            let op = g - op_base;
            around(OpEvent {
                subgraph: s,
                op,
                done: false,
            });
            let r = ops::eval(&kernel, &mut ctx);
            around(OpEvent {
                subgraph: s,
                op,
                done: true,
            });
            r?;
        }
        Ok(())
    }
}

/// Words of an operand list of `n` operands: a header word (`n_in | n_out << 16`), then the
/// operands' root tensor ids (global, aliases resolved) as `u16` pairs; `0xFFFF` marks an
/// absent optional input.
fn operand_words(n: usize) -> usize {
    1 + n.div_ceil(2)
}

/// Absent operand in an operand list.
const NO_OPERAND: u16 = u16::MAX;

/// Allocate (and, with the final `locs`, fill) the operand list of the operator at `st`;
/// returns its first word, or `u32::MAX` for operators `invoke` does not evaluate.
fn operand_list(
    model: &Model<'_>,
    bases: &Bases,
    st: plan::Step,
    kernel: &Kernel,
    locs: Option<&[Loc]>,
    words: &mut WordAlloc<'_>,
) -> Result<u32, Error> {
    if matches!(
        kernel,
        Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. }
    ) {
        return Ok(u32::MAX);
    }
    let sg = subgraph(model, st.subgraph)?;
    let op = sg.operator(st.op).ok_or(Error::InvalidGraph {
        what: "operator",
        index: st.op as i32,
    })?;
    let (n_in, n_out) = (op.inputs.len(), op.outputs.len());
    let t_base = bases.tensor[st.subgraph] as usize;
    let (span, mut w) = words.alloc(operand_words(n_in + n_out))?;
    if let Some(locs) = locs {
        w.set(0, (n_in | n_out << 16) as i32);
        let ids = op.inputs.iter().chain(op.outputs.iter()).map(|t| {
            if t < 0 {
                return Ok(NO_OPERAND);
            }
            let r = plan::root(locs, t_base + t as usize);
            u16::try_from(r)
                .ok()
                .filter(|&r| r != NO_OPERAND)
                .ok_or(Error::LimitExceeded {
                    what: "tensors (operand lists hold 16-bit ids)",
                    limit: NO_OPERAND as u32,
                })
        });
        let mut pair = 0u32;
        for (i, id) in ids.enumerate() {
            let id = id? as u32;
            if i % 2 == 0 {
                pair = id;
            } else {
                pair |= id << 16;
                w.set(1 + i / 2, pair as i32);
            }
            if i % 2 == 0 && i + 1 == n_in + n_out {
                w.set(1 + i / 2, (pair | (NO_OPERAND as u32) << 16) as i32);
            }
        }
    }
    Ok(span.start)
}

/// A view of one operand list in the words.
struct Operands<'w> {
    n_in: usize,
    n_out: usize,
    ids: &'w [i32],
}

impl Operands<'_> {
    /// Root tensor id of operand `i` (inputs first, then outputs); `None` if absent.
    #[inline]
    fn root(&self, i: usize) -> Option<usize> {
        let w = *self.ids.get(i / 2)? as u32;
        let id = if i.is_multiple_of(2) {
            w & 0xFFFF
        } else {
            w >> 16
        } as u16;
        (id != NO_OPERAND).then_some(id as usize)
    }
}

/// The operand list starting at word `at`.
#[inline]
fn operands(words: &[i32], at: u32) -> Option<Operands<'_>> {
    let at = at as usize;
    let head = *words.get(at)? as u32;
    let (n_in, n_out) = ((head & 0xFFFF) as usize, (head >> 16) as usize);
    let ids = words.get(at + 1..at + operand_words(n_in + n_out))?;
    Some(Operands { n_in, n_out, ids })
}

/// Carve `n` values of `T` (initialised to `init`) from the front of `mem`, aligned for `T`.
fn carve<T: NoUninit>(
    mem: &mut [u8],
    n: usize,
    init: T,
    available: u32,
) -> Result<(&mut [T], &mut [u8]), Error> {
    let pad = mem.as_ptr().align_offset(align_of::<T>());
    let bytes = n
        .checked_mul(size_of::<T>())
        .and_then(|b| b.checked_add(pad))
        .ok_or(Error::LimitExceeded {
            what: "arena bytes",
            limit: u32::MAX,
        })?;
    if pad == usize::MAX || bytes > mem.len() {
        // Report what the persistent tables alone need; the full figure needs a plan, which
        // needs these tables first.
        let used = available as usize - mem.len();
        return Err(Error::ArenaTooSmall {
            needed: (used + bytes) as u32,
            available,
        });
    }
    let (head, tail) = mem.split_at_mut(bytes);
    let head = &mut head[pad..];
    let ptr = head.as_mut_ptr() as *mut T;
    for i in 0..n {
        // SAFETY: `ptr` is aligned for T (align_offset above), and element i lies inside `head`
        // (n * size_of::<T>() bytes); writing a Copy value needs no drop of the old bytes.
        unsafe { ptr.add(i).write(init) };
    }
    // SAFETY: all n elements were initialised just above; `head` is exclusively borrowed for the
    // returned lifetime and not used otherwise.
    let slice = unsafe { core::slice::from_raw_parts_mut(ptr, n) };
    Ok((slice, tail))
}

fn subgraph<'m>(model: &Model<'m>, s: usize) -> Result<Subgraph<'m>, Error> {
    model.subgraph(s).ok_or(Error::IndexOutOfRange {
        what: "subgraph",
        index: s as i32,
        len: model.subgraph_count() as u32,
    })
}

fn opcode_of(model: &Model<'_>, sg: &Subgraph<'_>, k: usize) -> Result<(BuiltinOp, i32), Error> {
    let op = sg.operator(k).ok_or(Error::InvalidGraph {
        what: "operator",
        index: k as i32,
    })?;
    let code = model
        .opcode(op.opcode_index as usize)
        .ok_or(Error::InvalidGraph {
            what: "operator code",
            index: op.opcode_index as i32,
        })?;
    if code.builtin == BuiltinOp::CUSTOM {
        return Err(Error::UnsupportedCustomOp {
            op_index: op.opcode_index,
        });
    }
    Ok((code.builtin, code.version))
}

/// The subgraph a CALL_ONCE operator initialises, or `None` for any other operator.
fn call_once_target(model: &Model<'_>, s: usize, k: usize) -> Result<Option<usize>, Error> {
    let sg = subgraph(model, s)?;
    let (op, _) = opcode_of(model, &sg, k)?;
    if op != BuiltinOp::CALL_ONCE {
        return Ok(None);
    }
    let o = sg.operator(k).ok_or(Error::InvalidGraph {
        what: "operator",
        index: k as i32,
    })?;
    // CallOnceOptions { init_subgraph_index: int } — slot 0.
    let target = o.options.i32(0, 0)?;
    usize::try_from(target)
        .ok()
        .filter(|&t| t < model.subgraph_count())
        .map(Some)
        .ok_or(Error::IndexOutOfRange {
            what: "CALL_ONCE subgraph",
            index: target,
            len: model.subgraph_count() as u32,
        })
}

/// VAR_HANDLE's (container, shared_name): VarHandleOptions slots 0 and 1.
fn var_name<'m>(sg: &Subgraph<'m>, k: usize) -> Result<(&'m str, &'m str), Error> {
    let o = sg.operator(k).ok_or(Error::InvalidGraph {
        what: "operator",
        index: k as i32,
    })?;
    Ok((o.options.string(0)?, o.options.string(1)?))
}

/// TFLM `FindId`: same shared name, and same container unless either is absent.
fn same_variable(a: (&str, &str), b: (&str, &str)) -> bool {
    a.1 == b.1 && (a.0.is_empty() || b.0.is_empty() || a.0 == b.0)
}

/// The most distinct resource variables a model may have.
const MAX_VARIABLES: usize = 64;
/// The most READ_VARIABLE + ASSIGN_VARIABLE operators (each one resolves its variable by a scan
/// of its subgraph, so this bounds prepare time on hostile models).
const MAX_VARIABLE_OPS: usize = 1024;

/// Resource variables, resolved once per [`Interpreter::new`] in one pass over the operators
/// (on the stack, about 1 KiB): which VAR_HANDLE names each variable, and where each variable
/// lives in the state buffer.
struct Vars {
    /// (subgraph, operator) of the VAR_HANDLE that created variable `id`.
    first: [(u16, u16); MAX_VARIABLES],
    /// Variable `id`'s (offset, bytes, reset byte) in the state buffer, once assigned.
    slot: [Option<(u32, u32, u8)>; MAX_VARIABLES],
    /// Number of variables.
    count: usize,
    /// Bytes of state all variables need.
    state_bytes: u32,
}

impl Vars {
    /// Ids in prepare order (subgraph by subgraph), as TFLM's `CreateIdIfNoneFound` numbers
    /// them: a VAR_HANDLE matching no existing variable creates the next id. Slots: TFLM
    /// allocates a variable at the first ASSIGN_VARIABLE prepared for it, sized by and memset
    /// to the zero point (as int8) of that value tensor; variables are laid out in that order,
    /// unpadded.
    fn new(model: &Model<'_>) -> Result<Vars, Error> {
        let mut v = Vars {
            first: [(0, 0); MAX_VARIABLES],
            slot: [None; MAX_VARIABLES],
            count: 0,
            state_bytes: 0,
        };
        let mut var_ops = 0;
        for s in 0..model.subgraph_count() {
            let sg = subgraph(model, s)?;
            for k in 0..sg.operator_count() {
                match opcode_of(model, &sg, k)?.0 {
                    BuiltinOp::VAR_HANDLE if v.find(model, var_name(&sg, k)?)?.is_none() => {
                        if v.count == MAX_VARIABLES {
                            return Err(Error::LimitExceeded {
                                what: "resource variables",
                                limit: MAX_VARIABLES as u32,
                            });
                        }
                        // Subgraph and operator indices as u16 (larger models are refused).
                        let (Ok(s16), Ok(k16)) = (u16::try_from(s), u16::try_from(k)) else {
                            return Err(Error::LimitExceeded {
                                what: "operators",
                                limit: u16::MAX as u32,
                            });
                        };
                        v.first[v.count] = (s16, k16);
                        v.count += 1;
                    }
                    BuiltinOp::READ_VARIABLE | BuiltinOp::ASSIGN_VARIABLE => {
                        var_ops += 1;
                        if var_ops > MAX_VARIABLE_OPS {
                            return Err(Error::LimitExceeded {
                                what: "READ_VARIABLE and ASSIGN_VARIABLE operators",
                                limit: MAX_VARIABLE_OPS as u32,
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut offset: u32 = 0;
        for s in 0..model.subgraph_count() {
            let sg = subgraph(model, s)?;
            for k in 0..sg.operator_count() {
                if opcode_of(model, &sg, k)?.0 != BuiltinOp::ASSIGN_VARIABLE {
                    continue;
                }
                let o = sg.operator(k).ok_or(Error::InvalidGraph {
                    what: "operator",
                    index: k as i32,
                })?;
                let (r, val) = (o.inputs.get(0).unwrap_or(-1), o.inputs.get(1).unwrap_or(-1));
                let id = v.resource_of(model, &sg, r)?;
                let value = usize::try_from(val).ok().and_then(|t| sg.tensor(t)).ok_or(
                    Error::InvalidGraph {
                        what: "ASSIGN_VARIABLE value",
                        index: val,
                    },
                )?;
                if let Some(slot @ None) = v.slot.get_mut(id) {
                    let bytes = value.bytes() as u32;
                    *slot = Some((offset, bytes, value.quant.zero_point() as i8 as u8));
                    offset = offset.checked_add(bytes).ok_or(Error::LimitExceeded {
                        what: "state bytes",
                        limit: u32::MAX,
                    })?;
                }
            }
        }
        v.state_bytes = offset;
        Ok(v)
    }

    /// The id of the variable named `var`, if one was created.
    fn find(&self, model: &Model<'_>, var: (&str, &str)) -> Result<Option<usize>, Error> {
        for (id, &(s, k)) in self.first[..self.count].iter().enumerate() {
            let sg = subgraph(model, s as usize)?;
            if same_variable(var_name(&sg, k as usize)?, var) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The id of the variable named `var` (which must exist).
    fn id(&self, model: &Model<'_>, var: (&str, &str)) -> Result<usize, Error> {
        self.find(model, var)?.ok_or(Error::InvalidGraph {
            what: "unknown resource variable",
            index: -1,
        })
    }

    /// The variable a resource tensor of `sg` refers to: the VAR_HANDLE there that writes it.
    fn resource_of(
        &self,
        model: &Model<'_>,
        sg: &Subgraph<'_>,
        tensor: i32,
    ) -> Result<usize, Error> {
        for k in 0..sg.operator_count() {
            if opcode_of(model, sg, k)?.0 != BuiltinOp::VAR_HANDLE {
                continue;
            }
            let o = sg.operator(k).ok_or(Error::InvalidGraph {
                what: "operator",
                index: k as i32,
            })?;
            if o.outputs.get(0) == Some(tensor) {
                return self.id(model, var_name(sg, k)?);
            }
        }
        Err(Error::InvalidGraph {
            what: "resource tensor not produced by VAR_HANDLE",
            index: tensor,
        })
    }
}

/// Prepare one operator. With `locs` (the first pass), also record where its tensors live and
/// that they are alive at `st.step`.
fn prepare_op<'m>(
    model: &Model<'m>,
    bases: &Bases,
    vars: &Vars,
    st: plan::Step,
    mut locs: Option<&mut [Loc]>,
    words: &mut WordAlloc<'_>,
) -> Result<Kernel, Error> {
    let sg = subgraph(model, st.subgraph)?;
    let (op_code, version) = opcode_of(model, &sg, st.op)?;
    let op = sg.operator(st.op).ok_or(Error::InvalidGraph {
        what: "operator",
        index: st.op as i32,
    })?;
    let t_base = bases.tensor[st.subgraph] as usize;
    if op.inputs.len() > MAX_INPUTS {
        return Err(Error::LimitExceeded {
            what: "operator inputs",
            limit: MAX_INPUTS as u32,
        });
    }
    if op.outputs.len() > MAX_OUTPUTS {
        return Err(Error::LimitExceeded {
            what: "operator outputs",
            limit: MAX_OUTPUTS as u32,
        });
    }
    let tensor = |t: i32| {
        sg.tensor(t as usize).ok_or(Error::InvalidGraph {
            what: "tensor",
            index: t,
        })
    };
    let mut inputs: [Option<(i32, Tensor<'m>)>; MAX_INPUTS] = [None; MAX_INPUTS];
    for (slot, t) in inputs.iter_mut().zip(op.inputs.iter()) {
        if t >= 0 {
            *slot = Some((t, tensor(t)?));
        }
    }
    let none = Tensor {
        name: "",
        dtype: DType::Other(255),
        shape: Shape::default(),
        quant: Quant::default(),
        data: None,
        buffer: 0,
        is_variable: false,
    };
    let mut outputs: [(i32, Tensor<'m>); MAX_OUTPUTS] = [(-1, none); MAX_OUTPUTS];
    for (slot, t) in outputs.iter_mut().zip(op.outputs.iter()) {
        *slot = (t, tensor(t)?);
    }
    let (n_in, n_out) = (op.inputs.len(), op.outputs.len());

    // Inputs: constants are placed in the model; anything else must already be written (or be
    // a model input), and stays alive through this step.
    if let Some(locs) = locs.as_deref_mut() {
        for &(t, tensor) in inputs[..n_in].iter().flatten() {
            let g = t_base + t as usize;
            if let Some(data) = tensor.data {
                let off = data.as_ptr() as usize - model.bytes().as_ptr() as usize;
                locs[g].len = data.len() as u32;
                locs[g].set(Place::Const(off as u32))?;
                continue;
            }
            if tensor.dtype == DType::Resource {
                continue;
            }
            let r = plan::root(locs, g);
            match locs[r].place() {
                Place::Pending => locs[r].touch(st.step),
                Place::Const(_) => {}
                _ => {
                    return Err(Error::InvalidGraph {
                        what: "tensor read before any operator writes it",
                        index: t,
                    })
                }
            }
            if r != g {
                locs[g].touch(st.step);
            }
        }
    }

    let kernel = match op_code {
        BuiltinOp::RESHAPE | BuiltinOp::SQUEEZE | BuiltinOp::EXPAND_DIMS => {
            let (src_t, src) = inputs[0].ok_or(Error::InvalidGraph {
                what: "RESHAPE without input",
                index: st.op as i32,
            })?;
            let (dst_t, dst) = outputs[0];
            if n_out != 1 || src.bytes() != dst.bytes() || src.dtype != dst.dtype {
                return Err(Error::ShapeMismatch {
                    op: op_code,
                    tensor: dst_t,
                });
            }
            if let Some(locs) = locs {
                let g_dst = t_base + dst_t as usize;
                if locs[g_dst].place() != Place::Unused {
                    return Err(Error::InvalidGraph {
                        what: "tensor written twice",
                        index: dst_t,
                    });
                }
                let root = plan::root(locs, t_base + src_t as usize);
                locs[g_dst].len = dst.bytes() as u32;
                locs[g_dst].set(Place::Alias(root as u32))?;
                locs[g_dst].touch(st.step);
            }
            return Ok(Kernel::Alias);
        }
        BuiltinOp::CALL_ONCE => {
            let target = call_once_target(model, st.subgraph, st.op)?.unwrap_or(0);
            Kernel::CallOnce {
                subgraph: target as u32,
            }
        }
        BuiltinOp::VAR_HANDLE => {
            if n_out != 1 {
                return Err(Error::InvalidGraph {
                    what: "VAR_HANDLE without exactly one output",
                    index: st.op as i32,
                });
            }
            let id = vars.id(model, var_name(&sg, st.op)?)?;
            if let Some(locs) = locs {
                locs[t_base + outputs[0].0 as usize].set(Place::Resource(id as u32))?;
            }
            return Ok(Kernel::VarHandle);
        }
        BuiltinOp::READ_VARIABLE | BuiltinOp::ASSIGN_VARIABLE => {
            let (r, _) = inputs[0].ok_or(Error::InvalidGraph {
                what: "variable op without resource",
                index: st.op as i32,
            })?;
            let id = vars.resource_of(model, &sg, r)?;
            let (offset, len, default) =
                vars.slot
                    .get(id)
                    .copied()
                    .flatten()
                    .ok_or(Error::InvalidGraph {
                        what: "variable read but never assigned",
                        index: r,
                    })?;
            if op_code == BuiltinOp::READ_VARIABLE {
                if n_out != 1 || outputs[0].1.bytes() as u32 != len {
                    return Err(Error::ShapeMismatch {
                        op: op_code,
                        tensor: outputs[0].0,
                    });
                }
                Kernel::ReadVariable(ops::read_variable::Params { offset, len })
            } else {
                let (v, value) = inputs
                    .get(1)
                    .copied()
                    .flatten()
                    .ok_or(Error::InvalidGraph {
                        what: "ASSIGN_VARIABLE value",
                        index: st.op as i32,
                    })?;
                if value.bytes() as u32 != len {
                    return Err(Error::ShapeMismatch {
                        op: op_code,
                        tensor: v,
                    });
                }
                Kernel::AssignVariable(ops::assign_variable::Params {
                    offset,
                    len,
                    default,
                })
            }
        }
        _ => {
            let mut ctx = PrepareCtx {
                op: op_code,
                version,
                options: op.options,
                inputs: &inputs[..n_in],
                outputs: &outputs[..n_out],
                words,
            };
            ops::prepare(&mut ctx)?
        }
    };

    // Outputs are written at this step (ASSIGN_VARIABLE has none).
    if let Some(locs) = locs {
        for &(t, tensor) in outputs[..n_out].iter() {
            if op_code == BuiltinOp::ASSIGN_VARIABLE {
                break;
            }
            let g = t_base + t as usize;
            if tensor.data.is_some() {
                return Err(Error::InvalidGraph {
                    what: "operator writes a constant tensor",
                    index: t,
                });
            }
            if tensor.dtype == DType::Resource {
                continue;
            }
            let l = &mut locs[g];
            match l.place() {
                Place::Unused => {
                    l.len = tensor.bytes() as u32;
                    l.set(Place::Pending)?;
                }
                _ => {
                    return Err(Error::InvalidGraph {
                        what: "tensor written twice",
                        index: t,
                    })
                }
            }
            l.touch(st.step);
        }
    }
    Ok(kernel)
}

/// Prove, once, the property `invoke`'s unsafe views rely on: every operator's outputs are
/// in-bounds arena ranges that overlap neither each other nor any of its inputs.
fn check_disjoint(
    model: &Model<'_>,
    bases: &Bases,
    locs: &[Loc],
    kernels: &[KernelSlot],
) -> Result<(), Error> {
    for s in 0..bases.count {
        let sg = subgraph(model, s)?;
        let t_base = bases.tensor[s] as usize;
        for k in 0..sg.operator_count() {
            if matches!(
                kernels.get(bases.op[s] as usize + k).map(|k| k.kernel()),
                Some(Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. }) | None
            ) {
                continue;
            }
            let op = sg.operator(k).ok_or(Error::InvalidGraph {
                what: "operator",
                index: k as i32,
            })?;
            let range = |t: i32| -> Option<(u32, u32)> {
                let l = locs.get(plan::root(locs, t_base + t as usize))?;
                match l.place() {
                    Place::Arena(o) => Some((o, o + l.len)),
                    _ => None,
                }
            };
            for (i, o) in op.outputs.iter().enumerate() {
                let Some((a0, a1)) = range(o) else { continue };
                let clash = op
                    .inputs
                    .iter()
                    .filter(|&t| t >= 0)
                    .filter_map(range)
                    .any(|(b0, b1)| a0 < b1 && b0 < a1 && a1 > a0)
                    || op
                        .outputs
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .filter_map(|(_, t)| range(t))
                        .any(|(b0, b1)| a0 < b1 && b0 < a1 && a1 > a0);
                if clash {
                    return Err(Error::InvalidGraph {
                        what: "operator output overlaps another operand",
                        index: o,
                    });
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One small model per kernel kind that keeps parameters in the arena (TFLM-made op
    /// models from the golden suite).
    const MODELS: [(&str, &[u8]); 16] = [
        (
            "conv",
            include_bytes!("../tests/golden/ops/conv_3x3_same_s2_relu6/model.tflite"),
        ),
        (
            "dw",
            include_bytes!("../tests/golden/ops/dw_3x3_same_m2_s1/model.tflite"),
        ),
        (
            "fc",
            include_bytes!("../tests/golden/ops/fc_rank3_keepdims/model.tflite"),
        ),
        (
            "add",
            include_bytes!("../tests/golden/ops/add_bcast_relu6/model.tflite"),
        ),
        (
            "sub",
            include_bytes!("../tests/golden/ops/sub_bcast_r3/model.tflite"),
        ),
        (
            "mul",
            include_bytes!("../tests/golden/ops/mul_bcast_hw/model.tflite"),
        ),
        (
            "avgpool",
            include_bytes!("../tests/golden/ops/avgpool_same_s2_w3/model.tflite"),
        ),
        (
            "maxpool",
            include_bytes!("../tests/golden/ops/maxpool_valid_s1_w2/model.tflite"),
        ),
        (
            "mean",
            include_bytes!("../tests/golden/ops/mean_hw_keep/model.tflite"),
        ),
        (
            "pad",
            include_bytes!("../tests/golden/ops/pad_4d_hw/model.tflite"),
        ),
        (
            "quantize",
            include_bytes!("../tests/golden/ops/quantize_requant_logistic_concat/model.tflite"),
        ),
        (
            "dequantize",
            include_bytes!("../tests/golden/ops/dequantize_out_float/model.tflite"),
        ),
        (
            "softmax",
            include_bytes!("../tests/golden/ops/softmax_r4/model.tflite"),
        ),
        (
            "split",
            include_bytes!("../tests/golden/ops/splitv_axis1_3/model.tflite"),
        ),
        (
            "slice",
            include_bytes!("../tests/golden/ops/ss_shrink/model.tflite"),
        ),
        (
            "relu",
            include_bytes!("../tests/golden/ops/relu_asym/model.tflite"),
        ),
    ];

    /// Soundness: after an interpreter is dropped, every byte of the caller's arena is an
    /// initialised `u8` (kernel slots, placement table, operand lists and parameters are all
    /// padding-free: see `ops::stored`). Reading them is what safe caller code may do; under
    /// Miri (`scripts/miri.sh`) a single uninitialised byte fails this test.
    #[test]
    fn arena_bytes_stay_initialised() {
        for (name, bytes) in MODELS {
            let model = Model::parse(bytes).unwrap();
            let mut arena = std::vec![0u8; 64 * 1024];
            let mut state = [0u8; 64];
            {
                let mut interp = Interpreter::new(&model, &mut arena, &mut state).unwrap();
                for i in 0..subgraph(&model, 0).unwrap().inputs().len() {
                    interp.input_mut(i).unwrap().fill(1);
                }
                interp.invoke().unwrap();
            }
            let sum = arena.iter().fold(0u64, |s, &b| s.wrapping_add(b as u64));
            core::hint::black_box((name, sum));
        }
    }

    /// `invoke_observed` brackets every evaluated operator, in order, and computes the same
    /// output as `invoke`.
    #[test]
    fn invoke_observed_brackets_each_operator() {
        let bytes =
            include_bytes!("../tests/golden/ops/quantize_requant_logistic_concat/model.tflite");
        let model = Model::parse(bytes).unwrap();
        let ops = subgraph(&model, 0).unwrap().operator_count();
        let mut arena = std::vec![0u8; 64 * 1024];
        let mut state = [0u8; 64];
        let mut interp = Interpreter::new(&model, &mut arena, &mut state).unwrap();
        interp.input_mut(0).unwrap().fill(3);
        interp.invoke().unwrap();
        let plain = interp.output(0).unwrap().to_vec();
        let mut seen = std::vec::Vec::new();
        interp.input_mut(0).unwrap().fill(3);
        interp.invoke_observed(|e| seen.push(e)).unwrap();
        assert_eq!(interp.output(0).unwrap(), &plain[..]);
        assert_eq!(seen.len(), 2 * ops);
        for (i, pair) in seen.chunks(2).enumerate() {
            assert_eq!(
                pair[0],
                OpEvent {
                    subgraph: 0,
                    op: i,
                    done: false
                }
            );
            assert_eq!(
                pair[1],
                OpEvent {
                    subgraph: 0,
                    op: i,
                    done: true
                }
            );
        }
    }

    #[test]
    fn kernel_slots_round_trip() {
        let k = Kernel::AssignVariable(ops::assign_variable::Params {
            offset: 7,
            len: 9,
            default: 0x80,
        });
        assert!(matches!(
            k.slot().kernel(),
            Kernel::AssignVariable(p) if p.offset == 7 && p.len == 9 && p.default == 0x80
        ));
        assert!(matches!(
            Kernel::CallOnce { subgraph: 3 }.slot().kernel(),
            Kernel::CallOnce { subgraph: 3 }
        ));
        assert!(matches!(KernelSlot::default().kernel(), Kernel::Alias));
    }
}
