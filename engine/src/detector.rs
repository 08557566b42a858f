//! Streaming keyword detection: the feature-frame window that feeds the model, and the posterior
//! smoothing that turns a stream of model outputs into events.
//!
//! ```text
//! 16 kHz audio → frontend → int8 frame ─▶ FeatureWindow ─(due)─▶ model ─▶ Detector ─▶ Event
//! ```
//!
//! Two model families, two smoothing rules:
//!
//! - **microWakeWord** streaming models (input `[1, stride, 40]`, output `[1, 1]` uint8): the
//!   model keeps its own state, so it sees only the `stride` (3) newest frames per invocation.
//!   [`Mode::WakeWord`] fires when the mean of the last `sliding_window` probabilities exceeds
//!   `probability_cutoff`, exactly as `pymicro_wakeword` 2.5 compares (see
//!   [`wake_word_min_sum`]), then stays quiet for a refractory period.
//! - **Multi-class command models** (TFLM micro_speech: input 49 frames × 40, output
//!   `[1, labels]` int8): [`Mode::Commands`] is TFLM's `RecognizeCommands` (micro_speech example,
//!   `recognize_commands.cc`) re-expressed: average each label's score over recent invocations,
//!   take the top label, report it when it beats a threshold and is not a repeat within the
//!   suppression time.
//!
//! Scores are on the output tensors' common scale: both families quantize probabilities with
//! scale 1/256, so a probability `p` is the integer `256·p` in `0..=255` (uint8 output, zero point
//! 0: the raw byte; int8 output, zero point −128: the raw byte + 128). All smoothing is integer
//! arithmetic on these values, so the browser, the CLI and the firmware fire the same events at
//! the same invocations. Floats appear only when a config is built from a sidecar's
//! `probability_cutoff`, converted once to an integer threshold with exactly-rounded IEEE
//! operations (identical everywhere).
//!
//! Labels named `silence`, `_silence_`, `unknown`, `_unknown_`, `background` or `_background_`
//! (any ASCII case) never produce an event (`background` is `mote train`'s output 0).
//!
//! Sidecar: microWakeWord's model `.json` (`micro.probability_cutoff`,
//! `micro.sliding_window_size`, `micro.feature_step_size`), read as-is, optionally with a
//! top-level `labels` array for multi-class models; the host parses it and calls
//! [`DetectorConfig::from_sidecar`]. Without one, [`defaults_for_input_shape`] picks a preset from
//! the model's input shape.

use crate::error::Error;

/// Most features per frame a [`FeatureWindow`] holds (the frontends produce 40).
pub const MAX_FRAME_LEN: usize = 64;
/// Most frames in a [`FeatureWindow`] (micro_speech needs 49).
pub const MAX_WINDOW_FRAMES: usize = 64;
/// Most output labels of a command model.
pub const MAX_LABELS: usize = 32;
/// Most invocations a [`Detector`] averages over (`sliding_window` / `average_window`).
pub const MAX_AVERAGE_WINDOW: usize = 64;

/// Bytes the feature window stores: [`MAX_FRAME_LEN`] · [`MAX_WINDOW_FRAMES`], or what the
/// build sets with `MOTE_WINDOW_BYTES` (engine/build.rs; an exported firmware: its model's
/// `frame_len · window`).
pub const WINDOW_CAPACITY: usize =
    capacity(env!("MOTE_WINDOW_BYTES"), MAX_FRAME_LEN * MAX_WINDOW_FRAMES);
/// Labels the detector keeps history for: [`MAX_LABELS`], or `MOTE_DETECTOR_LABELS`.
pub const LABEL_CAPACITY: usize = capacity(env!("MOTE_DETECTOR_LABELS"), MAX_LABELS);
/// Invocations of history the detector keeps: [`MAX_AVERAGE_WINDOW`], or `MOTE_DETECTOR_ROWS`.
pub const ROW_CAPACITY: usize = capacity(env!("MOTE_DETECTOR_ROWS"), MAX_AVERAGE_WINDOW);

/// A build-time size: the decimal `text` within `1..=max`, or `max` if empty or not a number.
const fn capacity(text: &str, max: usize) -> usize {
    let b = text.as_bytes();
    if b.is_empty() {
        return max;
    }
    let mut n = 0usize;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || n > max {
            return max;
        }
        n = n * 10 + (b[i] - b'0') as usize;
        i += 1;
    }
    if n == 0 || n > max {
        max
    } else {
        n
    }
}

/// `WrongBufferSize` for buffers that are not a model tensor.
fn wrong_size(expected: usize, got: usize) -> Error {
    Error::WrongBufferSize {
        tensor: -1,
        expected: expected as u32,
        got: got as u32,
    }
}

/// A ring buffer of the most recent int8 feature frames, and the schedule of model invocations.
///
/// The first invocation is due when `window` frames have arrived, then every `stride` frames.
/// The schedule depends only on the number of frames pushed, never on wall-clock time.
#[derive(Clone, Debug)]
pub struct FeatureWindow {
    /// `window` slots of `frame_len` features (int8 values stored as their bytes, the model
    /// input's representation); slots not yet written hold 0.
    frames: [u8; WINDOW_CAPACITY],
    frame_len: usize,
    window: usize,
    stride: usize,
    /// Slot the next frame goes to, in `[0, window)`; also the oldest frame's slot.
    next: usize,
    /// Frames until the next invocation is due (counts down from `window`, then `stride`).
    until_due: usize,
    due: bool,
    pushed: u32,
}

impl FeatureWindow {
    /// An unconfigured window (for `static`s; [`FeatureWindow::init`] configures it in place):
    /// all zero, so a `static` of it is `.bss` (see `Frontend::EMPTY`); it takes only empty
    /// frames and is due after each.
    pub const EMPTY: FeatureWindow = FeatureWindow {
        frames: [0; WINDOW_CAPACITY],
        frame_len: 0,
        window: 0,
        stride: 0,
        next: 0,
        until_due: 0,
        due: false,
        pushed: 0,
    };

    /// Reconfigure in place (no 4 KB temporary): as [`FeatureWindow::new`]; empties the window.
    pub fn init(&mut self, frame_len: usize, window: usize, stride: usize) -> Result<(), Error> {
        check_window_size(frame_len, window)?;
        self.frame_len = frame_len.max(1);
        self.window = window.max(1);
        self.stride = stride.max(1);
        self.reset();
        Ok(())
    }

    /// A window of `window` frames of `frame_len` features, due every `stride` new frames.
    /// `LimitExceeded` beyond [`MAX_FRAME_LEN`] / [`MAX_WINDOW_FRAMES`]; zeros count as 1.
    pub fn new(frame_len: usize, window: usize, stride: usize) -> Result<Self, Error> {
        check_window_size(frame_len, window)?;
        let window = window.max(1);
        Ok(FeatureWindow {
            frames: [0; WINDOW_CAPACITY],
            frame_len: frame_len.max(1),
            window,
            stride: stride.max(1),
            next: 0,
            until_due: window,
            due: false,
            pushed: 0,
        })
    }

    /// Features per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Frames per model input.
    pub fn window(&self) -> usize {
        self.window
    }

    /// New frames between invocations.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Bytes [`copy_window`](Self::copy_window) writes: the model input size.
    pub fn window_bytes(&self) -> usize {
        self.window * self.frame_len
    }

    /// Frames pushed since construction or [`reset`](Self::reset) (wrapping).
    pub fn frames_pushed(&self) -> u32 {
        self.pushed
    }

    /// Appends one frame (exactly `frame_len` features) and returns [`is_due`](Self::is_due).
    /// Never inlined: here `frame` and `self` are known not to overlap, so the copy is a
    /// `memcpy` (inlined into a caller it became a `memmove`, 1.5 KB more on the M4).
    #[inline(never)]
    pub fn push(&mut self, frame: &[i8]) -> Result<bool, Error> {
        if frame.len() != self.frame_len {
            return Err(wrong_size(self.frame_len, frame.len()));
        }
        let start = self.next * self.frame_len;
        if let Some(slot) = self.frames.get_mut(start..start + self.frame_len) {
            for (d, &s) in slot.iter_mut().zip(frame) {
                *d = s as u8;
            }
        }
        self.next += 1;
        if self.next >= self.window {
            self.next = 0;
        }
        self.pushed = self.pushed.wrapping_add(1);
        self.until_due = self.until_due.saturating_sub(1);
        self.due = self.until_due == 0;
        if self.due {
            self.until_due = self.stride;
        }
        Ok(self.due)
    }

    /// Whether the model should run on the window as of the last [`push`](Self::push).
    pub fn is_due(&self) -> bool {
        self.due
    }

    /// Writes the last `window` frames, oldest first, as the model's input bytes (int8 values
    /// reinterpreted as bytes). Before `window` frames have arrived the missing oldest frames
    /// read as 0. `dst` must be exactly [`window_bytes`](Self::window_bytes) long.
    pub fn copy_window(&self, dst: &mut [u8]) -> Result<(), Error> {
        let total = self.window_bytes();
        if dst.len() != total {
            return Err(wrong_size(total, dst.len()));
        }
        let split = self.next * self.frame_len;
        let ring = self.frames.get(..total).unwrap_or(&[]);
        let (newer, older) = ring.split_at(split.min(ring.len()));
        // Oldest first: two block copies (the ring's halves), no per-byte work.
        let (d_old, d_new) = dst.split_at_mut(older.len());
        d_old.copy_from_slice(older);
        if let Some(d_new) = d_new.get_mut(..newer.len()) {
            d_new.copy_from_slice(newer);
        }
        Ok(())
    }

    /// Forgets all frames and restarts the invocation schedule.
    pub fn reset(&mut self) {
        self.frames.fill(0);
        self.next = 0;
        self.until_due = self.window;
        self.due = false;
        self.pushed = 0;
    }
}

/// How the model's raw output bytes map to scores `256·probability` in `0..=255`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputType {
    /// uint8 output, scale 1/256, zero point 0 (microWakeWord): the byte is the score.
    Uint8,
    /// int8 output, scale 1/256, zero point −128 (micro_speech): score = value + 128.
    Int8,
}

impl OutputType {
    /// The score of one raw output byte.
    pub fn score(self, raw: u8) -> u8 {
        match self {
            OutputType::Uint8 => raw,
            // (raw as i8) + 128 == raw ^ 0x80.
            OutputType::Int8 => raw ^ 0x80,
        }
    }
}

/// The smoothing rule and its settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// microWakeWord: one probability per invocation, label 0.
    WakeWord {
        /// Fire when the sum of the last `sliding_window` scores is at least this (the
        /// sidecar's float cutoff converted by [`wake_word_min_sum`]).
        min_sum: u16,
        /// Scores averaged (sidecar `sliding_window_size`); nothing fires until this many
        /// invocations have run.
        sliding_window: u8,
        /// After an event, no new one until this many ms have passed *and* a window mean has
        /// dropped to the cutoff or below (ESPHome's cool-off: about 1 s of below-cutoff slices).
        refractory_ms: u32,
    },
    /// TFLM `RecognizeCommands`: averaged per-label scores, threshold, suppression.
    Commands {
        /// Output labels (scores per invocation), at most [`MAX_LABELS`].
        labels: u8,
        /// Bit `i` set: label `i` may fire (not silence/unknown).
        keywords: u32,
        /// The top averaged score must be strictly greater (TFLM `detection_threshold`, 200).
        threshold: u8,
        /// A repeat of the previous label within this many ms is not a new command (TFLM
        /// `suppression_ms`, 1500); a different label always is.
        suppression_ms: u32,
        /// Invocations averaged (TFLM averages over `average_window_duration_ms` of results
        /// instead; with invocations every `P` ms the two agree for `window_ms / P + 1` results).
        average_window: u8,
        /// Fewer results than this in the window: no decision (TFLM `minimum_count`, 3).
        minimum_count: u8,
    },
}

/// Everything a [`Detector`] needs: the rule and the output encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DetectorConfig {
    /// Smoothing rule and thresholds.
    pub mode: Mode,
    /// Output tensor encoding.
    pub output: OutputType,
}

/// Default wake-word refractory time (ESPHome: 100 feature slices of 10 ms).
pub const DEFAULT_REFRACTORY_MS: u32 = 1000;
/// Default command suppression time (TFLM `RecognizeCommands` default).
pub const DEFAULT_SUPPRESSION_MS: u32 = 1500;

/// Whether a label may fire: false for `silence`, `_silence_`, `unknown`, `_unknown_`,
/// `background`, `_background_` (ASCII case-insensitive).
pub fn is_keyword_label(label: &str) -> bool {
    ![
        "silence",
        "_silence_",
        "unknown",
        "_unknown_",
        "background",
        "_background_",
    ]
    .iter()
    .any(|nk| nk.eq_ignore_ascii_case(label))
}

/// The smallest window sum `s` of uint8 scores that `pymicro_wakeword` 2.5 reports as a
/// detection for `probability_cutoff` and `sliding_window` (`255·W + 1`, i.e. never, if none).
///
/// pymicro_wakeword dequantizes each output to `u/256` (exact in float32), takes
/// `statistics.mean` of the last `W` (exact rational sum, one correctly rounded division:
/// `fl(s / 256W)`) and detects when `mean > probability_cutoff` (Python float, f64). IEEE f64
/// division is correctly rounded on every target, so evaluating the same `fl(s / 256W) > cutoff`
/// here gives its exact threshold, e.g. cutoff 0.85, W 5 → 1089 (a sum of exactly 1088 has mean
/// 0.85, not above). A NaN cutoff never fires. ESPHome instead compares `s > trunc(255·cutoff)·W`
/// (see [`DetectorConfig::micro_wakeword_esphome`]), slightly more permissive.
pub fn wake_word_min_sum(probability_cutoff: f64, sliding_window: u8) -> u16 {
    let w = u32::from(sliding_window.max(1));
    let never = 255 * w + 1;
    if probability_cutoff.is_nan() {
        return never as u16;
    }
    let den = f64::from(256 * w);
    let fires = |s: u32| f64::from(s) / den > probability_cutoff;
    // Start a little below the real-valued crossing and step up: at most a few steps.
    let estimate = probability_cutoff * den;
    let mut s = if estimate <= 2.0 {
        0
    } else if estimate >= f64::from(never) {
        never
    } else {
        estimate as u32 - 2
    };
    while s < never && !fires(s) {
        s += 1;
    }
    // The estimate can only be low by rounding, never high by more than the 2 subtracted.
    while s > 0 && fires(s - 1) {
        s -= 1;
    }
    s as u16
}

/// A command threshold on the score scale from a probability cutoff: the averaged score
/// `a` (an integer) satisfies `a / 256 > cutoff` exactly when `a > floor(256 · cutoff)`.
/// Clamped to `0..=255`; NaN gives 255 (never fires).
pub fn command_threshold(probability_cutoff: f64) -> u8 {
    let t = probability_cutoff * 256.0;
    if t.is_nan() || t >= 255.0 {
        255
    } else if t <= 0.0 {
        0
    } else {
        // Truncation is floor for positive values; ×256 is exact.
        t as u8
    }
}

impl DetectorConfig {
    /// microWakeWord with `pymicro_wakeword`'s exact comparison (see [`wake_word_min_sum`]),
    /// uint8 output, [`DEFAULT_REFRACTORY_MS`]. `LimitExceeded` if `sliding_window` exceeds
    /// [`MAX_AVERAGE_WINDOW`]; 0 counts as 1.
    pub fn micro_wakeword(probability_cutoff: f64, sliding_window: u8) -> Result<Self, Error> {
        let sliding_window = check_window(sliding_window)?;
        Ok(DetectorConfig {
            mode: Mode::WakeWord {
                min_sum: wake_word_min_sum(probability_cutoff, sliding_window),
                sliding_window,
                refractory_ms: DEFAULT_REFRACTORY_MS,
            },
            output: OutputType::Uint8,
        })
    }

    /// microWakeWord with ESPHome's comparison: `cutoff_u8 = int(probability_cutoff * 255)`
    /// (its code generator truncates), fire when the window sum `> cutoff_u8 · W`.
    pub fn micro_wakeword_esphome(cutoff_u8: u8, sliding_window: u8) -> Result<Self, Error> {
        let sliding_window = check_window(sliding_window)?;
        Ok(DetectorConfig {
            mode: Mode::WakeWord {
                min_sum: u16::from(cutoff_u8) * u16::from(sliding_window) + 1,
                sliding_window,
                refractory_ms: DEFAULT_REFRACTORY_MS,
            },
            output: OutputType::Uint8,
        })
    }

    /// A command model (`RecognizeCommands`) over `labels` (their names decide which may fire),
    /// int8 output. `LimitExceeded` beyond [`MAX_LABELS`] labels or [`MAX_AVERAGE_WINDOW`];
    /// zero window / count are taken as 1.
    pub fn commands(
        labels: &[&str],
        threshold: u8,
        average_window: u8,
        minimum_count: u8,
        suppression_ms: u32,
    ) -> Result<Self, Error> {
        if labels.len() > MAX_LABELS {
            return Err(Error::LimitExceeded {
                what: "output labels",
                limit: MAX_LABELS as u32,
            });
        }
        let keywords = labels
            .iter()
            .enumerate()
            .filter(|(_, l)| is_keyword_label(l))
            .fold(0u32, |m, (i, _)| m | 1 << i);
        Ok(DetectorConfig {
            mode: Mode::Commands {
                labels: labels.len() as u8,
                keywords,
                threshold,
                suppression_ms,
                average_window: check_window(average_window)?,
                minimum_count: minimum_count.max(1),
            },
            output: OutputType::Int8,
        })
    }

    /// Settings from a sidecar JSON's `micro` section: without `labels`, a microWakeWord model
    /// ([`micro_wakeword`](Self::micro_wakeword)); with `labels`, a command model averaging
    /// `sliding_window_size` invocations against [`command_threshold`]`(probability_cutoff)`,
    /// minimum count 1 (so a single 1 s clip can fire) and [`DEFAULT_SUPPRESSION_MS`].
    pub fn from_sidecar(
        probability_cutoff: f64,
        sliding_window_size: u8,
        labels: Option<&[&str]>,
    ) -> Result<Self, Error> {
        match labels {
            None => Self::micro_wakeword(probability_cutoff, sliding_window_size),
            Some(labels) => Self::commands(
                labels,
                command_threshold(probability_cutoff),
                sliding_window_size,
                1,
                DEFAULT_SUPPRESSION_MS,
            ),
        }
    }

    /// The same config reading a different output encoding.
    pub fn with_output(mut self, output: OutputType) -> Self {
        self.output = output;
        self
    }

    /// Scores the model must produce per invocation (1 for a wake word).
    pub fn num_scores(&self) -> usize {
        match self.mode {
            Mode::WakeWord { .. } => 1,
            Mode::Commands { labels, .. } => usize::from(labels),
        }
    }

    /// `WrongBufferSize` unless the model's output has [`num_scores`](Self::num_scores) elements.
    pub fn check_output_len(&self, len: usize) -> Result<(), Error> {
        if len == self.num_scores() {
            Ok(())
        } else {
            Err(wrong_size(self.num_scores(), len))
        }
    }
}

/// `frame_len` × `window` within the maxima and [`WINDOW_CAPACITY`] (zeros count as 1).
fn check_window_size(frame_len: usize, window: usize) -> Result<(), Error> {
    if frame_len > MAX_FRAME_LEN {
        return Err(Error::LimitExceeded {
            what: "features per frame",
            limit: MAX_FRAME_LEN as u32,
        });
    }
    if window > MAX_WINDOW_FRAMES {
        return Err(Error::LimitExceeded {
            what: "frames in the feature window",
            limit: MAX_WINDOW_FRAMES as u32,
        });
    }
    if frame_len.max(1) * window.max(1) > WINDOW_CAPACITY {
        return Err(Error::LimitExceeded {
            what: "feature window bytes in this build (MOTE_WINDOW_BYTES)",
            limit: WINDOW_CAPACITY as u32,
        });
    }
    Ok(())
}

fn check_window(w: u8) -> Result<u8, Error> {
    if usize::from(w) > MAX_AVERAGE_WINDOW {
        Err(Error::LimitExceeded {
            what: "invocations in the averaging window",
            limit: MAX_AVERAGE_WINDOW as u32,
        })
    } else {
        Ok(w.max(1))
    }
}

/// A detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// Index into the model's labels (0 for a wake word).
    pub label: u8,
    /// The caller's timestamp of the invocation that fired, ms.
    pub t_ms: u32,
    /// Averaged score, `256·probability` (wake word: window sum / W; commands: the top label's
    /// average), truncated.
    pub score: u8,
}

/// Smooths model outputs into [`Event`]s. Fixed size (about 2.2 KB), no allocation.
#[derive(Clone, Debug)]
pub struct Detector {
    config: DetectorConfig,
    /// The last `window` invocations' scores (ring; only `labels` columns used).
    rows: [[u8; LABEL_CAPACITY]; ROW_CAPACITY],
    /// Per-label sum over the rows held.
    sums: [u32; LABEL_CAPACITY],
    /// Next row slot, in `[0, window)`.
    head: usize,
    /// Rows held, `<= window`.
    count: usize,
    /// Commands: TFLM's previous top label and its time (None: the initial "silence").
    /// Wake word: the last event's time.
    last: Option<(u8, u32)>,
    /// Wake word: a window at or below the cutoff has been seen since the last event.
    seen_below: bool,
}

impl Detector {
    /// A detector in its initial state. `LimitExceeded` if a hand-built `config` exceeds the
    /// fixed maxima; zero windows / counts count as 1.
    pub fn new(config: DetectorConfig) -> Result<Self, Error> {
        let mut d = Detector::EMPTY;
        d.init(config)?;
        Ok(d)
    }

    /// A wake-word detector that never fires (for `static`s; [`Detector::init`] configures it).
    /// All zero, so a `static` of it is `.bss` (see `Frontend::EMPTY`); its window of 0 never
    /// fills (`wake_word` counts it as 1 and holds no rows).
    pub const EMPTY: Detector = Detector {
        config: DetectorConfig {
            mode: Mode::WakeWord {
                min_sum: 0,
                sliding_window: 0,
                refractory_ms: 0,
            },
            output: OutputType::Uint8,
        },
        rows: [[0; LABEL_CAPACITY]; ROW_CAPACITY],
        sums: [0; LABEL_CAPACITY],
        head: 0,
        count: 0,
        last: None,
        seen_below: false,
    };

    /// Reconfigure in place (no 2 KB temporary) and return to the initial state.
    pub fn init(&mut self, config: DetectorConfig) -> Result<(), Error> {
        let mut config = config;
        let rows = match &mut config.mode {
            Mode::WakeWord { sliding_window, .. } => {
                *sliding_window = check_window(*sliding_window)?;
                *sliding_window
            }
            Mode::Commands {
                labels,
                average_window,
                minimum_count,
                ..
            } => {
                if usize::from(*labels) > LABEL_CAPACITY {
                    return Err(Error::LimitExceeded {
                        what: "output labels",
                        limit: LABEL_CAPACITY as u32,
                    });
                }
                *average_window = check_window(*average_window)?;
                *minimum_count = (*minimum_count).max(1);
                *average_window
            }
        };
        if usize::from(rows) > ROW_CAPACITY {
            return Err(Error::LimitExceeded {
                what: "invocations of detector history in this build (MOTE_DETECTOR_ROWS)",
                limit: ROW_CAPACITY as u32,
            });
        }
        self.config = config;
        self.reset();
        Ok(())
    }

    /// The configuration in use.
    pub fn config(&self) -> &DetectorConfig {
        &self.config
    }

    /// Back to the initial state (no history, no suppression).
    pub fn reset(&mut self) {
        self.rows.iter_mut().for_each(|r| r.fill(0));
        self.sums.fill(0);
        self.head = 0;
        self.count = 0;
        self.last = None;
        self.seen_below = false;
    }

    /// Feeds one invocation's raw output bytes (`scores`, one per label; missing ones count as
    /// score 0, extra ones are ignored) taken at `t_ms` (non-decreasing, wrapping u32 ms) and
    /// returns the event it triggers, if any.
    pub fn push(&mut self, t_ms: u32, scores: &[u8]) -> Option<Event> {
        match self.config.mode {
            Mode::WakeWord {
                min_sum,
                sliding_window,
                refractory_ms,
            } => {
                self.add_row(scores, 1, usize::from(sliding_window));
                self.wake_word(t_ms, min_sum, usize::from(sliding_window), refractory_ms)
            }
            Mode::Commands {
                labels,
                keywords,
                threshold,
                suppression_ms,
                average_window,
                minimum_count,
            } => {
                let labels = usize::from(labels);
                self.add_row(scores, labels, usize::from(average_window));
                if self.count < usize::from(minimum_count) {
                    return None;
                }
                self.commands(t_ms, labels, keywords, threshold, suppression_ms)
            }
        }
    }

    /// Appends a row of scores to the ring (evicting the oldest once `window` are held).
    fn add_row(&mut self, scores: &[u8], labels: usize, window: usize) {
        let output = self.config.output;
        let Some(row) = self.rows.get_mut(self.head) else {
            return;
        };
        for (i, (slot, sum)) in row
            .iter_mut()
            .zip(self.sums.iter_mut())
            .take(labels)
            .enumerate()
        {
            if self.count == window {
                *sum -= u32::from(*slot);
            }
            *slot = scores.get(i).map_or(0, |&raw| output.score(raw));
            *sum += u32::from(*slot);
        }
        self.head += 1;
        if self.head >= window {
            self.head = 0;
        }
        if self.count < window {
            self.count += 1;
        }
    }

    fn wake_word(
        &mut self,
        t_ms: u32,
        min_sum: u16,
        window: usize,
        refractory_ms: u32,
    ) -> Option<Event> {
        // pymicro_wakeword reports 0.0 until `sliding_window` probabilities exist. `init`
        // makes the window at least 1; only `EMPTY` has 0, and `add_row` never counts past it.
        let window = window.max(1);
        if self.count < window {
            return None;
        }
        let sum = self.sums[0];
        let above = sum >= u32::from(min_sum);
        if let Some((_, t_last)) = self.last {
            self.seen_below |= !above;
            if !self.seen_below || t_ms.wrapping_sub(t_last) < refractory_ms {
                return None;
            }
        }
        if !above {
            return None;
        }
        self.last = Some((0, t_ms));
        self.seen_below = false;
        Some(Event {
            label: 0,
            t_ms,
            score: (sum / window as u32) as u8,
        })
    }

    fn commands(
        &mut self,
        t_ms: u32,
        labels: usize,
        keywords: u32,
        threshold: u8,
        suppression_ms: u32,
    ) -> Option<Event> {
        // Integer average (truncating), then the first label with the strictly highest average,
        // starting from (label 0, score 0) as TFLM does.
        let n = self.count as u32;
        let (mut top, mut top_score) = (0usize, 0u32);
        for (i, &sum) in self.sums.iter().take(labels).enumerate() {
            let avg = sum / n;
            if avg > top_score {
                top = i;
                top_score = avg;
            }
        }
        let is_keyword = |label: usize| keywords >> label & 1 == 1;
        // TFLM: after "silence" (its label 0; here any non-keyword) or initially, no suppression.
        let since_last = match self.last {
            Some((label, t)) if is_keyword(usize::from(label)) => t_ms.wrapping_sub(t),
            _ => u32::MAX,
        };
        let repeat = self.last.map(|(label, _)| usize::from(label)) == Some(top);
        if top_score > u32::from(threshold) && (!repeat || since_last > suppression_ms) {
            self.last = Some((top as u8, t_ms));
            if is_keyword(top) {
                return Some(Event {
                    label: top as u8,
                    t_ms,
                    score: top_score as u8,
                });
            }
        }
        None
    }
}

/// The model families the detector recognises from input shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PresetKind {
    /// TFLM micro_speech: 49 frames × 40 features (20 ms step), 4 labels, int8 output.
    MicroSpeech,
    /// microWakeWord streaming model: `stride` frames × 40 (10 ms step), uint8 probability.
    MicroWakeWord,
    /// MFCC command model (MLPerf Tiny KWS / Hello Edge DS-CNN): 49 frames × 10 MFCCs (20 ms
    /// step) by default, 12 labels, int8 output; front end [`crate::mfcc`].
    Mfcc,
}

/// Window, schedule and default smoothing for a model family, used when no sidecar says otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The family.
    pub kind: PresetKind,
    /// Features per frame.
    pub frame_len: u8,
    /// Frames per model input.
    pub window_frames: u8,
    /// New frames between invocations.
    pub stride_frames: u8,
    /// Frontend step (frame period), ms; sidecar `feature_step_size`.
    pub frame_step_ms: u16,
}

/// TFLM micro_speech's labels, in output order.
pub const MICRO_SPEECH_LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// MLPerf Tiny KWS's labels, in output order (its `get_dataset.py` word list).
pub const MLPERF_LABELS: [&str; 12] = [
    "down", "go", "left", "no", "off", "on", "right", "stop", "up", "yes", "silence", "unknown",
];

impl Preset {
    /// micro_speech: 49 × 40 window, invoked every 5 new frames (100 ms) once 49 are present.
    ///
    /// TFLM's example invokes once per main-loop pass, i.e. every 20 ms frame at best; at
    /// ~0.34 M MACs per invocation that is 17 M MAC/s, too much for a small Cortex-M with
    /// reference kernels, while a word stays inside the 1 s window for ~0.5 s, so 100 ms steps
    /// still see it in several invocations. A 1 s clip (49 frames) gets exactly one invocation.
    pub const MICRO_SPEECH: Preset = Preset {
        kind: PresetKind::MicroSpeech,
        frame_len: 40,
        window_frames: 49,
        stride_frames: 5,
        frame_step_ms: 20,
    };

    /// MLPerf Tiny KWS: 49 × 10 MFCCs, invoked every 5 new frames (100 ms) like micro_speech.
    pub const MLPERF_KWS: Preset = Preset {
        kind: PresetKind::Mfcc,
        frame_len: 10,
        window_frames: 49,
        stride_frames: 5,
        frame_step_ms: 20,
    };

    /// An MFCC model whose input holds `frames` frames of `coefficients` values at `step_ms`:
    /// invoked every 100 ms of new frames (at least one, at most the window).
    pub fn mfcc(frames: u8, coefficients: u8, step_ms: u16) -> Preset {
        let stride = (100 / step_ms.max(1)).clamp(1, u16::from(frames.max(1))) as u8;
        Preset {
            kind: PresetKind::Mfcc,
            frame_len: coefficients,
            window_frames: frames,
            stride_frames: stride,
            frame_step_ms: step_ms,
        }
    }

    /// microWakeWord with a `stride`-frame input (`[1, stride, 40]`; 3 for the published
    /// models): invoked on every `stride` new frames, each frame seen once.
    pub fn micro_wakeword(stride: u8) -> Preset {
        Preset {
            kind: PresetKind::MicroWakeWord,
            frame_len: 40,
            window_frames: stride,
            stride_frames: stride,
            frame_step_ms: 10,
        }
    }

    /// Default label names (micro_speech's four; a wake word has none).
    pub fn labels(&self) -> &'static [&'static str] {
        match self.kind {
            PresetKind::MicroSpeech => &MICRO_SPEECH_LABELS,
            PresetKind::MicroWakeWord => &[],
            PresetKind::Mfcc => &MLPERF_LABELS,
        }
    }

    /// Default smoothing without a sidecar. micro_speech: threshold 200 and suppression
    /// 1500 ms (TFLM's defaults), average of 3 invocations, minimum count 1. microWakeWord:
    /// cutoff 0.9 over 5 invocations (the middle of the published models' settings).
    pub fn detector_config(&self) -> DetectorConfig {
        let mode = match self.kind {
            PresetKind::MicroSpeech => Mode::Commands {
                labels: 4,
                keywords: 0b1100,
                threshold: 200,
                suppression_ms: DEFAULT_SUPPRESSION_MS,
                average_window: 3,
                minimum_count: 1,
            },
            // The same rule over MLPerf's twelve labels; the first ten are keywords.
            PresetKind::Mfcc => Mode::Commands {
                labels: 12,
                keywords: 0x3ff,
                threshold: 200,
                suppression_ms: DEFAULT_SUPPRESSION_MS,
                average_window: 3,
                minimum_count: 1,
            },
            PresetKind::MicroWakeWord => Mode::WakeWord {
                min_sum: wake_word_min_sum(0.9, 5),
                sliding_window: 5,
                refractory_ms: DEFAULT_REFRACTORY_MS,
            },
        };
        let output = match self.kind {
            PresetKind::MicroSpeech | PresetKind::Mfcc => OutputType::Int8,
            PresetKind::MicroWakeWord => OutputType::Uint8,
        };
        DetectorConfig { mode, output }
    }

    /// An empty [`FeatureWindow`] for this preset.
    pub fn feature_window(&self) -> Result<FeatureWindow, Error> {
        FeatureWindow::new(
            usize::from(self.frame_len),
            usize::from(self.window_frames),
            usize::from(self.stride_frames),
        )
    }
}

/// The preset for a model input shape: 49 × 40 features (`[1, 1960]`, `[1960]`, `[1, 49, 40]`,
/// `[49, 40]`, `[1, 49, 40, 1]`) → micro_speech; `[1, s, 40]` with `1 <= s <= 8` → microWakeWord
/// with stride `s`; 49 × 10 (`[1, 49, 10, 1]`, `[1, 490]`, ...) → MLPerf Tiny KWS MFCCs.
/// Anything else → `None`.
pub fn defaults_for_input_shape(dims: &[i32]) -> Option<Preset> {
    // Leading and trailing 1s carry no layout information.
    let start = dims.iter().position(|&d| d != 1).unwrap_or(dims.len());
    let end = dims.iter().rposition(|&d| d != 1).map_or(start, |i| i + 1);
    let core = dims.get(start..end).unwrap_or(&[]);
    match core {
        [1960] | [49, 40] => Some(Preset::MICRO_SPEECH),
        [490] | [49, 10] => Some(Preset::MLPERF_KWS),
        [s, 40] if dims.len() == 3 && dims.first() == Some(&1) && (2..=8).contains(s) => {
            Some(Preset::micro_wakeword(*s as u8))
        }
        [40] if dims == [1, 1, 40] => Some(Preset::micro_wakeword(1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_time_capacities() {
        assert_eq!(capacity("", 64), 64);
        assert_eq!(capacity("1960", 4096), 1960);
        assert_eq!(capacity("1", 64), 1);
        for bad in ["0", "65", "12x", "-3", "99999999999999999999999"] {
            assert_eq!(capacity(bad, 64), 64, "{bad}");
        }
    }

    #[test]
    fn output_type_scores() {
        assert_eq!(OutputType::Int8.score(0x80), 0); // -128
        assert_eq!(OutputType::Int8.score(0x7f), 255); // 127
        assert_eq!(OutputType::Int8.score(0), 128);
        assert_eq!(OutputType::Uint8.score(200), 200);
    }

    #[test]
    fn keyword_labels() {
        for nk in [
            "silence",
            "_silence_",
            "unknown",
            "_unknown_",
            "Silence",
            "_UNKNOWN_",
            "background",
            "_Background_",
        ] {
            assert!(!is_keyword_label(nk), "{nk}");
        }
        for k in ["yes", "no", "silent", "unknown2", "backgrounds", ""] {
            assert!(is_keyword_label(k), "{k}");
        }
    }
}
