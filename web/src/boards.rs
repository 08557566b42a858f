//! Boards the fit verdict compares against: the STM32L4 boards the exporter targets, plus a few
//! common chips for comparison (no export for those yet).

/// One board (or chip) and the memory a Mote firmware can use on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// Stable id (the `<select>` value).
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Chip.
    pub chip: &'static str,
    /// RAM the firmware can place its buffers in, bytes (one contiguous block: the arena cannot span two).
    pub ram: u32,
    /// Flash for code and the model, bytes (`None`: external flash, module-dependent).
    pub flash: Option<u32>,
    /// What the RAM figure means on this chip.
    pub ram_note: &'static str,
    /// Whether `mote export` produces firmware for it.
    pub export: bool,
}

const KB: u32 = 1024;

/// All boards, targets first.
pub const BOARDS: &[Board] = &[
    Board {
        id: "l432kc",
        name: "NUCLEO-L432KC",
        chip: "STM32L432KC",
        ram: 64 * KB,
        flash: Some(256 * KB),
        ram_note: "64 KB SRAM (48 KB SRAM1 + 16 KB SRAM2, contiguous)",
        export: true,
    },
    Board {
        id: "l476rg",
        name: "NUCLEO-L476RG",
        chip: "STM32L476RG",
        ram: 96 * KB,
        flash: Some(1024 * KB),
        ram_note: "128 KB SRAM = 96 KB SRAM1 + 32 KB SRAM2 (not contiguous); the firmware uses SRAM1",
        export: true,
    },
    Board {
        id: "b-l475e-iot01a",
        name: "B-L475E-IOT01A",
        chip: "STM32L475VG",
        ram: 96 * KB,
        flash: Some(1024 * KB),
        ram_note: "128 KB SRAM = 96 KB SRAM1 + 32 KB SRAM2 (not contiguous); the firmware uses SRAM1",
        export: true,
    },
    Board {
        id: "l4r5zi",
        name: "NUCLEO-L4R5ZI",
        chip: "STM32L4R5ZI",
        ram: 640 * KB,
        flash: Some(2048 * KB),
        ram_note: "640 KB SRAM (SRAM1 + SRAM2 + SRAM3, contiguous at 0x2000_0000)",
        export: true,
    },
    Board {
        id: "h743",
        name: "STM32H743 (comparison)",
        chip: "STM32H743",
        ram: 1024 * KB,
        flash: Some(2048 * KB),
        ram_note: "1 MB SRAM in several blocks; the largest (AXI SRAM) is 512 KB",
        export: false,
    },
    Board {
        id: "nrf52840",
        name: "nRF52840 (comparison)",
        chip: "nRF52840",
        ram: 256 * KB,
        flash: Some(1024 * KB),
        ram_note: "256 KB SRAM",
        export: false,
    },
    Board {
        id: "esp32s3",
        name: "ESP32-S3 (comparison)",
        chip: "ESP32-S3",
        ram: 512 * KB,
        flash: None,
        ram_note: "512 KB internal SRAM (shared with Wi-Fi/BLE stacks when used); flash is external",
        export: false,
    },
];

/// The board with this id, or the first one.
pub fn board(id: &str) -> &'static Board {
    BOARDS.iter().find(|b| b.id == id).unwrap_or(&BOARDS[0])
}

/// Fit of one memory against a board: used, available, and the signed margin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// Bytes the model needs.
    pub used: u32,
    /// Bytes the board has (`None`: unknown / external).
    pub available: Option<u32>,
}

impl Fit {
    /// Whether it fits (unknown capacity counts as fitting).
    pub fn fits(&self) -> bool {
        self.available.is_none_or(|a| self.used <= a)
    }

    /// Free bytes left (negative: short by that much); `None` if capacity is unknown.
    pub fn margin(&self) -> Option<i64> {
        self.available.map(|a| i64::from(a) - i64::from(self.used))
    }

    /// Used share of the capacity in percent.
    pub fn percent(&self) -> Option<f64> {
        self.available.filter(|&a| a > 0).map(|a| f64::from(self.used) * 100.0 / f64::from(a))
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
    fn margins_and_verdicts() {
        let f = Fit { used: 60 * 1024, available: Some(64 * 1024) };
        assert!(f.fits());
        assert_eq!(f.margin(), Some(4096));
        let f = Fit { used: 70 * 1024, available: Some(64 * 1024) };
        assert!(!f.fits());
        assert_eq!(f.margin(), Some(-6144));
        assert!(Fit { used: u32::MAX, available: None }.fits());
    }

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
    fn unknown_id_falls_back_to_the_first_board() {
        assert_eq!(board("nope").id, "l432kc");
        assert_eq!(board("l476rg").chip, "STM32L476RG");
    }
}
