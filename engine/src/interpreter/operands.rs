//! Operand lists: each computing operator's inputs and outputs, resolved at prepare time to
//! root tensor ids (aliases followed) and packed into the persistent words, so `invoke` never
//! reads the flatbuffer's operator table.

use super::graph::subgraph;
use crate::error::Error;
use crate::model::Model;
use crate::ops::{Kernel, WordAlloc};
use crate::plan::{self, Bases, Loc};

/// Words of an operand list of `n` operands: a header word (`n_in | n_out << 16`), then the
/// operands' root tensor ids (global, aliases resolved) as `u16` pairs; `0xFFFF` marks an
/// absent optional input.
pub(super) fn operand_words(n: usize) -> usize {
    1 + n.div_ceil(2)
}

/// Absent operand in an operand list.
pub(super) const NO_OPERAND: u16 = u16::MAX;

/// Allocate (and, with the final `locs`, fill) the operand list of the operator at `st`;
/// returns its first word, or `u32::MAX` for operators `invoke` does not evaluate.
pub(super) fn operand_list(
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
pub(super) struct Operands<'w> {
    pub(super) n_in: usize,
    pub(super) n_out: usize,
    pub(super) ids: &'w [i32],
}

impl Operands<'_> {
    /// Root tensor id of operand `i` (inputs first, then outputs); `None` if absent.
    #[inline]
    pub(super) fn root(&self, i: usize) -> Option<usize> {
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
pub(super) fn operands(words: &[i32], at: u32) -> Option<Operands<'_>> {
    let at = at as usize;
    let head = *words.get(at)? as u32;
    let (n_in, n_out) = ((head & 0xFFFF) as usize, (head >> 16) as usize);
    let ids = words.get(at + 1..at + operand_words(n_in + n_out))?;
    Some(Operands { n_in, n_out, ids })
}
