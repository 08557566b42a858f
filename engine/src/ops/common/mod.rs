//! Helpers shared by several kernels: activation ranges, padding, quantization checks.
//! Each names the TFLM function whose behaviour it reproduces.

//!
//! One file per concern: [`activation`], [`window`], [`quant`] (checks, multipliers, the int8
//! output stage), [`pool`], [`elem`] (broadcasting, constant inputs), [`copy`] (short byte
//! copies for the data-movement kernels), [`in_place`] (windowed kernels over overlapping
//! input and output); everything is re-exported
//! here, so kernels name `common::X`.

// What the submodules share (`use super::*` in each).
#[allow(unused_imports)]
use super::{PrepareCtx, Span};
use crate::error::Error;
use crate::fixedpoint::quantize_multiplier;
use crate::model::{DType, Tensor};

mod activation;
mod copy;
mod elem;
mod in_place;
mod pool;
mod quant;
mod window;

pub use activation::*;
pub use copy::*;
pub use elem::*;
pub use in_place::*;
pub use pool::*;
pub use quant::*;
pub use window::*;

#[cfg(test)]
pub(crate) mod test_util;
#[cfg(test)]
mod tests;
