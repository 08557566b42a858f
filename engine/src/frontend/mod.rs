//! Audio front end: 16 kHz PCM → log-mel features in fixed point, bit-exact with the
//! implementations of TensorFlow Lite Micro's "micro-frontend" that Mote's models were built
//! with, selected by [`Flavor`]:
//!
//! - [`Flavor::MicroFrontendF32`]: TFLM's C micro-frontend
//!   (`tensorflow/lite/experimental/microfrontend/lib`) as compiled into `pymicro-features`
//!   2.x, whose copy computes its start-up tables in single precision. Preset
//!   [`FrontendConfig::micro_wakeword`]; oracle `pymicro-features` 2.0.2.
//! - [`Flavor::MicroFrontendF64`]: the same C code as upstream (double-precision tables), i.e.
//!   TensorFlow's `audio_microfrontend` op, which microWakeWord computes training features with.
//! - [`Flavor::SignalLibrary`]: the signal-library ops (`signal/`) that TFLM's
//!   `audio_preprocessor_int8.tflite` (the micro_speech front end) is built from. Preset
//!   [`FrontendConfig::micro_speech`]; oracle that model in the TFLM interpreter.
//!
//! Pipeline per window: Hann window (Q12) → scale up to use the full int16 range → fixed-point
//! real FFT (KISS FFT, [`fft`]) → energy |X|² → mel filterbank (Q12 weights, u64 sums) →
//! square root, scaled back down → noise reduction (spectral subtraction) → PCAN gain control
//! → natural log × 2^6 ([`stages`]). The integer runtime is the same in all three; the
//! start-up tables that TFLM computes with floats are computed here the same way, per flavor
//! ([`tables`]). No heap: every buffer is a fixed-size array sized for the largest
//! configuration ([`MAX_FFT`]-point FFT, [`MAX_CHANNELS`] channels).
//!
//! Where the implementations part (found by comparing the oracles stage by stage and reading
//! their table code): the filterbank weights. The signal library's model builder truncates them
//! to Q12 where the C library rounds them, so about half of the 236 weights are one less; the
//! single-precision C copy (`log1pf`, `floorf`) changes 3 weights and one window coefficient.
//! Over Mote's test audio at a 10 ms step this changes 0.4–0.9 % of the features. Two
//! runtime edge cases differ as well: the FFT input shift when a windowed sample is −32768
//! (the C library's max-|x| ignores it; the signal library's `MaxAbs16` wraps it to −32768,
//! which zeroes the shift), and the log output clamp (65535 vs 32767, never reached in
//! practice).

pub mod fft;
#[cfg(test)]
mod fft_reference;
mod fft_tables;
mod packed;
pub mod quantize;
pub mod stages;
pub mod tables;

use crate::fixedpoint::div_u64_u32;
use crate::Error;
use fft::RealFft;
pub use quantize::{Int8Mapping, Int8Thresholds};
pub use tables::FrontendTables;
use tables::{Filterbank, PCAN_LUT_SIZE};

/// Largest FFT (and so window) in samples.
pub const MAX_FFT: usize = 512;
/// Largest number of filterbank channels (feature values per frame).
pub const MAX_CHANNELS: usize = 64;
/// FFT bins of the largest FFT (`MAX_FFT / 2 + 1`).
pub const MAX_BINS: usize = MAX_FFT / 2 + 1;
/// Fractional bits of the noise-reduction coefficients (`kNoiseReductionBits`).
const NOISE_REDUCTION_BITS: u32 = 14;

/// Which implementation of TFLM's front end to match bit for bit (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// The C micro-frontend with single-precision start-up tables (`cosf`, `log1pf`,
    /// `floorf`), as compiled into `pymicro-features` 2.x, microWakeWord's Python runtime.
    MicroFrontendF32,
    /// The C micro-frontend as in the TensorFlow / TFLM sources, start-up tables in double
    /// precision (TensorFlow's `audio_microfrontend` op, which microWakeWord trains with).
    MicroFrontendF64,
    /// The signal-library ops of `audio_preprocessor_int8.tflite` (micro_speech).
    SignalLibrary,
}

/// PCAN (per-channel amplitude normalization) gain control settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PcanConfig {
    /// Exponent of the gain curve (TFLM default 0.95).
    pub strength: f32,
    /// Offset added to the noise estimate before the power (TFLM default 80).
    pub offset: f32,
    /// Fractional bits of the gain (TFLM default 21).
    pub gain_bits: u32,
}

/// Front-end configuration. Field names and defaults follow TFLM's `FrontendConfig`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrontendConfig {
    /// Input sample rate in Hz (the presets and the verified configurations use 16 000).
    pub sample_rate_hz: u32,
    /// Window length in ms (samples = ms · rate / 1000, at most [`MAX_FFT`]).
    pub window_ms: u32,
    /// Hop between windows in ms (at least one sample, at most the window).
    pub step_ms: u32,
    /// Mel filterbank channels, 1..=[`MAX_CHANNELS`].
    pub num_channels: usize,
    /// Lower edge of the filterbank in Hz.
    pub lower_band_limit_hz: f32,
    /// Upper edge of the filterbank in Hz (below Nyquist).
    pub upper_band_limit_hz: f32,
    /// Extra fractional bits of the noise estimate.
    pub smoothing_bits: u32,
    /// Noise-estimate smoothing coefficient for even channels.
    pub even_smoothing: f32,
    /// Noise-estimate smoothing coefficient for odd channels.
    pub odd_smoothing: f32,
    /// Fraction of the signal that noise reduction always leaves.
    pub min_signal_remaining: f32,
    /// PCAN gain control, or `None` to skip it.
    pub pcan: Option<PcanConfig>,
    /// Log scale shift (output = ln(x) · 2^shift), or `None` to output the linear values.
    pub log_scale_shift: Option<u32>,
    /// Which TFLM implementation to match.
    pub flavor: Flavor,
    /// How features map to the model's int8 input.
    pub int8: Int8Mapping,
}

impl FrontendConfig {
    /// All fields zero, first enum variants, no PCAN or log shift: what an unconfigured
    /// [`Frontend::EMPTY`] holds (invalid for [`Frontend::init`]).
    const ZERO: FrontendConfig = FrontendConfig {
        sample_rate_hz: 0,
        window_ms: 0,
        step_ms: 0,
        num_channels: 0,
        lower_band_limit_hz: 0.0,
        upper_band_limit_hz: 0.0,
        smoothing_bits: 0,
        even_smoothing: 0.0,
        odd_smoothing: 0.0,
        min_signal_remaining: 0.0,
        pcan: None,
        log_scale_shift: None,
        flavor: Flavor::MicroFrontendF32,
        int8: Int8Mapping::MicroSpeech,
    };

    /// microWakeWord's front end: 30 ms window, 10 ms step, 40 channels 125–7500 Hz, noise
    /// reduction (10 bits, 0.025 / 0.06, 0.05), PCAN (0.95, 80, 21 bits), log shift 6; classic
    /// C micro-frontend; int8 as pymicro_wakeword maps it. Oracle: `pymicro-features` 2.0.2.
    pub const fn micro_wakeword() -> Self {
        FrontendConfig {
            sample_rate_hz: 16000,
            window_ms: 30,
            step_ms: 10,
            num_channels: 40,
            lower_band_limit_hz: 125.0,
            upper_band_limit_hz: 7500.0,
            smoothing_bits: 10,
            even_smoothing: 0.025,
            odd_smoothing: 0.06,
            min_signal_remaining: 0.05,
            pcan: Some(PcanConfig {
                strength: 0.95,
                offset: 80.0,
                gain_bits: 21,
            }),
            log_scale_shift: Some(6),
            flavor: Flavor::MicroFrontendF32,
            int8: Int8Mapping::MICRO_WAKEWORD,
        }
    }

    /// TFLM micro_speech's front end: as [`FrontendConfig::micro_wakeword`] but a 20 ms step
    /// (49 frames per 1 s clip), the signal library's arithmetic and micro_speech's int8
    /// mapping. Oracle: `audio_preprocessor_int8.tflite` in the TFLM interpreter.
    pub const fn micro_speech() -> Self {
        let mut c = Self::micro_wakeword();
        c.step_ms = 20;
        c.flavor = Flavor::SignalLibrary;
        c.int8 = Int8Mapping::MicroSpeech;
        c
    }

    /// Window length in samples.
    pub const fn window_samples(&self) -> usize {
        // No 64-bit division routine on the M4 (`div_u64_u32`).
        div_u64_u32(self.window_ms as u64 * self.sample_rate_hz as u64, 1000) as usize
    }

    /// Step in samples.
    pub const fn step_samples(&self) -> usize {
        div_u64_u32(self.step_ms as u64 * self.sample_rate_hz as u64, 1000) as usize
    }
}

/// First bin of each segment `0..=channels` of `fb`, then `fb.end` (its bins' segments are
/// non-decreasing: `tables::filterbank` assigns them in order).
fn segment_starts(fb: &Filterbank, channels: usize) -> [u16; MAX_CHANNELS + 2] {
    let mut starts = [fb.end as u16; MAX_CHANNELS + 2];
    let segs = fb.seg.get(fb.start..fb.end).unwrap_or(&[]);
    for (s, start) in starts.iter_mut().enumerate().take(channels + 1) {
        // Bins before the first of segment s.
        let before = segs.iter().take_while(|&&g| usize::from(g) < s).count();
        *start = (fb.start + before) as u16;
    }
    starts
}

/// Windows `input` pair by pair into `out` with `apply` (a [`packed`] window op), pair `j`
/// at slot `order[j]`; returns the lane-wise maximum and minimum of the values written.
#[inline(always)]
fn window_pairs(
    input: &[i16],
    window: &[i16],
    order: &[u8],
    out: &mut [u32; fft::MAX_CFFT],
    apply: impl Fn(u32, u32) -> u32,
) -> (u32, u32) {
    let (mut hi, mut lo) = (0u32, 0u32);
    let pairs = input.chunks_exact(2).zip(window.chunks_exact(2));
    for (&slot, (x, w)) in order.iter().zip(pairs) {
        let v = apply(packed::pack(x[0], x[1]), packed::pack(w[0], w[1]));
        out[usize::from(slot)] = v;
        hi = packed::max16(hi, v);
        lo = packed::min16(lo, v);
    }
    (hi, lo)
}

/// The stages of one frame, in order, as [`Frontend::push_staged`] reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Hann window, max |x| and the FFT input shift.
    Window,
    /// The real FFT.
    Fft,
    /// |X|² of the filterbank's bins: empty, the filterbank computes it bin by bin (the mark
    /// stays so the stage table keeps its rows).
    Energy,
    /// |X|², mel filterbank sums and their square roots.
    Filterbank,
    /// Noise estimate update and spectral subtraction.
    NoiseReduction,
    /// PCAN gain control (nothing when it is off).
    Pcan,
    /// Natural log.
    Log,
    /// Mapping to the model's int8 input.
    Int8,
}

/// One computed feature frame, handed to [`Frontend::push`]'s callback.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// The log-mel features, one per channel.
    pub features: &'a [u16],
    /// The same features mapped to the model's int8 input ([`FrontendConfig::int8`]).
    pub int8: &'a [i8],
}

/// A streaming front end. All state and tables live inline ([`Frontend::ram_bytes`]).
#[derive(Clone)]
pub struct Frontend {
    config: FrontendConfig,
    window_len: usize,
    step: usize,
    fft_size: usize,
    /// `MostSignificantBit32(fft_size) − 1 − kFilterbankBits / 2`: log and PCAN input scaling.
    correction_bits: i32,
    num_channels: usize,
    window: [i16; MAX_FFT],
    filterbank: Filterbank,
    /// First bin of each filterbank segment (`0..=num_channels`), then `filterbank.end`: the
    /// segments are consecutive runs of bins.
    seg_start: [u16; MAX_CHANNELS + 2],
    fft: RealFft,
    even_smoothing: u32,
    odd_smoothing: u32,
    min_signal_remaining: u32,
    pcan_lut: [i16; PCAN_LUT_SIZE],
    pcan_snr_shift: u32,
    /// `config.int8` as a table (no division per feature).
    int8_table: Int8Thresholds,
    // ---- streaming state
    /// Samples of the window being filled (`WindowState::input`).
    input: [i16; MAX_FFT],
    filled: usize,
    /// Where the window starts in `input[..window_len]`: with an even window and step the
    /// window wraps around there (a ring: no samples move), else it is always 0 and the
    /// overlap is moved down after each frame.
    start: usize,
    /// Noise estimate per channel (`NoiseReductionState::estimate`), read by PCAN.
    noise_estimate: [u32; MAX_CHANNELS],
    // ---- per-frame scratch
    /// The windowed samples as the FFT's complex input (even sample re, odd im), zero
    /// padded to the FFT's length, in the FFT's leaf order ([`RealFft::order`]).
    fft_input: [u32; fft::MAX_CFFT],
    /// The FFT's bins, packed `re | im << 16` (also its work buffer).
    spectrum: [u32; MAX_BINS],
    /// Per channel: the filterbank's square root, then after noise reduction and PCAN.
    signal: [u32; MAX_CHANNELS],
    features: [u16; MAX_CHANNELS],
    int8: [i8; MAX_CHANNELS],
}

impl Frontend {
    /// Validates `config` and builds the tables (window, FFT twiddles, filterbank, PCAN LUT).
    ///
    /// Returns the front end by value (about 9 KB); on a microcontroller build one in place
    /// instead: a `static` initialised with [`Frontend::EMPTY`], then [`Frontend::init`].
    pub fn new(config: &FrontendConfig) -> Result<Self, Error> {
        let mut f = Frontend::EMPTY;
        f.init(config)?;
        Ok(f)
    }

    /// A front end with no configuration; [`Frontend::init`] makes it usable. Every field is
    /// zero (enums on their first variant, `Option`s `None`), so a `static` initialised with it
    /// lands in `.bss` and a write of it compiles to a `memset`, not a copy of a 9 KB flash
    /// image. [`Frontend::push`] on it produces no frames.
    pub const EMPTY: Frontend = Frontend {
        config: FrontendConfig::ZERO,
        window_len: 0,
        step: 0,
        fft_size: 0,
        correction_bits: 0,
        num_channels: 0,
        window: [0; MAX_FFT],
        filterbank: Filterbank::EMPTY,
        seg_start: [0; MAX_CHANNELS + 2],
        fft: RealFft::EMPTY,
        even_smoothing: 0,
        odd_smoothing: 0,
        min_signal_remaining: 0,
        pcan_lut: [0; PCAN_LUT_SIZE],
        pcan_snr_shift: 0,
        int8_table: Int8Thresholds::EMPTY,
        input: [0; MAX_FFT],
        filled: 0,
        start: 0,
        noise_estimate: [0; MAX_CHANNELS],
        fft_input: [0; fft::MAX_CFFT],
        spectrum: [0; MAX_BINS],
        signal: [0; MAX_CHANNELS],
        features: [0; MAX_CHANNELS],
        int8: [0; MAX_CHANNELS],
    };

    /// Validate `config` and (re)build this front end in place, without large temporaries on
    /// the stack; its audio state starts empty. On error `self` is left unchanged. Computes the
    /// start-up tables with floating point as TFLM does ([`tables`]); a model compiled ahead of
    /// time brings them precomputed instead ([`Frontend::init_with_tables`]).
    pub fn init(&mut self, config: &FrontendConfig) -> Result<(), Error> {
        let plan = Plan::check(config)?;
        let filterbank = tables::filterbank(
            config.flavor,
            config.num_channels,
            config.lower_band_limit_hz,
            config.upper_band_limit_hz,
            config.sample_rate_hz,
            plan.fft_size / 2 + 1,
        )?;
        // Validated: from here on nothing fails, so `self` is only changed on success.
        self.seg_start = segment_starts(&filterbank, config.num_channels);
        self.filterbank = filterbank;
        self.pcan_lut = match config.pcan {
            Some(p) => tables::pcan_lut(p.strength, p.offset, p.gain_bits, plan.pcan_input_bits),
            None => [0; PCAN_LUT_SIZE],
        };
        self.window = [0; MAX_FFT];
        if let Some(w) = self.window.get_mut(..plan.window_len) {
            tables::hann_q12(config.flavor, w);
        }
        self.int8_table = config.int8.thresholds();
        self.apply(config, &plan);
        Ok(())
    }

    /// [`Frontend::init`] with the start-up tables given (what [`Frontend::tables`] read back
    /// from a front end built with `init` for the same `config`): no floating-point table code
    /// runs, so a firmware that only calls this links no `libm`. The caller vouches that
    /// `tables` belong to `config` (the exporter writes both from one `init`); the validation
    /// of `config` is the same as `init`'s.
    pub fn init_with_tables(
        &mut self,
        config: &FrontendConfig,
        tables: &FrontendTables,
    ) -> Result<(), Error> {
        let plan = Plan::check(config)?;
        self.seg_start = segment_starts(&tables.filterbank, config.num_channels);
        // Copied into place, the int8 table filled there: no table-sized temporaries on the
        // stack (this runs inside the firmware's deepest start-up frame).
        self.filterbank = tables.filterbank;
        self.pcan_lut = tables.pcan_lut;
        self.window = tables.window;
        self.int8_table = tables.int8;
        self.int8_table.fill_table();
        self.apply(config, &plan);
        Ok(())
    }

    /// The start-up tables of this front end (for [`Frontend::init_with_tables`]).
    pub fn tables(&self) -> FrontendTables {
        FrontendTables {
            window: self.window,
            filterbank: self.filterbank,
            pcan_lut: self.pcan_lut,
            int8: self.int8_table,
        }
    }

    /// Everything but the tables, from a checked `plan` of `config`.
    fn apply(&mut self, config: &FrontendConfig, plan: &Plan) {
        // NoiseReductionPopulateState: float coefficient · 2^14, truncated.
        let q14 = |x: f32| (x * (1u32 << NOISE_REDUCTION_BITS) as f32) as u32;
        self.config = *config;
        self.window_len = plan.window_len;
        self.step = plan.step;
        self.fft_size = plan.fft_size;
        self.correction_bits = plan.correction_bits;
        self.num_channels = config.num_channels;
        self.fft.plan(plan.fft_size);
        self.even_smoothing = q14(config.even_smoothing);
        self.odd_smoothing = q14(config.odd_smoothing);
        self.min_signal_remaining = q14(config.min_signal_remaining);
        self.pcan_snr_shift = plan.pcan_snr_shift;
        self.reset();
    }

    /// The configuration this front end was built from.
    pub fn config(&self) -> &FrontendConfig {
        &self.config
    }

    /// Feature values per frame.
    pub fn num_channels(&self) -> usize {
        self.num_channels
    }

    /// RAM the front end occupies (state, tables and scratch; it allocates nothing else).
    pub const fn ram_bytes() -> usize {
        core::mem::size_of::<Self>()
    }

    /// Forgets all audio: empties the window and zeroes the noise estimate (`FrontendReset`).
    pub fn reset(&mut self) {
        self.input = [0; MAX_FFT];
        self.filled = 0;
        self.start = 0;
        self.noise_estimate = [0; MAX_CHANNELS];
    }

    /// Feeds samples of any length; calls `on_frame` once per completed step (the first frame
    /// needs a full window) and returns the number of frames produced. Chunking does not
    /// change the output: the same audio in any split gives the same frames.
    pub fn push(&mut self, samples: &[i16], on_frame: impl FnMut(Frame<'_>)) -> usize {
        self.push_staged(samples, |_| {}, on_frame)
    }

    /// [`Frontend::push`], calling `mark` after each [`Stage`] of every frame: for measuring
    /// the stages' cost one by one (the firmware's `fe` mode puts instruction-counter markers
    /// there). The output is the same as `push`'s.
    pub fn push_staged(
        &mut self,
        samples: &[i16],
        mut mark: impl FnMut(Stage),
        mut on_frame: impl FnMut(Frame<'_>),
    ) -> usize {
        let mut frames = 0;
        let mut rest = samples;
        let len = self.window_len;
        let ring = len.is_multiple_of(2) && self.step.is_multiple_of(2); // pairs never straddle the wrap
                                                                         // `window_len` is 0 only before `init` (EMPTY): no frames, and no endless loop.
        while !rest.is_empty() && len > 0 {
            let take = (len - self.filled).min(rest.len());
            let (head, tail) = rest.split_at(take);
            // Write at the window's end, wrapping around the ring (start + filled < 2·len).
            let at = (self.start + self.filled) % len.max(1);
            let (to_end, wrapped) = head.split_at(take.min(len - at));
            if let Some(dst) = self.input.get_mut(at..at + to_end.len()) {
                dst.copy_from_slice(to_end);
            }
            if let Some(dst) = self.input.get_mut(..wrapped.len()) {
                dst.copy_from_slice(wrapped);
            }
            self.filled += take;
            rest = tail;
            if self.filled == len {
                self.compute_frame(&mut mark);
                let n = self.num_channels;
                on_frame(Frame {
                    features: &self.features[..n],
                    int8: &self.int8[..n],
                });
                frames += 1;
                // Keep the overlap: the window moves on by one step.
                if ring {
                    self.start = (self.start + self.step) % len;
                } else {
                    crate::buf::move_down(
                        &mut self.input,
                        self.step,
                        len.saturating_sub(self.step),
                    );
                }
                self.filled -= self.step;
            }
        }
        frames
    }

    /// Runs the pipeline on the full window in `self.input`, writing `features` and `int8`;
    /// `mark` is called after each stage.
    ///
    /// Not generic and never inlined: the stages are compiled in this crate, at its
    /// opt-level (the firmware builds the engine at 3 and its own code, where generic callers
    /// such as [`Frontend::push`] are instantiated, at "z").
    #[inline(never)]
    fn compute_frame(&mut self, mark: &mut dyn FnMut(Stage)) {
        let shift = self.window_stage();
        mark(Stage::Window);
        self.fft.forward(
            &self.fft_input,
            shift,
            &mut self.spectrum[..=self.fft_size / 2],
        );
        mark(Stage::Fft);
        mark(Stage::Energy);
        self.filterbank_stage(shift);
        mark(Stage::Filterbank);
        self.noise_reduction_stage();
        mark(Stage::NoiseReduction);
        if self.config.pcan.is_some() {
            self.pcan_stage();
        }
        mark(Stage::Pcan);
        self.log_stage();
        mark(Stage::Log);
        let n = self.num_channels;
        self.int8_table
            .map_frame(&self.features[..n], &mut self.int8[..n]);
        mark(Stage::Int8);
    }

    /// Window (Q12) into `fft_input` (sample pairs, in the FFT's leaf order); returns the left shift that scales it up
    /// to the full int16 range (applied by the FFT).
    fn window_stage(&mut self) -> u32 {
        let len = self.window_len;
        let order = self.fft.order();
        let out = &mut self.fft_input;
        // The FFT reads its whole input: zero pad it (a shorter window never wrote there).
        for &slot in order.get(len.div_ceil(2)..).unwrap_or(&[]) {
            out[usize::from(slot)] = 0;
        }
        let (Some(input), Some(window)) = (self.input.get(..len), self.window.get(..len)) else {
            return 0;
        };
        // The window's samples in order: input[start..], then input[..start] (start is even
        // when not 0, so the pairs line up).
        let start = self.start.min(len);
        let (older, newer) = (
            input.get(start..).unwrap_or(&[]),
            input.get(..start).unwrap_or(&[]),
        );
        let (Some((w_old, w_new)), Some((o_old, o_new))) = (
            window.split_at_checked(older.len()),
            order.split_at_checked(older.len() / 2),
        ) else {
            return 0;
        };
        let signal_library = self.config.flavor == Flavor::SignalLibrary;
        // Two samples per step, stored as one FFT input value (even re, odd im); the largest
        // and smallest value per lane give max |x| (as TFLM tracks it) unless −32768 occurs.
        let ((hi_old, lo_old), (hi_new, lo_new)) = if signal_library {
            let apply = packed::window_sat;
            (
                window_pairs(older, w_old, o_old, out, apply),
                window_pairs(newer, w_new, o_new, out, apply),
            )
        } else {
            let apply = packed::window_wrap;
            (
                window_pairs(older, w_old, o_old, out, apply),
                window_pairs(newer, w_new, o_new, out, apply),
            )
        };
        let (hi, lo) = (packed::max16(hi_old, hi_new), packed::min16(lo_old, lo_new));
        let mut hi = packed::re(hi).max(packed::im(hi));
        let mut lo = packed::re(lo).min(packed::im(lo));
        if len % 2 == 1 {
            let last = order.get(len / 2).map(|&slot| usize::from(slot));
            if let (Some(last), Some(&x), Some(&w)) = (last, input.last(), window.last()) {
                // (int16_t) of the shifted product (the C library); ApplyWindow saturates.
                let v = if signal_library {
                    packed::re(packed::window_sat(packed::pack(x, 0), packed::pack(w, 0)))
                } else {
                    packed::re(packed::window_wrap(packed::pack(x, 0), packed::pack(w, 0)))
                };
                out[last] = packed::pack(v, 0);
                hi = hi.max(v);
                lo = lo.min(v);
            }
        }
        let max_abs = if lo > i16::MIN {
            hi.max(-lo)
        } else {
            // −32768 occurred: replay TFLM's running max exactly, in sample order.
            let values = order
                .iter()
                .map(|&slot| out[usize::from(slot)])
                .flat_map(|c| [packed::re(c), packed::im(c)])
                .take(len);
            let mut max_abs: i16 = 0;
            for v in values {
                if signal_library {
                    // MaxAbs16: `-value > max` in int, then stored as int16, so −32768 becomes
                    // the max as −32768 (and later values compare against that).
                    if v > max_abs {
                        max_abs = v;
                    } else if -i32::from(v) > i32::from(max_abs) {
                        max_abs = v.wrapping_neg();
                    }
                } else {
                    // WindowProcessSamples: |v| in int16, so −32768 stays −32768, never wins.
                    max_abs = max_abs.max(v.wrapping_abs());
                }
            }
            max_abs
        };
        // 15 − MostSignificantBit32(max) (the C library), clamped at 0 by the signal library;
        // a negative int16 max converts to a uint32 with bit 31 set (msb 32). The FFT applies
        // it while reading its input, and zero pads.
        (15 - stages::msb32(i32::from(max_abs) as u32) as i32).max(0) as u32
    }

    /// Mel filterbank (Q12 weights, u64 sums) of the bins' energy |X|², square root, undo
    /// the FFT input shift (FilterbankConvertFftComplexToEnergy +
    /// FilterbankAccumulateChannels + FilterbankSqrt / FilterBank + FilterBankSquareRoot):
    /// `signal`.
    ///
    /// The energy is the int32 sum of squares stored as uint32 (it wraps only for two −32768
    /// parts). TFLM adds each bin's `weight · energy` to its segment's accumulator and
    /// `unweight · energy` to the next one's; channel `c` is accumulator `c + 1`. Here the
    /// bins are read once, segment by segment: a segment's weighted sum completes the channel
    /// before it, whose unweighted part the previous segment carried (u64 sums wrap exactly,
    /// so the grouping cannot change them).
    fn filterbank_stage(&mut self, shift: u32) {
        let fb = &self.filterbank;
        let n = self.num_channels;
        let (Some(signal), Some(starts)) = (self.signal.get_mut(..n), self.seg_start.get(1..n + 2))
        else {
            return;
        };
        let mut lo = fb.start;
        let mut carry = 0u64; // the previous segment's unweighted sum
        for (s, &hi) in starts.iter().enumerate() {
            let r = lo..usize::from(hi);
            lo = usize::from(hi);
            let (Some(bins), Some(w), Some(u)) = (
                self.spectrum.get(r.clone()),
                fb.weight.get(r.clone()),
                fb.unweight.get(r),
            ) else {
                return;
            };
            let (mut ws, mut us) = (0u64, 0u64);
            for (&c, (&w, &u)) in bins.iter().zip(w.iter().zip(u)) {
                let e = u64::from(packed::norm(c));
                ws = ws.wrapping_add(u64::from(w) * e);
                us = us.wrapping_add(u64::from(u) * e);
            }
            // Segment 0's weighted sum and the last one's unweighted sum are never read.
            if let Some(out) = s.checked_sub(1).and_then(|c| signal.get_mut(c)) {
                *out = stages::sqrt64_fast(carry.wrapping_add(ws)) >> shift;
            }
            carry = us;
        }
    }

    /// NoiseReductionApply / FilterbankSpectralSubtraction (clamping off): updates the noise
    /// estimate, `signal` becomes the reduced signal.
    fn noise_reduction_stage(&mut self) {
        let smoothing_bits = self.config.smoothing_bits;
        let n = self.num_channels;
        let (Some(signal), Some(estimates)) =
            (self.signal.get_mut(..n), self.noise_estimate.get_mut(..n))
        else {
            return;
        };
        for (ch, (value, estimate)) in signal.iter_mut().zip(estimates).enumerate() {
            let signal = *value;
            let smoothing = if ch % 2 == 0 {
                self.even_smoothing
            } else {
                self.odd_smoothing
            };
            let one_minus = (1u32 << NOISE_REDUCTION_BITS) - smoothing;
            let scaled_up = signal << smoothing_bits;
            let new_estimate = ((u64::from(scaled_up) * u64::from(smoothing)
                + u64::from(*estimate) * u64::from(one_minus))
                >> NOISE_REDUCTION_BITS) as u32;
            *estimate = new_estimate;
            let floor = ((u64::from(signal) * u64::from(self.min_signal_remaining))
                >> NOISE_REDUCTION_BITS) as u32;
            let subtracted = (scaled_up - new_estimate.min(scaled_up)) >> smoothing_bits;
            *value = subtracted.max(floor);
        }
    }

    /// PcanGainControlApply / ApplyPcanAutoGainControlFixed, on `signal`.
    fn pcan_stage(&mut self) {
        let n = self.num_channels;
        let (Some(signal), Some(estimates)) =
            (self.signal.get_mut(..n), self.noise_estimate.get(..n))
        else {
            return;
        };
        for (value, &estimate) in signal.iter_mut().zip(estimates) {
            // The int16 gain converts to uint32 (sign-extending, as in C).
            let gain = stages::wide_dynamic_function(estimate, &self.pcan_lut) as i32 as u32;
            let snr = ((u64::from(*value) * u64::from(gain)) >> self.pcan_snr_shift) as u32;
            *value = stages::pcan_shrink(snr);
        }
    }

    /// LogScaleApply / FilterbankLog: `signal` into `features`.
    fn log_stage(&mut self) {
        let flavor = self.config.flavor;
        let log_shift = self.config.log_scale_shift;
        let n = self.num_channels;
        let c = self.correction_bits;
        let (Some(features), Some(signal)) = (self.features.get_mut(..n), self.signal.get(..n))
        else {
            return;
        };
        for (out, &value) in features.iter_mut().zip(signal) {
            *out = match log_shift {
                Some(scale_shift) => {
                    let scaled = if c < 0 {
                        value >> -c
                    } else {
                        value.wrapping_shl(c as u32)
                    };
                    let log = if scaled > 1 {
                        stages::log_scaled(scaled, scale_shift)
                    } else {
                        0
                    };
                    match flavor {
                        Flavor::MicroFrontendF32 | Flavor::MicroFrontendF64 => {
                            log.min(u32::from(u16::MAX)) as u16
                        }
                        Flavor::SignalLibrary => log.min(i16::MAX as u32) as u16,
                    }
                }
                None => value.min(u32::from(u16::MAX)) as u16,
            };
        }
    }
}

/// The sizes and shifts a valid [`FrontendConfig`] implies (checked once, no tables).
struct Plan {
    window_len: usize,
    step: usize,
    fft_size: usize,
    correction_bits: i32,
    pcan_snr_shift: u32,
    pcan_input_bits: u32,
}

impl Plan {
    /// Validates `config` as TFLM's `*PopulateState` functions do (and against the fixed
    /// maxima).
    fn check(config: &FrontendConfig) -> Result<Plan, Error> {
        let window_len = config.window_samples();
        let step = config.step_samples();
        if window_len > MAX_FFT {
            return Err(Error::LimitExceeded {
                what: "frontend window samples",
                limit: MAX_FFT as u32,
            });
        }
        if window_len < 4 {
            return Err(Error::LimitExceeded {
                what: "frontend window samples (and at least 4)",
                limit: MAX_FFT as u32,
            });
        }
        if step == 0 || step > window_len {
            return Err(Error::LimitExceeded {
                what: "frontend step samples (the window, and at least 1)",
                limit: window_len as u32,
            });
        }
        if config.num_channels == 0 || config.num_channels > MAX_CHANNELS {
            return Err(Error::LimitExceeded {
                what: "frontend channels (and at least 1)",
                limit: MAX_CHANNELS as u32,
            });
        }
        let fft_size = window_len.next_power_of_two();
        let correction_bits =
            stages::msb32(fft_size as u32) as i32 - 1 - (tables::FILTERBANK_BITS / 2) as i32;
        let nyquist = config.sample_rate_hz / 2;
        let (lo, hi) = (config.lower_band_limit_hz, config.upper_band_limit_hz);
        if !(lo >= 0.0 && hi > lo && hi < nyquist as f32) {
            return Err(Error::LimitExceeded {
                what: "Hz filterbank upper band limit (above the lower one, below Nyquist)",
                limit: nyquist,
            });
        }
        let unit = |x: f32| (0.0..=1.0).contains(&x);
        if !(unit(config.even_smoothing)
            && unit(config.odd_smoothing)
            && unit(config.min_signal_remaining))
            || config.smoothing_bits > 16
        {
            return Err(Error::LimitExceeded {
                what: "noise reduction smoothing bits (coefficients within 0..1)",
                limit: 16,
            });
        }
        if config.log_scale_shift.is_some_and(|s| s > 16) {
            return Err(Error::LimitExceeded {
                what: "log scale shift bits",
                limit: 16,
            });
        }
        if !config.int8.is_valid() {
            return Err(Error::LimitExceeded {
                what: "int8 mapping zero point magnitude (scale 2^-24..2^33)",
                limit: 128,
            });
        }
        let mut pcan_snr_shift = 0;
        let mut pcan_input_bits = 0;
        if let Some(p) = config.pcan {
            // PcanGainControlPopulateState: snr_shift = gain_bits − correction − kPcanSnrBits,
            // LUT input bits = smoothing_bits − correction.
            let snr_shift = p.gain_bits as i32 - correction_bits - stages::PCAN_SNR_BITS as i32;
            let input_bits = config.smoothing_bits as i32 - correction_bits;
            if !(0..32).contains(&snr_shift) || !(0..32).contains(&input_bits) || p.gain_bits > 31 {
                return Err(Error::LimitExceeded {
                    what: "PCAN gain bits",
                    limit: 31,
                });
            }
            pcan_snr_shift = snr_shift as u32;
            pcan_input_bits = input_bits as u32;
        }

        Ok(Plan {
            window_len,
            step,
            fft_size,
            correction_bits,
            pcan_snr_shift,
            pcan_input_bits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TFLM's running max |x| over the windowed samples, sample by sample (the C library's
    /// `WindowProcessSamples` and the signal library's `MaxAbs16`), and the shift from it.
    fn reference_shift(flavor: Flavor, values: &[i16]) -> u32 {
        let mut max_abs: i16 = 0;
        for &v in values {
            match flavor {
                Flavor::SignalLibrary => {
                    if v > max_abs {
                        max_abs = v;
                    } else if -i32::from(v) > i32::from(max_abs) {
                        max_abs = v.wrapping_neg();
                    }
                }
                _ => {
                    let a = if v < 0 { v.wrapping_neg() } else { v };
                    if a > max_abs {
                        max_abs = a;
                    }
                }
            }
        }
        (15 - stages::msb32(i32::from(max_abs) as u32) as i32).max(0) as u32
    }

    /// The window ring (even window and step) and the moving window (odd: 483-sample window,
    /// 161-sample step at 16.1 kHz) give the same frames whatever the chunking.
    #[test]
    fn ring_and_moving_window_stream_alike() {
        let samples: std::vec::Vec<i16> = (0..6000u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 18) as i16) >> 2)
            .collect();
        for rate in [16_000, 16_100] {
            let config = FrontendConfig {
                sample_rate_hz: rate,
                upper_band_limit_hz: 7000.0,
                ..FrontendConfig::micro_wakeword()
            };
            let frames = |chunk: usize| {
                let mut fe = Frontend::new(&config).unwrap();
                let mut out = std::vec::Vec::new();
                for c in samples.chunks(chunk) {
                    fe.push(c, |f| out.extend_from_slice(f.features));
                }
                out
            };
            let whole = frames(samples.len());
            let windows = (6000 - config.window_samples()) / config.step_samples() + 1;
            assert_eq!(whole.len(), 40 * windows);
            for chunk in [1, 7, 160, 333] {
                assert_eq!(frames(chunk), whole, "rate {rate}, chunks of {chunk}");
            }
        }
    }

    /// The paired window stage gives TFLM's shift, also when a windowed value is −32768
    /// (full-scale negative input at the window's 1.0 coefficient) anywhere in the frame.
    #[test]
    fn window_shift_matches_running_max() {
        for config in [
            FrontendConfig::micro_wakeword(),
            FrontendConfig::micro_speech(),
        ] {
            let mut fe = Frontend::new(&config).unwrap();
            let len = fe.window_len;
            let peak = fe.window.iter().position(|&w| w == 4096).unwrap();
            let cases: [&dyn Fn(usize) -> i16; 5] = [
                &|_| i16::MIN,
                &|i| if i == peak { i16::MIN } else { 100 },
                &|i| if i == peak { i16::MIN } else { -20_000 },
                &|i| if i < peak { 3 } else { i16::MIN },
                &|i| ((i * 7919) % 65536) as u16 as i16,
            ];
            for case in cases {
                for (i, x) in fe.input.iter_mut().take(len).enumerate() {
                    *x = case(i);
                }
                let shift = fe.window_stage();
                let values: std::vec::Vec<i16> = fe
                    .fft
                    .order()
                    .iter()
                    .map(|&slot| fe.fft_input[usize::from(slot)])
                    .flat_map(|c| [packed::re(c), packed::im(c)])
                    .take(len)
                    .collect();
                assert_eq!(shift, reference_shift(config.flavor, &values));
            }
        }
    }

    /// A front end built from another's tables (what a model compiled ahead of time does)
    /// computes the same frames as one that computed them; wrong configurations fail alike.
    #[test]
    fn init_with_tables_equals_init() {
        let samples: std::vec::Vec<i16> = (0..8000u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) >> 17) as i16) / 3)
            .collect();
        let mut f64_flavor = FrontendConfig::micro_wakeword();
        f64_flavor.flavor = Flavor::MicroFrontendF64;
        for cfg in [
            FrontendConfig::micro_speech(),
            FrontendConfig::micro_wakeword(),
            f64_flavor,
        ] {
            let mut a = std::boxed::Box::new(Frontend::new(&cfg).unwrap());
            let mut b = std::boxed::Box::new(Frontend::EMPTY);
            b.init_with_tables(&cfg, &a.tables()).unwrap();
            let (mut fa, mut fb) = (std::vec::Vec::new(), std::vec::Vec::new());
            let frames = |out: &mut std::vec::Vec<(u16, i8)>, f: Frame<'_>| {
                out.extend(f.features.iter().copied().zip(f.int8.iter().copied()))
            };
            a.push(&samples, |f| frames(&mut fa, f));
            b.push(&samples, |f| frames(&mut fb, f));
            assert!(!fa.is_empty());
            assert_eq!(fa, fb);
            let mut bad = cfg;
            bad.num_channels = 0;
            assert_eq!(
                b.init_with_tables(&bad, &a.tables()).is_err(),
                Frontend::new(&bad).is_err()
            );
        }
    }
}
