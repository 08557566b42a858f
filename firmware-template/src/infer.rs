//! Infer mode, for a model that is not a keyword model (`mote export` picks it): the model runs
//! once on the input baked into flash (`mote/input.bin`: `mote export --input FILE`, else
//! zeros); every output is printed as the JSON Lines of `mote infer --json` on the log UART and
//! semihosting stdout (nothing else goes there, so QEMU's text can be compared with the host's
//! byte for byte), then `{"event":"infer_done","cycles":…,"stack_bytes":…}` on semihosting
//! stderr, and the program exits.
//!
//! Your own application: build the model once with [`Model::new`], then per reading
//!
//! ```ignore
//! let model = infer::Model::new()?;            // parses mote/model.tflite, plans the arena
//! let scores: &[u8] = model.infer(&input)?;    // input: the input tensor's bytes (int8 as u8)
//! ```
//!
//! `infer` copies `input` into the input tensor, runs every operator and returns output 0's
//! bytes (quantized as `mote inspect` shows); other outputs: [`Model::interpreter`].

use cortex_m::peripheral::DWT;
use mote_engine::outputs::write_output_json;
use mote_engine::Interpreter;

use crate::log::{self, Buf};
use crate::stack::{paint_stack, stack_top, stack_used};
use crate::{build, cost_start, cost_stop, Fail};

/// The model, planned into the firmware's static arena.
pub struct Model {
    interp: Interpreter<'static, 'static>,
}

impl Model {
    /// Parse `mote/model.tflite` and prepare it in the arena (call once: the arena is taken).
    pub fn new() -> Result<Model, Fail> {
        let model = mote_engine::Model::parse(&build::MODEL.0[..])?;
        let (arena, state) = crate::buffers()?;
        Ok(Model {
            interp: Interpreter::new(&model, arena, state)?,
        })
    }

    /// Run the model on `input` (the bytes of every input tensor, in order) and return the
    /// bytes of output 0. `WrongBufferSize` if `input` has another length.
    pub fn infer(&mut self, input: &[u8]) -> Result<&[u8], Fail> {
        let mut at = 0;
        for i in 0..self.interp.input_count() {
            let dst = self.interp.input_mut(i)?;
            let src = input.get(at..at + dst.len());
            at += dst.len();
            match src {
                Some(s) => dst.copy_from_slice(s),
                None => return Err(wrong_size(at, input.len())),
            }
        }
        if at != input.len() {
            return Err(wrong_size(at, input.len()));
        }
        self.interp.invoke()?;
        Ok(self.interp.output(0)?)
    }

    /// The interpreter (every output, tensor descriptions).
    pub fn interpreter(&self) -> &Interpreter<'static, 'static> {
        &self.interp
    }
}

fn wrong_size(expected: usize, got: usize) -> Fail {
    Fail::Engine(mote_engine::Error::WrongBufferSize {
        tensor: 0,
        expected: u32::try_from(expected).unwrap_or(u32::MAX),
        got: u32::try_from(got).unwrap_or(u32::MAX),
    })
}

/// Infer mode's program: one inference on the baked input, printed.
pub fn run() -> Result<(), Fail> {
    let floor = paint_stack();
    let mut model = Model::new()?;
    let zeros = [0u8; 0];
    let input: &[u8] = build::INPUT.unwrap_or(&zeros);
    // Without `mote/input.bin` the input is zeros of the right size.
    if build::INPUT.is_none() {
        for i in 0..model.interp.input_count() {
            model.interp.input_mut(i)?.fill(0);
        }
    }
    if let Some(mut cp) = cortex_m::Peripherals::take() {
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
    }
    let t0 = DWT::cycle_count();
    cost_start();
    let r = if build::INPUT.is_some() {
        model.infer(input).map(|_| ())
    } else {
        model.interp.invoke().map_err(Fail::from)
    };
    cost_stop();
    let cycles = DWT::cycle_count().wrapping_sub(t0);
    r?;
    for i in 0..model.interp.output_count() {
        let dtype = model.interp.output_tensor(i)?.dtype;
        let bytes = model.interp.output(i)?;
        // One line per output; a line is ~6 bytes per int8 value (floats up to ~16).
        let mut text: Buf<2048> = Buf::new();
        let _ = write_output_json(&mut text, i, dtype, bytes);
        if text.overflow {
            return Err(Fail::Msg(
                "infer: output line buffer overflow (output too large)",
            ));
        }
        log::write_all(text.bytes());
    }
    let top = stack_top();
    log::note(format_args!(
        "{{\"event\":\"infer_done\",\"cycles\":{cycles},\"stack_bytes\":{}}}",
        stack_used(floor, top)
    ));
    Ok(())
}
