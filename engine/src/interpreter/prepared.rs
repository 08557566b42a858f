//! The prepared model, read back: what an ahead-of-time code generator needs from one
//! `Interpreter::new` (per-operator kernels and `Params`, persistent words, planned arena
//! offsets), so the interpreter and the generated code share `prepare` and the planner.

use super::graph::subgraph;
use super::{operands, Interpreter};
use crate::error::Error;
use crate::ops::{Kernel, MAX_INPUTS, MAX_OUTPUTS};
use crate::plan::Place;

/// Where one operand of a prepared operator lives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Operand {
    /// An absent optional input, or an operand with no bytes (resource handle).
    #[default]
    Absent,
    /// `len` bytes at `offset` in the planned tensor region.
    Arena {
        /// Byte offset in the tensor region.
        offset: u32,
        /// Bytes.
        len: u32,
    },
    /// `len` constant bytes at `offset` in the model's bytes.
    Const {
        /// Byte offset in the model.
        offset: u32,
        /// Bytes.
        len: u32,
    },
}

/// One operator as prepared: its kernel and where its operands live.
#[derive(Clone, Copy, Debug)]
pub struct PreparedOp {
    /// The kernel; its `Params` are read with [`crate::ops::literal::kernel_literal`] and
    /// [`Interpreter::words`].
    pub kernel: Kernel,
    /// Inputs, by operator input position (first `n_in`).
    pub inputs: [Operand; MAX_INPUTS],
    /// Number of inputs.
    pub n_in: usize,
    /// Outputs, by operator output position (first `n_out`).
    pub outputs: [Operand; MAX_OUTPUTS],
    /// Number of outputs.
    pub n_out: usize,
}

impl Interpreter<'_, '_> {
    /// The persistent words every prepared kernel's `Params` and per-channel data live in.
    pub fn words(&self) -> &[i32] {
        self.words
    }

    /// Number of operators of subgraph `s` (0 if there is no such subgraph).
    pub fn operator_count(&self, s: usize) -> usize {
        subgraph(&self.model, s).map_or(0, |sg| sg.operator_count())
    }

    /// Operator `op` of subgraph `s` as prepared (kernels `invoke` skips — aliases,
    /// VAR_HANDLE, CALL_ONCE — have no operands).
    pub fn prepared_op(&self, s: usize, op: usize) -> Result<PreparedOp, Error> {
        let bad = Error::InvalidGraph {
            what: "operator",
            index: op as i32,
        };
        let kernel = self.kernel(s, op).ok_or(bad)?;
        let mut p = PreparedOp {
            kernel,
            inputs: [Operand::Absent; MAX_INPUTS],
            n_in: 0,
            outputs: [Operand::Absent; MAX_OUTPUTS],
            n_out: 0,
        };
        if matches!(
            kernel,
            Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. }
        ) {
            return Ok(p);
        }
        let g = self.bases.op[s] as usize + op;
        let list = self
            .io
            .get(g)
            .and_then(|&at| operands(self.words, at))
            .ok_or(bad)?;
        p.n_in = list.n_in.min(MAX_INPUTS);
        p.n_out = list.n_out.min(MAX_OUTPUTS);
        let place = |i: usize| match list.root(i).and_then(|r| self.locs.get(r)) {
            Some(l) => match l.place() {
                Place::Arena(offset) => Operand::Arena { offset, len: l.len },
                Place::Const(offset) => Operand::Const { offset, len: l.len },
                _ => Operand::Absent,
            },
            None => Operand::Absent,
        };
        for i in 0..p.n_in {
            p.inputs[i] = place(i);
        }
        for i in 0..p.n_out {
            p.outputs[i] = place(p.n_in + i);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// The prepared view agrees with the placement table and the memory report.
    #[test]
    fn prepared_ops_match_the_plan() {
        let bytes = include_bytes!("../../tests/golden/ops/conv_3x3_same_s2_relu6/model.tflite");
        let model = Model::parse(bytes).unwrap();
        let mut arena = std::vec![0u8; 64 * 1024];
        let mut state = [0u8; 4];
        let interp = Interpreter::new(&model, &mut arena, &mut state).unwrap();
        let n = interp.operator_count(0);
        assert!(n >= 1);
        let mut convs = 0;
        for k in 0..n {
            let p = interp.prepared_op(0, k).unwrap();
            if let Kernel::Conv2D(_) = p.kernel {
                convs += 1;
                assert_eq!(p.n_out, 1);
                assert!(matches!(p.inputs[1], Operand::Const { .. }), "weights");
                let Operand::Arena { offset, len } = p.outputs[0] else {
                    panic!("output not in arena")
                };
                assert!(offset + len <= interp.memory().tensor_bytes);
            }
        }
        assert_eq!(convs, 1);
        assert!(interp.prepared_op(0, n).is_err());
    }
}
