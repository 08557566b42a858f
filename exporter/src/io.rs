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

/// Run `invocations` invocations over `input` (each: every model input in order), returning the
/// outputs of each invocation (every model output in order) back to back. Streaming state carries
/// over between invocations.
pub fn run_raw(
    interp: &mut Interpreter<'_, '_>,
    input: &[u8],
    invocations: Option<usize>,
) -> Result<Vec<u8>> {
    let frame = input_frame_bytes(interp)?;
    if frame == 0 {
        bail!("the model has no input bytes");
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
    if n > available {
        bail!(
            "{n} invocations need {} input bytes, the file has {} ({available} invocations)",
            n * frame,
            input.len()
        );
    }
    let mut out = Vec::new();
    for k in 0..n {
        let mut at = k * frame;
        for i in 0..interp.input_count() {
            let dst = interp.input_mut(i).map_err(anyhow::Error::msg)?;
            let len = dst.len();
            dst.copy_from_slice(&input[at..at + len]);
            at += len;
        }
        interp
            .invoke()
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("invocation {k}"))?;
        for o in 0..interp.output_count() {
            out.extend_from_slice(interp.output(o).map_err(anyhow::Error::msg)?);
        }
    }
    Ok(out)
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
