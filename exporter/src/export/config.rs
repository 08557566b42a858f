//! The generated `mote/config.rs`: everything the firmware needs to know about this export, as
//! Rust constants — exact arena and state sizes from the planner, labels, detector thresholds,
//! the front-end preset — and the sidecar it came from.

use std::fmt::Write as _;

use mote_engine::detector::{self, DetectorConfig, Mode, OutputType, Preset, PresetKind};
use mote_engine::model::DType;
use mote_engine::Model;
use serde::Serialize;

use super::board::Board;
use super::fit::Fit;
use super::wav::Audio16k;
use super::ExportError;
use crate::report::ModelReport;

/// The fields of a sidecar JSON the pipeline reads (microWakeWord's `.json`, plus an optional
/// top-level `labels` array for command models).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sidecar {
    /// `wake_word`: the wake word's display name.
    pub wake_word: Option<String>,
    /// `labels`: output label names (command models).
    pub labels: Option<Vec<String>>,
    /// `micro.probability_cutoff`.
    pub probability_cutoff: Option<f64>,
    /// `micro.sliding_window_size`.
    pub sliding_window_size: Option<u8>,
    /// `micro.feature_step_size` (ms).
    pub feature_step_size: Option<u16>,
}

impl Sidecar {
    /// Reads the sidecar JSON text.
    pub fn parse(text: &str) -> Result<Sidecar, ExportError> {
        let bad = |m: String| ExportError::Sidecar(m);
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
        let obj = v.as_object().ok_or_else(|| bad("expected a JSON object".into()))?;
        let micro = obj.get("micro").and_then(|m| m.as_object());
        let num = |key: &str| micro.and_then(|m| m.get(key));
        let probability_cutoff = match num("probability_cutoff") {
            None => None,
            Some(x) => Some(
                x.as_f64()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| bad(format!("micro.probability_cutoff = {x}: expected a number in 0..1")))?,
            ),
        };
        let sliding_window_size = match num("sliding_window_size") {
            None => None,
            Some(x) => Some(
                x.as_u64()
                    .and_then(|n| u8::try_from(n).ok())
                    .filter(|&n| n >= 1 && usize::from(n) <= detector::MAX_AVERAGE_WINDOW)
                    .ok_or_else(|| {
                        bad(format!(
                            "micro.sliding_window_size = {x}: expected an integer in 1..={}",
                            detector::MAX_AVERAGE_WINDOW
                        ))
                    })?,
            ),
        };
        let feature_step_size = match num("feature_step_size") {
            None => None,
            Some(x) => Some(
                x.as_u64()
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|&n| n >= 1)
                    .ok_or_else(|| bad(format!("micro.feature_step_size = {x}: expected milliseconds")))?,
            ),
        };
        let labels = match obj.get("labels") {
            None => None,
            Some(serde_json::Value::Array(a)) => Some(
                a.iter()
                    .map(|l| l.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| bad("labels: expected an array of strings".into()))?,
            ),
            Some(_) => return Err(bad("labels: expected an array of strings".into())),
        };
        let wake_word = obj.get("wake_word").and_then(|w| w.as_str()).map(str::to_string);
        Ok(Sidecar {
            wake_word,
            labels,
            probability_cutoff,
            sliding_window_size,
            feature_step_size,
        })
    }
}

/// How the firmware's pipeline runs this model (what `mote detect` uses for the same model).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Settings {
    /// Front-end preset name: `micro_wakeword` or `micro_speech`.
    pub frontend: &'static str,
    /// Feature frames per model input.
    pub window_frames: u8,
    /// New frames between invocations.
    pub stride_frames: u8,
    /// Frame step in ms.
    pub frame_step_ms: u16,
    /// Label names, one per score (a wake word: its name).
    pub labels: Vec<String>,
    /// Detector rule, as Rust source (`mote_engine::detector::DetectorConfig` literal).
    pub detector_rs: String,
    /// Detector rule, for people.
    pub detector_text: String,
    /// Input tensor bytes per invocation.
    pub input_bytes: usize,
    /// Output tensor bytes per invocation.
    pub output_bytes: usize,
    #[serde(skip)]
    preset: Option<Preset>,
}

impl Settings {
    /// The pipeline settings for `model` (+ `sidecar`), or why it is not a model the audio
    /// pipeline can feed.
    pub fn for_model(model: &Model<'_>, sidecar: Option<&Sidecar>) -> Result<Settings, ExportError> {
        let not_audio = |m: String| ExportError::NotAudioModel(m);
        let sg = model.subgraph(0).ok_or_else(|| not_audio("no subgraph".into()))?;
        if sg.inputs().len() != 1 || sg.outputs().len() != 1 {
            return Err(not_audio(format!(
                "the audio pipeline feeds models with one input and one output; this one has {} and {}",
                sg.inputs().len(),
                sg.outputs().len()
            )));
        }
        let tensor = |i: Option<i32>| {
            i.and_then(|i| usize::try_from(i).ok())
                .and_then(|i| sg.tensor(i))
                .ok_or_else(|| not_audio("input/output tensor missing".into()))
        };
        let input = tensor(sg.inputs().get(0))?;
        let output = tensor(sg.outputs().get(0))?;
        let dims = input.shape.dims();
        let preset = detector::defaults_for_input_shape(dims).ok_or_else(|| {
            not_audio(format!(
                "input shape {dims:?} is neither micro_speech's 49 x 40 features nor a microWakeWord [1, frames, 40]"
            ))
        })?;
        if input.dtype != DType::I8 {
            return Err(not_audio(format!("input is {}, the front end produces int8", input.dtype.name())));
        }
        let out_type = match output.dtype {
            DType::U8 => OutputType::Uint8,
            DType::I8 => OutputType::Int8,
            d => return Err(not_audio(format!("output is {}, expected uint8 or int8 scores", d.name()))),
        };
        let outputs = output.bytes();
        let mut labels: Vec<String> = match (preset.kind, sidecar.and_then(|s| s.labels.clone())) {
            (_, Some(l)) => l,
            (PresetKind::MicroSpeech, None) => preset.labels().iter().map(|s| s.to_string()).collect(),
            (PresetKind::MicroWakeWord, None) => vec![sidecar
                .and_then(|s| s.wake_word.clone())
                .unwrap_or_else(|| "wake_word".into())],
        };
        if labels.is_empty() {
            labels.push("wake_word".into());
        }
        let detector = match sidecar {
            Some(s) if s.probability_cutoff.is_some() || s.sliding_window_size.is_some() => {
                let (default_cutoff, default_window) = match preset.kind {
                    PresetKind::MicroSpeech => (200.0 / 256.0, 3),
                    PresetKind::MicroWakeWord => (0.9, 5),
                };
                let l: Vec<&str> = labels.iter().map(String::as_str).collect();
                DetectorConfig::from_sidecar(
                    s.probability_cutoff.unwrap_or(default_cutoff),
                    s.sliding_window_size.unwrap_or(default_window),
                    (preset.kind == PresetKind::MicroSpeech || s.labels.is_some()).then_some(&l[..]),
                )?
            }
            _ => preset.detector_config(),
        }
        .with_output(out_type);
        if detector.num_scores() != outputs {
            return Err(not_audio(format!(
                "the output has {outputs} scores but the detector expects {} ({} labels)",
                detector.num_scores(),
                labels.len()
            )));
        }
        let frame_step_ms = sidecar
            .and_then(|s| s.feature_step_size)
            .unwrap_or(preset.frame_step_ms);
        if frame_step_ms != preset.frame_step_ms {
            return Err(ExportError::Sidecar(format!(
                "micro.feature_step_size = {frame_step_ms} ms, but this model's front end steps {} ms",
                preset.frame_step_ms
            )));
        }
        Ok(Settings {
            frontend: match preset.kind {
                PresetKind::MicroSpeech => "micro_speech",
                PresetKind::MicroWakeWord => "micro_wakeword",
            },
            window_frames: preset.window_frames,
            stride_frames: preset.stride_frames,
            frame_step_ms,
            labels,
            detector_rs: detector_rs(&detector),
            detector_text: detector_text(&detector),
            input_bytes: input.bytes(),
            output_bytes: outputs,
            preset: Some(preset),
        })
    }
}

fn detector_rs(d: &DetectorConfig) -> String {
    let output = match d.output {
        OutputType::Uint8 => "OutputType::Uint8",
        OutputType::Int8 => "OutputType::Int8",
    };
    let mode = match d.mode {
        Mode::WakeWord {
            min_sum,
            sliding_window,
            refractory_ms,
        } => format!(
            "Mode::WakeWord {{ min_sum: {min_sum}, sliding_window: {sliding_window}, refractory_ms: {refractory_ms} }}"
        ),
        Mode::Commands {
            labels,
            keywords,
            threshold,
            suppression_ms,
            average_window,
            minimum_count,
        } => format!(
            "Mode::Commands {{ labels: {labels}, keywords: {keywords:#b}, threshold: {threshold}, suppression_ms: {suppression_ms}, average_window: {average_window}, minimum_count: {minimum_count} }}"
        ),
    };
    format!("DetectorConfig {{ mode: {mode}, output: {output} }}")
}

fn detector_text(d: &DetectorConfig) -> String {
    match d.mode {
        Mode::WakeWord {
            min_sum,
            sliding_window,
            refractory_ms,
        } => format!(
            "wake word: fires when the sum of the last {sliding_window} scores (256 = probability 1) is at least {min_sum}; then quiet for {refractory_ms} ms"
        ),
        Mode::Commands {
            threshold,
            suppression_ms,
            average_window,
            minimum_count,
            ..
        } => format!(
            "commands: top label's mean score over {average_window} invocations (at least {minimum_count}) must exceed {threshold}/256; repeats suppressed for {suppression_ms} ms"
        ),
    }
}

/// What [`render`] writes about.
pub struct Inputs<'a> {
    /// Project name.
    pub name: &'a str,
    /// Target board.
    pub board: &'a Board,
    /// The model's report (planner sizes).
    pub report: &'a ModelReport,
    /// Pipeline settings.
    pub settings: &'a Settings,
    /// The sidecar, if any.
    pub sidecar: Option<&'a Sidecar>,
    /// Replay audio, if any.
    pub replay: Option<&'a Audio16k>,
    /// The fit estimate.
    pub fit: &'a Fit,
}

/// The text of `mote/config.rs`.
pub fn render(i: &Inputs<'_>) -> String {
    let s = i.settings;
    let mut o = String::new();
    let w = &mut o;
    // Writing into a String cannot fail.
    let _ = writeln!(w, "// @generated by `mote export` ({} for {}); do not edit.", i.name, i.board.name);
    let _ = writeln!(w, "// Regenerate with `mote export` to change the model, board or settings.");
    let _ = writeln!(w);
    let _ = writeln!(w, "/// Board this project was exported for (the `board-*` Cargo feature selects memory and pins).");
    let _ = writeln!(w, "pub const BOARD: &str = {:?};", i.board.id);
    let mode = if i.replay.is_some() { "replay" } else { "mic" };
    let _ = writeln!(w, "/// Audio source: `mic` (the board's microphone) or `replay` (`mote/replay.pcm` from flash, then exit).");
    let _ = writeln!(w, "pub const MODE: &str = {mode:?};");
    let _ = writeln!(w, "/// Tensor arena bytes: exactly what the planner needs for this model (persistent {} + tensors {}).", i.report.memory.persistent_bytes, i.report.memory.tensor_bytes);
    let _ = writeln!(w, "pub const ARENA_BYTES: usize = {};", i.report.arena_bytes);
    let _ = writeln!(w, "/// Resource-variable state bytes (streaming models), exact.");
    let _ = writeln!(w, "pub const STATE_BYTES: usize = {};", i.report.state_bytes);
    let _ = writeln!(w, "/// Model bytes (`mote/model.tflite`).");
    let _ = writeln!(w, "pub const MODEL_BYTES: usize = {};", i.report.model_bytes);
    let _ = writeln!(w, "/// Multiply-accumulates per invocation.");
    let _ = writeln!(w, "pub const MACS: u64 = {};", i.report.macs);
    let _ = writeln!(w, "/// Front-end preset (`mote_engine::frontend::FrontendConfig::{}`).", s.frontend);
    let _ = writeln!(w, "pub const FRONTEND: &str = {:?};", s.frontend);
    let _ = writeln!(w, "/// Feature frames per model input, new frames per invocation, frame step (ms).");
    let _ = writeln!(w, "pub const WINDOW_FRAMES: u8 = {};", s.window_frames);
    let _ = writeln!(w, "/// New feature frames between invocations.");
    let _ = writeln!(w, "pub const STRIDE_FRAMES: u8 = {};", s.stride_frames);
    let _ = writeln!(w, "/// Feature frame step, ms.");
    let _ = writeln!(w, "pub const FRAME_STEP_MS: u16 = {};", s.frame_step_ms);
    let _ = writeln!(w, "/// Output labels, one per score.");
    let _ = write!(w, "pub const LABELS: &[&str] = &[");
    for (k, l) in s.labels.iter().enumerate() {
        let _ = write!(w, "{}{l:?}", if k == 0 { "" } else { ", " });
    }
    let _ = writeln!(w, "];");
    let _ = writeln!(w, "/// Detector: {}.", s.detector_text);
    let _ = writeln!(w, "pub const DETECTOR: mote_engine::detector::DetectorConfig = {{");
    let _ = writeln!(w, "    use mote_engine::detector::{{DetectorConfig, Mode, OutputType}};");
    let _ = writeln!(w, "    {}", s.detector_rs);
    let _ = writeln!(w, "}};");
    let _ = writeln!(w, "/// The sidecar's settings (`None`: the preset's defaults).");
    match i.sidecar {
        Some(sc) => {
            let _ = writeln!(
                w,
                "pub const SIDECAR_PROBABILITY_CUTOFF: Option<f64> = {};",
                sc.probability_cutoff.map_or("None".into(), |p| format!("Some({p:?})"))
            );
            let _ = writeln!(w, "/// The sidecar's averaging window (`None`: the preset's default).");
            let _ = writeln!(
                w,
                "pub const SIDECAR_SLIDING_WINDOW: Option<u8> = {};",
                sc.sliding_window_size.map_or("None".into(), |p| format!("Some({p})"))
            );
        }
        None => {
            let _ = writeln!(w, "pub const SIDECAR_PROBABILITY_CUTOFF: Option<f64> = None;");
            let _ = writeln!(w, "/// The sidecar's averaging window (`None`: the preset's default).");
            let _ = writeln!(w, "pub const SIDECAR_SLIDING_WINDOW: Option<u8> = None;");
        }
    }
    let _ = writeln!(w, "/// Replay samples (16 kHz mono int16 in `mote/replay.pcm`; 0 in mic mode).");
    let _ = writeln!(w, "pub const REPLAY_SAMPLES: usize = {};", i.replay.map_or(0, |r| r.samples.len()));
    let _ = writeln!(w, "/// Estimated flash and RAM use against the board (bytes), see `mote/report.md`.");
    let _ = writeln!(w, "pub const ESTIMATED_FLASH: u32 = {};", i.fit.flash_total());
    let _ = writeln!(w, "/// Estimated static RAM (arena, state, pipeline, buffers, stack reserve).");
    let _ = writeln!(w, "pub const ESTIMATED_RAM: u32 = {};", i.fit.ram_total());
    o
}
