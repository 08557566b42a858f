//! Mic mode's board support, register level through the `stm32l4` PAC: the 64 MHz system
//! clock, the detection LED, and the chip module for this board.
//!
//! Verified: compiles for all three boards. Not verified on hardware here (QEMU does not model
//! the PLL lock timing, DFSDM or DMA); register settings are from RM0351 (STM32L47x/L48x) and
//! RM0394 (STM32L43x).

#[cfg(mote_board = "nucleo-l432kc")]
pub use stm32l4::stm32l4x2 as pac;
#[cfg(mote_board = "b-l475e-iot01a")]
pub use stm32l4::stm32l4x5 as pac;
#[cfg(mote_board = "nucleo-l476rg")]
pub use stm32l4::stm32l4x6 as pac;

/// System clock after [`clock_64mhz`]: AHB, APB1 and APB2 all run at it.
pub const SYSCLK_HZ: u32 = 64_000_000;
// The microphone's register values (mote_engine::pdm::regs, unit-tested there) assume this
// clock tree.
const _: () = assert!(SYSCLK_HZ == mote_engine::pdm::regs::SYSCLK_HZ);

/// 64 MHz from the 4 MHz MSI through the main PLL: VCO = 4 MHz × 32 = 128 MHz, ÷2 (PLLR).
/// 64 MHz divides exactly to a 2 MHz PDM clock (÷32) that decimates by 125 to 16 kHz.
pub fn clock_64mhz(rcc: &pac::RCC, flash: &pac::FLASH) {
    // Range 1 (the reset default) at 64 MHz needs 3 flash wait states (RM0351 table 12).
    // SAFETY (bits): 3 is a valid LATENCY value.
    flash
        .acr()
        .modify(|_, w| unsafe { w.latency().bits(3) }.prften().set_bit());
    while flash.acr().read().latency().bits() != 3 {}
    // PLL source MSI (0b01), M = 1 (0), N = 32, R = 2 (0b00), R output enabled.
    // SAFETY (bits): every value is within its field's documented range.
    rcc.pllcfgr().modify(|_, w| unsafe {
        w.pllsrc().bits(0b01);
        w.pllm().bits(0);
        w.plln().bits(32);
        w.pllr().bits(0b00);
        w.pllren().set_bit()
    });
    rcc.cr().modify(|_, w| w.pllon().set_bit());
    while rcc.cr().read().pllrdy().bit_is_clear() {}
    // SAFETY (bits): 0b11 selects the PLL as system clock.
    rcc.cfgr().modify(|_, w| unsafe { w.sw().bits(0b11) });
    while rcc.cfgr().read().sws().bits() != 0b11 {}
}

/// The detection LED: B-L475E-IOT01A LD2 on PB14, NUCLEO-L476RG LD2 on PA5, NUCLEO-L432KC LD3
/// on PB3 (all active high).
pub struct Led;

#[cfg(mote_board = "b-l475e-iot01a")]
const LED_PIN: u8 = 14;
#[cfg(mote_board = "nucleo-l476rg")]
const LED_PIN: u8 = 5;
#[cfg(mote_board = "nucleo-l432kc")]
const LED_PIN: u8 = 3;

impl Led {
    /// Configures the pin as a push-pull output, off.
    pub fn init(rcc: &pac::RCC) -> Led {
        #[cfg(any(mote_board = "b-l475e-iot01a", mote_board = "nucleo-l432kc"))]
        {
            rcc.ahb2enr().modify(|_, w| w.gpioben().set_bit());
            let _ = rcc.ahb2enr().read();
            // SAFETY: GPIOB is only touched here (LED) and by the microphone setup, which
            // uses other pins; registers are modified read-modify-write, one pin's bits each.
            let gpio = unsafe { pac::GPIOB::steal() };
            gpio.moder().modify(|_, w| w.moder(LED_PIN).output());
        }
        #[cfg(mote_board = "nucleo-l476rg")]
        {
            rcc.ahb2enr().modify(|_, w| w.gpioaen().set_bit());
            let _ = rcc.ahb2enr().read();
            // SAFETY: as above (GPIOA: the LED pin; the log UART's PA2 is set up by uart.rs
            // read-modify-write).
            let gpio = unsafe { pac::GPIOA::steal() };
            gpio.moder().modify(|_, w| w.moder(LED_PIN).output());
        }
        let led = Led;
        led.set(false);
        led
    }

    /// Turns the LED on or off (BSRR: atomic, no read-modify-write).
    pub fn set(&self, on: bool) {
        let bit = if on {
            1u32 << LED_PIN
        } else {
            1u32 << (LED_PIN + 16)
        };
        #[cfg(any(mote_board = "b-l475e-iot01a", mote_board = "nucleo-l432kc"))]
        // SAFETY: BSRR writes only change the pins whose bits are set: the LED pin.
        let gpio = unsafe { pac::GPIOB::steal() };
        #[cfg(mote_board = "nucleo-l476rg")]
        // SAFETY: as above.
        let gpio = unsafe { pac::GPIOA::steal() };
        // SAFETY (bits): any BSRR value is valid.
        gpio.bsrr().write(|w| unsafe { w.bits(bit) });
    }
}
