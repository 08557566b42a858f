//! Audio files for the CLI: any WAV (8–192 kHz, mono or stereo, 16-bit PCM or 32-bit float)
//! becomes 16 kHz mono i16 through the engine's resampler (or, for rates it has no exact filter
//! for, [`crate::resample`]'s interpolating one). The conversion itself is
//! [`crate::export::wav::WavStream`], shared with `mote export --replay` and the playground.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use anyhow::{anyhow, Context, Result};

use crate::export::wav::WavStream;

/// A WAV file opened for streaming conversion to 16 kHz mono.
pub type WavFile = WavStream<BufReader<File>>;

/// Opens a WAV file and reads its header (the samples are read by `read_chunk`).
pub fn open(path: &Path) -> Result<WavFile> {
    let f = File::open(path).with_context(|| format!("cannot read WAV {}", path.display()))?;
    WavStream::open(BufReader::new(f)).map_err(|e| anyhow!("{}: {e}", path.display()))
}

/// Prints the stream's warnings on stderr, one line each.
pub fn warn(path: &Path, w: &WavFile) {
    for line in w.warnings() {
        eprintln!("warning: {}: {line}", path.display());
    }
}

/// Reads a whole WAV file and returns 16 kHz mono samples (warnings go to stderr).
pub fn read_16k(path: &Path) -> Result<Vec<i16>> {
    let mut w = open(path)?;
    let mut samples = Vec::new();
    while w
        .read_chunk(&mut samples)
        .map_err(|e| anyhow!("{}: {e}", path.display()))?
    {}
    warn(path, &w);
    if samples.is_empty() {
        return Err(anyhow!("{}: the file has no samples", path.display()));
    }
    Ok(samples)
}
