//! A bit-exact model of the STM32L4 DFSDM data path for one channel in SPI mode, following
//! RM0351 (STM32L47x/48x) section "Digital filter for sigma delta modulators (DFSDM)":
//! serial transceiver → Sinc^FORD filter (FOSR) → integrator (IOSR) → data unit (right bit
//! shift DTRBS, then offset) → the 24-bit result in `DFSDM_FLTxRDATAR[31:8]`.
//!
//! - "Signed data format": the modulator's 1 and 0 are +1 and −1.
//! - "Sinc filter": `Sinc^x` with x = FORD (1..=5), decimating by FOSR (register value + 1,
//!   1..=1024); modelled as x integrators per input and x combs per output (a CIC), exact in
//!   32-bit wrapping arithmetic under the manual's condition `FOSR^FORD · IOSR ≤ 2^31`.
//!   FastSinc (FORD 0) is not modelled.
//! - "Integrator unit": sums IOSR (register value + 1, 1..=256) filter outputs.
//! - "Data unit block": "The right bit-shift is rounding the result to nearest integer value.
//!   The sign of shifted result is maintained — to have valid 24-bit signed format"; modelled
//!   as `(x + 2^(s−1)) >> s` saturated to 24 bits. "In the next step, an offset correction …
//!   `OFFSET[23:0]` … is subtracted from the output data", saturated to 24 bits again.
//!
//! The model starts from zero state and emits every FOSR·IOSR bits, like a continuous
//! conversion in fast mode (FAST = 1, RCONT = 1) from the first bit. The hardware's first
//! outputs after DFEN/RSWSTART (filter settling, which bit the first conversion starts on) are
//! the part this model cannot vouch for: check them on a board.

use super::ConfigError;

/// One channel + filter configuration, in ratios (not register encodings: see [`super::regs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DfsdmConfig {
    /// Sinc order, 1..=5 (FORD).
    pub order: u8,
    /// Filter oversampling ratio, 1..=1024 (FOSR + 1).
    pub fosr: u16,
    /// Integrator oversampling ratio, 1..=256 (IOSR + 1).
    pub iosr: u16,
    /// Right bit shift of the integrator output, 0..=31 (DTRBS).
    pub right_shift: u8,
    /// Offset subtracted after the shift (OFFSET, 24-bit signed).
    pub offset: i32,
}

impl DfsdmConfig {
    /// The configuration the B-L475E-IOT01A and NUCLEO-L476RG firmware uses: Sinc3 ÷ 25, no
    /// integrator, no shift, no offset (the FIR stage does the rest).
    pub const MOTE: DfsdmConfig = DfsdmConfig {
        order: super::CIC_ORDER,
        fosr: super::CIC_RATIO as u16,
        iosr: 1,
        right_shift: 0,
        offset: 0,
    };

    /// Checks every field against its register range and the 32-bit overflow condition.
    pub const fn check(&self) -> Result<(), ConfigError> {
        if self.order < 1 || self.order > 5 {
            return Err(ConfigError::OutOfRange("FORD"));
        }
        if self.fosr < 1 || self.fosr > 1024 {
            return Err(ConfigError::OutOfRange("FOSR"));
        }
        if self.iosr < 1 || self.iosr > 256 {
            return Err(ConfigError::OutOfRange("IOSR"));
        }
        if self.right_shift > 31 {
            return Err(ConfigError::OutOfRange("DTRBS"));
        }
        if self.offset < -(1 << 23) || self.offset >= 1 << 23 {
            return Err(ConfigError::OutOfRange("OFFSET"));
        }
        if peak(self.order, self.fosr as u32, self.iosr as u32) > 1 << 31 {
            return Err(ConfigError::Overflow);
        }
        Ok(())
    }
}

/// `FOSR^FORD · IOSR`: the integrator output's full scale (u64: no overflow for valid fields).
pub const fn peak(order: u8, fosr: u32, iosr: u32) -> u64 {
    let mut p = iosr as u64;
    let mut k = 0;
    while k < order {
        p *= fosr as u64;
        k += 1;
    }
    p
}

/// The filter's state.
#[derive(Clone, Copy, Debug)]
pub struct DfsdmFilter {
    cfg: DfsdmConfig,
    integ: [u32; 5],
    comb: [u32; 5],
    bits: u16,
    acc: i32,
    sums: u16,
}

const MAX24: i64 = (1 << 23) - 1;
const MIN24: i64 = -(1 << 23);

impl DfsdmFilter {
    /// A filter at rest, or the reason the configuration is invalid.
    pub const fn new(cfg: DfsdmConfig) -> Result<Self, ConfigError> {
        match cfg.check() {
            Ok(()) => Ok(DfsdmFilter {
                cfg,
                integ: [0; 5],
                comb: [0; 5],
                bits: 0,
                acc: 0,
                sums: 0,
            }),
            Err(e) => Err(e),
        }
    }

    /// One serial input bit; returns the 24-bit signed result it completes, if any.
    pub fn push_bit(&mut self, one: bool) -> Option<i32> {
        let order = usize::from(self.cfg.order).min(5);
        let mut v: u32 = if one { 1 } else { u32::MAX };
        for i in self.integ.iter_mut().take(order) {
            *i = i.wrapping_add(v);
            v = *i;
        }
        self.bits += 1;
        if self.bits < self.cfg.fosr {
            return None;
        }
        self.bits = 0;
        for d in self.comb.iter_mut().take(order) {
            let c = v.wrapping_sub(*d);
            *d = v;
            v = c;
        }
        self.acc = self.acc.wrapping_add(v as i32);
        self.sums += 1;
        if self.sums < self.cfg.iosr {
            return None;
        }
        self.sums = 0;
        let x = i64::from(core::mem::take(&mut self.acc));
        let s = u32::from(self.cfg.right_shift);
        let shifted = if s == 0 { x } else { (x + (1 << (s - 1))) >> s };
        let y = shifted.clamp(MIN24, MAX24) - i64::from(self.cfg.offset);
        Some(y.clamp(MIN24, MAX24) as i32)
    }

    /// Feeds bytes MSB first; calls `emit` with every result.
    pub fn push_bytes(&mut self, bytes: &[u8], mut emit: impl FnMut(i32)) {
        for &b in bytes {
            for s in (0..8).rev() {
                if let Some(y) = self.push_bit(b >> s & 1 == 1) {
                    emit(y);
                }
            }
        }
    }
}

/// DFSDM_FLTxRDATAR as DMA delivers it: `RDATA[23:0]` in bits 31..8, `RPEND` bit 4,
/// `RDATACH` bits 2..0.
pub const fn rdatar(data: i32, channel: u8) -> u32 {
    ((data as u32) << 8) | (channel as u32 & 7)
}

/// The signed 24-bit result in a DFSDM_FLTxRDATAR word.
pub const fn rdatar_data(word: u32) -> i32 {
    (word as i32) >> 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pdm::Cic3;
    use std::vec::Vec;

    fn noise(n: usize) -> Vec<u8> {
        let mut seed = 0x9E37_79B9u32;
        (0..n)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect()
    }

    #[test]
    fn mote_config_equals_the_software_cic() {
        let bytes = noise(10_000);
        let mut f = DfsdmFilter::new(DfsdmConfig::MOTE).unwrap();
        let mut hw = Vec::new();
        f.push_bytes(&bytes, |y| hw.push(y));
        let mut c = Cic3::new();
        let mut sw = Vec::new();
        for &b in &bytes {
            c.push_byte(b, |y| sw.push(y));
        }
        assert_eq!(hw.len(), 3200);
        assert_eq!(hw, sw);
    }

    #[test]
    fn full_scale_shift_offset_and_saturation() {
        // Sinc3 ÷ 125 of all ones settles at 125³ = 1 953 125 (the old firmware's setting).
        let cfg = DfsdmConfig {
            order: 3,
            fosr: 125,
            iosr: 1,
            right_shift: 0,
            offset: 0,
        };
        let mut f = DfsdmFilter::new(cfg).unwrap();
        let mut last = 0;
        f.push_bytes(&[0xFF; 200], |y| last = y);
        assert_eq!(last, 1_953_125);
        // Shift 6 rounds to nearest: 1 953 125 / 64 = 30 517.58 → 30 518; offset 18 → 30 500.
        let mut f = DfsdmFilter::new(DfsdmConfig {
            right_shift: 6,
            offset: 18,
            ..cfg
        })
        .unwrap();
        f.push_bytes(&[0xFF; 200], |y| last = y);
        assert_eq!(last, 30_500);
        // −1 953 125 / 64 = −30 517.58 → −30 518 (x + 32 >> 6 rounds −.58 to −1 → …518).
        let mut f = DfsdmFilter::new(DfsdmConfig {
            right_shift: 6,
            ..cfg
        })
        .unwrap();
        f.push_bytes(&[0x00; 200], |y| last = y);
        assert_eq!(last, -30_518);
        // Sinc5 ÷ 32 with IOSR 2: 2·32^5 = 2^26 saturates to 2^23 − 1, then minus the offset.
        let big = DfsdmConfig {
            order: 5,
            fosr: 32,
            iosr: 2,
            right_shift: 0,
            offset: -5,
        };
        let mut f = DfsdmFilter::new(big).unwrap();
        f.push_bytes(&[0xFF; 400], |y| last = y);
        assert_eq!(last, (1 << 23) - 1);
        f.push_bytes(&[0x00; 400], |y| last = y);
        assert_eq!(last, -(1 << 23) + 5);
        // An integrator of 4 sums four Sinc1 ÷ 8 outputs: all ones → 32.
        let int = DfsdmConfig {
            order: 1,
            fosr: 8,
            iosr: 4,
            right_shift: 0,
            offset: 0,
        };
        let mut f = DfsdmFilter::new(int).unwrap();
        let mut all = Vec::new();
        f.push_bytes(&[0xFF; 8], |y| all.push(y));
        assert_eq!(all, [32, 32]);
    }

    #[test]
    fn invalid_configurations_are_rejected() {
        let ok = DfsdmConfig::MOTE;
        assert!(ok.check().is_ok());
        assert_eq!(
            DfsdmConfig { order: 0, ..ok }.check(),
            Err(ConfigError::OutOfRange("FORD"))
        );
        assert_eq!(
            DfsdmConfig { fosr: 1025, ..ok }.check(),
            Err(ConfigError::OutOfRange("FOSR"))
        );
        assert_eq!(
            DfsdmConfig { iosr: 0, ..ok }.check(),
            Err(ConfigError::OutOfRange("IOSR"))
        );
        assert_eq!(
            DfsdmConfig {
                right_shift: 32,
                ..ok
            }
            .check(),
            Err(ConfigError::OutOfRange("DTRBS"))
        );
        assert_eq!(
            DfsdmConfig {
                offset: 1 << 23,
                ..ok
            }
            .check(),
            Err(ConfigError::OutOfRange("OFFSET"))
        );
        // 1024^5 overflows the 32-bit path.
        assert_eq!(
            DfsdmConfig {
                order: 5,
                fosr: 1024,
                ..ok
            }
            .check(),
            Err(ConfigError::Overflow)
        );
        // 256^3 · 128 = 2^31: allowed (≤ 2^31).
        assert!(DfsdmConfig {
            fosr: 256,
            iosr: 128,
            ..ok
        }
        .check()
        .is_ok());
    }

    #[test]
    fn rdatar_round_trip() {
        for v in [0, 1, -1, 15_625, -15_625, (1 << 23) - 1, -(1 << 23)] {
            assert_eq!(rdatar_data(rdatar(v, 2)), v);
        }
    }
}
