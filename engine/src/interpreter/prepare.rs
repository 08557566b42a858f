//! Preparing one operator: its kernel (through `ops::prepare`) and, in the measuring pass, the
//! liveness of its tensors (recorded through `plan`); and the disjointness proof `invoke`
//! relies on.

use super::graph::{call_once_target, opcode_of, subgraph, var_name};
use super::vars::Vars;
use crate::error::Error;
use crate::model::{BuiltinOp, DType, Model, Quant, Shape, Tensor};
use crate::ops::{self, Kernel, KernelSlot, PrepareCtx, WordAlloc, MAX_INPUTS, MAX_OUTPUTS};
use crate::plan::{self, liveness, Bases, Loc, Overlap, Place};

/// Prepare one operator. With `locs` (the first pass), also record where its tensors live and
/// that they are alive at `st.step`.
pub(super) fn prepare_op<'m>(
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
    let mut inputs: InputTensors<'m> = [None; MAX_INPUTS];
    let mut outputs: OutputTensors<'m> = [(-1, no_tensor()); MAX_OUTPUTS];
    operator_tensors(&sg, &op, &mut inputs, &mut outputs)?;
    let (n_in, n_out) = (op.inputs.len(), op.outputs.len());

    // Inputs: constants are placed in the model; anything else must already be written (or be
    // a model input), and stays alive through this step.
    if let Some(locs) = locs.as_deref_mut() {
        for &(t, tensor) in inputs[..n_in].iter().flatten() {
            let g = t_base + t as usize;
            if let Some(data) = tensor.data {
                let off = data.as_ptr() as usize - model.bytes().as_ptr() as usize;
                liveness::constant(locs, g, off as u32, data.len() as u32)?;
            } else if tensor.dtype != DType::Resource {
                liveness::read(locs, g, t, st.step)?;
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
                let (g_dst, g_src) = (t_base + dst_t as usize, t_base + src_t as usize);
                liveness::alias(locs, g_dst, dst_t, g_src, dst.bytes() as u32, st.step)?;
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
        _ => ops::prepare(&mut prepare_ctx(
            (op_code, version),
            &op,
            &inputs,
            &outputs,
            words,
        ))?,
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
            liveness::write(locs, g, t, tensor.bytes() as u32, st.step)?;
        }
    }
    Ok(kernel)
}

/// An operator's input tensors by position (`None`: absent optional input).
type InputTensors<'m> = [Option<(i32, Tensor<'m>)>; MAX_INPUTS];
/// An operator's output tensors by position.
type OutputTensors<'m> = [(i32, Tensor<'m>); MAX_OUTPUTS];

/// A tensor slot no operand fills.
fn no_tensor() -> Tensor<'static> {
    Tensor {
        name: "",
        dtype: DType::Other(255),
        shape: Shape::default(),
        quant: Quant::default(),
        data: None,
        buffer: 0,
        is_variable: false,
    }
}

/// The context an operator's prepare reads: `op` (`op_code` at `version`) with the operands
/// [`operator_tensors`] gathered, its first `op.inputs.len()` / `op.outputs.len()`.
#[inline(always)]
fn prepare_ctx<'p, 'm, 'w>(
    (op_code, version): (BuiltinOp, i32),
    op: &crate::model::Operator<'m>,
    inputs: &'p InputTensors<'m>,
    outputs: &'p OutputTensors<'m>,
    words: &'p mut WordAlloc<'w>,
) -> PrepareCtx<'p, 'm, 'w> {
    PrepareCtx {
        op: op_code,
        version,
        options: op.options,
        inputs: &inputs[..op.inputs.len()],
        outputs: &outputs[..op.outputs.len()],
        words,
    }
}

/// Fill `inputs` and `outputs` with operator `op`'s tensors (the first `op.inputs.len()` /
/// `op.outputs.len()`). Into the caller's arrays, not returned: they are kilobytes, and
/// firmware stacks are small.
fn operator_tensors<'m>(
    sg: &crate::model::Subgraph<'m>,
    op: &crate::model::Operator<'m>,
    inputs: &mut InputTensors<'m>,
    outputs: &mut OutputTensors<'m>,
) -> Result<(), Error> {
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
    for (slot, t) in inputs.iter_mut().zip(op.inputs.iter()) {
        if t >= 0 {
            *slot = Some((t, tensor(t)?));
        }
    }
    for (slot, t) in outputs.iter_mut().zip(op.outputs.iter()) {
        *slot = (t, tensor(t)?);
    }
    Ok(())
}

/// The planner's permission for operator `st` to run in place (output 0 over input 0, see
/// `ops::in_place_gap`), or [`Overlap::NONE`]. Called in the measuring pass before the
/// operator's own prepare, with the lifetimes recorded so far (for input 0's alias root).
/// Only a single-output operator whose input 0 is an arena tensor no other input shares.
#[inline(never)] // its operand arrays are off the stack before the operator's prepare runs
pub(super) fn in_place_permission(
    model: &Model<'_>,
    bases: &Bases,
    st: plan::Step,
    locs: &[Loc],
) -> Result<Overlap, Error> {
    let sg = subgraph(model, st.subgraph)?;
    let (op_code, version) = opcode_of(model, &sg, st.op)?;
    if !ops::may_run_in_place(op_code) {
        return Ok(Overlap::NONE);
    }
    let op = sg.operator(st.op).ok_or(Error::InvalidGraph {
        what: "operator",
        index: st.op as i32,
    })?;
    let mut inputs: InputTensors<'_> = [None; MAX_INPUTS];
    let mut outputs: OutputTensors<'_> = [(-1, no_tensor()); MAX_OUTPUTS];
    operator_tensors(&sg, &op, &mut inputs, &mut outputs)?;
    let (n_in, n_out) = (op.inputs.len(), op.outputs.len());
    let t_base = bases.tensor[st.subgraph] as usize;
    let Some((t0, x)) = inputs[0] else {
        return Ok(Overlap::NONE);
    };
    if n_out != 1 || x.data.is_some() || x.dtype == DType::Resource {
        return Ok(Overlap::NONE);
    }
    let input = plan::root(locs, t_base + t0 as usize);
    let shared = inputs[1..n_in]
        .iter()
        .flatten()
        .any(|&(t, _)| plan::root(locs, t_base + t as usize) == input);
    if shared {
        return Ok(Overlap::NONE);
    }
    let mut measure = WordAlloc::measure();
    let mut ctx = prepare_ctx((op_code, version), &op, &inputs, &outputs, &mut measure);
    // A model this prepare rejects fails in the operator's own prepare right after.
    let Ok(Some(gap)) = ops::prepare_in_place_gap(&mut ctx) else {
        return Ok(Overlap::NONE);
    };
    Ok(Overlap {
        output: (t_base + outputs[0].0 as usize) as u32,
        input: input as u32,
        gap,
    })
}

/// Prove, once, the property `invoke`'s unsafe views rely on: every operator's outputs are
/// in-bounds arena ranges that overlap neither each other nor any of its inputs; except that
/// output 0 of a kernel with an [`ops::in_place_gap`] may overlap input 0 from below as far as
/// the gap allows, and then nothing else of the operator touches the bytes of either (they
/// become one exclusive view).
pub(super) fn check_disjoint(
    model: &Model<'_>,
    bases: &Bases,
    locs: &[Loc],
    kernels: &[KernelSlot],
    words: &[i32],
) -> Result<(), Error> {
    let meet = |(a0, a1): (u32, u32), (b0, b1): (u32, u32)| a0 < b1 && b0 < a1 && a1 > a0;
    for s in 0..bases.count {
        let sg = subgraph(model, s)?;
        let t_base = bases.tensor[s] as usize;
        for k in 0..sg.operator_count() {
            let kernel = match kernels.get(bases.op[s] as usize + k).map(|k| k.kernel()) {
                Some(Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. }) | None => {
                    continue
                }
                Some(kernel) => kernel,
            };
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
            let clash = |o: i32| Error::InvalidGraph {
                what: "operator output overlaps another operand",
                index: o,
            };
            // Input 0 and output 0 sharing bytes, as the kernel allows: their union is then
            // the range no other operand may touch.
            let (in0, out0) = (
                op.inputs.get(0).filter(|&t| t >= 0).and_then(range),
                op.outputs.get(0).and_then(range),
            );
            let shared = match (in0, out0, ops::in_place_gap(&kernel, words)) {
                (Some(i), Some(o), gap) if meet(i, o) => {
                    let fits = gap.is_some_and(|g| i.0 as i64 - o.0 as i64 >= g as i64);
                    if !fits || op.outputs.len() != 1 {
                        return Err(clash(op.outputs.get(0).unwrap_or(-1)));
                    }
                    Some((i.0.min(o.0), i.1.max(o.1)))
                }
                _ => None,
            };
            for (i, o) in op.outputs.iter().enumerate() {
                let Some(a) = range(o) else { continue };
                let a = if i == 0 { shared.unwrap_or(a) } else { a };
                let inputs = op.inputs.iter().enumerate().filter(|&(_, t)| t >= 0);
                let bad_in = inputs
                    .filter(|&(j, _)| !(i == 0 && j == 0 && shared.is_some()))
                    .filter_map(|(_, t)| range(t))
                    .any(|b| meet(a, b));
                let bad_out = op
                    .outputs
                    .iter()
                    .enumerate()
                    .filter(|&(j, _)| j != i)
                    .filter_map(|(_, t)| range(t))
                    .any(|b| meet(a, b));
                if bad_in || bad_out {
                    return Err(clash(o));
                }
            }
        }
    }
    Ok(())
}
