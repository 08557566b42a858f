//! Estimated latency on an STM32L4 at 80 MHz from multiply-accumulate counts.
//!
//! Method: `scripts/m4bench.sh` runs the firmware template in QEMU's B-L475E-IOT01A (Cortex-M4)
//! and counts the instructions executed between `cost_start` and `cost_stop` around one
//! invocation. [`CYCLES_PER_MAC`] is that count divided by the model's MACs, for the models
//! listed there: it folds in the non-MAC operators and the per-invocation overhead of those
//! models. QEMU counts instructions, not cycles (with `-icount`, one instruction is one cycle);
//! on silicon, loads, taken branches and flash wait states (4 at 80 MHz, partly hidden by the
//! ART accelerator) add cycles, so read the estimate as a lower bound.

/// Cortex-M4 clock the estimate assumes (STM32L4's maximum), Hz.
pub const CLOCK_HZ: f64 = 80_000_000.0;

/// Instructions per MAC measured in QEMU over a whole invocation (see the module docs).
pub const CYCLES_PER_MAC: f64 = 4.0;

/// What [`CYCLES_PER_MAC`] was measured on, shown next to the estimate.
pub const METHOD: &str = "instructions per MAC counted in QEMU (Cortex-M4, B-L475E-IOT01A machine) \
over whole invocations of the firmware template; cycles taken equal to instructions";

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
