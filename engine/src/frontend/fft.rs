//! Fixed-point real FFT, bit-exact with KISS FFT built with `FIXED_POINT=16` (the FFT both TFLM
//! front ends use: the micro-frontend's `kiss_fft_int16` and the signal library's `RfftInt16`).
//!
//! KISS FFT computes an N-point real FFT as an N/2-point complex FFT of the even/odd samples
//! packed as (re, im) pairs, followed by a split step. Every butterfly divides its inputs by its
//! radix first (`C_FIXDIV`, a Q15 multiply by `32767 / radix`), so the output is the DFT scaled
//! by 1/N (rounded at every stage). Sums are computed in `int` and stored back into `int16_t`,
//! i.e. they wrap; Q15 products are computed in `int32_t` (wrapping) and rounded half up.
//!
//! Same arithmetic, faster form: KISS FFT's recursive decimation in time (`kf_work`) becomes
//! a loop over its stages from the leaves up (the butterflies of one stage are independent, so
//! their order does not matter); complex values are packed in a `u32` ([`packed`]: the DSP
//! extension's dual 16-bit instructions on the M4); the twiddles are flash constants
//! ([`fft_tables`](super::fft_tables)) read with a stride for sizes below 512; the split step
//! runs in place in the output. `tests::matches_kiss_fft_port` compares every size with the
//! scalar port of the C code (`fft_reference`) on random and extreme input.

use super::fft_tables::{SUPER_TWIDDLES, TWIDDLES};
use super::packed::{self, pack};

/// Complex points of the largest inner FFT (the flash tables' size, and the input's).
pub const MAX_CFFT: usize = 256;
/// Most radix stages a power-of-two complex FFT up to `MAX_CFFT` points needs (4·4·4·4 = 256).
const MAX_STAGES: usize = 8;
/// Radix-4 twiddle triples `TWIDDLES[k·s], [2k·s], [3k·s]` (`s = 64 / m`) for `k < m`, per
/// stage quarter length `m` = 2, 4, …, 64, the stages one after another (`m`'s start at
/// `m − 2`). A stage's twiddle stride into the 256-point table is `64 / m` whatever the FFT's
/// size, so one table serves all sizes, read in order (no index arithmetic in the loop).
static STAGE_TWIDDLES: [[u32; 3]; 126] = stage_twiddles();

const fn stage_twiddles() -> [[u32; 3]; 126] {
    let mut t = [[0; 3]; 126];
    let mut m = 2;
    while m <= 64 {
        let s = 64 / m;
        let mut k = 0;
        while k < m {
            t[m - 2 + k] = [TWIDDLES[k * s], TWIDDLES[2 * k * s], TWIDDLES[3 * k * s]];
            k += 1;
        }
        m *= 2;
    }
    t
}

/// `C_FIXDIV` multipliers: `SAMP_MAX / radix`.
const DIV2: u32 = 32767 / 2;
const DIV4: u32 = 32767 / 4;

/// A planned real FFT of a power-of-two length in `4..=512`.
#[derive(Clone)]
pub struct RealFft {
    /// Points of the inner complex FFT (half the real length).
    ncfft: usize,
    /// log2(`MAX_CFFT / ncfft`): the stride into the flash tables.
    tw_shift: u32,
    /// `(radix, remaining length)` per stage, as `kf_factor` produces them.
    stages: [(u8, u16); MAX_STAGES],
    num_stages: usize,
    /// Where input pair `j` goes in the leaf-ordered input [`RealFft::forward`] reads: leaf
    /// butterfly `b` (of radix `p`) takes its inputs from slots `p·b..p·(b + 1)`.
    order: [u8; MAX_CFFT],
}

impl RealFft {
    /// An unplanned FFT, for building in place with [`RealFft::plan`].
    pub const EMPTY: RealFft = RealFft {
        ncfft: 0,
        tw_shift: 0,
        stages: [(0, 0); MAX_STAGES],
        num_stages: 0,
        order: [0; MAX_CFFT],
    };

    /// Plans a real FFT of `fft_size` points; `fft_size` must be a power of two in
    /// `4..=512` (the caller checks).
    pub fn plan(&mut self, fft_size: usize) {
        let ncfft = (fft_size / 2).clamp(2, MAX_CFFT);
        self.ncfft = ncfft;
        self.tw_shift = (MAX_CFFT / ncfft).trailing_zeros();
        self.stages = [(0, 0); MAX_STAGES];
        self.num_stages = 0;
        // kf_factor for a power of two: radix 4 while it divides, then one radix 2.
        let mut n = ncfft;
        while n > 1 && self.num_stages < MAX_STAGES {
            let p = if n & 3 == 0 { 4 } else { 2 };
            n /= p;
            if let Some(s) = self.stages.get_mut(self.num_stages) {
                *s = (p as u8, n as u16);
            }
            self.num_stages += 1;
        }
        // Leaf starts: output block b of the last stage sits at b·p_last; kf_work reaches it
        // through chunk q_l of every stage l above, each adding q_l · (product of the radices
        // above l) to the input index; its inputs are start + i·ncfft/p_last, i < p_last.
        let last_p = self.stages_used().last().map_or(2, |s| usize::from(s.0));
        let above = self.num_stages.saturating_sub(1);
        for (j, o) in self.order.iter_mut().enumerate() {
            *o = j as u8; // slots past ncfft: never read
        }
        for b in 0..ncfft / last_p {
            let (mut rest, mut start, mut fstride, mut block) = (b, 0, 1, ncfft / last_p);
            for &(p, _) in self.stages.get(..above).unwrap_or(&[]) {
                let p = usize::from(p);
                block /= p; // leaf blocks per chunk of this stage
                let q = rest / block;
                rest %= block;
                start += q * fstride;
                fstride *= p;
            }
            for i in 0..last_p {
                if let Some(o) = self.order.get_mut(start + i * (ncfft / last_p)) {
                    *o = (last_p * b + i) as u8;
                }
            }
        }
    }

    /// Slot of input pair `j` (`< MAX_CFFT`) in the leaf-ordered input.
    pub fn order(&self) -> &[u8; MAX_CFFT] {
        &self.order
    }

    fn stages_used(&self) -> &[(u8, u16)] {
        self.stages.get(..self.num_stages).unwrap_or(&[])
    }

    /// Real FFT of `ncfft` input pairs `<< shift` (samples as complex pairs, even sample re,
    /// odd im, zero padded by the caller, pair `j` at slot [`RealFft::order`]`[j]`; each
    /// shifted left in 16 bits, wrapping, as the front ends scale the window up) into `out`
    /// (`ncfft + 1` bins, packed `re | im << 16`), like `kiss_fftr`. A shorter `out` is a
    /// caller bug and leaves it unwritten (no panic).
    pub fn forward(&self, input: &[u32; MAX_CFFT], shift: u32, out: &mut [u32]) {
        let n = self.ncfft;
        let Some(out) = out.get_mut(..=n) else {
            return;
        };
        let Some((&(last_p, _), upper)) = self.stages_used().split_last() else {
            return;
        };
        let last_p = usize::from(last_p);
        // Both lanes shifted left by `shift` (< 16), each wrapping in 16 bits: the whole word
        // shifted, then the low lane's carry out of the high lane's low bits cleared.
        let keep = !(((1u32 << (shift & 15)) - 1) << 16);
        let sample = |x: u32| -> u32 { x << (shift & 15) & keep };

        // Leaf stage (m = 1): butterflies on consecutive input slots, every twiddle
        // TWIDDLES[0] = (32767, 0), which leaves its (divided) inputs unchanged.
        let blocks = out.chunks_exact_mut(last_p).zip(input.chunks_exact(last_p));
        if last_p == 4 {
            #[cfg(mote_dsp_asm)]
            leaf4_m4(input, out, n / 4, shift & 15, keep);
            #[cfg(not(mote_dsp_asm))]
            for (o, x) in blocks {
                let f = [x[0], x[1], x[2], x[3]].map(|x| packed::fixdiv(sample(x), DIV4));
                o.copy_from_slice(&bfly4_tail(f[0], [f[1], f[2], f[3]]));
            }
        } else {
            for (o, x) in blocks {
                let a = packed::fixdiv(sample(x[0]), DIV2);
                let b = packed::fixdiv(sample(x[1]), DIV2);
                o.copy_from_slice(&[packed::add(a, b), packed::sub(a, b)]);
            }
        }

        // The other stages, bottom up: blocks of p·m values, twiddle stride n / (p·m).
        for &(p, m) in upper.iter().rev() {
            let (p, m) = (usize::from(p), usize::from(m));
            let step = (n / (p * m)) << self.tw_shift;
            let cfft = out.get_mut(..n).unwrap_or(&mut []);
            if p == 4 {
                let tw = STAGE_TWIDDLES.get(m.wrapping_sub(2)..m.wrapping_sub(2) + m);
                stage4(cfft, m, tw.unwrap_or(&[]));
            } else {
                for block in cfft.chunks_exact_mut(p * m) {
                    stage2(block, m, step);
                }
            }
        }

        split(out, n, self.tw_shift);
    }
}

/// One `kf_bfly4` (forward) on four values, twiddles `w` for inputs 1..=3.
#[cfg(not(mote_dsp_asm))]
#[inline(always)]
fn bfly4(x: [u32; 4], w: [u32; 3]) -> [u32; 4] {
    let f0 = packed::fixdiv(x[0], DIV4);
    let f1 = packed::fixdiv(x[1], DIV4);
    let f2 = packed::fixdiv(x[2], DIV4);
    let f3 = packed::fixdiv(x[3], DIV4);
    bfly4_tail(
        f0,
        [
            packed::mul(f1, w[0]),
            packed::mul(f2, w[1]),
            packed::mul(f3, w[2]),
        ],
    )
}

/// The sums of `kf_bfly4` (forward): `f0` and the twiddled values `s0..=s2`.
///
/// A twiddle of (32767, 0) leaves a value `a` unchanged when −16384 < a ≤ 16384 (each part
/// becomes `(a·32767 + 2^14) >> 15 = a + ((2^14 − a) >> 15)`), and every value divided by 4
/// (or by 2) lies within ±8192 (±16383): the leaf stage skips those multiplies.
#[cfg(not(mote_dsp_asm))]
#[inline(always)]
fn bfly4_tail(f0: u32, [s0, s1, s2]: [u32; 3]) -> [u32; 4] {
    let s5 = packed::sub(f0, s1);
    let f0 = packed::add(f0, s1);
    let s3 = packed::add(s0, s2);
    let s4 = packed::sub(s0, s2);
    [
        packed::add(f0, s3),
        packed::add_rot(s5, s4),
        packed::sub(f0, s3),
        packed::sub_rot(s5, s4),
    ]
}

/// One `kf_bfly2` (forward).
#[inline(always)]
fn bfly2(x: [u32; 2], w: u32) -> [u32; 2] {
    let a = packed::fixdiv(x[0], DIV2);
    let b = packed::fixdiv(x[1], DIV2);
    let t = packed::mul(b, w);
    [packed::add(a, t), packed::sub(a, t)]
}

/// `kf_bfly4` over every block of `4·m` values of `cfft` (one stage); `tw[k]` holds
/// twiddles k, 2k and 3k of the stage (empty, so nothing done, when the caller has none for
/// this `m`).
#[inline(never)]
fn stage4(cfft: &mut [u32], m: usize, tw: &[[u32; 3]]) {
    if m == 0 || tw.len() < m {
        return;
    }
    for block in cfft.chunks_exact_mut(4 * m) {
        block4(block, m, tw);
    }
}

/// The radix-4 leaf stage on the M4: `blocks` butterflies, butterfly `b` reading input slots
/// `4b..4b + 4` (shifted left by `shift` < 16 and masked with `keep`, as the portable leaf's
/// `sample`) and writing `out[4b..4b + 4]`; unit twiddles, so no multiplies
/// ([`bfly4_tail`]). `LDM`/`STM` move the four values.
#[cfg(mote_dsp_asm)]
#[inline(always)]
fn leaf4_m4(input: &[u32; MAX_CFFT], out: &mut [u32], blocks: usize, shift: u32, keep: u32) {
    if blocks == 0 || 4 * blocks > MAX_CFFT || out.len() < 4 * blocks {
        return;
    }
    // Blocks left − 1 in the top half, FIXDIV's 32767 / 4 in the bottom half.
    let k = ((blocks as u32 - 1) << 16) | DIV4;
    // SAFETY: reads `input[..4·blocks]` and writes `out[..4·blocks]` (both checked above;
    // `out` is borrowed mutably and `input` shared, so they are disjoint). r8–r11 hold the
    // four values (LDM/STM need ascending registers); the flags and the Q flag are clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldm {pin}!, {{r8, r9, r10, r11}}",
            "lsl r8, r8, {sh}",
            "and r8, r8, {keep}",
            "lsl r9, r9, {sh}",
            "and r9, r9, {keep}",
            "lsl r10, r10, {sh}",
            "and r10, r10, {keep}",
            "lsl r11, r11, {sh}",
            "and r11, r11, {keep}",
            "smlabb {t}, r8, {k}, {r}",
            "smlatb r8, r8, {k}, {r}",
            "lsl r8, r8, #1",
            "pkhtb r8, r8, {t}, asr #15",
            "smlabb {t}, r9, {k}, {r}",
            "smlatb r9, r9, {k}, {r}",
            "lsl r9, r9, #1",
            "pkhtb r9, r9, {t}, asr #15",
            "smlabb {t}, r10, {k}, {r}",
            "smlatb r10, r10, {k}, {r}",
            "lsl r10, r10, #1",
            "pkhtb r10, r10, {t}, asr #15",
            "smlabb {t}, r11, {k}, {r}",
            "smlatb r11, r11, {k}, {r}",
            "lsl r11, r11, #1",
            "pkhtb r11, r11, {t}, asr #15",
            // s5 = f0 − f2, f0 += f2, s3 = f1 + f3, s4 = f1 − f3
            "ssub16 {t}, r8, r10",
            "sadd16 r8, r8, r10",
            "sadd16 r10, r9, r11",
            "ssub16 r11, r9, r11",
            // f0 + s3, (s5.r + s4.i, s5.i − s4.r), f0 − s3, (s5.r − s4.i, s5.i + s4.r)
            "ssax r9, {t}, r11",
            "sasx r11, {t}, r11",
            "ssub16 {t}, r8, r10",
            "sadd16 r8, r8, r10",
            "mov r10, {t}",
            "stm {pout}!, {{r8, r9, r10, r11}}",
            "subs {k}, {k}, #65536",
            "bcs 2b",
            pin = inout(reg) input.as_ptr() => _,
            pout = inout(reg) out.as_mut_ptr() => _,
            k = inout(reg) k => _,
            sh = in(reg) shift,
            keep = in(reg) keep,
            r = in(reg) 1u32 << 14,
            t = out(reg) _,
            out("r8") _,
            out("r9") _,
            out("r10") _,
            out("r11") _,
            options(nostack),
        );
    }
}

/// One block of [`stage4`] (`block.len() == 4·m`, `tw.len() ≥ m`, `1 ≤ m ≤ 64`) on the M4:
/// the loop of [`bfly4`]s as DSP instructions, written out because the compiler spills
/// registers in it (measured: 65 instructions per butterfly in an exported firmware, 51
/// here). The arithmetic is [`packed`]'s, instruction for instruction; k = 0 multiplies by
/// TWIDDLES[0] like KISS FFT does (the portable version skips that exact no-op).
#[cfg(mote_dsp_asm)]
#[inline(always)]
fn block4(block: &mut [u32], m: usize, tw: &[[u32; 3]]) {
    if m == 0 || m > 64 || block.len() < 4 * m || tw.len() < m {
        return;
    }
    let mut pa = block.as_mut_ptr();
    let mut tp = tw.as_ptr();
    // Loop count m − 1 in the top half, FIXDIV's 32767 / 4 in the bottom half (the only half
    // SMLABB / SMLATB read).
    let mut k = ((m as u32 - 1) << 16) | DIV4;
    // SAFETY: iteration j (< m) reads and writes `block[j + q·m]` for q < 4 (byte offsets
    // 0, 4m, 8m, 12m from `pa` = block + 4j), all below `4·m ≤ block.len()`, and reads
    // `tw[j]` (`tp` = tw + 12j bytes, words 0..3), `j < m ≤ tw.len()`: checked above. The
    // block is borrowed mutably, so nothing else reads it meanwhile. Registers only besides
    // that memory; the flags (and the sticky Q flag) are clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            // s0 = FIXDIV(x1) · w1
            "ldr {a}, [{pa}, {m4}]",
            "smlabb {t}, {a}, {k}, {r}",
            "smlatb {a}, {a}, {k}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            "ldr {w}, [{tp}]",
            "smlsd {t}, {a}, {w}, {r}",
            "smladx {a}, {a}, {w}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {s0}, {a}, {t}, asr #15",
            // s2 = FIXDIV(x3) · w3; s3 = s0 + s2, s4 = s0 − s2 (into s0)
            "ldr {a}, [{pa}, {m12}]",
            "smlabb {t}, {a}, {k}, {r}",
            "smlatb {a}, {a}, {k}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            "ldr {w}, [{tp}, #8]",
            "smlsd {t}, {a}, {w}, {r}",
            "smladx {a}, {a}, {w}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            "sadd16 {s3}, {s0}, {a}",
            "ssub16 {s0}, {s0}, {a}",
            // s1 = FIXDIV(x2) · w2
            "ldr {a}, [{pa}, {m4}, lsl #1]",
            "smlabb {t}, {a}, {k}, {r}",
            "smlatb {a}, {a}, {k}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            "ldr {w}, [{tp}, #4]",
            "smlsd {t}, {a}, {w}, {r}",
            "smladx {a}, {a}, {w}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            // f0 = FIXDIV(x0); s5 = f0 − s1; f0 += s1
            "ldr {w}, [{pa}]",
            "smlabb {t}, {w}, {k}, {r}",
            "smlatb {w}, {w}, {k}, {r}",
            "lsl {w}, {w}, #1",
            "pkhtb {w}, {w}, {t}, asr #15",
            "ssub16 {t}, {w}, {a}",
            "sadd16 {w}, {w}, {a}",
            // outputs: f0 + s3, (s5.r + s4.i, s5.i − s4.r), f0 − s3, (s5.r − s4.i, s5.i + s4.r)
            "sadd16 {a}, {w}, {s3}",
            "str {a}, [{pa}]",
            "ssax {a}, {t}, {s0}",
            "str {a}, [{pa}, {m4}]",
            "ssub16 {a}, {w}, {s3}",
            "str {a}, [{pa}, {m4}, lsl #1]",
            "sasx {a}, {t}, {s0}",
            "str {a}, [{pa}, {m12}]",
            "add {pa}, {pa}, #4",
            "add {tp}, {tp}, #12",
            "subs {k}, {k}, #65536",
            "bcs 2b",
            pa = inout(reg) pa,
            tp = inout(reg) tp,
            k = inout(reg) k,
            m4 = in(reg) 4 * m,
            m12 = in(reg) 12 * m,
            r = in(reg) 1u32 << 14,
            a = out(reg) _,
            t = out(reg) _,
            w = out(reg) _,
            s0 = out(reg) _,
            s3 = out(reg) _,
            options(nostack),
        );
    }
    let _ = (pa, tp, k);
}

/// One block of [`stage4`] (`block.len() == 4·m`, `tw.len() ≥ m`).
#[cfg(not(mote_dsp_asm))]
#[inline(always)]
fn block4(block: &mut [u32], m: usize, tw: &[[u32; 3]]) {
    let (q0, rest) = block.split_at_mut(m);
    let (q1, rest) = rest.split_at_mut(m);
    let (q2, q3) = rest.split_at_mut(m);
    let mut quarters = q0
        .iter_mut()
        .zip(q1.iter_mut().zip(q2.iter_mut().zip(q3.iter_mut())));
    // k = 0: twiddles (32767, 0), which leave the divided values unchanged (`bfly4_tail`).
    if let Some((a, (b, (c, d)))) = quarters.next() {
        let f = [*a, *b, *c, *d].map(|x| packed::fixdiv(x, DIV4));
        [*a, *b, *c, *d] = bfly4_tail(f[0], [f[1], f[2], f[3]]);
    }
    for ((a, (b, (c, d))), w) in quarters.zip(tw.get(1..).unwrap_or(&[])) {
        [*a, *b, *c, *d] = bfly4([*a, *b, *c, *d], *w);
    }
}

/// `kf_bfly2` over a block of `2·m` values.
#[inline(never)]
fn stage2(block: &mut [u32], m: usize, step: usize) {
    if m == 0 || block.len() < 2 * m || (m - 1) * step >= TWIDDLES.len() {
        return;
    }
    let (q0, q1) = block.split_at_mut(m);
    let mut t = 0;
    for (a, b) in q0.iter_mut().zip(q1.iter_mut()) {
        // SAFETY: t = k·step ≤ (m − 1)·step < TWIDDLES.len() (checked above).
        let w = unsafe { *TWIDDLES.get_unchecked(t) };
        [*a, *b] = bfly2([*a, *b], w);
        t += step;
    }
}

/// `kiss_fftr`'s split step, in place: `out[..n]` holds the complex FFT, `out[..=n]` receives
/// the real FFT's bins. Pair k reads `out[k]` and `out[n − k]` and writes the same two slots.
#[inline(never)]
fn split(out: &mut [u32], n: usize, tw_shift: u32) {
    let Some(out) = out.get_mut(..=n) else {
        return;
    };
    if n < 2 {
        return;
    }
    // DC and Nyquist from the sums of the even (re) and odd (im) samples.
    let tdc = packed::fixdiv(out[0], DIV2);
    let (r, i) = (packed::re(tdc), packed::im(tdc));
    out[0] = pack(r.wrapping_add(i), 0);
    out[n] = pack(r.wrapping_sub(i), 0);
    let half = n / 2;
    // head = slots 0..=n/2, tail = slots n/2+1..=n: pair k < n/2 is head[k] and
    // tail[n/2 − 1 − k], i.e. head forwards against tail (without the Nyquist slot) backwards.
    let (head, tail) = out.split_at_mut(half + 1);
    let supers = SUPER_TWIDDLES.get((1 << tw_shift) - 1..).unwrap_or(&[]);
    let lows = head.get_mut(1..half).unwrap_or(&mut []);
    let highs = tail.get_mut(..half - 1).unwrap_or(&mut []);
    #[cfg(mote_dsp_asm)]
    split_pairs_m4(lows, highs, supers, tw_shift);
    #[cfg(not(mote_dsp_asm))]
    if tw_shift == 0 {
        // The largest FFT reads every split twiddle: no stride to step.
        split_pairs(lows, highs, supers.iter());
    } else {
        split_pairs(lows, highs, supers.iter().step_by(1 << tw_shift));
    }
    // k = n/2 pairs the middle bin with itself; the second store wins, as in C.
    let w_mid = SUPER_TWIDDLES.get((half << tw_shift) - 1);
    if let (Some(mid), Some(&w)) = (head.get_mut(half), w_mid) {
        *mid = split_pair(*mid, *mid, w)[1];
    }
}

/// [`split_pairs`] on the M4, as DSP assembly (26 instructions per pair instead of 36): the
/// same [`packed`] arithmetic as [`split_pair`], instruction for instruction; the conjugate's
/// negated imaginary part is `SSUB16` from zero (wrapping, as `wrapping_neg`). Twiddle `j`
/// is `supers[j << tw_shift]`.
#[cfg(mote_dsp_asm)]
#[inline(always)]
fn split_pairs_m4(lows: &mut [u32], highs: &mut [u32], supers: &[u32], tw_shift: u32) {
    let count = lows.len();
    if count == 0
        || count > 0xFFFF
        || highs.len() != count
        || ((count - 1) << tw_shift) >= supers.len()
    {
        return;
    }
    let mut plo = lows.as_mut_ptr();
    // SAFETY: `count ≥ 1`, so the last element of `highs` is in bounds.
    let mut phi = unsafe { highs.as_mut_ptr().add(count - 1) };
    let mut ptw = supers.as_ptr();
    // Pairs left − 1 in the top half, FIXDIV's 32767 / 2 in the bottom half.
    let mut k = ((count as u32 - 1) << 16) | DIV2;
    // SAFETY: pair j (< count) reads and writes `lows[j]` (`plo`, +4 bytes per pair) and
    // `highs[count − 1 − j]` (`phi`, −4), and reads `supers[j << tw_shift]` (`ptw`, + the
    // stride), all in bounds (checked above); the slices are borrowed mutably (the two are
    // disjoint: `split` takes them from `split_at_mut`). Registers only besides; the flags
    // (and the sticky Q flag) are clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldr {a}, [{plo}]",
            "ldr {b}, [{phi}]",
            // fpk = FIXDIV(a)
            "smlabb {t}, {a}, {k}, {r}",
            "smlatb {a}, {a}, {k}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {t}, asr #15",
            // fpnk = FIXDIV(conj(b)): real part from b, imaginary part from 0 − b
            "smlabb {t}, {b}, {k}, {r}",
            "ssub16 {c}, {z}, {b}",
            "smlatb {b}, {c}, {k}, {r}",
            "lsl {b}, {b}, #1",
            "pkhtb {b}, {b}, {t}, asr #15",
            // f1k = fpk + fpnk (t), f2k = fpk − fpnk (a)
            "sadd16 {t}, {a}, {b}",
            "ssub16 {a}, {a}, {b}",
            // tw = f2k · w (a)
            "ldr {c}, [{ptw}]",
            "add {ptw}, {ptw}, {st}",
            "smlsd {b}, {a}, {c}, {r}",
            "smladx {a}, {a}, {c}, {r}",
            "lsl {a}, {a}, #1",
            "pkhtb {a}, {a}, {b}, asr #15",
            // bin k = (f1k + tw) / 2; bin n − k = ((f1k.r − tw.r) / 2, (tw.i − f1k.i) / 2)
            "shadd16 {b}, {t}, {a}",
            "str {b}, [{plo}], #4",
            "pkhbt {b}, {t}, {a}",
            "pkhbt {t}, {a}, {t}",
            "shsub16 {b}, {b}, {t}",
            "str {b}, [{phi}], #-4",
            "subs {k}, {k}, #65536",
            "bcs 2b",
            plo = inout(reg) plo,
            phi = inout(reg) phi,
            ptw = inout(reg) ptw,
            k = inout(reg) k,
            st = in(reg) 4u32 << tw_shift,
            r = in(reg) 1u32 << 14,
            z = in(reg) 0u32,
            a = out(reg) _,
            b = out(reg) _,
            c = out(reg) _,
            t = out(reg) _,
            options(nostack),
        );
    }
    let _ = (plo, phi, ptw, k);
}

/// The split step's pairs: `lows` forwards against `highs` backwards, twiddles in order.
#[cfg(not(mote_dsp_asm))]
#[inline(always)]
fn split_pairs<'a>(lows: &mut [u32], highs: &mut [u32], supers: impl Iterator<Item = &'a u32>) {
    for ((lo, hi), &w) in lows.iter_mut().zip(highs.iter_mut().rev()).zip(supers) {
        [*lo, *hi] = split_pair(*lo, *hi, w);
    }
}

/// One pair of the split step: bins k and n − k from complex outputs `a` = Z[k], `b` = Z[n−k]
/// and split twiddle `w`.
#[inline(always)]
fn split_pair(a: u32, b: u32, w: u32) -> [u32; 2] {
    let fpk = packed::fixdiv(a, DIV2);
    // The conjugate's imaginary part negated in int16 (−(−32768) wraps), then divided.
    let conj = pack(packed::re(b), packed::im(b).wrapping_neg());
    let fpnk = packed::fixdiv(conj, DIV2);
    let f1k = packed::add(fpk, fpnk);
    let f2k = packed::sub(fpk, fpnk);
    let tw = packed::mul(f2k, w);
    // HALF_OF on the int sums. (f1k.r − tw.r, tw.i − f1k.i) / 2: lanes picked so that one
    // halving subtract does both.
    let lhs = (f1k & 0xFFFF) | (tw & 0xFFFF_0000);
    let rhs = (tw & 0xFFFF) | (f1k & 0xFFFF_0000);
    [packed::half_add(f1k, tw), packed::half_sub(lhs, rhs)]
}

#[cfg(test)]
mod tests {
    use super::super::fft_reference::{self, Cpx};
    use super::*;

    /// The flash tables are KISS FFT's: recomputed here with the C code's formulas (libm).
    #[test]
    fn flash_tables_match_kiss() {
        let reference = fft_reference::RealFft::new(512);
        for (i, &t) in TWIDDLES.iter().enumerate() {
            let c = reference.twiddle(i);
            assert_eq!(t, pack(c.r, c.i), "twiddle {i}");
        }
        for (i, &t) in SUPER_TWIDDLES.iter().enumerate() {
            let c = reference.super_twiddle(i);
            assert_eq!(t, pack(c.r, c.i), "super twiddle {i}");
        }
    }

    /// Samples as `fft`'s complex input pairs, zero padded, in leaf order.
    fn pairs(fft: &RealFft, input: &[i16]) -> [u32; MAX_CFFT] {
        let mut out = [0; MAX_CFFT];
        for (j, p) in input.chunks(2).enumerate() {
            out[usize::from(fft.order()[j])] = pack(p[0], p.get(1).copied().unwrap_or(0));
        }
        out
    }

    fn check(size: usize, input: &[i16]) {
        let mut reference = fft_reference::RealFft::new(size);
        let mut want = [Cpx::default(); 257];
        reference.forward(input, &mut want[..=size / 2]);
        let mut fft = RealFft::EMPTY;
        fft.plan(size);
        let mut got = [0u32; 257];
        fft.forward(&pairs(&fft, input), 0, &mut got[..=size / 2]);
        for k in 0..=size / 2 {
            assert_eq!(
                (packed::re(got[k]), packed::im(got[k])),
                (want[k].r, want[k].i),
                "size {size} bin {k}"
            );
        }
    }

    /// Property test: the packed FFT equals the scalar port of KISS FFT for every supported
    /// size, on random input at several levels, full-scale extremes and impulses.
    #[test]
    fn matches_kiss_fft_port() {
        let mut seed = 0x2545_f491u32;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed
        };
        let mut size = 4;
        while size <= 512 {
            for round in 0..60 {
                let shift = round % 16; // amplitude from full scale down to ±1
                let input: std::vec::Vec<i16> = (0..size)
                    .map(|_| match round {
                        0 => i16::MIN,
                        1 => i16::MAX,
                        2 => {
                            if next() & 1 == 0 {
                                i16::MIN
                            } else {
                                i16::MAX
                            }
                        }
                        _ => (next() as i16) >> shift,
                    })
                    .collect();
                check(size, &input);
            }
            for pos in [0, 1, size / 2, size - 1] {
                let mut input = std::vec![0i16; size];
                input[pos] = i16::MIN;
                check(size, &input);
                input[pos] = i16::MAX;
                check(size, &input);
            }
            size *= 2;
        }
    }

    /// A window shorter than the FFT, shifted while read: the same as shifting and zero
    /// padding first (the front end's `(int16_t)(x << shift)`).
    #[test]
    fn shift_and_zero_padding() {
        let mut seed = 7u32;
        for (len, shift) in [(480, 0), (480, 3), (479, 15), (400, 7), (512, 1)] {
            let input: std::vec::Vec<i16> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (seed >> 16) as i16 >> 4
                })
                .collect();
            let mut padded = std::vec![0i16; 512];
            for (p, &x) in padded.iter_mut().zip(&input) {
                *p = (x as u16).wrapping_shl(shift) as i16;
            }
            let mut reference = fft_reference::RealFft::new(512);
            let mut want = [Cpx::default(); 257];
            reference.forward(&padded, &mut want);
            let mut fft = RealFft::EMPTY;
            fft.plan(512);
            let mut got = [0u32; 257];
            fft.forward(&pairs(&fft, &input), shift, &mut got);
            for k in 0..=256 {
                assert_eq!(
                    (packed::re(got[k]), packed::im(got[k])),
                    (want[k].r, want[k].i)
                );
            }
        }
    }

    #[test]
    fn leaves_are_digit_reversed() {
        let mut f = RealFft::EMPTY;
        f.plan(512);
        // 256 = 4·4·4·4: leaf b = (q0, q1, q2) in base 4 starts at q0 + 4·q1 + 16·q2 and
        // reads stride 64; its inputs go to slots 4b..4b + 4.
        let slots = [
            (0, 0),
            (64, 1),
            (192, 3),
            (16, 4),
            (32, 8),
            (4, 16),
            (20, 20),
            (1, 64),
        ];
        for (j, slot) in slots {
            assert_eq!(f.order()[j], slot, "pair {j}");
        }
        let mut seen = [false; MAX_CFFT];
        for &o in f.order() {
            seen[usize::from(o)] = true;
        }
        assert!(seen.iter().all(|&s| s), "a permutation");
        f.plan(256);
        // 128 = 4·4·4·2: leaf b = (q0, q1, q2) starts at q0 + 4·q1 + 16·q2, stride 64.
        assert_eq!(&f.order()[..4], &[0, 32, 64, 96]);
        assert_eq!((f.order()[64], f.order()[16]), (1, 2));
        assert_eq!(f.tw_shift, 1);
    }
}
