//! Small checked accessors over the model's graph (subgraphs, operator codes, CALL_ONCE and
//! VAR_HANDLE options).

use crate::error::Error;
use crate::model::{BuiltinOp, Model, Subgraph};

pub(super) fn subgraph<'m>(model: &Model<'m>, s: usize) -> Result<Subgraph<'m>, Error> {
    model.subgraph(s).ok_or(Error::IndexOutOfRange {
        what: "subgraph",
        index: s as i32,
        len: model.subgraph_count() as u32,
    })
}

pub(super) fn opcode_of(
    model: &Model<'_>,
    sg: &Subgraph<'_>,
    k: usize,
) -> Result<(BuiltinOp, i32), Error> {
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
pub(super) fn call_once_target(
    model: &Model<'_>,
    s: usize,
    k: usize,
) -> Result<Option<usize>, Error> {
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
pub(super) fn var_name<'m>(sg: &Subgraph<'m>, k: usize) -> Result<(&'m str, &'m str), Error> {
    let o = sg.operator(k).ok_or(Error::InvalidGraph {
        what: "operator",
        index: k as i32,
    })?;
    Ok((o.options.string(0)?, o.options.string(1)?))
}

/// TFLM `FindId`: same shared name, and same container unless either is absent.
pub(super) fn same_variable(a: (&str, &str), b: (&str, &str)) -> bool {
    a.1 == b.1 && (a.0.is_empty() || b.0.is_empty() || a.0 == b.0)
}
