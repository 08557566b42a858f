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
/// `acc[i] += sum(f[k*f_step + i] * (x[k*x_step + i] + x_offset))` for `k < n`, `i < 4`
/// (`LANES`: four input bytes per tap, one per channel), or with one input byte per tap
/// shared by the four channels: `acc[i] += sum(f[k*f_step + i] * (x[k*x_step] + x_offset))`
/// (`!LANES`).
///
/// One bounds check for the whole run, then one unaligned word of each per tap (the
/// accumulators stay in registers). A run that does not fit the slices (which prepare rules
/// out) is computed with checked byte reads instead.
#[inline(never)]
pub fn mac4_run<const LANES: bool>(
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
    let x_width = if LANES { 4 } else { 1 };
    if !offset_ok(x_offset)
        || !run_fits(x.len(), x_step, n, x_width)
        || !run_fits(f.len(), f_step, n, 4)
    {
        return mac4_run_checked(acc, x, x_step, f, f_step, n, x_offset, LANES);
    }
    let off2 = pack_offset(x_offset);
    let mut a = *acc;
    let (mut xp, mut fp) = (x.as_ptr(), f.as_ptr());
    for k in 0..n {
        // SAFETY: run_fits proved (n-1)*step + width <= len for both slices (width: 4 bytes of
        // f, `x_width` of x), so the bytes read at k*step (k < n) are inside them;
        // read_unaligned has no alignment requirement (a single LDR on ARMv7-M).
        let fv = u32::from_le(unsafe { fp.cast::<u32>().read_unaligned() });
        if LANES {
            // SAFETY: as above (4 bytes of x).
            let xv = unsafe { xp.cast::<u32>().read_unaligned() };
            mac4(&mut a, u32::from_le(xv), fv, off2);
        } else {
            // SAFETY: as above (1 byte of x).
            let xv = unsafe { xp.cast::<i8>().read() };
            mac4_scalar(&mut a, xv as i32 + x_offset, fv);
        }
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

/// [`mac4_run`] (four lanes) over a grid of `n_out` runs of `n_in` taps: run `o` starts
/// `o * x_out` bytes into `x` and `o * f_out` into `f` (a depthwise window's rows), for every
/// block of four channels: `acc[4b..4b + 4]` reads `x` and `f` from byte `4b` on. One bounds check for
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
pub mod portable;

/// The DSP-extension instructions the packed code uses. Native on `cfg(mote_dsp_asm)` (a real
/// Cortex-M4/M7); elsewhere, including host builds with `MOTE_DSP_EMULATE=1`,
/// bit-exact emulations (following the ARMv7-M Architecture Reference Manual pseudo-code) so
/// the packed kernels can be tested on the host.
#[cfg(any(mote_dsp, test))]
#[allow(dead_code)] // which helpers are used depends on the kernels compiled in
pub(crate) mod isa;

/// The packed kernels (see the module docs). Callers guarantee the offset fits an int16 lane
/// after adding any int8 ([`offset_ok`]).
#[cfg(any(mote_dsp, test))]
pub(crate) mod packed;

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
pub(crate) mod wide;

#[cfg(test)]
mod tests;
