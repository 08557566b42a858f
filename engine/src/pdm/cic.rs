//! Third-order CIC (sinc3) decimator by 25 over a PDM bit stream, eight bits per step.
//!
//! Per bit `x = ±1` the three integrators are `i1 += x; i2 += i1; i3 += i2` (each adding the
//! updated value before it), and every 25th bit the comb cascade `c = i3 − i3[−25]`, twice
//! more, gives one output in `−15 625..=15 625`. That is the DFSDM's Sinc3 with FOSR 25
//! ([`super::dfsdm`] models it and the tests compare the two bit for bit).
//!
//! Eight bits `x_1..x_8` (oldest first) advance the integrators in closed form:
//! `i3 += 8·i2 + 36·i1 + S2`, `i2 += 8·i1 + S1`, `i1 += S0` with `S0 = Σ x_s`,
//! `S1 = Σ (9 − s)·x_s`, `S2 = Σ C(10 − s, 2)·x_s`, per byte from tables. When the 25th bit
//! falls inside a byte (after its first `k` bits, 1 ≤ k ≤ 8) the output needs `i3` there:
//! `i3 + k·i2 + k(k+1)/2·i1 + P_k`, with `P_k = Σ_{s≤k} C(k − s + 2, 2)·x_s` looked up by the
//! byte's top `k` bits; the byte then advances the state as a whole.
//!
//! The state is kept as `i1`, `I2 = 2·i2 + 9·i1` and `J3 = 2·i3`, which makes a byte five
//! additions: `J3 += 8·I2 + 2·S2`, `I2 += 16·i1 + (2·S1 + 9·S0)`, `i1 += S0`, and `2·i3` at bit
//! k is `J3 + k·I2 + k(k − 8)·i1 + 2·P_k`. Everything wraps modulo 2^32; the combs of
//! `2·i3` give `2·y` exactly (|2y| ≤ 31 250), halved at the end.
//!
//! 25 bytes are 200 bits, exactly 8 outputs, so where outputs fall repeats every 25 bytes: the
//! 4th, 7th, …, 25th byte hold output bits at k = 1, 2, …, 8. [`Cic3::process`] runs such
//! aligned groups as straight-line code with those constants (no per-byte phase test);
//! anything else goes byte by byte ([`Cic3::push_byte`]).

/// Decimation ratio.
pub const RATIO: u32 = 25;

/// Per byte `v` (MSB = oldest bit, ±1 bits): `[S0, 2·S1 + 9·S0, 2·S2, 2·P_k]` (|·| ≤ 240), one
/// row per byte so a single base address serves the three loads of [`advance`]. The fourth
/// column is the partial sums [`at_bit`] reads: at index `v = (1 << k) | (byte >> (8 − k))`
/// for k in 1..=7 (rows 0 and 1: 0); for k = 8 the index is 256 + byte and `2·P_8 = 2·S2`,
/// the third column of row `byte` (so no separate 1 KB table).
static STEP: [[i16; 4]; 256] = step_table();

const fn bit(v: u32, s: u32, len: u32) -> i32 {
    // Bit s (1-based, oldest first) of the `len`-bit value v, as ±1.
    if (v >> (len - s)) & 1 == 1 {
        1
    } else {
        -1
    }
}

/// `[S0, S1, S2]` of a byte.
const fn sums(v: u32) -> [i32; 3] {
    let (mut s0, mut s1, mut s2) = (0i32, 0i32, 0i32);
    let mut s = 1;
    while s <= 8 {
        let x = bit(v, s, 8);
        let m = (9 - s) as i32;
        s0 += x;
        s1 += m * x;
        s2 += m * (m + 1) / 2 * x;
        s += 1;
    }
    [s0, s1, s2]
}

/// `P_k` of the `k`-bit value `v`.
const fn partial(v: u32, k: u32) -> i32 {
    let mut p = 0i32;
    let mut s = 1;
    while s <= k {
        let m = (k - s + 1) as i32;
        p += m * (m + 1) / 2 * bit(v, s, k);
        s += 1;
    }
    p
}

const fn step_table() -> [[i16; 4]; 256] {
    let mut t = [[0i16; 4]; 256];
    let mut v = 0;
    while v < 256 {
        let [s0, s1, s2] = sums(v as u32);
        t[v] = [s0 as i16, (2 * s1 + 9 * s0) as i16, (2 * s2) as i16, 0];
        v += 1;
    }
    let mut k = 1;
    while k <= 7 {
        let mut v = 0;
        while v < (1 << k) {
            t[(1 << k) | v as usize][3] = (2 * partial(v, k)) as i16;
            v += 1;
        }
        k += 1;
    }
    t
}

/// `2·P_k` at index `(1 << k) | (byte >> (8 − k))` for k in 1..=8: what [`STEP`]'s fourth and
/// third columns hold (the tests' reference).
#[cfg(test)]
const fn part_table() -> [i16; 512] {
    let mut t = [0i16; 512];
    let mut k = 1;
    while k <= 8 {
        let mut v = 0;
        while v < (1 << k) {
            t[(1 << k) | v as usize] = (2 * partial(v, k)) as i16;
            v += 1;
        }
        k += 1;
    }
    t
}

/// CIC3 ÷ 25 state (scaled integrators, see the module docs), comb delays, and the bits still
/// needed for the next output.
#[derive(Clone, Copy, Debug)]
pub struct Cic3 {
    i1: u32,
    /// `2·i2 + 9·i1`.
    i2x: u32,
    /// `2·i3`.
    j3: u32,
    d1: u32,
    d2: u32,
    d3: u32,
    /// Bits until (and including) the one that completes the next output: 1..=25.
    rem: u32,
}

impl Default for Cic3 {
    fn default() -> Self {
        Self::new()
    }
}

/// One whole byte: `J3 += 8·I2 + 2·S2`, `I2 += 16·i1 + T1`, `i1 += S0`.
#[inline(always)]
fn advance(b: u8, i1: &mut u32, i2x: &mut u32, j3: &mut u32) {
    let [s0, t1, s2x, _] = STEP[usize::from(b)];
    *j3 = j3.wrapping_add(*i2x << 3).wrapping_add(s2x as i32 as u32);
    *i2x = i2x.wrapping_add(*i1 << 4).wrapping_add(t1 as i32 as u32);
    *i1 = i1.wrapping_add(s0 as i32 as u32);
}

/// `2·i3` after the first `k` bits of `b` (1 ≤ k ≤ 8), from the state before `b`.
#[inline(always)]
fn at_bit(b: u8, k: u32, i1: u32, i2x: u32, j3: u32) -> u32 {
    let i = ((1u32 << k) | (u32::from(b) >> (8 - k))) & 0x1FF;
    // Row i & 255 of STEP, column 3 (k ≤ 7, i < 256) or 2 (k = 8: 2·P_8 = 2·S2).
    let p = STEP
        .as_flattened()
        .get((((i & 0xFF) << 2) + 3 - (i >> 8)) as usize)
        .copied()
        .unwrap_or(0);
    j3.wrapping_add(i2x.wrapping_mul(k))
        .wrapping_add(i1.wrapping_mul((k as i32 * (k as i32 - 8)) as u32))
        .wrapping_add(p as i32 as u32)
}

impl Cic3 {
    /// All state zero; the first output comes after 25 bits.
    pub const fn new() -> Self {
        Cic3 {
            i1: 0,
            i2x: 0,
            j3: 0,
            d1: 0,
            d2: 0,
            d3: 0,
            rem: RATIO,
        }
    }

    /// Decimates `bytes` (MSB first) into `out`; returns the outputs written (at most
    /// `(8·len + 24) / 25`; outputs beyond `out.len()` are dropped).
    pub fn process(&mut self, bytes: &[u8], out: &mut [i16]) -> usize {
        let mut n = 0;
        let mut rest = bytes;
        while !rest.is_empty() {
            if self.rem == RATIO {
                if let (Some(group), Some(dst)) = (rest.get(..25), out.get_mut(n..n + 8)) {
                    if let (Ok(group), Ok(dst)) =
                        (<&[u8; 25]>::try_from(group), <&mut [i16; 8]>::try_from(dst))
                    {
                        self.group(group, dst);
                        n += 8;
                        rest = rest.get(25..).unwrap_or(&[]);
                        continue;
                    }
                }
            }
            let (&b, tail) = match rest.split_first() {
                Some(x) => x,
                None => break,
            };
            self.push_byte(b, |y| {
                if let Some(slot) = out.get_mut(n) {
                    *slot = y as i16;
                    n += 1;
                }
            });
            rest = tail;
        }
        n
    }

    /// 25 bytes starting on an output boundary (`rem == 25`) → 8 outputs; `rem` stays 25.
    #[inline(always)]
    fn group(&mut self, g: &[u8; 25], out: &mut [i16; 8]) {
        let (mut i1, mut i2x, mut j3) = (self.i1, self.i2x, self.j3);
        let (mut d1, mut d2, mut d3) = (self.d1, self.d2, self.d3);
        // Comb `2·i3` value `v` into output `o`.
        macro_rules! comb {
            ($v:expr, $o:expr) => {{
                let v: u32 = $v;
                let c1 = v.wrapping_sub(d1);
                d1 = v;
                let c2 = c1.wrapping_sub(d2);
                d2 = c1;
                out[$o] = ((c2.wrapping_sub(d3) as i32) >> 1) as i16;
                d3 = c2;
            }};
        }
        // Two whole bytes, then one whose first K bits complete output `o`.
        macro_rules! seg {
            ($a:expr, $b:expr, $c:expr, $k:literal, $o:literal) => {{
                advance(g[$a], &mut i1, &mut i2x, &mut j3);
                advance(g[$b], &mut i1, &mut i2x, &mut j3);
                let v = at_bit(g[$c], $k, i1, i2x, j3);
                advance(g[$c], &mut i1, &mut i2x, &mut j3);
                comb!(v, $o);
            }};
        }
        advance(g[0], &mut i1, &mut i2x, &mut j3);
        seg!(1, 2, 3, 1, 0);
        seg!(4, 5, 6, 2, 1);
        seg!(7, 8, 9, 3, 2);
        seg!(10, 11, 12, 4, 3);
        seg!(13, 14, 15, 5, 4);
        seg!(16, 17, 18, 6, 5);
        seg!(19, 20, 21, 7, 6);
        seg!(22, 23, 24, 8, 7);
        (self.i1, self.i2x, self.j3) = (i1, i2x, j3);
        (self.d1, self.d2, self.d3) = (d1, d2, d3);
    }

    /// Consumes eight bits (MSB first); calls `emit` with the output they complete, if any
    /// (at most one: 25 > 8).
    #[inline(always)]
    pub fn push_byte(&mut self, byte: u8, mut emit: impl FnMut(i32)) {
        let k = self.rem;
        let at = (k <= 8).then(|| at_bit(byte, k, self.i1, self.i2x, self.j3));
        advance(byte, &mut self.i1, &mut self.i2x, &mut self.j3);
        match at {
            Some(v) => {
                let c1 = v.wrapping_sub(self.d1);
                self.d1 = v;
                let c2 = c1.wrapping_sub(self.d2);
                self.d2 = c1;
                let c3 = c2.wrapping_sub(self.d3);
                self.d3 = c2;
                self.rem = k + RATIO - 8;
                emit((c3 as i32) >> 1);
            }
            None => self.rem = k - 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// The textbook bit-serial CIC3 (what the firmware ran before), as the reference.
    fn bitwise(bytes: &[u8]) -> Vec<i32> {
        let (mut i1, mut i2, mut i3, mut d1, mut d2, mut d3) = (0i64, 0i64, 0i64, 0i64, 0i64, 0i64);
        let mut out = Vec::new();
        let mut phase = 0;
        for &b in bytes {
            for s in (0..8).rev() {
                let x = if b >> s & 1 == 1 { 1 } else { -1 };
                i1 += x;
                i2 += i1;
                i3 += i2;
                phase += 1;
                if phase == RATIO {
                    phase = 0;
                    let c1 = i3 - d1;
                    d1 = i3;
                    let c2 = c1 - d2;
                    d2 = c1;
                    out.push((c2 - d3) as i32);
                    d3 = c2;
                }
            }
        }
        out
    }

    fn bytewise(bytes: &[u8]) -> Vec<i32> {
        let mut c = Cic3::new();
        let mut out = Vec::new();
        for &b in bytes {
            c.push_byte(b, |y| out.push(y));
        }
        out
    }

    #[test]
    fn tables_by_hand() {
        // 0xFF: eight +1: S0 = 8, S1 = 8+7+…+1 = 36, S2 = Σ C(m+1, 2) = C(10, 3) = 120.
        assert_eq!(sums(0xFF), [8, 36, 120]);
        assert_eq!(sums(0x00), [-8, -36, -120]);
        // 0x80: +1 then seven −1: S0 = 1 − 7 = −6; S1 = 8 − 28 = −20; S2 = 36 − 84 = −48.
        assert_eq!(sums(0x80), [-6, -20, -48]);
        assert_eq!(STEP[0x80][..3], [-6, -40 - 54, -96]);
        // k = 1, bit 1: P = C(2, 2) = 1; k = 2, bits 10: 3 − 1 = 2; k = 7, all ones: C(9, 3).
        let p2 = part_table();
        for v in 0..256 {
            assert_eq!(STEP[v][3], p2[v], "P2[{v}] is STEP's fourth column");
        }
        assert_eq!(p2[0b11], 2);
        assert_eq!(p2[0b110], 4);
        assert_eq!(p2[0xFF], 168);
        for b in 0..256 {
            assert_eq!(p2[256 | b], STEP[b][2], "P_8 is S2");
        }
    }

    #[test]
    fn grouped_equals_bytewise_at_any_alignment_and_chunking() {
        let bytes: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_246_822_519) >> 7) as u8)
            .collect();
        let want = bytewise(&bytes);
        for chunk in [1, 7, 25, 26, 50, 500, 3000] {
            let mut c = Cic3::new();
            let mut got = Vec::new();
            for part in bytes.chunks(chunk) {
                let mut o = vec![0i16; part.len() + 1];
                let n = c.process(part, &mut o);
                got.extend(o[..n].iter().map(|&v| i32::from(v)));
            }
            assert_eq!(got, want, "chunks of {chunk}");
        }
        // A start off the boundary (3 bytes first) realigns after 25 bytes.
        let mut c = Cic3::new();
        let mut o = [0i16; 1000];
        let n1 = c.process(&bytes[..3], &mut o);
        let n2 = c.process(&bytes[3..], &mut o[n1..]);
        let got: Vec<i32> = o[..n1 + n2].iter().map(|&v| i32::from(v)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn equals_the_bit_serial_cic() {
        let mut seed = 0x1234_5678u32;
        let bytes: Vec<u8> = (0..20_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect();
        let want = bitwise(&bytes);
        assert_eq!(want.len(), 20_000 * 8 / 25);
        assert_eq!(bytewise(&bytes), want);
        assert_eq!(bytewise(&[0xFF; 1000]), bitwise(&[0xFF; 1000]));
        assert_eq!(*bytewise(&[0xFF; 100]).last().unwrap(), 15_625);
        assert_eq!(*bytewise(&[0x00; 100]).last().unwrap(), -15_625);
    }
}
