//! Library half of the `mote` CLI, shared with the web playground.
//!
//! - [`report`]: a model's operators, tensors and every byte of memory, as one serialisable value.
//! - [`export`]: a model → a firmware project zip for an STM32L4 board (`mote export`).
//! - [`io`]: reading and writing raw tensor files for `mote infer`.

pub mod export;
pub mod io;
pub mod report;
