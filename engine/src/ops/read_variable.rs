//! READ_VARIABLE: copy a resource variable's bytes from the state buffer into the output tensor.
//!
//! Which variable is resolved statically by the interpreter (VAR_HANDLE's `shared_name`), so
//! `Params` holds the variable's byte range in the state buffer.

use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters: the variable's bytes in the state buffer.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Offset into the state buffer.
    pub offset: u32,
    /// Length in bytes (equals the output tensor's size).
    pub len: u32,
}

/// READ_VARIABLE is prepared by the interpreter, which knows the variable layout.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    Err(ctx.unsupported())
}

/// Copy state → output.
pub fn eval(p: &Params, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    let (o, n) = (p.offset as usize, p.len as usize);
    let src = ctx.state.get(o..o + n).ok_or(Error::InvalidGraph {
        what: "variable outside state",
        index: o as i32,
    })?;
    match ctx.outputs.first_mut() {
        Some(out) if out.len() == n => super::common::copy_bytes(out, src),
        _ => {
            return Err(Error::InvalidGraph {
                what: "READ_VARIABLE output size",
                index: n as i32,
            })
        }
    }
    Ok(())
}
