//! `mote listen`: the default microphone through the same pipeline, live.

use std::io::Write;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use mote_engine::pipeline::{Output, Pipeline};
use mote_engine::resample::f32_to_i16;
use mote_engine::Model;
use mote_exporter::detect::{pipeline_buffers, Setup};
use mote_exporter::resample::{AnyRate, MAX_RATE, MIN_RATE};

/// The microphone configuration: the device's default if its rate is one [`AnyRate`] converts
/// (8–192 kHz), else a supported configuration at 16 kHz, 48 kHz or the nearest convertible
/// rate (a device whose default is, say, 384 kHz still works).
fn input_config(device: &cpal::Device) -> Result<cpal::SupportedStreamConfig> {
    let default = device.default_input_config();
    if let Ok(c) = &default {
        if (MIN_RATE..=MAX_RATE).contains(&c.sample_rate().0) {
            return Ok(c.clone());
        }
    }
    let ranges: Vec<_> = device
        .supported_input_configs()
        .map(|it| it.collect())
        .unwrap_or_default();
    for want in [16_000, 48_000, 44_100] {
        if let Some(r) = ranges
            .iter()
            .find(|r| r.min_sample_rate().0 <= want && want <= r.max_sample_rate().0)
        {
            return Ok((*r).with_sample_rate(cpal::SampleRate(want)));
        }
    }
    // Any range overlapping 8–192 kHz, at the rate inside it nearest to 16 kHz.
    for r in &ranges {
        let (lo, hi) = (
            r.min_sample_rate().0.max(MIN_RATE),
            r.max_sample_rate().0.min(MAX_RATE),
        );
        if lo <= hi {
            return Ok((*r).with_sample_rate(cpal::SampleRate(16_000u32.clamp(lo, hi))));
        }
    }
    match default {
        Ok(c) => bail!(
            "the microphone runs at {} Hz and offers no rate from {MIN_RATE} to {MAX_RATE} Hz",
            c.sample_rate().0
        ),
        Err(e) => bail!("no usable microphone: the default input device cannot be opened ({e}); connect one, or use `mote detect MODEL file.wav`"),
    }
}

/// An input stream sending the first channel of each frame of `channels`, as i16 (`to_i16`).
fn mono_stream<T: cpal::SizedSample + 'static>(
    device: &cpal::Device,
    config: &cpal::StreamConfig,
    channels: usize,
    tx: mpsc::Sender<Vec<i16>>,
    to_i16: fn(T) -> i16,
) -> Result<cpal::Stream, cpal::BuildStreamError> {
    device.build_input_stream(
        config,
        move |d: &[T], _: &cpal::InputCallbackInfo| {
            let _ = tx.send(d.iter().step_by(channels).map(|&s| to_i16(s)).collect());
        },
        |e| eprintln!("audio stream error: {e}"),
        None,
    )
}

/// Listen until Ctrl-C (or `seconds`), printing a live score bar and each detection.
pub fn listen(model: &Model<'_>, setup: &Setup, seconds: Option<f64>) -> Result<()> {
    let host = cpal::default_host();
    let device = host
        .default_input_device()
        .ok_or_else(|| anyhow!("no audio input device found: connect a microphone (or check ALSA/PulseAudio), or use `mote detect MODEL file.wav`"))?;
    let supported = input_config(&device)?;
    let rate = supported.sample_rate().0;
    let channels = supported.channels() as usize;
    let format = supported.sample_format();
    let config: cpal::StreamConfig = supported.into();
    let (tx, rx) = mpsc::channel::<Vec<i16>>();
    // Mono: the first channel of each frame.
    let stream = match format {
        cpal::SampleFormat::F32 => mono_stream(&device, &config, channels, tx, f32_to_i16)?,
        cpal::SampleFormat::I16 => mono_stream(&device, &config, channels, tx, |s: i16| s)?,
        cpal::SampleFormat::U16 => mono_stream(&device, &config, channels, tx, |s: u16| {
            (s as i32 - 32768) as i16
        })?,
        f => bail!("the microphone delivers {f:?} samples; f32, i16 or u16 are supported"),
    };
    stream.play().context("cannot start the microphone")?;
    let mut resampler = AnyRate::new(rate).map_err(|e| anyhow!("microphone at {rate} Hz: {e}"))?;
    let (mut arena, mut state, mut mem) = pipeline_buffers(model)?;
    let mut p = Pipeline::new(model, &mut arena, &mut state, &mut mem, &setup.config)
        .map_err(|e| anyhow!("{e}"))?;
    let labels: Vec<&str> = setup.labels.iter().map(String::as_str).collect();
    eprintln!(
        "listening on {} at {rate} Hz ({channels} ch) — Ctrl-C to stop",
        device.name().unwrap_or_default()
    );
    let start = Instant::now();
    let mut buf16 = Vec::new();
    let out = std::io::stdout();
    loop {
        if seconds.is_some_and(|s| start.elapsed().as_secs_f64() >= s) {
            break;
        }
        let chunk = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(c) => c,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(e) => bail!("microphone stopped: {e}"),
        };
        buf16.clear();
        resampler.process(&chunk, |x| buf16.push(x));
        let mut lock = out.lock();
        p.push(&buf16, |o| match o {
            Output::Invocation {
                scores,
                top,
                output,
                ..
            } => {
                let v = output.score(scores[top as usize]) as usize;
                let bar: String = (0..32).map(|i| if i * 8 < v { '#' } else { '.' }).collect();
                let _ = write!(
                    lock,
                    "\r[{bar}] {:>5.3} {:<16}",
                    v as f32 / 256.0,
                    labels.get(top as usize).unwrap_or(&"?")
                );
                let _ = lock.flush();
            }
            Output::Detection { label, t_ms, score } => {
                let _ = writeln!(
                    lock,
                    "\rdetected {:<16} at {:>8.2} s  score {:.3}{:24}",
                    labels.get(label as usize).unwrap_or(&"?"),
                    t_ms as f64 / 1000.0,
                    score as f32 / 256.0,
                    ""
                );
            }
        })
        .map_err(|e| anyhow!("{e}"))?;
    }
    println!();
    Ok(())
}
