//! RELU (not implemented yet).

use super::{EvalCtx, PrepareCtx};
use crate::error::Error;

/// Prepared parameters.
#[derive(Clone, Copy, Debug)]
pub struct Params {}

/// Validate and precompute.
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Params, Error> {
    Err(ctx.unsupported())
}

/// Compute.
pub fn eval(_p: &Params, _ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    Ok(())
}
