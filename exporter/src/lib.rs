//! Library half of the `mote` CLI, shared with the web playground.
//!
//! - [`report`]: a model's operators, tensors and every byte of memory, as one serialisable value.
//! - [`export`]: a model → a firmware project zip for an STM32L4 board (`mote export`).
//! - [`io`]: reading and writing raw tensor files for `mote infer`.
//! - [`sidecar`]: the model's sidecar JSON (labels, thresholds).
//! - [`audio`]: WAV files → 16 kHz mono through the engine's resampler, streamed.
//! - [`resample`]: any rate from 8 to 192 kHz → 16 kHz (the engine's filters, or an interpolating one).
//! - [`detect`]: model + sidecar → the engine's streaming pipeline, and its JSON Lines.
//! - [`energy`]: instructions per invoke from measured per-operator costs, latency, current and
//!   battery life per board and clock.

pub mod audio;
pub mod detect;
pub mod energy;
pub mod export;
pub mod io;
pub mod report;
pub mod resample;
pub mod sidecar;
