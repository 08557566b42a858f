//! Audio files for the CLI: any WAV (8–48 kHz, mono or stereo, 16-bit PCM or 32-bit float)
//! becomes 16 kHz mono i16 through the engine's resampler — the same one the browser and the
//! firmware use. The conversion itself is [`crate::export::wav::read_16k`] (bytes in, no file
//! system), shared with `mote export --replay` and the playground.

use std::path::Path;

use anyhow::{anyhow, Context, Result};

/// Read a WAV file and return 16 kHz mono samples.
pub fn read_16k(path: &Path) -> Result<Vec<i16>> {
    let bytes =
        std::fs::read(path).with_context(|| format!("cannot read WAV {}", path.display()))?;
    crate::export::wav::read_16k(&bytes)
        .map(|a| a.samples)
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}
