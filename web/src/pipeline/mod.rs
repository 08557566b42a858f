//! The live audio path, platform-free: float audio at any rate → 16 kHz int16 ([`resample`]) →
//! the engine's front end (log-mel features, int8) → the model (streaming or windowed, per
//! [`RunSpec`]) → per-label scores → [`detect`] → detections. The browser side
//! ([`crate::audio`]) only moves samples in; host tests drive the same code with WAV files.

pub mod detect;
pub mod resample;

use mote_engine::frontend::{Frontend, FrontendConfig, Int8Mapping};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::{Error, Interpreter, Model};

use crate::spec::{Feed, Preset, RunSpec, CHANNELS};
use detect::Detector;
use resample::Resampler;

/// RAM of the engine's front end on a 32-bit target (wasm32 and Cortex-M4 lay it out alike).
pub const FRONTEND_RAM_BYTES: u32 = Frontend::ram_bytes() as u32;

/// One feature frame for display: the int8 model input shifted to 0..255.
pub type FrameBytes = [u8; CHANNELS];

/// One invocation's result.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// Audio time at the end of the newest frame, seconds since the start.
    pub t: f64,
    /// Score per label, 0..1.
    pub scores: Vec<f32>,
}

/// A detection event.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Audio time, seconds since the start.
    pub t: f64,
    /// Label that fired.
    pub label: String,
    /// Sliding-window mean score that crossed the cutoff, 0..1.
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
    /// Milliseconds spent in the whole pipeline (resampling, features, model, detector).
    pub compute_ms: f64,
    /// Milliseconds spent in `Interpreter::invoke` alone.
    pub invoke_ms: f64,
}

/// The front-end configuration the spec's preset asks for.
pub fn frontend_config(spec: &RunSpec) -> FrontendConfig {
    match spec.preset {
        Preset::MicroSpeech => FrontendConfig::micro_speech(),
        Preset::MicroWakeWord => {
            let mut c = FrontendConfig::micro_wakeword();
            let (input_scale, zero_point) = spec.input_quant;
            let mapping = Int8Mapping::MicroWakeWord { input_scale, zero_point };
            if mapping.is_valid() {
                c.int8 = mapping;
            }
            c
        }
    }
}

/// Arena and state buffers sized by the planner for `model`.
pub fn buffers(model: &Model<'_>) -> Result<(Vec<u8>, Vec<u8>), Error> {
    let mem = mote_exporter::report::with_interpreter(model, InterpreterOptions::default(), |i| Ok(i.memory()))?;
    // 16 spare bytes cover a different start alignment of the new buffer.
    Ok((vec![0; mem.arena_bytes as usize + 16], vec![0; mem.state_bytes as usize]))
}

/// A running pipeline around a prepared interpreter.
pub struct Pipeline<'m, 'a> {
    interp: Interpreter<'m, 'a>,
    spec: RunSpec,
    frontend: Box<Frontend>,
    resampler: Resampler,
    detector: Detector,
    input_rate: f64,
    /// The model input being assembled: the newest `input_frames` frames, oldest first.
    window: Vec<i8>,
    /// Frames received since the last invocation.
    pending: usize,
    /// Frames received in total.
    frames_total: u64,
    pcm: Vec<i16>,
    new_frames: Vec<[i8; CHANNELS]>,
    scores: Vec<f32>,
}

impl<'m, 'a> Pipeline<'m, 'a> {
    /// Wraps `interp` (prepared for the model `spec` describes) for audio at `input_rate` Hz.
    pub fn new(interp: Interpreter<'m, 'a>, spec: RunSpec, input_rate: f64) -> Result<Self, Error> {
        let frontend = Box::new(Frontend::new(&frontend_config(&spec))?);
        let detector = Detector::new(spec.cutoff, spec.window, spec.fires.clone(), spec.refractory);
        let window = vec![0; spec.feed.input_frames() * CHANNELS];
        Ok(Pipeline {
            interp,
            frontend,
            resampler: Resampler::new(input_rate),
            detector,
            input_rate,
            window,
            pending: 0,
            frames_total: 0,
            pcm: Vec::new(),
            new_frames: Vec::new(),
            scores: Vec::new(),
            spec,
        })
    }

    /// The spec this pipeline runs.
    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// Feeds audio (floats in −1..1 at the input rate). `now` is a millisecond clock.
    pub fn push(&mut self, samples: &[f32], now: &dyn Fn() -> f64) -> Result<Chunk, Error> {
        let start = now();
        let mut chunk = Chunk { audio_ms: samples.len() as f64 * 1000.0 / self.input_rate, ..Chunk::default() };
        self.pcm.clear();
        self.resampler.push(samples, &mut self.pcm);
        self.new_frames.clear();
        let new_frames = &mut self.new_frames;
        self.frontend.push(&self.pcm, |f| {
            let mut frame = [0i8; CHANNELS];
            for (d, &s) in frame.iter_mut().zip(f.int8) {
                *d = s;
            }
            new_frames.push(frame);
        });
        let step_s = f64::from(self.spec.preset.step_ms()) / 1000.0;
        let window_s = 0.030;
        for k in 0..self.new_frames.len() {
            let Some(&frame) = self.new_frames.get(k) else { break };
            chunk.frames.push(frame.map(|v| (i16::from(v) + 128) as u8));
            // Slide the input window by one frame.
            self.window.rotate_left(CHANNELS);
            let n = self.window.len();
            if let Some(tail) = self.window.get_mut(n - CHANNELS..) {
                tail.copy_from_slice(&frame);
            }
            self.frames_total += 1;
            self.pending += 1;
            let ready = match self.spec.feed {
                Feed::Streaming { frames } => self.pending >= frames,
                // A windowed model waits until its window holds real audio.
                Feed::Window { frames } => self.frames_total >= frames as u64,
            };
            if !ready {
                continue;
            }
            self.pending = 0;
            let t0 = now();
            let input = self.interp.input_mut(0)?;
            for (d, &s) in input.iter_mut().zip(&self.window) {
                *d = s as u8;
            }
            self.interp.invoke()?;
            chunk.invoke_ms += now() - t0;
            self.spec.scores(self.interp.output(0)?, &mut self.scores);
            let t = (self.frames_total - 1) as f64 * step_s + window_s;
            if let Some(hit) = self.detector.push(&self.scores) {
                chunk.detections.push(Detection {
                    t,
                    label: self.spec.labels.get(hit.label).cloned().unwrap_or_default(),
                    score: hit.score,
                });
            }
            chunk.invocations.push(Invocation { t, scores: self.scores.clone() });
        }
        chunk.compute_ms = now() - start;
        Ok(chunk)
    }
}

/// Runs `f` with a pipeline for `model_bytes` (arena and state sized by the planner).
pub fn with_pipeline<T>(
    model_bytes: &[u8],
    spec: RunSpec,
    input_rate: f64,
    f: impl FnOnce(&mut Pipeline<'_, '_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let model = Model::parse(model_bytes)?;
    let (mut arena, mut state) = buffers(&model)?;
    let interp = Interpreter::new(&model, &mut arena, &mut state)?;
    let mut p = Pipeline::new(interp, spec, input_rate)?;
    f(&mut p)
}
