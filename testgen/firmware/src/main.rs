//! The kernel sweep on the chip: generates every case of `mote_testgen` in RAM (model and
//! input), runs it with the engine as `mote export` ships it (`cfg(mote_dsp)`: SXTB16/SMLAD
//! kernels), and prints one line per case on USART1: `INDEX HASH` (FNV-1a of the output, 8 hex
//! digits) or `INDEX E message`, then `done N`, and exits through semihosting.
//! `MOTE_SWEEP_CASES=N` at build time runs the first N cases instead of the standard sweep
//! (longer hunts; compare with `sweep check FILE --count N`).
//! `scripts/firmware-test.sh` runs it in QEMU and compares the lines with the host
//! (`cargo run -p mote-testgen --bin sweep -- check FILE`).
#![no_std]
#![no_main]

#[path = "../../../firmware-template/src/uart.rs"]
mod uart;

use core::fmt::{self, Write as _};

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use mote_testgen::{case, run, ARENA_BYTES, MODEL_BYTES, SWEEP_CASES};
use panic_semihosting as _;
use stm32l4 as _;

/// 16-byte alignment for the model buffer and the arena (as TFLM requires of both).
#[repr(C, align(16))]
struct Aligned<T>(T);

/// Formats into the UART.
struct Uart;

impl fmt::Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        uart::write_bytes(s.as_bytes());
        Ok(())
    }
}

#[entry]
fn main() -> ! {
    uart::init(uart::RESET_PCLK_HZ);
    let model = cortex_m::singleton!(: Aligned<[u8; MODEL_BYTES]> = Aligned([0; MODEL_BYTES]));
    let arena = cortex_m::singleton!(: Aligned<[u8; ARENA_BYTES]> = Aligned([0; ARENA_BYTES]));
    let (Some(model), Some(arena)) = (model, arena) else {
        let _ = writeln!(Uart, "E buffers already taken");
        exit(false)
    };
    let count = option_env!("MOTE_SWEEP_CASES")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(SWEEP_CASES);
    for i in 0..count {
        let _ = match run(&case(i), &mut model.0, &mut arena.0) {
            Ok(h) => writeln!(Uart, "{i} {h:08x}"),
            Err(e) => writeln!(Uart, "{i} E {e}"),
        };
    }
    let _ = writeln!(Uart, "done {count}");
    exit(true)
}

/// Ends the run: QEMU (or a debugger) quits with status 0 / 1; without one, sleeps.
fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::wfi();
    }
}

/// A fault ends the run with status 1 instead of spinning until a timeout.
#[cortex_m_rt::exception]
unsafe fn HardFault(frame: &cortex_m_rt::ExceptionFrame) -> ! {
    let _ = writeln!(Uart, "E hard fault at pc {:#010x}", frame.pc());
    exit(false)
}
