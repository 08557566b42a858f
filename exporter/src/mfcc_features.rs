//! `mote features`: the WAV-to-file loop both front ends share ([`stream`]), and `--preset mfcc` (MLPerf Tiny KWS's MFCCs, engine `mfcc`).

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use mote_engine::mfcc::{Mfcc, MfccConfig};
use mote_engine::Model;
use mote_exporter::audio;

use crate::files::{self, AtomicOut};
use crate::FeatureFormat;

/// Write f32 (or, with `model`, int8) MFCC frames of `wav` to `output`.
pub fn run(wav: &Path, model: Option<&Path>, output: &Path, format: FeatureFormat) -> Result<()> {
    let mut cfg = MfccConfig::MLPERF;
    match (format, model) {
        (FeatureFormat::Float32, _) => {}
        (FeatureFormat::Int8, Some(path)) => {
            let bytes = files::read_model(path)?;
            let m = Model::parse(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let t = m
                .subgraph(0)
                .and_then(|sg| sg.tensor(usize::try_from(sg.inputs().get(0)?).ok()?))
                .with_context(|| format!("{}: the model has no input tensor", path.display()))?;
            cfg = cfg.with_input(t.quant.scale(), t.quant.zero_point());
        }
        (FeatureFormat::Int8, None) => anyhow::bail!(
            "--preset mfcc --format int8 needs --model MODEL (its input scale and zero point)"
        ),
        (FeatureFormat::Uint16, _) => {
            anyhow::bail!("--preset mfcc writes --format float32 (or int8 with --model)")
        }
    }
    let mut fe = Box::new(Mfcc::EMPTY);
    fe.init(&cfg).map_err(anyhow::Error::msg)?;
    let n = fe.num_coefficients();
    stream(wav, output, n, "MFCCs", |chunk, bytes| {
        fe.push(chunk, |f| match format {
            FeatureFormat::Int8 => bytes.extend(f.int8.iter().map(|&v| v as u8)),
            _ => f
                .features
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes())),
        })
    })
}

/// The WAV-to-file loop both `mote features` front ends share: read `wav` a chunk at a time,
/// `push(chunk, bytes)` appends that chunk's frames' bytes and returns how many frames, and the
/// bytes go to `output` (written atomically). `per_frame` and `what` name a frame's values for
/// the summary line on stderr.
pub fn stream(
    wav: &Path,
    output: &Path,
    per_frame: usize,
    what: &str,
    mut push: impl FnMut(&[i16], &mut Vec<u8>) -> usize,
) -> Result<()> {
    let mut reader = audio::open(wav)?;
    let mut out = AtomicOut::create(output)?;
    let (mut frames, mut bytes, mut samples) = (0usize, 0u64, 0u64);
    let (mut chunk, mut frame_bytes) = (Vec::new(), Vec::new());
    loop {
        chunk.clear();
        let more = reader
            .read_chunk(&mut chunk)
            .map_err(|e| anyhow::anyhow!("{}: {e}", wav.display()))?;
        samples += chunk.len() as u64;
        frame_bytes.clear();
        frames += push(&chunk, &mut frame_bytes);
        out.write_all(&frame_bytes)
            .with_context(|| format!("cannot write {}", output.display()))?;
        bytes += frame_bytes.len() as u64;
        if !more {
            break;
        }
    }
    audio::warn(wav, &reader);
    if samples == 0 {
        anyhow::bail!("{}: the file has no samples", wav.display());
    }
    out.commit()?;
    eprintln!(
        "{frames} frames x {per_frame} {what} -> {} ({bytes} bytes)",
        output.display()
    );
    Ok(())
}
