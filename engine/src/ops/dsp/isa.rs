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
