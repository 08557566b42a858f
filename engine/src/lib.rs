//! Mote's engine: a `no_std`, allocation-free INT8 interpreter, bit-exact with TensorFlow Lite
//! Micro's reference kernels, plus the audio front end and keyword detector that feed it.
//!
//! Layers, bottom up:
//! - [`model`]: the .tflite reader; validates every offset once, then never fails.
//! - [`fixedpoint`]: the integer arithmetic every kernel shares (TFLM/gemmlowp rounding).
//! - [`ops`]: one file per TFLite builtin; `prepare` validates and precomputes, `eval` computes.
//! - [`plan`]: tensor lifetimes and arena offsets, and the byte-for-byte memory report.
//! - [`interpreter`]: runs a planned model in a caller-provided arena and state buffer.
//! - [`aot`]: runs a model compiled ahead of time (generated Rust calling the kernels directly).
//! - [`pdm`]: PDM microphone bits (2 MHz) → 16 kHz PCM: CIC3/DFSDM model + FIR, register values.
//! - [`resample`]: 44.1/48 kHz (and other rates) → 16 kHz, polyphase FIR, integer arithmetic.
//! - [`frontend`]: 16 kHz audio → TFLM micro-frontend features (fixed point).
//! - [`mfcc`]: 16 kHz audio → MFCCs in `f32` (MLPerf Tiny KWS / `tf.signal`), no FMA.
//! - [`outputs`]: raw model outputs as JSON Lines (`mote infer --json`, firmware infer mode).
//! - [`detector`]: feature-frame window, posterior smoothing, keyword / wake-word events.
//! - [`pipeline`]: samples → features → model → detector, and the JSON Lines all targets print.
//! - [`slot`]: the model slot the prebuilt runtime firmware reads from flash (header, CRC-32, settings).
//! - [`text`]: integers, hex and JSON string contents written without `core::fmt`'s machinery.
//!
//! Nothing here allocates: the caller owns every byte and the planner says how many.
#![no_std]
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

#[cfg(test)]
extern crate std;

pub mod aot;
mod buf;
pub mod detector;
pub mod error;
pub mod fixedpoint;
pub mod frontend;
pub mod interpreter;
pub mod mfcc;
pub mod model;
pub mod ops;
pub mod outputs;
pub mod pdm;
pub mod pipeline;
pub mod plan;
pub mod resample;
pub mod slot;
pub mod text;

pub use error::Error;
pub use interpreter::Interpreter;
pub use model::Model;
pub use plan::MemoryReport;
