//! Feature → int8 model input. The two model families expect different mappings of the same
//! u16 log-mel features; both are exact integer formulas here.
//!
//! micro_speech (TFLM's `audio_preprocessor_int8.tflite` ends with these ops, constants read
//! from the model: MUL 256, ADD 333, DIV 666 on int32, ADD −128, MINIMUM 127, MAXIMUM −128):
//!
//! ```text
//! q = clamp((f · 256 + 333) / 666 − 128, −128, 127)      (integer division; f ≥ 0, so floor)
//! ```
//!
//! i.e. f / 25.6 / 0.1017 − 128 rounded to nearest (ties up), with 666 ≈ 25.6 · 0.1017 · 256
//! rounded and 333 = 666 / 2. micro_speech_quantized.tflite's input scale is 0.10171568.
//!
//! microWakeWord (pymicro_wakeword 2.5.0, `MicroWakeWord.process_streaming_prob`):
//!
//! ```text
//! q = round_half_even(f · 0.0390625 / input_scale + zero_point)      (then numpy .astype(int8))
//! ```
//!
//! where `f · 0.0390625` (= f / 25.6) is pymicro-features' float output and `input_scale` /
//! `zero_point` are the model's input quantization (0.10196079 = float32(26/255) and −128 for
//! all four shipped models). With `input_scale = M · 2^E` (M the 24-bit significand) this is
//! the rational `f · 5 / (M · 2^(E+7))`, which [`Int8Mapping::map`] rounds exactly in integers
//! (ties to even on the final value, as `np.round`); `engine/tests/frontend.rs` checks all 65 536
//! inputs against the float expression. Out-of-range values saturate to [−128, 127]: numpy's
//! `astype(np.int8)` wraps them instead (f ≥ 667 for the shipped scale, e.g. 128 → −128), which
//! is not what the model was trained on; the goldens count those cases.

/// How a front end's u16 features become a model's int8 input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Int8Mapping {
    /// TFLM micro_speech / `audio_preprocessor_int8.tflite`: `clamp((f·256 + 333) / 666 − 128)`.
    MicroSpeech,
    /// microWakeWord: `round_half_even(f / 25.6 / input_scale) + zero_point`, saturated.
    MicroWakeWord {
        /// The model input tensor's scale (a normal, positive float).
        input_scale: f32,
        /// The model input tensor's zero point.
        zero_point: i32,
    },
}

impl Int8Mapping {
    /// microWakeWord's mapping for the input quantization all shipped models use
    /// (scale 0.10196079, zero point −128).
    pub const MICRO_WAKEWORD: Int8Mapping = Int8Mapping::MicroWakeWord {
        input_scale: 0.101_960_786,
        zero_point: -128,
    };

    /// Whether [`Int8Mapping::map`] is exact for these parameters: a normal positive scale
    /// within 2^-24..2^33 (so the integer rational fits) and a zero point within int8.
    pub fn is_valid(&self) -> bool {
        match *self {
            Int8Mapping::MicroSpeech => true,
            Int8Mapping::MicroWakeWord {
                input_scale,
                zero_point,
            } => scale_parts(input_scale).is_some() && (-128..=127).contains(&zero_point),
        }
    }

    /// Maps one feature to the model's int8 input (see the module docs for the formulas).
    pub fn map(&self, feature: u16) -> i8 {
        match *self {
            Int8Mapping::MicroSpeech => {
                let q = (i32::from(feature) * 256 + 333) / 666 - 128;
                q.clamp(-128, 127) as i8
            }
            Int8Mapping::MicroWakeWord {
                input_scale,
                zero_point,
            } => {
                let Some((num_mul, den)) = scale_parts(input_scale) else {
                    return 0;
                };
                // feature · 0.0390625 / scale = feature · num_mul / den, exactly.
                let num = u128::from(feature) * num_mul;
                let q = (num / den) as i64 + i64::from(zero_point);
                let twice_rem = 2 * (num % den);
                let q = if twice_rem > den || (twice_rem == den && q % 2 != 0) {
                    q + 1
                } else {
                    q
                };
                q.clamp(-128, 127) as i8
            }
        }
    }

    /// Maps a frame of features; `out` is filled up to the shorter of the two lengths.
    pub fn map_frame(&self, features: &[u16], out: &mut [i8]) {
        for (o, &f) in out.iter_mut().zip(features) {
            *o = self.map(f);
        }
    }
}

/// An [`Int8Mapping`] as a table: for each output value `v` in −127..=127, the smallest
/// feature that maps to `v` or more. Both mappings are non-decreasing in the feature, so
/// `map(f) = −128 + #{thresholds ≤ f}`: a binary search instead of a division (the
/// microWakeWord mapping's is a 128-bit one, ~500 instructions per feature on a Cortex-M4).
/// Built once per configuration ([`Int8Mapping::thresholds`]: 255 divisions).
#[derive(Clone, Copy, Debug)]
pub struct Int8Thresholds {
    /// Sorted thresholds; only the first `len` are reachable by a u16 feature.
    bounds: [u16; 255],
    len: u8,
    /// First reachable threshold and the mean spacing of the thresholds in Q8: the
    /// thresholds are nearly evenly spaced (both mappings are linear before rounding), so
    /// `(f − first) / spacing` lands within a step or two of the answer.
    first: u16,
    spacing_q8: u32,
    /// `map(f)` for every `f < LUT` (the search's answers, tabled at build time);
    /// `dense`: every threshold is below `LUT`, so larger features map to the top value.
    lut: [i8; LUT],
    dense: bool,
}

/// Features tabled by [`Int8Thresholds`]: both presets' mappings saturate below 670.
const LUT: usize = 768;

impl Int8Thresholds {
    /// No thresholds and no table; all zero (see `Frontend::EMPTY`), so it maps every
    /// feature to 0 until [`Self::tabled`] (a front end that is not initialised makes no frames).
    pub const EMPTY: Int8Thresholds = Int8Thresholds {
        bounds: [0; 255],
        len: 0,
        first: 0,
        spacing_q8: 0,
        lut: [0; LUT],
        dense: false,
    };

    /// Writes `self` as a Rust constant expression (`Int8Thresholds::from_parts(…)`): the
    /// thresholds only; the feature table is rebuilt from them by [`Self::tabled`].
    pub fn write_rust(&self, w: &mut dyn core::fmt::Write) -> core::fmt::Result {
        let Int8Thresholds {
            bounds,
            len,
            first,
            spacing_q8,
            ..
        } = self;
        w.write_str("mote_engine::frontend::Int8Thresholds::from_parts(")?;
        super::tables::write_array(w, bounds)?;
        write!(w, ", {len}, {first}, {spacing_q8})")
    }

    /// The thresholds [`Int8Thresholds::write_rust`] wrote, without the feature table (call
    /// [`Self::tabled`] before mapping). Any values are safe to map with (a wrong table gives
    /// wrong features, never a panic); the right ones come from [`Int8Mapping::thresholds`].
    pub const fn from_parts(bounds: [u16; 255], len: u8, first: u16, spacing_q8: u32) -> Self {
        Int8Thresholds {
            bounds,
            len,
            first,
            spacing_q8,
            lut: [0; LUT],
            dense: false,
        }
    }

    /// `self` with its feature table filled from the thresholds (768 searches: a start-up
    /// cost, so the table needs no flash image).
    pub fn tabled(mut self) -> Self {
        self.fill_table();
        self
    }

    /// Fills the feature table in place (see [`Self::tabled`]).
    pub fn fill_table(&mut self) {
        let reachable = self.bounds.get(..usize::from(self.len)).unwrap_or(&[]);
        self.dense = reachable
            .last()
            .is_some_and(|&last| usize::from(last) < LUT);
        for f in 0..LUT {
            let v = self.search(f as u16);
            if let Some(slot) = self.lut.get_mut(f) {
                *slot = v;
            }
        }
    }

    /// The same value as [`Int8Mapping::map`] for the mapping this was built from: a table
    /// lookup for the features the presets produce, else [`Self::search`].
    #[inline]
    pub fn map(&self, feature: u16) -> i8 {
        match self.lut.get(usize::from(feature)) {
            Some(&v) => v,
            None if self.dense => (i32::from(self.len) - 128) as i8,
            None => self.search(feature),
        }
    }

    /// [`Self::map`] without the table.
    fn search(&self, feature: u16) -> i8 {
        // The count of thresholds ≤ feature (≤ 255, so it fits an i8 after −128): guess it
        // from the mean spacing, then step to the exact boundary.
        let reachable = self.bounds.get(..usize::from(self.len)).unwrap_or(&[]);
        let above = u32::from(feature.saturating_sub(self.first));
        let mut j = if feature < self.first {
            0
        } else {
            (((above << 8) / self.spacing_q8.max(1)) as usize + 1).min(reachable.len())
        };
        while reachable.get(j).is_some_and(|&t| t <= feature) {
            j += 1;
        }
        while j > 0 && reachable.get(j - 1).is_some_and(|&t| t > feature) {
            j -= 1;
        }
        (j as i32 - 128) as i8
    }

    /// Maps a frame of features; `out` is filled up to the shorter of the two lengths.
    pub fn map_frame(&self, features: &[u16], out: &mut [i8]) {
        for (o, &f) in out.iter_mut().zip(features) {
            *o = self.map(f);
        }
    }
}

impl Int8Mapping {
    /// The table form of this mapping (see [`Int8Thresholds`]). Only for valid mappings
    /// ([`Int8Mapping::is_valid`]); an invalid one gives a table mapping everything to −128.
    pub fn thresholds(&self) -> Int8Thresholds {
        let mut t = Int8Thresholds::EMPTY;
        let mut len = 0u8;
        for (j, slot) in t.bounds.iter_mut().enumerate() {
            let v = j as i32 - 127; // output value −127..=127
            let Some(f) = self.threshold(v) else {
                break;
            };
            *slot = f;
            len += 1;
        }
        t.len = len;
        let reachable = t.bounds.get(..usize::from(len)).unwrap_or(&[]);
        if let (Some(&first), Some(&last)) = (reachable.first(), reachable.last()) {
            t.first = first;
            let gaps = u32::from(len.max(2) - 1);
            t.spacing_q8 = ((u32::from(last - first) << 8) / gaps).max(1);
        }
        t.tabled()
    }

    /// Smallest feature `f` with `map(f) >= v` (`v` in −127..=127), `None` if no u16 does.
    fn threshold(&self, v: i32) -> Option<u16> {
        let f: u128 = match *self {
            // (f·256 + 333) / 666 − 128 >= v  ⟺  f·256 + 333 >= 666·(v + 128).
            Int8Mapping::MicroSpeech => {
                let need = 666 * (v + 128) - 333;
                if need <= 0 {
                    0
                } else {
                    (need as u128).div_ceil(256)
                }
            }
            // round_half_even(f·N/D + zp) >= v  ⟺  2fN > (2w − 1)·D with w = v − zp, or
            // equality (an exact tie at v − 0.5) when v is even (the tie goes to v).
            Int8Mapping::MicroWakeWord {
                input_scale,
                zero_point,
            } => {
                let (n, d) = scale_parts(input_scale)?;
                let t = 2 * (i64::from(v) - i64::from(zero_point)) - 1;
                if t < 0 {
                    0
                } else {
                    let (t, m) = (t as u128 * d, 2 * n);
                    if v % 2 == 0 {
                        t.div_ceil(m)
                    } else {
                        t / m + 1
                    }
                }
            }
        };
        u16::try_from(f).ok()
    }
}

/// For `scale = M · 2^E`: `(5 · 2^max(0, −(E+7)), M · 2^max(0, E+7))`, so that
/// `f · 0.0390625 / scale = f · num_mul / den`. `None` outside the supported range.
fn scale_parts(scale: f32) -> Option<(u128, u128)> {
    if !(scale.is_normal() && scale > 0.0) {
        return None;
    }
    let bits = scale.to_bits();
    let m = u128::from((bits & 0x7F_FFFF) | 0x80_0000);
    let e = ((bits >> 23) & 0xFF) as i32 - 127 - 23;
    let k = e + 7; // 0.0390625 = 5 · 2^-7
    match k {
        0..=40 => Some((5, m << k)),
        -40..=-1 => Some((5u128 << (-k), m)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_speech_values() {
        let m = Int8Mapping::MicroSpeech;
        assert_eq!(m.map(0), -128);
        assert_eq!(m.map(636), 116); // (162816 + 333) / 666 = 244 (yes_1000ms.wav, frame 0)
        assert_eq!(m.map(287), -18);
        assert_eq!(m.map(665), 127); // 255 - 128
        assert_eq!(m.map(u16::MAX), 127);
    }

    #[test]
    fn micro_wakeword_values() {
        let m = Int8Mapping::MICRO_WAKEWORD;
        assert!(m.is_valid());
        assert_eq!(m.map(0), -128);
        // 636 · 0.0390625 / 0.10196079 = 243.66 -> 244 - 128
        assert_eq!(m.map(636), 116);
        assert_eq!(m.map(666), 127); // 255.15
        assert_eq!(m.map(667), 127); // 255.54, saturates (numpy wraps to -128)
        assert_eq!(m.map(u16::MAX), 127);
    }

    #[test]
    fn micro_wakeword_ties_go_to_even_final_value() {
        // scale 0.0390625 · 2 = 0.078125 (exact): f / 2, so odd f are exact ties.
        let even_zp = Int8Mapping::MicroWakeWord {
            input_scale: 0.078125,
            zero_point: -128,
        };
        assert_eq!(even_zp.map(1), -128); // 0.5 - 128 -> -127.5 -> -128
        assert_eq!(even_zp.map(3), -126); // -126.5 -> -126
        let odd_zp = Int8Mapping::MicroWakeWord {
            input_scale: 0.078125,
            zero_point: -127,
        };
        assert_eq!(odd_zp.map(1), -126); // -126.5 -> -126
        assert_eq!(odd_zp.map(3), -126); // -125.5 -> -126
    }

    /// The table gives the formula's value for every u16 feature, for both mappings, the
    /// shipped scale and scales with exact ties (even and odd zero points).
    #[test]
    fn thresholds_equal_the_formula_for_every_input() {
        let mut mappings = std::vec![Int8Mapping::MicroSpeech, Int8Mapping::MICRO_WAKEWORD];
        for (scale, zp) in [
            (0.078125, -128),
            (0.078125, -127),
            (0.0390625, 0),
            (0.5, 3),
            (0.00390625, -1),
            (0.101_960_786, 5),
            (0.017, -100),
            (1.0e-6, -128),
            (3.0e8, 127),
        ] {
            mappings.push(Int8Mapping::MicroWakeWord {
                input_scale: scale,
                zero_point: zp,
            });
        }
        for m in mappings {
            assert!(m.is_valid(), "{m:?}");
            let t = m.thresholds();
            for f in 0..=u16::MAX {
                assert_eq!(t.map(f), m.map(f), "{m:?} f={f}");
            }
        }
    }

    #[test]
    fn invalid_scales() {
        for s in [0.0, -1.0, f32::NAN, f32::INFINITY, 1e-30] {
            assert!(!Int8Mapping::MicroWakeWord {
                input_scale: s,
                zero_point: 0
            }
            .is_valid());
        }
        assert!(!Int8Mapping::MicroWakeWord {
            input_scale: 0.1,
            zero_point: 300
        }
        .is_valid());
    }
}
