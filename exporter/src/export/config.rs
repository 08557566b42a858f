//! The generated `mote/config.rs`: everything the firmware needs to know about this export, as
//! Rust constants — exact arena and state sizes from the planner, labels, detector thresholds,
//! the front-end preset — and the sidecar it came from.

use std::fmt::Write as _;

use mote_engine::detector::{DetectorConfig, Mode, OutputType, Preset, PresetKind};
use mote_engine::pipeline::PipelineConfig;
use mote_engine::Model;
use serde::Serialize;

use super::board::Board;
use super::fit::Fit;
use super::wav::Audio16k;
use super::ExportError;
use crate::detect::{self, Overrides};
use crate::report::ModelReport;
use crate::sidecar::SidecarFile;

/// How the firmware's pipeline runs this model: exactly what `mote detect` derives for the same
/// model and sidecar (both call [`crate::detect::setup`]).
#[derive(Clone, Debug, Serialize)]
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
    /// Detector rule, for people.
    pub detector: String,
    /// The sidecar values handed to `PipelineConfig::for_model` (`None`: no sidecar).
    pub sidecar: Option<SidecarValues>,
    #[serde(skip)]
    config: PipelineConfig,
}

pub use crate::detect::SidecarValues;

impl Settings {
    /// The pipeline settings for `model` (+ `sidecar` JSON text), or why the audio pipeline
    /// cannot feed it.
    pub fn for_model(model: &Model<'_>, sidecar: Option<&str>) -> Result<Settings, ExportError> {
        let file = match sidecar {
            Some(text) => Some(SidecarFile::parse(text).map_err(ExportError::Sidecar)?),
            None => None,
        };
        let setup = detect::setup(model, file.as_ref(), &Overrides::default())
            .map_err(ExportError::Settings)?;
        // What `detect::setup` handed the engine (a sidecar only if a field is set, plus the
        // class names it derived for an N-class micro_speech-shaped model).
        let sidecar = setup.sidecar;
        let c = setup.config;
        Ok(Settings {
            frontend: match c.preset.kind {
                PresetKind::MicroSpeech => "micro_speech",
                PresetKind::MicroWakeWord => "micro_wakeword",
                PresetKind::Mfcc => "mfcc",
            },
            window_frames: c.preset.window_frames,
            stride_frames: c.preset.stride_frames,
            frame_step_ms: c.preset.frame_step_ms,
            labels: setup.labels,
            detector: detector_text(&c.detector),
            sidecar,
            config: c,
        })
    }

    /// The engine configuration.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
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
    /// Replay audio, if any.
    pub replay: Option<&'a Audio16k>,
    /// The fit estimate.
    pub fit: &'a Fit,
}

fn preset_rs(p: &Preset) -> String {
    let kind = match p.kind {
        PresetKind::MicroSpeech => "PresetKind::MicroSpeech",
        PresetKind::MicroWakeWord => "PresetKind::MicroWakeWord",
        PresetKind::Mfcc => "PresetKind::Mfcc",
    };
    format!(
        "Preset {{ kind: {kind}, frame_len: {}, window_frames: {}, stride_frames: {}, frame_step_ms: {} }}",
        p.frame_len, p.window_frames, p.stride_frames, p.frame_step_ms
    )
}

fn option<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "None".to_string(), |x| format!("Some({})", f(x)))
}

fn str_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|l| format!("{l:?}")).collect();
    format!("&[{}]", items.join(", "))
}

/// The text of `mote/config.rs`.
pub fn render(i: &Inputs<'_>) -> String {
    let s = i.settings;
    let c = s.config();
    let m = &i.report.memory;
    let mode = if i.replay.is_some() { "replay" } else { "mic" };
    let sidecar = match &s.sidecar {
        None => "None".to_string(),
        Some(v) => format!(
            "Some(Sidecar {{ probability_cutoff: {}, sliding_window_size: {}, feature_step_size: {}, labels: {}, mfcc: {} }})",
            // `{:?}` prints the shortest text that reads back as the same f64.
            option(v.probability_cutoff, |x| format!("{x:?}")),
            option(v.sliding_window_size, |x| x.to_string()),
            option(v.feature_step_size, |x| x.to_string()),
            option(v.labels.as_deref(), str_list),
            // The engine settings the sidecar's `mfcc` fields became (input quantization: the
            // model's, as `for_model` uses it anyway).
            option(v.mfcc.as_ref().and(c.mfcc), |m| format!(
                "mote_engine::mfcc::MfccConfig {{ sample_rate_hz: {}, window_ms: {}, step_ms: {}, mel_bins: {}, lower_edge_hz: {:?}, upper_edge_hz: {:?}, coefficients: {}, input_scale: {:?}, zero_point: {} }}",
                m.sample_rate_hz, m.window_ms, m.step_ms, m.mel_bins, m.lower_edge_hz, m.upper_edge_hz, m.coefficients, m.input_scale, m.zero_point
            )),
        ),
    };
    let int8 = match c.frontend.int8 {
        _ if c.mfcc.is_some() => c.mfcc.map_or_else(String::new, |m| {
            format!(
                "MFCCs (f32) / {:?} + {}, rounded half to even",
                m.input_scale, m.zero_point
            )
        }),
        mote_engine::frontend::Int8Mapping::MicroSpeech => {
            "micro_speech's fixed mapping".to_string()
        }
        mote_engine::frontend::Int8Mapping::MicroWakeWord {
            input_scale,
            zero_point,
        } => {
            format!("features / 25.6 / {input_scale:?} + {zero_point}, rounded half to even")
        }
    };
    let mut o = String::new();
    let w = &mut o;
    // Writing into a String cannot fail.
    let _ = writeln!(
        w,
        "// @generated by `mote export` ({} for {}); do not edit.",
        i.name, i.board.name
    );
    let _ = writeln!(w, "// Export again to change the model, board or settings.");
    let _ = writeln!(w);
    let _ = writeln!(w, "#[allow(unused_imports)]");
    let _ = writeln!(
        w,
        "use mote_engine::detector::{{DetectorConfig, Mode, OutputType, Preset, PresetKind}};"
    );
    let _ = writeln!(w, "#[allow(unused_imports)]");
    let _ = writeln!(w, "use mote_engine::pipeline::Sidecar;");
    let _ = writeln!(w);
    let _ = writeln!(w, "/// Board this project was exported for (Cargo's `board-*` feature selects memory and pins).");
    let _ = writeln!(w, "pub const BOARD: &str = {:?};", i.board.id);
    let _ = writeln!(w, "/// Audio source: `mic` (the board's microphone) or `replay` (`mote/replay.pcm` from flash, then exit).");
    let _ = writeln!(w, "pub const MODE: &str = {mode:?};");
    let _ = writeln!(
        w,
        "/// Tensor arena bytes, exactly what the planner needs: persistent {} (kernels {}, tensor table {}, words {}) + tensors {}.",
        m.persistent_bytes, m.kernel_bytes, m.tensor_table_bytes, m.word_bytes, m.tensor_bytes
    );
    let _ = writeln!(
        w,
        "pub const ARENA_BYTES: usize = {};",
        i.report.arena_bytes
    );
    let _ = writeln!(w, "/// Resource-variable (streaming) state bytes, exact.");
    let _ = writeln!(
        w,
        "pub const STATE_BYTES: usize = {};",
        i.report.state_bytes
    );
    let _ = writeln!(
        w,
        "/// Bytes of `mote/model.tflite` ({} of them constant data).",
        i.report.weights_bytes
    );
    let _ = writeln!(
        w,
        "pub const MODEL_BYTES: usize = {};",
        i.report.model_bytes
    );
    let _ = writeln!(w, "/// Multiply-accumulates per invocation.");
    let _ = writeln!(w, "pub const MACS: u64 = {};", i.report.macs);
    let preset_doc = match c.mfcc {
        Some(_) => "MFCC front end `mote_engine::mfcc` (MLPerf Tiny KWS)".to_string(),
        None => format!("Front-end preset `FrontendConfig::{}()`", s.frontend),
    };
    let _ = writeln!(
        w,
        "/// {preset_doc}, {} ms step; int8 input: {int8}.",
        c.frontend.step_ms
    );
    let _ = writeln!(w, "pub const FRONTEND: &str = {:?};", s.frontend);
    let _ = writeln!(
        w,
        "/// Label names, one per score, as `mote detect` prints them."
    );
    let _ = writeln!(w, "pub const LABELS: &[&str] = {};", str_list(&s.labels));
    let _ = writeln!(
        w,
        "/// The sidecar's values (`None`: no sidecar, the preset's defaults), handed to"
    );
    let _ = writeln!(
        w,
        "/// `PipelineConfig::for_model` exactly as `mote detect` does."
    );
    let _ = writeln!(
        w,
        "pub const SIDECAR: Option<Sidecar<'static>> = {sidecar};"
    );
    let _ = writeln!(
        w,
        "/// Feature window and schedule: {} frames per invocation, every {} new frames.",
        s.window_frames, s.stride_frames
    );
    let _ = writeln!(w, "pub const PRESET: Preset = {};", preset_rs(&c.preset));
    let _ = writeln!(w, "/// Detector: {}.", s.detector);
    let _ = writeln!(
        w,
        "pub const DETECTOR: DetectorConfig = {};",
        detector_rs(&c.detector)
    );
    let _ = writeln!(
        w,
        "/// Replay samples (16 kHz mono int16 in `mote/replay.pcm`; 0 in mic mode)."
    );
    let _ = writeln!(
        w,
        "pub const REPLAY_SAMPLES: usize = {};",
        i.replay.map_or(0, |r| r.samples.len())
    );
    let _ = writeln!(
        w,
        "/// Estimated flash bytes of the whole firmware (see `mote/report.md`)."
    );
    let _ = writeln!(
        w,
        "pub const ESTIMATED_FLASH: u32 = {};",
        i.fit.flash_total()
    );
    let _ = writeln!(
        w,
        "/// Estimated RAM bytes (arena, state, pipeline, buffers, stack reserve)."
    );
    let _ = writeln!(w, "pub const ESTIMATED_RAM: u32 = {};", i.fit.ram_total());
    o
}
