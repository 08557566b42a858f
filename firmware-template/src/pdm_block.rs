//! The microphone interrupt's work on one DMA half-buffer (2 ms, 32 PCM samples), without the
//! hardware, so the QEMU bench (`MOTE_MODE=pdm`, `scripts/pdm-bench.sh`) measures exactly what
//! the interrupt runs. Decimation is `mote_engine::pdm` (the code the host tests check).
//!
//! - [`SpiPath`] (NUCLEO-L432KC): 500 SPI bytes (8-bit frames, 4000 PDM bits, MSB first) →
//!   CIC3 ÷ 25 (byte lookup) → FIR ÷ 5 → [`DcBlock`] + gain.
//! - [`DfsdmPath`] (B-L475E-IOT01A, NUCLEO-L476RG): 160 DFSDM_FLT0RDATAR words (the DFSDM's
//!   Sinc3 ÷ 25 at 80 kHz, 24-bit data in bits 31..8) → FIR ÷ 5 → [`DcBlock`] + gain.
// A board's mic firmware uses one of the two paths (pdm mode both).
#![allow(dead_code)]

use mote_engine::pdm::dfsdm::rdatar_data;
use mote_engine::pdm::{regs, DcBlock, Decimator, FirDecimator, FIR_RATIO, PDM_HZ};

/// Digital gain after decimation, in bits (×16 = +24 dB): an MP34DT01 (−26 dBFS at 94 dB SPL)
/// puts conversational speech near −60 dBFS; the front end's PCAN normalises the rest.
pub const GAIN_BITS: u32 = 4;
/// PCM samples per DMA half (2 ms at 16 kHz).
pub const BLOCK_SAMPLES: usize = 32;
/// SPI bytes per DMA half: 2 ms of PDM in 8-bit frames.
pub const SPI_BYTES: usize = match regs::spi_bytes_per_block(PDM_HZ, 2) {
    Ok(n) => n,
    Err(_) => panic!("2 ms of PDM is not a whole number of SPI bytes and PCM samples"),
};
/// DFSDM results per DMA half (80 kHz for 2 ms).
pub const DFSDM_WORDS: usize = BLOCK_SAMPLES * FIR_RATIO as usize;

const _: () = assert!(SPI_BYTES * 8 == BLOCK_SAMPLES * mote_engine::pdm::BITS_PER_SAMPLE as usize);

/// Software path state.
pub struct SpiPath {
    dec: Decimator,
    dc: DcBlock,
}

impl SpiPath {
    /// At rest.
    pub const fn new(gain_bits: u32) -> Self {
        SpiPath {
            dec: Decimator::new(),
            dc: DcBlock::new(gain_bits),
        }
    }

    /// One half-buffer of SPI bytes → PCM in `out`; returns the samples written.
    #[inline(never)]
    pub fn block(&mut self, bytes: &[u8], out: &mut [i16; BLOCK_SAMPLES]) -> usize {
        let n = self.dec.process(bytes, out);
        for s in out.iter_mut().take(n) {
            *s = self.dc.apply(*s);
        }
        n
    }
}

/// DFSDM path state (the filter's first stage runs in the peripheral).
pub struct DfsdmPath {
    fir: FirDecimator,
    dc: DcBlock,
}

impl DfsdmPath {
    /// At rest.
    pub const fn new(gain_bits: u32) -> Self {
        DfsdmPath {
            fir: FirDecimator::new(),
            dc: DcBlock::new(gain_bits),
        }
    }

    /// One half-buffer of RDATAR words → PCM in `out`; returns the samples written.
    #[inline(never)]
    pub fn block(&mut self, words: &[u32], out: &mut [i16; BLOCK_SAMPLES]) -> usize {
        // Sinc3 ÷ 25 results are within ±15 625: int16 without loss (clamped if not),
        // written straight into the FIR's input buffer.
        let slots = self.fir.input();
        let mut m = 0;
        for (d, &w) in slots.iter_mut().zip(words) {
            *d = rdatar_data(w).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            m += 1;
        }
        let n = self.fir.commit(m, out);
        for s in out.iter_mut().take(n) {
            *s = self.dc.apply(*s);
        }
        n
    }
}
