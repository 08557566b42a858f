//! RAM and flash a Mote firmware needs for a model, part by part, from the planner's report.
//!
//! RAM: the tensor arena (planned by the engine: persistent tables, prepared kernels,
//! per-channel multipliers, activations), the state buffer for resource variables (streaming
//! state), the audio front end's state and tables ([`frontend_ram_bytes`]), and the audio
//! buffers (a DMA double buffer of one feature step each). Flash: the model file as-is (the
//! engine reads weights in place), split into each layer's weights and the rest of the
//! flatbuffer, plus the code and constant tables (measured, see [`ENGINE_CODE_BYTES`]). The
//! call stack is not included (not measured yet).

use mote_exporter::report::ModelReport;

use crate::boards::{Board, Fit};
use crate::spec::Preset;

// Flash of the code, measured 2026-11-22 on the firmware template (release: opt-level 3, LTO,
// thumbv7em-none-eabihf) with `arm-none-eabi-nm -S` / `size -A`: 161,248 bytes besides the model
// (opt-level "s": 106,412). The template does not link the front end yet: its size is the sum of
// the `frontend` symbols in the engine's thumbv7em rlib (opt-level 3).

/// `mote_engine` machine code, every operator linked (`.text`), bytes.
pub const ENGINE_CODE_BYTES: u32 = 125_126;

/// The audio front end's machine code, bytes.
pub const FRONTEND_CODE_BYTES: u32 = 16_074;

/// Start-up, vector table, UART/semihosting log, `core` and compiler built-ins, bytes.
pub const RUNTIME_CODE_BYTES: u32 = 24_506;

/// Constant tables (`.rodata` besides the model: formatting, op dispatch, constants), bytes.
pub const ENGINE_TABLES_BYTES: u32 = 11_616;

/// RAM of the audio front end (state, window, FFT twiddles, filterbank, PCAN table), bytes:
/// `size_of::<mote_engine::frontend::Frontend>()` on a 32-bit target.
pub fn frontend_ram_bytes() -> u32 {
    crate::pipeline::FRONTEND_RAM_BYTES
}

/// Audio buffers: a DMA double buffer holding one feature step of 16-bit samples per half.
pub fn audio_buffer_bytes(preset: Preset) -> u32 {
    let step_samples = 16 * preset.step_ms();
    2 * step_samples * 2
}

/// One bar of a breakdown.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What it is.
    pub label: String,
    /// Bytes.
    pub bytes: u32,
    /// How the number was obtained.
    pub source: &'static str,
}

/// A layer's share of the model's constant data.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    /// Execution step of the layer that first reads the constants.
    pub step: u32,
    /// Operator name.
    pub op: String,
    /// Bytes of constant tensors (weights, biases, shape operands) first read here.
    pub bytes: u32,
}

/// The whole budget for one model.
#[derive(Clone, Debug, PartialEq)]
pub struct Budget {
    /// RAM parts.
    pub ram: Vec<Part>,
    /// Flash parts (the weights summed; [`Budget::layers`] splits them).
    pub flash: Vec<Part>,
    /// Weights per layer, execution order, layers without constants omitted.
    pub layers: Vec<LayerWeights>,
}

impl Budget {
    /// Breaks the report down for a model fed by `preset`'s front end.
    pub fn new(report: &ModelReport, preset: Preset) -> Budget {
        let ram = vec![
            Part { label: "tensor arena".into(), bytes: report.arena_bytes, source: "engine planner" },
            Part { label: "streaming state".into(), bytes: report.state_bytes, source: "engine planner (resource variables)" },
            Part { label: "audio front end".into(), bytes: frontend_ram_bytes(), source: "size of the engine's Frontend" },
            Part { label: "audio buffers".into(), bytes: audio_buffer_bytes(preset), source: "2 × one feature step of int16" },
        ];
        let layers = layer_weights(report);
        let weights: u32 = layers.iter().map(|l| l.bytes).sum();
        let structure = (report.model_bytes as u32).saturating_sub(weights);
        let flash = vec![
            Part { label: "weights".into(), bytes: weights, source: "constant tensors of the model" },
            Part { label: "model graph".into(), bytes: structure, source: "rest of the .tflite (operators, shapes, quantization, names)" },
            Part { label: "engine code".into(), bytes: ENGINE_CODE_BYTES, source: "firmware template, opt-level 3, measured" },
            Part { label: "front-end code".into(), bytes: FRONTEND_CODE_BYTES, source: "thumbv7em, opt-level 3, measured" },
            Part { label: "start-up, log, core".into(), bytes: RUNTIME_CODE_BYTES, source: "firmware template, measured" },
            Part { label: "tables".into(), bytes: ENGINE_TABLES_BYTES, source: "firmware template .rodata, measured" },
        ];
        Budget { ram, flash, layers }
    }

    /// RAM total.
    pub fn ram_bytes(&self) -> u32 {
        self.ram.iter().map(|p| p.bytes).sum()
    }

    /// Flash total.
    pub fn flash_bytes(&self) -> u32 {
        self.flash.iter().map(|p| p.bytes).sum()
    }

    /// RAM fit on `board`.
    pub fn ram_fit(&self, board: &Board) -> Fit {
        Fit { used: self.ram_bytes(), available: Some(board.ram) }
    }

    /// Flash fit on `board`.
    pub fn flash_fit(&self, board: &Board) -> Fit {
        Fit { used: self.flash_bytes(), available: board.flash }
    }
}

/// Constant tensors attributed to the first operator (in execution order) that reads them.
pub fn layer_weights(report: &ModelReport) -> Vec<LayerWeights> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for op in &report.ops {
        let mut bytes = 0u32;
        for &t in &op.inputs {
            let Ok(t) = usize::try_from(t) else { continue };
            let Some(tensor) = report.tensors.iter().find(|x| x.subgraph == op.subgraph && x.index == t) else {
                continue;
            };
            if tensor.kind == "constant" && seen.insert((op.subgraph, t)) {
                bytes += tensor.bytes;
            }
        }
        if bytes > 0 {
            out.push(LayerWeights { step: op.step, op: op.op.clone(), bytes });
        }
    }
    out
}
