//! Keyword detection over audio with the engine's streaming pipeline: the settings come from
//! the model's sidecar JSON (or flags, or the model's shapes), the output is the JSON Lines
//! text the firmware prints too.

use anyhow::{anyhow, Result};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::pipeline::{
    write_json_line, Output, Pipeline, PipelineConfig, PipelineMemory, Sidecar,
};
use mote_engine::Model;

use crate::report::buffer_sizes;
use crate::sidecar::SidecarFile;

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

/// The pipeline configuration and label names for a model.
pub struct Setup {
    /// Engine configuration.
    pub config: PipelineConfig,
    /// One name per output class (a wake word: its name).
    pub labels: Vec<String>,
}

/// Work out the pipeline for `model`, from its sidecar (if any) and overrides.
pub fn setup(model: &Model<'_>, sidecar: Option<&SidecarFile>, ov: &Overrides) -> Result<Setup> {
    let labels_owned: Option<Vec<String>> = ov
        .labels
        .clone()
        .or_else(|| sidecar.and_then(|s| s.labels.clone()));
    let label_refs: Option<Vec<&str>> = labels_owned
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    let side = Sidecar {
        probability_cutoff: ov
            .cutoff
            .or_else(|| sidecar.and_then(|s| s.micro.probability_cutoff)),
        sliding_window_size: ov
            .window
            .or_else(|| sidecar.and_then(|s| s.micro.sliding_window_size)),
        feature_step_size: sidecar.and_then(|s| s.micro.feature_step_size),
        labels: label_refs.as_deref(),
    };
    let any = side.probability_cutoff.is_some()
        || side.sliding_window_size.is_some()
        || side.labels.is_some()
        || side.feature_step_size.is_some();
    let config =
        PipelineConfig::for_model(model, any.then_some(&side)).map_err(|e| anyhow!("{e}"))?;
    let labels = match labels_owned {
        Some(l) => l,
        None => {
            let preset = config.preset.labels();
            if !preset.is_empty() {
                preset.iter().map(|s| s.to_string()).collect()
            } else {
                vec![sidecar
                    .and_then(|s| s.wake_word.clone())
                    .unwrap_or_else(|| "wake_word".into())]
            }
        }
    };
    Ok(Setup { config, labels })
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
}

/// Run the pipeline over 16 kHz samples, in chunks of `chunk` samples (the output does not
/// depend on the chunking), calling `on_line` with each JSON Lines record as it is produced.
pub fn run(
    model: &Model<'_>,
    setup: &Setup,
    samples: &[i16],
    chunk: usize,
    mut on_line: impl FnMut(&str),
) -> Result<Summary> {
    let (a, s) = buffer_sizes(model, InterpreterOptions::default()).map_err(|e| anyhow!("{e}"))?;
    let (mut arena, mut state) = (vec![0u8; a], vec![0u8; s]);
    let mut mem = Box::new(PipelineMemory::EMPTY);
    let mut p = Pipeline::new(model, &mut arena, &mut state, &mut mem, &setup.config)
        .map_err(|e| anyhow!("{e}"))?;
    let labels: Vec<&str> = setup.labels.iter().map(String::as_str).collect();
    let mut sum = Summary::default();
    let mut line = String::new();
    for part in samples.chunks(chunk.max(1)) {
        p.push(part, |out| {
            line.clear();
            let _ = write_json_line(&mut line, &out, &labels);
            on_line(&line);
            sum.json_lines.push_str(&line);
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
    }
    Ok(sum)
}
