//! Transfer learning: the convolution stack of a network trained on many words and voices
//! (a "base"), loaded and mostly frozen so that a user's few clips train only the top.
//!
//! Trained on synthetic voices alone, a network learns the synthesizer (espeak-ng's spectra)
//! and hears real speakers poorly. The built-in base ([`BUILTIN`]) was trained by
//! `scripts/make-base.sh` on 30 words spoken by espeak-ng, flite and festival voices (the last
//! two concatenate or model recordings of real speakers), so its features carry real voices'
//! spectra; the user's words need not be among its 30. A transfer keeps the first [`FROZEN`]
//! layers fixed and trains the rest on the user's clips.
//!
//! File format (little-endian): `MOTEBASE`, u32 version (1), u32 value count, then the f32
//! values of every entry of [`net::LAYERS`] in order: weights (HWIO for convolutions,
//! `[kh, kw, c]` for depthwise), then biases.

use core::fmt;

use crate::net::{self, Params, LAYERS};

/// The base shipped with Mote (`trainer/assets/base.mtb`, made by `scripts/make-base.sh`).
pub static BUILTIN: &[u8] = include_bytes!("../assets/base.mtb");

const MAGIC: &[u8; 8] = b"MOTEBASE";
const VERSION: u32 = 1;
const HEADER: usize = 16;

/// Why a base file cannot be used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BaseError {
    /// It does not start with `MOTEBASE` and version 1.
    NotABase,
    /// Its value count is not this network's (`expected`, `found`).
    Size {
        /// Values the network's convolution stack has.
        expected: usize,
        /// Values the file holds (or claims).
        found: usize,
    },
    /// A value is NaN or infinite.
    NotFinite,
}

impl fmt::Display for BaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaseError::NotABase => write!(f, "not a Mote base network (MOTEBASE version 1)"),
            BaseError::Size { expected, found } => write!(
                f,
                "the base holds {found} values; this network's convolutions need {expected}"
            ),
            BaseError::NotFinite => write!(f, "the base holds a NaN or infinite value"),
        }
    }
}

/// Values in the convolution stack (weights and biases of every entry of [`LAYERS`]).
pub fn values() -> usize {
    LAYERS.iter().map(|(k, g)| g.weights(*k) + g.oc).sum()
}

/// The convolution stack of `p` as a base file.
pub fn encode(p: &Params) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + 4 * values());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(values() as u32).to_le_bytes());
    for (w, b) in &p.conv {
        for x in w.iter().chain(b) {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    out
}

/// Copies a base file's convolution stack into `p` (its dense layer is left as it is).
/// Checked whole before `p` is touched.
pub fn load(bytes: &[u8], p: &mut Params) -> Result<(), BaseError> {
    let word = |at: usize| -> Option<u32> {
        let b = bytes.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    if bytes.get(..8) != Some(&MAGIC[..]) || word(8) != Some(VERSION) {
        return Err(BaseError::NotABase);
    }
    let expected = values();
    let claimed = word(12).map_or(0, |n| n as usize);
    let body = bytes.len().saturating_sub(HEADER);
    let found = body / 4;
    if claimed != expected || found != expected || !body.is_multiple_of(4) || bytes.len() < HEADER {
        return Err(BaseError::Size {
            expected,
            found: if claimed != expected { claimed } else { found },
        });
    }
    let vals: Vec<f32> = bytes[HEADER..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if vals.iter().any(|v| !v.is_finite()) {
        return Err(BaseError::NotFinite);
    }
    let mut it = vals.into_iter();
    for (w, b) in &mut p.conv {
        for x in w.iter_mut().chain(b.iter_mut()) {
            // Counted above: exactly `values()` entries.
            *x = it.next().unwrap_or(0.0);
        }
    }
    Ok(())
}

/// Layers a transfer keeps fixed: all convolutions but the last (chosen by measurement,
/// trainer/README.md's table: with the last 1×1 convolution trained too, the real "no" was
/// right for all three seeds tried and the real "yes" for two).
pub const FROZEN: usize = net::LAYERS.len() - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn round_trips_and_refuses_bad_files() {
        let p = Params::init(4, &mut Rng::new(3));
        let bytes = encode(&p);
        let mut q = Params::zeros(7);
        load(&bytes, &mut q).unwrap();
        assert_eq!(q.conv, p.conv);
        assert!(
            q.wf.iter().all(|&x| x == 0.0),
            "the dense layer is not the base's"
        );

        let mut short = bytes.clone();
        short.truncate(bytes.len() - 4);
        assert!(matches!(load(&short, &mut q), Err(BaseError::Size { .. })));
        let mut odd = bytes.clone();
        odd.push(0);
        assert!(matches!(load(&odd, &mut q), Err(BaseError::Size { .. })));
        assert_eq!(load(b"MOTEBAS", &mut q), Err(BaseError::NotABase));
        assert_eq!(load(&[], &mut q), Err(BaseError::NotABase));
        assert!(matches!(
            load(&bytes[..12], &mut q),
            Err(BaseError::Size { found: 0, .. })
        ));
        let mut nan = bytes.clone();
        nan[HEADER..HEADER + 4].copy_from_slice(&f32::NAN.to_le_bytes());
        assert_eq!(load(&nan, &mut q), Err(BaseError::NotFinite));
    }

    #[test]
    fn builtin_base_fits_the_network() {
        let mut p = Params::zeros(3);
        load(BUILTIN, &mut p).unwrap();
        assert!(p.conv.iter().any(|(w, _)| w.iter().any(|&x| x != 0.0)));
    }
}
