//! WAV → 16 kHz mono int16, the samples the pipeline consumes. Pure (bytes in, samples out), so
//! the CLI, the playground and the exporter convert a file identically.
//!
//! Sample formats: PCM 8/16/24/32-bit integer (scaled to 16 bits by an arithmetic shift, i.e.
//! rounding toward −∞) and 32-bit float (`resample::f32_to_i16`). Several channels are mixed
//! down by their mean, rounded toward −∞. Rates: those `mote_engine::resample` has filters for;
//! the resampler runs in streaming mode, as on a device (no flush of its ~2 ms tail).

use mote_engine::resample::{self, Resampler};

/// Converted audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audio16k {
    /// 16 kHz mono samples.
    pub samples: Vec<i16>,
    /// The file's sample rate, Hz.
    pub source_rate: u32,
    /// The file's channel count.
    pub channels: u16,
}

/// Reads a WAV file's bytes and converts them to 16 kHz mono int16.
pub fn read_16k(wav: &[u8]) -> Result<Audio16k, String> {
    let reader = hound::WavReader::new(std::io::Cursor::new(wav))
        .map_err(|e| format!("not a readable WAV file: {e}"))?;
    let spec = reader.spec();
    let mut resampler = Resampler::new(spec.sample_rate).map_err(|_| {
        format!(
            "sample rate {} Hz cannot be converted to 16 kHz (supported: {} Hz)",
            spec.sample_rate,
            resample::SUPPORTED_RATES
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })?;
    if spec.channels == 0 {
        return Err("the file declares 0 channels".into());
    }
    let interleaved: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let shift = i32::from(bits) - 16;
            reader
                .into_samples::<i32>()
                .map(|s| {
                    s.map(|v| {
                        let v = if shift >= 0 { v >> shift } else { v << -shift };
                        // In range after the shift for every valid sample.
                        v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(|e| format!("cannot read samples: {e}"))?
        }
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .map(|s| s.map(resample::f32_to_i16))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read samples: {e}"))?,
        (fmt, bits) => {
            return Err(format!(
                "{bits}-bit {} samples are not supported (use 8/16/24/32-bit PCM or 32-bit float)",
                match fmt {
                    hound::SampleFormat::Int => "integer",
                    hound::SampleFormat::Float => "float",
                }
            ))
        }
    };
    let ch = usize::from(spec.channels);
    let mono: Vec<i16> = if ch == 1 {
        interleaved
    } else {
        interleaved
            .chunks_exact(ch)
            .map(|f| {
                let sum: i32 = f.iter().map(|&s| i32::from(s)).sum();
                // The mean of i16 values is an i16.
                sum.div_euclid(ch as i32) as i16
            })
            .collect()
    };
    if mono.is_empty() {
        return Err("the file has no samples".into());
    }
    let mut samples = Vec::with_capacity(resampler.max_output_len(mono.len()));
    resampler.process(&mono, |s| samples.push(s));
    Ok(Audio16k {
        samples,
        source_rate: spec.sample_rate,
        channels: spec.channels,
    })
}
