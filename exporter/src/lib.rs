//! Library half of the `mote` CLI, shared with the web playground.
//!
//! - [`report`]: a model's operators, tensors and every byte of memory, as one serialisable value.
//! - [`io`]: reading and writing raw tensor files for `mote infer`.

pub mod io;
pub mod report;
