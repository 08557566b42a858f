//! Replay mode: the pipeline over `mote/replay.pcm` (16 kHz mono int16 from flash) in 10 ms
//! chunks, as a microphone would deliver them. Every output is printed as the JSON Lines of
//! `mote detect --json` (the engine's `write_json_line`, the same labels), on the log UART and
//! semihosting stdout — nothing else goes there, so the two can be compared byte for byte. A
//! summary goes to semihosting stderr, with `features_fnv`: FNV-1a 64 of every feature value in
//! `mote features`' bytes, so the device's features can be compared with the host's.
//!
//! Each `push` runs between `cost_start` and `cost_stop`, so an instruction counter sees the
//! whole pipeline (front end, model, detector) per chunk; the JSON text is formatted into a
//! buffer inside the region and sent after it.

use mote_engine::pipeline::{write_json_line, Output};

use crate::log::{self, Buf};
use crate::stack::{paint_stack, stack_top, stack_used};
use crate::{build, config, cost_start, cost_stop, Fail};

/// Samples per push: 10 ms at 16 kHz.
const CHUNK: usize = 160;

/// Runs the replay.
pub fn run() -> Result<(), Fail> {
    let floor = paint_stack();
    let pipeline = crate::pipeline()?;

    // As in mic mode (the stack measured here is the microphone firmware's); an overflow
    // fails the run below.
    let mut text: Buf<{ log::PUSH_TEXT }> = Buf::new();
    let (mut invocations, mut detections) = (0u32, 0u32);
    let mut samples = [0i16; CHUNK];
    for bytes in build::REPLAY.chunks(2 * CHUNK) {
        // Two samples per step (one word read); an odd last byte is ignored.
        let n = (bytes.len() / 2).min(CHUNK);
        for (dst, b) in samples.chunks_exact_mut(2).zip(bytes.chunks_exact(4)) {
            dst[0] = i16::from_le_bytes([b[0], b[1]]);
            dst[1] = i16::from_le_bytes([b[2], b[3]]);
        }
        if n % 2 == 1 {
            if let (Some(d), Some(b)) = (samples.get_mut(n - 1), bytes.get(2 * n - 2..2 * n)) {
                *d = i16::from_le_bytes([b[0], b[1]]);
            }
        }
        text.clear();
        cost_start();
        let r = pipeline.push(&samples[..n], |out| {
            match out {
                Output::Invocation { .. } => invocations += 1,
                Output::Detection { .. } => detections += 1,
            }
            let _ = write_json_line(&mut text, &out, config::LABELS);
        });
        cost_stop();
        r?;
        if text.overflow {
            return Err(Fail::Msg("replay: output line buffer overflow"));
        }
        if !text.bytes().is_empty() {
            log::write_all(text.bytes());
        }
    }
    let top = stack_top();
    log::note(format_args!(
        "{{\"event\":\"replay_done\",\"samples\":{},\"invocations\":{invocations},\"detections\":{detections},\"stack_bytes\":{},\"features_fnv\":\"{:016x}\"}}",
        build::REPLAY.len() / 2,
        stack_used(floor, top),
        pipeline.features_fnv()
    ));
    Ok(())
}
