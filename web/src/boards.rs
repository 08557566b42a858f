//! Boards the fit verdict compares against: the boards `mote export` targets (the exporter's own
//! table, so the page and the exported `report.md` agree), then chips for comparison, which get
//! the same estimate with the Cortex-M4 code sizes (no export for them yet).

use mote_exporter::export::config::Settings;
use mote_exporter::export::fit::{self, Fit, Item};
use mote_exporter::export::{Board, BOARDS};
use mote_exporter::report::ModelReport;

/// One entry of the board picker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// The board (for comparison chips: memory sizes only).
    pub board: Board,
    /// Whether `mote export` builds firmware for it.
    pub export: bool,
    /// What the RAM and flash figures mean on this chip.
    pub note: &'static str,
}

const KB: u32 = 1024;

/// A comparison chip: only the memory sizes matter to the estimate.
const fn chip(
    id: &'static str,
    name: &'static str,
    chip: &'static str,
    ram: u32,
    flash: u32,
) -> Board {
    Board {
        id,
        name,
        chip,
        probe_chip: "",
        flash,
        ram,
        ram_mic: ram,
        uart: "",
        mic: "",
        led: "",
        optimize_size: false,
    }
}

/// Comparison chips (no export yet).
const OTHERS: [Choice; 4] = [
    Choice {
        board: chip("nucleo-l4r5zi", "NUCLEO-L4R5ZI", "STM32L4R5ZI", 640 * KB, 2048 * KB),
        export: false,
        note: "640 KB SRAM (SRAM1 + SRAM2 + SRAM3, contiguous), 2 MB flash; not in the firmware template yet",
    },
    Choice {
        board: chip("stm32h743", "STM32H743", "STM32H743", 1024 * KB, 2048 * KB),
        export: false,
        note: "1 MB SRAM in several blocks (the largest, AXI SRAM, is 512 KB), 2 MB flash; Cortex-M7",
    },
    Choice {
        board: chip("nrf52840", "nRF52840", "nRF52840", 256 * KB, 1024 * KB),
        export: false,
        note: "256 KB RAM, 1 MB flash; Cortex-M4F like the STM32L4",
    },
    Choice {
        board: chip("esp32-s3", "ESP32-S3", "ESP32-S3", 512 * KB, 8192 * KB),
        export: false,
        note: "512 KB internal SRAM (shared with Wi-Fi/BLE when used); flash is external: 8 MB assumed (common modules); Xtensa code sizes differ",
    },
];

/// The picker's entries: export targets first.
pub fn choices() -> Vec<Choice> {
    let targets = BOARDS.iter().map(|b| Choice {
        board: *b,
        export: true,
        note: if b.ram_mic > b.ram {
            "RAM: SRAM1 with SRAM2's alias after it as one block (microphone firmware)"
        } else {
            "RAM: the whole SRAM as one block"
        },
    });
    targets.chain(OTHERS).collect()
}

/// The entry with this id, or the first one.
pub fn choice(id: &str) -> Choice {
    let all = choices();
    all.iter()
        .find(|c| c.board.id == id)
        .copied()
        .unwrap_or(all[0])
}

/// Flash and RAM of the microphone firmware for this model on `board`: the exporter's estimate
/// when the audio pipeline accepts the model; otherwise only the model's own memory.
pub fn estimate(board: &Board, report: &ModelReport, settings: Option<&Settings>) -> Fit {
    match settings {
        Some(s) => fit::estimate(board, report, s, 0),
        None => {
            let item = |what: &str, bytes: u32| Item {
                what: what.into(),
                bytes,
                exact: true,
            };
            Fit {
                engine: fit::Engine::Aot,
                board: board.id,
                board_name: board.name,
                flash_limit: board.flash,
                ram_limit: board.ram_mic,
                flash: vec![item(
                    "model",
                    u32::try_from(report.model_bytes).unwrap_or(u32::MAX),
                )],
                ram: vec![
                    item("tensor arena", report.arena_bytes),
                    item("model state", report.state_bytes),
                ],
            }
        }
    }
}

/// `12,345 B` / `12.1 KB` style formatting used across the UI.
pub fn fmt_bytes(n: i64) -> String {
    let a = n.unsigned_abs();
    let sign = if n < 0 { "−" } else { "" };
    if a < 10 * 1024 {
        format!("{sign}{} B", group(a))
    } else if a < 10 * 1024 * 1024 {
        format!("{sign}{:.1} KB", a as f64 / 1024.0)
    } else {
        format!("{sign}{:.1} MB", a as f64 / (1024.0 * 1024.0))
    }
}

/// Digits grouped by thousands: `37000` → `37,000`.
#[allow(clippy::manual_is_multiple_of)] // is_multiple_of needs Rust 1.87; the workspace supports 1.85
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(group(37000), "37,000");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_234_567), "1,234,567");
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(65536), "64.0 KB");
        assert_eq!(fmt_bytes(-6144), "−6,144 B");
    }

    #[test]
    fn export_targets_come_first_and_unknown_ids_fall_back() {
        let all = choices();
        assert_eq!(all.iter().filter(|c| c.export).count(), BOARDS.len());
        assert!(all.iter().take(BOARDS.len()).all(|c| c.export));
        assert_eq!(choice("nope").board.id, BOARDS[0].id);
        assert_eq!(choice("nrf52840").board.ram, 256 * 1024);
    }
}
