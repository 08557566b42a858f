//! One model on one board: instructions, latency and battery life at the chosen clock and at
//! every clock the chip offers, with the assumptions spelled out (`report.md`, `report.json`,
//! `mote inspect --board`).

use core::fmt::Write as _;

use serde::Serialize;

use super::power::{self, ChipPower, EnergyEstimate, BATTERIES, MIC_MA};
use super::{estimate_invoke, workload, InvokeEstimate, Schedule, Workload, WAIT_STATE_NOTE};
use crate::export::config::Settings;
use crate::report::ModelReport;

/// The exported firmware's core clock (`firmware-template/src/board.rs`, `clock_64mhz`), MHz:
/// the default clock of every estimate.
pub const FIRMWARE_MHZ: u32 = 64;

/// Latency and energy of one model on one board.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Board id.
    pub board: String,
    /// Chip.
    pub chip: &'static str,
    /// The clock asked for, MHz.
    pub clock_mhz: u32,
    /// How often the pipeline runs.
    pub schedule: Schedule,
    /// Per-layer and total instructions per invoke.
    pub invoke: InvokeEstimate,
    /// Instructions per second of audio.
    pub workload: Workload,
    /// The estimate at `clock_mhz` (`None`: the chip has no such clock).
    pub chosen: Option<EnergyEstimate>,
    /// The estimate at every clock the chip offers, fastest first.
    pub clocks: Vec<EnergyEstimate>,
    /// What the figures assume, one sentence each.
    pub assumptions: Vec<String>,
}

impl Schedule {
    /// The schedule of the pipeline `mote export` / `mote detect` configure.
    pub fn from_settings(s: &Settings) -> Schedule {
        Schedule {
            frontend: s.frontend,
            frame_step_ms: s.frame_step_ms,
            stride_frames: s.stride_frames,
        }
    }
}

/// The summary for `board` (export or compare-only id) at `mhz` (`None`: unknown board), for
/// the model compiled ahead of time (what `mote export` builds by default).
pub fn summary(report: &ModelReport, schedule: Schedule, board: &str, mhz: u32) -> Option<Summary> {
    summary_for(estimate_invoke(report), schedule, board, mhz)
}

/// [`summary`] for a given per-invoke estimate (e.g. [`super::estimate_invoke_interpreted`] for
/// `mote export --interpreter`).
pub fn summary_for(
    invoke: InvokeEstimate,
    schedule: Schedule,
    board: &str,
    mhz: u32,
) -> Option<Summary> {
    let chip: &'static ChipPower = ChipPower::for_board(board)?;
    let work = workload(invoke.instructions, &schedule);
    let clocks: Vec<EnergyEstimate> = chip
        .clocks
        .iter()
        .filter_map(|c| power::estimate_energy(&work, chip, c.mhz))
        .collect();
    let chosen = power::estimate_energy(&work, chip, mhz);
    let mut assumptions = vec![
        format!("latency: {WAIT_STATE_NOTE}"),
        format!(
            "per-operator costs fitted to QEMU counts of the release firmware (scripts/op-costs.sh); \
             front end + window + detector: {:.0} instructions per {} ms frame, measured the same way",
            work.frame_instructions, schedule.frame_step_ms
        ),
        format!(
            "currents: {} ({}); between computations the core sleeps in Sleep mode (the PDM \
             microphone streams through DMA, which Stop 2 would halt; Stop 2 would be {} µA)",
            chip.source, chip.note, chip.stop_ua
        ),
        format!(
            "microphone: {MIC_MA} mA (MP34DT01-M datasheet, IDD in normal mode, typical); \
             peripherals (DFSDM, DMA), regulator and LED not included"
        ),
        format!(
            "batteries: {}; nominal capacity, no derating",
            BATTERIES
                .iter()
                .map(|b| format!("{} {} mAh", b.name, b.mah))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ];
    if !chip.exported {
        assumptions.insert(0, "estimate from datasheet, not measured".into());
    }
    Some(Summary {
        board: board.to_string(),
        chip: chip.chip,
        clock_mhz: mhz,
        schedule,
        invoke,
        workload: work,
        chosen,
        clocks,
        assumptions,
    })
}

/// `yes`, `tight` (keeps up only if cycles stay within 30 % of instructions) or `NO`.
pub fn realtime_word(e: &EnergyEstimate) -> &'static str {
    match (e.realtime, e.realtime_with_margin) {
        (_, true) => "yes",
        (true, false) => "tight",
        (false, _) => "NO",
    }
}

/// Markdown: the chosen clock, a table of every clock, the assumptions.
pub fn markdown(s: &Summary) -> String {
    let mut o = String::new();
    let w = &mut o;
    let wl = &s.workload;
    let _ = writeln!(w, "## Latency and energy ({} on {})", s.chip, s.board);
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "- model: {} instructions per invoke (estimated from measured per-operator costs), {:.1} invocations/s",
        s.invoke.instructions, wl.invocations_per_s
    );
    let _ = writeln!(
        w,
        "- whole pipeline: {:.2} M instructions per second of audio (model {:.2} M + front end {:.2} M)",
        wl.instructions_per_s / 1e6,
        wl.invoke_instructions as f64 * wl.invocations_per_s / 1e6,
        wl.frame_instructions * wl.frames_per_s / 1e6
    );
    match &s.chosen {
        Some(e) => {
            let _ = writeln!(
                w,
                "- at {} MHz (range {}): latency {:.1} ms per invoke, duty cycle {:.1} %{}, average current {:.2} mA (MCU {:.2} + microphone {:.2})",
                e.mhz,
                e.range,
                e.latency_ms,
                e.duty * 100.0,
                match realtime_word(e) {
                    "yes" => "",
                    "tight" => " (tight: 30 % more cycles than instructions would not keep up)",
                    _ => " — CANNOT KEEP UP WITH REAL TIME",
                },
                e.total_ma,
                e.mcu_ma,
                e.mic_ma
            );
            let days: Vec<String> = e
                .battery_days
                .iter()
                .map(|(b, d)| format!("{b} {d:.1} days"))
                .collect();
            let _ = writeln!(w, "- battery life: {}", days.join(", "));
        }
        None => {
            let _ = writeln!(w, "- {} offers no {} MHz setting", s.chip, s.clock_mhz);
        }
    }
    let _ = writeln!(w);
    let mut head =
        String::from("| clock | range | latency ms | duty % | real time | MCU mA | total mA |");
    let mut rule = String::from("|---:|---:|---:|---:|---|---:|---:|");
    for b in BATTERIES {
        let _ = write!(head, " {} days |", b.name);
        rule.push_str("---:|");
    }
    let _ = writeln!(w, "{head}");
    let _ = writeln!(w, "{rule}");
    for e in &s.clocks {
        let _ = write!(
            w,
            "| {} MHz | {} | {:.1} | {:.1} | {} | {:.2} | {:.2} |",
            e.mhz,
            e.range,
            e.latency_ms,
            e.duty * 100.0,
            realtime_word(e),
            e.mcu_ma,
            e.total_ma
        );
        for (_, d) in &e.battery_days {
            let _ = write!(w, " {d:.1} |");
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "Assumptions:");
    for a in &s.assumptions {
        let _ = writeln!(w, "- {a}");
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ModelReport {
        crate::report::report(include_bytes!(
            "../../../engine/tests/golden/ops/fc_rank2_bias/model.tflite"
        ))
        .unwrap()
    }

    #[test]
    fn summary_has_every_clock_and_the_chosen_one() {
        let sched = Schedule {
            frontend: "micro_wakeword",
            frame_step_ms: 10,
            stride_frames: 3,
        };
        let s = summary(&tiny(), sched, "nucleo-l476rg", FIRMWARE_MHZ).unwrap();
        assert_eq!(s.chip, "STM32L476RG");
        assert_eq!(s.clocks.len(), 5);
        let c = s.chosen.as_ref().unwrap();
        assert_eq!(c.mhz, 64);
        let md = markdown(&s);
        assert!(md.contains("| 16 MHz | 2 |"), "{md}");
        assert!(md.contains("CR2032"));
        assert!(summary(&tiny(), sched, "no-such-board", 64).is_none());
        let off = summary(&tiny(), sched, "nucleo-l432kc", 33).unwrap();
        assert!(off.chosen.is_none());
        assert!(markdown(&off).contains("offers no 33 MHz setting"));
        let cmp = summary(&tiny(), sched, "nrf52840", 64).unwrap();
        assert!(cmp.assumptions[0].contains("not measured"));
    }
}
