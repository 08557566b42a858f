//! PDM microphone → 16 kHz int16 samples in a ring the main loop drains ([`read`]).
//!
//! DMA moves raw data in a circular buffer; its half- and full-transfer interrupt turns each
//! finished half into PCM (so a slow inference never loses audio until the 256 ms ring is full;
//! then [`overruns`] counts dropped samples):
//! - B-L475E-IOT01A / NUCLEO-L476RG: DFSDM1 does the decimation in hardware. 64 MHz ÷ 32 =
//!   2 MHz microphone clock on DFSDM1_CKOUT; sinc3 filter, oversampling 125 → 16 kHz; DMA1
//!   channel 4 (request DFSDM1_FLT0) moves 32-bit results (24-bit data in bits 31..8).
//!   B-L475E-IOT01A: on-board MP34DT01 (U20), CKOUT on PE9, data on PE7 = DFSDM1_DATIN2
//!   (board manual UM2153; ST's BSP uses channel 2, AF6). NUCLEO-L476RG: an external PDM
//!   microphone, CKOUT on PC2 (AF6), data on PB12 = DFSDM1_DATIN1 (AF6).
//! - NUCLEO-L432KC (no DFSDM on this chip): SPI1 as receive-only master clocks the microphone
//!   at 64 MHz ÷ 32 = 2 MHz on PA5 (SCK, AF5) and samples its data on PA6 (MISO, AF5); DMA1
//!   channel 2 (request SPI1_RX) moves 16-bit words, and a third-order CIC filter in software
//!   decimates the bit stream by 125 to 16 kHz.
//!
//! Both then remove DC (one-pole high-pass, ~10 Hz) and apply [`GAIN_BITS`] of gain with
//! saturation. Full scale: sinc3/CIC3 with ratio 125 gives ±125³ ≈ ±2^20.9, shifted right by 6
//! to ±30 517 before the gain.
//!
//! Verified: compiles for all three boards. NOT verified on hardware or in QEMU (which models
//! neither DFSDM nor this DMA path): the README says so.

use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use cortex_m::interrupt::Mutex;

use crate::board::pac;
use crate::board::pac::interrupt;

/// Digital gain after decimation, in bits (×16 = +24 dB): an MP34DT01 (−26 dBFS at 94 dB SPL)
/// puts conversational speech near −60 dBFS; the front end's PCAN normalises the rest.
pub const GAIN_BITS: u32 = 4;
/// PCM ring capacity in samples (256 ms at 16 kHz).
const RING: usize = 4096;

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
        let mut r = PCM.borrow(cs).borrow_mut();
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
        let mut r = PCM.borrow(cs).borrow_mut();
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

/// DC removal and gain: `x` is a decimator output (±125³), the result 16-bit PCM.
struct Condition {
    prev: i32,
    /// High-pass output × 2^8.
    acc: i32,
}

impl Condition {
    const fn new() -> Self {
        Condition { prev: 0, acc: 0 }
    }

    fn apply(&mut self, x: i32) -> i16 {
        let x = x >> 6;
        // y[n] = x[n] − x[n−1] + (1 − 2^−8)·y[n−1], kept scaled by 2^8.
        self.acc = self.acc - (self.acc >> 8) + ((x - self.prev) << 8);
        self.prev = x;
        let y = (self.acc >> 8).saturating_mul(1 << GAIN_BITS);
        y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }
}

static CONDITION: Mutex<RefCell<Condition>> = Mutex::new(RefCell::new(Condition::new()));

/// Reads word `i` of the DMA buffer while the DMA keeps writing the other half.
fn dma_word<T: Copy>(i: usize) -> T {
    let base = DMA_BUF.load(Ordering::Acquire) as *const T;
    // SAFETY: `base` is the start of the `'static` DMA buffer of `2 * HALF` elements of `T`
    // (set in `start` before the interrupt that calls this is enabled), and callers pass
    // `i < 2 * HALF`. The read is volatile because the DMA controller writes the buffer behind
    // the compiler's back; the half read here is the one the DMA has just finished.
    unsafe { core::ptr::read_volatile(base.add(i)) }
}

// ---------------------------------------------------------------- DFSDM (L475, L476)

#[cfg(any(mote_board = "b-l475e-iot01a", mote_board = "nucleo-l476rg"))]
mod imp {
    use super::*;

    /// PCM samples per DMA half (10 ms).
    pub const HALF: usize = 160;
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

        // Channel 0 holds the global settings: CKOUT = DFSDM clock (PCLK2, 64 MHz) ÷ 32.
        // SAFETY (bits): CKOUTDIV 31 (÷32) is in range 2..=255 (÷(n+1)).
        dfsdm
            .ch(0)
            .cfgr1()
            .modify(|_, w| unsafe { w.ckoutsrc().clear_bit().ckoutdiv().bits(31) });
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
        // SAFETY (bits): no shift, no offset.
        dfsdm
            .ch(CHANNEL)
            .cfgr2()
            .write(|w| unsafe { w.dtrbs().bits(0).offset().bits(0) });
        // Filter 0: sinc3 (FORD 3), oversampling 125 (FOSR 124), no integrator (IOSR 0).
        // SAFETY (bits): values within the field ranges (FOSR ≤ 1023, IOSR ≤ 255).
        dfsdm
            .flt(0)
            .fcr()
            .write(|w| unsafe { w.ford().bits(3).fosr().bits(124).iosr().bits(0) });
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
        let ch = dma.ch4();
        // SAFETY (bits): addresses of the peripheral register and of the static buffer;
        // the count fits NDT's 16 bits.
        ch.par().write(|w| unsafe { w.pa().bits(FLT0_RDATAR) });
        ch.mar()
            .write(|w| unsafe { w.ma().bits(DMA_BUF.load(Ordering::Relaxed) as u32) });
        ch.ndtr()
            .write(|w| unsafe { w.ndt().bits((2 * HALF) as u16) });
        // SAFETY (bits): PSIZE/MSIZE 0b10 = 32 bits, PL 0b10 = high.
        ch.cr().write(|w| unsafe {
            w.psize().bits(0b10);
            w.msize().bits(0b10);
            w.pl().bits(0b10);
            w.minc().set_bit();
            w.circ().set_bit();
            w.htie().set_bit();
            w.tcie().set_bit();
            w.en().set_bit()
        });
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
        // SAFETY: reading and clearing this channel's flags only.
        let dma = unsafe { pac::DMA1::steal() };
        let isr = dma.isr().read();
        let halves = [
            (isr.htif4().bit_is_set(), 0),
            (isr.tcif4().bit_is_set(), HALF),
        ];
        dma.ifcr()
            .write(|w| w.chtif4().set_bit().ctcif4().set_bit());
        for (done, start) in halves {
            if !done {
                continue;
            }
            cortex_m::interrupt::free(|cs| {
                let mut cond = CONDITION.borrow(cs).borrow_mut();
                // 24-bit signed result in bits 31..8 (channel number in 2..0).
                write((start..start + HALF).map(|i| cond.apply(dma_word::<u32>(i) as i32 >> 8)));
            });
        }
    }
}

// ---------------------------------------------------------------- SPI + CIC (L432)

#[cfg(mote_board = "nucleo-l432kc")]
mod imp {
    use super::*;

    /// 16-bit words per DMA half: 250 words = 4000 PDM bits = 32 PCM samples (2 ms).
    pub const HALF: usize = 250;
    /// SPI1 data register (base 0x4001_3000 + DR 0x0C).
    const SPI1_DR: u32 = 0x4001_300C;
    /// PDM bits per PCM sample.
    const DECIMATION: u32 = 125;

    /// Third-order CIC decimator state (wrapping arithmetic: the comb differences are exact
    /// as long as the true output fits in 32 bits, which ±125³ does).
    struct Cic {
        i1: i32,
        i2: i32,
        i3: i32,
        d1: i32,
        d2: i32,
        d3: i32,
        phase: u32,
    }

    static CIC: Mutex<RefCell<Cic>> = Mutex::new(RefCell::new(Cic {
        i1: 0,
        i2: 0,
        i3: 0,
        d1: 0,
        d2: 0,
        d3: 0,
        phase: 0,
    }));

    /// Pins, SPI, DMA, interrupt.
    pub fn start(rcc: &pac::RCC, spi: pac::SPI1, dma: pac::DMA1) -> Result<(), crate::Fail> {
        let buf = cortex_m::singleton!(: [u16; 2 * HALF] = [0; 2 * HALF])
            .ok_or(crate::Fail::Msg("microphone buffer already taken"))?;
        DMA_BUF.store(buf.as_mut_ptr() as usize, Ordering::Release);

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

        // 16-bit frames, RXNE at 16 bits, RX DMA.
        // SAFETY (bits): DS 0b1111 = 16 bits.
        spi.cr2().write(|w| {
            unsafe { w.ds().bits(0b1111) }
                .frxth()
                .clear_bit()
                .rxdmaen()
                .set_bit()
        });

        // DMA1 channel 2, request 1 (SPI1_RX): 16-bit → 16-bit, circular.
        // SAFETY (bits): request 1 is SPI1_RX on channel 2 (RM0394 table 41).
        dma.cselr().modify(|_, w| unsafe { w.c2s().bits(0b0001) });
        let ch = dma.ch2();
        // SAFETY (bits): register and buffer addresses; the count fits NDT's 16 bits.
        ch.par().write(|w| unsafe { w.pa().bits(SPI1_DR) });
        ch.mar()
            .write(|w| unsafe { w.ma().bits(DMA_BUF.load(Ordering::Relaxed) as u32) });
        ch.ndtr()
            .write(|w| unsafe { w.ndt().bits((2 * HALF) as u16) });
        // SAFETY (bits): PSIZE/MSIZE 0b01 = 16 bits, PL 0b10 = high.
        ch.cr().write(|w| unsafe {
            w.psize().bits(0b01);
            w.msize().bits(0b01);
            w.pl().bits(0b10);
            w.minc().set_bit();
            w.circ().set_bit();
            w.htie().set_bit();
            w.tcie().set_bit();
            w.en().set_bit()
        });
        // SAFETY: the handler below only touches the ring, the DMA flags and the buffer.
        unsafe { cortex_m::peripheral::NVIC::unmask(pac::Interrupt::DMA1_CH2) };

        // Master, receive only (the clock runs as soon as SPE is set), PCLK2 ÷ 32 = 2 MHz,
        // mode 0, software NSS held high.
        // SAFETY (bits): BR 0b100 = ÷32.
        spi.cr1().write(|w| unsafe {
            w.mstr().set_bit();
            w.rxonly().set_bit();
            w.br().bits(0b100);
            w.ssm().set_bit();
            w.ssi().set_bit();
            w.spe().set_bit()
        });
        Ok(())
    }

    #[interrupt]
    fn DMA1_CH2() {
        // SAFETY: reading and clearing this channel's flags only.
        let dma = unsafe { pac::DMA1::steal() };
        let isr = dma.isr().read();
        let halves = [
            (isr.htif2().bit_is_set(), 0),
            (isr.tcif2().bit_is_set(), HALF),
        ];
        dma.ifcr()
            .write(|w| w.chtif2().set_bit().ctcif2().set_bit());
        for (done, start) in halves {
            if !done {
                continue;
            }
            cortex_m::interrupt::free(|cs| {
                let mut cic = CIC.borrow(cs).borrow_mut();
                let mut cond = CONDITION.borrow(cs).borrow_mut();
                let mut out = [0i16; 33];
                let mut n = 0;
                for i in start..start + HALF {
                    let word: u16 = dma_word(i);
                    // MSB first: the first bit received is the oldest.
                    for b in (0..16).rev() {
                        let x = if word >> b & 1 != 0 { 1 } else { -1 };
                        cic.i1 = cic.i1.wrapping_add(x);
                        cic.i2 = cic.i2.wrapping_add(cic.i1);
                        cic.i3 = cic.i3.wrapping_add(cic.i2);
                        cic.phase += 1;
                        if cic.phase == DECIMATION {
                            cic.phase = 0;
                            let c1 = cic.i3.wrapping_sub(cic.d1);
                            cic.d1 = cic.i3;
                            let c2 = c1.wrapping_sub(cic.d2);
                            cic.d2 = c1;
                            let c3 = c2.wrapping_sub(cic.d3);
                            cic.d3 = c2;
                            if let Some(slot) = out.get_mut(n) {
                                *slot = cond.apply(c3);
                                n += 1;
                            }
                        }
                    }
                }
                write(out.iter().take(n).copied());
            });
        }
    }
}

pub use imp::start;
