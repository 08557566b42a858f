//! Will it fit? Flash and RAM of the exported firmware, estimated before building it, against
//! the board's memory.
//!
//! Model-dependent parts are exact (model bytes, planner arena and state, replay audio); the
//! firmware's own code and buffers are constants measured from built ELFs
//! (`arm-none-eabi-size`) with margin. `scripts/firmware-test.sh` checks every firmware it
//! builds stays within its estimate, so a change that grows the firmware fails there first.

use serde::Serialize;

use super::board::Board;
use super::config::Settings;
use crate::report::ModelReport;

/// Code and read-only data of the firmware without the model at opt-level 3 (LTO): engine
/// kernels (all of them: the interpreter dispatches by opcode at run time), front end and its
/// tables, detector, drivers. Measured ≈ 200 KiB (mic mode, the largest); rounded up.
pub const CODE_BYTES: u32 = 208 * 1024;
/// The same at opt-level "s" (boards with `optimize_size`). Measured ≈ 130 KiB.
pub const CODE_BYTES_SIZE: u32 = 136 * 1024;
/// RAM of the audio pipeline besides the arena and state: front end (window, FFT, filterbank,
/// noise and PCAN state), feature window, detector history. Measured ≈ 12 KB; rounded up.
pub const PIPELINE_RAM: u32 = 14 * 1024;
/// Microphone DMA ring and decimation state (mic mode only).
pub const MIC_RAM: u32 = 4 * 1024;
/// Log line buffer, other statics, and the stack reserve (deepest kernel call chain + the
/// interpreter's frame, with margin).
pub const BASE_RAM: u32 = 8 * 1024;

/// One line of a breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Item {
    /// What it is.
    pub what: String,
    /// Bytes.
    pub bytes: u32,
    /// Exact (from the model/planner) or an estimate.
    pub exact: bool,
}

/// Flash and RAM needs against a board's limits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fit {
    /// Board id.
    pub board: &'static str,
    /// Board display name.
    pub board_name: &'static str,
    /// Board flash bytes.
    pub flash_limit: u32,
    /// Board RAM bytes (the block the firmware links into).
    pub ram_limit: u32,
    /// Flash breakdown.
    pub flash: Vec<Item>,
    /// RAM breakdown.
    pub ram: Vec<Item>,
}

impl Fit {
    /// Total estimated flash.
    pub fn flash_total(&self) -> u32 {
        self.flash.iter().fold(0u32, |a, i| a.saturating_add(i.bytes))
    }

    /// Total estimated RAM.
    pub fn ram_total(&self) -> u32 {
        self.ram.iter().fold(0u32, |a, i| a.saturating_add(i.bytes))
    }

    /// Whether both fit.
    pub fn fits(&self) -> bool {
        self.flash_total() <= self.flash_limit && self.ram_total() <= self.ram_limit
    }

    /// One line per exceeded limit, with the numbers.
    pub fn overflows(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut line = |kind: &str, need: u32, limit: u32, items: &[Item]| {
            if need > limit {
                let parts: Vec<String> = items.iter().map(|i| format!("{} {}", i.what, i.bytes)).collect();
                v.push(format!(
                    "{kind}: needs {need} bytes ({:.1} KiB), the board has {limit} ({:.0} KiB): {} bytes over [{}]",
                    f64::from(need) / 1024.0,
                    f64::from(limit) / 1024.0,
                    need - limit,
                    parts.join(" + ")
                ));
            }
        };
        line("flash", self.flash_total(), self.flash_limit, &self.flash);
        line("RAM", self.ram_total(), self.ram_limit, &self.ram);
        v
    }
}

/// The estimate for `board` running the model of `report` with `replay_samples` of replay audio
/// (0: microphone mode).
pub fn estimate(board: &Board, report: &ModelReport, _settings: &Settings, replay_samples: usize) -> Fit {
    let item = |what: &str, bytes: u32, exact: bool| Item {
        what: what.into(),
        bytes,
        exact,
    };
    let mut flash = vec![
        item(
            "firmware code (engine, front end, detector, drivers)",
            if board.optimize_size { CODE_BYTES_SIZE } else { CODE_BYTES },
            false,
        ),
        item("model", u32::try_from(report.model_bytes).unwrap_or(u32::MAX), true),
    ];
    if replay_samples > 0 {
        let bytes = u32::try_from(replay_samples.saturating_mul(2)).unwrap_or(u32::MAX);
        flash.push(item("replay audio", bytes, true));
    }
    let mut ram = vec![
        item("tensor arena", report.arena_bytes, true),
        item("model state", report.state_bytes, true),
        item("audio pipeline", PIPELINE_RAM, false),
    ];
    if replay_samples == 0 {
        ram.push(item("microphone buffers", MIC_RAM, false));
    }
    ram.push(item("statics and stack", BASE_RAM, false));
    Fit {
        board: board.id,
        board_name: board.name,
        flash_limit: board.flash,
        ram_limit: board.ram,
        flash,
        ram,
    }
}
