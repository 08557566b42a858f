//! Estimated latency on an STM32L4 at 80 MHz from multiply-accumulate counts.
//!
//! Method: `scripts/m4bench.sh` runs the firmware template (release profile, opt-level 3) in
//! QEMU's B-L475E-IOT01A machine (Cortex-M4) and counts the instructions executed between
//! `cost_start` and `cost_stop` around one steady-state invocation. Measured 2026-11-22:
//!
//! | model | MACs | instructions | per MAC |
//! |---|---|---|---|
//! | okay_nabu | 36,480 | 452,627 | 12.4 |
//! | hey_jarvis | 21,630 | 277,223 | 12.8 |
//! | alexa | 23,968 | 298,316 | 12.4 |
//! | hey_mycroft | 24,608 | 305,779 | 12.4 |
//! | micro_speech | 336,000 | 5,005,102 | 14.9 |
//!
//! [`CYCLES_PER_MAC`] is the median, so it folds in the non-MAC operators (slices,
//! concatenations, variables) of such models. QEMU counts instructions, not cycles: on silicon
//! loads, taken branches and flash wait states (4 at 80 MHz, partly hidden by the ART
//! accelerator) add cycles, so read the estimate as a lower bound. Re-measure when the kernels
//! change (`scripts/m4bench.sh MODEL.tflite`).

/// Cortex-M4 clock the estimate assumes (STM32L4's maximum), Hz.
pub const CLOCK_HZ: f64 = 80_000_000.0;

/// Instructions per MAC measured in QEMU over whole invocations (see the module docs).
pub const CYCLES_PER_MAC: f64 = 12.4;

/// What [`CYCLES_PER_MAC`] was measured on, shown next to the estimate.
pub const METHOD: &str = "instructions counted in QEMU (Cortex-M4, B-L475E-IOT01A machine) over whole \
invocations of the firmware template, divided by MACs: 12.4 to 14.9 for the four microWakeWord models and \
micro_speech, median 12.4; one instruction taken as one cycle, so this is a lower bound";

/// Estimated milliseconds for `macs` multiply-accumulates at [`CLOCK_HZ`].
pub fn latency_ms(macs: u64) -> f64 {
    macs as f64 * CYCLES_PER_MAC / CLOCK_HZ * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_scales_with_macs() {
        assert_eq!(latency_ms(0), 0.0);
        let one_million = latency_ms(1_000_000);
        assert!((one_million - CYCLES_PER_MAC * 1_000_000.0 / 80_000.0).abs() < 1e-9);
        assert!((latency_ms(2_000_000) - 2.0 * one_million).abs() < 1e-9);
    }
}
