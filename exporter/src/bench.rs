//! `mote bench`: host time per invocation of a model, measured the way the device runs it
//! (one prepared interpreter, streaming state carried across invocations).

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::Model;
use mote_exporter::{io, report};

use crate::files;

/// Most timed (and most warm-up) invocations: 10 million (the timings alone take 80 MB).
pub const MAX_INVOCATIONS: usize = 10_000_000;
use serde::Serialize;

/// What `mote bench --json` prints.
#[derive(Serialize)]
pub struct BenchReport {
    /// The model file.
    pub model: String,
    /// Timed invocations (after the warm-up).
    pub invocations: usize,
    /// Untimed invocations before them.
    pub warmup: usize,
    /// Median time of one invocation, microseconds.
    pub median_us: f64,
    /// Mean time of one invocation, microseconds.
    pub mean_us: f64,
    /// Fastest invocation, microseconds.
    pub min_us: f64,
    /// 90th percentile, microseconds.
    pub p90_us: f64,
    /// Arena bytes the model needs (`Interpreter::memory().arena_bytes`).
    pub arena_bytes: u32,
    /// State bytes (resource variables).
    pub state_bytes: u32,
    /// Multiply-accumulates per invocation.
    pub macs: u64,
    /// Millions of MACs per second at the median time.
    pub mmacs_per_s: f64,
}

/// Run the benchmark. `input`, if given, holds whole input frames (every model input in order)
/// that are replayed cyclically; otherwise input byte i is `(7 * i + 3) mod 256`, as in the
/// firmware's bench mode.
///
/// Refused up front: 0 or more than [`MAX_INVOCATIONS`] timed invocations, more than
/// [`MAX_INVOCATIONS`] warm-up invocations, and an `input` that is empty or not a whole number
/// of input frames (checked as `mote infer` checks it).
pub fn run(
    model_path: &Path,
    invocations: usize,
    warmup: usize,
    input: Option<&Path>,
) -> Result<BenchReport> {
    if invocations == 0 {
        bail!("--invocations 0: give at least 1 timed invocation");
    }
    if invocations > MAX_INVOCATIONS {
        bail!("--invocations {invocations} is more than the {MAX_INVOCATIONS} this command times (one time is kept per invocation)");
    }
    if warmup > MAX_INVOCATIONS {
        bail!("--warmup {warmup} is more than the {MAX_INVOCATIONS} allowed");
    }
    let bytes = files::read_model(model_path)?;
    let model = Model::parse(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))?;
    let frames = match input {
        Some(p) => Some(files::read_capped(p, files::RAW_INPUT_CAP, "input")?),
        None => None,
    };
    if let Some(f) = &frames {
        let frame = report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
            Ok(io::input_frame_bytes(interp))
        })
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))??;
        let p = input.unwrap_or(Path::new("")).display();
        if f.is_empty() {
            bail!("{p}: the input is empty: one invocation takes {frame} bytes");
        }
        if frame == 0 || !f.len().is_multiple_of(frame) {
            bail!("{p}: input is {} bytes, not a whole number of invocations: one invocation takes {frame} bytes", f.len());
        }
    }
    let r = report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
        let mem = interp.memory();
        let macs: u64 = {
            let mut total = 0u64;
            let _ = interp.timeline(|st| {
                total += interp.op_macs(st.subgraph, st.op);
                Ok(())
            });
            total
        };
        // Input sizes, to cut frames.
        let sizes: Vec<usize> = (0..interp.input_count())
            .map(|i| interp.input_mut(i).map_or(0, |b| b.len()))
            .collect();
        let frame: usize = sizes.iter().sum();
        if frames.is_none() {
            for i in 0..sizes.len() {
                if let Ok(buf) = interp.input_mut(i) {
                    for (k, b) in buf.iter_mut().enumerate() {
                        *b = (k.wrapping_mul(7).wrapping_add(3) & 0xFF) as u8;
                    }
                }
            }
        }
        let n_frames = frames
            .as_ref()
            .map_or(0, |f| f.len().checked_div(frame).unwrap_or(0));
        let mut times = Vec::with_capacity(invocations);
        // Both are at most MAX_INVOCATIONS: the sum cannot overflow.
        for k in 0..warmup + invocations {
            if let (Some(f), true) = (&frames, n_frames > 0) {
                let mut off = (k % n_frames) * frame;
                for (i, &n) in sizes.iter().enumerate() {
                    if let Ok(buf) = interp.input_mut(i) {
                        buf.copy_from_slice(&f[off..off + n]);
                    }
                    off += n;
                }
            }
            let t = Instant::now();
            interp.invoke()?;
            let dt = t.elapsed();
            if k >= warmup {
                times.push(dt.as_secs_f64() * 1e6);
            }
        }
        Ok((mem, macs, times))
    });
    let (mem, macs, mut times) = r
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))?;
    times.sort_by(f64::total_cmp);
    let pct = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let median = pct(0.5);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    Ok(BenchReport {
        model: model_path.display().to_string(),
        invocations,
        warmup,
        median_us: median,
        mean_us: mean,
        min_us: times[0],
        p90_us: pct(0.9),
        arena_bytes: mem.arena_bytes,
        state_bytes: mem.state_bytes,
        macs,
        mmacs_per_s: if median > 0.0 {
            macs as f64 / median
        } else {
            0.0
        },
    })
}

/// Print a report as text.
pub fn print(r: &BenchReport) {
    println!("{}", r.model);
    println!(
        "  {:.2} us/invoke median ({} invocations after {} warm-up; mean {:.2}, min {:.2}, p90 {:.2})",
        r.median_us, r.invocations, r.warmup, r.mean_us, r.min_us, r.p90_us
    );
    println!(
        "  arena {} B, state {} B, {} MACs/invoke ({:.0} MMAC/s)",
        r.arena_bytes, r.state_bytes, r.macs, r.mmacs_per_s
    );
}
