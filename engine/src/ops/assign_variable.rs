//! ASSIGN_VARIABLE: copy the value tensor (input 1) into a resource variable in the state buffer.

use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters: the variable's bytes in the state buffer.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Offset into the state buffer.
    pub offset: u32,
    /// Length in bytes (equals the value tensor's size).
    pub len: u32,
    /// The byte a reset fills the variable with (TFLM: the value tensor's zero point as int8).
    pub default: u8,
}

/// ASSIGN_VARIABLE is prepared by the interpreter, which knows the variable layout.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    Err(ctx.unsupported())
}

/// Copy value → state.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let (o, n) = (p.offset as usize, p.len as usize);
    let src = ctx.input(1);
    let dst = ctx.state.get_mut(o..o + n).ok_or(Error::InvalidGraph {
        what: "variable outside state",
        index: o as i32,
    })?;
    if src.len() != n {
        return Err(Error::InvalidGraph {
            what: "ASSIGN_VARIABLE value size",
            index: n as i32,
        });
    }
    super::common::copy_bytes(dst, src);
    Ok(())
}
