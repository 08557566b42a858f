//! The one streaming path that the CLI, the browser and the firmware share:
//! 16 kHz samples → front end → int8 feature frames → window → model → detector → events,
//! and the JSON Lines text that reports them (so `mote detect --json` and the firmware's replay
//! output can be compared byte for byte).

use core::fmt::{self, Write};

use crate::aot::Net;
use crate::detector::{
    defaults_for_input_shape, Detector, DetectorConfig, FeatureWindow, OutputType, Preset,
    PresetKind,
};
use crate::error::Error;
use crate::frontend::{FrontendConfig, FrontendTables, Int8Mapping, MAX_CHANNELS};
#[cfg(not(mote_no_mfcc))]
use crate::mfcc::Mfcc;
use crate::mfcc::MfccConfig;
use crate::model::{DType, Model};
use crate::text::{write_digits, JsonEscaped};
use crate::{frontend::Frontend, Interpreter};

/// What a model's sidecar JSON says (microWakeWord's format plus an optional `labels` array),
/// already parsed by the caller (the engine has no JSON parser).
#[derive(Clone, Copy, Debug, Default)]
pub struct Sidecar<'s> {
    /// `micro.probability_cutoff`.
    pub probability_cutoff: Option<f64>,
    /// `micro.sliding_window_size`.
    pub sliding_window_size: Option<u8>,
    /// `micro.feature_step_size` in ms (10 for microWakeWord, 20 for micro_speech).
    pub feature_step_size: Option<u16>,
    /// `labels`, one per output class (multi-class models).
    pub labels: Option<&'s [&'s str]>,
    /// `feature_type: "mfcc"` and its settings (the input quantization fields are ignored:
    /// the model's own are used). `None`: the front end the input shape implies.
    pub mfcc: Option<MfccConfig>,
}

/// What [`PipelineConfig`] reads from a model: its input 0 and output 0.
#[derive(Clone, Copy, Debug)]
pub struct ModelIo<'a> {
    /// Input tensor index (for errors).
    pub input_index: i32,
    /// Input shape.
    pub input_dims: &'a [i32],
    /// True if the input is int8 (the only type the front end feeds).
    pub input_int8: bool,
    /// Input scale.
    pub input_scale: f32,
    /// Input zero point.
    pub input_zero_point: i32,
    /// Output tensor index (for errors).
    pub output_index: i32,
    /// Output type, if uint8 or int8 (others are refused).
    pub output: Option<OutputType>,
    /// Output elements.
    pub output_elements: usize,
}

/// Everything the pipeline needs to know, derived once from the model (and sidecar).
#[derive(Clone, Copy, Debug)]
pub struct PipelineConfig {
    /// Front end settings (preset, step, int8 mapping for this model's input quantization).
    pub frontend: FrontendConfig,
    /// Window, stride and family.
    pub preset: Preset,
    /// Smoothing and thresholds.
    pub detector: DetectorConfig,
    /// MFCC front end instead of the log-mel one (then `frontend` only carries the window and
    /// step, for timing).
    pub mfcc: Option<MfccConfig>,
}

impl PipelineConfig {
    /// Derive the configuration from the model's input/output tensors and, when given, its
    /// sidecar. Without a sidecar the model's input shape picks the preset (49×40 →
    /// micro_speech, `[1, N, 40]` → microWakeWord, 49×10 → MLPerf Tiny KWS MFCCs); a sidecar
    /// naming `feature_type: "mfcc"` makes any int8 input of whole frames an MFCC model.
    pub fn for_model(model: &Model<'_>, sidecar: Option<&Sidecar<'_>>) -> Result<Self, Error> {
        let sg = model.subgraph(0).ok_or(Error::InvalidGraph {
            what: "subgraph",
            index: 0,
        })?;
        let in_idx = sg.inputs().get(0).ok_or(Error::InvalidGraph {
            what: "model without inputs",
            index: 0,
        })?;
        let out_idx = sg.outputs().get(0).ok_or(Error::InvalidGraph {
            what: "model without outputs",
            index: 0,
        })?;
        let input = sg.tensor(in_idx as usize).ok_or(Error::InvalidGraph {
            what: "input tensor",
            index: in_idx,
        })?;
        let output = sg.tensor(out_idx as usize).ok_or(Error::InvalidGraph {
            what: "output tensor",
            index: out_idx,
        })?;
        let io = ModelIo {
            input_index: in_idx,
            input_dims: input.shape.dims(),
            input_int8: input.dtype == DType::I8,
            input_scale: input.quant.scale(),
            input_zero_point: input.quant.zero_point(),
            output_index: out_idx,
            output: match output.dtype {
                DType::U8 => Some(OutputType::Uint8),
                DType::I8 => Some(OutputType::Int8),
                _ => None,
            },
            output_elements: output.shape.elements().unwrap_or(0),
        };
        Self::for_io(&io, sidecar)
    }

    /// [`PipelineConfig::for_model`] from the model's input/output description alone (a model
    /// compiled ahead of time carries it as a constant; no flatbuffer is read).
    pub fn for_io(io: &ModelIo<'_>, sidecar: Option<&Sidecar<'_>>) -> Result<Self, Error> {
        let in_idx = io.input_index;
        let out_idx = io.output_index;
        let side_mfcc = sidecar.and_then(|s| s.mfcc);
        let mut preset = match side_mfcc {
            Some(m) => {
                let coefficients = usize::from(m.coefficients.max(1));
                let elements = io
                    .input_dims
                    .iter()
                    .try_fold(1usize, |n, &d| n.checked_mul(usize::try_from(d).ok()?))
                    .unwrap_or(0);
                let frames = elements / coefficients;
                if elements % coefficients != 0 || !(1..=64).contains(&frames) {
                    return Err(Error::NotAnAudioModel { tensor: in_idx });
                }
                let step = m.step_ms.clamp(1, u32::from(u16::MAX)) as u16;
                Preset::mfcc(frames as u8, m.coefficients, step)
            }
            None => defaults_for_input_shape(io.input_dims)
                .ok_or(Error::NotAnAudioModel { tensor: in_idx })?,
        };
        if !io.input_int8 {
            return Err(Error::NotAnAudioModel { tensor: in_idx });
        }
        let mut mfcc = match preset.kind {
            PresetKind::Mfcc => Some(
                side_mfcc
                    .unwrap_or(MfccConfig::MLPERF)
                    .with_input(io.input_scale, io.input_zero_point),
            ),
            _ => None,
        };
        let mut frontend = match preset.kind {
            PresetKind::MicroSpeech => FrontendConfig::micro_speech(),
            PresetKind::MicroWakeWord => {
                let mut c = FrontendConfig::micro_wakeword();
                c.int8 = Int8Mapping::MicroWakeWord {
                    input_scale: io.input_scale,
                    zero_point: io.input_zero_point,
                };
                c
            }
            PresetKind::Mfcc => FrontendConfig::micro_speech(),
        };
        if let Some(step) = sidecar.and_then(|s| s.feature_step_size) {
            frontend.step_ms = u32::from(step);
            preset.frame_step_ms = step;
            if let Some(m) = &mut mfcc {
                m.step_ms = u32::from(step);
            }
        }
        if let Some(m) = &mfcc {
            m.validate()?;
            frontend.window_ms = m.window_ms;
            frontend.step_ms = m.step_ms;
            frontend.sample_rate_hz = m.sample_rate_hz;
        }
        let mut detector = match sidecar {
            Some(s) if s.probability_cutoff.is_some() || s.labels.is_some() => {
                DetectorConfig::from_sidecar(
                    s.probability_cutoff.unwrap_or(0.9),
                    s.sliding_window_size.unwrap_or(5),
                    s.labels.or(match preset.kind {
                        PresetKind::MicroSpeech | PresetKind::Mfcc => Some(preset.labels()),
                        PresetKind::MicroWakeWord => None,
                    }),
                )?
            }
            _ => preset.detector_config(),
        };
        detector = detector.with_output(
            io.output
                .ok_or(Error::NotAnAudioModel { tensor: out_idx })?,
        );
        detector.check_output_len(io.output_elements)?;
        Ok(PipelineConfig {
            frontend,
            preset,
            detector,
            mfcc,
        })
    }

    /// Milliseconds between feature frames.
    pub fn frame_step_ms(&self) -> u32 {
        self.frontend.step_ms
    }
}

/// What the pipeline reports.
#[derive(Clone, Copy, Debug)]
pub enum Output<'x> {
    /// One model invocation: when (end of the newest audio it saw, ms), its raw output bytes,
    /// and the index of the top class.
    Invocation {
        /// Milliseconds of audio consumed up to the end of the newest frame's window.
        t_ms: u32,
        /// Raw output tensor bytes.
        scores: &'x [u8],
        /// Index of the largest output (ties: the lowest index).
        top: u8,
        /// Output encoding (how to print `scores`).
        output: OutputType,
    },
    /// A detection from the smoother.
    Detection {
        /// Label index.
        label: u8,
        /// Time of the invocation that fired, ms.
        t_ms: u32,
        /// Averaged score, 256·probability.
        score: u8,
    },
}

/// The pipeline's own memory besides the model's arena and state: front end (tables and
/// audio state), feature window, detector. About 16 KB; the caller owns it like the arena
/// (a `static` initialised with [`PipelineMemory::EMPTY`] on a microcontroller), so nothing this
/// large is ever built on, or moved through, the stack.
pub struct PipelineMemory {
    frontend: FrontEnd,
    window: FeatureWindow,
    detector: Detector,
}

impl PipelineMemory {
    /// Unconfigured memory; [`Pipeline::new`] configures it in place.
    pub const EMPTY: PipelineMemory = PipelineMemory {
        frontend: FrontEnd::LogMel(Frontend::EMPTY),
        window: FeatureWindow::EMPTY,
        detector: Detector::EMPTY,
    };

    /// Bytes of this memory (for the RAM report).
    pub const fn bytes() -> usize {
        core::mem::size_of::<PipelineMemory>()
    }
}

/// The front end a pipeline runs: one at a time, so they share the memory.
#[allow(clippy::large_enum_variant)] // both are ~10 KB; the enum lives in caller-owned memory
enum FrontEnd {
    /// TFLM micro-frontend log-mel features.
    LogMel(Frontend),
    /// MFCCs (`f32`); not in a `MOTE_NO_MFCC` build.
    #[cfg(not(mote_no_mfcc))]
    Mfcc(Mfcc),
}

impl FrontEnd {
    /// Configure in place (switching kind first when needed).
    fn init(&mut self, config: &PipelineConfig) -> Result<(), Error> {
        match config.mfcc {
            #[cfg(not(mote_no_mfcc))]
            Some(m) => {
                m.validate()?;
                if !matches!(self, FrontEnd::Mfcc(_)) {
                    *self = FrontEnd::Mfcc(Mfcc::EMPTY);
                }
                match self {
                    FrontEnd::Mfcc(f) => f.init(&m),
                    FrontEnd::LogMel(_) => Ok(()),
                }
            }
            #[cfg(mote_no_mfcc)]
            Some(_) => Err(NO_MFCC),
            None => {
                #[cfg(not(mote_no_mfcc))]
                if !matches!(self, FrontEnd::LogMel(_)) {
                    *self = FrontEnd::LogMel(Frontend::EMPTY);
                }
                match self {
                    FrontEnd::LogMel(f) => f.init(&config.frontend),
                    #[cfg(not(mote_no_mfcc))]
                    FrontEnd::Mfcc(_) => Ok(()),
                }
            }
        }
    }

    /// A log-mel front end from precomputed tables (see [`Pipeline::with_tables`]).
    fn init_with_tables(
        &mut self,
        config: &PipelineConfig,
        tables: &FrontendTables,
    ) -> Result<(), Error> {
        if config.mfcc.is_some() {
            return Err(Error::LimitExceeded {
                what: "precomputed front-end tables for an MFCC model (log-mel only)",
                limit: 0,
            });
        }
        #[cfg(not(mote_no_mfcc))]
        if !matches!(self, FrontEnd::LogMel(_)) {
            *self = FrontEnd::LogMel(Frontend::EMPTY);
        }
        match self {
            FrontEnd::LogMel(f) => f.init_with_tables(&config.frontend, tables),
            #[cfg(not(mote_no_mfcc))]
            FrontEnd::Mfcc(_) => Ok(()),
        }
    }

    fn reset(&mut self) {
        match self {
            FrontEnd::LogMel(f) => f.reset(),
            #[cfg(not(mote_no_mfcc))]
            FrontEnd::Mfcc(f) => f.reset(),
        }
    }

    /// Feed samples; `on` sees each frame's int8 features; `fnv` hashes each frame's values.
    fn push(&mut self, samples: &[i16], fnv: &mut u64, mut on: impl FnMut(&[i8])) {
        match self {
            FrontEnd::LogMel(f) => f.push(samples, |frame| {
                let mut h = *fnv; // in registers for the frame
                for v in frame.features {
                    fnv_bytes(&mut h, &v.to_le_bytes());
                }
                *fnv = h;
                on(frame.int8)
            }),
            #[cfg(not(mote_no_mfcc))]
            FrontEnd::Mfcc(f) => f.push(samples, |frame| {
                let mut h = *fnv;
                for v in frame.features {
                    fnv_bytes(&mut h, &v.to_bits().to_le_bytes());
                }
                *fnv = h;
                on(frame.int8)
            }),
        };
    }
}

/// An MFCC configuration in a build without the MFCC front end.
#[cfg(mote_no_mfcc)]
const NO_MFCC: Error = Error::LimitExceeded {
    what: "MFCC front ends in this build (MOTE_NO_MFCC)",
    limit: 0,
};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

#[inline(always)]
fn fnv_bytes(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h = (*h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
}

impl Default for PipelineMemory {
    fn default() -> Self {
        Self::EMPTY
    }
}

/// Front end, model and detector, streaming. The model is the interpreter, or any other
/// [`Net`] (a model compiled ahead of time: [`Pipeline::with_net`]).
pub struct Pipeline<'p, 'm, 'a, N: Net = Interpreter<'m, 'a>> {
    config: PipelineConfig,
    mem: &'p mut PipelineMemory,
    interp: N,
    frames: u32,
    _m: core::marker::PhantomData<(&'m (), &'a ())>,
    /// FNV-1a 64 of every feature value so far ([`Pipeline::features_fnv`]).
    features_fnv: u64,
}

impl<'p, 'm, 'a> Pipeline<'p, 'm, 'a> {
    /// Prepare the model in `arena`/`state` and configure the front end, window and detector
    /// in `mem`, in place.
    pub fn new(
        model: &Model<'m>,
        arena: &'a mut [u8],
        state: &'a mut [u8],
        mem: &'p mut PipelineMemory,
        config: &PipelineConfig,
    ) -> Result<Self, Error> {
        let interp = Interpreter::new(model, arena, state)?;
        Self::with_net(interp, mem, config)
    }

    /// The interpreter (memory report, tensors).
    pub fn interpreter(&self) -> &Interpreter<'m, 'a> {
        &self.interp
    }
}

impl<'p, 'm, 'a, N: Net> Pipeline<'p, 'm, 'a, N> {
    /// A pipeline over a ready model `net` (its input 0 takes one feature window); configures
    /// the front end, window and detector in `mem`, in place.
    pub fn with_net(
        net: N,
        mem: &'p mut PipelineMemory,
        config: &PipelineConfig,
    ) -> Result<Self, Error> {
        mem.frontend.init(config)?;
        Self::assemble(net, mem, config)
    }

    /// [`Pipeline::with_net`] for a log-mel model whose front-end start-up tables were
    /// computed ahead of time ([`Frontend::tables`] of a front end built for
    /// `config.frontend`): no floating-point table code runs, so a firmware built this way
    /// links no `libm` for its front end.
    pub fn with_tables(
        net: N,
        mem: &'p mut PipelineMemory,
        config: &PipelineConfig,
        tables: &FrontendTables,
    ) -> Result<Self, Error> {
        mem.frontend.init_with_tables(config, tables)?;
        Self::assemble(net, mem, config)
    }

    /// The window and detector configured in `mem` (its front end already is), checked
    /// against `net`'s input.
    fn assemble(
        mut net: N,
        mem: &'p mut PipelineMemory,
        config: &PipelineConfig,
    ) -> Result<Self, Error> {
        let p = &config.preset;
        mem.window.init(
            usize::from(p.frame_len),
            usize::from(p.window_frames),
            usize::from(p.stride_frames),
        )?;
        let want = mem.window.window_bytes();
        let have = net.input_mut(0)?.len();
        if want != have {
            return Err(Error::WrongBufferSize {
                tensor: 0,
                expected: have as u32,
                got: want as u32,
            });
        }
        mem.detector.init(config.detector)?;
        Ok(Pipeline {
            config: *config,
            mem,
            interp: net,
            frames: 0,
            _m: core::marker::PhantomData,
            features_fnv: FNV_OFFSET,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    /// FNV-1a 64 over every feature value computed since `new`/`reset`, in the bytes
    /// `mote features` writes (log-mel: u16 LE; MFCC: f32 LE): the firmware prints it after a
    /// replay so the device's features can be compared with the host's byte for byte.
    pub fn features_fnv(&self) -> u64 {
        self.features_fnv
    }

    /// Back to the state after `new`: front end, window, model state, detector.
    pub fn reset(&mut self) {
        self.mem.frontend.reset();
        self.mem.window.reset();
        self.interp.reset_state();
        self.mem.detector.reset();
        self.frames = 0;
        self.features_fnv = FNV_OFFSET;
    }

    /// Feed 16 kHz samples (any chunking gives the same outputs); `on` sees each invocation
    /// and each detection, in order.
    pub fn push(&mut self, samples: &[i16], mut on: impl FnMut(Output<'_>)) -> Result<(), Error> {
        let mut result = Ok(());
        let fe_config = &self.config.frontend;
        let frames = &mut self.frames;
        let PipelineMemory {
            frontend,
            window,
            detector,
        } = &mut *self.mem;
        let interp = &mut self.interp;
        let output = self.config.detector.output;
        frontend.push(samples, &mut self.features_fnv, |int8| {
            if result.is_err() {
                return;
            }
            let k = u64::from(*frames);
            *frames = frames.wrapping_add(1);
            let mut buf = [0i8; MAX_CHANNELS];
            let n = int8.len().min(MAX_CHANNELS);
            buf[..n].copy_from_slice(&int8[..n]);
            let due = match window.push(&buf[..n]) {
                Ok(d) => d,
                Err(e) => {
                    result = Err(e);
                    return;
                }
            };
            if !due {
                return;
            }
            // Only per invocation; 32-bit divisions only (`div_u64_u32`: no 64-bit division
            // routine linked on the M4).
            let (window_samples, step_samples) = (
                fe_config.window_samples() as u64,
                fe_config.step_samples() as u64,
            );
            let t_ms = crate::fixedpoint::div_u64_u32(
                (k * step_samples + window_samples) * 1000,
                fe_config.sample_rate_hz,
            ) as u32;
            let step = interp
                .input_mut(0)
                .and_then(|dst| window.copy_window(dst))
                .and_then(|_| interp.invoke());
            if let Err(e) = step {
                result = Err(e);
                return;
            }
            let scores = match interp.output(0) {
                Ok(s) => s,
                Err(e) => {
                    result = Err(e);
                    return;
                }
            };
            let top = top_index(scores, output);
            on(Output::Invocation {
                t_ms,
                scores,
                top,
                output,
            });
            if let Some(ev) = detector.push(t_ms, scores) {
                on(Output::Detection {
                    label: ev.label,
                    t_ms: ev.t_ms,
                    score: ev.score,
                });
            }
        });
        result
    }
}

/// Index of the largest output value (ties: lowest index), comparing as the output's type.
fn top_index(scores: &[u8], output: OutputType) -> u8 {
    let mut best = 0usize;
    for (i, &v) in scores.iter().enumerate() {
        if output.score(v) > output.score(scores[best]) {
            best = i;
        }
    }
    best as u8
}

/// Write one JSON Lines record (with the trailing newline):
/// `{"t_ms":990,"scores":[-128,-126,127,-128],"label":"yes"}` for an invocation (raw output
/// values as integers, signed for int8 outputs) and
/// `{"event":"detection","label":"yes","t_ms":990,"score":0.949}` for a detection (score =
/// averaged 256·probability / 256, three decimals, rounded half up in integers so every target
/// prints the same text). `labels[i]` names class `i`; a missing name prints as `class<i>`.
pub fn write_json_line(w: &mut impl Write, out: &Output<'_>, labels: &[&str]) -> fmt::Result {
    match *out {
        Output::Invocation {
            t_ms,
            scores,
            top,
            output,
        } => {
            w.write_str("{\"t_ms\":")?;
            write_digits(w, t_ms, false)?;
            w.write_str(",\"scores\":[")?;
            for (i, &v) in scores.iter().enumerate() {
                if i > 0 {
                    w.write_char(',')?;
                }
                match output {
                    OutputType::Int8 => write_int(w, i32::from(v as i8))?,
                    OutputType::Uint8 => write_digits(w, u32::from(v), false)?,
                }
            }
            w.write_str("],\"label\":")?;
            write_label(w, labels, top)?;
            w.write_str("}\n")
        }
        Output::Detection { label, t_ms, score } => {
            w.write_str("{\"event\":\"detection\",\"label\":")?;
            write_label(w, labels, label)?;
            let milli = (u32::from(score) * 1000 + 128) / 256;
            w.write_str(",\"t_ms\":")?;
            write_digits(w, t_ms, false)?;
            w.write_str(",\"score\":")?;
            write_digits(w, milli / 1000, false)?;
            // Three decimals, zero padded (`{:03}`).
            let frac = milli % 1000;
            let digits = [
                b'.',
                b'0' + (frac / 100) as u8,
                b'0' + (frac / 10 % 10) as u8,
                b'0' + (frac % 10) as u8,
                b'}',
                b'\n',
            ];
            w.write_str(core::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
        }
    }
}

/// A decimal integer, as `{}` prints it, without the formatting machinery (this runs once per
/// invocation on the device).
fn write_int(w: &mut impl Write, v: i32) -> fmt::Result {
    write_digits(w, v.unsigned_abs(), v < 0)
}

fn write_label(w: &mut impl Write, labels: &[&str], i: u8) -> fmt::Result {
    w.write_char('"')?;
    match labels.get(usize::from(i)) {
        Some(name) => JsonEscaped(&mut *w).write_str(name)?,
        None => {
            w.write_str("class")?;
            write_digits(w, u32::from(i), false)?;
        }
    }
    w.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn write_int_is_display() {
        for v in [
            0i32,
            1,
            -1,
            9,
            10,
            -10,
            127,
            -128,
            255,
            99_999,
            i32::MIN,
            i32::MAX,
        ] {
            let mut s = String::new();
            write_int(&mut s, v).unwrap();
            assert_eq!(s, std::format!("{v}"));
        }
        let mut s = String::new();
        write_digits(&mut s, u32::MAX, false).unwrap();
        assert_eq!(s, std::format!("{}", u32::MAX));
    }

    #[test]
    fn json_lines_format() {
        let mut s = String::new();
        let scores = [0x80u8, 0x82, 0x7f, 0x80];
        write_json_line(
            &mut s,
            &Output::Invocation {
                t_ms: 990,
                scores: &scores,
                top: 2,
                output: OutputType::Int8,
            },
            &["silence", "unknown", "yes", "no"],
        )
        .unwrap();
        assert_eq!(
            s,
            "{\"t_ms\":990,\"scores\":[-128,-126,127,-128],\"label\":\"yes\"}\n"
        );
        s.clear();
        write_json_line(
            &mut s,
            &Output::Detection {
                label: 0,
                t_ms: 1230,
                score: 243,
            },
            &["Okay \"Nabu\""],
        )
        .unwrap();
        assert_eq!(s, "{\"event\":\"detection\",\"label\":\"Okay \\\"Nabu\\\"\",\"t_ms\":1230,\"score\":0.949}\n");
        s.clear();
        write_json_line(
            &mut s,
            &Output::Detection {
                label: 5,
                t_ms: 0,
                score: 255,
            },
            &[],
        )
        .unwrap();
        assert_eq!(
            s,
            "{\"event\":\"detection\",\"label\":\"class5\",\"t_ms\":0,\"score\":0.996}\n"
        );
    }

    #[test]
    fn top_index_compares_by_type() {
        assert_eq!(top_index(&[0x80, 0x7f, 0x00], OutputType::Int8), 1);
        assert_eq!(top_index(&[0x80, 0x7f, 0x00], OutputType::Uint8), 0);
        assert_eq!(top_index(&[5, 5, 5], OutputType::Uint8), 0);
    }

    /// `EMPTY` is all zero (so firmware statics of it are `.bss`, not a flash image); used
    /// before `init` it must do nothing, without panicking: no frames, no events.
    #[test]
    fn unconfigured_memory_is_inert() {
        let mut mem = std::boxed::Box::new(PipelineMemory::EMPTY);
        let mut fnv = FNV_OFFSET;
        let mut frames = 0;
        mem.frontend.push(&[1000; 2000], &mut fnv, |_| frames += 1);
        assert_eq!(frames, 0);
        for _ in 0..3 {
            assert_eq!(mem.window.push(&[]), Ok(true));
        }
        assert_eq!(mem.window.window_bytes(), 0);
        assert_eq!(mem.window.copy_window(&mut []), Ok(()));
        for t in 0..100 {
            assert_eq!(mem.detector.push(t * 10, &[255, 255]), None);
        }
        let mut mfcc = std::boxed::Box::new(Mfcc::EMPTY);
        assert_eq!(mfcc.push(&[1000; 2000], |_| frames += 1), 0);
    }
}
