//! PDM microphone → 16 kHz int16 samples in a ring the main loop drains ([`read`]).
//!
//! DMA moves raw data in a circular buffer; its half- and full-transfer interrupt turns each
//! finished half (2 ms) into 32 PCM samples with [`crate::pdm_block`] (so a slow inference never
//! loses audio until the 256 ms ring is full; then [`overruns`] counts dropped samples):
//! - B-L475E-IOT01A / NUCLEO-L476RG: DFSDM1 runs the first stage in hardware: 64 MHz ÷ 32 =
//!   2 MHz microphone clock on DFSDM1_CKOUT; Sinc3, oversampling 25 → 80 kHz; DMA1 channel 4
//!   (request DFSDM1_FLT0) moves 32-bit results (24-bit data in bits 31..8); the interrupt
//!   runs the engine's FIR ÷ 5 (`mote_engine::pdm::FirDecimator`).
//!   B-L475E-IOT01A: on-board MP34DT01 (U20), CKOUT on PE9, data on PE7 = DFSDM1_DATIN2
//!   (board manual UM2153; ST's BSP uses channel 2, AF6). NUCLEO-L476RG: an external PDM
//!   microphone, CKOUT on PC2 (AF6), data on PB12 = DFSDM1_DATIN1 (AF6).
//! - NUCLEO-L432KC (no DFSDM on this chip): SPI1 as receive-only master clocks the microphone
//!   at 64 MHz ÷ 32 = 2 MHz on PA5 (SCK, AF5) and samples its data on PA6 (MISO, AF5); DMA1
//!   channel 2 (request SPI1_RX) moves bytes (8-bit frames, MSB first = oldest bit), and the
//!   interrupt runs the engine's
//!   software decimator (`mote_engine::pdm::Decimator`: CIC3 ÷ 25 by byte lookup, FIR ÷ 5).
//!
//! Both paths compute the same samples from the same bits (`engine/tests/pdm.rs`); then DC
//! removal and [`crate::pdm_block::GAIN_BITS`] of gain. Register values (clock dividers, filter
//! fields) come from `mote_engine::pdm::regs` at compile time.
//!
//! Verified: compiles for all three boards; the decimation code runs in QEMU
//! (`scripts/pdm-bench.sh`, `scripts/pdm-device-check.sh`). NOT verified on hardware (QEMU
//! models neither DFSDM nor this DMA path): wiring, clock edge, SPI bit order and the DFSDM's
//! first samples after start need a board.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use cortex_m::interrupt::Mutex;

use crate::board::pac;
use crate::board::pac::interrupt;

/// PCM ring capacity in samples, sized by the exporter to the model's invoke time
/// (`mic_ring_samples` in `mote/build.json`: 1024-4096, 64-256 ms at 16 kHz).
const RING: usize = crate::build::MIC_RING_SAMPLES;

/// Decoded PCM waiting for the main loop.
struct Ring {
    buf: [i16; RING],
    /// Next write position.
    head: usize,
    /// Samples stored.
    len: usize,
}

static PCM: Mutex<RefCell<Ring>> = Mutex::new(RefCell::new(Ring {
    buf: [0; RING],
    head: 0,
    len: 0,
}));
static OVERRUNS: AtomicU32 = AtomicU32::new(0);
/// Address of the DMA buffer (set once in [`start`], before the interrupt is enabled).
static DMA_BUF: AtomicUsize = AtomicUsize::new(0);

/// Samples dropped because the ring was full (the main loop fell behind).
pub fn overruns() -> u32 {
    OVERRUNS.load(Ordering::Relaxed)
}

/// Moves up to `out.len()` samples out of the ring; returns how many.
pub fn read(out: &mut [i16]) -> usize {
    cortex_m::interrupt::free(|cs| {
        // Critical sections on one core never overlap: the borrow cannot fail (and `try_`
        // links no panic message).
        let Ok(mut r) = PCM.borrow(cs).try_borrow_mut() else {
            return 0;
        };
        let n = out.len().min(r.len);
        let start = (r.head + RING - r.len) % RING;
        for (k, dst) in out.iter_mut().take(n).enumerate() {
            *dst = r.buf.get((start + k) % RING).copied().unwrap_or(0);
        }
        r.len -= n;
        n
    })
}

/// Appends samples (interrupt context), counting what does not fit.
fn write(samples: impl Iterator<Item = i16>) {
    cortex_m::interrupt::free(|cs| {
        let Ok(mut r) = PCM.borrow(cs).try_borrow_mut() else {
            return; // cannot happen (see `read`)
        };
        for s in samples {
            if r.len == RING {
                OVERRUNS.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let head = r.head;
            if let Some(slot) = r.buf.get_mut(head) {
                *slot = s;
            }
            r.head = (head + 1) % RING;
            r.len += 1;
        }
    })
}

/// The DMA half starting at element `start` (0 or `HALF`), which the DMA has just finished
/// and will not write again for the next 2 ms, while it fills the other half.
///
/// # Safety
/// `start + half` must be within the `'static` DMA buffer of elements `T` whose address
/// [`start`] stored in `DMA_BUF` before enabling the interrupt that calls this; the caller
/// must finish reading before the DMA wraps around to this half (2 ms).
unsafe fn dma_half<T>(start: usize, half: usize) -> &'static [T] {
    // The DMA wrote this half behind the compiler's back: order the reads after the interrupt
    // flag read that announced it.
    core::sync::atomic::compiler_fence(Ordering::Acquire);
    let base = DMA_BUF.load(Ordering::Acquire) as *const T;
    // SAFETY: per this function's contract the range is inside the DMA buffer and is not
    // written while the returned slice is in use.
    unsafe { core::slice::from_raw_parts(base.add(start), half) }
}

/// Starts DMA1 channel `ch` (numbered from 1, as in the reference manuals; its request already
/// selected in CSELR): `2 * half` elements from the peripheral register at `par` into the DMA
/// buffer ([`DMA_BUF`]), circular, interrupts at half and full transfer. `size` is the
/// PSIZE/MSIZE code of both sides (0b00 = 8 bits, 0b10 = 32 bits).
fn start_dma(dma: &pac::DMA1, ch: u8, par: u32, half: usize, size: u8) {
    let ch = dma.ch(usize::from(ch - 1));
    // SAFETY (bits): register and buffer addresses; the count fits NDT's 16 bits.
    ch.par().write(|w| unsafe { w.pa().bits(par) });
    ch.mar()
        .write(|w| unsafe { w.ma().bits(DMA_BUF.load(Ordering::Relaxed) as u32) });
    ch.ndtr()
        .write(|w| unsafe { w.ndt().bits((2 * half) as u16) });
    // SAFETY (bits): PSIZE/MSIZE 0b00 or 0b10 (caller), PL 0b10 = high.
    ch.cr().write(|w| unsafe {
        w.psize().bits(size);
        w.msize().bits(size);
        w.pl().bits(0b10);
        w.minc().set_bit();
        w.circ().set_bit();
        w.htie().set_bit();
        w.tcie().set_bit();
        w.en().set_bit()
    });
}

/// The body of DMA1 channel `ch`'s interrupt (numbered from 1): clears its half- and
/// full-transfer flags, runs `decimate` on each half of elements `T` the DMA has finished
/// (`half` elements each) and appends the PCM samples it returns to the ring.
fn on_dma<T: 'static>(
    ch: u8,
    half: usize,
    mut decimate: impl FnMut(&[T], &mut [i16; crate::pdm_block::BLOCK_SAMPLES]) -> usize,
) {
    let n = ch - 1; // the PAC's field index
                    // SAFETY: reading and clearing this channel's flags only.
    let dma = unsafe { pac::DMA1::steal() };
    let isr = dma.isr().read();
    let halves = [
        (isr.htif(n).bit_is_set(), 0),
        (isr.tcif(n).bit_is_set(), half),
    ];
    dma.ifcr()
        .write(|w| w.chtif(n).set_bit().ctcif(n).set_bit());
    for (done, start) in halves {
        if !done {
            continue;
        }
        // SAFETY: start + half ≤ 2·half, the length of the buffer of `T` set in `start` (the
        // caller's `half` and `T` are those of that buffer); the DMA fills the other half for
        // the next 2 ms.
        let data = unsafe { dma_half::<T>(start, half) };
        let mut out = [0i16; crate::pdm_block::BLOCK_SAMPLES];
        let count = decimate(data, &mut out);
        write(out.iter().take(count).copied());
    }
}

// ---------------------------------------------------------------- DFSDM (L475, L476)

#[cfg(any(mote_board = "b-l475e-iot01a", mote_board = "nucleo-l476rg"))]
mod imp {
    use super::*;
    use crate::pdm_block::{DfsdmPath, DFSDM_WORDS, GAIN_BITS};
    use mote_engine::pdm::{regs, PDM_HZ};

    /// DFSDM results per DMA half (2 ms at 80 kHz).
    pub const HALF: usize = DFSDM_WORDS;
    /// CKOUTDIV for 2 MHz from the system clock (CKOUTSRC = 0).
    const CKOUTDIV: u8 = match regs::dfsdm_ckoutdiv(crate::board::SYSCLK_HZ, PDM_HZ) {
        Ok(v) => v,
        Err(_) => panic!("the system clock does not divide to the 2 MHz PDM clock"),
    };
    /// Sinc3 ÷ 25, IOSR 1, DTRBS 0 (±15 625 fits 16 bits), OFFSET 0.
    const FIELDS: regs::DfsdmFields = match regs::dfsdm_mote_config(PDM_HZ) {
        Ok(cfg) => match regs::dfsdm_fields(cfg) {
            Ok(f) => f,
            Err(_) => panic!("DFSDM fields out of range"),
        },
        Err(_) => panic!("no DFSDM filter configuration for this PDM clock"),
    };
    static PATH: Mutex<RefCell<DfsdmPath>> = Mutex::new(RefCell::new(DfsdmPath::new(GAIN_BITS)));
    /// DFSDM channel the microphone's data pin belongs to.
    #[cfg(mote_board = "b-l475e-iot01a")]
    const CHANNEL: usize = 2;
    #[cfg(mote_board = "nucleo-l476rg")]
    const CHANNEL: usize = 1;
    /// FLT0 regular data register (DFSDM1 base 0x4001_6000 + FLT0 0x100 + RDATAR 0x1C).
    const FLT0_RDATAR: u32 = 0x4001_611C;

    /// Pins, DFSDM, DMA, interrupt.
    pub fn start(rcc: &pac::RCC, dfsdm: pac::DFSDM, dma: pac::DMA1) -> Result<(), crate::Fail> {
        let buf = cortex_m::singleton!(: [u32; 2 * HALF] = [0; 2 * HALF])
            .ok_or(crate::Fail::Msg("microphone buffer already taken"))?;
        DMA_BUF.store(buf.as_mut_ptr() as usize, Ordering::Release);

        rcc.apb2enr().modify(|_, w| w.dfsdmen().set_bit());
        rcc.ahb1enr().modify(|_, w| w.dma1en().set_bit());
        pins(rcc);

        // Channel 0 holds the global settings: CKOUT = system clock (64 MHz) ÷ (CKOUTDIV + 1).
        // SAFETY (bits): regs::dfsdm_ckoutdiv returns 1..=255 (checked at compile time).
        dfsdm
            .ch(0)
            .cfgr1()
            .modify(|_, w| unsafe { w.ckoutsrc().clear_bit().ckoutdiv().bits(CKOUTDIV) });
        // Data channel: SPI, rising edge (SITP 00), clock from CKOUT (SPICKSEL 01), its own pins.
        // SAFETY (bits): 2-bit fields, documented values.
        dfsdm.ch(CHANNEL).cfgr1().modify(|_, w| unsafe {
            w.sitp().bits(0b00);
            w.spicksel().bits(0b01);
            w.datmpx().bits(0b00);
            w.datpack().bits(0b00);
            w.chinsel().clear_bit();
            w.chen().set_bit()
        });
        // Right shift and offset (0 and 0 for Sinc3 ÷ 25).
        // SAFETY (bits): regs::dfsdm_fields checked DTRBS ≤ 31 and OFFSET to 24 bits.
        dfsdm
            .ch(CHANNEL)
            .cfgr2()
            .write(|w| unsafe { w.dtrbs().bits(FIELDS.dtrbs).offset().bits(FIELDS.offset) });
        // Filter 0: Sinc3 (FORD 3), oversampling 25 (FOSR 24), no integrator (IOSR 0).
        // SAFETY (bits): regs::dfsdm_fields checked the ranges (FOSR ≤ 1023, IOSR ≤ 255).
        dfsdm.flt(0).fcr().write(|w| unsafe {
            w.ford()
                .bits(FIELDS.ford)
                .fosr()
                .bits(FIELDS.fosr)
                .iosr()
                .bits(FIELDS.iosr)
        });
        // Regular conversions of CHANNEL, continuous, fast mode, results by DMA.
        // SAFETY (bits): RCH is a channel number 0..=7.
        dfsdm.flt(0).cr1().write(|w| unsafe {
            w.rch().bits(CHANNEL as u8);
            w.rcont().set_bit();
            w.fast().set_bit();
            w.rdmaen().set_bit();
            w.dfen().set_bit()
        });

        // DMA1 channel 4, request 0 (DFSDM1_FLT0): 32-bit peripheral → 32-bit memory, circular.
        // SAFETY (bits): request 0 is DFSDM1_FLT0 on channel 4 (RM0351 table 41).
        dma.cselr().modify(|_, w| unsafe { w.c4s().bits(0) });
        start_dma(&dma, 4, FLT0_RDATAR, HALF, 0b10);
        // SAFETY: the handler below only touches the ring, the DMA flags and the buffer.
        unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::DMA1_CH4) };

        // Enable the interface, then start the regular conversions.
        dfsdm.ch(0).cfgr1().modify(|_, w| w.dfsdmen().set_bit());
        dfsdm.flt(0).cr1().modify(|_, w| w.rswstart().set_bit());
        Ok(())
    }

    #[cfg(mote_board = "b-l475e-iot01a")]
    fn pins(rcc: &pac::RCC) {
        rcc.ahb2enr().modify(|_, w| w.gpioeen().set_bit());
        let _ = rcc.ahb2enr().read();
        // SAFETY: GPIOE is used by nothing else in this firmware.
        let e = unsafe { pac::GPIOE::steal() };
        e.moder()
            .modify(|_, w| w.moder(7).alternate().moder(9).alternate());
        e.ospeedr().modify(|_, w| w.ospeedr(9).high_speed());
        // AF6 = DFSDM1 on PE7 (AFRL pin 7) and PE9 (AFRH index 1 = pin 9).
        e.afrl().modify(|_, w| w.afr(7).af6());
        e.afrh().modify(|_, w| w.afr(1).af6());
    }

    #[cfg(mote_board = "nucleo-l476rg")]
    fn pins(rcc: &pac::RCC) {
        rcc.ahb2enr()
            .modify(|_, w| w.gpioben().set_bit().gpiocen().set_bit());
        let _ = rcc.ahb2enr().read();
        // SAFETY: PC2 and PB12 are used by nothing else; read-modify-write of their bits only.
        let c = unsafe { pac::GPIOC::steal() };
        c.moder().modify(|_, w| w.moder(2).alternate());
        c.ospeedr().modify(|_, w| w.ospeedr(2).high_speed());
        c.afrl().modify(|_, w| w.afr(2).af6());
        // SAFETY: as above.
        let b = unsafe { pac::GPIOB::steal() };
        b.moder().modify(|_, w| w.moder(12).alternate());
        b.afrh().modify(|_, w| w.afr(4).af6());
    }

    #[interrupt]
    fn DMA1_CH4() {
        on_dma::<u32>(4, HALF, |words, out| {
            cortex_m::interrupt::free(|cs| {
                PATH.borrow(cs)
                    .try_borrow_mut()
                    .map_or(0, |mut p| p.block(words, out))
            })
        });
    }
}

// ---------------------------------------------------------------- SPI + software decimator (L432)

#[cfg(mote_board = "nucleo-l432kc")]
mod imp {
    use super::*;
    use crate::pdm_block::{SpiPath, GAIN_BITS, SPI_BYTES};
    use mote_engine::pdm::{regs, PDM_HZ};

    /// Bytes per DMA half: 500 bytes = 4000 PDM bits = 32 PCM samples (2 ms).
    pub const HALF: usize = SPI_BYTES;
    /// SPI1 data register (base 0x4001_3000 + DR 0x0C).
    const SPI1_DR: u32 = 0x4001_300C;
    /// SPI_CR1.BR: PCLK2 (= the system clock) ÷ 2^(BR+1) = 2 MHz.
    const BR: u8 = match regs::spi_br(crate::board::SYSCLK_HZ, PDM_HZ) {
        Ok(v) => v,
        Err(_) => panic!("PCLK2 does not divide to the 2 MHz PDM clock by a power of two"),
    };
    /// `None` until `start`: all-zero, so it lives in .bss. `SpiPath::new` has non-zero fields
    /// (the CIC's countdown, the FIR's position, the gain), which would put its 564 B in .data,
    /// i.e. in flash too (issue 9's 64 KiB).
    static PATH: Mutex<RefCell<Option<SpiPath>>> = Mutex::new(RefCell::new(None));

    /// Pins, SPI, DMA, interrupt.
    pub fn start(rcc: &pac::RCC, spi: pac::SPI1, dma: pac::DMA1) -> Result<(), crate::Fail> {
        let buf = cortex_m::singleton!(: [u8; 2 * HALF] = [0; 2 * HALF])
            .ok_or(crate::Fail::Msg("microphone buffer already taken"))?;
        DMA_BUF.store(buf.as_mut_ptr() as usize, Ordering::Release);
        cortex_m::interrupt::free(|cs| {
            if let Ok(mut p) = PATH.borrow(cs).try_borrow_mut() {
                *p = Some(SpiPath::new(GAIN_BITS));
            }
        });

        rcc.apb2enr().modify(|_, w| w.spi1en().set_bit());
        rcc.ahb1enr().modify(|_, w| w.dma1en().set_bit());
        rcc.ahb2enr().modify(|_, w| w.gpioaen().set_bit());
        let _ = rcc.ahb2enr().read();
        // SAFETY: PA5/PA6 are used by nothing else; PA2 (log UART) is set up read-modify-write.
        let a = unsafe { pac::GPIOA::steal() };
        a.moder()
            .modify(|_, w| w.moder(5).alternate().moder(6).alternate());
        a.ospeedr().modify(|_, w| w.ospeedr(5).high_speed());
        a.afrl().modify(|_, w| w.afr(5).af5().afr(6).af5());

        // 8-bit frames, RXNE at 8 bits (FRXTH = 1; the DMA then reads DR as a byte), RX DMA.
        // SAFETY (bits): DS 0b0111 = 8 bits.
        spi.cr2().write(|w| {
            unsafe { w.ds().bits(0b0111) }
                .frxth()
                .set_bit()
                .rxdmaen()
                .set_bit()
        });

        // DMA1 channel 2, request 1 (SPI1_RX): 8-bit → 8-bit, circular.
        // SAFETY (bits): request 1 is SPI1_RX on channel 2 (RM0394 table 41).
        dma.cselr().modify(|_, w| unsafe { w.c2s().bits(0b0001) });
        start_dma(&dma, 2, SPI1_DR, HALF, 0b00);
        // SAFETY: the handler below only touches the ring, the DMA flags and the buffer.
        unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::DMA1_CH2) };

        // Master, receive only (the clock runs as soon as SPE is set), PCLK2 ÷ 32 = 2 MHz,
        // mode 0 (data sampled on the rising edge), MSB first, software NSS held high.
        // SAFETY (bits): BR is 0..=7 (regs::spi_br, checked at compile time).
        spi.cr1().write(|w| unsafe {
            w.mstr().set_bit();
            w.rxonly().set_bit();
            w.br().bits(BR);
            w.ssm().set_bit();
            w.ssi().set_bit();
            w.spe().set_bit()
        });
        Ok(())
    }

    #[interrupt]
    fn DMA1_CH2() {
        on_dma::<u8>(2, HALF, |bytes, out| {
            cortex_m::interrupt::free(|cs| {
                PATH.borrow(cs)
                    .try_borrow_mut()
                    .ok()
                    .and_then(|mut p| p.as_mut().map(|p| p.block(bytes, out)))
                    .unwrap_or(0)
            })
        });
    }
}

pub use imp::start;
