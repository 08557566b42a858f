//! Raw tensor I/O for `mote infer`: N tensors back to back, exact dtype bytes, no header.

use anyhow::{bail, Context, Result};
use mote_engine::Interpreter;

/// Bytes of one invocation's inputs (all model inputs in order).
pub fn input_frame_bytes(interp: &Interpreter<'_, '_>) -> Result<usize> {
    let mut n = 0;
    for i in 0..interp.input_count() {
        n += interp.input_tensor(i).map_err(anyhow::Error::msg)?.bytes();
    }
    Ok(n)
}

/// Run `invocations` invocations over `input` (each: every model input in order), writing the
/// outputs of each invocation (every model output in order) back to back to `out`. Streaming
/// state carries over between invocations. Returns the bytes written.
///
/// Refused before any invocation: an empty input, a partial invocation, more invocations than
/// the input holds (the byte counts are computed with checked arithmetic).
pub fn run_raw(
    interp: &mut Interpreter<'_, '_>,
    input: &[u8],
    invocations: Option<usize>,
    out: &mut dyn std::io::Write,
) -> Result<u64> {
    let frame = input_frame_bytes(interp)?;
    if frame == 0 {
        bail!("the model has no input bytes");
    }
    if input.is_empty() {
        bail!(
            "the input is empty: one invocation takes {frame} bytes ({})",
            describe_inputs(interp)
        );
    }
    if !input.len().is_multiple_of(frame) {
        bail!(
            "input is {} bytes, not a whole number of invocations: one invocation takes {} bytes ({})",
            input.len(),
            frame,
            describe_inputs(interp)
        );
    }
    let available = input.len() / frame;
    let n = invocations.unwrap_or(available);
    if n == 0 {
        bail!("--invocations 0: nothing to run (give at least 1)");
    }
    if n > available {
        let need = (n as u128) * (frame as u128);
        bail!(
            "{n} invocations need {need} input bytes, the file has {} ({available} invocations)",
            input.len()
        );
    }
    let mut written = 0u64;
    for k in 0..n {
        // k < available, so (k + 1) * frame <= input.len().
        let mut at = k * frame;
        for i in 0..interp.input_count() {
            let dst = interp.input_mut(i).map_err(anyhow::Error::msg)?;
            let len = dst.len();
            let src = input
                .get(at..at + len)
                .context("input frame out of range")?;
            dst.copy_from_slice(src);
            at += len;
        }
        interp
            .invoke()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("invocation {k}"))?;
        for o in 0..interp.output_count() {
            let bytes = interp.output(o).map_err(anyhow::Error::msg)?;
            out.write_all(bytes).context("cannot write the output")?;
            written = written.saturating_add(bytes.len() as u64);
        }
    }
    Ok(written)
}

/// `input 0: int8 [1, 1960]; ...`
pub fn describe_inputs(interp: &Interpreter<'_, '_>) -> String {
    (0..interp.input_count())
        .filter_map(|i| {
            interp.input_tensor(i).ok().map(|t| {
                format!(
                    "input {i}: {} {:?} = {} bytes",
                    t.dtype.name(),
                    t.shape.dims(),
                    t.bytes()
                )
            })
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `raw` (whole invocations of every output, as [`run_raw`] writes them) as the JSON Lines of
/// `mote infer --json` and the firmware's infer mode (`mote_engine::outputs`).
pub fn json_lines(interp: &Interpreter<'_, '_>, raw: &[u8]) -> String {
    let outs: Vec<(usize, mote_engine::model::DType)> = (0..interp.output_count())
        .filter_map(|i| {
            interp
                .output(i)
                .ok()
                .map(|b| b.len())
                .zip(interp.output_tensor(i).ok().map(|t| t.dtype))
        })
        .collect();
    let mut text = String::new();
    let mut rest = raw;
    while !rest.is_empty() {
        for (i, &(n, dtype)) in outs.iter().enumerate() {
            let (head, tail) = rest.split_at(n.min(rest.len()));
            let _ = mote_engine::outputs::write_output_json(&mut text, i, dtype, head);
            rest = tail;
        }
        if outs.iter().all(|&(n, _)| n == 0) {
            break;
        }
    }
    text
}
