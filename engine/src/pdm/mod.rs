//! PDM microphone → 16 kHz PCM: the decimation every firmware's microphone path runs, as
//! library code the host tests can drive bit for bit.
//!
//! The chain (2 MHz one-bit stream → 16 kHz int16):
//! 1. **Sinc3 ÷ 25** (third-order CIC, 2 MHz → 80 kHz). Either in software ([`cic::Cic3`],
//!    NUCLEO-L432KC: SPI delivers the raw bits, eight at a time through lookup tables), or in
//!    the DFSDM peripheral (B-L475E-IOT01A, NUCLEO-L476RG: FORD 3, FOSR 25, IOSR 1, no shift,
//!    no offset), of which [`dfsdm::DfsdmFilter`] is a bit-exact model. Both produce the same
//!    int32 values: `±1` bits in, `±25³ = ±15 625` full scale out.
//! 2. **FIR ÷ 5** ([`fir::FirDecimator`], 96 symmetric int16 taps, 80 kHz → 16 kHz): flattens
//!    the CIC's droop and removes what would alias into 0–7 kHz. On Cortex-M4 its
//!    multiply-accumulates are `SMLAD`s (two taps per instruction). Full scale ±15 625 maps
//!    to ±31 250 PCM (−0.4 dBFS), saturated.
//! 3. [`DcBlock`]: one-pole high-pass (~10 Hz) and a gain in bits, for real microphones (DC
//!    offset, low sensitivity); [`LevelMeter`]: RMS and peak, for the firmware's start-up
//!    level line.
//!
//! Frequency response of 1+2, designed by `scripts/pdm/design_fir.py` and measured end to end
//! by `engine/tests/pdm.rs` with a second-order sigma-delta modulator at 2 MHz:
//! - passband 100 Hz–7 kHz: designed −0.51/+0.14 dB; measured 0.66 dB ripple (−0.51 dB at
//!   7 kHz, +0.15 dB at 6.5 kHz; limit 1 dB);
//! - aliasing: everything that folds into 0–7 kHz (9 kHz–1 MHz) designed ≤ −49.5 dB; measured
//!   worst −49.5 dB (a 9 kHz tone folding to 7 kHz), −61 dB or less from 57 kHz up (limit
//!   −40 dB);
//! - SNR of a −20 dBFS tone (1 kHz and 3 kHz): 65.2 dB (limit 60 dB), limited by the
//!   second-order modulator's shaped noise;
//! - group delay 36 + 47.5 × 25 = 1223.5 PDM bits ≈ 612 µs (9.8 samples).
//!
//! Cost on a Cortex-M4 (`scripts/pdm-bench.sh`, instructions counted in QEMU, per 2 ms block of
//! 32 samples): software path 15.0 k (9.4 % of 80 MHz), FIR after the DFSDM 7.1 k (4.4 %);
//! the bit-serial CIC it replaces took 64.2 k (40 %).
//!
//! [`regs`] computes the peripheral register values (DFSDM clock divider and filter fields,
//! the SPI clock prescaler) from each board's clock tree with `const fn`s.
//!
//! Bit order: byte-wise inputs are MSB first (the first bit received is the oldest), as SPI
//! (CR1.LSBFIRST = 0) shifts them in; a one bit is +1, a zero −1 (RM0351 "Signed data
//! format": the DFSDM maps a modulator's 1/0 to +1/−1 the same way).

pub mod cic;
pub mod dfsdm;
pub mod fir;
pub mod regs;

pub use cic::Cic3;
pub use dfsdm::{DfsdmConfig, DfsdmFilter};
pub use fir::FirDecimator;

/// PDM bit clock of every board's microphone path, in Hz.
pub const PDM_HZ: u32 = 2_000_000;
/// PCM output rate, in Hz.
pub const PCM_HZ: u32 = 16_000;
/// First-stage (sinc3 / CIC3) decimation ratio: 2 MHz → 80 kHz.
pub const CIC_RATIO: u32 = 25;
/// Second-stage (FIR) decimation ratio: 80 kHz → 16 kHz.
pub const FIR_RATIO: u32 = 5;
/// Order of the first stage's sinc filter.
pub const CIC_ORDER: u8 = 3;
/// PDM bits per PCM sample (125).
pub const BITS_PER_SAMPLE: u32 = CIC_RATIO * FIR_RATIO;

const _: () = assert!(PDM_HZ / BITS_PER_SAMPLE == PCM_HZ && PDM_HZ.is_multiple_of(BITS_PER_SAMPLE));

/// Why a register value or filter configuration cannot be computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The requested clock does not divide the source clock exactly (or not by an allowed
    /// divider); the value is the source clock in Hz.
    NotExact(u32),
    /// A field would be outside its register range; names the field.
    OutOfRange(&'static str),
    /// `FOSR^FORD × IOSR` exceeds 2^31: the DFSDM's 32-bit signed path would overflow.
    Overflow,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ConfigError::NotExact(hz) => {
                write!(
                    f,
                    "the clock does not divide {hz} Hz exactly by an allowed divider"
                )
            }
            ConfigError::OutOfRange(field) => write!(f, "{field} out of its register range"),
            ConfigError::Overflow => f.write_str("FOSR^FORD x IOSR exceeds 2^31"),
        }
    }
}

impl core::error::Error for ConfigError {}

/// The software microphone path: PDM bytes (MSB first) → CIC3 ÷ 25 → FIR ÷ 5 → 16 kHz PCM.
#[derive(Clone)]
pub struct Decimator {
    cic: Cic3,
    fir: FirDecimator,
}

impl Default for Decimator {
    fn default() -> Self {
        Self::new()
    }
}

impl Decimator {
    /// A decimator at rest (all state zero, like the DFSDM after reset).
    pub const fn new() -> Self {
        Decimator {
            cic: Cic3::new(),
            fir: FirDecimator::new(),
        }
    }

    /// PCM samples at most produced by `bytes` more PDM bytes from any state.
    pub const fn max_outputs(bytes: usize) -> usize {
        (bytes * 8).div_ceil(BITS_PER_SAMPLE as usize)
    }

    /// Decimates `pdm` (every byte, MSB first) and writes the PCM samples it completes to
    /// `out`; returns how many. Samples beyond `out.len()` are dropped (size `out` with
    /// [`Decimator::max_outputs`]).
    pub fn process(&mut self, pdm: &[u8], out: &mut [i16]) -> usize {
        let mut n = 0;
        // 500 bytes (2 ms) complete at most ⌊3999 / 25⌋ + 1 = 160 = fir::CAP CIC outputs,
        // written straight into the FIR's input buffer.
        for chunk in pdm.chunks(500) {
            let m = self.cic.process(chunk, self.fir.input());
            n += self.fir.commit(m, out.get_mut(n..).unwrap_or(&mut []));
        }
        n
    }

    /// Decimates 16-bit SPI words (the first bit received in bit 15), as [`Decimator::process`].
    pub fn process_words(&mut self, pdm: &[u16], out: &mut [i16]) -> usize {
        let mut n = 0;
        let mut bytes = [0u8; 50];
        for chunk in pdm.chunks(25) {
            for (pair, w) in bytes.chunks_exact_mut(2).zip(chunk) {
                pair.copy_from_slice(&w.to_be_bytes());
            }
            let len = 2 * chunk.len();
            let dst = out.get_mut(n..).unwrap_or(&mut []);
            n += self.process(bytes.get(..len).unwrap_or(&[]), dst);
        }
        n
    }
}

/// DC removal and gain for a real microphone: `y[n] = x[n] − x[n−1] + (1 − 2^−8)·y[n−1]`
/// (a one-pole high-pass at about 10 Hz at 16 kHz), then `× 2^gain_bits`, saturated to int16.
#[derive(Clone, Copy, Debug)]
pub struct DcBlock {
    prev: i32,
    /// High-pass output × 2^8.
    acc: i32,
    gain_bits: u32,
}

impl DcBlock {
    /// A filter at rest with `gain_bits` of gain (clamped to 15).
    pub const fn new(gain_bits: u32) -> Self {
        DcBlock {
            prev: 0,
            acc: 0,
            gain_bits: if gain_bits > 15 { 15 } else { gain_bits },
        }
    }

    /// Filters one sample.
    #[inline]
    pub fn apply(&mut self, x: i16) -> i16 {
        let x = i32::from(x);
        // |y| ≤ 2 · 32 768 (the high-pass's impulse response has L1 norm 2), so |acc| < 2^25.
        self.acc = self.acc - (self.acc >> 8) + ((x - self.prev) << 8);
        self.prev = x;
        let y = (self.acc >> 8).saturating_mul(1 << self.gain_bits);
        y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }
}

/// RMS and peak of a stream of PCM samples (the microphone's start-up level check).
#[derive(Clone, Copy, Debug, Default)]
pub struct LevelMeter {
    sum_sq: u64,
    count: u32,
    peak: u16,
}

impl LevelMeter {
    /// An empty meter.
    pub const fn new() -> Self {
        LevelMeter {
            sum_sq: 0,
            count: 0,
            peak: 0,
        }
    }

    /// Adds samples.
    pub fn add(&mut self, samples: &[i16]) {
        for &s in samples {
            let a = s.unsigned_abs();
            self.sum_sq = self.sum_sq.saturating_add(u64::from(a) * u64::from(a));
            self.peak = self.peak.max(a);
        }
        self.count = self.count.saturating_add(samples.len() as u32);
    }

    /// Samples seen.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Largest |sample|.
    pub fn peak(&self) -> u16 {
        self.peak
    }

    /// Root mean square, rounded down (0 before any sample).
    pub fn rms(&self) -> u32 {
        if self.count == 0 {
            return 0;
        }
        isqrt(crate::fixedpoint::div_u64_u32(self.sum_sq, self.count))
    }

    /// RMS relative to full scale (32 768) in tenths of a dB, e.g. −423 for −42.3 dBFS;
    /// −990 for silence.
    pub fn dbfs_tenths(&self) -> i32 {
        if self.count == 0 || self.sum_sq == 0 {
            return -990;
        }
        // 100·log10(sum_sq / count / 2^30) = 100·log10(2) · (log2 sum_sq − log2 count − 30),
        // in integers only (no libm, no f64 on the chip): log2 in Q24, 100·log10(2) in Q24.
        const CENTI_LOG10_2_Q24: i64 = 505_044_526;
        let l = log2_q24(self.sum_sq) - log2_q24(u64::from(self.count)) - (30 << 24);
        // Round half up (ties cannot occur: log10 of an integer ratio is never k + 0.05).
        let tenths = (l * CENTI_LOG10_2_Q24 + (1 << 47)) >> 48;
        tenths.max(-990) as i32
    }
}

/// log2(v) in Q24 for v ≥ 1 (0 for 0), within 2^-23: the integer part from the leading bit,
/// then 24 fraction bits by repeated squaring of the mantissa (in [1, 2), Q31).
fn log2_q24(v: u64) -> i64 {
    if v == 0 {
        return 0;
    }
    let int = 63 - v.leading_zeros();
    // Mantissa in Q31: v / 2^int in [1, 2) (low bits dropped for v ≥ 2^32: a relative error
    // below 2^-31).
    let mut m = if int >= 31 {
        v >> (int - 31)
    } else {
        v << (31 - int)
    };
    let mut frac = 0i64;
    for bit in (0..24).rev() {
        m = (m * m) >> 31; // m < 2^32, so m² < 2^64
        if m >= 1 << 32 {
            m >>= 1;
            frac |= 1 << bit;
        }
    }
    (i64::from(int) << 24) | frac
}

/// ⌊√v⌋ (bitwise, no floating point).
const fn isqrt(v: u64) -> u32 {
    let mut rem = v;
    let mut root = 0u64;
    let mut bit = 1u64 << 62;
    while bit > v {
        bit >>= 2;
    }
    while bit != 0 {
        if rem >= root + bit {
            rem -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    root as u32
}

/// A deterministic PDM test stream for device checks (integer arithmetic only, so the host and
/// the M4 produce the same bytes): a 1 kHz triangle at −6 dBFS through a second-order
/// error-feedback sigma-delta modulator (`v = x − 2e[n−1] + e[n−2]`, `y = ±2^16`), MSB first.
pub fn test_pattern(out: &mut [u8]) {
    const ONE: i32 = 1 << 16;
    // Triangle: 2000 bits per period, peak ONE / 2.
    let (mut e1, mut e2) = (0i32, 0i32);
    for (i, byte) in out.iter_mut().enumerate() {
        let mut b = 0u8;
        for k in 0..8 {
            let t = ((i * 8 + k) % 2000) as i32;
            let x = if t < 1000 {
                t * 66 - 33_000
            } else {
                (2000 - t) * 66 - 33_000
            };
            let v = x - 2 * e1 + e2;
            let y = if v >= 0 { ONE } else { -ONE };
            e2 = e1;
            e1 = y - v;
            if y > 0 {
                b |= 0x80 >> k;
            }
        }
        *byte = b;
    }
}

/// FNV-1a (32-bit) of PCM samples, little-endian bytes: the device checks compare it.
pub fn fnv1a(samples: &[i16]) -> u32 {
    let mut h = 0x811C_9DC5u32;
    for s in samples {
        for b in s.to_le_bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isqrt_table() {
        for (v, r) in [
            (0, 0),
            (1, 1),
            (3, 1),
            (4, 2),
            (15, 3),
            (16, 4),
            (u64::MAX, u32::MAX),
        ] {
            assert_eq!(isqrt(v), r, "isqrt({v})");
        }
    }

    #[test]
    fn level_meter_of_a_square_wave() {
        let mut m = LevelMeter::new();
        m.add(&[1000, -1000, 1000, -1000]);
        assert_eq!((m.rms(), m.peak(), m.count()), (1000, 1000, 4));
        // 20·log10(1000 / 32768) = −30.31 dB.
        assert_eq!(m.dbfs_tenths(), -303);
        assert_eq!(LevelMeter::new().dbfs_tenths(), -990);
    }

    /// The integer dBFS equals `round(10·log10(mean square / 2^30)·10)` in f64 over a sweep of
    /// levels and lengths (silence to full scale).
    #[test]
    fn dbfs_tenths_is_the_float_formula() {
        for count in [1u32, 3, 160, 1000, 16_000] {
            for k in 0..400u64 {
                let a = (k * k * 3 + k) % 32_769;
                let sum_sq = a * a * u64::from(count) + k * 7919;
                let m = LevelMeter {
                    sum_sq,
                    count,
                    ..LevelMeter::new()
                };
                let ms = sum_sq as f64 / f64::from(count);
                let want = if sum_sq == 0 {
                    -990
                } else {
                    libm::round(100.0 * libm::log10(ms / (32768.0 * 32768.0))).max(-990.0) as i32
                };
                assert_eq!(m.dbfs_tenths(), want, "sum_sq {sum_sq}, count {count}");
            }
        }
    }

    #[test]
    fn dc_block_removes_dc_and_saturates() {
        let mut d = DcBlock::new(0);
        let mut last = 0;
        for _ in 0..16000 {
            last = d.apply(10_000);
        }
        assert!(last.abs() <= 1, "DC left after 1 s: {last}");
        let mut g = DcBlock::new(4);
        assert_eq!(g.apply(i16::MAX), i16::MAX);
        assert_eq!(g.apply(i16::MIN), i16::MIN);
    }

    #[test]
    fn all_ones_and_all_zeros_reach_full_scale() {
        for (byte, want) in [(0xFFu8, 31_250i32), (0x00, -31_250)] {
            let mut d = Decimator::new();
            let mut out = [0i16; 200];
            let n = d.process(&[byte; 2000], &mut out);
            assert_eq!(n, 128);
            let last = i32::from(out[n - 1]);
            assert!((last - want).abs() <= 8, "{byte:#x}: {last}, want ≈ {want}");
        }
    }

    #[test]
    fn words_equal_bytes_and_chunking_does_not_matter() {
        let bytes: std::vec::Vec<u8> = (0..4000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let words: std::vec::Vec<u16> = bytes
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        let mut a = Decimator::new();
        let mut b = Decimator::new();
        let mut c = Decimator::new();
        let (mut oa, mut ob, mut oc) = ([0i16; 300], [0i16; 300], std::vec::Vec::new());
        let na = a.process(&bytes, &mut oa);
        let nb = b.process_words(&words, &mut ob);
        for part in bytes.chunks(37) {
            let mut o = [0i16; 8];
            let n = c.process(part, &mut o);
            oc.extend_from_slice(&o[..n]);
        }
        assert_eq!(na, 256);
        assert_eq!(&oa[..na], &ob[..nb]);
        assert_eq!(&oa[..na], &oc[..]);
        assert_eq!(Decimator::max_outputs(bytes.len()), 256);
    }

    #[test]
    fn test_pattern_is_a_stable_modulated_triangle() {
        let mut pdm = [0u8; 5000];
        test_pattern(&mut pdm);
        let mut d = Decimator::new();
        let mut out = [0i16; 320];
        assert_eq!(d.process(&pdm, &mut out), 320);
        // Peak ±0.5 of full scale (±15 625 PCM), less the triangle's harmonics above 7 kHz.
        let peak = out[100..].iter().map(|s| s.unsigned_abs()).max().unwrap();
        assert!((14_000..16_500).contains(&peak), "peak {peak}");
        assert_eq!(fnv1a(&[]), 0x811C_9DC5);
        assert_eq!(fnv1a(&[0x0100]), 0x1076_963A, "fnv1a of the bytes 00 01");
    }
}
