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

mod arena;
mod graph;
mod operands;
mod prepare;
mod prepared;
mod vars;

pub use prepared::{Operand, PreparedOp};

use arena::carve;
use graph::{call_once_target, subgraph};
use operands::{operand_list, operands};
use prepare::{check_disjoint, in_place_permission, prepare_op};
use vars::Vars;

use crate::error::Error;
use crate::model::{DType, Model, Tensor};
use crate::ops::{self, EvalCtx, Kernel, KernelSlot, WordAlloc, MAX_INPUTS, MAX_OUTPUTS};
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

        let (locs, tail) = carve(arena, bases.tensors, Loc::default(), available)?;
        // The tables' size is checked now (the error names what they alone need); they are
        // filled in pass 2, so until then their bytes are the planner's: the kernel table's
        // hold each operator's in-place permission (an `Overlap` is a kernel slot's size), the
        // rest the planner's scratch.
        const _: () = assert!(size_of::<plan::Overlap>() == size_of::<KernelSlot>());
        const _: () = assert!(align_of::<plan::Overlap>() == align_of::<KernelSlot>());
        let (overlaps, rest) = carve(&mut *tail, bases.ops, plan::Overlap::NONE, available)?;
        let (_, rest) = carve(rest, bases.ops, u32::MAX, available)?;
        let callee = |s: usize, k: usize| call_once_target(&model, s, k);

        // Subgraph 0's inputs are alive from the start.
        let sg0 = subgraph(&model, 0)?;
        for t in sg0.inputs().iter() {
            let tensor = sg0.tensor(t as usize).ok_or(Error::InvalidGraph {
                what: "input tensor",
                index: t,
            })?;
            if tensor.data.is_some() || tensor.dtype == DType::Resource {
                return Err(Error::InvalidGraph {
                    what: "model input is a constant or resource",
                    index: t,
                });
            }
            plan::liveness::model_input(locs, t as usize, tensor.bytes() as u32)?;
        }

        // Pass 1: lifetimes and word count.
        let mut measure = WordAlloc::measure();
        let steps = plan::walk(&model, callee, |st| {
            let g = bases.op[st.subgraph] as usize + st.op;
            if let Some(v) = overlaps.get_mut(g) {
                *v = in_place_permission(&model, &bases, st, locs)?;
            }
            let k = prepare_op(&model, &bases, &vars, st, Some(&mut *locs), &mut measure)?;
            operand_list(&model, &bases, st, &k, None, &mut measure)?;
            Ok(())
        })?;
        let words_used = measure.used();

        // Subgraph 0's outputs are alive to the end.
        let end = steps.saturating_sub(1);
        for t in sg0.outputs().iter() {
            plan::liveness::model_output(locs, t as usize, end);
        }
        if options.preserve_all_tensors {
            plan::liveness::preserve_all(locs, end);
        }
        // Nothing runs in place over bytes that must outlive the invoke: a model output (alive
        // to the end, so the last operator could otherwise overwrite it), or any tensor when
        // all are preserved.
        for v in overlaps.iter_mut() {
            let output = sg0
                .outputs()
                .iter()
                .any(|t| plan::root(locs, t as usize) as u32 == v.input);
            if options.preserve_all_tensors || output {
                *v = plan::Overlap::NONE;
            }
        }
        let tensor_bytes = {
            // One id per tensor at most; less room only makes the planner slower.
            let pad = rest.as_ptr().align_offset(align_of::<u32>());
            let room = (rest.len().saturating_sub(pad) / size_of::<u32>()).min(bases.tensors);
            let scratch = carve(rest, room, 0u32, available).map_or(&mut [][..], |(s, _)| s);
            plan::place(locs, overlaps, scratch)?
        };
        let (kernels, rest) = carve(tail, bases.ops, KernelSlot::default(), available)?;
        let (io, rest) = carve(rest, bases.ops, u32::MAX, available)?;

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

        check_disjoint(&model, &bases, locs, kernels, words)?;

        let report = MemoryReport {
            arena_bytes: needed,
            persistent_bytes: region_start as u32,
            kernel_bytes: (bases.ops * (size_of::<KernelSlot>() + size_of::<u32>())) as u32,
            tensor_table_bytes: (bases.tensors * size_of::<Loc>()) as u32,
            word_bytes: (words_used * 4) as u32,
            tensor_bytes,
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
        self.io_description(false, i)
    }
    /// Description of output `i`.
    pub fn output_tensor(&self, i: usize) -> Result<Tensor<'m>, Error> {
        self.io_description(true, i)
    }
    /// Description of subgraph 0's output (`output`) or input `i`.
    fn io_description(&self, output: bool, i: usize) -> Result<Tensor<'m>, Error> {
        let t = self.io_tensor(output, i)?;
        let sg = subgraph(&self.model, 0)?;
        sg.tensor(t as usize).ok_or(Error::InvalidGraph {
            what: if output {
                "output tensor"
            } else {
                "input tensor"
            },
            index: t,
        })
    }

    /// Subgraph 0's input `i` (or output `i`): its tensor index.
    fn io_tensor(&self, output: bool, i: usize) -> Result<i32, Error> {
        let sg = subgraph(&self.model, 0)?;
        let (list, what) = if output {
            (sg.outputs(), "output")
        } else {
            (sg.inputs(), "input")
        };
        list.get(i).ok_or(Error::IndexOutOfRange {
            what,
            index: i as i32,
            len: list.len() as u32,
        })
    }

    /// The bytes of input `i`, to fill before [`Interpreter::invoke`].
    pub fn input_mut(&mut self, i: usize) -> Result<&mut [u8], Error> {
        let t = self.io_tensor(false, i)?;
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
        let t = self.io_tensor(true, i)?;
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
            // Input 0 and output 0 overlapping: the kernel runs in place (`check_disjoint`
            // proved the kernel allows this layout and no other operand touches their union).
            let arena_range = |i: usize| match list.root(i).and_then(|r| self.locs.get(r)) {
                Some(l) => match l.place() {
                    Place::Arena(o) => Some((o as usize, o as usize + l.len as usize)),
                    _ => None,
                },
                None => None,
            };
            let shared = match (arena_range(0), arena_range(n_in)) {
                (Some(i), Some(o)) if n_in > 0 && n_out > 0 && i.0 < o.1 && o.0 < i.1 => {
                    let (lo, hi) = (i.0.min(o.0), i.1.max(o.1));
                    (hi <= region_len).then_some((lo, hi, i.0 - lo, o.0 - lo))
                }
                _ => None,
            };
            let first = usize::from(shared.is_some());
            for (i, slot) in ins.iter_mut().enumerate().take(n_in).skip(first) {
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
            for (i, slot) in outs.iter_mut().enumerate().take(n_out).skip(first) {
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
            let r = match shared {
                Some((lo, hi, input, output)) => {
                    // SAFETY: in bounds (checked above); `check_disjoint` proved that no other
                    // operand of this operator overlaps `lo..hi` (the union of input 0 and
                    // output 0), so this is the only view of these bytes.
                    let bytes = unsafe { core::slice::from_raw_parts_mut(base.add(lo), hi - lo) };
                    let io = ops::InPlace {
                        bytes,
                        input,
                        output,
                    };
                    ops::eval_in_place(&kernel, &mut ctx, io)
                }
                None => ops::eval(&kernel, &mut ctx),
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One small model per kernel kind that keeps parameters in the arena (TFLM-made op
    /// models from the golden suite).
    const MODELS: [(&str, &[u8]); 16] = [
        (
            "conv",
            include_bytes!("../../tests/golden/ops/conv_3x3_same_s2_relu6/model.tflite"),
        ),
        (
            "dw",
            include_bytes!("../../tests/golden/ops/dw_3x3_same_m2_s1/model.tflite"),
        ),
        (
            "fc",
            include_bytes!("../../tests/golden/ops/fc_rank3_keepdims/model.tflite"),
        ),
        (
            "add",
            include_bytes!("../../tests/golden/ops/add_bcast_relu6/model.tflite"),
        ),
        (
            "sub",
            include_bytes!("../../tests/golden/ops/sub_bcast_r3/model.tflite"),
        ),
        (
            "mul",
            include_bytes!("../../tests/golden/ops/mul_bcast_hw/model.tflite"),
        ),
        (
            "avgpool",
            include_bytes!("../../tests/golden/ops/avgpool_same_s2_w3/model.tflite"),
        ),
        (
            "maxpool",
            include_bytes!("../../tests/golden/ops/maxpool_valid_s1_w2/model.tflite"),
        ),
        (
            "mean",
            include_bytes!("../../tests/golden/ops/mean_hw_keep/model.tflite"),
        ),
        (
            "pad",
            include_bytes!("../../tests/golden/ops/pad_4d_hw/model.tflite"),
        ),
        (
            "quantize",
            include_bytes!("../../tests/golden/ops/quantize_requant_logistic_concat/model.tflite"),
        ),
        (
            "dequantize",
            include_bytes!("../../tests/golden/ops/dequantize_out_float/model.tflite"),
        ),
        (
            "softmax",
            include_bytes!("../../tests/golden/ops/softmax_r4/model.tflite"),
        ),
        (
            "split",
            include_bytes!("../../tests/golden/ops/splitv_axis1_3/model.tflite"),
        ),
        (
            "slice",
            include_bytes!("../../tests/golden/ops/ss_shrink/model.tflite"),
        ),
        (
            "relu",
            include_bytes!("../../tests/golden/ops/relu_asym/model.tflite"),
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
            include_bytes!("../../tests/golden/ops/quantize_requant_logistic_concat/model.tflite");
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

    /// An operator planned in place (DEPTHWISE_CONV_2D with depth multiplier 2: its output,
    /// twice the input, starts below the input and overlaps it) computes what it computes
    /// with every tensor kept apart; under Miri this covers the one view `invoke` makes of
    /// the two.
    #[test]
    fn in_place_operator_equals_separate_buffers() {
        let bytes = include_bytes!("../../tests/golden/ops/dw_3x3_same_m2_s1/model.tflite");
        let model = Model::parse(bytes).unwrap();
        let mut outputs = std::vec::Vec::new();
        for preserve_all_tensors in [false, true] {
            let mut arena = std::vec![0u8; 16 * 1024];
            let opts = InterpreterOptions {
                preserve_all_tensors,
            };
            let mut interp = Interpreter::with_options(&model, &mut arena, &mut [], opts).unwrap();
            let p = interp.prepared_op(0, 0).unwrap();
            let (Operand::Arena { offset: a, len: n }, Operand::Arena { offset: b, len: m }) =
                (p.inputs[0], p.outputs[0])
            else {
                panic!("operands not in the arena");
            };
            assert_eq!(a < b + m && b < a + n, !preserve_all_tensors, "overlap");
            for (i, v) in interp.input_mut(0).unwrap().iter_mut().enumerate() {
                *v = (i * 37 % 251) as u8;
            }
            interp.invoke().unwrap();
            outputs.push(interp.output(0).unwrap().to_vec());
        }
        assert_eq!(outputs[0], outputs[1]);
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
