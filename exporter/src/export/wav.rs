//! WAV → 16 kHz mono int16, the samples the pipeline consumes: the one conversion `mote detect`,
//! `mote features` (`crate::audio`), `mote export --replay` and the playground use, so the
//! firmware's replay sees the very samples the CLI's run saw.
//!
//! [`WavStream`] reads from any `Read` in bounded chunks (an hour of 48 kHz stereo costs a
//! 64 KiB buffer, not gigabytes); [`read_16k`] is the in-memory form (bytes in, no file system).
//!
//! Accepted: RIFF/WAVE, mono or stereo, 16-bit PCM or 32-bit float (also inside
//! `WAVE_FORMAT_EXTENSIBLE`), any rate from 8 to 192 kHz ([`crate::resample::AnyRate`]).
//! Like Python's `wave`, a header that overstates the data (a truncated recording, or ffmpeg
//! writing to a pipe with the size left at `0xFFFFFFFF`) is read up to the end of the file, with
//! a warning. NaN and infinite float samples are clamped (NaN → 0, ±inf → full scale), with a
//! warning.

use std::io::Read;

use mote_engine::resample::f32_to_i16;

use crate::resample::AnyRate;

/// Converted audio.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audio16k {
    /// 16 kHz mono samples.
    pub samples: Vec<i16>,
    /// The file's sample rate, Hz.
    pub source_rate: u32,
    /// The file's channel count.
    pub channels: u16,
    /// What was read differently from what the header says (truncation, NaN samples), for
    /// people; empty for a clean file.
    pub warnings: Vec<String>,
}

/// Sample encodings read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// 16-bit signed little-endian PCM.
    Pcm16,
    /// 32-bit IEEE float, nominally in [-1, 1].
    Float32,
}

impl Encoding {
    fn bytes(self) -> usize {
        match self {
            Encoding::Pcm16 => 2,
            Encoding::Float32 => 4,
        }
    }
}

/// The `fmt ` chunk, checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavSpec {
    /// Sample rate, Hz.
    pub rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Sample encoding.
    pub encoding: Encoding,
}

/// The `data` chunk size that means "unknown" (streaming writers leave it so).
const UNKNOWN_SIZE: u32 = 0xFFFF_FFFF;
/// Largest `fmt ` chunk read (the extensible form is 40 bytes).
const MAX_FMT: u32 = 1024;
/// Bytes read per chunk of samples.
const BLOCK: usize = 64 * 1024;

/// A WAV file being converted, chunk by chunk.
pub struct WavStream<R: Read> {
    r: R,
    spec: WavSpec,
    /// Declared data bytes not yet read (`None`: unknown, read to the end of the file).
    remaining: Option<u64>,
    declared: Option<u64>,
    /// Data bytes read so far.
    read: u64,
    resampler: AnyRate,
    buf: Vec<u8>,
    /// Bytes of an incomplete frame carried to the next block.
    carry: usize,
    mono: Vec<i16>,
    nonfinite: u64,
    done: bool,
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read the WAV file: {e}")),
        }
    }
    Ok(got)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses a `fmt ` chunk body (at least 16 bytes).
fn parse_fmt(f: &[u8]) -> Result<WavSpec, String> {
    let mut tag = le16(f, 0);
    let channels = le16(f, 2);
    let rate = le32(f, 4);
    let bits = le16(f, 14);
    if tag == 0xFFFE {
        // WAVE_FORMAT_EXTENSIBLE: the real tag opens the sub-format GUID at byte 24.
        if f.len() < 26 {
            return Err("not a readable WAV file: truncated extensible fmt chunk".into());
        }
        tag = le16(f, 24);
    }
    let encoding = match (tag, bits) {
        (1, 16) => Encoding::Pcm16,
        (3, 32) => Encoding::Float32,
        (1 | 3, bits) => {
            return Err(format!(
                "{bits}-bit {} samples are not supported (16-bit PCM or 32-bit float are); convert with e.g. `sox in.wav -b 16 out.wav`",
                if tag == 1 { "integer" } else { "float" }
            ))
        }
        (tag, _) => {
            return Err(format!(
                "WAV format tag {tag:#06x} is not supported (16-bit PCM or 32-bit float are); convert with e.g. `sox in.wav -b 16 out.wav`"
            ))
        }
    };
    if channels == 0 || channels > 2 {
        return Err(format!(
            "{channels} channels; mono or stereo WAV files are supported"
        ));
    }
    Ok(WavSpec {
        rate,
        channels,
        encoding,
    })
}

impl<R: Read> WavStream<R> {
    /// Reads the header up to the start of the samples and sets up the conversion.
    pub fn open(mut r: R) -> Result<Self, String> {
        let mut riff = [0u8; 12];
        let got = read_full(&mut r, &mut riff)?;
        if got < 12 || &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
            return Err("not a readable WAV file: no RIFF/WAVE header".into());
        }
        let riff_size = le32(&riff, 4);
        let mut spec = None;
        loop {
            let mut h = [0u8; 8];
            if read_full(&mut r, &mut h)? < 8 {
                return Err(if spec.is_none() {
                    "not a readable WAV file: no fmt chunk".into()
                } else {
                    "not a readable WAV file: no data chunk".into()
                });
            }
            let size = le32(&h, 4);
            match &h[0..4] {
                b"fmt " => {
                    if !(16..=MAX_FMT).contains(&size) {
                        return Err(format!(
                            "not a readable WAV file: fmt chunk of {size} bytes"
                        ));
                    }
                    // Chunks are padded to an even size.
                    let mut f = vec![0u8; (size + (size & 1)) as usize];
                    if read_full(&mut r, &mut f)? < size as usize {
                        return Err("not a readable WAV file: truncated fmt chunk".into());
                    }
                    spec = Some(parse_fmt(&f[..size as usize])?);
                }
                b"data" => {
                    let spec = spec.ok_or("not a readable WAV file: data before the fmt chunk")?;
                    let resampler = AnyRate::new(spec.rate)?;
                    // ffmpeg on a pipe leaves the sizes as 0xFFFFFFFF (some writers: 0).
                    let unknown = size == UNKNOWN_SIZE
                        || (size == 0 && matches!(riff_size, 0 | UNKNOWN_SIZE));
                    let declared = (!unknown).then_some(u64::from(size));
                    return Ok(WavStream {
                        r,
                        spec,
                        remaining: declared,
                        declared,
                        read: 0,
                        resampler,
                        buf: vec![0u8; BLOCK],
                        carry: 0,
                        mono: Vec::new(),
                        nonfinite: 0,
                        done: false,
                    });
                }
                _ => {
                    let skip = u64::from(size) + u64::from(size & 1);
                    let skipped = std::io::copy(&mut (&mut r).take(skip), &mut std::io::sink())
                        .map_err(|e| format!("cannot read the WAV file: {e}"))?;
                    if skipped < skip {
                        return Err("not a readable WAV file: no data chunk".into());
                    }
                }
            }
        }
    }

    /// The file's format.
    pub fn spec(&self) -> WavSpec {
        self.spec
    }

    /// Appends the next 16 kHz mono samples to `out`; `Ok(false)` once the data is exhausted.
    pub fn read_chunk(&mut self, out: &mut Vec<i16>) -> Result<bool, String> {
        if self.done {
            return Ok(false);
        }
        let frame = self.spec.encoding.bytes() * usize::from(self.spec.channels);
        let mut want = BLOCK - self.carry;
        if let Some(rem) = self.remaining {
            want = want.min(usize::try_from(rem).unwrap_or(usize::MAX));
        }
        let got = read_full(&mut self.r, &mut self.buf[self.carry..self.carry + want])?;
        self.read += got as u64;
        if let Some(rem) = &mut self.remaining {
            *rem -= got as u64;
        }
        if got < want || self.remaining == Some(0) {
            self.done = true;
        }
        let avail = self.carry + got;
        let whole = avail - avail % frame;
        self.mono.clear();
        for f in self.buf[..whole].chunks_exact(frame) {
            let mut ch = [0i32; 2];
            for (c, v) in ch
                .iter_mut()
                .enumerate()
                .take(usize::from(self.spec.channels))
            {
                let s = &f[c * self.spec.encoding.bytes()..];
                *v = i32::from(match self.spec.encoding {
                    Encoding::Pcm16 => i16::from_le_bytes([s[0], s[1]]),
                    Encoding::Float32 => {
                        let x = f32::from_le_bytes([s[0], s[1], s[2], s[3]]);
                        if !x.is_finite() {
                            self.nonfinite += 1;
                        }
                        // NaN → 0, ±inf → ±full scale (saturating).
                        f32_to_i16(x)
                    }
                });
            }
            self.mono.push(if self.spec.channels == 2 {
                // Mean rounded toward −∞ (an arithmetic shift).
                ((ch[0] + ch[1]) >> 1) as i16
            } else {
                ch[0] as i16
            });
        }
        self.carry = avail - whole;
        self.buf.copy_within(whole..avail, 0);
        self.resampler.process(&self.mono, |s| out.push(s));
        Ok(!self.done || !self.mono.is_empty())
    }

    /// Warnings about what was read (call after the last chunk).
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        match self.declared {
            Some(d) if self.read < d => w.push(format!(
                "the WAV header declares {d} bytes of samples but the file ends after {} (a truncated recording?); using the samples present",
                self.read
            )),
            None => w.push(format!(
                "the WAV header does not give the length of the samples (written to a pipe?); read {} bytes up to the end of the file",
                self.read
            )),
            _ => {}
        }
        if self.carry > 0 {
            w.push(format!(
                "the last {} bytes are an incomplete sample frame; ignored",
                self.carry
            ));
        }
        if self.nonfinite > 0 {
            w.push(format!(
                "{} float samples are NaN or infinite; clamped (NaN to 0, infinity to full scale)",
                self.nonfinite
            ));
        }
        w
    }
}

/// Reads a WAV file's bytes and converts them to 16 kHz mono int16 (see the module docs for
/// what is accepted). A file without samples is an error.
pub fn read_16k(wav: &[u8]) -> Result<Audio16k, String> {
    let mut s = WavStream::open(wav)?;
    let mut samples = Vec::new();
    while s.read_chunk(&mut samples)? {}
    if s.read < (s.spec.encoding.bytes() * usize::from(s.spec.channels)) as u64 {
        return Err("the file has no samples".into());
    }
    Ok(Audio16k {
        samples,
        source_rate: s.spec.rate,
        channels: s.spec.channels,
        warnings: s.warnings(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 16-bit mono WAV with `data` declared as `declared` bytes.
    fn wav(rate: u32, samples: &[i16], declared: Option<u32>) -> Vec<u8> {
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let size = declared.unwrap_or(data.len() as u32);
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&size.wrapping_add(36).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&rate.to_le_bytes());
        v.extend_from_slice(&(rate * 2).to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&size.to_le_bytes());
        v.extend_from_slice(&data);
        v
    }

    #[test]
    fn an_overstated_data_size_reads_what_is_present_with_a_warning() {
        let s: Vec<i16> = (0..1000).map(|i| i as i16).collect();
        for declared in [4000, 0xFFFF_FFFF] {
            let a = read_16k(&wav(16_000, &s, Some(declared))).unwrap();
            assert_eq!(a.samples, s);
            assert_eq!(a.warnings.len(), 1, "{:?}", a.warnings);
        }
        let clean = read_16k(&wav(16_000, &s, None)).unwrap();
        assert!(clean.warnings.is_empty());
        // An odd byte at the end is an incomplete frame.
        let mut odd = wav(16_000, &s, Some(4000));
        odd.push(1);
        let a = read_16k(&odd).unwrap();
        assert_eq!(a.samples, s);
        assert!(a.warnings.iter().any(|w| w.contains("incomplete")));
    }

    #[test]
    fn nan_and_infinite_float_samples_are_clamped_with_a_warning() {
        let vals = [0.5f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        let mut v = b"RIFF\x00\x00\x00\x00WAVEfmt ".to_vec();
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&3u16.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&16_000u32.to_le_bytes());
        v.extend_from_slice(&64_000u32.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&32u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&16u32.to_le_bytes());
        vals.iter()
            .for_each(|x| v.extend_from_slice(&x.to_le_bytes()));
        let a = read_16k(&v).unwrap();
        assert_eq!(a.samples, [16_384, 0, 32_767, -32_768]);
        assert!(a
            .warnings
            .iter()
            .any(|w| w.contains("3 float samples are NaN or infinite")));
    }

    #[test]
    fn chunking_does_not_change_the_output() {
        // More than one 64 KiB block, at a rate that goes through the interpolating path.
        let s: Vec<i16> = (0..100_000)
            .map(|i| ((i * 7919) % 30_000 - 15_000) as i16)
            .collect();
        let a = read_16k(&wav(11_025, &s, None)).unwrap();
        let mut want = Vec::new();
        AnyRate::new(11_025).unwrap().process(&s, |x| want.push(x));
        assert_eq!(a.samples, want);
    }

    #[test]
    fn headers_are_checked_before_anything_else() {
        assert!(read_16k(&[0u8; 100]).unwrap_err().contains("RIFF"));
        assert!(read_16k(&wav(7_000, &[1], None))
            .unwrap_err()
            .contains("7000 Hz"));
        assert!(read_16k(&wav(16_000, &[], None))
            .unwrap_err()
            .contains("no samples"));
    }
}
