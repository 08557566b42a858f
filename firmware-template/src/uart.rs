//! Transmit-only log UART, driven at register level (no HAL): the board's ST-LINK virtual COM
//! port at 115200 8N1 from the 4 MHz reset clock (MSI).
//!
//! Buffered: [`write_bytes`] copies into a ring and returns; the USART's TXE interrupt sends
//! the bytes while the core computes (at 115200 baud a 60-byte JSON line is ~5 ms, which a
//! blocking write would spend spinning). Only a full ring makes a writer wait; [`flush`]
//! waits for the ring to drain (before exiting, or printing a fault).
//!
//! QEMU's STM32L4 USART faults on byte-wide writes to TDR, so every register access here is a
//! 32-bit word. Register offsets are from RM0351 (STM32L47x/L48x) and RM0394 (STM32L43x).

// Each board uses only some of the registers below.
#![allow(dead_code)]

const RCC: usize = 0x4002_1000;
const RCC_AHB2ENR: usize = RCC + 0x4C;
const RCC_APB1ENR1: usize = RCC + 0x58;
const RCC_APB2ENR: usize = RCC + 0x60;

const GPIOA: usize = 0x4800_0000;
const GPIOB: usize = 0x4800_0400;
const GPIO_MODER: usize = 0x00;
const GPIO_AFRL: usize = 0x20;

const USART1: usize = 0x4001_3800;
const USART2: usize = 0x4000_4400;
const USART_CR1: usize = 0x00;
const USART_BRR: usize = 0x0C;
const USART_ISR: usize = 0x1C;
const USART_TDR: usize = 0x28;
const CR1_UE: u32 = 1 << 0;
const CR1_TE: u32 = 1 << 3;
const CR1_TXEIE: u32 = 1 << 7;
const ISR_TXE: u32 = 1 << 7;
const ISR_TC: u32 = 1 << 6;

/// Kernel clock of the USART after reset: MSI at 4 MHz (replay and bench keep it; mic mode
/// raises the clock first and passes its frequency to [`init`]).
pub const RESET_PCLK_HZ: u32 = 4_000_000;
const BAUD: u32 = 115_200;

/// Wiring of the log UART on one board: clocks to enable, TX pin and its alternate function.
struct Wiring {
    usart: usize,
    /// (register, bit) enabling the USART's clock.
    usart_clock: (usize, u32),
    /// GPIO port base and AHB2ENR bit of that port.
    port: usize,
    port_clock_bit: u32,
    /// TX pin number (0..=7, so it is configured through AFRL).
    tx_pin: u32,
    tx_af: u32,
}

/// B-L475E-IOT01A: USART1 TX on PB6 (AF7) is the ST-LINK VCP; QEMU's `b-l475e-iot01a` maps
/// USART1 to its first `-serial`.
#[cfg(mote_board = "b-l475e-iot01a")]
const WIRING: Wiring = Wiring {
    usart: USART1,
    usart_clock: (RCC_APB2ENR, 1 << 14),
    port: GPIOB,
    port_clock_bit: 1 << 1,
    tx_pin: 6,
    tx_af: 7,
};

/// NUCLEO-L476RG / NUCLEO-L432KC: USART2 TX on PA2 (AF7) is the ST-LINK VCP.
#[cfg(any(mote_board = "nucleo-l476rg", mote_board = "nucleo-l432kc"))]
const WIRING: Wiring = Wiring {
    usart: USART2,
    usart_clock: (RCC_APB1ENR1, 1 << 17),
    port: GPIOA,
    port_clock_bit: 1 << 0,
    tx_pin: 2,
    tx_af: 7,
};

fn read(addr: usize) -> u32 {
    // SAFETY: `addr` is always one of the STM32L4 peripheral registers defined above: word
    // aligned, always mapped, and reading it has no side effect.
    unsafe { core::ptr::read_volatile(addr as *const u32) }
}

fn write(addr: usize, value: u32) {
    // SAFETY: as in `read`; the values written only configure clocks, the TX pin and the USART,
    // none of which the rest of the firmware (or Rust's memory model) relies on.
    unsafe { core::ptr::write_volatile(addr as *mut u32, value) }
}

fn modify(addr: usize, clear: u32, set: u32) {
    write(addr, (read(addr) & !clear) | set);
}

/// Enables the port and USART clocks, routes the TX pin, and starts the transmitter at 115200
/// baud from a `pclk_hz` kernel clock.
pub fn init(pclk_hz: u32) {
    let w = &WIRING;
    modify(RCC_AHB2ENR, 0, w.port_clock_bit);
    modify(w.usart_clock.0, 0, w.usart_clock.1);
    // Read back once: the clock enable takes effect after a dummy read (RM0351 §6.2.17).
    let _ = read(w.usart_clock.0);
    let shift2 = w.tx_pin * 2;
    modify(w.port + GPIO_MODER, 0b11 << shift2, 0b10 << shift2); // alternate function mode
    let shift4 = w.tx_pin * 4;
    modify(w.port + GPIO_AFRL, 0xF << shift4, w.tx_af << shift4);
    write(w.usart + USART_CR1, 0); // 8N1, oversampling by 16, disabled while configuring
    write(w.usart + USART_BRR, (pclk_hz + BAUD / 2) / BAUD);
    write(w.usart + USART_CR1, CR1_TE | CR1_UE);
}

#[cfg(mote_board = "nucleo-l432kc")]
use stm32l4::stm32l4x2 as pac;
/// The board's PAC (for the USART's interrupt number and handler).
#[cfg(mote_board = "b-l475e-iot01a")]
use stm32l4::stm32l4x5 as pac;
#[cfg(mote_board = "nucleo-l476rg")]
use stm32l4::stm32l4x6 as pac;

use core::cell::RefCell;
use cortex_m::interrupt::{free, Mutex};
use pac::interrupt;

/// Bytes the transmit ring holds (a few JSON lines; `write_bytes` waits for room when a
/// longer burst comes: 512 bytes are 44 ms at 115200 baud).
const RING: usize = 512;

/// Bytes waiting for the TXE interrupt: `len` of them from `head` (wrapping).
struct Ring {
    buf: [u8; RING],
    head: usize,
    len: usize,
}

static TX: Mutex<RefCell<Ring>> = Mutex::new(RefCell::new(Ring {
    buf: [0; RING],
    head: 0,
    len: 0,
}));

#[cfg(mote_board = "b-l475e-iot01a")]
const IRQ: pac::Interrupt = pac::Interrupt::USART1;
#[cfg(any(mote_board = "nucleo-l476rg", mote_board = "nucleo-l432kc"))]
const IRQ: pac::Interrupt = pac::Interrupt::USART2;

/// Sends the next queued byte, or turns the TXE interrupt off when none is left.
fn on_txe() {
    let usart = WIRING.usart;
    free(|cs| {
        // Critical sections on one core never overlap: the borrow cannot fail (and `try_`
        // links no panic message).
        let Ok(mut ring) = TX.borrow(cs).try_borrow_mut() else {
            return;
        };
        if ring.len > 0 && read(usart + USART_ISR) & ISR_TXE != 0 {
            let b = ring.buf.get(ring.head).copied().unwrap_or(0);
            ring.head = (ring.head + 1) % RING;
            ring.len -= 1;
            write(usart + USART_TDR, u32::from(b));
        }
        if ring.len == 0 {
            modify(usart + USART_CR1, CR1_TXEIE, 0);
        }
    });
}

#[cfg(mote_board = "b-l475e-iot01a")]
#[interrupt]
fn USART1() {
    on_txe();
}

#[cfg(any(mote_board = "nucleo-l476rg", mote_board = "nucleo-l432kc"))]
#[interrupt]
fn USART2() {
    on_txe();
}

/// Queues bytes for the TXE interrupt and returns; waits only while the ring is full
/// (bounded, so a wedged UART cannot hang the firmware: the rest is then dropped).
pub fn write_bytes(bytes: &[u8]) {
    let usart = WIRING.usart;
    // SAFETY: the handler only touches the ring (inside critical sections) and the USART.
    unsafe { cortex_m::peripheral::NVIC::unmask(IRQ) };
    let mut rest = bytes;
    let mut spins = 0u32;
    while !rest.is_empty() && spins < 10_000_000 {
        let taken = free(|cs| {
            let Ok(mut ring) = TX.borrow(cs).try_borrow_mut() else {
                return 0; // cannot happen (see `on_txe`)
            };
            let mut n = 0;
            for &b in rest {
                if ring.len == RING {
                    break;
                }
                let at = (ring.head + ring.len) % RING;
                if let Some(slot) = ring.buf.get_mut(at) {
                    *slot = b;
                }
                ring.len += 1;
                n += 1;
            }
            if ring.len > 0 {
                modify(usart + USART_CR1, 0, CR1_TXEIE);
            }
            n
        });
        rest = rest.get(taken..).unwrap_or(&[]);
        if taken == 0 {
            // Full: send a byte from here too (also where the interrupt cannot run, e.g. in
            // the fault handler).
            on_txe();
            spins += 1;
        }
    }
}

/// Waits until every queued byte has left the USART (bounded).
pub fn flush() {
    let usart = WIRING.usart;
    let mut spins = 0u32;
    while spins < 10_000_000 {
        on_txe(); // progress even where the interrupt cannot run
        let empty = free(|cs| TX.borrow(cs).try_borrow().map_or(true, |r| r.len == 0));
        if empty && read(usart + USART_ISR) & ISR_TC != 0 {
            break;
        }
        spins += 1;
    }
}
