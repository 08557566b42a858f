//! Int8 multiply-accumulate primitives for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED.
//!
//! Every function computes exact int32 sums of `f * (x + offset)` with wrapping addition, like
//! TFLM's reference kernels; only the order of the (exact, wrapping) additions differs between
//! implementations, which cannot change an int32 sum taken modulo 2^32.
//!
//! Two implementations of the same arithmetic:
//! - *packed*: four int8 values per 32-bit word. On Cortex-M4/M7 (`cfg(mote_dsp)`, set by the
//!   engine's build script for `thumbv7em` targets) it runs on the DSP extension: `SXTB16` /
//!   `SXTAB16` widen two int8 lanes to int16 (adding the input offset on the way), `SMLAD`
//!   multiplies both lanes and adds both products to an accumulator, `SMLAxy` multiply one
//!   lane each. Words are read with single unaligned `LDR`s (allowed on ARMv7-M for LDR, never
//!   for LDRD/LDM, which the compiler only forms for word-aligned data).
//! - *portable*: plain loops, used on every other target (the host compiler vectorizes them).
//!
//! On the host, tests run the packed code on [`isa`]'s portable emulation of those instructions
//! and compare it with the portable code and with a naive reference, so both paths are checked
//! on every `cargo test`; the firmware's golden run in QEMU checks the real instructions.

/// Offsets for which `x + offset` (x an int8) fits an int16 lane: the packed paths need it.
/// Valid int8 zero points give offsets in `-127..=128`; anything else takes the portable path.
#[inline(always)]
fn offset_fits_i16(offset: i32) -> bool {
    (-32_000..=32_000).contains(&offset)
}

/// `sum(f[k] * (x[k] + x_offset))` over the common length of `x` and `f` (int8 bytes),
/// wrapping like TFLM's int32 accumulator.
#[inline(never)]
pub fn dot(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
    #[cfg(mote_dsp)]
    if offset_fits_i16(x_offset) {
        return packed::dot(x, f, x_offset);
    }
    portable::dot(x, f, x_offset)
}

/// [`dot`] of one input against two filter rows: `[dot(x, f0), dot(x, f1)]`.
#[inline]
pub fn dot2(x: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 2] {
    #[cfg(mote_dsp)]
    if offset_fits_i16(x_offset) {
        return packed::dot2(x, f0, f1, x_offset);
    }
    [
        portable::dot(x, f0, x_offset),
        portable::dot(x, f1, x_offset),
    ]
}

/// Two inputs against two filter rows: `[dot(a, f0), dot(a, f1), dot(b, f0), dot(b, f1)]`
/// (each load of a filter word serves both inputs, each input word both filters).
#[inline]
pub fn dot2x2(a: &[u8], b: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 4] {
    #[cfg(mote_dsp)]
    if offset_fits_i16(x_offset) {
        return packed::dot2x2(a, b, f0, f1, x_offset);
    }
    [
        portable::dot(a, f0, x_offset),
        portable::dot(a, f1, x_offset),
        portable::dot(b, f0, x_offset),
        portable::dot(b, f1, x_offset),
    ]
}

/// Four lanes of depthwise accumulation: `acc[i] += f[i] * (x[i] + offset)` for the four
/// int8 bytes of `x` and `f` (lane i = byte i, little-endian). `offset2` is [`pack_offset`].
#[inline(always)]
pub fn mac4(acc: &mut [i32; 4], x: u32, f: u32, offset2: u32) {
    #[cfg(mote_dsp)]
    packed::mac4(acc, x, f, offset2);
    #[cfg(not(mote_dsp))]
    portable::mac4(acc, x, f, offset2);
}

/// Four lanes of depthwise accumulation with one shared input value:
/// `acc[i] += f[i] * xo` where `xo = x + offset` must fit an int16.
#[inline(always)]
pub fn mac4_scalar(acc: &mut [i32; 4], xo: i32, f: u32) {
    #[cfg(mote_dsp)]
    packed::mac4_scalar(acc, xo, f);
    #[cfg(not(mote_dsp))]
    portable::mac4_scalar(acc, xo, f);
}

/// Depthwise accumulation of four channels over `n` taps:
/// `acc[i] += sum(f[k*f_step + i] * (x[k*x_step + i] + x_offset))` for `k < n`, `i < 4`.
///
/// One bounds check for the whole run, then one unaligned word of each per tap (the
/// accumulators stay in registers). A run that does not fit the slices (which prepare rules
/// out) is computed with checked byte reads instead.
#[inline(never)]
pub fn mac4_run(
    acc: &mut [i32; 4],
    x: &[u8],
    x_step: usize,
    f: &[u8],
    f_step: usize,
    n: usize,
    x_offset: i32,
) {
    if n == 0 {
        return;
    }
    if !offset_ok(x_offset) || !run_fits(x.len(), x_step, n, 4) || !run_fits(f.len(), f_step, n, 4)
    {
        return mac4_run_checked(acc, x, x_step, f, f_step, n, x_offset, true);
    }
    let off2 = pack_offset(x_offset);
    let mut a = *acc;
    let (mut xp, mut fp) = (x.as_ptr(), f.as_ptr());
    for k in 0..n {
        // SAFETY: run_fits proved (n-1)*step + 4 <= len for both slices, so the 4 bytes at
        // k*step (k < n) are inside them; read_unaligned has no alignment requirement (a
        // single LDR on ARMv7-M).
        let (xv, fv) = unsafe {
            (
                xp.cast::<u32>().read_unaligned(),
                fp.cast::<u32>().read_unaligned(),
            )
        };
        mac4(&mut a, u32::from_le(xv), u32::from_le(fv), off2);
        if k + 1 < n {
            // SAFETY: k + 1 < n, so the advanced pointers still point inside the slices.
            unsafe {
                xp = xp.add(x_step);
                fp = fp.add(f_step);
            }
        }
    }
    *acc = a;
}

/// [`mac4_run`] over a grid of `n_out` runs of `n_in` taps: run `o` starts `o * x_out`
/// bytes into `x` and `o * f_out` into `f` (a depthwise window's rows), for every block of
/// four channels: `acc[4b..4b + 4]` reads `x` and `f` from byte `4b` on. One bounds check for
/// the whole grid and all blocks; the accumulators stay in registers across every tap.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
pub fn mac4_grid(
    acc: &mut [i32],
    x: &[u8],
    (x_in, x_out): (usize, usize),
    f: &[u8],
    (f_in, f_out): (usize, usize),
    (n_in, n_out): (usize, usize),
    x_offset: i32,
) {
    let blocks = acc.len() / 4;
    if n_in == 0 || n_out == 0 || blocks == 0 {
        return;
    }
    let fits = |len: usize, s_in: usize, s_out: usize| {
        (n_out - 1)
            .checked_mul(s_out)
            .zip((n_in - 1).checked_mul(s_in))
            .and_then(|(a, b)| a.checked_add(b)?.checked_add(4 * blocks))
            .is_some_and(|end| end <= len)
    };
    let acc4 = acc
        .chunks_exact_mut(4)
        .filter_map(|a| <&mut [i32; 4]>::try_from(a).ok());
    if !offset_ok(x_offset) || !fits(x.len(), x_in, x_out) || !fits(f.len(), f_in, f_out) {
        for (b, a4) in acc4.enumerate() {
            for o in 0..n_out {
                let xs = x
                    .get(o.wrapping_mul(x_out).wrapping_add(4 * b)..)
                    .unwrap_or(&[]);
                let fs = f
                    .get(o.wrapping_mul(f_out).wrapping_add(4 * b)..)
                    .unwrap_or(&[]);
                mac4_run_checked(a4, xs, x_in, fs, f_in, n_in, x_offset, true);
            }
        }
        return;
    }
    let off2 = pack_offset(x_offset);
    for (b, a4) in acc4.enumerate() {
        #[cfg(mote_dsp_asm)]
        {
            let [mut a0, mut a1, mut a2, mut a3] = *a4;
            for o in 0..n_out {
                // SAFETY: `fits` proved that every tap (k < n_in) of run o < n_out of block
                // b < blocks lies inside `x` and `f` (4 bytes at 4b + o*s_out + k*s_in); the
                // loop reads exactly those with unaligned LDRs (allowed on ARMv7-M). r6/r7
                // (reserved by LLVM) are pushed before use and popped after; every other
                // register used is listed. SMLAxy may set APSR.Q, which nothing reads.
                unsafe {
                    core::arch::asm!(
                        "push {{r6, r7}}",
                        "2:",
                        "ldr r6, [r0]",
                        "add r0, r0, r2",
                        "ldr r8, [r1]",
                        "add r1, r1, r3",
                        "sxtab16 r7, r5, r6",
                        "sxtab16 r6, r5, r6, ror #8",
                        "sxtb16 r9, r8",
                        "sxtb16 r8, r8, ror #8",
                        "smlabb r10, r7, r9, r10",
                        "smlabb r11, r6, r8, r11",
                        "smlatt r12, r7, r9, r12",
                        "smlatt lr, r6, r8, lr",
                        "subs r4, r4, #1",
                        "bne 2b",
                        "pop {{r6, r7}}",
                        inout("r0") x.as_ptr().add(4 * b + o * x_out) => _,
                        inout("r1") f.as_ptr().add(4 * b + o * f_out) => _,
                        in("r2") x_in,
                        in("r3") f_in,
                        inout("r4") n_in => _,
                        in("r5") off2,
                        out("r8") _,
                        out("r9") _,
                        inout("r10") a0,
                        inout("r11") a1,
                        inout("r12") a2,
                        inout("lr") a3,
                        options(readonly),
                    );
                }
            }
            *a4 = [a0, a1, a2, a3];
        }
        #[cfg(not(mote_dsp_asm))]
        {
            let mut a = *a4;
            for o in 0..n_out {
                for k in 0..n_in {
                    let (xi, fi) = (4 * b + o * x_out + k * x_in, 4 * b + o * f_out + k * f_in);
                    // SAFETY: `fits` proved 4*blocks + (n_out-1)*s_out + (n_in-1)*s_in <= len
                    // for both slices (no overflow), and b < blocks, o < n_out, k < n_in, so
                    // the 4 bytes at xi / fi are inside them; read_unaligned has no alignment
                    // requirement (one LDR on ARMv7-M).
                    let (xv, fv) = unsafe {
                        (
                            x.as_ptr().add(xi).cast::<u32>().read_unaligned(),
                            f.as_ptr().add(fi).cast::<u32>().read_unaligned(),
                        )
                    };
                    mac4(&mut a, u32::from_le(xv), u32::from_le(fv), off2);
                }
            }
            *a4 = a;
        }
    }
}

/// [`mac4_run`] with one input byte per tap shared by the four channels:
/// `acc[i] += sum(f[k*f_step + i] * (x[k*x_step] + x_offset))`.
#[inline(never)]
pub fn mac4_run_scalar(
    acc: &mut [i32; 4],
    x: &[u8],
    x_step: usize,
    f: &[u8],
    f_step: usize,
    n: usize,
    x_offset: i32,
) {
    if n == 0 {
        return;
    }
    if !offset_ok(x_offset) || !run_fits(x.len(), x_step, n, 1) || !run_fits(f.len(), f_step, n, 4)
    {
        return mac4_run_checked(acc, x, x_step, f, f_step, n, x_offset, false);
    }
    let mut a = *acc;
    let (mut xp, mut fp) = (x.as_ptr(), f.as_ptr());
    for k in 0..n {
        // SAFETY: as in mac4_run (1 byte of x, 4 of f, both proven in bounds).
        let (xv, fv) = unsafe { (xp.cast::<i8>().read(), fp.cast::<u32>().read_unaligned()) };
        mac4_scalar(&mut a, xv as i32 + x_offset, u32::from_le(fv));
        if k + 1 < n {
            // SAFETY: k + 1 < n, so the advanced pointers still point inside the slices.
            unsafe {
                xp = xp.add(x_step);
                fp = fp.add(f_step);
            }
        }
    }
    *acc = a;
}

/// Whether `n` reads of `width` bytes at multiples of `step` fit in `len` bytes.
#[inline(always)]
fn run_fits(len: usize, step: usize, n: usize, width: usize) -> bool {
    (n - 1)
        .checked_mul(step)
        .and_then(|v| v.checked_add(width))
        .is_some_and(|end| end <= len)
}

/// The safe fallback of the run kernels: byte reads through `get` (missing bytes count as 0,
/// which cannot happen for shapes prepare accepted).
#[allow(clippy::too_many_arguments)]
#[cold]
fn mac4_run_checked(
    acc: &mut [i32; 4],
    x: &[u8],
    x_step: usize,
    f: &[u8],
    f_step: usize,
    n: usize,
    off: i32,
    lanes: bool,
) {
    for k in 0..n {
        for (i, a) in acc.iter_mut().enumerate() {
            let xi = k
                .wrapping_mul(x_step)
                .wrapping_add(if lanes { i } else { 0 });
            let fi = k.wrapping_mul(f_step).wrapping_add(i);
            let xv = x.get(xi).map_or(0, |&b| b as i8 as i32);
            let fv = f.get(fi).map_or(0, |&b| b as i8 as i32);
            *a = a.wrapping_add(fv.wrapping_mul(xv.wrapping_add(off)));
        }
    }
}

/// An offset replicated into both int16 lanes of a word (for [`mac4`]); the caller ensures
/// it fits an int16 ([`offset_ok`]).
#[inline(always)]
pub fn pack_offset(offset: i32) -> u32 {
    (offset as u16 as u32).wrapping_mul(0x0001_0001)
}

/// Whether [`mac4`] / [`mac4_scalar`] accept this input offset (it must fit an int16 lane
/// after adding an int8).
#[inline(always)]
pub fn offset_ok(offset: i32) -> bool {
    offset_fits_i16(offset)
}

/// Little-endian word of the 4 bytes of `b` (an unaligned `LDR` on ARMv7-M).
#[inline(always)]
pub fn word(b: &[u8]) -> u32 {
    b.first_chunk::<4>().map_or(0, |w| u32::from_le_bytes(*w))
}

/// Plain loops: the arithmetic every other implementation must reproduce.
pub mod portable {
    /// See [`super::dot`].
    #[inline]
    pub fn dot(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
        let mut acc = 0i32;
        for (&a, &b) in x.iter().zip(f) {
            acc = acc.wrapping_add(
                (b as i8 as i32).wrapping_mul((a as i8 as i32).wrapping_add(x_offset)),
            );
        }
        acc
    }

    /// See [`super::mac4`] (the packed offset's low lane is the offset).
    #[inline(always)]
    pub fn mac4(acc: &mut [i32; 4], x: u32, f: u32, offset2: u32) {
        let off = offset2 as u16 as i16 as i32;
        for (i, a) in acc.iter_mut().enumerate() {
            let xv = (x >> (8 * i)) as u8 as i8 as i32;
            let fv = (f >> (8 * i)) as u8 as i8 as i32;
            *a = a.wrapping_add(fv * (xv + off));
        }
    }

    /// See [`super::mac4_scalar`].
    #[inline(always)]
    pub fn mac4_scalar(acc: &mut [i32; 4], xo: i32, f: u32) {
        for (i, a) in acc.iter_mut().enumerate() {
            let fv = (f >> (8 * i)) as u8 as i8 as i32;
            *a = a.wrapping_add(fv.wrapping_mul(xo));
        }
    }
}

/// The DSP-extension instructions the packed code uses. Native on `cfg(mote_dsp_asm)` (a real
/// Cortex-M4/M7); elsewhere, including host builds with `MOTE_DSP_EMULATE=1`,
/// bit-exact emulations (following the ARMv7-M Architecture Reference Manual pseudo-code) so
/// the packed kernels can be tested on the host.
#[cfg(any(mote_dsp, test))]
#[allow(dead_code)] // which helpers are used depends on the kernels compiled in
pub(crate) mod isa {
    #[cfg(mote_dsp_asm)]
    mod native {
        use core::arch::asm;

        /// One register-only DSP instruction as a function: `$ins {d}, <operands>`, each
        /// operand a register, the result in `d`.
        macro_rules! dsp_ins {
            ($(#[$doc:meta])* $name:ident($($x:ident: $xt:ty),+) -> $t:ty = $ins:literal; $($opt:ident),+) => {
                $(#[$doc])*
                #[inline(always)]
                pub fn $name($($x: $xt),+) -> $t {
                    let d: $t;
                    // SAFETY: register-only DSP instruction (thumbv7em): no memory or stack;
                    // SMLAD may set APSR.Q (the sticky saturation flag), which no Rust code reads.
                    unsafe { asm!($ins, d = lateout(reg) d, $($x = in(reg) $x),+, options($($opt),+)) };
                    d
                }
            };
        }

        dsp_ins!(
            /// `SXTB16 d, x`: int8 bytes 0 and 2 of `x`, sign-extended to int16 lanes.
            sxtb16(x: u32) -> u32 = "sxtb16 {d}, {x}"; pure, nomem, nostack, preserves_flags
        );
        dsp_ins!(
            /// `SXTB16 d, x, ROR #8`: bytes 1 and 3 of `x` as int16 lanes.
            sxtb16_ror8(x: u32) -> u32 = "sxtb16 {d}, {x}, ror #8"; pure, nomem, nostack, preserves_flags
        );
        dsp_ins!(
            /// `SXTAB16 d, a, x`: int16 lanes of `a` plus bytes 0 and 2 of `x` (lanes wrap).
            sxtab16(a: u32, x: u32) -> u32 = "sxtab16 {d}, {a}, {x}"; pure, nomem, nostack, preserves_flags
        );
        dsp_ins!(
            /// `SXTAB16 d, a, x, ROR #8`: int16 lanes of `a` plus bytes 1 and 3 of `x`.
            sxtab16_ror8(a: u32, x: u32) -> u32 = "sxtab16 {d}, {a}, {x}, ror #8"; pure, nomem, nostack, preserves_flags
        );
        dsp_ins!(
            /// `SMLAD d, a, b, acc`: `acc + a.lo*b.lo + a.hi*b.hi` (int16 lanes), wrapping.
            smlad(a: u32, b: u32, acc: i32) -> i32 = "smlad {d}, {a}, {b}, {acc}"; pure, nomem, nostack
        );
        dsp_ins!(
            /// `SMLABB d, a, b, acc`: `acc + a.lo * b.lo`, wrapping.
            smlabb(a: u32, b: u32, acc: i32) -> i32 = "smlabb {d}, {a}, {b}, {acc}"; pure, nomem, nostack
        );
        dsp_ins!(
            /// `SMLATT d, a, b, acc`: `acc + a.hi * b.hi`, wrapping.
            smlatt(a: u32, b: u32, acc: i32) -> i32 = "smlatt {d}, {a}, {b}, {acc}"; pure, nomem, nostack
        );
        dsp_ins!(
            /// `SMLATB d, a, b, acc`: `acc + a.hi * b.lo`, wrapping.
            smlatb(a: u32, b: u32, acc: i32) -> i32 = "smlatb {d}, {a}, {b}, {acc}"; pure, nomem, nostack
        );
    }
    #[cfg(mote_dsp_asm)]
    pub use native::*;

    #[cfg(not(mote_dsp_asm))]
    mod emulated {
        fn lo(v: u32) -> i32 {
            v as u16 as i16 as i32
        }
        fn hi(v: u32) -> i32 {
            (v >> 16) as u16 as i16 as i32
        }
        fn lanes(l: i32, h: i32) -> u32 {
            (l as u16 as u32) | ((h as u16 as u32) << 16)
        }
        /// Emulated `SXTB16`.
        pub fn sxtb16(x: u32) -> u32 {
            lanes(x as u8 as i8 as i32, (x >> 16) as u8 as i8 as i32)
        }
        /// Emulated `SXTB16 …, ROR #8`.
        pub fn sxtb16_ror8(x: u32) -> u32 {
            sxtb16(x.rotate_right(8))
        }
        /// Emulated `SXTAB16` (each 16-bit lane wraps on its own).
        pub fn sxtab16(a: u32, x: u32) -> u32 {
            let e = sxtb16(x);
            lanes(lo(a).wrapping_add(lo(e)), hi(a).wrapping_add(hi(e)))
        }
        /// Emulated `SXTAB16 …, ROR #8`.
        pub fn sxtab16_ror8(a: u32, x: u32) -> u32 {
            sxtab16(a, x.rotate_right(8))
        }
        /// Emulated `SMLAD` (the full-precision sum is truncated to 32 bits).
        pub fn smlad(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add((lo(a) * lo(b)).wrapping_add(hi(a) * hi(b)))
        }
        /// Emulated `SMLABB`.
        pub fn smlabb(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(lo(a) * lo(b))
        }
        /// Emulated `SMLATT`.
        pub fn smlatt(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(hi(a) * hi(b))
        }
        /// Emulated `SMLATB`.
        pub fn smlatb(a: u32, b: u32, acc: i32) -> i32 {
            acc.wrapping_add(hi(a) * lo(b))
        }
    }
    #[cfg(not(mote_dsp_asm))]
    pub use emulated::*;
}

/// The packed kernels (see the module docs). Callers guarantee the offset fits an int16 lane
/// after adding any int8 ([`offset_ok`]).
#[cfg(any(mote_dsp, test))]
pub(crate) mod packed {
    use super::isa::*;
    use super::{pack_offset, word};

    /// See [`super::dot`].
    #[inline(always)]
    pub fn dot(x: &[u8], f: &[u8], x_offset: i32) -> i32 {
        let n = x.len().min(f.len());
        let (x, f) = (x.get(..n).unwrap_or(&[]), f.get(..n).unwrap_or(&[]));
        let off2 = pack_offset(x_offset);
        let mut acc = 0i32;
        let (xc, fc) = (x.chunks_exact(4), f.chunks_exact(4));
        let (xr, fr) = (xc.remainder(), fc.remainder());
        for (xw, fw) in xc.zip(fc) {
            let (xv, fv) = (word(xw), word(fw));
            acc = smlad(sxtab16(off2, xv), sxtb16(fv), acc);
            acc = smlad(sxtab16_ror8(off2, xv), sxtb16_ror8(fv), acc);
        }
        acc.wrapping_add(super::portable::dot(xr, fr, x_offset))
    }

    /// See [`super::dot2`].
    #[inline(always)]
    pub fn dot2(x: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 2] {
        let n = x.len().min(f0.len()).min(f1.len());
        let x = x.get(..n).unwrap_or(&[]);
        let (f0, f1) = (f0.get(..n).unwrap_or(&[]), f1.get(..n).unwrap_or(&[]));
        let off2 = pack_offset(x_offset);
        let (mut a0, mut a1) = (0i32, 0i32);
        let (xc, c0, c1) = (x.chunks_exact(4), f0.chunks_exact(4), f1.chunks_exact(4));
        let (xr, r0, r1) = (xc.remainder(), c0.remainder(), c1.remainder());
        for ((xw, w0), w1) in xc.zip(c0).zip(c1) {
            let xv = word(xw);
            let (xe, xo) = (sxtab16(off2, xv), sxtab16_ror8(off2, xv));
            let v0 = word(w0);
            a0 = smlad(xe, sxtb16(v0), a0);
            a0 = smlad(xo, sxtb16_ror8(v0), a0);
            let v1 = word(w1);
            a1 = smlad(xe, sxtb16(v1), a1);
            a1 = smlad(xo, sxtb16_ror8(v1), a1);
        }
        // The last len % 4 bytes, one at a time.
        for ((&x, &u), &v) in xr.iter().zip(r0).zip(r1) {
            let x = (x as i8 as i32).wrapping_add(x_offset);
            a0 = a0.wrapping_add((u as i8 as i32).wrapping_mul(x));
            a1 = a1.wrapping_add((v as i8 as i32).wrapping_mul(x));
        }
        [a0, a1]
    }

    /// See [`super::dot2x2`].
    #[inline(always)]
    pub fn dot2x2(a: &[u8], b: &[u8], f0: &[u8], f1: &[u8], x_offset: i32) -> [i32; 4] {
        let n = a.len().min(b.len()).min(f0.len()).min(f1.len());
        let (a, b) = (a.get(..n).unwrap_or(&[]), b.get(..n).unwrap_or(&[]));
        let (f0, f1) = (f0.get(..n).unwrap_or(&[]), f1.get(..n).unwrap_or(&[]));
        let off2 = pack_offset(x_offset);
        let (mut a0, mut a1, mut b0, mut b1) = (0i32, 0i32, 0i32, 0i32);
        let (ac, bc, c0, c1) = (
            a.chunks_exact(4),
            b.chunks_exact(4),
            f0.chunks_exact(4),
            f1.chunks_exact(4),
        );
        let (ar, br, r0, r1) = (
            ac.remainder(),
            bc.remainder(),
            c0.remainder(),
            c1.remainder(),
        );
        for (((aw, bw), w0), w1) in ac.zip(bc).zip(c0).zip(c1) {
            let (av, bv) = (word(aw), word(bw));
            let (ae, ao) = (sxtab16(off2, av), sxtab16_ror8(off2, av));
            let (be, bo) = (sxtab16(off2, bv), sxtab16_ror8(off2, bv));
            let v0 = word(w0);
            let (e0, o0) = (sxtb16(v0), sxtb16_ror8(v0));
            a0 = smlad(ae, e0, a0);
            a0 = smlad(ao, o0, a0);
            b0 = smlad(be, e0, b0);
            b0 = smlad(bo, o0, b0);
            let v1 = word(w1);
            let (e1, o1) = (sxtb16(v1), sxtb16_ror8(v1));
            a1 = smlad(ae, e1, a1);
            a1 = smlad(ao, o1, a1);
            b1 = smlad(be, e1, b1);
            b1 = smlad(bo, o1, b1);
        }
        // The last len % 4 bytes, one at a time.
        for (((&x, &y), &u), &v) in ar.iter().zip(br).zip(r0).zip(r1) {
            let (x, y) = (
                (x as i8 as i32).wrapping_add(x_offset),
                (y as i8 as i32).wrapping_add(x_offset),
            );
            let (u, v) = (u as i8 as i32, v as i8 as i32);
            a0 = a0.wrapping_add(u.wrapping_mul(x));
            a1 = a1.wrapping_add(v.wrapping_mul(x));
            b0 = b0.wrapping_add(u.wrapping_mul(y));
            b1 = b1.wrapping_add(v.wrapping_mul(y));
        }
        [a0, a1, b0, b1]
    }

    /// See [`super::mac4`]: lanes 0/2 come from the plain `SXTB16`, 1/3 from the rotated one.
    #[inline(always)]
    pub fn mac4(acc: &mut [i32; 4], x: u32, f: u32, offset2: u32) {
        let (xe, xo) = (sxtab16(offset2, x), sxtab16_ror8(offset2, x));
        let (fe, fo) = (sxtb16(f), sxtb16_ror8(f));
        acc[0] = smlabb(xe, fe, acc[0]);
        acc[1] = smlabb(xo, fo, acc[1]);
        acc[2] = smlatt(xe, fe, acc[2]);
        acc[3] = smlatt(xo, fo, acc[3]);
    }

    /// See [`super::mac4_scalar`].
    #[inline(always)]
    pub fn mac4_scalar(acc: &mut [i32; 4], xo: i32, f: u32) {
        let (fe, fo) = (sxtb16(f), sxtb16_ror8(f));
        let x = xo as u32;
        acc[0] = smlabb(fe, x, acc[0]);
        acc[1] = smlabb(fo, x, acc[1]);
        acc[2] = smlatb(fe, x, acc[2]);
        acc[3] = smlatb(fo, x, acc[3]);
    }
}

/// Kernels on *widened* inputs, for inputs reused across many filter rows (a conv patch
/// meets every output channel): the input is converted once to int16 lanes with the offset
/// added, in the order `SMLAD` pairs them with `SXTB16`-expanded filter words, so the inner
/// loops only expand filters. Word `k` of an input (bytes `4k..4k + 4`, values `x0..x3`)
/// becomes `even = (x0 + o) | (x2 + o) << 16` and `odd = (x1 + o) | (x3 + o) << 16`.
/// The last `len % 4` bytes are not widened: callers add them with [`portable::dot`].
///
/// On `cfg(mote_dsp)` the loops are single `asm!` blocks with every register assigned by
/// hand (14 live values: they save and restore r6/r7, which LLVM reserves, around the loop);
/// the host tests run the same layout through the emulated instructions.
#[cfg(any(mote_dsp, test))]
pub(crate) mod wide {
    #[cfg(not(mote_dsp_asm))]
    use super::isa::{smlad, sxtb16, sxtb16_ror8};
    use super::isa::{sxtab16, sxtab16_ror8};
    use super::{pack_offset, word};

    /// Widen `x` (its first `4 * k` bytes, `k = x.len() / 4`) into `out[2k]` as `[even, odd]`
    /// per word; returns `k` (0 if `out` is too small).
    pub fn widen(x: &[u8], x_offset: i32, out: &mut [u32]) -> usize {
        let k = x.len() / 4;
        let off2 = pack_offset(x_offset);
        let Some(out) = out.get_mut(..2 * k) else {
            return 0;
        };
        for (o, xw) in out.chunks_exact_mut(2).zip(x.chunks_exact(4)) {
            let v = word(xw);
            if let [e, d] = o {
                *e = sxtab16(off2, v);
                *d = sxtab16_ror8(off2, v);
            }
        }
        k
    }

    /// Widen two equally long inputs interleaved, `[a.even, a.odd, b.even, b.odd]` per word,
    /// into `out[4k]`; returns `k` (0 if `out` is too small or the lengths differ).
    pub fn widen_pair(a: &[u8], b: &[u8], x_offset: i32, out: &mut [u32]) -> usize {
        let k = a.len() / 4;
        let off2 = pack_offset(x_offset);
        let Some(out) = out.get_mut(..4 * k).filter(|_| a.len() == b.len()) else {
            return 0;
        };
        for ((o, aw), bw) in out
            .chunks_exact_mut(4)
            .zip(a.chunks_exact(4))
            .zip(b.chunks_exact(4))
        {
            let (va, vb) = (word(aw), word(bw));
            if let [ae, ao, be, bo] = o {
                *ae = sxtab16(off2, va);
                *ao = sxtab16_ror8(off2, va);
                *be = sxtab16(off2, vb);
                *bo = sxtab16_ror8(off2, vb);
            }
        }
        k
    }

    /// [`widen_pair`] of two windows read straight from an image: `rows` runs of `row_len`
    /// bytes (a multiple of 4), one every `row_step` bytes, starting at byte `a` (resp. `b`)
    /// of `img`. Returns the words per input (`rows * row_len / 4`), or 0 if a run is out of
    /// `img`, `out` is too small or `row_len % 4 != 0` (the caller then gathers).
    #[allow(clippy::too_many_arguments)]
    pub fn widen_pair_rows(
        img: &[u8],
        a: usize,
        b: usize,
        row_step: usize,
        rows: usize,
        row_len: usize,
        x_offset: i32,
        out: &mut [u32],
    ) -> usize {
        let k = rows * row_len / 4;
        let last = |start: usize| start.checked_add((rows.max(1) - 1) * row_step + row_len);
        let fits = |start: usize| last(start).is_some_and(|end| end <= img.len());
        if !row_len.is_multiple_of(4) || rows == 0 || !fits(a) || !fits(b) || out.len() < 4 * k {
            return 0;
        }
        let off2 = pack_offset(x_offset);
        for (r, o) in out.chunks_exact_mut(row_len).take(rows).enumerate() {
            let (ra, rb) = (a + r * row_step, b + r * row_step);
            let (Some(xa), Some(xb)) = (img.get(ra..ra + row_len), img.get(rb..rb + row_len))
            else {
                return 0;
            };
            for ((q, aw), bw) in o
                .chunks_exact_mut(4)
                .zip(xa.chunks_exact(4))
                .zip(xb.chunks_exact(4))
            {
                let (va, vb) = (word(aw), word(bw));
                if let [ae, ao, be, bo] = q {
                    *ae = sxtab16(off2, va);
                    *ao = sxtab16_ror8(off2, va);
                    *be = sxtab16(off2, vb);
                    *bo = sxtab16_ror8(off2, vb);
                }
            }
        }
        k
    }

    /// Whether `k` words of every filter row can be read.
    fn rows_fit(k: usize, rows: &[&[u8]]) -> bool {
        rows.iter().all(|f| f.len() >= 4 * k)
    }

    /// Two widened inputs (`w` from [`widen_pair`], `k` words) against two filter rows:
    /// `[a·f0, a·f1, b·f0, b·f1]` over the first `4k` bytes.
    pub fn dot2x2(w: &[u32], k: usize, f0: &[u8], f1: &[u8]) -> [i32; 4] {
        if k == 0 || w.len() < 4 * k || !rows_fit(k, &[f0, f1]) {
            return [0; 4];
        }
        #[cfg(mote_dsp_asm)]
        {
            let (mut a0, mut a1, mut b0, mut b1) = (0i32, 0i32, 0i32, 0i32);
            let fs = (f1.as_ptr() as usize).wrapping_sub(f0.as_ptr() as usize);
            // SAFETY: w holds 4k words and f0/f1 at least 4k bytes (checked above); the loop
            // reads exactly those (LDM of 4 aligned words from w, one unaligned LDR per row per
            // iteration, f1 addressed as f0 + fs). r6/r7 (reserved by LLVM) are pushed before
            // use and popped after, so every register not listed is preserved; sp is restored.
            // SMLAD may set APSR.Q, which nothing reads.
            unsafe {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "2:",
                    "ldm r0!, {{r4, r5, r6, r7}}",
                    "ldr r8, [r1, r2]",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad r11, r4, r8, r11",
                    "smlad r11, r5, r9, r11",
                    "smlad lr, r6, r8, lr",
                    "smlad lr, r7, r9, lr",
                    "ldr r8, [r1], #4",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad r10, r4, r8, r10",
                    "smlad r10, r5, r9, r10",
                    "smlad r12, r6, r8, r12",
                    "smlad r12, r7, r9, r12",
                    "subs r3, r3, #1",
                    "bne 2b",
                    "pop {{r6, r7}}",
                    inout("r0") w.as_ptr() => _,
                    inout("r1") f0.as_ptr() => _,
                    in("r2") fs,
                    inout("r3") k => _,
                    out("r4") _,
                    out("r5") _,
                    out("r8") _,
                    out("r9") _,
                    inout("r10") a0,
                    inout("r11") a1,
                    inout("r12") b0,
                    inout("lr") b1,
                    options(readonly),
                );
            }
            [a0, a1, b0, b1]
        }
        #[cfg(not(mote_dsp_asm))]
        {
            let mut acc = [0i32; 4];
            for (j, q) in w.chunks_exact(4).take(k).enumerate() {
                let (v0, v1) = (word(&f0[4 * j..]), word(&f1[4 * j..]));
                let (e0, o0, e1, o1) = (sxtb16(v0), sxtb16_ror8(v0), sxtb16(v1), sxtb16_ror8(v1));
                acc[0] = smlad(q[1], o0, smlad(q[0], e0, acc[0]));
                acc[1] = smlad(q[1], o1, smlad(q[0], e1, acc[1]));
                acc[2] = smlad(q[3], o0, smlad(q[2], e0, acc[2]));
                acc[3] = smlad(q[3], o1, smlad(q[2], e1, acc[3]));
            }
            acc
        }
    }

    /// One widened input (`w` from [`widen`], `k` words) against four filter rows:
    /// `[x·f0, x·f1, x·f2, x·f3]` over the first `4k` bytes.
    pub fn dot4(w: &[u32], k: usize, f: [&[u8]; 4]) -> [i32; 4] {
        if k == 0 || w.len() < 2 * k || !rows_fit(k, &f) {
            return [0; 4];
        }
        #[cfg(mote_dsp_asm)]
        {
            let (mut c0, mut c1, mut c2, mut c3) = (0i32, 0i32, 0i32, 0i32);
            let base = f[0].as_ptr() as usize;
            let d = |r: &[u8]| (r.as_ptr() as usize).wrapping_sub(base);
            // SAFETY: as in dot2x2: w holds 2k words, every row at least 4k bytes (checked), rows
            // 1..3 addressed as f0 + their offset; r6/r7 saved and restored around the loop.
            unsafe {
                core::arch::asm!(
                    "push {{r6, r7}}",
                    "2:",
                    "ldm r0!, {{r6, r7}}",
                    "ldr r8, [r1, r2]",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad r11, r6, r8, r11",
                    "smlad r11, r7, r9, r11",
                    "ldr r8, [r1, r3]",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad r12, r6, r8, r12",
                    "smlad r12, r7, r9, r12",
                    "ldr r8, [r1, r4]",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad lr, r6, r8, lr",
                    "smlad lr, r7, r9, lr",
                    "ldr r8, [r1], #4",
                    "sxtb16 r9, r8, ror #8",
                    "sxtb16 r8, r8",
                    "smlad r10, r6, r8, r10",
                    "smlad r10, r7, r9, r10",
                    "subs r5, r5, #1",
                    "bne 2b",
                    "pop {{r6, r7}}",
                    inout("r0") w.as_ptr() => _,
                    inout("r1") f[0].as_ptr() => _,
                    in("r2") d(f[1]),
                    in("r3") d(f[2]),
                    in("r4") d(f[3]),
                    inout("r5") k => _,
                    out("r8") _,
                    out("r9") _,
                    inout("r10") c0,
                    inout("r11") c1,
                    inout("r12") c2,
                    inout("lr") c3,
                    options(readonly),
                );
            }
            [c0, c1, c2, c3]
        }
        #[cfg(not(mote_dsp_asm))]
        {
            let mut acc = [0i32; 4];
            for (j, q) in w.chunks_exact(2).take(k).enumerate() {
                for (a, r) in acc.iter_mut().zip(f) {
                    let v = word(&r[4 * j..]);
                    *a = smlad(q[1], sxtb16_ror8(v), smlad(q[0], sxtb16(v), *a));
                }
            }
            acc
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    /// The reference: TFLM's loop, in i64 then reduced mod 2^32 (what wrapping i32 gives).
    fn naive(x: &[u8], f: &[u8], off: i32) -> i32 {
        let s: i64 = x
            .iter()
            .zip(f)
            .map(|(&a, &b)| (b as i8 as i64) * (a as i8 as i64 + off as i64))
            .sum();
        s as i32
    }

    fn offsets() -> impl Strategy<Value = i32> {
        prop_oneof![-127i32..=128, Just(-127), Just(128), Just(0)]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 512 }))]

        #[test]
        fn dot_paths_agree(x in proptest::collection::vec(any::<u8>(), 0..300), seed in any::<u64>(), off in offsets(), cut in 0usize..4) {
            let f: Vec<u8> = x.iter().enumerate().map(|(i, _)| (seed.rotate_left(i as u32 % 64) as u8) ^ (i as u8).wrapping_mul(37)).collect();
            let want = naive(&x, &f, off);
            prop_assert_eq!(portable::dot(&x, &f, off), want);
            prop_assert_eq!(packed::dot(&x, &f, off), want);
            prop_assert_eq!(dot(&x, &f, off), want);
            // Unequal lengths: the common prefix counts.
            let short = &f[..f.len().saturating_sub(cut)];
            prop_assert_eq!(packed::dot(&x, short, off), naive(&x, short, off));
            let [a, b] = packed::dot2(&x, &f, short, off);
            let n = short.len();
            prop_assert_eq!([a, b], [naive(&x[..n], &f[..n], off), naive(&x, short, off)]);
            prop_assert_eq!(dot2(&x, &f, &f, off), [want, want]);
            let g: Vec<u8> = f.iter().rev().copied().collect();
            let want4 = [naive(&x, &f, off), naive(&x, &g, off), naive(&g, &f, off), naive(&g, &g, off)];
            prop_assert_eq!(packed::dot2x2(&x, &g, &f, &g, off), want4);
            prop_assert_eq!(dot2x2(&x, &g, &f, &g, off), want4);
        }

        #[test]
        fn extreme_values(len in 0usize..64, xb in prop_oneof![Just(0x80u8), Just(0x7f)], fb in prop_oneof![Just(0x80u8), Just(0x7f)], off in offsets()) {
            let x = std::vec![xb; len];
            let f = std::vec![fb; len];
            prop_assert_eq!(packed::dot(&x, &f, off), naive(&x, &f, off));
            prop_assert_eq!(packed::dot2(&x, &f, &x, off), [naive(&x, &f, off), naive(&x, &x, off)]);
        }

        #[test]
        fn mac4_paths_agree(acc in any::<[i32; 4]>(), x in any::<u32>(), f in any::<u32>(), off in offsets()) {
            let o2 = pack_offset(off);
            let mut want = acc;
            for (i, a) in want.iter_mut().enumerate() {
                let xv = (x >> (8 * i)) as u8 as i8 as i32;
                let fv = (f >> (8 * i)) as u8 as i8 as i32;
                *a = a.wrapping_add(fv * (xv + off));
            }
            let mut p = acc;
            portable::mac4(&mut p, x, f, o2);
            prop_assert_eq!(p, want);
            let mut q = acc;
            packed::mac4(&mut q, x, f, o2);
            prop_assert_eq!(q, want);

            let xo = (x as u8 as i8 as i32) + off;
            let mut want = acc;
            for (i, a) in want.iter_mut().enumerate() {
                *a = a.wrapping_add(((f >> (8 * i)) as u8 as i8 as i32) * xo);
            }
            let mut p = acc;
            portable::mac4_scalar(&mut p, xo, f);
            prop_assert_eq!(p, want);
            let mut q = acc;
            packed::mac4_scalar(&mut q, xo, f);
            prop_assert_eq!(q, want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
        #[test]
        fn runs_match_naive(n in 0usize..12, xs in 1usize..9, fs in 4usize..12, off in prop_oneof![offsets(), Just(40_000)], seed in any::<u64>(), lanes in any::<bool>(), short in 0usize..3) {
            let xlen = (n.max(1) - 1) * xs + 4;
            let flen = (n.max(1) - 1) * fs + 4;
            let x: Vec<u8> = (0..xlen).map(|i| (seed >> (i % 57)) as u8 ^ (i as u8).wrapping_mul(29)).collect();
            let f: Vec<u8> = (0..flen).map(|i| (seed >> (i % 61)) as u8 ^ (i as u8).wrapping_mul(83)).collect();
            // Sometimes a slice too short for the run: the checked path counts missing bytes as 0.
            let f = &f[..flen.saturating_sub(short)];
            let init = [1, -2, 3, i32::MAX];
            let mut want = init;
            for k in 0..n {
                for (i, w) in want.iter_mut().enumerate() {
                    let xv = x.get(k * xs + if lanes { i } else { 0 }).map_or(0, |&b| b as i8 as i32);
                    let fv = f.get(k * fs + i).map_or(0, |&b| b as i8 as i32);
                    *w = w.wrapping_add(fv.wrapping_mul(xv + off));
                }
            }
            let mut got = init;
            if lanes {
                mac4_run(&mut got, &x, xs, f, fs, n, off);
            } else {
                mac4_run_scalar(&mut got, &x, xs, f, fs, n, off);
            }
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
        /// The depthwise window kernel (rows of taps) against a naive loop, including slices
        /// too short for the grid (the checked fallback).
        #[test]
        fn grids_match_naive(n_in in 0usize..5, n_out in 0usize..5, x_in in 4usize..9, f_in in 4usize..9, x_out in 4usize..40, f_out in 4usize..40, off in prop_oneof![offsets(), Just(40_000)], seed in any::<u64>(), short in 0usize..3, blocks in 1usize..4) {
            let end = |s_in: usize, s_out: usize| (n_out.max(1) - 1) * s_out + (n_in.max(1) - 1) * s_in + 4 * blocks;
            let x: Vec<u8> = (0..end(x_in, x_out)).map(|i| (seed >> (i % 57)) as u8 ^ (i as u8).wrapping_mul(29)).collect();
            let f: Vec<u8> = (0..end(f_in, f_out)).map(|i| (seed >> (i % 61)) as u8 ^ (i as u8).wrapping_mul(83)).collect();
            let f = &f[..f.len().saturating_sub(short)];
            let init: Vec<i32> = (0..4 * blocks).map(|i| [7, -2, i32::MIN, i32::MAX][i % 4]).collect();
            let mut want = init.clone();
            for o in 0..n_out {
                for k in 0..n_in {
                    for (i, w) in want.iter_mut().enumerate() {
                        let xv = x.get(o * x_out + k * x_in + i).map_or(0, |&b| b as i8 as i32);
                        let fv = f.get(o * f_out + k * f_in + i).map_or(0, |&b| b as i8 as i32);
                        *w = w.wrapping_add(fv.wrapping_mul(xv + off));
                    }
                }
            }
            let mut got = init;
            mac4_grid(&mut got, &x, (x_in, x_out), f, (f_in, f_out), (n_in, n_out), off);
            prop_assert_eq!(got, want);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(if cfg!(miri) { 32 } else { 256 }))]
        #[test]
        fn widened_kernels_match_naive(len in 0usize..90, off in offsets(), seed in any::<u64>()) {
            let gen = |salt: u8| -> Vec<u8> { (0..len).map(|i| (seed >> (i % 59)) as u8 ^ (i as u8).wrapping_mul(salt)).collect() };
            let (a, b) = (gen(31), gen(77));
            let f: Vec<Vec<u8>> = (0..4u8).map(|r| gen(13 + 2 * r)).collect();
            let k = len / 4;
            let cut = |v: &[u8]| v[..4 * k].to_vec();
            let mut w = std::vec![0u32; 4 * k + 4];
            prop_assert_eq!(wide::widen_pair(&a, &b, off, &mut w), k);
            let got = wide::dot2x2(&w, k, &f[0], &f[1]);
            let want = [naive(&cut(&a), &f[0], off), naive(&cut(&a), &f[1], off), naive(&cut(&b), &f[0], off), naive(&cut(&b), &f[1], off)];
            prop_assert_eq!(got, if k == 0 { [0; 4] } else { want });
            // Rows straight from an "image": a and b as 2 rows each, row_step 4 + len/2.
            if len % 8 == 0 && len > 0 {
                let half = len / 2;
                let step = half + 4;
                let mut img = std::vec![0u8; 2 * (half + step) + 8];
                img[..half].copy_from_slice(&a[..half]);
                img[step..step + half].copy_from_slice(&a[half..]);
                let bs = half + step + 4;
                img[bs..bs + half].copy_from_slice(&b[..half]);
                img[bs + step..bs + step + half].copy_from_slice(&b[half..]);
                let mut w2 = std::vec![0u32; 4 * k];
                prop_assert_eq!(wide::widen_pair_rows(&img, 0, bs, step, 2, half, off, &mut w2), k);
                prop_assert_eq!(&w2[..], &w[..4 * k]);
            }
            let mut w = std::vec![0u32; 2 * k];
            prop_assert_eq!(wide::widen(&a, off, &mut w), k);
            let got = wide::dot4(&w, k, [&f[0], &f[1], &f[2], &f[3]]);
            let want: Vec<i32> = f.iter().map(|r| naive(&cut(&a), r, off)).collect();
            prop_assert_eq!(got.to_vec(), if k == 0 { std::vec![0; 4] } else { want });
        }
    }

    #[test]
    fn emulated_instructions() {
        use super::isa::*;
        assert_eq!(sxtb16(0x80_7f_ff_01), 0x007f_0001); // bytes 0 (1) and 2 (127)
        assert_eq!(sxtb16_ror8(0x80_7f_ff_01), 0xff80_ffff); // bytes 1 (-1) and 3 (-128)
                                                             // Lanes wrap independently: 0x7fff + 1 → 0x8000 in the low lane, no carry upward.
        assert_eq!(sxtab16(0x0001_7fff, 0x0000_0001), 0x0001_8000);
        assert_eq!(smlad(0x8000_8000, 0x8000_8000, 0), i32::MIN); // 2^30 + 2^30 wraps
        assert_eq!(smlabb(0x0000_fffe, 0x0000_0003, 10), 4);
        assert_eq!(smlatt(0xfffe_0000, 0x0003_0000, 10), 4);
        assert_eq!(smlatb(0xfffe_0000, 0x0000_0003, 10), 4);
        assert_eq!(pack_offset(-1), 0xffff_ffff);
        assert_eq!(word(&[1, 2, 3, 4, 5]), 0x0403_0201);
    }
}
