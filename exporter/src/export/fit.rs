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
use crate::energy;
use crate::report::ModelReport;

/// Code and read-only data of the firmware without the model at opt-level 3 (LTO): engine
/// kernels (all of them: the interpreter dispatches by opcode at run time), front end and its
/// tables, detector, drivers. Measured ≈ 215 KiB (replay and mic modes); rounded up.
pub const CODE_BYTES: u32 = 224 * 1024;
/// The same at opt-level "s" (boards with `optimize_size`). Measured ≈ 130 KiB before the
/// in-place pipeline construction added ≈ 7 KiB; rounded up.
pub const CODE_BYTES_SIZE: u32 = 144 * 1024;
/// The pipeline object besides the arena and state (front end with its tables and FFT, feature
/// window, detector history, interpreter), in a static: 16.4 KB on the target; rounded up.
pub const PIPELINE_RAM: u32 = 17 * 1024;
/// Stack peak, interpreted: measured 12.8 KB in QEMU by painting the stack (replay mode
/// reports `stack_bytes`; micro_speech and okay_nabu alike). The pipeline's large memory is a
/// static configured in place (`PipelineMemory`), so nothing big passes through the stack.
/// Rounded up.
pub const STACK_BYTES: u32 = 16 * 1024;
/// Stack peak, compiled ahead of time (no interpreter set-up or per-operator prepare on the
/// chip): measured the same way 5,468 B (micro_speech), 4,324 B (okay_nabu), 5,260 B (the
/// MFCC DS-CNN); rounded up.
pub const STACK_BYTES_AOT: u32 = 6 * 1024;
/// Code and read-only data without the model, compiled ahead of time (only the model's
/// kernels, no flatbuffer reader, planner or libm): measured 42-48 KB (micro_speech mic on
/// the NUCLEO-L432KC, replay on the B-L475E-IOT01A); rounded up generously for larger models.
pub const CODE_BYTES_AOT: u32 = 96 * 1024;

/// What runs the model on the chip (the export default is [`Engine::Aot`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// Compiled ahead of time (`mote/aot/`).
    Aot,
    /// The interpreter (`mote export --interpreter`).
    Interpreter,
}

impl Engine {
    /// Instructions per invoke as this engine runs the model (the interpreter adds its
    /// measured dispatch between operators).
    pub fn estimate_invoke(self, report: &ModelReport) -> energy::InvokeEstimate {
        match self {
            Engine::Aot => energy::estimate_invoke(report),
            Engine::Interpreter => energy::estimate_invoke_interpreted(report),
        }
    }
}
/// Microphone DMA buffer (two 2 ms halves) and decimator state, besides the PCM ring (mic mode
/// only; measured 1,565 B on the NUCLEO-L432KC's SPI path); rounded up.
pub const MIC_DMA_RAM: u32 = 2 * 1024;

/// Samples of the microphone's PCM ring (`MIC_RING_SAMPLES`): what arrives while the main loop
/// is busy with one block (a front-end frame and an invocation, at the firmware clock, +30 %
/// for flash wait states), twice, plus two 10 ms blocks; a multiple of 256 in 1024..=4096
/// (4096, 256 ms, was the fixed size before).
pub fn mic_ring_samples(report: &ModelReport, settings: &Settings, engine: Engine) -> u32 {
    let schedule = energy::Schedule::from_settings(settings);
    let w = energy::workload(engine.estimate_invoke(report).instructions, &schedule);
    let busy_s = (w.invoke_instructions as f64 + w.frame_instructions) * 1.3
        / (f64::from(energy::FIRMWARE_MHZ) * 1e6);
    let samples = 2.0 * busy_s * 16_000.0 + 2.0 * 160.0;
    ((samples / 256.0).ceil() as u32 * 256).clamp(1024, 4096)
}
/// Log buffers and other statics.
pub const BASE_RAM: u32 = 3 * 1024;

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
    /// What runs the model on the chip (the code, stack and timing figures depend on it).
    pub engine: Engine,
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
        self.flash
            .iter()
            .fold(0u32, |a, i| a.saturating_add(i.bytes))
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
                let parts: Vec<String> = items
                    .iter()
                    .map(|i| format!("{} {}", i.what, i.bytes))
                    .collect();
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

/// The estimate for `board` running the model of `report`, compiled ahead of time (the export
/// default), with `replay_samples` of replay audio (0: microphone mode).
pub fn estimate(
    board: &Board,
    report: &ModelReport,
    settings: &Settings,
    replay_samples: usize,
) -> Fit {
    estimate_for(board, report, settings, replay_samples, Engine::Aot)
}

/// [`estimate`] for the given [`Engine`].
pub fn estimate_for(
    board: &Board,
    report: &ModelReport,
    settings: &Settings,
    replay_samples: usize,
    engine: Engine,
) -> Fit {
    let item = |what: &str, bytes: u32, exact: bool| Item {
        what: what.into(),
        bytes,
        exact,
    };
    let mut flash = vec![
        item(
            "firmware code (engine, front end, detector, drivers)",
            match engine {
                Engine::Aot => CODE_BYTES_AOT,
                Engine::Interpreter if board.optimize_size => CODE_BYTES_SIZE,
                Engine::Interpreter => CODE_BYTES,
            },
            false,
        ),
        item(
            "model",
            u32::try_from(report.model_bytes).unwrap_or(u32::MAX),
            true,
        ),
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
        let ring = 2 * mic_ring_samples(report, settings, engine);
        ram.push(item("microphone buffers", ring + MIC_DMA_RAM, false));
    }
    ram.push(match engine {
        Engine::Aot => item(
            "stack peak (measured in QEMU: 5.5 KB at most over the checked models)",
            STACK_BYTES_AOT,
            false,
        ),
        Engine::Interpreter => item(
            "stack peak (measured in QEMU: 12.8 KB, building the pipeline)",
            STACK_BYTES,
            false,
        ),
    });
    ram.push(item("log buffers, other statics", BASE_RAM, false));
    Fit {
        engine,
        board: board.id,
        board_name: board.name,
        flash_limit: board.flash,
        ram_limit: if replay_samples == 0 {
            board.ram_mic
        } else {
            board.ram
        },
        flash,
        ram,
    }
}
