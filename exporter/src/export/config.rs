//! The generated `mote/config.rs`: everything the firmware needs to know about this export, as
//! Rust constants — exact arena and state sizes from the planner, labels, detector thresholds,
//! the front-end preset — and the sidecar it came from.

use std::fmt::Write as _;

use mote_engine::detector::{DetectorConfig, Mode, OutputType, Preset, PresetKind};
use mote_engine::frontend::{Flavor, Frontend, FrontendConfig, Int8Mapping, PcanConfig};
use mote_engine::mfcc::MfccConfig;
use mote_engine::pipeline::PipelineConfig;
use mote_engine::Model;
use serde::Serialize;

use super::board::Board;
use super::build_settings::{self as build, BuildSettings};
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

fn frontend_rs(f: &FrontendConfig) -> String {
    // Exhaustive: a new field does not compile until it is written.
    let FrontendConfig {
        sample_rate_hz,
        window_ms,
        step_ms,
        num_channels,
        lower_band_limit_hz,
        upper_band_limit_hz,
        smoothing_bits,
        even_smoothing,
        odd_smoothing,
        min_signal_remaining,
        pcan,
        log_scale_shift,
        flavor,
        int8,
    } = f;
    let fe = "mote_engine::frontend";
    let pcan = option(pcan.as_ref(), |p| {
        let PcanConfig {
            strength,
            offset,
            gain_bits,
        } = p;
        format!("{fe}::PcanConfig {{ strength: {strength:?}, offset: {offset:?}, gain_bits: {gain_bits} }}")
    });
    let flavor = match flavor {
        Flavor::MicroFrontendF32 => "MicroFrontendF32",
        Flavor::MicroFrontendF64 => "MicroFrontendF64",
        Flavor::SignalLibrary => "SignalLibrary",
    };
    let int8 = match int8 {
        Int8Mapping::MicroSpeech => format!("{fe}::Int8Mapping::MicroSpeech"),
        Int8Mapping::MicroWakeWord {
            input_scale,
            zero_point,
        } => format!("{fe}::Int8Mapping::MicroWakeWord {{ input_scale: {input_scale:?}, zero_point: {zero_point} }}"),
    };
    format!(
        "{fe}::FrontendConfig {{ sample_rate_hz: {sample_rate_hz}, window_ms: {window_ms}, step_ms: {step_ms}, num_channels: {num_channels}, lower_band_limit_hz: {lower_band_limit_hz:?}, upper_band_limit_hz: {upper_band_limit_hz:?}, smoothing_bits: {smoothing_bits}, even_smoothing: {even_smoothing:?}, odd_smoothing: {odd_smoothing:?}, min_signal_remaining: {min_signal_remaining:?}, pcan: {pcan}, log_scale_shift: {}, flavor: {fe}::Flavor::{flavor}, int8: {int8} }}",
        option(*log_scale_shift, |x| x.to_string())
    )
}

fn mfcc_rs(m: &MfccConfig) -> String {
    let MfccConfig {
        sample_rate_hz,
        window_ms,
        step_ms,
        mel_bins,
        lower_edge_hz,
        upper_edge_hz,
        coefficients,
        input_scale,
        zero_point,
    } = m;
    format!(
        "mote_engine::mfcc::MfccConfig {{ sample_rate_hz: {sample_rate_hz}, window_ms: {window_ms}, step_ms: {step_ms}, mel_bins: {mel_bins}, lower_edge_hz: {lower_edge_hz:?}, upper_edge_hz: {upper_edge_hz:?}, coefficients: {coefficients}, input_scale: {input_scale:?}, zero_point: {zero_point} }}"
    )
}

/// `PIPELINE` and `FRONTEND_TABLES`: what the firmware compiled ahead of time uses instead of
/// deriving the configuration (f64 arithmetic) and computing the front end's tables (libm) at
/// start-up. Written from the very values `mote detect` runs with.
fn precomputed_rs(w: &mut String, c: &PipelineConfig) -> Result<(), ExportError> {
    let PipelineConfig {
        frontend,
        preset,
        detector,
        mfcc,
    } = c;
    let _ = writeln!(
        w,
        "/// The whole pipeline configuration, as `PipelineConfig::for_model` derives it on the host\n\
         /// (the firmware compiled ahead of time uses it as is)."
    );
    let _ = writeln!(
        w,
        "pub const PIPELINE: mote_engine::pipeline::PipelineConfig = mote_engine::pipeline::PipelineConfig {{ frontend: {}, preset: {}, detector: {}, mfcc: {} }};",
        frontend_rs(frontend),
        preset_rs(preset),
        detector_rs(detector),
        option(mfcc.as_ref(), mfcc_rs)
    );
    let _ = writeln!(
        w,
        "/// The log-mel front end's start-up tables for `PIPELINE.frontend`, computed on the host by\n\
         /// `Frontend::init` (`None` for an MFCC model)."
    );
    w.push_str("pub const FRONTEND_TABLES: Option<&mote_engine::frontend::FrontendTables> = ");
    if mfcc.is_some() {
        w.push_str("None;\n");
        return Ok(());
    }
    let fe = Frontend::new(frontend).map_err(ExportError::Model)?;
    w.push_str("Some(&");
    let _ = fe.tables().write_rust(w);
    w.push_str(");\n");
    Ok(())
}

fn option<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "None".to_string(), |x| format!("Some({})", f(x)))
}

fn str_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|l| format!("{l:?}")).collect();
    format!("&[{}]", items.join(", "))
}

/// The text of `mote/config.rs`; `Model` if the front end rejects the configuration.
pub fn render(i: &Inputs<'_>) -> Result<String, ExportError> {
    let s = i.settings;
    let c = s.config();
    let m = &i.report.memory;
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
    let _ = writeln!(
        w,
        "// Arena: persistent {} (kernels {}, tensor table {}, words {}) + tensors {}.",
        m.persistent_bytes, m.kernel_bytes, m.tensor_table_bytes, m.word_bytes, m.tensor_bytes
    );
    w.push_str(&build_settings(i).consts_rs());
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
    precomputed_rs(w, c)?;
    Ok(o)
}

/// `mote/build.json` (what build.rs reads); `mote/config.rs` carries the same values as
/// constants ([`BuildSettings::consts_rs`]).
pub fn build_settings(i: &Inputs<'_>) -> BuildSettings {
    BuildSettings {
        board: i.board.id.to_string(),
        mode: if i.replay.is_some() {
            build::Mode::Replay
        } else {
            build::Mode::Mic
        },
        arena_bytes: u64::from(i.report.arena_bytes),
        state_bytes: u64::from(i.report.state_bytes),
        estimated_flash: i.fit.flash_total(),
        estimated_ram: i.fit.ram_total(),
        mic_ring_samples: super::fit::mic_ring_samples(i.report, i.settings, i.fit.engine),
    }
}
