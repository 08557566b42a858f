//! PDM mode (`MOTE_MODE=pdm`; `scripts/pdm-bench.sh`, `scripts/pdm-device-check.sh`): the
//! microphone interrupt's decimation on a fixed PDM stream (`mote_engine::pdm::test_pattern`),
//! in QEMU, where neither DFSDM nor the microphone's DMA exist.
//!
//! 1. Device check: the decimators' output on the pattern, no DC block, as
//!    `{"event":"pdm_check","path":"spi"|"dfsdm","samples":N,"fnv":H}` lines; the host prints
//!    the same lines (`cargo run -p mote-engine --example pdm_pattern`).
//! 2. Cost: for each of [`BLOCKS`] 2 ms blocks, four regions between `cost_start` and
//!    `cost_stop`: the bit-serial CIC3 ÷ 125 loop the firmware ran before (kept here as the
//!    baseline, on 16-bit frames as it read them), [`SpiPath::block`] (NUCLEO-L432KC, 8-bit
//!    frames), [`DfsdmPath::block`] (DFSDM boards), and the software path's CIC3 ÷ 25 alone.

use mote_engine::pdm::dfsdm::rdatar;
use mote_engine::pdm::{
    fnv1a, test_pattern, Cic3, Decimator, DfsdmConfig, DfsdmFilter, FirDecimator,
};

use crate::pdm_block::{DfsdmPath, SpiPath, BLOCK_SAMPLES, DFSDM_WORDS, GAIN_BITS, SPI_BYTES};
use crate::{cost_start, cost_stop, say, Fail};
use core::hint::black_box;

/// 2 ms blocks measured (16 ms of audio; the first block warms the filters up).
pub const BLOCKS: usize = 8;
const BYTES: usize = BLOCKS * SPI_BYTES;
/// 16-bit words of one block, for the baseline (which read 16-bit SPI frames).
const WORDS: usize = SPI_BYTES / 2;

/// Runs the check and the measurement.
pub fn run() -> Result<(), Fail> {
    let pdm = cortex_m::singleton!(: [u8; BYTES] = [0; BYTES]).ok_or(Fail::Msg("pattern taken"))?;
    test_pattern(pdm);

    // ---- device check: the decimators alone.
    let mut pcm = [0i16; BLOCKS * BLOCK_SAMPLES];
    let n = Decimator::new().process(pdm, &mut pcm);
    say_check("spi", pcm.get(..n).unwrap_or(&[]));

    let words = cortex_m::singleton!(: [u32; BLOCKS * DFSDM_WORDS] = [0; BLOCKS * DFSDM_WORDS])
        .ok_or(Fail::Msg("DFSDM words taken"))?;
    let mut model = DfsdmFilter::new(DfsdmConfig::MOTE).map_err(|_| Fail::Msg("DFSDM config"))?;
    let mut k = 0;
    model.push_bytes(pdm, |y| {
        if let Some(w) = words.get_mut(k) {
            *w = rdatar(y, 2);
            k += 1;
        }
    });
    let mut fir = FirDecimator::new();
    let mut m = 0;
    for &w in words.iter() {
        if let Some(s) = fir.push(mote_engine::pdm::dfsdm::rdatar_data(w)) {
            if let Some(slot) = pcm.get_mut(m) {
                *slot = s;
                m += 1;
            }
        }
    }
    say_check("dfsdm", pcm.get(..m).unwrap_or(&[]));

    // ---- cost per 2 ms block: before (bit loop), software path, DFSDM path.
    let spi_words = cortex_m::singleton!(: [u16; BLOCKS * WORDS] = [0; BLOCKS * WORDS])
        .ok_or(Fail::Msg("SPI words taken"))?;
    for (w, pair) in spi_words.iter_mut().zip(pdm.chunks_exact(2)) {
        *w = u16::from_be_bytes([pair[0], pair[1]]);
    }
    let mut legacy = Legacy::new();
    let mut legacy_dfsdm = Legacy::new();
    let mut sw = SpiPath::new(GAIN_BITS);
    let mut hw = DfsdmPath::new(GAIN_BITS);
    let mut out = [0i16; BLOCK_SAMPLES];
    let mut sums = [0i32; 5];
    let mut cic = Cic3::new();
    let mut mid = [0i16; DFSDM_WORDS];
    for b in 0..BLOCKS {
        let old_block = spi_words.get(b * WORDS..(b + 1) * WORDS).unwrap_or(&[]);
        let sw_block = pdm.get(b * SPI_BYTES..(b + 1) * SPI_BYTES).unwrap_or(&[]);
        let hw_block = words
            .get(b * DFSDM_WORDS..(b + 1) * DFSDM_WORDS)
            .unwrap_or(&[]);
        let n0 = region(&mut sums[0], &mut out, |o| {
            legacy.block(black_box(old_block), o)
        });
        let n1 = region(&mut sums[1], &mut out, |o| sw.block(black_box(sw_block), o));
        let n2 = region(&mut sums[2], &mut out, |o| hw.block(black_box(hw_block), o));
        // Before, DFSDM boards: Sinc3 ÷ 125 in the peripheral, only DC block + gain per
        // sample in the interrupt (32 RDATAR words of ±125³ per 2 ms, here synthesized).
        let mut old_words = [0u32; BLOCK_SAMPLES];
        for (k, w) in old_words.iter_mut().enumerate() {
            let v = hw_block.get(5 * k).map_or(0, |&w| (w as i32 >> 8) * 125);
            *w = (v << 8) as u32;
        }
        region(&mut sums[4], &mut out, |o| {
            legacy_dfsdm.dfsdm_block(black_box(&old_words), o)
        });
        // The software path's first stage alone (its share of the second region).
        region(&mut sums[3], &mut mid, |o| {
            cic.process(black_box(sw_block), o)
        });
        if (n0, n1, n2) != (BLOCK_SAMPLES, BLOCK_SAMPLES, BLOCK_SAMPLES) {
            return Err(Fail::Msg("a block did not give 32 samples"));
        }
    }
    say!(
        "{{\"event\":\"pdm_cost\",\"blocks\":{},\"regions_per_block\":[\"bitloop\",\"spi\",\"dfsdm\",\"dfsdm_before\",\"spi_cic\"],\"checksums\":[{},{},{},{},{}]}}",
        BLOCKS,
        sums[0],
        sums[1],
        sums[2],
        sums[4],
        sums[3]
    );
    Ok(())
}

/// One `pdm_check` line: a decimator's output `pcm` on the pattern (count and FNV-1a hash).
fn say_check(path: &str, pcm: &[i16]) {
    say!(
        "{{\"event\":\"pdm_check\",\"path\":\"{}\",\"samples\":{},\"fnv\":{}}}",
        path,
        pcm.len(),
        fnv1a(pcm)
    );
}

/// One counted region: `f` filling `out` between `cost_start` and `cost_stop`; then the first
/// `n` samples it wrote (`n` returned, and passed back) are added to `sum`, so none of the
/// work can be optimized away.
#[inline(always)]
fn region<const N: usize>(
    sum: &mut i32,
    out: &mut [i16; N],
    f: impl FnOnce(&mut [i16; N]) -> usize,
) -> usize {
    cost_start();
    let n = f(out);
    cost_stop();
    *sum = sum.wrapping_add(out.iter().take(n).map(|&s| i32::from(s)).sum::<i32>());
    n
}

/// The bit-serial CIC3 ÷ 125 + DC block the NUCLEO-L432KC interrupt ran before the engine's
/// decimator (the measurement's baseline; not used by the firmware).
struct Legacy {
    i: [i32; 3],
    d: [i32; 3],
    phase: u32,
    prev: i32,
    acc: i32,
}

impl Legacy {
    const fn new() -> Self {
        Legacy {
            i: [0; 3],
            d: [0; 3],
            phase: 0,
            prev: 0,
            acc: 0,
        }
    }

    /// The old DFSDM interrupt's per-sample work: 24-bit data → `>> 6`, DC block, gain.
    #[inline(never)]
    fn dfsdm_block(&mut self, words: &[u32], out: &mut [i16; BLOCK_SAMPLES]) -> usize {
        let mut n = 0;
        for (&w, slot) in words.iter().zip(out.iter_mut()) {
            *slot = self.condition(w as i32 >> 8);
            n += 1;
        }
        n
    }

    fn condition(&mut self, c3: i32) -> i16 {
        let x = c3 >> 6;
        self.acc = self.acc - (self.acc >> 8) + ((x - self.prev) << 8);
        self.prev = x;
        let y = (self.acc >> 8).saturating_mul(1 << GAIN_BITS);
        y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
    }

    #[inline(never)]
    fn block(&mut self, words: &[u16], out: &mut [i16; BLOCK_SAMPLES]) -> usize {
        let mut n = 0;
        for &word in words {
            for b in (0..16).rev() {
                let x = if word >> b & 1 != 0 { 1 } else { -1 };
                self.i[0] = self.i[0].wrapping_add(x);
                self.i[1] = self.i[1].wrapping_add(self.i[0]);
                self.i[2] = self.i[2].wrapping_add(self.i[1]);
                self.phase += 1;
                if self.phase == 125 {
                    self.phase = 0;
                    let c1 = self.i[2].wrapping_sub(self.d[0]);
                    self.d[0] = self.i[2];
                    let c2 = c1.wrapping_sub(self.d[1]);
                    self.d[1] = c1;
                    let c3 = c2.wrapping_sub(self.d[2]);
                    self.d[2] = c2;
                    // The old Condition: >> 6, one-pole high-pass, gain, saturate.
                    let x = c3 >> 6;
                    self.acc = self.acc - (self.acc >> 8) + ((x - self.prev) << 8);
                    self.prev = x;
                    let y = (self.acc >> 8).saturating_mul(1 << GAIN_BITS);
                    if let Some(slot) = out.get_mut(n) {
                        *slot = y.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
                        n += 1;
                    }
                }
            }
        }
        n
    }
}
