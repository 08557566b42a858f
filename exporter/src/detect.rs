//! Keyword detection over audio with the engine's streaming pipeline: the settings come from
//! the model's sidecar JSON (or flags, or the model's shapes), the output is the JSON Lines
//! text the firmware prints too.

use std::fmt;

use anyhow::{anyhow, Result};
use mote_engine::detector::{
    defaults_for_input_shape, Preset, PresetKind, MAX_AVERAGE_WINDOW, MAX_LABELS,
};
use mote_engine::frontend::FrontendConfig;
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::mfcc::MfccConfig;
use mote_engine::pipeline::{
    write_json_line, Output, Pipeline, PipelineConfig, PipelineMemory, Sidecar,
};
use mote_engine::Model;
use serde::Serialize;

use crate::report::buffer_sizes;
use crate::sidecar::{MfccFields, SidecarFile};

/// Settings a user can force from the command line (they win over the sidecar).
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Probability cutoff.
    pub cutoff: Option<f64>,
    /// Invocations averaged.
    pub window: Option<u8>,
    /// Class names.
    pub labels: Option<Vec<String>>,
}

/// The sidecar fields handed to the engine (`mote_engine::pipeline::Sidecar`, owned): what
/// `PipelineConfig::for_model` receives, so the firmware can derive the same configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SidecarValues {
    /// `micro.probability_cutoff`.
    pub probability_cutoff: Option<f64>,
    /// `micro.sliding_window_size`.
    pub sliding_window_size: Option<u8>,
    /// `micro.feature_step_size`.
    pub feature_step_size: Option<u16>,
    /// `labels`.
    pub labels: Option<Vec<String>>,
    /// `feature_type: "mfcc"` with its `mfcc` fields as given (absent ones: MLPerf's).
    pub mfcc: Option<MfccFields>,
}

/// The pipeline configuration and label names for a model.
pub struct Setup {
    /// Engine configuration.
    pub config: PipelineConfig,
    /// One name per output class (a wake word: its name).
    pub labels: Vec<String>,
    /// The settings handed to the engine (`None`: none, the preset's defaults).
    pub sidecar: Option<SidecarValues>,
}

/// Why a model and its settings cannot drive the pipeline.
#[derive(Clone, Debug, PartialEq)]
pub enum SetupError {
    /// The model's input is not a keyword-spotting layout (or its types are not int8/uint8).
    NotAudioModel(mote_engine::Error),
    /// A setting is out of range; `field` names the flag or sidecar field.
    BadSetting {
        /// `--cutoff`, `micro.probability_cutoff`, ...
        field: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// The number of labels differs from the model's output scores.
    LabelCount {
        /// `--labels` or the sidecar field `labels`.
        field: &'static str,
        /// Labels given.
        given: usize,
        /// Scores the model outputs.
        outputs: usize,
    },
    /// The engine refused the configuration.
    Engine(mote_engine::Error),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::NotAudioModel(e) => write!(f, "{e}"),
            SetupError::BadSetting {
                field,
                value,
                expected,
            } => write!(f, "{field} is {value}: expected {expected}"),
            SetupError::LabelCount {
                field,
                given,
                outputs,
            } => write!(
                f,
                "{field} has {given} name{} but the model outputs {outputs} score{}: give one label per output",
                if *given == 1 { "" } else { "s" },
                if *outputs == 1 { "" } else { "s" },
            ),
            SetupError::Engine(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Scores per invocation: the elements of the model's first output.
fn output_scores(model: &Model<'_>) -> Option<usize> {
    let sg = model.subgraph(0)?;
    let o = sg.outputs().get(0)?;
    sg.tensor(usize::try_from(o).ok()?)?.shape.elements()
}

/// Work out the pipeline for `model`, from its sidecar (if any) and overrides. Every value is
/// range-checked first, naming its flag or sidecar field.
pub fn setup(
    model: &Model<'_>,
    sidecar: Option<&SidecarFile>,
    ov: &Overrides,
) -> Result<Setup, SetupError> {
    let bad = |field, value: String, expected| SetupError::BadSetting {
        field,
        value,
        expected,
    };
    let cutoff = match (ov.cutoff, sidecar.and_then(|s| s.micro.probability_cutoff)) {
        (Some(c), _) => Some(("--cutoff", c)),
        (None, Some(c)) => Some(("micro.probability_cutoff", c)),
        _ => None,
    };
    if let Some((field, c)) = cutoff {
        if !(0.0..=1.0).contains(&c) {
            return Err(bad(field, c.to_string(), "a probability from 0 to 1"));
        }
    }
    let window = match (ov.window, sidecar.and_then(|s| s.micro.sliding_window_size)) {
        (Some(w), _) => Some(("--window", w)),
        (None, Some(w)) => Some(("micro.sliding_window_size", w)),
        _ => None,
    };
    if let Some((field, w)) = window {
        if w == 0 || usize::from(w) > MAX_AVERAGE_WINDOW {
            return Err(bad(field, w.to_string(), "1 to 64 invocations"));
        }
    }
    let step = sidecar.and_then(|s| s.micro.feature_step_size);
    if let Some(st) = step {
        // The front end's hop: at least 1 ms, at most its 30 ms window.
        if st == 0 || u32::from(st) > FrontendConfig::micro_wakeword().window_ms {
            return Err(bad("micro.feature_step_size", st.to_string(), "1 to 30 ms"));
        }
    }
    let mfcc = mfcc_config(sidecar)?;
    let (in_dims, in_tensor) = model
        .subgraph(0)
        .and_then(|sg| {
            let i = sg.inputs().get(0)?;
            Some((
                sg.tensor(usize::try_from(i).ok()?)?.shape.dims().to_vec(),
                i,
            ))
        })
        .unwrap_or_default();
    // With MFCC settings the engine derives the frame count from the input (checked there).
    let preset = match mfcc {
        Some(_) => Preset::MLPERF_KWS,
        None => defaults_for_input_shape(&in_dims).ok_or(SetupError::NotAudioModel(
            mote_engine::Error::NotAnAudioModel { tensor: in_tensor },
        ))?,
    };
    let outputs = output_scores(model).unwrap_or(0);
    let given = match (&ov.labels, sidecar.and_then(|s| s.labels.as_ref())) {
        (Some(l), _) => Some(("--labels", l.clone())),
        (None, Some(l)) => Some(("the sidecar field `labels`", l.clone())),
        _ => None,
    };
    if let Some((field, l)) = &given {
        if l.len() > MAX_LABELS {
            return Err(bad(
                field,
                format!("{} names", l.len()),
                "at most 32 labels",
            ));
        }
        if l.len() != outputs {
            return Err(SetupError::LabelCount {
                field,
                given: l.len(),
                outputs,
            });
        }
    }
    // A model with another output count than its family's (micro_speech: 4 classes,
    // microWakeWord: 1 score) and no labels: name its classes class0..classN-1 rather than
    // assume the family's.
    let preset_labels = preset.labels();
    let family_outputs = match preset.kind {
        PresetKind::MicroSpeech | PresetKind::Mfcc => preset_labels.len(),
        PresetKind::MicroWakeWord => 1,
    };
    let labels_owned: Option<Vec<String>> = given.map(|(_, l)| l).or_else(|| {
        (outputs != family_outputs && (1..=MAX_LABELS).contains(&outputs))
            .then(|| (0..outputs).map(|i| format!("class{i}")).collect())
    });
    let values = SidecarValues {
        probability_cutoff: cutoff.map(|(_, c)| c),
        sliding_window_size: window.map(|(_, w)| w),
        feature_step_size: step,
        labels: labels_owned.clone(),
        mfcc: mfcc.as_ref().map(|(fields, _)| fields.clone()),
    };
    let any = values.mfcc.is_some()
        || values.probability_cutoff.is_some()
        || values.sliding_window_size.is_some()
        || values.labels.is_some()
        || values.feature_step_size.is_some();
    let label_refs: Option<Vec<&str>> = labels_owned
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    let side = Sidecar {
        probability_cutoff: values.probability_cutoff,
        sliding_window_size: values.sliding_window_size,
        feature_step_size: values.feature_step_size,
        labels: label_refs.as_deref(),
        mfcc: mfcc.as_ref().map(|(_, c)| *c),
    };
    let config = PipelineConfig::for_model(model, any.then_some(&side)).map_err(|e| match e {
        mote_engine::Error::NotAnAudioModel { .. } => SetupError::NotAudioModel(e),
        // The only buffer-size check left is the model's scores against the detector's.
        mote_engine::Error::WrongBufferSize { expected, got, .. } => SetupError::LabelCount {
            field: "the model family's default labels",
            given: expected as usize,
            outputs: got as usize,
        },
        e => SetupError::Engine(e),
    })?;
    let labels = match labels_owned {
        Some(l) => l,
        None => {
            if !preset_labels.is_empty() {
                preset_labels.iter().map(|s| s.to_string()).collect()
            } else {
                vec![sidecar
                    .and_then(|s| s.wake_word.clone())
                    .unwrap_or_else(|| "wake_word".into())]
            }
        }
    };
    Ok(Setup {
        config,
        labels,
        sidecar: any.then_some(values),
    })
}

/// The sidecar's MFCC front end, if it names one: the fields as given and the engine settings
/// (MLPerf's values for absent fields), each value range-checked and named in the error.
fn mfcc_config(
    sidecar: Option<&SidecarFile>,
) -> Result<Option<(MfccFields, MfccConfig)>, SetupError> {
    let Some(side) = sidecar else {
        return Ok(None);
    };
    match side.feature_type.as_deref() {
        Some("mfcc") => {}
        None if side.mfcc.is_some() => {}
        None | Some("micro_frontend") | Some("log_mel") => {
            if side.mfcc.is_some() {
                return Err(SetupError::BadSetting {
                    field: "feature_type",
                    value: format!("{:?}", side.feature_type.as_deref().unwrap_or("")),
                    expected: "\"mfcc\" when an `mfcc` section is given",
                });
            }
            return Ok(None);
        }
        Some(other) => {
            return Err(SetupError::BadSetting {
                field: "feature_type",
                value: format!("{other:?}"),
                expected: "\"mfcc\" or \"micro_frontend\"",
            })
        }
    }
    let f = side.mfcc.clone().unwrap_or_default();
    let mut c = MfccConfig::MLPERF;
    let bad = |field, v: f64, expected| SetupError::BadSetting {
        field,
        value: v.to_string(),
        expected,
    };
    let int = |field, v: Option<f64>, lo: f64, hi: f64, expected| match v {
        None => Ok(None),
        Some(x) if x.fract() == 0.0 && (lo..=hi).contains(&x) => Ok(Some(x as u32)),
        Some(x) => Err(bad(field, x, expected)),
    };
    if let Some(w) = int(
        "mfcc.window_size_ms",
        f.window_size_ms,
        1.0,
        32.0,
        "1 to 32 ms (whole ms)",
    )? {
        c.window_ms = w;
    }
    if let Some(s) = int(
        "mfcc.window_stride_ms",
        f.window_stride_ms,
        1.0,
        f64::from(c.window_ms),
        "1 ms to the window length (whole ms)",
    )? {
        c.step_ms = s;
    }
    if let Some(m) = int(
        "mfcc.num_mel_bins",
        f.num_mel_bins,
        1.0,
        64.0,
        "1 to 64 bins",
    )? {
        c.mel_bins = m as u8;
    }
    if let Some(k) = int(
        "mfcc.dct_coefficient_count",
        f.dct_coefficient_count,
        1.0,
        f64::from(c.mel_bins),
        "1 to num_mel_bins coefficients",
    )? {
        c.coefficients = k as u8;
    }
    let nyquist = f64::from(c.sample_rate_hz / 2);
    if let Some(lo) = f.lower_edge_hertz {
        if !(0.0..nyquist).contains(&lo) {
            return Err(bad(
                "mfcc.lower_edge_hertz",
                lo,
                "0 Hz to below Nyquist (8000 Hz)",
            ));
        }
        c.lower_edge_hz = lo as f32;
    }
    if let Some(hi) = f.upper_edge_hertz {
        if !(hi > f64::from(c.lower_edge_hz) && hi <= nyquist) {
            return Err(bad(
                "mfcc.upper_edge_hertz",
                hi,
                "above lower_edge_hertz, at most Nyquist (8000 Hz)",
            ));
        }
        c.upper_edge_hz = hi as f32;
    }
    if c.upper_edge_hz <= c.lower_edge_hz {
        return Err(bad(
            "mfcc.lower_edge_hertz",
            f64::from(c.lower_edge_hz),
            "below upper_edge_hertz",
        ));
    }
    c.validate().map_err(SetupError::Engine)?;
    Ok(Some((f, c)))
}

/// What a run produced.
#[derive(Default)]
pub struct Summary {
    /// Model invocations.
    pub invocations: usize,
    /// Detections as (label, t_ms, score 0..1).
    pub detections: Vec<(String, u32, f32)>,
    /// The JSON Lines text (one record per invocation and per detection).
    pub json_lines: String,
    /// 16 kHz samples consumed.
    pub samples: u64,
}

/// Run the pipeline over 16 kHz samples, in chunks of `chunk` samples (the output does not
/// depend on the chunking), calling `on_line` with each JSON Lines record as it is produced.
/// The summary keeps the JSON Lines text.
pub fn run(
    model: &Model<'_>,
    setup: &Setup,
    samples: &[i16],
    chunk: usize,
    on_line: impl FnMut(&str),
) -> Result<Summary> {
    let mut parts = samples.chunks(chunk.max(1));
    run_stream(
        model,
        setup,
        |buf| {
            buf.extend_from_slice(parts.next().unwrap_or(&[]));
            Ok(!buf.is_empty())
        },
        true,
        on_line,
    )
}

/// Arena, state and pipeline memory sized for `model` (the caller builds the `Pipeline` over
/// them: it borrows all three).
pub fn pipeline_buffers(model: &Model<'_>) -> Result<(Vec<u8>, Vec<u8>, Box<PipelineMemory>)> {
    let (a, s) = buffer_sizes(model, InterpreterOptions::default()).map_err(|e| anyhow!("{e}"))?;
    Ok((vec![0u8; a], vec![0u8; s], Box::new(PipelineMemory::EMPTY)))
}

/// Run the pipeline over 16 kHz samples that `next` appends to its (emptied) buffer, until it
/// returns `Ok(false)`; memory stays bounded by the chunk size (`keep_lines: false` also leaves
/// [`Summary::json_lines`] empty).
pub fn run_stream(
    model: &Model<'_>,
    setup: &Setup,
    mut next: impl FnMut(&mut Vec<i16>) -> Result<bool>,
    keep_lines: bool,
    mut on_line: impl FnMut(&str),
) -> Result<Summary> {
    let (mut arena, mut state, mut mem) = pipeline_buffers(model)?;
    let mut p = Pipeline::new(model, &mut arena, &mut state, &mut mem, &setup.config)
        .map_err(|e| anyhow!("{e}"))?;
    let labels: Vec<&str> = setup.labels.iter().map(String::as_str).collect();
    let mut sum = Summary::default();
    let mut line = String::new();
    let mut part = Vec::new();
    loop {
        part.clear();
        let more = next(&mut part)?;
        sum.samples += part.len() as u64;
        p.push(&part, |out| {
            line.clear();
            let _ = write_json_line(&mut line, &out, &labels);
            on_line(&line);
            if keep_lines {
                sum.json_lines.push_str(&line);
            }
            match out {
                Output::Invocation { .. } => sum.invocations += 1,
                Output::Detection { label, t_ms, score } => sum.detections.push((
                    labels
                        .get(label as usize)
                        .map_or_else(|| format!("class{label}"), |s| s.to_string()),
                    t_ms,
                    score as f32 / 256.0,
                )),
            }
        })
        .map_err(|e| anyhow!("{e}"))?;
        if !more {
            break;
        }
    }
    Ok(sum)
}
