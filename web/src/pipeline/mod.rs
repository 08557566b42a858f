//! The live audio path: float audio at the device rate → 16 kHz int16 (the engine's resampler)
//! → the engine's streaming pipeline (front end → model → detector, the code the CLI and the
//! firmware run) → per-label scores and detections, plus the feature frames for the heatmap
//! (from a second front end with the same settings: the engine's pipeline does not expose them).
//! The browser side ([`crate::audio`]) only moves samples in; host tests drive this with WAVs.

use mote_engine::detector::{is_keyword_label, Mode, OutputType};
use mote_engine::frontend::Frontend;
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::pipeline::{Output, Pipeline as EnginePipeline, PipelineConfig, PipelineMemory};
use mote_engine::resample::{f32_to_i16, Resampler};
use mote_engine::{Error, Model};
use mote_exporter::export::config::Settings;
use mote_exporter::report::buffer_sizes;

/// Feature channels of both front-end presets (heatmap rows).
pub const CHANNELS: usize = 40;

/// One feature frame for display: the int8 model input shifted to 0..255.
pub type FrameBytes = [u8; CHANNELS];

/// One invocation's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// Audio time at the end of the newest frame, seconds since the start.
    pub t: f64,
    /// Score per label, 0..1 (256·probability / 256).
    pub scores: Vec<f32>,
}

/// A detection event.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Audio time, seconds since the start.
    pub t: f64,
    /// Label that fired.
    pub label: String,
    /// Averaged score that crossed the threshold, 0..1.
    pub score: f32,
}

/// What one chunk of audio produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Chunk {
    /// New feature frames, oldest first.
    pub frames: Vec<FrameBytes>,
    /// Invocations, oldest first.
    pub invocations: Vec<Invocation>,
    /// Detections.
    pub detections: Vec<Detection>,
    /// Milliseconds of audio consumed (at the input rate).
    pub audio_ms: f64,
    /// Milliseconds in the engine's pipeline (front end, model, detector).
    pub pipeline_ms: f64,
    /// Milliseconds for the whole chunk (also resampling and the display front end).
    pub compute_ms: f64,
}

/// What the score plot needs from the settings: labels, which may fire, and the threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotSpec {
    /// One name per score.
    pub labels: Vec<String>,
    /// Whether each label may fire.
    pub fires: Vec<bool>,
    /// The threshold on one score (wake word: the window mean), 0..1.
    pub threshold: f32,
}

impl PlotSpec {
    /// From the exporter's settings for a model.
    pub fn new(settings: &Settings) -> PlotSpec {
        let threshold = match settings.config().detector.mode {
            Mode::WakeWord {
                min_sum,
                sliding_window,
                ..
            } => f32::from(min_sum) / f32::from(sliding_window.max(1)) / 256.0,
            Mode::Commands { threshold, .. } => f32::from(threshold) / 256.0,
        };
        PlotSpec {
            fires: settings
                .labels
                .iter()
                .map(|l| is_keyword_label(l))
                .collect(),
            labels: settings.labels.clone(),
            threshold: threshold.min(1.0),
        }
    }
}

/// A running pipeline.
pub struct Pipeline<'m, 'a> {
    inner: EnginePipeline<'a, 'm, 'a>,
    display: Box<Frontend>,
    resampler: Box<Resampler>,
    labels: Vec<String>,
    output: OutputType,
    input_rate: f64,
    pcm_in: Vec<i16>,
    pcm: Vec<i16>,
}

impl<'m, 'a> Pipeline<'m, 'a> {
    /// Prepares `model` in `arena`/`state` (and the engine pipeline's own memory `mem`) for audio
    /// at `input_rate` Hz.
    pub fn new(
        model: &Model<'m>,
        arena: &'a mut [u8],
        state: &'a mut [u8],
        mem: &'a mut PipelineMemory,
        settings: &Settings,
        input_rate: u32,
    ) -> Result<Self, Error> {
        let config: &PipelineConfig = settings.config();
        Ok(Pipeline {
            inner: EnginePipeline::new(model, arena, state, mem, config)?,
            display: Box::new(Frontend::new(&config.frontend)?),
            resampler: Box::new(Resampler::new(input_rate)?),
            labels: settings.labels.clone(),
            output: config.detector.output,
            input_rate: f64::from(input_rate),
            pcm_in: Vec::new(),
            pcm: Vec::new(),
        })
    }

    /// Feeds audio (floats in −1..1 at the input rate). `now` is a millisecond clock.
    pub fn push(&mut self, samples: &[f32], now: &dyn Fn() -> f64) -> Result<Chunk, Error> {
        let start = now();
        let mut chunk = Chunk {
            audio_ms: samples.len() as f64 * 1000.0 / self.input_rate,
            ..Chunk::default()
        };
        self.pcm_in.clear();
        self.pcm_in.extend(samples.iter().map(|&x| f32_to_i16(x)));
        self.pcm.clear();
        let pcm = &mut self.pcm;
        self.resampler.process(&self.pcm_in, |s| pcm.push(s));

        let frames = &mut chunk.frames;
        self.display.push(&self.pcm, |f| {
            let mut row = [0u8; CHANNELS];
            for (d, &s) in row.iter_mut().zip(f.int8) {
                *d = (i16::from(s) + 128) as u8;
            }
            frames.push(row);
        });

        let t0 = now();
        let (labels, output) = (&self.labels, self.output);
        let (invocations, detections) = (&mut chunk.invocations, &mut chunk.detections);
        self.inner.push(&self.pcm, |out| match out {
            Output::Invocation { t_ms, scores, .. } => invocations.push(Invocation {
                t: f64::from(t_ms) / 1000.0,
                scores: scores
                    .iter()
                    .map(|&b| f32::from(output.score(b)) / 256.0)
                    .collect(),
            }),
            Output::Detection { label, t_ms, score } => detections.push(Detection {
                t: f64::from(t_ms) / 1000.0,
                label: labels
                    .get(usize::from(label))
                    .cloned()
                    .unwrap_or_else(|| format!("class{label}")),
                score: f32::from(score) / 256.0,
            }),
        })?;
        let end = now();
        chunk.pipeline_ms = end - t0;
        chunk.compute_ms = end - start;
        Ok(chunk)
    }
}

/// Arena and state buffers sized by the planner for `model`.
pub fn buffers(model: &Model<'_>) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let (a, s) = buffer_sizes(model, InterpreterOptions::default())?;
    Ok((vec![0; a], vec![0; s]))
}

/// Runs `f` with a pipeline for `model_bytes` (arena and state sized by the planner).
pub fn with_pipeline<T>(
    model_bytes: &[u8],
    settings: &Settings,
    input_rate: u32,
    f: impl FnOnce(&mut Pipeline<'_, '_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let model = Model::parse(model_bytes)?;
    let (mut arena, mut state) = buffers(&model)?;
    let mut mem = Box::new(PipelineMemory::EMPTY);
    let mut p = Pipeline::new(
        &model, &mut arena, &mut state, &mut mem, settings, input_rate,
    )?;
    f(&mut p)
}
