//! Stack high-water mark: paint the free stack before a run, find where the paint ends after it
//! (replay and bench modes report `stack_bytes`; the exporter's and `build.rs`'s stack reserves
//! come from these measurements).

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
pub fn paint_stack() -> usize {
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
pub fn stack_used(floor: usize, top: usize) -> usize {
    let mut a = floor;
    // SAFETY: as in `paint_stack`: aligned addresses in free RAM, read only.
    while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
        a += 4;
    }
    top.saturating_sub(a)
}

/// The stack's start (its highest address).
pub fn stack_top() -> usize {
    // Only the symbol's address is taken.
    core::ptr::addr_of!(_stack_start) as usize
}
