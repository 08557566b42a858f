//! What `mote export` tells the firmware's build script: `mote/build.json`, one struct that the
//! exporter serializes (and writes `mote/config.rs`'s matching constants from, with
//! [`BuildSettings::consts_rs`]) and `build.rs` deserializes. One source file shared by both
//! (`build.rs` and `exporter/src/export/mod.rs` include it by path), so the two cannot disagree
//! on a field's name or type.

use serde::{Deserialize, Serialize};

/// The program a firmware image runs (`MOTE_MODE` overrides the exported one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The board's microphone → pipeline → LED and JSON lines (runs forever).
    Mic,
    /// `mote/replay.pcm` from flash → pipeline → `mote detect --json`'s lines, then exit.
    Replay,
    /// The model on a fixed input between instruction-counter markers.
    Bench,
    /// The microphone decimators on a fixed PDM stream (repo only).
    Pdm,
    /// Mic mode with the model from the flash slot (the prebuilt runtime; repo only).
    Runtime,
    /// The audio pipeline's stages between markers (repo only).
    Fe,
    /// A model that is not a keyword model, once on `mote/input.bin`.
    Infer,
}

impl Mode {
    /// Every mode, in `cfg(mote_mode = ...)` spelling order.
    pub const ALL: [Mode; 7] = [
        Mode::Mic,
        Mode::Replay,
        Mode::Bench,
        Mode::Pdm,
        Mode::Runtime,
        Mode::Fe,
        Mode::Infer,
    ];

    /// The name `cfg(mote_mode = ...)` and `MOTE_MODE` use.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Mic => "mic",
            Mode::Replay => "replay",
            Mode::Bench => "bench",
            Mode::Pdm => "pdm",
            Mode::Runtime => "runtime",
            Mode::Fe => "fe",
            Mode::Infer => "infer",
        }
    }

    /// The mode named `name` (as [`Mode::as_str`] spells it).
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// The settings of an exported project that the build needs (memory, program) or that checks
/// read back (the exporter's estimates).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSettings {
    /// Board id (`nucleo-l432kc`, …); the enabled `board-*` feature must be this one.
    pub board: String,
    /// Program.
    pub mode: Mode,
    /// Tensor arena bytes, exactly what the planner needs.
    pub arena_bytes: u64,
    /// Resource-variable (streaming) state bytes, exact.
    pub state_bytes: u64,
    /// The exporter's estimate of the whole firmware's flash bytes (`mote/report.md`).
    pub estimated_flash: u32,
    /// The exporter's estimate of its RAM bytes, stack included.
    pub estimated_ram: u32,
    /// Mic mode: samples of the PCM ring between the microphone's DMA interrupt and the main
    /// loop, sized to the model's invoke time (`src/mic.rs`; 0: no microphone).
    pub mic_ring_samples: u32,
}

impl BuildSettings {
    /// The `mote/config.rs` constants these settings become (`BOARD`, `MODE`, `ARENA_BYTES`,
    /// `STATE_BYTES`, `ESTIMATED_FLASH`, `ESTIMATED_RAM`, `MIC_RING_SAMPLES`), each with a `///`
    /// line.
    #[allow(dead_code)] // build.rs reads the JSON; the exporter writes the constants
    pub fn consts_rs(&self) -> String {
        format!(
            "/// Board this project was exported for (Cargo's `board-*` feature selects memory and pins).\n\
             pub const BOARD: &str = {:?};\n\
             /// Program (`mote/build.json` is what build.rs reads; `MOTE_MODE` overrides it).\n\
             pub const MODE: &str = {:?};\n\
             /// Tensor arena bytes, exactly what the planner needs.\n\
             pub const ARENA_BYTES: usize = {};\n\
             /// Resource-variable (streaming) state bytes, exact.\n\
             pub const STATE_BYTES: usize = {};\n\
             /// Estimated flash bytes of the whole firmware (see `mote/report.md`).\n\
             pub const ESTIMATED_FLASH: u32 = {};\n\
             /// Estimated RAM bytes (arena, state, pipeline, buffers, stack).\n\
             pub const ESTIMATED_RAM: u32 = {};\n\
             /// Mic mode: samples of the microphone's PCM ring, sized to the invoke time.\n\
             pub const MIC_RING_SAMPLES: u32 = {};\n",
            self.board,
            self.mode.as_str(),
            self.arena_bytes,
            self.state_bytes,
            self.estimated_flash,
            self.estimated_ram,
            self.mic_ring_samples
        )
    }
}
