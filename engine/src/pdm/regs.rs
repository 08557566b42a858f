//! Register values of the microphone path, computed from each board's clock tree (`const fn`,
//! so the firmware evaluates them at compile time and a clock change that breaks the 2 MHz /
//! 16 kHz chain fails the build instead of mis-sampling).
//!
//! Clock trees (firmware-template `board.rs`): every board runs SYSCLK = HCLK = PCLK1 = PCLK2 =
//! 64 MHz from MSI 4 MHz × 32 ÷ 2 (PLL). 64 MHz divides to exactly 2 MHz; 80 MHz (the chips'
//! maximum) would give 2.5 MHz through SPI's power-of-two prescaler, not a whole number of PDM
//! bits per 16 kHz sample.

use super::{ConfigError, DfsdmConfig, BITS_PER_SAMPLE, CIC_ORDER, CIC_RATIO, PCM_HZ, PDM_HZ};

/// System clock of every board's microphone firmware, in Hz.
pub const SYSCLK_HZ: u32 = 64_000_000;

/// DFSDM_CH0CFGR1.CKOUTDIV for a microphone clock `ckout_hz` from the DFSDM's output-clock
/// source `clk_hz` (CKOUTSRC = 0: the system clock): `CKOUT = clk / (CKOUTDIV + 1)`, with
/// CKOUTDIV 1..=255 (0 disables CKOUT). RM0351 §"DFSDM channel y configuration register
/// (DFSDM_CHyCFGR1)", field CKOUTDIV; the division must be exact.
pub const fn dfsdm_ckoutdiv(clk_hz: u32, ckout_hz: u32) -> Result<u8, ConfigError> {
    if ckout_hz == 0 || !clk_hz.is_multiple_of(ckout_hz) {
        return Err(ConfigError::NotExact(clk_hz));
    }
    let div = clk_hz / ckout_hz;
    if div < 2 || div > 256 {
        return Err(ConfigError::OutOfRange("CKOUTDIV"));
    }
    Ok((div - 1) as u8)
}

/// SPI_CR1.BR for a serial clock `sck_hz` from `pclk_hz` (SPI1 is on APB2):
/// `f_SCK = f_PCLK / 2^(BR + 1)`, BR 0..=7 (÷2..÷256). RM0394 (STM32L43x) §"SPI control
/// register 1 (SPIx_CR1)", field `BR[2:0]`; the division must be exact.
pub const fn spi_br(pclk_hz: u32, sck_hz: u32) -> Result<u8, ConfigError> {
    let mut br = 0u32;
    while br < 8 {
        if (sck_hz as u64) << (br + 1) == pclk_hz as u64 {
            return Ok(br as u8);
        }
        br += 1;
    }
    Err(ConfigError::NotExact(pclk_hz))
}

/// The DFSDM filter fields as register encodings (RM0351 §"DFSDM filter x control register"
/// DFSDM_FLTxFCR and §"DFSDM channel y configuration register 2" DFSDM_CHyCFGR2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DfsdmFields {
    /// `FORD[2:0]`: sinc order (1..=5; 0 would be FastSinc).
    pub ford: u8,
    /// `FOSR[9:0]`: oversampling ratio − 1.
    pub fosr: u16,
    /// `IOSR[7:0]`: integrator ratio − 1.
    pub iosr: u8,
    /// `DTRBS[4:0]`: right shift.
    pub dtrbs: u8,
    /// `OFFSET[23:0]` (two's complement).
    pub offset: u32,
}

/// Encodes a checked [`DfsdmConfig`].
pub const fn dfsdm_fields(cfg: DfsdmConfig) -> Result<DfsdmFields, ConfigError> {
    if let Err(e) = cfg.check() {
        return Err(e);
    }
    Ok(DfsdmFields {
        ford: cfg.order,
        fosr: cfg.fosr - 1,
        iosr: (cfg.iosr - 1) as u8,
        dtrbs: cfg.right_shift,
        offset: (cfg.offset as u32) & 0x00FF_FFFF,
    })
}

/// The smallest right shift that brings a Sinc`order` ÷ `fosr` × `iosr` result (full scale
/// `±fosr^order · iosr`) within `±(2^(bits−1) − 1)`, `bits` ≤ 24 (the DFSDM's output width).
pub const fn dfsdm_shift_for(
    order: u8,
    fosr: u32,
    iosr: u32,
    bits: u32,
) -> Result<u8, ConfigError> {
    if bits < 2 || bits > 24 {
        return Err(ConfigError::OutOfRange("output bits"));
    }
    let peak = super::dfsdm::peak(order, fosr, iosr);
    if peak > 1 << 31 {
        return Err(ConfigError::Overflow);
    }
    let limit = (1u64 << (bits - 1)) - 1;
    let mut s = 0u32;
    // Rounded shift: (peak + 2^(s−1)) >> s.
    while s < 32 {
        let r = if s == 0 {
            peak
        } else {
            (peak + (1 << (s - 1))) >> s
        };
        if r <= limit {
            return Ok(s as u8);
        }
        s += 1;
    }
    Err(ConfigError::OutOfRange("DTRBS"))
}

/// The DFSDM filter configuration of the B-L475E-IOT01A / NUCLEO-L476RG path for the PDM
/// clock `pdm_hz`: Sinc3 with FOSR = `pdm_hz / (16 kHz · 5)`, IOSR 1, shift to 16 bits, no
/// offset (the FIR ÷ 5 expects CIC3 ÷ 25 values, ±15 625).
pub const fn dfsdm_mote_config(pdm_hz: u32) -> Result<DfsdmConfig, ConfigError> {
    let per_fir_input = PCM_HZ * super::FIR_RATIO;
    if !pdm_hz.is_multiple_of(per_fir_input) {
        return Err(ConfigError::NotExact(pdm_hz));
    }
    let fosr = pdm_hz / per_fir_input;
    if fosr != CIC_RATIO {
        // The FIR's taps compensate a Sinc3 ÷ 25 droop only.
        return Err(ConfigError::OutOfRange("FOSR"));
    }
    let dtrbs = match dfsdm_shift_for(CIC_ORDER, fosr, 1, 16) {
        Ok(s) => s,
        Err(e) => return Err(e),
    };
    let cfg = DfsdmConfig {
        order: CIC_ORDER,
        fosr: fosr as u16,
        iosr: 1,
        right_shift: dtrbs,
        offset: 0,
    };
    match cfg.check() {
        Ok(()) => Ok(cfg),
        Err(e) => Err(e),
    }
}

/// SPI bytes (8-bit frames, SPI_CR2.DS = 0111) per DMA half-buffer for `ms` milliseconds of
/// PDM at `pdm_hz` (the software path's interrupt period); requires whole bytes and whole PCM
/// samples.
pub const fn spi_bytes_per_block(pdm_hz: u32, ms: u32) -> Result<usize, ConfigError> {
    let bits = pdm_hz as u64 * ms as u64 / 1000;
    if bits * 1000 != pdm_hz as u64 * ms as u64
        || !bits.is_multiple_of(8)
        || !bits.is_multiple_of(BITS_PER_SAMPLE as u64)
    {
        return Err(ConfigError::NotExact(pdm_hz));
    }
    Ok((bits / 8) as usize)
}

const _: () = assert!(PDM_HZ == 2_000_000);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dfsdm_clock_divider_per_board() {
        // B-L475E-IOT01A and NUCLEO-L476RG: 64 MHz / (31 + 1) = 2 MHz.
        assert_eq!(dfsdm_ckoutdiv(SYSCLK_HZ, PDM_HZ), Ok(31));
        // At 80 MHz: / (39 + 1).
        assert_eq!(dfsdm_ckoutdiv(80_000_000, PDM_HZ), Ok(39));
        assert_eq!(
            dfsdm_ckoutdiv(64_000_000, 3_000_000),
            Err(ConfigError::NotExact(64_000_000))
        );
        assert_eq!(
            dfsdm_ckoutdiv(80_000_000, 200_000),
            Err(ConfigError::OutOfRange("CKOUTDIV"))
        );
        assert_eq!(
            dfsdm_ckoutdiv(2_000_000, 2_000_000),
            Err(ConfigError::OutOfRange("CKOUTDIV"))
        );
    }

    #[test]
    fn spi_prescaler_per_board() {
        // NUCLEO-L432KC: PCLK2 64 MHz / 2^(4+1) = 2 MHz → BR = 0b100 (the old constant).
        assert_eq!(spi_br(SYSCLK_HZ, PDM_HZ), Ok(0b100));
        assert_eq!(spi_br(64_000_000, 32_000_000), Ok(0));
        assert_eq!(spi_br(64_000_000, 250_000), Ok(7));
        // 80 MHz has no power-of-two division to 2 MHz.
        assert_eq!(
            spi_br(80_000_000, PDM_HZ),
            Err(ConfigError::NotExact(80_000_000))
        );
    }

    #[test]
    fn dfsdm_filter_fields() {
        let cfg = dfsdm_mote_config(PDM_HZ).unwrap();
        assert_eq!(cfg, DfsdmConfig::MOTE);
        let f = dfsdm_fields(cfg).unwrap();
        // Sinc3 (FORD 3), FOSR register 24 (÷25), IOSR register 0 (÷1), 25³ = 15 625 fits 16
        // bits unshifted.
        assert_eq!(
            f,
            DfsdmFields {
                ford: 3,
                fosr: 24,
                iosr: 0,
                dtrbs: 0,
                offset: 0
            }
        );
        // The old Sinc3 ÷ 125: 1 953 125 needs a shift of 6 for 16 bits (30 518).
        assert_eq!(dfsdm_shift_for(3, 125, 1, 16), Ok(6));
        // Sinc5 ÷ 64: 2^30 → within 2^23 − 1 needs 8 (a shift of 7 gives exactly 2^23).
        assert_eq!(dfsdm_shift_for(5, 64, 1, 24), Ok(8));
        assert_eq!(dfsdm_shift_for(5, 1024, 1, 24), Err(ConfigError::Overflow));
        let neg = DfsdmConfig { offset: -1, ..cfg };
        assert_eq!(dfsdm_fields(neg).unwrap().offset, 0x00FF_FFFF);
        assert_eq!(
            dfsdm_mote_config(2_400_000),
            Err(ConfigError::OutOfRange("FOSR"))
        );
        assert_eq!(
            dfsdm_mote_config(1_000_001),
            Err(ConfigError::NotExact(1_000_001))
        );
    }

    #[test]
    fn spi_block_of_two_ms() {
        // 2 ms at 2 MHz = 4000 bits = 500 bytes = 32 PCM samples.
        assert_eq!(spi_bytes_per_block(PDM_HZ, 2), Ok(500));
        assert_eq!(spi_bytes_per_block(PDM_HZ, 1), Ok(250));
        // 2.000004 MHz for 1 ms: not a whole number of bits.
        assert_eq!(
            spi_bytes_per_block(2_000_004, 1),
            Err(ConfigError::NotExact(2_000_004))
        );
        // 1.5 MHz for 1 ms: 1500 bits, not whole PCM samples of 125 bits.
        assert_eq!(
            spi_bytes_per_block(1_500_000, 1),
            Err(ConfigError::NotExact(1_500_000))
        );
    }
}
