//! Supply currents per chip and clock, and the energy estimate built on them.
//!
//! Every current is a *typical* datasheet value (25 °C, VDD = 3.0 V, code running from flash
//! with the ART accelerator on, all peripherals off), cited next to its constant. These figures
//! were taken from the documents named (STMicroelectronics DS10969 STM32L475xx, DS10198
//! STM32L476xx, DS11451 STM32L432xx; Nordic nRF52840 PS v1.x; ST MP34DT01-M datasheet) and could
//! not be re-read on the machine that wrote this table, so each is marked `typical` and should be
//! checked against the current datasheet revision before a product decision (table numbers shift
//! between revisions; the table *titles* are given).
//!
//! Model of the duty cycle: the microphone streams continuously (DFSDM or SPI + DMA), so between
//! computations the core sleeps in Sleep mode (clocks and DMA running), not Stop 2: Stop 2 stops
//! the peripheral clocks the PDM interface needs. Average MCU current = duty x run current +
//! (1 - duty) x sleep current at the same clock and voltage range. Peripheral currents (DFSDM,
//! DMA, GPIO toggling the microphone clock) and regulator losses are not included.

use serde::Serialize;

use super::Workload;

/// Run and Sleep current at one clock. The clocks offered: 80, 48, 26 and 16 MHz (range 1 for
/// the first two, range 2 for the others), plus 64 MHz, the exported firmware's own clock
/// (`firmware-template/src/board.rs`: PLL from MSI, 2 MHz PDM clock).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClockPower {
    /// Core clock, MHz.
    pub mhz: u32,
    /// Voltage scaling range the clock needs (STM32L4: range 1 up to 80 MHz, range 2 up to
    /// 26 MHz; 0 where the chip has no such ranges).
    pub range: u8,
    /// Run current, mA (code from flash).
    pub run_ma: f64,
    /// Sleep current, mA (core stopped, clocks and DMA on).
    pub sleep_ma: f64,
}

/// One chip's currents.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ChipPower {
    /// Chip part number.
    pub chip: &'static str,
    /// Board ids (`mote export --board`, or the web picker's compare-only ids) using it.
    pub boards: &'static [&'static str],
    /// Clocks offered, fastest first.
    pub clocks: &'static [ClockPower],
    /// Stop 2 (or System OFF-like deep sleep with RAM retention) current, µA: shown for
    /// reference (the microphone cannot stream in it).
    pub stop_ua: f64,
    /// Datasheet the figures come from.
    pub source: &'static str,
    /// Whether the instruction counts are this chip's own core (Cortex-M4 running the export's
    /// kernels); false: the chip is only compared, with Cortex-M4 counts.
    pub exported: bool,
    /// What the figures mean here.
    pub note: &'static str,
}

/// `ClockPower` in one line: MHz, voltage range, run mA, sleep mA.
const fn clk(mhz: u32, range: u8, run_ma: f64, sleep_ma: f64) -> ClockPower {
    ClockPower {
        mhz,
        range,
        run_ma,
        sleep_ma,
    }
}

/// Currents of the STM32L475/L476 die (same core, flash and regulator: DS10969 and DS10198
/// give the same typical figures).
#[rustfmt::skip]
// DS10969 (STM32L475xx) / DS10198 (STM32L476xx), "Current consumption in Run and Low-power run
// modes, code with data processing running from Flash, ART enable (Cache ON Prefetch OFF)" and
// "Current consumption in Sleep and Low-power sleep modes, Flash ON": typical, 25 °C, VDD 3 V.
const L47X_CLOCKS: [ClockPower; 5] = [
    clk(80, 1, 10.2, 2.6), // typical
    clk(64, 1, 8.2, 2.1),  // typical
    clk(48, 1, 6.2, 1.6), // typical
    clk(26, 2, 2.8, 0.75), // typical
    clk(16, 2, 1.8, 0.5), // typical
];

// DS11451 (STM32L432KB/KC), same two tables ("Run and Low-power run modes ... ART enable (Cache
// ON Prefetch OFF)", "Sleep and Low-power sleep modes, Flash ON"): typical, 25 °C, VDD 3 V.
// The L432's headline is 84 µA/MHz in Run (LDO); its 80 MHz figure is below the L476's.
#[rustfmt::skip]
const L432_CLOCKS: [ClockPower; 5] = [
    clk(80, 1, 8.6, 2.2), // typical
    clk(64, 1, 6.9, 1.8), // typical
    clk(48, 1, 5.3, 1.35), // typical
    clk(26, 2, 2.3, 0.6), // typical
    clk(16, 2, 1.45, 0.4), // typical
];

// STM32L4R5xx DS12023, Run mode Range 1 boost (120 MHz) and Range 1 (80 MHz), Sleep Flash ON:
// typical, from the datasheet's headline 110 µA/MHz; compare-only.
#[rustfmt::skip]
const L4R5_CLOCKS: [ClockPower; 2] = [
    clk(120, 1, 13.2, 3.6), // typical
    clk(80, 1, 9.0, 2.5), // typical
];

// nRF52840 Product Specification v1.x, "CPU running CoreMark from flash, DC/DC" (3.3 mA at
// 64 MHz, ~52 µA/MHz) and System ON idle with HFCLK running for the PDM peripheral (~0.6 mA:
// typical value, not a single table entry); compare-only. Its only clock is 64 MHz.
#[rustfmt::skip]
const NRF52840_CLOCKS: [ClockPower; 1] = [
    clk(64, 0, 3.3, 0.6), // typical
];

/// Chips with currents, export targets first.
pub const CHIPS: [ChipPower; 5] = [
    ChipPower {
        chip: "STM32L475VG",
        boards: &["b-l475e-iot01a"],
        clocks: &L47X_CLOCKS,
        // DS10969 "Current consumption in Stop 2 mode": 1.1 µA typical without RTC, 25 °C, 3 V.
        stop_ua: 1.1,
        source: "DS10969 (STM32L475xx) Run/Sleep current tables, typical at 25 °C, 3 V",
        exported: true,
        note: "typical datasheet currents; instruction counts measured in QEMU",
    },
    ChipPower {
        chip: "STM32L476RG",
        boards: &["nucleo-l476rg"],
        clocks: &L47X_CLOCKS,
        // DS10198 "Current consumption in Stop 2 mode": 1.1 µA typical without RTC.
        stop_ua: 1.1,
        source: "DS10198 (STM32L476xx) Run/Sleep current tables, typical at 25 °C, 3 V",
        exported: true,
        note: "typical datasheet currents; instruction counts measured in QEMU",
    },
    ChipPower {
        chip: "STM32L432KC",
        boards: &["nucleo-l432kc"],
        clocks: &L432_CLOCKS,
        // DS11451 "Current consumption in Stop 2 mode": 1.0 µA typical without RTC (typical).
        stop_ua: 1.0,
        source: "DS11451 (STM32L432KB/KC) Run/Sleep current tables, typical at 25 °C, 3 V",
        exported: true,
        note: "typical datasheet currents; instruction counts measured in QEMU (the export builds \
this board for size: opt-level s kernels are slower than the counts assume)",
    },
    ChipPower {
        chip: "STM32L4R5ZI",
        boards: &["nucleo-l4r5zi"],
        clocks: &L4R5_CLOCKS,
        // DS12023 Stop 2: about 2.8 µA typical (larger SRAM retained): typical value.
        stop_ua: 2.8,
        source: "DS12023 (STM32L4R5xx) headline figures",
        exported: false,
        note: "estimate from datasheet, not measured (Cortex-M4F: the STM32L4 instruction counts apply)",
    },
    ChipPower {
        chip: "nRF52840",
        boards: &["nrf52840"],
        clocks: &NRF52840_CLOCKS,
        // nRF52840 PS: System ON, full RAM retention, wake on RTC: about 3 µA: typical value.
        stop_ua: 3.0,
        source: "nRF52840 Product Specification v1.x current figures",
        exported: false,
        note: "estimate from datasheet, not measured (Cortex-M4F: the STM32L4 instruction counts apply)",
    },
];

/// Cycles per counted instruction at worst (flash wait states, taken branches): 30 % more.
pub const WAIT_STATE_MARGIN: f64 = 1.3;

/// MEMS PDM microphone current, mA: ST MP34DT01-M datasheet, "Electrical characteristics",
/// IDD in normal mode (clock 1-3.25 MHz), 0.6 mA typical. The B-L475E-IOT01A carries an
/// MP34DT01 (U20); the Nucleo boards are assumed to get the same part, wired externally.
pub const MIC_MA: f64 = 0.6;

/// A battery for the life estimate.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Battery {
    /// Name.
    pub name: &'static str,
    /// Usable capacity, mAh (nominal; no derating for temperature or pulse load).
    pub mah: f64,
}

/// The batteries the report shows: CR2032 (225 mAh nominal; its internal resistance makes
/// 10 mA pulses a stretch without a buffer capacitor) and two AA alkaline cells (~2500 mAh).
pub const BATTERIES: [Battery; 2] = [
    Battery {
        name: "CR2032",
        mah: 225.0,
    },
    Battery {
        name: "2xAA",
        mah: 2500.0,
    },
];

/// Latency, duty cycle, currents and battery life at one clock.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnergyEstimate {
    /// Chip.
    pub chip: &'static str,
    /// Clock, MHz.
    pub mhz: u32,
    /// Voltage range.
    pub range: u8,
    /// One invoke, ms (instructions taken as cycles).
    pub latency_ms: f64,
    /// Fraction of time the core runs (front end, model, detector); > 1: cannot keep up.
    pub duty: f64,
    /// Whether the pipeline keeps up with real-time audio (duty < 1).
    pub realtime: bool,
    /// Whether it still keeps up with 30 % more cycles than instructions (wait states).
    pub realtime_with_margin: bool,
    /// Spare fraction of real time (1 - duty; negative when it cannot keep up).
    pub headroom: f64,
    /// Average MCU current, mA.
    pub mcu_ma: f64,
    /// Microphone current, mA.
    pub mic_ma: f64,
    /// MCU + microphone, mA.
    pub total_ma: f64,
    /// Days per battery (same order as [`BATTERIES`]).
    pub battery_days: Vec<(&'static str, f64)>,
    /// Where the currents come from.
    pub source: &'static str,
    /// Measured counts on this core, or a datasheet-only comparison.
    pub note: &'static str,
}

impl ChipPower {
    /// The chip of board `id` (export or compare-only id).
    pub fn for_board(id: &str) -> Option<&'static ChipPower> {
        CHIPS
            .iter()
            .find(|c| c.boards.iter().any(|b| b.eq_ignore_ascii_case(id)))
    }

    /// Clock entry for `mhz` (`None`: this chip offers no such setting).
    pub fn clock(&self, mhz: u32) -> Option<&'static ClockPower> {
        self.clocks.iter().find(|c| c.mhz == mhz)
    }
}

/// Latency, duty cycle, average current and battery life of `workload` on `chip` at `mhz`
/// (`None` if the chip has no such clock). When the duty cycle exceeds 1 the core runs all the
/// time and still falls behind: the current is the run current, `realtime` false.
pub fn estimate_energy(
    workload: &Workload,
    chip: &'static ChipPower,
    mhz: u32,
) -> Option<EnergyEstimate> {
    let clock = chip.clock(mhz)?;
    let hz = f64::from(clock.mhz) * 1e6;
    let duty = workload.instructions_per_s / hz;
    let busy = duty.min(1.0);
    let mcu_ma = busy * clock.run_ma + (1.0 - busy) * clock.sleep_ma;
    let total_ma = mcu_ma + MIC_MA;
    Some(EnergyEstimate {
        chip: chip.chip,
        mhz: clock.mhz,
        range: clock.range,
        latency_ms: workload.invoke_instructions as f64 / hz * 1000.0,
        duty,
        realtime: duty < 1.0,
        realtime_with_margin: duty * WAIT_STATE_MARGIN < 1.0,
        headroom: 1.0 - duty,
        mcu_ma,
        mic_ma: MIC_MA,
        total_ma,
        battery_days: BATTERIES
            .iter()
            .map(|b| (b.name, b.mah / total_ma / 24.0))
            .collect(),
        source: chip.source,
        note: chip.note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(per_s: f64) -> Workload {
        Workload {
            invoke_instructions: 800_000,
            invocations_per_s: 1.0,
            frame_instructions: 0.0,
            frames_per_s: 0.0,
            instructions_per_s: per_s,
        }
    }

    #[test]
    fn duty_current_and_battery() {
        let chip = ChipPower::for_board("b-l475e-iot01a").unwrap();
        let e = estimate_energy(&work(8_000_000.0), chip, 80).unwrap();
        assert!((e.duty - 0.1).abs() < 1e-12);
        assert!((e.latency_ms - 10.0).abs() < 1e-9);
        assert!((e.mcu_ma - (0.1 * 10.2 + 0.9 * 2.6)).abs() < 1e-9);
        assert!((e.total_ma - e.mcu_ma - MIC_MA).abs() < 1e-12);
        assert!((e.battery_days[0].1 - 225.0 / e.total_ma / 24.0).abs() < 1e-9);
        assert!(e.realtime);
    }

    #[test]
    fn too_slow_is_flagged_and_runs_flat_out() {
        let chip = ChipPower::for_board("nucleo-l432kc").unwrap();
        let e = estimate_energy(&work(20_000_000.0), chip, 16).unwrap();
        assert!(!e.realtime && e.duty > 1.0 && e.headroom < 0.0);
        assert!((e.mcu_ma - 1.45).abs() < 1e-12);
        assert!(estimate_energy(&work(1.0), chip, 33).is_none());
    }

    #[test]
    fn every_export_board_has_currents_at_five_clocks() {
        for b in crate::export::BOARDS {
            let c = ChipPower::for_board(b.id).unwrap();
            assert!(c.exported && c.chip == b.chip, "{}", b.id);
            let mhz: Vec<u32> = c.clocks.iter().map(|c| c.mhz).collect();
            assert_eq!(mhz, [80, 64, 48, 26, 16]);
            for k in c.clocks {
                assert!(k.run_ma > k.sleep_ma && k.sleep_ma > 0.0);
                assert_eq!(k.range, if k.mhz > 26 { 1 } else { 2 });
            }
        }
    }
}
