//! Audio files for the CLI: any WAV (8–48 kHz, mono or stereo, 16-bit PCM or 32-bit float)
//! becomes 16 kHz mono i16 through the engine's resampler — the same one the browser and the
//! firmware use.

use std::path::Path;

use anyhow::{bail, Context, Result};
use mote_engine::resample::{f32_to_i16, Resampler};

/// Decoded audio at its own rate, mono.
pub struct Audio {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Mono samples.
    pub samples: Vec<i16>,
}

/// Read a WAV file as mono i16 (stereo: mean of the two channels, rounded toward −∞).
pub fn read_wav(path: &Path) -> Result<Audio> {
    let mut r = hound::WavReader::open(path)
        .with_context(|| format!("cannot read WAV {}", path.display()))?;
    let spec = r.spec();
    if !(8000..=48000).contains(&spec.sample_rate) {
        bail!(
            "{}: {} Hz is not supported (8–48 kHz WAV files are)",
            path.display(),
            spec.sample_rate
        );
    }
    if spec.channels == 0 || spec.channels > 2 {
        bail!(
            "{}: {} channels; mono or stereo WAV files are supported",
            path.display(),
            spec.channels
        );
    }
    let interleaved: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => r.samples::<i16>().collect::<Result<_, _>>()?,
        (hound::SampleFormat::Float, 32) => r.samples::<f32>().map(|s| s.map(f32_to_i16)).collect::<Result<_, _>>()?,
        (f, b) => bail!(
            "{}: {b}-bit {} samples are not supported (16-bit PCM or 32-bit float are); convert with e.g. `sox in.wav -b 16 out.wav`",
            path.display(),
            if f == hound::SampleFormat::Int { "integer" } else { "float" }
        ),
    };
    let samples = if spec.channels == 2 {
        interleaved
            .chunks_exact(2)
            .map(|c| ((c[0] as i32 + c[1] as i32) >> 1) as i16)
            .collect()
    } else {
        interleaved
    };
    Ok(Audio {
        rate: spec.sample_rate,
        samples,
    })
}

/// Resample to 16 kHz (a copy when already 16 kHz).
pub fn to_16k(audio: &Audio) -> Result<Vec<i16>> {
    if audio.rate == 16000 {
        return Ok(audio.samples.clone());
    }
    let mut rs = Resampler::new(audio.rate).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = Vec::with_capacity(audio.samples.len() * 16000 / audio.rate as usize + 16);
    rs.process(&audio.samples, |s| out.push(s));
    Ok(out)
}

/// Read a WAV and return 16 kHz mono samples.
pub fn read_16k(path: &Path) -> Result<Vec<i16>> {
    to_16k(&read_wav(path)?)
}
