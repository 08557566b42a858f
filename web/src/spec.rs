//! How to run a keyword model on live audio, worked out from the model's input/output tensors
//! and the optional sidecar: which front end feeds it, how many feature frames each invocation
//! takes, how its output becomes per-label scores, and when a score counts as a detection.
//!
//! Two shapes of model are understood:
//! - streaming (microWakeWord): input `[1, N, C]` int8, resource variables carry state, so each
//!   invocation gets the N newest frames and nothing twice;
//! - windowed (TFLM micro_speech): input `[1, F·C]` (or `[1, F, C]`) with no state, so each
//!   invocation sees the last F frames, re-run after every new frame.

use mote_engine::model::DType;
use mote_engine::Model;

use crate::sidecar::Sidecar;

/// Feature channels per frame of both supported front ends.
pub const CHANNELS: usize = 40;

/// Which front-end configuration the model was trained with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// microWakeWord: 30 ms window, 10 ms hop, classic micro-frontend, pymicro_wakeword's int8 map.
    MicroWakeWord,
    /// TFLM micro_speech: 30 ms window, 20 ms hop, signal-library arithmetic, its int8 map.
    MicroSpeech,
}

impl Preset {
    /// Hop between feature frames in ms.
    pub fn step_ms(self) -> u32 {
        match self {
            Preset::MicroWakeWord => 10,
            Preset::MicroSpeech => 20,
        }
    }
}

/// How feature frames become model inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    /// Each invocation takes `frames` new frames (state lives in the model's variables).
    Streaming {
        /// Frames per invocation.
        frames: usize,
    },
    /// Each invocation sees the newest `frames` frames; one invocation per new frame.
    Window {
        /// Frames in the window.
        frames: usize,
    },
}

impl Feed {
    /// Frames in one input tensor.
    pub fn input_frames(self) -> usize {
        match self {
            Feed::Streaming { frames } | Feed::Window { frames } => frames,
        }
    }

    /// New frames between invocations.
    pub fn hop_frames(self) -> usize {
        match self {
            Feed::Streaming { frames } => frames,
            Feed::Window { .. } => 1,
        }
    }
}

/// Everything the live pipeline needs to know about a model.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Front-end configuration.
    pub preset: Preset,
    /// Input 0's quantization (scale, zero point): microWakeWord's int8 map depends on it.
    pub input_quant: (f32, i32),
    /// Frames per invocation and hop.
    pub feed: Feed,
    /// Output 0: `uint8` (true) or `int8`.
    pub output_unsigned: bool,
    /// Output 0's quantization (scale, zero point).
    pub output_quant: (f32, i32),
    /// One label per output element.
    pub labels: Vec<String>,
    /// Whether each label may fire (micro_speech's `silence` and `unknown` never do).
    pub fires: Vec<bool>,
    /// Sliding-window mean a label must reach, 0..1.
    pub cutoff: f32,
    /// Invocations in the sliding window.
    pub window: usize,
    /// Invocations ignored after a detection (one second of audio).
    pub refractory: usize,
}

impl RunSpec {
    /// Works out the spec, or says in a sentence why the model cannot run on live audio.
    pub fn derive(model: &Model<'_>, sidecar: Option<&Sidecar>, fallback_label: &str) -> Result<RunSpec, String> {
        let sg = model.subgraph(0).ok_or("the model has no subgraph")?;
        if sg.inputs().len() != 1 || sg.outputs().len() != 1 {
            return Err(format!(
                "the live demo feeds models with one input and one output; this one has {} inputs and {} outputs",
                sg.inputs().len(),
                sg.outputs().len()
            ));
        }
        let tensor = |i: i32| sg.tensor(i as usize).ok_or("the model's input/output tensor index is out of range");
        let input = tensor(sg.inputs().get(0).unwrap_or(-1))?;
        let output = tensor(sg.outputs().get(0).unwrap_or(-1))?;
        if input.dtype != DType::I8 {
            return Err(format!(
                "input 0 is {}: the live demo feeds int8 audio features (quantize the model's input to int8)",
                input.dtype.name()
            ));
        }
        let elements = input.shape.elements().unwrap_or(0);
        if elements == 0 || elements % CHANNELS != 0 {
            return Err(format!(
                "input 0 has shape {:?}: expected a whole number of {CHANNELS}-channel feature frames",
                input.shape.dims()
            ));
        }
        let frames = elements / CHANNELS;
        let streaming = has_variables(model);
        let feed = if streaming { Feed::Streaming { frames } } else { Feed::Window { frames } };

        let output_unsigned = match output.dtype {
            DType::U8 => true,
            DType::I8 => false,
            other => {
                return Err(format!(
                    "output 0 is {}: the live demo reads int8 or uint8 scores",
                    other.name()
                ))
            }
        };
        let classes = output.shape.elements().unwrap_or(0);
        if classes == 0 {
            return Err("output 0 is empty".into());
        }
        let micro = sidecar.map(|s| s.micro.clone()).unwrap_or_default();
        let preset = match micro.feature_step_size {
            Some(20) => Preset::MicroSpeech,
            Some(10) => Preset::MicroWakeWord,
            Some(other) => {
                return Err(format!(
                    "the sidecar asks for a {other} ms feature step; the front ends here use 10 ms (microWakeWord) or 20 ms (micro_speech)"
                ))
            }
            None if streaming => Preset::MicroWakeWord,
            None => Preset::MicroSpeech,
        };
        let labels = match sidecar.and_then(|s| s.labels.clone()) {
            Some(l) if l.len() == classes => l,
            Some(l) => {
                return Err(format!(
                    "the sidecar lists {} labels but output 0 has {classes} values",
                    l.len()
                ))
            }
            None if classes == 1 => {
                vec![sidecar.and_then(|s| s.wake_word.clone()).unwrap_or_else(|| fallback_label.to_string())]
            }
            None => (0..classes).map(|i| format!("class {i}")).collect(),
        };
        let fires = labels.iter().map(|l| label_fires(l)).collect();
        Ok(RunSpec {
            preset,
            input_quant: (input.quant.scale(), input.quant.zero_point()),
            feed,
            output_unsigned,
            output_quant: (output.quant.scale(), output.quant.zero_point()),
            labels,
            fires,
            cutoff: micro.probability_cutoff.unwrap_or(if classes == 1 { 0.5 } else { 0.8 }).clamp(0.0, 1.0),
            window: micro.sliding_window_size.unwrap_or(if streaming { 5 } else { 3 }).clamp(1, 100),
            refractory: (1000 / (feed.hop_frames() as u32 * preset.step_ms()).max(1)) as usize,
        })
    }

    /// Output bytes → one score per label in 0..1 (dequantized; unquantized outputs read as 1/255 steps).
    pub fn scores(&self, output: &[u8], out: &mut Vec<f32>) {
        out.clear();
        let (scale, zp) = self.output_quant;
        let scale = if scale > 0.0 { scale } else { 1.0 / 255.0 };
        out.extend(output.iter().take(self.labels.len()).map(|&b| {
            let q = if self.output_unsigned { i32::from(b) } else { i32::from(b as i8) };
            ((q - zp) as f32 * scale).clamp(0.0, 1.0)
        }));
    }
}

/// Background classes never fire a detection (micro_speech's `silence` and `unknown`).
fn label_fires(label: &str) -> bool {
    let l = label.trim_matches('_').to_ascii_lowercase();
    l != "silence" && l != "unknown" && l != "background" && l != "noise"
}

/// Whether the model keeps state between invocations (resource or legacy variable tensors).
fn has_variables(model: &Model<'_>) -> bool {
    (0..model.subgraph_count()).filter_map(|s| model.subgraph(s)).any(|sg| {
        (0..sg.tensor_count())
            .filter_map(|t| sg.tensor(t))
            .any(|t| t.dtype == DType::Resource || t.is_variable)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_labels_do_not_fire() {
        assert!(!label_fires("silence"));
        assert!(!label_fires("_unknown_"));
        assert!(label_fires("yes"));
        assert!(label_fires("Okay Nabu"));
    }
}
