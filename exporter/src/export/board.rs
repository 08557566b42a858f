//! The boards `mote export` targets: memory the firmware may use (as the template's
//! `layout` in the firmware's build.rs declares it), the probe-rs chip name, and how audio gets in.

/// One supported board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// Id used on the command line, in Cargo features (`board-<id>`) and the firmware build.rs `layout`.
    pub id: &'static str,
    /// Display name.
    pub name: &'static str,
    /// Chip.
    pub chip: &'static str,
    /// probe-rs `--chip` name.
    pub probe_chip: &'static str,
    /// Flash bytes (code, model, replay audio).
    pub flash: u32,
    /// RAM bytes the firmware links into in replay mode (`RAM` in memory.x: one contiguous
    /// block; what QEMU maps).
    pub ram: u32,
    /// RAM bytes in mic mode (hardware: SRAM2's alias after SRAM1 makes one larger block).
    pub ram_mic: u32,
    /// The log UART and its pins.
    pub uart: &'static str,
    /// The microphone and how it is wired.
    pub mic: &'static str,
    /// The LED lit on a detection.
    pub led: &'static str,
    /// Build for size (`opt-level = "s"`, ~35 % less code, slower kernels) instead of speed.
    pub optimize_size: bool,
}

const KB: u32 = 1024;

/// Every board, in the order help texts list them.
pub const BOARDS: [Board; 3] = [
    Board {
        id: "b-l475e-iot01a",
        name: "B-L475E-IOT01A",
        chip: "STM32L475VG",
        probe_chip: "STM32L475VGTx",
        flash: 1024 * KB,
        ram: 96 * KB,
        ram_mic: 128 * KB,
        uart: "USART1 TX on PB6 (ST-LINK virtual COM port)",
        mic: "on-board MP34DT01 (U20) via DFSDM1: clock PE9 (DFSDM1_CKOUT), data PE7 (DFSDM1_DATIN2)",
        led: "LD2 (green) on PB14",
        optimize_size: false,
    },
    Board {
        id: "nucleo-l476rg",
        name: "NUCLEO-L476RG",
        chip: "STM32L476RG",
        probe_chip: "STM32L476RGTx",
        flash: 1024 * KB,
        ram: 96 * KB,
        ram_mic: 128 * KB,
        uart: "USART2 TX on PA2 (ST-LINK virtual COM port)",
        mic: "external PDM microphone via DFSDM1: clock PC2 (DFSDM1_CKOUT, CN7 pin 35), data PB12 (DFSDM1_DATIN1, CN10 pin 16), SEL/L-R to GND, VDD 3V3",
        led: "LD2 (green) on PA5",
        optimize_size: false,
    },
    Board {
        id: "nucleo-l432kc",
        name: "NUCLEO-L432KC",
        chip: "STM32L432KC",
        probe_chip: "STM32L432KCUx",
        flash: 256 * KB,
        ram: 64 * KB,
        ram_mic: 64 * KB,
        uart: "USART2 TX on PA2 (ST-LINK virtual COM port)",
        mic: "external PDM microphone via SPI1 (no DFSDM on this chip; PDM decimated in software): clock PA5 (SPI1_SCK, pin A4), data PA6 (SPI1_MISO, pin A5), SEL/L-R to GND, VDD 3V3",
        led: "LD3 (green) on PB3",
        optimize_size: true,
    },
];

/// The board with this id (case-insensitive; `_` and `-` alike).
pub fn find(id: &str) -> Option<&'static Board> {
    let want = id.trim().to_ascii_lowercase().replace('_', "-");
    BOARDS
        .iter()
        .find(|b| b.id == want || b.name.eq_ignore_ascii_case(&want))
}

/// `b-l475e-iot01a, nucleo-l476rg, nucleo-l432kc`.
pub fn ids() -> String {
    BOARDS.iter().map(|b| b.id).collect::<Vec<_>>().join(", ")
}
