//! The page's one state and the actions that change it (a yew reducer).

use std::collections::VecDeque;
use std::rc::Rc;

use yew::prelude::*;

use crate::loaded::Loaded;
use crate::pipeline::{Chunk, Detection, FrameBytes, Invocation};

/// Seconds of scores the plot keeps.
pub const HISTORY_S: f64 = 8.0;
/// Feature frames the heatmap keeps.
pub const FRAMES_KEPT: usize = 400;
/// Detections listed.
pub const DETECTIONS_KEPT: usize = 50;

/// What the live pipeline is doing.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveStatus {
    /// Not started.
    Idle,
    /// Asking for the microphone / decoding the file.
    Starting,
    /// Running; the text says from what.
    Running(String),
    /// Tab hidden: capture suspended.
    Paused,
    /// The file finished.
    Finished,
    /// Stopped by the person.
    Stopped,
    /// Could not start or failed; the sentence says why.
    Error(String),
}

/// Everything the live panels show.
#[derive(Clone, Debug)]
pub struct LiveView {
    /// Bumped on every change, so components compare one number.
    pub seq: u64,
    /// Status line.
    pub status: LiveStatus,
    /// Recent invocations (oldest first), at most [`HISTORY_S`] seconds.
    pub history: VecDeque<Invocation>,
    /// Recent feature frames (oldest first), at most [`FRAMES_KEPT`].
    pub frames: VecDeque<FrameBytes>,
    /// Detections, newest first, at most [`DETECTIONS_KEPT`].
    pub detections: VecDeque<Detection>,
    /// Time in the engine's pipeline (front end, model, detector), ms.
    pub pipeline_ms: f64,
    /// Number of invocations.
    pub invokes: u64,
    /// Audio processed, ms.
    pub audio_ms: f64,
    /// Whole-pipeline compute time, ms.
    pub compute_ms: f64,
    /// Sample rate the audio arrives at, Hz.
    pub rate: u32,
}

impl Default for LiveView {
    fn default() -> Self {
        LiveView {
            seq: 0,
            status: LiveStatus::Idle,
            history: VecDeque::new(),
            frames: VecDeque::new(),
            detections: VecDeque::new(),
            pipeline_ms: 0.0,
            invokes: 0,
            audio_ms: 0.0,
            compute_ms: 0.0,
            rate: 0,
        }
    }
}

impl PartialEq for LiveView {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}

impl LiveView {
    /// Mean pipeline time per model invocation, ms.
    pub fn ms_per_invoke(&self) -> Option<f64> {
        (self.invokes > 0).then(|| self.pipeline_ms / self.invokes as f64)
    }

    /// Real-time factor: compute time / audio time (below 1 keeps up).
    pub fn rtf(&self) -> Option<f64> {
        (self.audio_ms > 0.0).then(|| self.compute_ms / self.audio_ms)
    }

    fn add(&mut self, c: &Chunk) {
        self.history.extend(c.invocations.iter().cloned());
        if let Some(last) = self.history.back().map(|i| i.t) {
            while self.history.front().is_some_and(|i| i.t < last - HISTORY_S) {
                self.history.pop_front();
            }
        }
        self.frames.extend(c.frames.iter().copied());
        while self.frames.len() > FRAMES_KEPT {
            self.frames.pop_front();
        }
        for d in &c.detections {
            self.detections.push_front(d.clone());
        }
        self.detections.truncate(DETECTIONS_KEPT);
        self.pipeline_ms += c.pipeline_ms;
        self.invokes += c.invocations.len() as u64;
        self.audio_ms += c.audio_ms;
        self.compute_ms += c.compute_ms;
    }
}

/// The page state.
#[derive(Clone, Debug, PartialEq)]
pub struct State {
    /// Workshop mode: explanations beside each panel.
    pub workshop: bool,
    /// Selected board id.
    pub board: String,
    /// Selected core clock for latency and energy, MHz.
    pub clock_mhz: u32,
    /// The loaded model.
    pub model: Option<Rc<Loaded>>,
    /// A model being fetched or read (its name).
    pub loading: Option<String>,
    /// Why the last load failed before a model existed (network, file reading).
    pub load_error: Option<String>,
    /// Live panels.
    pub live: Rc<LiveView>,
    /// Ids handed to loaded models.
    pub next_id: u32,
}

impl Default for State {
    fn default() -> Self {
        State {
            workshop: false,
            board: crate::boards::choices()[0].board.id.to_string(),
            clock_mhz: crate::perf::DEFAULT_MHZ,
            model: None,
            loading: None,
            load_error: None,
            live: Rc::new(LiveView::default()),
            next_id: 1,
        }
    }
}

/// Everything that changes the state.
#[derive(Debug)]
pub enum Action {
    /// Toggle workshop mode.
    ToggleWorkshop,
    /// Pick a board (the clock moves to one the chip offers, if needed).
    SelectBoard(String),
    /// Pick a core clock, MHz.
    SelectClock(u32),
    /// A model is being fetched / read.
    Loading(String),
    /// Model bytes arrived: analyse them.
    Load {
        /// File name.
        name: String,
        /// .tflite bytes.
        bytes: Vec<u8>,
        /// Sidecar text, if any.
        sidecar: Option<String>,
    },
    /// Loading failed before there was a model.
    LoadFailed(String),
    /// Live status change; `Starting` and `Running` also clear the previous run's data.
    Live(LiveStatus),
    /// The audio rate once capture runs.
    LiveRate(u32),
    /// A chunk of pipeline output.
    Chunk(Chunk),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::ToggleWorkshop => s.workshop = !s.workshop,
            Action::SelectBoard(b) => {
                if let Some(chip) = mote_exporter::energy::ChipPower::for_board(&b) {
                    if chip.clock(s.clock_mhz).is_none() {
                        s.clock_mhz = chip
                            .clock(crate::perf::DEFAULT_MHZ)
                            .or(chip.clocks.first())
                            .map_or(crate::perf::DEFAULT_MHZ, |c| c.mhz);
                    }
                }
                s.board = b;
            }
            Action::SelectClock(mhz) => s.clock_mhz = mhz,
            Action::Loading(name) => {
                s.loading = Some(name);
                s.load_error = None;
            }
            Action::Load {
                name,
                bytes,
                sidecar,
            } => {
                let loaded = Loaded::analyse(s.next_id, &name, bytes, sidecar);
                s.next_id += 1;
                s.model = Some(Rc::new(loaded));
                s.loading = None;
                s.load_error = None;
                s.live = Rc::new(LiveView {
                    seq: s.live.seq + 1,
                    ..LiveView::default()
                });
            }
            Action::LoadFailed(e) => {
                s.loading = None;
                s.load_error = Some(e);
            }
            Action::Live(status) => {
                let mut live = (*s.live).clone();
                if status == LiveStatus::Starting {
                    live = LiveView {
                        seq: live.seq,
                        ..LiveView::default()
                    };
                }
                live.status = status;
                live.seq += 1;
                s.live = Rc::new(live);
            }
            Action::LiveRate(rate) => {
                let mut live = (*s.live).clone();
                live.rate = rate;
                live.seq += 1;
                s.live = Rc::new(live);
            }
            Action::Chunk(c) => {
                let mut live = (*s.live).clone();
                live.add(&c);
                live.seq += 1;
                s.live = Rc::new(live);
            }
        }
        Rc::new(s)
    }
}

#[cfg(test)]
mod clock_tests {
    use super::*;

    /// A board whose chip lacks the selected clock moves the clock to one it offers; the clock
    /// selector's value sticks otherwise.
    #[test]
    fn board_change_keeps_a_valid_clock() {
        let s = Rc::new(State::default());
        assert_eq!(s.clock_mhz, 64);
        let s = s.reduce(Action::SelectClock(16));
        let s = s.reduce(Action::SelectBoard("nucleo-l432kc".into()));
        assert_eq!(s.clock_mhz, 16);
        let s = s.reduce(Action::SelectBoard("nucleo-l4r5zi".into()));
        assert_eq!(s.clock_mhz, 120);
        let s = s.reduce(Action::SelectBoard("nrf52840".into()));
        assert_eq!(s.clock_mhz, 64);
        let s = s.reduce(Action::SelectBoard("esp32-s3".into()));
        assert_eq!((s.board.as_str(), s.clock_mhz), ("esp32-s3", 64));
    }
}
