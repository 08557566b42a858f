//! The Mote browser playground: load a model (a default wake word, or any .tflite with its
//! optional .json sidecar), see whether and how it fits an STM32L4, and run it live on the
//! microphone — all in wasm, nothing leaves the machine.
//!
//! Layers:
//! - model side: [`loaded`] (the exporter's report and pipeline settings), the fit estimate
//!   against [`boards`], the latency estimate ([`perf`]);
//! - audio side: [`audio`] (microphone / file → AudioWorklet chunks) → [`live`] (one task
//!   owning the model) → [`pipeline`] (resample → front end → model → detector);
//! - UI: [`state`] (one reducer) and [`components`] (one function component per file).

pub mod audio;
pub mod board_log;
pub mod boards;
pub mod components;
pub mod live;
pub mod loaded;
pub mod perf;
pub mod pipeline;
pub mod state;
pub mod train;

/// Mounts the playground on `<body>`.
pub fn start() {
    yew::Renderer::<components::app::App>::new().render();
}
