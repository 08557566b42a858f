//! WAV bytes → 16 kHz mono int16, the samples the pipeline consumes, the one conversion
//! `mote detect` (`crate::audio`), `mote export --replay` and the playground use, so the firmware's replay sees the very samples the CLI's run saw. Pure (no
//! file system), for the playground too.

use mote_engine::resample::{self, f32_to_i16, Resampler};

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

/// Reads a WAV file's bytes and converts them to 16 kHz mono int16. Accepted: mono or stereo,
/// 16-bit PCM or 32-bit float, at a rate the engine's resampler converts (8–48 kHz).
pub fn read_16k(wav: &[u8]) -> Result<Audio16k, String> {
    let mut reader = hound::WavReader::new(std::io::Cursor::new(wav))
        .map_err(|e| format!("not a readable WAV file: {e}"))?;
    let spec = reader.spec();
    let rates = || {
        resample::SUPPORTED_RATES
            .iter()
            .filter(|r| (8000..=48000).contains(*r))
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !(8000..=48000).contains(&spec.sample_rate) {
        return Err(format!(
            "{} Hz cannot be converted to 16 kHz (supported: {} Hz)",
            spec.sample_rate,
            rates()
        ));
    }
    let mut resampler = Resampler::new(spec.sample_rate).map_err(|_| {
        format!(
            "{} Hz cannot be converted to 16 kHz (supported: {} Hz)",
            spec.sample_rate,
            rates()
        )
    })?;
    if spec.channels == 0 || spec.channels > 2 {
        return Err(format!(
            "{} channels; mono or stereo WAV files are supported",
            spec.channels
        ));
    }
    let interleaved: Vec<i16> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, 16) => reader
            .samples::<i16>()
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read samples: {e}"))?,
        (hound::SampleFormat::Float, 32) => reader
            .samples::<f32>()
            .map(|s| s.map(f32_to_i16))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read samples: {e}"))?,
        (fmt, bits) => {
            return Err(format!(
                "{bits}-bit {} samples are not supported (16-bit PCM or 32-bit float are); convert with e.g. `sox in.wav -b 16 out.wav`",
                match fmt {
                    hound::SampleFormat::Int => "integer",
                    hound::SampleFormat::Float => "float",
                }
            ))
        }
    };
    let mono: Vec<i16> = if spec.channels == 2 {
        interleaved
            .chunks_exact(2)
            // Mean rounded toward −∞ (an arithmetic shift).
            .map(|c| ((i32::from(c[0]) + i32::from(c[1])) >> 1) as i16)
            .collect()
    } else {
        interleaved
    };
    if mono.is_empty() {
        return Err("the file has no samples".into());
    }
    let mut samples = Vec::with_capacity(resampler.max_output_len(mono.len()));
    // 16 kHz passes through unchanged; other rates stream through the filter (no flush).
    resampler.process(&mono, |s| samples.push(s));
    Ok(Audio16k {
        samples,
        source_rate: spec.sample_rate,
        channels: spec.channels,
    })
}
