//! Replay mode: the pipeline over `mote/replay.pcm` (16 kHz mono int16 from flash) in 10 ms
//! chunks, as a microphone would deliver them. Every output is printed as the JSON Lines of
//! `mote detect --json` (the engine's `write_json_line`, the same labels), on the log UART and
//! semihosting stdout — nothing else goes there, so the two can be compared byte for byte. A
//! summary goes to semihosting stderr.
//!
//! Each `push` runs between `cost_start` and `cost_stop`, so an instruction counter sees the
//! whole pipeline (front end, model, detector) per chunk; the JSON text is formatted into a
//! buffer inside the region and sent after it.

use mote_engine::pipeline::{write_json_line, Output};

use crate::log::{self, Buf};
use crate::{build, config, cost_start, cost_stop, Fail};

/// Samples per push: 10 ms at 16 kHz.
const CHUNK: usize = 160;

/// What free stack is painted with before the run: the stack's high-water mark is where the
/// paint ends.
const PAINT: u32 = 0xA5A5_5A5A;

extern "C" {
    /// First free RAM byte after .bss/.data (cortex-m-rt's link.x).
    static __sheap: u32;
    /// Initial stack pointer: the top of the stack region (cortex-m-rt's link.x; flip-link
    /// moves it below the statics).
    static _stack_start: u32;
}

/// Start of RAM on every STM32L4 (memory.x).
const RAM_ORIGIN: usize = 0x2000_0000;

/// The deepest address the stack can reach without meeting statics: the paint starts here.
/// Linked by flip-link, the stack sits below the statics (from the start of RAM up to
/// `_stack_start`); otherwise above them (from `__sheap` up).
fn paint_floor() -> usize {
    // Only the symbols' addresses are taken, never their values.
    let heap = core::ptr::addr_of!(__sheap) as usize;
    let top = core::ptr::addr_of!(_stack_start) as usize;
    if top < heap {
        RAM_ORIGIN
    } else {
        heap.next_multiple_of(4)
    }
}

/// Fills the free stack below the current frame with [`PAINT`]; returns the lowest painted
/// address.
#[inline(never)]
fn paint_stack() -> usize {
    let sp = cortex_m::register::msp::read() as usize;
    let floor = paint_floor();
    let mut a = floor;
    // Stay 256 bytes below the live frame (this function's own locals).
    while a + 256 < sp {
        // SAFETY: `a` is word-aligned and lies between the end of the statics (`__sheap`) and
        // 256 bytes below the current stack pointer: free stack memory nothing references yet.
        unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
        a += 4;
    }
    floor
}

/// Bytes of stack used so far below `top` (the stack's start): the first word from `floor` (as
/// painted) up that no longer holds the paint.
fn stack_used(floor: usize, top: usize) -> usize {
    let mut a = floor;
    // SAFETY: as in `paint_stack`: aligned addresses in free RAM, read only.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    top.saturating_sub(a)
}

/// Runs the replay.
pub fn run() -> Result<(), Fail> {
    let floor = paint_stack();
    let pipeline = crate::pipeline()?;

    // At most one invocation and one detection per 10 ms chunk; a line is < 40 bytes plus
    // ~5 per score.
    let mut text: Buf<2048> = Buf::new();
    let (mut invocations, mut detections) = (0u32, 0u32);
    let mut samples = [0i16; CHUNK];
    for bytes in build::REPLAY.chunks(2 * CHUNK) {
        let mut n = 0;
        for (dst, b) in samples.iter_mut().zip(bytes.chunks_exact(2)) {
            *dst = i16::from_le_bytes([b[0], b[1]]);
            n += 1;
        }
        text.clear();
        cost_start();
        let r = pipeline.push(&samples[..n], |out| {
            match out {
                Output::Invocation { .. } => invocations += 1,
                Output::Detection { .. } => detections += 1,
            }
            let _ = write_json_line(&mut text, &out, config::LABELS);
        });
        cost_stop();
        r?;
        if text.overflow {
            return Err(Fail::Msg("replay: output line buffer overflow"));
        }
        log::write_all(text.bytes());
    }
    // Only the symbol's address is taken.
    let top = core::ptr::addr_of!(_stack_start) as usize;
    log::note(format_args!(
        "{{\"event\":\"replay_done\",\"samples\":{},\"invocations\":{invocations},\"detections\":{detections},\"stack_bytes\":{}}}",
        build::REPLAY.len() / 2,
        stack_used(floor, top)
    ));
    Ok(())
}
